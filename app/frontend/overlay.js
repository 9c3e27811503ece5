// The map overlay: named layers drawn as one SVG over the big Plotly map, and the map's clicks.
//
// The 10,000-point map is sent once and never changes while a person explores (a changed
// figure makes the browser rebuild the WebGL chart). Everything that moves is drawn here
// instead: the current point and its ellipse (live.js sets that layer as the point moves), the
// interpolation path, the decoded grid's region, an encoded upload with its ellipse (each one a
// mount of the overlay component, app/overlay.py). Clicks in the plot area are reported in map
// (data) coordinates to whoever listens (live.js), so a click on empty space decodes that spot.
// A marker outside the plot area (a point dragged beyond the map's range) is pinned to its edge.

import { hooks } from "./hooks.js";
import * as plotly from "./plotly_map.js";
import {
  axes, figureSize, hiddenTraces, inPlotArea, mapElement, matchScreen, onRedraw, plotArea, toData, toScreen,
  unitsPerPixel,
} from "./plotly_map.js";

const NS = "http://www.w3.org/2000/svg";
// Bottom to top: every layer the app draws, by name.
const LAYER_ORDER = ["region", "upload", "path", "current"];

const layers = {}; // name -> {points, lines}
const bound = new WeakSet(); // map elements we listen to
const targets = new Set(); // selectors of the containers holding a map
let clickListener = null; // (click) => void: the live panel's
let dragging = false; // a marker drag is under way: its release is no click
let watcher = null;
let drawn = 0;
hooks.map.layers = layers;
hooks.map.api = { ...plotly, redraw: () => redrawAll() };

function el(name, attrs) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function drawLine(g, ax, line) {
  const pts = line.xs.map((x, i) => {
    const { px, py } = toScreen(ax, x, line.ys[i]);
    return `${px.toFixed(1)},${py.toFixed(1)}`;
  }).join(" ");
  g.appendChild(el(line.closed ? "polygon" : "polyline", {
    points: pts, fill: line.fill || "none", stroke: line.color, "stroke-width": line.width || 2,
    "stroke-dasharray": line.dash || "", "fill-opacity": 0.15,
  }));
}

// A marker at its place, or pinned to the plot area's edge (an arrow pointing the way) when off it.
function drawMarker(g, ax, m, labels) {
  let { px: x, py: y } = toScreen(ax, m.x, m.y);
  const area = plotArea(ax);
  const r = m.size || 6;
  if (!inPlotArea(ax, x, y)) {
    const cx = Math.min(area.left + area.width - r - 2, Math.max(area.left + r + 2, x));
    const cy = Math.min(area.top + area.height - r - 2, Math.max(area.top + r + 2, y));
    const angle = Math.atan2(y - cy, x - cx);
    const tip = [cx + Math.cos(angle) * (r + 2), cy + Math.sin(angle) * (r + 2)];
    const back = (da) => [cx + Math.cos(angle + da) * r, cy + Math.sin(angle + da) * r];
    const [b1, b2] = [back(2.4), back(-2.4)];
    g.appendChild(el("path", {
      d: `M${tip[0]},${tip[1]}L${b1[0]},${b1[1]}L${b2[0]},${b2[1]}Z`, fill: m.color, stroke: "#fff",
      "stroke-width": 1.5, "data-pinned": "1",
    }));
    x = cx;
    y = cy;
  } else if (m.symbol === "cross") {
    g.appendChild(el("circle", { cx: x, cy: y, r: r + 3, fill: "none", stroke: "#fff", "stroke-width": 5 }));
    g.appendChild(el("circle", { cx: x, cy: y, r: r + 3, fill: "none", stroke: m.color, "stroke-width": 2.5 }));
    g.appendChild(el("path", {
      d: `M${x - r - 8},${y}h${r + 3}m${r * 2 + 10},0h${r + 3}M${x},${y - r - 8}v${r + 3}m0,${r * 2 + 10}v${r + 3}`,
      stroke: m.color, "stroke-width": 2.5,
    }));
  } else {
    g.appendChild(el("circle", { cx: x, cy: y, r, fill: m.color, stroke: "#fff", "stroke-width": 1.5 }));
  }
  if (m.text) {
    const t = el("text", {
      x: x + r + 4, y: y - r - 2, fill: m.color, "font-size": 12, "font-weight": 700,
      stroke: "#fff", "stroke-width": 3, "paint-order": "stroke", "data-x": x, "data-y": y,
    });
    t.textContent = m.text; // text, never markup
    labels.push(t);
  }
}

function draw(gd) {
  const ax = axes(gd);
  const host = gd.querySelector(".svg-container");
  if (!ax || !host) return;
  let svg = host.querySelector("svg.vae-overlay");
  if (!svg) {
    svg = el("svg", { class: "vae-overlay" });
    // Above all of the plot's layers, whatever their order: whenever Plotly starts a plot over (a
    // new config), it adds its new WebGL layers after this one.
    svg.style.cssText = "position:absolute;left:0;top:0;z-index:1;pointer-events:none;overflow:hidden;";
    host.appendChild(svg);
  }
  const size = figureSize(ax);
  svg.setAttribute("width", size.width);
  svg.setAttribute("height", size.height);
  svg.replaceChildren();
  const area = plotArea(ax);
  const clip = el("clipPath", { id: "vae-plot-clip" });
  clip.appendChild(el("rect", { x: area.left, y: area.top, width: area.width, height: area.height }));
  const defs = el("defs", {});
  defs.appendChild(clip);
  svg.appendChild(defs);
  const rank = (name) => (LAYER_ORDER.includes(name) ? LAYER_ORDER.indexOf(name) : -1);
  for (const name of Object.keys(layers).sort((a, b) => rank(a) - rank(b))) {
    const layer = layers[name];
    const lines = el("g", { "data-layer": name, "clip-path": "url(#vae-plot-clip)" });
    for (const line of layer.lines || []) drawLine(lines, ax, line);
    const g = el("g", { "data-layer": name }); // markers are not clipped: off the map they are pinned
    const labels = [];
    for (const m of layer.points || []) drawMarker(g, ax, m, labels);
    for (const t of labels) g.appendChild(t); // no later marker covers a label
    svg.append(lines, g);
  }
  svg.setAttribute("data-drawn", String(++drawn));
  hooks.map.drawn = drawn;
}

