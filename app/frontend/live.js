// The current point, live: its decoded image, its latent sliders, its marker on the map, and the
// gestures on the map (app/panels/current_point.py mounts it).
//
// Whatever follows the pointer is decoded here, in the browser, on every pointer event
// ("latest wins": a slow frame never queues the next ones): dragging a slider, hovering the map
// (a preview beside the pointer), dragging the current point's marker. The decoded image, the
// slider values and the marker move together. When a gesture ends, the server learns the final
// point in one message (trigger "commit", saying whether this page painted it), and a click on
// the map in another ("click"); neighbours, the link and the other panels then follow from the
// server. The server sends pixels only for points this page has not painted itself.
//
// If WebAssembly or the model cannot be loaded, the panel says so in one quiet line and works
// as before: the image comes from the server, which decodes when a slider is released.

import { createDecoder, paint } from "./decoder.js";
import { alongPrincipal, clip, lift, principalCoeff, project } from "./geometry.js";
import { hooks } from "./hooks.js";
import { onMapClick, setDragging, setLayer } from "./overlay.js";
import { pointPainted } from "./point.js";
import {
  axes, inPlotArea, isScene, listens, mapElement, matchScreen, onSceneCamera, onSceneClick, onScenePlot,
  placeInScene, span, toData, toScreen,
} from "./plotly_map.js";

const HOVER_PX = 84; // the preview beside the pointer
const GRAB_PX = 12; // how near the marker a press grabs it
const TOOLBAR_PX = 40; // the map's toolbar (Plotly's modebar) takes this much at the top
const KEY_STEP = 0.01; // an arrow key moves the point this share of the map's width or height
const KEY_REST_MS = 400; // keys idle this long end the keyboard gesture (one commit)
const KEY_STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

