// The current point, live: its decoded image, its latent sliders, and the gestures on the map.
//
// A streamlit.components.v2 component (app/live.py) whose JavaScript is live_decoder.js
// followed by this file, one ES module: createDecoder and paint come from live_decoder.js.
/* global createDecoder, paint */
//
// Whatever follows the pointer is decoded here, in the browser, on every pointer event
// ("latest wins": a slow frame never queues the next ones): dragging a slider, hovering the
// map (a preview beside the pointer), dragging the current point's marker. The decoded image,
// the slider values and the marker move together. When a gesture ends, the server learns the
// final point in one message (trigger "commit"); neighbours, the link and the other panels
// then follow from the server as for a click.
//
// If WebAssembly or the model cannot be loaded, the panel says so in one quiet line and works
// as before: the image comes from the server, which decodes when a slider is released.

// What the page's tests and benchmarks read: paints (input -> painted times) and the panel.
function liveState() {
  if (!window.__vaeLive) window.__vaeLive = { painted: 0, paints: [], inputs: [], panel: null };
  return window.__vaeLive;
}

// --- latent geometry (the same formulas as vae_core.geometry) -------------------------------

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// Map coordinates [x, y] of latent point z: (z - mean) @ components.T
function project(proj, z) {
  const centred = z.map((v, i) => v - proj.mean[i]);
  return [dot(centred, proj.components[0]), dot(centred, proj.components[1])];
}

// The latent point at map coordinates xy that keeps base's part orthogonal to the map plane.
function lift(proj, xy, base) {
  const [cx, cy] = project(proj, base);
  const [dx, dy] = [xy[0] - cx, xy[1] - cy];
  return base.map((v, i) => v + dx * proj.components[0][i] + dy * proj.components[1][i]);
}

const clip = (v, low, high) => Math.min(high, Math.max(low, v));

// --- the panel --------------------------------------------------------------------------------

// The panel's elements, in a box of their own (the root also holds Streamlit's <style> for live.css).
function build(root) {
  const box = document.createElement("div");
  box.className = "live";
  root.appendChild(box);
  box.innerHTML = `
    <figure class="live-figure">
      <canvas class="live-image" width="280" height="280" role="img"></canvas>
      <figcaption class="live-caption"></figcaption>
    </figure>
    <div class="live-sliders"></div>
    <p class="live-status" role="status"></p>`;
  return {
    canvas: box.querySelector(".live-image"),
    caption: box.querySelector(".live-caption"),
    sliders: box.querySelector(".live-sliders"),
    status: box.querySelector(".live-status"),
  };
}

function sliderRow(spec) {
  const row = document.createElement("label");
  row.className = "live-slider";
  row.dataset.kind = spec.kind;
  row.dataset.index = String(spec.index);
  const name = document.createElement("span");
  name.className = "live-slider-name";
  name.textContent = spec.label;
  if (spec.inactive) {
    name.title = "This dimension is unused by the model (KL near 0): moving it barely changes the image.";
    row.classList.add("inactive");
  }
  const input = document.createElement("input");
  input.type = "range";
  input.min = String(spec.min);
  input.max = String(spec.max);
  input.step = String(spec.step);
  input.setAttribute("aria-label", spec.label);
  const value = document.createElement("output");
  value.className = "live-slider-value";
  row.append(name, input, value);
  return row;
}

class LivePoint {
  constructor(root) {
    this.ui = build(root);
    this.data = null;
    this.z = null; // the point shown now (may run ahead of the server during a gesture)
    this.decoder = null; // set once the model is loaded; null = server decoding
    this.modelUrl = null;
    this.gesture = null; // "slider" | "marker" while one is under way
    this.commits = 0; // the n of the last commit sent
    this.hover = null; // the preview canvas over the map
  }

  // New data from the server (first mount, or a rerun after any change).
  update(data, setTriggerValue) {
    const first = this.data === null;
    const slidersChanged = first || JSON.stringify(data.sliders) !== JSON.stringify(this.data.sliders);
    this.data = data;
    this.setTrigger = setTriggerValue;
    if (slidersChanged) this.buildSliders();
    // A rerun that has not seen our latest commit yet would pull the point back: skip its point.
    if (!this.gesture && data.seen >= this.commits) {
      this.z = data.z.slice();
      this.show(Float32Array.from(data.pixels), this.z); // the server's decode: correct now, live or not
    }
    this.loadModel();
    this.bindMap();
  }

