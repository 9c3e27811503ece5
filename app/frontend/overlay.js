// The map overlay: a streamlit.components.v2 component that draws on the big Plotly map.
//
// The 10,000-point map is sent once and never changes while a person explores (a changed
// figure makes the browser rebuild the WebGL chart). Everything that moves is drawn here
// instead, as one SVG layer over the map's plot area: the current point, the interpolation
// path, the decoded grid's region, an encoded upload with its posterior ellipse. One mount
// of the component owns one named layer; the mount that listens reports clicks in map
// (data) coordinates, so a click on empty space decodes that exact spot.

const NS = "http://www.w3.org/2000/svg";
// Bottom to top: every layer the app draws, by name.
const LAYER_ORDER = ["region", "upload", "path", "current"];

// State shared by every mount, and the coordinate helpers for the page's other scripts (tests too).
function shared() {
  if (!window.__vaeMap) {
    window.__vaeMap = {
      layers: {}, setters: {}, bound: new WeakSet(), n: 0, dragging: false, targets: new Set(), watcher: null,
      api: { axes, toData, toScreen, unitsPerPixel, redraw: draw },
    };
  }
  return window.__vaeMap;
}

function findMap(target) {
  return document.querySelector(`${target} .js-plotly-plot`);
}

// The map's axes once Plotly has laid them out, else null.
export function axes(gd) {
  const fl = gd && gd._fullLayout;
  if (!fl || !fl.xaxis || !fl.yaxis || !fl.xaxis.l2p || !fl.xaxis._length) return null;
  return { fl, xa: fl.xaxis, ya: fl.yaxis };
}

// Map (data) coordinates of a position in the plot's own pixels (0, 0 = its top-left corner).
export function toData(ax, px, py) {
  return { x: ax.xa.p2l(px - ax.xa._offset), y: ax.ya.p2l(py - ax.ya._offset) };
}

// The plot's own pixel position of map coordinates (x, y).
export function toScreen(ax, x, y) {
  return { px: ax.xa._offset + ax.xa.l2p(x), py: ax.ya._offset + ax.ya.l2p(y) };
}

// Map units per screen pixel along x and y.
export function unitsPerPixel(ax) {
  return { ux: Math.abs(ax.xa.p2l(1) - ax.xa.p2l(0)), uy: Math.abs(ax.ya.p2l(1) - ax.ya.p2l(0)) };
}

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

// Draws the marker into g; its label (if any) goes into `labels`, drawn above every marker.
function drawMarker(g, ax, m, labels) {
  const { px: x, py: y } = toScreen(ax, m.x, m.y);
  const r = m.size || 6;
  if (m.symbol === "cross") {
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
    t.textContent = m.text;  // text, never markup
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
    svg.style.cssText = "position:absolute;left:0;top:0;pointer-events:none;overflow:hidden;";
    host.appendChild(svg);
  }
  svg.setAttribute("width", ax.fl.width);
  svg.setAttribute("height", ax.fl.height);
  svg.replaceChildren();
  const clip = el("clipPath", { id: "vae-plot-clip" });
  clip.appendChild(el("rect", { x: ax.xa._offset, y: ax.ya._offset, width: ax.xa._length, height: ax.ya._length }));
  const defs = el("defs", {});
  defs.appendChild(clip);
  svg.appendChild(defs);
  const S = shared();
  const rank = (name) => (LAYER_ORDER.includes(name) ? LAYER_ORDER.indexOf(name) : -1);
  for (const name of Object.keys(S.layers).sort((a, b) => rank(a) - rank(b))) {
    const layer = S.layers[name];
    const g = el("g", { "data-layer": name, "clip-path": "url(#vae-plot-clip)" });
    for (const line of layer.lines || []) drawLine(g, ax, line);
    const labels = [];
    for (const m of layer.points || []) drawMarker(g, ax, m, labels);
    for (const t of labels) g.appendChild(t);  // no later marker covers a label
    svg.appendChild(g);
  }
  svg.setAttribute("data-drawn", String(++S.n));
}

// The second click of a double-click (which Plotly spends on resetting the zoom and clearing a
// box selection) must not move the current point: it reports the point the first click left.
const DOUBLE_CLICK_MS = 500;
const DOUBLE_CLICK_PX = 8;
// Map units per pixel sent with that undo: small enough to find only a test image exactly there.
const EXACT_UNITS = 1e-6;

