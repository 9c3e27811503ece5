// The latent traversals, decoded here in the browser (app/panels/traversals.py mounts it): one row
// per latent dimension, that dimension alone moved from -span to +span of its spread around a
// point and the others kept, the middle image being the point itself.
//
// With `follow` (the explorer) the rows follow the current point while it moves (a slider, the
// marker, the arrow keys), decoded here as the live image is: live.js says where each painted
// frame is (point.js). The grid shares the decoder, and its lock, with the live image, so while the
// point moves it takes at most half the decoder's time: the live image keeps its frame rate.
//
// Without a browser model the server's decodes come as one PNG strip per row; when the model
// cannot be loaded here, the component asks the server for them (trigger "fallback").

import { Latest, createDecoder, paint } from "./decoder.js";
import { hooks } from "./hooks.js";
import { followPoint } from "./point.js";

const BUSY_SHARE = 0.5; // the share of the decoder's time the grid may take while the point moves

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

// The points of the rows at z: row r moves dimension rows[r].dim by offsets[k] * its spread.
export function traversalPoints(z, rows, offsets) {
  const d = z.length;
  const flat = new Float32Array(rows.length * offsets.length * d);
  rows.forEach((row, r) => {
    offsets.forEach((t, k) => {
      const at = (r * offsets.length + k) * d;
      flat.set(z, at);
      flat[at + row.dim] = z[row.dim] + t * row.spread;
    });
  });
  return flat;
}

function labelOf(row) {
  const p = document.createElement("p");
  p.className = "trav-label";
  for (const [text, style] of row.parts) {
    if (!style) {
      p.append(document.createTextNode(text)); // text, never markup: a factor's name is the bundle's
      continue;
    }
    const el = document.createElement(style === "strong" ? "strong" : "em");
    el.textContent = text;
    p.append(el);
  }
  return p;
}

class Traversals {
  constructor(root) {
    this.box = document.createElement("div");
    this.box.className = "trav";
    this.status = document.createElement("p");
    this.status.className = "trav-status";
    this.status.setAttribute("role", "status");
    root.append(this.box, this.status);
    this.data = null;
    this.layout = ""; // the rows the canvases were built for
    this.canvases = []; // per row, its images
    this.decoder = null;
    this.modelUrl = undefined;
    this.shownZ = null; // the point the grid shows (browser decodes)
    this.latest = new Latest((z) => this.decodeGrid(z));
    this.cost = 0; // ms the last grid took to decode
    this.readyAt = 0; // while following, the next grid starts no sooner than this
    this.wanted = null; // the newest point to follow, waiting for its turn
    this.timer = null;
    this.stop = null; // stops following the point (once the grid has left the page)
  }

  update(data, setTrigger) {
    this.data = data;
    this.stop ||= followPoint((z) => this.onPoint(z));
    this.setTrigger = setTrigger;
    this.build();
    if (data.strips) {
      this.decoder = null;
      this.modelUrl = undefined;
      this.showStrips(data.strips);
      return;
    }
    this.loadModel().then(() => this.request(data.z));
  }

  build() {
    const { rows, offsets, px, shape } = this.data;
    const layout = JSON.stringify([rows, offsets.length, px, shape, this.data.compact]);
    if (layout === this.layout) return;
    this.layout = layout;
    this.shownZ = null;
    this.box.replaceChildren();
    this.box.classList.toggle("compact", this.data.compact);
    const width = Math.round(px);
    const height = Math.max(1, Math.round((width * shape[0]) / shape[1]));
    this.canvases = rows.map((row) => {
      const line = document.createElement("div");
      line.className = "trav-row";
      line.classList.toggle("unused", !row.used);
      const strip = document.createElement("div");
      strip.className = "trav-strip";
      strip.style.setProperty("--steps", String(offsets.length));
      strip.style.setProperty("--px", `${width}px`);
      strip.setAttribute("role", "img");
      strip.setAttribute("aria-label", row.alt);
      const images = offsets.map((_, k) => {
        const canvas = document.createElement("canvas");
        canvas.width = width;
        canvas.height = height;
        if (k === (offsets.length - 1) / 2) canvas.className = "middle";
        strip.append(canvas);
        return canvas;
      });
      line.append(labelOf(row), strip);
      if (!row.used) {
        const note = document.createElement("p");
        note.className = "trav-note";
        note.textContent = "unused: every image is the same";
        line.append(note);
      }
      this.box.append(line);
      return images;
    });
  }