function redrawAll() {
  for (const target of targets) {
    const gd = mapElement(target);
    if (gd) draw(gd);
  }
}

// The second click of a double-click (which Plotly spends on resetting the zoom and clearing a
// box selection) must not move the current point: it reports the point the first click left.
const DOUBLE_CLICK_MS = 500;
const DOUBLE_CLICK_PX = 8;
// Map units per pixel sent with that undo: small enough to find only a test image exactly there.
const EXACT_UNITS = 1e-6;

function currentMarker() {
  const m = layers.current && layers.current.points && layers.current.points[0];
  return m ? { x: m.x, y: m.y } : null;
}

// Report a plain left click (no drag, under a second) inside the plot area.
function bind(gd) {
  let down = null;
  let last = null; // the last click reported: when, where on the screen, the point before it
  gd.addEventListener("pointerdown", (e) => {
    down = null;
    if (e.button !== 0 || e.target.closest(".modebar, .legend, .legendtoggle")) return;
    down = { x: e.clientX, y: e.clientY, t: performance.now() };
  }, true);
  window.addEventListener("pointerup", (e) => {
    const d = down;
    down = null;
    if (!d || !clickListener || !gd.isConnected || dragging) return;
    if (Math.hypot(e.clientX - d.x, e.clientY - d.y) > 4 || performance.now() - d.t > 1000) return;
    const ax = axes(gd);
    if (!ax) return;
    const r = gd.getBoundingClientRect();
    const px = d.x - r.left, py = d.y - r.top;
    if (!inPlotArea(ax, px, py)) return;
    const hidden = hiddenTraces(gd);
    const second = last && d.t - last.t < DOUBLE_CLICK_MS && Math.hypot(d.x - last.x, d.y - last.y) < DOUBLE_CLICK_PX;
    if (second) {
      const undo = last.before;
      last = null;
      if (undo) clickListener({ ...undo, ux: EXACT_UNITS, uy: EXACT_UNITS, hidden });
      return;
    }
    last = { t: d.t, x: d.x, y: d.y, before: currentMarker() };
    clickListener({ ...toData(ax, px, py), ...unitsPerPixel(ax), hidden });
  }, true);
  // A finger on the map scrolls the page as anywhere else (Plotly would turn a swipe into a zoom): its
  // touches never reach Plotly's drag handlers. Taps still arrive above as pointer events; the toolbar zooms.
  for (const type of ["touchstart", "touchmove", "touchend"]) {
    gd.addEventListener(type, (e) => {
      if (!e.target.closest(".modebar")) e.stopPropagation();
    }, { capture: true, passive: true });
  }
  onRedraw(gd, () => draw(gd));
}

// Bind and draw on the map element that is on the page now. A 3-D scene's element is replaced
// whenever its figure changes (st.plotly_chart), and no mount runs again then.
function ensure(target) {
  const gd = mapElement(target);
  if (!gd || !axes(gd)) return false;
  matchScreen();
  if (!bound.has(gd)) {
    bind(gd);
    bound.add(gd);
    draw(gd);
  } else if (!gd.querySelector("svg.vae-overlay")) {
    draw(gd);
  }
  return true;
}

// One observer for the page: a new map element gets bound and drawn as soon as it is laid out.
export function watch(target) {
  targets.add(target);
  if (watcher) return;
  let queued = false;
  watcher = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      for (const t of targets) ensure(t);
    }, 50);
  });
  watcher.observe(document.body, { childList: true, subtree: true });
}

// Draw (or, with null, remove) one layer over the map in the container matched by `target`.
export function setLayer(name, layer, target) {
  if (layer) layers[name] = layer;
  else delete layers[name];
  if (target) {
    watch(target);
    ensure(target);
  }
  redrawAll();
}

// The map's clicks go to `listener` ({x, y, ux, uy, hidden}); null stops them.
export function onMapClick(listener) {
  clickListener = listener;
}

// A marker drag started (true) or ended (false): its release is not a click.
export function setDragging(on) {
  dragging = on;
}

// The component's mount (app/overlay.py): one layer, drawn until the mount goes away.
export function mount(component) {
  const { data } = component;
  layers[data.layer] = data;
  watch(data.target);
  let tries = 0;
  let timer = null;
  const attach = () => {
    if (ensure(data.target)) {
      redrawAll();
    } else if (tries++ < 1300) {
      // The map can take far longer than 10 s to appear on a loaded machine (20 sessions on
      // 2 cores: ~100 s): keep looking (every 0.1 s, after 10 s every 0.5 s, up to ~10 min).
      timer = setTimeout(attach, tries < 100 ? 100 : 500);
    }
  };
  attach();
  return () => {
    if (timer) clearTimeout(timer);
    if (layers[data.layer] === data) delete layers[data.layer];
    setTimeout(redrawAll, 0);
  };
}
