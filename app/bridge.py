"""The map overlay: a tiny bidirectional component (streamlit.components.v2) over the big map.

The 10,000-point Plotly map is sent once and never changes while a person explores (a
changed figure makes the browser rebuild the WebGL chart: 1.2-2.3 s per click, see
DESIGN.md). Everything that moves is drawn by the component's JavaScript instead
(``app/frontend/overlay.js``), client-side, as an SVG layer over the map's plot area. It
also reports clicks anywhere in the plot area (in map coordinates, so empty space decodes
that exact spot).

Each mount owns one named layer (``LAYERS``); mounts live inside ``st.fragment``s, so a
click or a slider reruns only the fragment, not the map. The component renders nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

MAP_CONTAINER_KEY = "latent_map_box"  # st.container(key=...) around the big map
FRONTEND = Path(__file__).resolve().parent / "frontend"
LAYERS = ("region", "upload", "path", "current")  # bottom to top, as overlay.js draws them


@functools.cache
def _component():
    return st.components.v2.component("vae_map_bridge", html="", js=(FRONTEND / "overlay.js").read_text())


def point(x: float, y: float, color: str, size: int = 6, symbol: str = "circle", text: str = "") -> dict:
    """A marker at map coordinates (x, y)."""
    return {"x": float(x), "y": float(y), "color": color, "size": size, "symbol": symbol, "text": text}


def polyline(
    xy: Sequence, color: str, *, closed: bool = False, width: float = 2.5, dash: str = "", fill: str = "none"
) -> dict:
    """A line (or closed polygon) through map points xy (n, 2)."""
    return {
        "xs": [round(float(p[0]), 5) for p in xy],
        "ys": [round(float(p[1]), 5) for p in xy],
        "color": color,
        "closed": closed,
        "width": width,
        "dash": dash,
        "fill": fill,
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
    if layer not in LAYERS:
        raise ValueError(f"unknown overlay layer {layer!r}: add it to LAYERS and overlay.js's LAYER_ORDER")
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