  loadModel() {
    const model = this.data.model;
    const url = model ? model.url : null;
    if (url === this.modelUrl) return Promise.resolve();
    this.modelUrl = url;
    this.decoder = null;
    this.shownZ = null;
    if (!model) return Promise.resolve();
    this.status.textContent = "Loading the decoder into your browser...";
    const check = { latentDim: this.data.z.length, size: this.data.shape.reduce((a, b) => a * b, 1) };
    return createDecoder(model, this.data.runtime, { check }).then(
      (decoder) => {
        if (this.modelUrl !== url) return;
        this.decoder = decoder;
        this.status.textContent = this.data.follow
          ? "Decoded in your browser: the rows follow the current point as it moves."
          : "Decoded in your browser.";
      },
      (error) => {
        if (this.modelUrl !== url) return;
        this.status.textContent = `The decoder could not be loaded here (${String(error.message || error).slice(0, 120)}): the server decodes the rows.`;
        this.setTrigger("fallback", true);
      },
    );
  }

  // A painted frame of the moving point: follow it, leaving the decoder to the live image half the time.
  onPoint(z) {
    if (!this.box.isConnected) {
      this.stop();
      this.stop = null;
      return;
    }
    if (!this.data.follow || !this.decoder) return;
    this.wanted = z.slice();
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.request(this.wanted);
    }, Math.max(0, this.readyAt - performance.now()));
  }

  request(z) {
    if (!this.decoder || (this.shownZ && this.shownZ.length === z.length && this.shownZ.every((v, i) => v === z[i]))) return;
    this.latest.request(z.slice()).catch(() => {});
  }

  // The grid at z, a row at a time: the decoder runs on the page's one thread, and between rows
  // the page handles the pointer and paints the live image (a 16-D grid whole would hold it
  // for a quarter of a second).
  async decodeGrid(z) {
    const { rows, offsets, shape } = this.data;
    if (!this.decoder || z.length !== this.data.z.length) return null;
    const size = shape[0] * shape[1] * shape[2];
    const per = offsets.length * z.length; // one row's numbers
    const points = traversalPoints(z, rows, offsets);
    const { canvases, decoder } = this; // a rerun may replace them meanwhile: this grid paints its own
    let busy = 0;
    for (let r = 0; r < rows.length; r++) {
      if (r > 0) await nextTask();
      const started = performance.now();
      const pixels = await decoder.decodeBatch(points.slice(r * per, (r + 1) * per), offsets.length);
      canvases[r].forEach((canvas, k) => paint(canvas, pixels.subarray(k * size, (k + 1) * size), shape, canvas.width));
      busy += performance.now() - started;
    }
    if (canvases !== this.canvases) return null;
    this.shownZ = z;
    this.cost = busy;
    this.readyAt = performance.now() + (busy * (1 - BUSY_SHARE)) / BUSY_SHARE;
    const S = hooks.traversals;
    S.painted += 1;
    S.decoded += 1;
    S.z = Array.from(z);
    S.ms.push(this.cost);
    return z;
  }

  // The server's decodes: one PNG per row, its images side by side at their own size.
  showStrips(strips) {
    const [h, w] = this.data.shape;
    strips.forEach((url, r) => {
      const image = document.createElement("img");
      image.onload = () => {
        this.canvases[r].forEach((canvas, k) => {
          const ctx = canvas.getContext("2d");
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(image, k * w, 0, w, h, 0, 0, canvas.width, canvas.height);
        });
        if (r === strips.length - 1) {
          hooks.traversals.painted += 1;
          hooks.traversals.z = Array.from(this.data.z);
        }
      };
      image.src = url;
    });
    this.status.textContent = "";
  }
}

export function mount(component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__traversals) parentElement.__traversals = new Traversals(parentElement);
  parentElement.__traversals.update(data, setTriggerValue);
}