  loadModel() {
    const model = this.data.model;
    const url = model ? model.url : null;
    if (url === this.modelUrl) return;
    this.modelUrl = url;
    this.decoder = null;
    if (!model) {
      this.say("Live decoding is off for this bundle (it has no browser model): images are decoded on the server when you release a slider.");
      return;
    }
    this.say("Loading the decoder into your browser...");
    createDecoder(model.url, { input: model.input, output: model.output }).then(
      (decoder) => {
        if (this.modelUrl !== url) return;
        this.decoder = decoder;
        this.say("Decoding live in your browser (WebAssembly): drag a slider, hover the map or drag the marker.");
        this.ui.status.dataset.live = "1";
      },
      (error) => {
        if (this.modelUrl !== url) return;
        this.say(`Live decoding is unavailable here (${String(error.message || error).slice(0, 120)}): images are decoded on the server when you release a slider or click.`);
        this.ui.status.dataset.live = "0";
      },
    );
  }

  say(text) {
    this.ui.status.textContent = text; // text, never markup
  }

  buildSliders() {
    const box = this.ui.sliders;
    box.replaceChildren();
    for (const spec of this.data.sliders) {
      const row = sliderRow(spec);
      const input = row.querySelector("input");
      input.addEventListener("pointerdown", () => { this.gesture = "slider"; });
      input.addEventListener("input", (e) => this.onSlider(spec, Number(input.value), e));
      input.addEventListener("change", () => {
        this.gesture = null;
        this.commit();
      });
      box.appendChild(row);
    }
  }

  // The sliders' positions for point z.
  sliderValues(z) {
    const pc = this.data.principal;
    return this.data.sliders.map((s) => {
      const v = s.kind === "dim" ? z[s.index]
        : dot(z.map((x, i) => x - pc.mean[i]), pc.directions[s.index]);
      return clip(v, s.min, s.max);
    });
  }

  syncSliders(z) {
    const values = this.sliderValues(z);
    this.ui.sliders.querySelectorAll(".live-slider").forEach((row, k) => {
      const input = row.querySelector("input");
      if (document.activeElement !== input || this.gesture !== "slider") input.value = String(values[k]);
      row.querySelector("output").textContent = values[k].toFixed(2);
    });
  }

  onSlider(spec, value, event) {
    const z = this.z.slice();
    if (spec.kind === "dim") {
      z[spec.index] = value;
    } else { // along principal direction j only
      const pc = this.data.principal;
      const dir = pc.directions[spec.index];
      const coeff = dot(z.map((x, i) => x - pc.mean[i]), dir);
      for (let i = 0; i < z.length; i++) z[i] += (value - coeff) * dir[i];
    }
    this.z = z;
    this.follow(z, event);
  }

  // The point moved under a gesture: decode it here and show it (or, without a decoder, move
  // only the slider labels and the marker; the server decodes when the gesture ends).
  follow(z, event) {
    const S = liveState();
    S.inputs.push(event ? event.timeStamp : performance.now());
    if (!this.decoder) {
      this.syncSliders(z);
      this.moveMarker(z);
      return;
    }
    const requested = z.slice();
    this.decoder.decodeLatest(requested).then((pixels) => {
      if (pixels) this.show(pixels, requested, event);
    }, () => {});
  }

  show(pixels, z, event) {
    const S = liveState();
    paint(this.ui.canvas, pixels, this.data.size);
    this.ui.caption.textContent = this.caption(z);
    this.syncSliders(z);
    this.moveMarker(z);
    S.painted += 1;
    const t = performance.now();
    requestAnimationFrame(() => S.paints.push({ input: event ? event.timeStamp : null, painted: performance.now(), decoded: t }));
    this.ui.canvas.dataset.painted = String(S.painted);
  }

  caption(z) {
    const shown = z.slice(0, this.data.limit).map((v) => (v >= 0 ? "+" : "") + v.toFixed(2)).join(", ");
    return `${this.data.prefix}${shown}${z.length > this.data.limit ? ", ..." : ""})`;
  }

  // Tell the server the final point of a gesture. n grows with every commit, also across
  // remounts of the panel (a time stamp), so the server applies each commit once, in order.
  commit() {
    this.commits = Math.max(Date.now(), this.commits + 1);
    this.setTrigger("commit", { z: this.z.slice(), n: this.commits });
  }

  // --- the map: the marker follows, hover previews, the marker can be dragged -----------------

  mapApi() {
    return window.__vaeMap && window.__vaeMap.api;
  }

  plot() {
    return document.querySelector(`${this.data.target} .js-plotly-plot`);
  }

  moveMarker(z) {
    const S = window.__vaeMap;
    const layer = S && S.layers.current;
    if (!layer || !layer.points || !layer.points.length) return;
    const [x, y] = project(this.data.projection, z);
    layer.points[0].x = x;
    layer.points[0].y = y;
    const gd = this.plot();
    if (gd && S.api.redraw) S.api.redraw(gd);
  }

