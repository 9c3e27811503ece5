"""A tiny bidirectional component (streamlit.components.v2) that works on the big map.

The 10,000-point Plotly map is sent once and never changes while a person explores (a
changed figure makes the browser rebuild the WebGL chart: 1.2-2.3 s per click, see
DESIGN.md). Everything that moves is drawn by this component instead, client-side, as an
SVG layer over the map's plot area: the current point, the interpolation path, an encoded
upload with its posterior ellipse. It also reports clicks anywhere in the plot area (in
data coordinates, so empty space decodes that exact spot).

Each mount owns one named layer; mounts live inside ``st.fragment``s, so a click or a
slider reruns only the fragment, not the map. The component itself renders nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import streamlit as st

MAP_CONTAINER_KEY = "latent_map_box"  # st.container(key=...) around the big map

_JS = r"""
const NS = "http://www.w3.org/2000/svg";

function shared() {
  if (!window.__vaeMap) window.__vaeMap = { layers: {}, setters: {}, bound: new WeakSet(), n: 0 };
  return window.__vaeMap;
}

function findMap(target) {
  return document.querySelector(target + " .js-plotly-plot");
}

function axes(gd) {
  const fl = gd && gd._fullLayout;
  if (!fl || !fl.xaxis || !fl.yaxis || !fl.xaxis.l2p || !fl.xaxis._length) return null;
  return { fl, xa: fl.xaxis, ya: fl.yaxis };
}

