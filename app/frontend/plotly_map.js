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
