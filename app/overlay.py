"""The map overlay (``app/frontend/overlay.js``): layers drawn over the big map, client-side.

The 10,000-point Plotly map is sent once and never changes while a person explores (a
changed figure makes the browser rebuild the WebGL chart: 1.2-2.3 s per click, see
DESIGN.md). Everything that moves is drawn by the overlay instead, as an SVG layer over the
map's plot area: the current point (the live panel draws that one itself, as it moves), the
interpolation path, the decoded grid's region, an encoded upload.

Each mount of the overlay component owns one named layer (``LAYERS``); mounts live inside
``st.fragment``s, so a view's change reruns only its fragment, not the map. The component
renders nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from app import components

MAP_CONTAINER_KEY = "latent_map_box"  # st.container(key=...) around the big map
MAP_TARGET = f".st-key-{MAP_CONTAINER_KEY}"  # how the browser finds it
LAYERS = ("region", "upload", "path")  # bottom to top, as overlay.js draws them ("current" is live.js's)


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


def map_layer(layer: str, *, points: Sequence[dict] = (), lines: Sequence[dict] = ()) -> None:
    """Draw one named layer over the map (the mount's key is ``overlay_<layer>``)."""
    if layer not in LAYERS:
        raise ValueError(f"unknown overlay layer {layer!r}: add it to LAYERS and overlay.js's LAYER_ORDER")
    data = {"layer": layer, "target": MAP_TARGET, "points": list(points), "lines": list(lines)}
    components.map_overlay()(key=f"overlay_{layer}", data=data)
