// Hover and click on a map whose points are one picture (Compare's maps, app/panels/compare.py).
//
// The picture is drawn in a fraction of the time 10,000 WebGL points take, but Plotly knows
// nothing of its points. This module does: the component sends the points' map coordinates and
// classes, hovering names the point nearest the pointer as Plotly's own label would ("#123 ·
// Trouser"), and a click on a point sends its test image to the server (`click: {pick}`, as a
// click in the 3-D scene does). A click away from every point sends nothing.
//
// One set of page-wide listeners serves every mount: each mount owns the map in the container
// its `target` matches, so a map that Streamlit draws anew needs nothing bound again.

import { hooks } from "./hooks.js";
import { axes, inPlotArea, toData, toScreen, unitsPerPixel } from "./plotly_map.js";

const REACH_PX = 7; // a point this close to the pointer is under it (the big map's hoverdistance is 6)
const CLICK_PX = 4; // a press that moves farther is a drag, not a click
const CLICK_MS = 1000;

const pickers = new Map(); // target selector -> {points, send}
const decoded = new Map(); // data key -> points, the last few bundles'
let listening = false;
let frame = 0;
let latest = null; // the pointer's last move, for the next frame
let pointed = null; // the map element whose cursor says a point is under the pointer
let shown = null; // the hover label on show
let down = null; // the press that may become a click