function currentMarker() {
  const layer = shared().layers.current;
  const m = layer && layer.points && layer.points[0];
  return m ? { x: m.x, y: m.y } : null;
}

// Report a plain left click (no drag, under a second) inside the plot area.
function bind(gd) {
  const S = shared();
  let down = null;
  let last = null;  // the last click reported: when, where on the screen, the point before it
  gd.addEventListener("pointerdown", (e) => {
    down = null;
    if (e.button !== 0 || e.target.closest(".modebar, .legend, .legendtoggle")) return;
    down = { x: e.clientX, y: e.clientY, t: performance.now() };
  }, true);
  window.addEventListener("pointerup", (e) => {
    const d = down;
    down = null;
    if (!d || !S.setters.click || !gd.isConnected || S.dragging) return; // a marker drag is no click
    if (Math.hypot(e.clientX - d.x, e.clientY - d.y) > 4 || performance.now() - d.t > 1000) return;
    const ax = axes(gd);
    if (!ax) return;
    const r = gd.getBoundingClientRect();
    const px = d.x - r.left, py = d.y - r.top;
    const inside = px >= ax.xa._offset && py >= ax.ya._offset
      && px <= ax.xa._offset + ax.xa._length && py <= ax.ya._offset + ax.ya._length;
    if (!inside) return;
    const hidden = (gd._fullData || []).filter((t) => t.visible === "legendonly").map((t) => t.name);
    const second = last && d.t - last.t < DOUBLE_CLICK_MS && Math.hypot(d.x - last.x, d.y - last.y) < DOUBLE_CLICK_PX;
    if (second) {
      const undo = last.before;
      last = null;
      if (undo) S.setters.click("click", { ...undo, ux: EXACT_UNITS, uy: EXACT_UNITS, hidden, n: ++S.n });
      return;
    }
    last = { t: d.t, x: d.x, y: d.y, before: currentMarker() };
    S.setters.click("click", { ...toData(ax, px, py), ...unitsPerPixel(ax), hidden, n: ++S.n });
  }, true);
  // A finger on the map scrolls the page as anywhere else (Plotly would turn a swipe into a zoom): its
  // touches never reach Plotly's drag handlers. Taps still arrive above as pointer events; the toolbar zooms.
  for (const type of ["touchstart", "touchmove", "touchend"]) {
    gd.addEventListener(type, (e) => {
      if (!e.target.closest(".modebar")) e.stopPropagation();
    }, { capture: true, passive: true });
  }
  if (gd.on) {
    for (const name of ["plotly_afterplot", "plotly_relayout", "plotly_restyle"]) gd.on(name, () => draw(gd));
  }
}

// Bind and draw on the map element that is on the page now. Streamlit replaces that element
// whenever the figure changes (a Map display option), and no mount runs again then.
function ensure(target) {
  const S = shared();
  const gd = findMap(target);
  if (!gd || !axes(gd)) return false;
  if (!S.bound.has(gd)) {
    bind(gd);
    S.bound.add(gd);
    draw(gd);
  } else if (!gd.querySelector("svg.vae-overlay")) {
    draw(gd);
  }
  return true;
}

// One observer for the page: a new map element gets bound and drawn as soon as it is laid out.
function watch(target) {
  const S = shared();
  S.targets.add(target);
  if (S.watcher) return;
  let queued = false;
  S.watcher = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      for (const t of S.targets) ensure(t);
    }, 50);
  });
  S.watcher.observe(document.body, { childList: true, subtree: true });
}

export default function (component) {
  const { data, setTriggerValue } = component;
  const S = shared();
  S.layers[data.layer] = data;
  if (data.listen_click) S.setters.click = setTriggerValue;
  let tries = 0;
  let timer = null;
  watch(data.target);
  const attach = () => {
    const gd = findMap(data.target);
    if (gd && axes(gd)) {
      ensure(data.target);
      draw(gd);
    } else if (tries++ < 1300) {
      // The map can take far longer than 10 s to appear on a loaded machine (20 sessions on
      // 2 cores: ~100 s): keep looking (every 0.1 s, after 10 s every 0.5 s, up to ~10 min).
      timer = setTimeout(attach, tries < 100 ? 100 : 500);
    }
  };
  attach();
  return () => {
    if (timer) clearTimeout(timer);
    if (S.layers[data.layer] === data) delete S.layers[data.layer];
    setTimeout(() => {
      const gd = findMap(data.target);
      if (gd) draw(gd);
    }, 0);
  };
}
