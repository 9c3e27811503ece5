// The one place that reads Plotly's internals: where the map's plot area is on the screen, how
// map (data) coordinates and the plot's pixels convert, which classes the legend hides, and
// the scatter's points. Plotly documents none of these (`_fullLayout`, an axis's `_offset`,
// `_length`, `l2p`/`p2l`, `_fullData`), so a Plotly upgrade may move them:
// `missingInternals(gd)` names what it cannot find, and a browser test calls it on the real map
// (tests/e2e/test_live.py), so an upgrade that moves them fails loudly there.

// The map's plot element inside the container matched by `target`, or null.
export function mapElement(target) {
  return document.querySelector(`${target} .js-plotly-plot`);
}

// The map's axes once Plotly has laid them out, else null.
export function axes(gd) {
  const fl = gd && gd._fullLayout;
  if (!fl || !fl.xaxis || !fl.yaxis || !fl.xaxis.l2p || !fl.xaxis._length) return null;
  return { fl, xa: fl.xaxis, ya: fl.yaxis };
}

// The plot area in the plot element's own pixels: {left, top, width, height}.
export function plotArea(ax) {
  return { left: ax.xa._offset, top: ax.ya._offset, width: ax.xa._length, height: ax.ya._length };
}

// The whole figure's size in pixels (the overlay's SVG covers it).
export function figureSize(ax) {
  return { width: ax.fl.width, height: ax.fl.height };
}

// Map (data) coordinates of a position in the plot element's own pixels (0, 0 = its top-left corner).
export function toData(ax, px, py) {
  return { x: ax.xa.p2l(px - ax.xa._offset), y: ax.ya.p2l(py - ax.ya._offset) };
}

// The plot element's own pixel position of map coordinates (x, y).
export function toScreen(ax, x, y) {
  return { px: ax.xa._offset + ax.xa.l2p(x), py: ax.ya._offset + ax.ya.l2p(y) };
}

// The map units the plot shows now (zoomed or not): width and height.
export function span(ax) {
  return { w: Math.abs(ax.xa.range[1] - ax.xa.range[0]), h: Math.abs(ax.ya.range[1] - ax.ya.range[0]) };
}

// Map units per screen pixel along x and y.
export function unitsPerPixel(ax) {
  return { ux: Math.abs(ax.xa.p2l(1) - ax.xa.p2l(0)), uy: Math.abs(ax.ya.p2l(1) - ax.ya.p2l(0)) };
}

// Whether a position in the plot element's pixels lies inside the plot area.
export function inPlotArea(ax, px, py) {
  const a = plotArea(ax);
  return px >= a.left && py >= a.top && px <= a.left + a.width && py <= a.top + a.height;
}

// The names of the traces the legend hides (a click on a class's legend entry).
export function hiddenTraces(gd) {
  return (gd._fullData || []).filter((t) => t.visible === "legendonly").map((t) => t.name);
}

// Every visible scatter point: its map coordinates, its test image (customdata) and its trace's name.
export function scatterPoints(gd) {
  const out = [];
  for (const t of gd._fullData || []) {
    if (t.type !== "scattergl" || t.visible !== true) continue;
    for (let i = 0; i < t._length; i++) out.push({ x: t.x[i], y: t.y[i], index: Number(t.customdata[i]), name: t.name });
  }
  return out;
}

// Plotly draws WebGL at twice the screen's pixels (its `plotGlPixelRatio`, 2 unless set): sharp on a
// 2x screen, four times the pixels a 1x screen shows. Match the screen instead, for every chart
// Plotly draws from now on (its documented `setPlotConfig`): a 10,000-point map drew in 217 ms
// instead of 356 ms at 1x (BENCHMARKS.md), and a 2x screen keeps 2. The map on the page when this
// is first called keeps its ratio until it is drawn again.
let screenMatched = false;
export function matchScreen() {
  const P = globalThis.Plotly;
  if (screenMatched || !P || typeof P.setPlotConfig !== "function") return;
  P.setPlotConfig({ plotGlPixelRatio: Math.min(2, Math.ceil(globalThis.devicePixelRatio || 1)) });
  screenMatched = true;
}