function bytes(base64) {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

const NOT_DRAWN = 65535; // a point's place beyond the picture (app/panels/compare.py)

// The points of `data` (compare.picker_points): their places in map coordinates (x, y interleaved;
// NaN where not drawn), a class per point, the classes' names, colours and text colours on them;
// decoded once per bundle.
function points(data) {
  let p = decoded.get(data.key);
  if (!p) {
    const places = new Uint16Array(bytes(data.xy).buffer);
    const [[x0, x1], [y0, y1]] = data.within;
    const xy = new Float32Array(places.length);
    for (let i = 0; i < places.length; i += 2) {
      const out = places[i] === NOT_DRAWN || places[i + 1] === NOT_DRAWN;
      xy[i] = out ? NaN : x0 + (places[i] / (NOT_DRAWN - 1)) * (x1 - x0);
      xy[i + 1] = out ? NaN : y0 + (places[i + 1] / (NOT_DRAWN - 1)) * (y1 - y0);
    }
    const Labels = data.label_bytes === 2 ? Uint16Array : Uint8Array;
    const labels = data.labels ? new Labels(bytes(data.labels).buffer) : null;
    const { names = [], colors = [], inks = [] } = data;
    p = { xy, labels, n: xy.length / 2, names, colors, inks };
    decoded.set(data.key, p);
    if (decoded.size > 4) decoded.delete(decoded.keys().next().value);
  }
  return p;
}

// The test image nearest screen position (px, py) of the map's plot element, within REACH_PX; or -1.
function nearest(p, ax, px, py) {
  const at = toData(ax, px, py);
  const { ux, uy } = unitsPerPixel(ax);
  let best = -1;
  let bestD = REACH_PX * REACH_PX;
  for (let i = 0; i < p.n; i++) {
    const dx = (p.xy[2 * i] - at.x) / ux;
    const dy = (p.xy[2 * i + 1] - at.y) / uy;
    const d = dx * dx + dy * dy; // NaN for a point not drawn: never under the pointer
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

// What the pointer is over: the picker and map it is in, the plot area, the point under it (-1: none).
function locate(e) {
  if (!e.target || typeof e.target.closest !== "function") return null;
  for (const [target, picker] of pickers) {
    const gd = e.target.closest(`${target} .js-plotly-plot`);
    if (!gd) continue;
    const ax = axes(gd);
    const r = gd.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    if (!ax || !inPlotArea(ax, px, py)) return null;
    return { target, picker, gd, ax, index: nearest(picker.points, ax, px, py) };
  }
  return null;
}

// The hover label of map element `gd` (a ring on the point and its name), made on first use.
function label(gd) {
  const host = gd.querySelector(".svg-container");
  if (!host) return null;
  let box = host.querySelector(":scope > .vae-pick");
  if (!box) {
    box = document.createElement("div");
    box.className = "vae-pick";
    box.style.cssText = "position:absolute;left:0;top:0;pointer-events:none;display:none;z-index:2;";
    const ring = document.createElement("div");
    ring.style.cssText = "position:absolute;width:12px;height:12px;margin:-8px 0 0 -8px;border-radius:50%;"
      + "border:2px solid #111;box-shadow:0 0 0 1.5px #fff;";
    const text = document.createElement("div");
    text.setAttribute("role", "tooltip");
    text.style.cssText = "position:absolute;white-space:nowrap;font:13px sans-serif;padding:3px 6px;"
      + "border-radius:3px;border:1px solid #fff;";
    box.append(ring, text);
    host.appendChild(box);
  }
  return box;
}

// Hide the label shown now (there is one at most), unless it is `except`.
function hide(except) {
  if (shown && shown !== except) shown.style.display = "none";
  if (shown !== except) shown = null;
}

function show(hit) {
  const box = label(hit.gd);
  hide(box);
  if (!box) return;
  const p = hit.picker.points;
  const i = hit.index;
  const { px, py } = toScreen(hit.ax, p.xy[2 * i], p.xy[2 * i + 1]);
  const c = p.labels ? p.labels[i] : 0; // a data set without classes: one colour, no name
  const name = p.labels ? p.names[c] : undefined;
  const colour = p.colors[c] || "#444444";
  const ink = p.inks[c] || "#ffffff";
  const [ring, text] = box.children;
  ring.style.left = `${px}px`;
  ring.style.top = `${py}px`;
  text.textContent = name === undefined ? `#${i}` : `#${i} · ${name}`; // text, never markup
  text.style.background = colour;
  text.style.color = ink;
  // beside the point, on the side with room
  const right = px < hit.ax.fl.width * 0.6;
  text.style.left = `${right ? px + 10 : px - 10}px`;
  text.style.transform = right ? "" : "translateX(-100%)";
  text.style.top = `${py - 11}px`;
  box.style.display = "block";
  shown = box;
  point(hit.gd);
  hooks.pickers[hit.target].hovered = i;
}

// The pointer's cursor over `gd` says a point is under it (null: over none).
function point(gd) {
  if (pointed && pointed !== gd) pointed.style.cursor = "";
  if (gd) gd.style.cursor = "pointer";
  pointed = gd;
}

function onMove(e) {
  // Off Compare (no picker, no label) a move costs nothing: the listeners stay, the page moves on.
  if (e.pointerType === "touch" || (!pickers.size && !shown && !pointed)) return;
  latest = { target: e.target, clientX: e.clientX, clientY: e.clientY };
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const hit = locate(latest);
    if (hit && hit.index >= 0) {
      show(hit);
      return;
    }
    hide(null);
    point(null);
    if (hit) hooks.pickers[hit.target].hovered = -1;
  });
}

// What was pressed is found on the press: the release lands on the cover Plotly lays over the page.
function onDown(e) {
  const hit = e.button === 0 ? locate(e) : null;
  down = hit && hit.index >= 0 ? { hit, x: e.clientX, y: e.clientY, t: performance.now() } : null;
}

function onUp(e) {
  const d = down;
  down = null;
  if (!d || Math.hypot(e.clientX - d.x, e.clientY - d.y) > CLICK_PX || performance.now() - d.t > CLICK_MS) return;
  hooks.pickers[d.hit.target].picked = d.hit.index;
  d.hit.picker.send(d.hit.index);
}

function listen() {
  if (listening) return;
  listening = true;
  document.addEventListener("pointermove", onMove, { passive: true });
  document.addEventListener("pointerdown", onDown, true);
  document.addEventListener("pointerup", onUp, true);
}

// The component's mount: the map in the container matched by `data.target` gets its hover and clicks.
export function mount(component) {
  const { data, setTriggerValue } = component;
  const picker = { points: points(data), send: (index) => setTriggerValue("click", { pick: index }) };
  pickers.set(data.target, picker);
  hooks.pickers[data.target] = { points: picker.points, hovered: -1, picked: -1 };
  listen();
  return () => {
    if (pickers.get(data.target) === picker) pickers.delete(data.target);
  };
}
