// Draw your own: a drawing pad at the bundle's resolution whose image is encoded while you draw
// (app/panels/draw_pad.py mounts it; grey bundles only).
//
// On every pointer move the stroke is stamped into the H x W pixels (interpolated between
// events, so a fast stroke has no gaps) and the bundle's ONNX encoder runs here, in the browser,
// "latest wins": while one encode runs only the newest drawing waits, so a fast pen never builds
// a queue. Its answer, q(z|x) = N(mu, diag(sigma^2)), moves an ellipse on the pad's own latent
// map, fills in mu and sigma, and the decoder paints the decode of mu. When a stroke ends (and
// on Clear) the server gets the pixels in one message (trigger "stroke") and scores them.
//
// Without WebAssembly or a browser model the pad still draws and still sends each stroke; one
// quiet line says that live encoding is off.

import { Latest, createDecoder, createEncoder, paint } from "./decoder.js";
import { posteriorEllipse } from "./geometry.js";
import { drawHooks } from "./hooks.js";

const STEP = 0.25; // pixels between brush stamps along a segment
const MAP_MARGIN = 8; // CSS px around the map's points
const INK = "#111111"; // the ellipse and its centre (no class colour is this dark)

// --- the brush --------------------------------------------------------------------------------

// A soft disc at (x, y) (pixel units, 0..W and 0..H): full ink within radius - SOFT / 2 of the pen,
// fading to none at radius + SOFT / 2, like the anti-aliased strokes of MNIST; ink only ever
// adds (max), so going over a line again does not make it brighter than white.
const SOFT = 1.5;

function stamp(pixels, [h, w], x, y, radius) {
  const reach = radius + SOFT / 2;
  const j0 = Math.max(0, Math.floor(y - reach)), j1 = Math.min(h - 1, Math.floor(y + reach));
  const i0 = Math.max(0, Math.floor(x - reach)), i1 = Math.min(w - 1, Math.floor(x + reach));
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const v = Math.min(1, Math.max(0, (reach - Math.hypot(i + 0.5 - x, j + 0.5 - y)) / SOFT));
      const k = j * w + i;
      if (v > pixels[k]) pixels[k] = v;
    }
  }
}

// Stamps every STEP pixels from a to b (the first point excluded: it was stamped already).
function strokeSegment(pixels, shape, a, b, radius) {
  const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / STEP));
  for (let s = 1; s <= steps; s++) {
    stamp(pixels, shape, a[0] + ((b[0] - a[0]) * s) / steps, a[1] + ((b[1] - a[1]) * s) / steps, radius);
  }
}

// Sizes 1-4: at 28 pixels a side, a core of 1 to 5 pixels with soft edges; the same share of a larger pad.
const brushRadius = (size, side) => (0.5 + 0.75 * size) * (side / 28);

// --- the panel --------------------------------------------------------------------------------

function build(root, size, [h, w]) {
  const box = document.createElement("div");
  box.className = "draw";
  root.appendChild(box);
  box.innerHTML = `
    <div class="draw-col draw-input">
      <canvas class="draw-pad" width="${w}" height="${h}" role="img"
        aria-label="Drawing pad, ${w} by ${h} pixels: draw with the mouse, a pen or a finger"></canvas>
      <div class="draw-tools">
        <label class="draw-brush">Brush <input type="range" min="1" max="4" step="1" value="2"
          aria-label="Brush size"><output>2</output></label>
        <button type="button" class="draw-clear">Clear</button>
      </div>
    </div>
    <figure class="draw-col draw-map-figure">
      <canvas class="draw-map" role="img" aria-label="Latent map with the encoder's ellipse q(z|x)"></canvas>
      <figcaption>Where the encoder puts your drawing: the ring is its belief q(z|x) (the smaller, the surer), the dot is mu.
        Dots: test images, coloured by class.</figcaption>
      <ul class="draw-legend"></ul>
    </figure>
    <div class="draw-col draw-output">
      <figure class="draw-decoded-figure">
        <canvas class="draw-decoded" width="${w}" height="${h}" role="img" aria-label="Decoded from mu"></canvas>
        <figcaption>The decoder's picture of mu</figcaption>
      </figure>
      <table class="draw-numbers"><thead><tr><th></th><th>mu</th><th>sigma</th></tr></thead><tbody></tbody></table>
    </div>
    <p class="draw-status" role="status"></p>`;
  box.style.setProperty("--pad", `${size}px`);
  return {
    box,
    pad: box.querySelector(".draw-pad"),
    brush: box.querySelector(".draw-brush input"),
    brushValue: box.querySelector(".draw-brush output"),
    clear: box.querySelector(".draw-clear"),
    map: box.querySelector(".draw-map"),
    decoded: box.querySelector(".draw-decoded"),
    numbers: box.querySelector(".draw-numbers tbody"),
    legend: box.querySelector(".draw-legend"),
    status: box.querySelector(".draw-status"),
  };
}