// Call `fn` whenever Plotly redraws the map (a zoom, a resize, a legend click).
export function onRedraw(gd, fn) {
  if (!gd.on) return;
  for (const name of ["plotly_afterplot", "plotly_relayout", "plotly_restyle"]) gd.on(name, fn);
}

// The internals above that this page's Plotly does not have (empty when all are in place).
export function missingInternals(gd) {
  const missing = [];
  const fl = gd && gd._fullLayout;
  if (!fl) return ["_fullLayout"];
  for (const name of ["xaxis", "yaxis"]) {
    const axis = fl[name];
    if (!axis) {
      missing.push(`_fullLayout.${name}`);
      continue;
    }
    for (const key of ["_offset", "_length"]) if (typeof axis[key] !== "number") missing.push(`${name}.${key}`);
    for (const key of ["l2p", "p2l"]) if (typeof axis[key] !== "function") missing.push(`${name}.${key}`);
  }
  if (typeof fl.width !== "number") missing.push("_fullLayout.width");
  if (!Array.isArray(gd._fullData)) missing.push("_fullData");
  else if (!gd._fullData.some((t) => typeof t._length === "number")) missing.push("_fullData[]._length");
  if (typeof gd.on !== "function") missing.push("on()");
  return missing;
}

// --- a 3-D model's map: a scatter3d scene ----------------------------------------------------------
// Streamlit's Plotly bundle puts the library on `window.Plotly`; the scene's point moves with its
// documented `restyle` (tests/e2e/test_scene_page.py checks that it is there).

function plotly() {
  const P = globalThis.Plotly;
  return P && typeof P.restyle === "function" ? P : null;
}

// Whether the map element holds a 3-D scene (not a plane with axes).
export function isScene(gd) {
  return Boolean(gd && gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene);
}

// Move the scene's trace named `name` to the one point `xyz` (nothing when it is there already);
// false when it cannot.
export function placeInScene(gd, name, xyz) {
  const P = plotly();
  const i = (gd.data || []).findIndex((t) => t.name === name);
  if (!P || i < 0) return false;
  const t = gd.data[i];
  const at = [t.x, t.y, t.z].map((v) => (v && v.length === 1 ? Number(v[0]) : NaN));
  if (at.every((v, k) => v === xyz[k])) return true;
  P.restyle(gd, { x: [[xyz[0]]], y: [[xyz[1]]], z: [[xyz[2]]] }, [i]);
  return true;
}

// Call `fn` after each redraw of the scene (a new figure from the server empties the point's trace).
export function onScenePlot(gd, fn) {
  gd.on("plotly_afterplot", fn);
}

// Whether the scene's element still has `fn` among its listeners of `event` (Plotly drops them all
// when it draws the figure anew in the same element).
export function listens(gd, event, fn) {
  const ev = gd._ev;
  return Boolean(ev && typeof ev.listeners === "function" && ev.listeners(event).includes(fn));
}

// A click on a point of the scene: `fn(index)` with its test image (the traces' customdata); the
// listener is returned (see `listens`).
export function onSceneClick(gd, fn) {
  const listener = (event) => {
    const point = event && event.points && event.points[0];
    const index = point ? Number(point.customdata) : NaN;
    if (Number.isInteger(index) && index >= 0) fn(index);
  };
  gd.on("plotly_click", listener);
  return listener;
}

// The camera moved (a drag turned the scene): `fn([x, y, z])`, where it now looks from. A click
// also reports the camera, unmoved: that is not passed on.
export function onSceneCamera(gd, fn) {
  const now = () => {
    const eye = gd._fullLayout.scene.camera && gd._fullLayout.scene.camera.eye;
    return eye ? [eye.x, eye.y, eye.z] : [NaN, NaN, NaN];
  };
  let last = now();
  gd.on("plotly_relayout", (event) => {
    const eye = event && event["scene.camera"] && event["scene.camera"].eye;
    if (!eye || ![eye.x, eye.y, eye.z].every(Number.isFinite)) return;
    const at = [eye.x, eye.y, eye.z];
    if (at.every((v, k) => Math.abs(v - last[k]) < 1e-3)) return;
    last = at;
    fn(at);
  });
}