function el(name, attrs) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function draw(gd) {
  const ax = axes(gd);
  if (!ax) return;
  const { fl, xa, ya } = ax;
  const host = gd.querySelector(".svg-container");
  if (!host) return;
  let svg = host.querySelector("svg.vae-overlay");
  if (!svg) {
    svg = el("svg", { class: "vae-overlay" });
    svg.style.cssText = "position:absolute;left:0;top:0;pointer-events:none;overflow:hidden;";
    host.appendChild(svg);
  }
  svg.setAttribute("width", fl.width);
  svg.setAttribute("height", fl.height);
  svg.innerHTML = "";
  const defs = el("defs", {});
  const clip = el("clipPath", { id: "vae-plot-clip" });
  clip.appendChild(el("rect", { x: xa._offset, y: ya._offset, width: xa._length, height: ya._length }));
  defs.appendChild(clip);
  svg.appendChild(defs);
  const px = (x) => xa._offset + xa.l2p(x);
  const py = (y) => ya._offset + ya.l2p(y);
  const order = ["upload", "path", "current"];
  const names = Object.keys(shared().layers).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const name of names) {
    const layer = shared().layers[name];
    const g = el("g", { "data-layer": name, "clip-path": "url(#vae-plot-clip)" });
    for (const line of layer.lines || []) {
      const pts = line.xs.map((x, i) => `${px(x).toFixed(1)},${py(line.ys[i]).toFixed(1)}`).join(" ");
      g.appendChild(el(line.closed ? "polygon" : "polyline", {
        points: pts, fill: line.fill || "none", stroke: line.color, "stroke-width": line.width || 2,
        "stroke-dasharray": line.dash || "", "fill-opacity": 0.15,
      }));
    }
    for (const m of layer.points || []) {
      const x = px(m.x), y = py(m.y), r = m.size || 6;
      if (m.symbol === "cross") {
        g.appendChild(el("circle", { cx: x, cy: y, r: r + 3, fill: "none", stroke: "#fff", "stroke-width": 5 }));
        g.appendChild(el("circle", { cx: x, cy: y, r: r + 3, fill: "none", stroke: m.color, "stroke-width": 2.5 }));
        g.appendChild(el("path", { d: `M${x - r - 8},${y}h${r + 3}m${r * 2 + 10},0h${r + 3}M${x},${y - r - 8}v${r + 3}m0,${r * 2 + 10}v${r + 3}`,
          stroke: m.color, "stroke-width": 2.5 }));
      } else {
        g.appendChild(el("circle", { cx: x, cy: y, r, fill: m.color, stroke: "#fff", "stroke-width": 1.5 }));
      }
      if (m.text) {
        const t = el("text", { x: x + r + 4, y: y - r - 2, fill: m.color, "font-size": 12, "font-weight": 700,
          stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" });
        t.textContent = m.text;
        g.appendChild(t);
      }
    }
    svg.appendChild(g);
  }
  svg.setAttribute("data-drawn", String(++shared().n));
}

function bind(gd) {
  const S = shared();
  let down = null;
  gd.addEventListener("pointerdown", (e) => {
    down = null;
    if (e.button !== 0 || e.target.closest(".modebar, .legend, .legendtoggle")) return;
    down = { x: e.clientX, y: e.clientY, t: performance.now() };
  }, true);
  window.addEventListener("pointerup", (e) => {
    const d = down;
    down = null;
    if (!d || !S.setters.click || !gd.isConnected) return;
    if (Math.hypot(e.clientX - d.x, e.clientY - d.y) > 4 || performance.now() - d.t > 1000) return;
    const ax = axes(gd);
    if (!ax) return;
    const { xa, ya } = ax;
    const r = gd.getBoundingClientRect();
    const cx = d.x - r.left - xa._offset, cy = d.y - r.top - ya._offset;
    if (cx < 0 || cy < 0 || cx > xa._length || cy > ya._length) return;
    const hidden = (gd._fullData || []).filter((t) => t.visible === "legendonly").map((t) => t.name);
    S.setters.click("click", {
      x: xa.p2l(cx), y: ya.p2l(cy), ux: Math.abs(xa.p2l(1) - xa.p2l(0)), uy: Math.abs(ya.p2l(1) - ya.p2l(0)),
      hidden, n: ++S.n,
    });
  }, true);
  if (gd.on) {
    for (const name of ["plotly_afterplot", "plotly_relayout", "plotly_restyle"]) gd.on(name, () => draw(gd));
  }
}

export default function (component) {
  const { data, setTriggerValue } = component;
  const S = shared();
  S.layers[data.layer] = data;
  if (data.listen_click) S.setters.click = setTriggerValue;
  let tries = 0;
  let timer = null;
  const attach = () => {
    const gd = findMap(data.target);
    if (gd && axes(gd)) {
      if (!S.bound.has(gd)) { bind(gd); S.bound.add(gd); }
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
    setTimeout(() => { const gd = findMap(data.target); if (gd) draw(gd); }, 0);
  };
}
"""


@functools.cache
def _component():
    return st.components.v2.component("vae_map_bridge", html="", js=_JS)


def point(x: float, y: float, color: str, size: int = 6, symbol: str = "circle", text: str = "") -> dict:
    """A marker at map coordinates (x, y)."""
    return {"x": float(x), "y": float(y), "color": color, "size": size, "symbol": symbol, "text": text}


def polyline(xy: Sequence, color: str, *, closed: bool = False, width: float = 2.5, dash: str = "",
             fill: str = "none") -> dict:
    """A line (or closed polygon) through map points xy (n, 2)."""
    return {
        "xs": [round(float(p[0]), 5) for p in xy], "ys": [round(float(p[1]), 5) for p in xy],
        "color": color, "closed": closed, "width": width, "dash": dash, "fill": fill,
    }


def map_layer(
    layer: str,
    *,
    points: Sequence[dict] = (),
    lines: Sequence[dict] = (),
    on_click: Callable[[], None] | None = None,
):
    """Draw one named layer over the map; optionally receive clicks on it.

    The mount's key is ``bridge_<layer>``; in ``on_click`` read the click with
    :func:`event`: ``{"x", "y"}`` in map coordinates, ``{"ux", "uy"}`` map units per
    screen pixel, ``"hidden"`` the classes hidden from the legend.
    """
    callbacks = {}
    if on_click is not None:
        callbacks["on_click_change"] = on_click
    data = {
        "layer": layer,
        "target": f".st-key-{MAP_CONTAINER_KEY}",
        "points": list(points),
        "lines": list(lines),
        "listen_click": on_click is not None,
    }
    return _component()(key=f"bridge_{layer}", data=data, **callbacks)


def event(layer: str, name: str) -> dict | None:
    """The trigger value ``name`` (e.g. "click") of the layer's mount, inside its callback."""
    value = st.session_state.get(f"bridge_{layer}")
    if value is None:
        return None
    found = value.get(name) if hasattr(value, "get") else getattr(value, name, None)
    return found if isinstance(found, dict) else None