class DrawPad {
  constructor(root, data) {
    this.shape = data.shape; // [H, W, 1]: the pad draws in the bundle's own pixels
    this.ui = build(root, data.size, this.shape);
    this.pixels = new Float32Array(this.shape[0] * this.shape[1]);
    this.data = null;
    this.encoder = null; // a Latest around the browser encoder, once loaded
    this.decoder = null;
    this.modelKey = null;
    this.stroke = null; // {id, last: [x, y]} while a pointer draws
    this.sent = 0; // n of the last stroke sent
    this.q = null; // the latest encoding: {mu, logVar, ellipse}
    this.background = null; // the map's points, drawn once per map
    this.bind();
    paint(this.ui.pad, this.pixels, this.shape);
    paint(this.ui.decoded, new Float32Array(this.pixels.length), this.shape);
  }

  // New data from the server (first mount, or a rerun after any change).
  update(data, setTriggerValue) {
    const first = this.data === null;
    const mapChanged = first || JSON.stringify(data.map) !== JSON.stringify(this.data.map)
      || JSON.stringify(data.projection) !== JSON.stringify(this.data.projection);
    this.data = data;
    this.setTrigger = setTriggerValue;
    if (first && data.pixels && data.pixels.length === this.pixels.length) {
      this.pixels.set(data.pixels); // drawn anew (a rerun elsewhere): the server's last drawing
      paint(this.ui.pad, this.pixels, this.shape);
    }
    if (mapChanged) {
      this.background = null;
      this.q = null;
      this.writeLegend();
    }
    this.loadModels();
    this.drawMap();
  }

  state() {
    return drawHooks(this);
  }

  say(text, live) {
    this.ui.status.textContent = text; // text, never markup
    this.ui.status.dataset.live = live;
    this.ui.box.dataset.live = live; // off: no ellipse nor decode to show, only the pad (draw.css)
    this.state().live = live;
  }

  loadModels() {
    const { encoder, decoder } = this.data;
    const key = JSON.stringify([encoder, decoder]);
    if (key === this.modelKey) return;
    this.modelKey = key;
    this.encoder = null;
    this.decoder = null;
    if (!encoder) {
      this.say("Live encoding is off for this model (it has no browser encoder): your drawing is encoded on the server each time you lift the pen.", "off");
      return;
    }
    this.say("Loading the encoder into your browser...", "loading");
    const loaded = Promise.all([
      createEncoder(encoder, this.data.runtime, this.shape),
      decoder ? createDecoder(decoder, this.data.runtime).catch(() => null) : null,
    ]);
    loaded.then(
      ([enc, dec]) => {
        if (this.modelKey !== key) return;
        this.encoder = new Latest((pixels) => this.timedEncode(enc, pixels));
        this.decoder = dec;
        this.say("Encoding live in your browser (WebAssembly): every move of the pen runs the encoder.", "on");
        this.encode();
      },
      (error) => {
        if (this.modelKey !== key) return;
        this.say(`Live encoding is unavailable here (${String(error.message || error).slice(0, 120)}): your drawing is encoded on the server each time you lift the pen.`, "off");
      },
    );
  }

  async timedEncode(encoder, pixels) {
    const t0 = performance.now();
    const out = await encoder.encode(pixels);
    this.state().encodeMs.push(performance.now() - t0);
    return out;
  }