// The panel's elements, in a box of their own (the root also holds Streamlit's <style> for live.css).
function build(root) {
  const box = document.createElement("div");
  box.className = "live";
  root.appendChild(box);
  box.innerHTML = `
    <figure class="live-figure">
      <canvas class="live-image" width="280" height="280" role="img" aria-label="Decoded image"></canvas>
      <figcaption class="live-caption"></figcaption>
    </figure>
    <div class="live-sliders"></div>
    <p class="live-status" role="status"></p>
    <p class="live-said" aria-live="polite"></p>`;
  return {
    canvas: box.querySelector(".live-image"),
    caption: box.querySelector(".live-caption"),
    sliders: box.querySelector(".live-sliders"),
    status: box.querySelector(".live-status"),
    said: box.querySelector(".live-said"),
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
    this.shown = null; // the point the canvas shows (null: nothing painted yet)
    this.decoder = null; // set once the model is loaded; null = server decoding
    this.modelUrl = undefined;
    this.gesture = null; // "slider" | "marker" while one is under way
    this.commits = 0; // the n of the last commit sent
    this.boundMap = null; // the map element whose pointer events we listen to
  }

  // New data from the server (first mount, or a rerun after any change).
  update(data, setTriggerValue) {
    const first = this.data === null;
    const slidersChanged = first || JSON.stringify(data.sliders) !== JSON.stringify(this.data.sliders);
    // Another bundle: the server numbers its commits afresh, and a point of ours belongs to the old one.
    if (!first && data.loaded !== this.data.loaded) this.commits = 0;
    this.data = data;
    this.setTrigger = setTriggerValue;
    if (slidersChanged) this.buildSliders();
    onMapClick((click) => this.setTrigger("click", click));
    // A rerun that has not seen our latest commit yet would pull the point back: skip its point.
    if (!this.gesture && data.seen >= this.commits) {
      this.z = data.z.slice();
      if (data.pixels) this.show(Float32Array.from(data.pixels), this.z); // the server's decode
      else if (!this.sameAsShown(this.z)) this.decodeAndShow(this.z); // ours: painted here
      else this.moveMarker(this.z);
    }
    this.loadModel();
    this.bindMap();
    this.describe();
  }

  // The decoded image's name (what it shows, from the server) once the point has settled: said
  // by a screen reader once per settled point (a polite live region), never once per frame.
  describe() {
    if (this.gesture || !this.sameAsShown(this.data.z)) return;
    this.ui.canvas.setAttribute("aria-label", this.data.description);
    if (this.ui.said.textContent !== this.data.description) this.ui.said.textContent = this.data.description;
  }

  sameAsShown(z) {
    return this.shown !== null && this.shown.length === z.length && this.shown.every((v, i) => Math.abs(v - z[i]) < 1e-9);
  }

  loadModel() {
    const model = this.data.model;
    const url = model ? model.url : null;
    if (url === this.modelUrl) return;
    this.modelUrl = url;
    this.decoder = null;
    if (!model) {
      const why = this.data.note || "Live decoding is off for this bundle (it has no browser model).";
      this.say(`${why} Images are decoded on the server when you release a slider.`);
      return;
    }
    this.say("Loading the decoder into your browser...");
    const check = { latentDim: this.data.z.length, size: this.data.shape.reduce((a, b) => a * b, 1) };
    createDecoder(model, this.data.runtime, { check }).then(
      (decoder) => {
        if (this.modelUrl !== url) return;
        this.decoder = decoder;
        this.say(this.data.scene
          ? "Decoding live in your browser (WebAssembly): drag a slider, the diamond follows in the scene."
          : "Decoding live in your browser (WebAssembly): drag a slider, hover the map or drag the marker.");
        this.ui.status.dataset.live = "1";
        if (this.z && !this.sameAsShown(this.z)) this.decodeAndShow(this.z);
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
    return this.data.sliders.map((s) => {
      const v = s.kind === "dim" ? z[s.index] : principalCoeff(this.data.principal, z, s.index);
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
    let z = this.z.slice();
    if (spec.kind === "dim") z[spec.index] = value;
    else z = alongPrincipal(this.data.principal, z, spec.index, value);
    this.z = z;
    this.follow(z, event);
  }

  // The point moved under a gesture: decode it here and show it (or, without a decoder, move
  // only the slider labels and the marker; the server decodes when the gesture ends).
  follow(z, event) {
    hooks.live.inputs.push(event ? event.timeStamp : performance.now());
    if (!this.decoder) {
      this.syncSliders(z);
      this.moveMarker(z);
      return;
    }
    this.decodeAndShow(z, event);
  }

  decodeAndShow(z, event) {
    if (!this.decoder) return;
    const requested = z.slice();
    this.decoder.decodeLatest(requested).then((pixels) => {
      if (pixels) this.show(pixels, requested, event);
    }, () => {});
  }

  show(pixels, z, event) {
    const S = hooks.live;
    paint(this.ui.canvas, pixels, this.data.shape, this.data.size);
    this.ui.canvas.style.setProperty("--live-px", `${this.ui.canvas.width}px`); // no wider than painted: crisp
    this.shown = z.slice();
    this.ui.caption.textContent = this.caption(z);
    this.ui.canvas.setAttribute("aria-label", `Decoded image at ${this.caption(z)}`);
    this.describe();
    this.syncSliders(z);
    this.moveMarker(z);
    pointPainted(this.shown);
    S.painted += 1;
    const t = performance.now();
    requestAnimationFrame(() => S.paints.push({ input: event ? event.timeStamp : null, painted: performance.now(), decoded: t }));
    this.ui.canvas.dataset.painted = String(S.painted);
  }

  caption(z) {
    const shown = z.slice(0, this.data.limit).map((v) => (v >= 0 ? "+" : "") + v.toFixed(2)).join(", ");
    return `${this.data.prefix}${shown}${z.length > this.data.limit ? ", ..." : ""})`;
  }

  // Tell the server the final point of a gesture, and whether it shows here already. n grows with
  // every commit, also across remounts of the panel (a time stamp), so the server applies each once.
  commit() {
    this.commits = Math.max(Date.now(), this.commits + 1);
    this.setTrigger("commit", { z: this.z.slice(), n: this.commits, painted: this.sameAsShown(this.z) });
  }

  // --- the map: the marker follows, hover previews, the marker can be dragged -----------------

  plot() {
    return mapElement(this.data.target);
  }

  // The current point's layer on the map: its cross, and the selected image's ellipse; in a 3-D
  // scene, its diamond.
  moveMarker(z) {
    if (this.data.scene) {
      const gd = this.plot();
      if (gd && isScene(gd)) placeInScene(gd, this.data.scene, z);
      return;
    }
    const [x, y] = project(this.data.projection, z);
    const { color, ellipse } = this.data.marker;
    setLayer("current", { points: [{ x, y, color, size: 6, symbol: "cross" }], lines: ellipse ? [ellipse] : [] }, this.data.target);
  }

  // Map coordinates of a pointer event over the plot, or null outside the plot area.
  eventToMap(gd, e) {
    const ax = axes(gd);
    if (!ax) return null;
    const r = gd.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    if (!inPlotArea(ax, px, py)) return null;
    const { x, y } = toData(ax, px, py);
    return { x, y, px, py, ax };
  }

  nearMarker(gd, e) {
    const at = this.eventToMap(gd, e);
    if (!this.z || !at) return false;
    const [mx, my] = project(this.data.projection, this.z);
    const { px, py } = toScreen(at.ax, mx, my);
    return Math.hypot(px - at.px, py - at.py) <= GRAB_PX;
  }

  // Whether our listeners are on the map element gd: Plotly drops a scene's when it draws the
  // figure anew in the same element.
  bound(gd) {
    return this.boundMap === gd && (!this.data.scene || listens(gd, "plotly_click", this.sceneClick));
  }

  bindMap() {
    const gd = this.plot();
    if (!gd) {
      setTimeout(() => this.bindMap(), 250);
      return;
    }
    if (this.bound(gd)) return;
    if (this.data.scene) {
      if (!isScene(gd)) {
        setTimeout(() => this.bindMap(), 250); // the scene is not laid out yet
        return;
      }
      this.boundMap = gd;
      matchScreen();
      this.moveMarker(this.z);
      this.sceneClick = onSceneClick(gd, (index) => this.setTrigger("click", { pick: index }));
      onSceneCamera(gd, (eye) => this.setTrigger("camera", { eye }));
      onScenePlot(gd, () => this.moveMarker(this.z));
      // Streamlit may put a new chart element in (a relaid page) without remounting this panel.
      this.sceneWatch ||= setInterval(() => {
        const now = this.plot();
        if (this.data.scene && now && !this.bound(now)) this.bindMap();
      }, 500);
      return;
    }
    this.boundMap = gd;
    this.moveMarker(this.z);
    // Capture phase: the marker drag starts before Plotly's own zoom drag can.
    gd.addEventListener("pointerdown", (e) => this.startDrag(gd, e), true);
    gd.addEventListener("pointermove", (e) => this.onHover(gd, e));
    gd.addEventListener("pointerleave", () => this.hideHover());
    // The keyboard moves the point as a drag does: arrow keys, Shift for longer steps.
    gd.setAttribute("tabindex", "0");
    gd.setAttribute("role", "application");
    gd.setAttribute("aria-label", "Latent map. Arrow keys move the current point (Shift: further).");
    gd.addEventListener("keydown", (e) => this.onKey(gd, e));
  }

  onKey(gd, e) {
    const dir = KEY_STEPS[e.key];
    const ax = axes(gd);
    if (!dir || !ax || !this.z || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault(); // not a page scroll
    const [x, y] = project(this.data.projection, this.z);
    const step = (e.shiftKey ? 10 : 1) * KEY_STEP;
    const { w, h } = span(ax);
    const to = [x + dir[0] * step * w, y + dir[1] * step * h];
    this.gesture = "keys";
    this.z = lift(this.data.projection, to, this.z);
    this.follow(this.z, e);
    clearTimeout(this.keyTimer); // one commit when the keys rest, as a drag commits when released
    this.keyTimer = setTimeout(() => {
      this.gesture = null;
      this.commit();
    }, KEY_REST_MS);
  }

  startDrag(gd, e) {
    if (e.button !== 0 || !this.nearMarker(gd, e)) return;
    e.preventDefault();
    e.stopPropagation(); // not a zoom, not a click
    this.hideHover();
    this.gesture = "marker";
    setDragging(true); // the overlay must not read the release as a click
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
      setTimeout(() => setDragging(false), 0); // after the overlay saw the release
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
    hooks.live.inputs.push(e.timeStamp);
    this.decoder.decodeLatest(z).then((pixels) => {
      if (!pixels || this.gesture) return;
      const preview = this.previewCanvas(gd);
      paint(preview, pixels, this.data.shape, HOVER_PX);
      const width = gd.getBoundingClientRect().width;
      preview.style.left = `${at.px + HOVER_PX + 12 > width ? at.px - HOVER_PX - 12 : at.px + 12}px`;
      preview.style.top = `${Math.max(TOOLBAR_PX, at.py - HOVER_PX - 12)}px`; // never over the toolbar
      preview.style.display = "block";
      const S = hooks.live;
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
        + `box-shadow:0 1px 6px rgba(0,0,0,.45);display:none;width:${HOVER_PX}px;height:auto;`;
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

let mounts = 0;

export function mount(component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__live) parentElement.__live = new LivePoint(parentElement);
  const panel = parentElement.__live;
  const generation = ++mounts;
  hooks.live.panel = panel;
  panel.update(data, setTriggerValue);
  return () => { // the panel left the page (another part of it is shown): its marker and clicks go too
    if (generation !== mounts) return; // a newer mount owns them
    onMapClick(null);
    setLayer("current", null);
  };
}