  // Map coordinates of a pointer event over the plot, or null outside the plot area.
  eventToMap(gd, e) {
    const api = this.mapApi();
    const ax = api && api.axes(gd);
    if (!ax) return null;
    const r = gd.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    if (px < ax.xa._offset || py < ax.ya._offset || px > ax.xa._offset + ax.xa._length
        || py > ax.ya._offset + ax.ya._length) return null;
    const { x, y } = api.toData(ax, px, py);
    return { x, y, px, py, ax };
  }

  nearMarker(gd, e) {
    const S = window.__vaeMap;
    const m = S && S.layers.current && S.layers.current.points && S.layers.current.points[0];
    const at = this.eventToMap(gd, e);
    if (!m || !at) return false;
    const { px, py } = this.mapApi().toScreen(at.ax, m.x, m.y);
    return Math.hypot(px - at.px, py - at.py) <= 12;
  }

  bindMap() {
    const gd = this.plot();
    if (!gd || gd.__vaeLiveBound) {
      if (!gd) setTimeout(() => this.bindMap(), 250);
      return;
    }
    gd.__vaeLiveBound = true;
    // Capture phase: the marker drag starts before Plotly's own zoom drag can.
    gd.addEventListener("pointerdown", (e) => this.startDrag(gd, e), true);
    gd.addEventListener("pointermove", (e) => this.onHover(gd, e));
    gd.addEventListener("pointerleave", () => this.hideHover());
  }

  startDrag(gd, e) {
    if (e.button !== 0 || !this.nearMarker(gd, e)) return;
    e.preventDefault();
    e.stopPropagation(); // not a zoom, not a click
    this.hideHover();
    this.gesture = "marker";
    window.__vaeMap.dragging = true; // the overlay must not read the release as a click
    gd.style.cursor = "grabbing";
    const base = this.z.slice();
    const move = (ev) => {
      const at = this.eventToMap(gd, ev);
      if (!at) return;
      ev.preventDefault();
      this.z = lift(this.data.projection, [at.x, at.y], base);
      this.follow(this.z, ev);
    };
    const holdPage = (ev) => ev.preventDefault(); // a finger drags the marker, not the page
    const end = () => {
      window.removeEventListener("pointermove", move, true);
      window.removeEventListener("pointerup", end, true);
      window.removeEventListener("pointercancel", end, true);
      window.removeEventListener("touchmove", holdPage, true);
      gd.style.cursor = "";
      this.gesture = null;
      setTimeout(() => { window.__vaeMap.dragging = false; }, 0); // after the overlay saw the release
      this.commit();
    };
    window.addEventListener("pointermove", move, true);
    window.addEventListener("pointerup", end, true);
    window.addEventListener("pointercancel", end, true);
    window.addEventListener("touchmove", holdPage, { capture: true, passive: false });
  }

  onHover(gd, e) {
    if (!this.data.hover || !this.decoder || this.gesture || e.pointerType !== "mouse" || e.buttons) {
      this.hideHover();
      return;
    }
    const at = this.eventToMap(gd, e);
    if (!at) {
      this.hideHover();
      return;
    }
    gd.style.cursor = this.nearMarker(gd, e) ? "grab" : "";
    const z = lift(this.data.projection, [at.x, at.y], this.z);
    liveState().inputs.push(e.timeStamp);
    this.decoder.decodeLatest(z).then((pixels) => {
      if (!pixels || this.gesture) return;
      const preview = this.previewCanvas(gd);
      paint(preview, pixels, 84);
      const width = gd.getBoundingClientRect().width;
      preview.style.left = `${at.px + 96 > width ? at.px - 96 : at.px + 12}px`;
      preview.style.top = `${Math.max(0, at.py - 96)}px`;
      preview.style.display = "block";
      const S = liveState();
      S.painted += 1;
      requestAnimationFrame(() => S.paints.push({ input: e.timeStamp, painted: performance.now(), hover: true }));
      preview.dataset.painted = String(S.painted);
    }, () => {});
  }

  previewCanvas(gd) {
    const host = gd.querySelector(".svg-container") || gd;
    let canvas = host.querySelector("canvas.vae-hover-preview");
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.className = "vae-hover-preview";
      canvas.title = "Decoded under the pointer";
      canvas.style.cssText = "position:absolute;pointer-events:none;z-index:5;border:2px solid #fff;"
        + "box-shadow:0 1px 6px rgba(0,0,0,.45);display:none;width:84px;height:84px;";
      host.appendChild(canvas);
    }
    return canvas;
  }

  hideHover() {
    const gd = this.data && this.plot();
    const canvas = gd && gd.querySelector("canvas.vae-hover-preview");
    if (canvas) canvas.style.display = "none";
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__live) parentElement.__live = new LivePoint(parentElement);
  const panel = parentElement.__live;
  liveState().panel = panel;
  panel.update(data, setTriggerValue);
}