  // --- drawing -------------------------------------------------------------------------------

  bind() {
    const { pad, brush, brushValue, clear } = this.ui;
    pad.addEventListener("pointerdown", (e) => this.down(e));
    pad.addEventListener("pointermove", (e) => this.move(e));
    pad.addEventListener("pointerup", (e) => this.up(e));
    pad.addEventListener("pointercancel", (e) => this.up(e));
    pad.addEventListener("lostpointercapture", (e) => this.up(e));
    pad.addEventListener("contextmenu", (e) => e.preventDefault()); // a long press draws, no menu
    brush.addEventListener("input", () => { brushValue.textContent = brush.value; });
    clear.addEventListener("click", () => this.clear());
  }

  at(e) {
    const r = this.ui.pad.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.shape[1], ((e.clientY - r.top) / r.height) * this.shape[0]];
  }

  down(e) {
    if (this.stroke || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    try {
      this.ui.pad.setPointerCapture(e.pointerId); // a stroke that leaves the pad still ends here
    } catch {
      // (a pointer the browser no longer tracks: the stroke still ends on pointerup over the pad)
    }
    const p = this.at(e);
    this.stroke = { id: e.pointerId, last: p };
    stamp(this.pixels, this.shape, p[0], p[1], this.radius());
    this.changed();
  }

  move(e) {
    if (!this.stroke || e.pointerId !== this.stroke.id) return;
    e.preventDefault();
    const radius = this.radius();
    // The browser merges fast moves into one event: its coalesced points keep the curve's shape.
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const point of events.length ? events : [e]) {
      const p = this.at(point);
      strokeSegment(this.pixels, this.shape, this.stroke.last, p, radius);
      this.stroke.last = p;
    }
    this.changed();
  }

  radius() {
    return brushRadius(Number(this.ui.brush.value), Math.min(this.shape[0], this.shape[1]));
  }

  up(e) {
    if (!this.stroke || e.pointerId !== this.stroke.id) return;
    this.stroke = null;
    this.send();
  }

  clear() {
    this.stroke = null;
    this.pixels.fill(0);
    this.changed();
    this.send();
  }

  changed() {
    paint(this.ui.pad, this.pixels, this.shape);
    this.encode();
  }

  // Tell the server the drawing. n grows with every message, also across remounts (a time
  // stamp), so the server applies each one once, in order.
  send() {
    this.sent = Math.max(Date.now(), this.sent + 1);
    this.state().sent += 1;
    const pixels = Array.from(this.pixels, (v) => Math.round(v * 1000) / 1000);
    this.setTrigger("stroke", { pixels, n: this.sent });
  }

  // --- live encoding -------------------------------------------------------------------------

  encode() {
    if (!this.encoder) return;
    const S = this.state();
    const id = (S.requests += 1);
    this.encoder.request(this.pixels.slice()).then((out) => {
      if (!out) return; // a newer drawing replaced this one before it ran
      S.encodes += 1;
      S.encoded = id; // the newest drawing is shown when encoded === requests
      this.show(out);
    }, (error) => {
      this.say(`Live encoding stopped (${String(error.message || error).slice(0, 120)}): your drawing is encoded on the server each time you lift the pen.`, "off");
      this.encoder = null;
    });
  }

  show({ zMean, zLogVar }) {
    const S = this.state();
    const mu = Array.from(zMean), logVar = Array.from(zLogVar);
    const sigma = logVar.map((v) => Math.exp(0.5 * v));
    const ellipse = posteriorEllipse(this.data.projection, mu, logVar, this.data.nStd);
    this.q = { mu, logVar, ellipse };
    Object.assign(S, { mu, sigma, logVar });
    this.drawMap();
    this.writeNumbers(mu, sigma);
    if (this.decoder) {
      this.decoder.decodeLatest(mu).then((pixels) => {
        if (!pixels) return;
        paint(this.ui.decoded, pixels, this.shape);
        S.decodes += 1;
        this.ui.decoded.dataset.decodes = String(S.decodes);
      }, () => {});
    }
  }

  writeNumbers(mu, sigma) {
    const shown = Math.min(mu.length, this.data.shown);
    const rows = [];
    for (let i = 0; i < shown; i++) {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = `z${i + 1}`;
      row.appendChild(name);
      for (const text of [(mu[i] >= 0 ? "+" : "") + mu[i].toFixed(2), sigma[i].toFixed(3)]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      }
      rows.push(row);
    }
    if (mu.length > shown) {
      const row = document.createElement("tr");
      const cell = document.createElement("td");
      cell.colSpan = 3;
      cell.textContent = `... ${mu.length - shown} more dimensions`;
      row.appendChild(cell);
      rows.push(row);
    }
    this.ui.numbers.replaceChildren(...rows);
  }

  // --- the map -------------------------------------------------------------------------------

  writeLegend() {
    const { names, colors } = this.data.map;
    this.ui.legend.replaceChildren(...names.map((name, k) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "draw-swatch";
      swatch.style.background = colors[k];
      item.append(swatch, document.createTextNode(name));
      return item;
    }));
  }

  // Map units -> CSS px of the map canvas: equal scale on both axes, y up.
  transform(size) {
    const [[x0, x1], [y0, y1]] = this.data.map.limits;
    const scale = Math.min((size - 2 * MAP_MARGIN) / (x1 - x0), (size - 2 * MAP_MARGIN) / (y1 - y0));
    const [mx, my] = [(x0 + x1) / 2, (y0 + y1) / 2];
    return { scale, x: (x) => size / 2 + (x - mx) * scale, y: (y) => size / 2 - (y - my) * scale };
  }

  drawMap() {
    const canvas = this.ui.map;
    const size = this.data.size;
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    if (canvas.width !== Math.round(size * dpr)) {
      canvas.width = canvas.height = Math.round(size * dpr);
      this.background = null;
    }
    const t = this.transform(size);
    if (!this.background) this.background = this.drawPoints(t, size, dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.background, 0, 0);
    const S = this.state();
    S.dpr = dpr;
    if (!this.q) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const e = this.q.ellipse;
    const [px, py] = [t.x(e.cx), t.y(e.cy)];
    const [rx, ry] = [Math.max(1, e.rx * t.scale), Math.max(1, e.ry * t.scale)];
    ctx.beginPath();
    ctx.ellipse(px, py, rx, ry, -e.angle, 0, 2 * Math.PI); // y is flipped on screen
    ctx.fillStyle = "rgba(17, 17, 17, 0.10)";
    ctx.fill();
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
    ctx.stroke();
    ctx.lineWidth = 2;
    ctx.strokeStyle = INK;
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(px, py, 2.5, 0, 2 * Math.PI);
    ctx.fillStyle = INK;
    ctx.fill();
    ctx.font = "600 12px sans-serif";
    ctx.textBaseline = "bottom";
    const lx = Math.min(size - 40, Math.max(2, px + Math.min(rx, 40) * 0.7 + 4));
    const ly = Math.min(size - 2, Math.max(14, py - Math.min(ry, 40) * 0.7 - 2));
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
    ctx.strokeText("q(z|x)", lx, ly);
    ctx.fillStyle = INK;
    ctx.fillText("q(z|x)", lx, ly);
    S.ellipse = { ...e, px, py, rxPx: rx, ryPx: ry };
    canvas.dataset.encodes = String(S.encodes);
  }

  drawPoints(t, size, dpr) {
    const layer = document.createElement("canvas");
    layer.width = layer.height = Math.round(size * dpr);
    const ctx = layer.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
    const { xy, labels, colors } = this.data.map;
    ctx.globalAlpha = 0.55;
    for (let k = 0; k < xy.length; k++) {
      ctx.fillStyle = colors[labels[k]] || "#888888";
      ctx.fillRect(t.x(xy[k][0]) - 1.25, t.y(xy[k][1]) - 1.25, 2.5, 2.5);
    }
    ctx.globalAlpha = 1;
    return layer;
  }
}

export function mount(component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__draw) parentElement.__draw = new DrawPad(parentElement, data);
  const pad = parentElement.__draw;
  pad.update(data, setTriggerValue);
  drawHooks(pad);
}
