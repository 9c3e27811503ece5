"""The current latent point: the decoded image and its sliders (live, in the browser), the
clicked test image, map clicks.

Runs as an ``st.fragment``: a map click or the end of a gesture (a slider released, the marker
dropped) reruns only this panel (and never re-sends the 10,000-point map). While a gesture is
under way the browser decodes by itself (``app.live``). ``session.POINT`` holds the current
point (d,); this module is its only writer (:func:`set_point`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import streamlit as st

from app import bridge, live, session
from app.explorer import Explorer, PointView
from app.panels import neighbours
from app.style import CURRENT_COLOR, class_chip
from vae_core.images import upscale

MAX_DIM_SLIDERS = 16  # one slider per dimension up to this latent_dim, else principal directions
RECONSTRUCTION_CAPTION = "Reconstruction of #{}"  # the selected image decoded at its z_mean
EXTRA_DIMS_KEY = "extra_dims"  # beyond MAX_DIM_SLIDERS: the single dimensions chosen to get a slider


def current_point() -> np.ndarray:
    return np.asarray(st.session_state[session.POINT], dtype=np.float64)


def set_point(explorer: Explorer, z: np.ndarray, index: int | None) -> None:
    """Make z the current point (and `index` the selected test image)."""
    st.session_state[session.POINT] = np.asarray(z, dtype=np.float64).reshape(explorer.d).tolist()
    st.session_state[session.SELECTED] = index


def apply_commit(explorer: Explorer) -> None:
    """A gesture ended in the browser: its final point becomes the current point (the selected
    test image stays as context, as for a slider). Idempotent: the component's callback calls
    it, and the fragment again before drawing (for a commit that came without one)."""
    z = live.committed_point(explorer)
    if z is not None:
        set_point(explorer, z, st.session_state.get(session.SELECTED))


def _on_click(explorer: Explorer, visible_classes: list[int]) -> None:
    event = bridge.event("current", "click")
    if not event:
        return
    try:
        at = (float(event["x"]), float(event["y"]))
        units = (float(event["ux"]), float(event["uy"]))
    except (KeyError, TypeError, ValueError):
        return
    hidden = {str(name) for name in event.get("hidden") or []}
    shown = [c for c in visible_classes if explorer.class_names[c] not in hidden]
    index, z = explorer.click(at, units, current_point(), shown)
    set_point(explorer, z, index)


def slider_dims_ui(explorer: Explorer) -> tuple[list[int], bool]:
    """Which sliders to show: (dimensions with their own slider, whether principal directions come first)."""
    if explorer.d <= MAX_DIM_SLIDERS:
        return list(range(explorer.d)), False
    st.caption(
        f"This model has {explorer.d} dimensions: the first sliders move the point along the "
        f"{len(explorer.pc_limit)} leading principal directions of the encoded test set."
    )
    dims = st.multiselect(
        "Also move single dimensions",
        list(range(explorer.d)),
        format_func=lambda i: f"z{i + 1}",
        max_selections=MAX_DIM_SLIDERS,
        key=EXTRA_DIMS_KEY,
    )
    return list(dims), True


def selected_ui(explorer: Explorer, view: PointView) -> None:
    """The clicked test image and its reconstruction (or a hint when none is selected)."""
    if view.index is None:
        st.caption("Click a point on the map to see its real image and reconstruction here.")
        return
    label = int(explorer.labels[view.index])
    st.markdown(f"**Clicked test image #{view.index}** {class_chip(label)}", unsafe_allow_html=True)
    if view.left_selected > 0:
        st.caption(
            f"The current point has moved {view.left_selected:.2f} away from this image's place on the map "
            "(its z_mean): the picture above is no longer its reconstruction."
        )
    c1, c2 = st.columns(2)
    c1.image(upscale(explorer.images[view.index], 112), caption="Real image", output_format="PNG")
    caption = RECONSTRUCTION_CAPTION.format(view.index)
    c2.image(upscale(view.reconstruction, 112), caption=caption, output_format="PNG")


def coordinates_text(z: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(f"{v:+.2f}" for v in z[:limit])
    return f"{live.CAPTION_PREFIX}{shown}{', ...' if len(z) > limit else ''})"


@st.fragment
def explorer_fragment(
    explorer: Explorer, visible_classes: list[int], hover: bool, on_change: Callable[[], None]
) -> None:
    """The right-hand column: the live decoded image and sliders, the clicked image, nearest real items."""
    apply_commit(explorer)
    st.subheader("Decoded at the current point")
    view = explorer.point_view(current_point(), st.session_state.get(session.SELECTED), neighbours.count())
    dims, principal = slider_dims_ui(explorer)
    live.live_point(
        explorer,
        view,
        live.slider_specs(explorer, dims, principal),
        explorer.browser_decoder,
        hover,
        f".st-key-{bridge.MAP_CONTAINER_KEY}",
        functools.partial(apply_commit, explorer),
    )
    if explorer.d > 2:
        st.caption(f"On the map (PCA plane): ({view.xy[0]:+.2f}, {view.xy[1]:+.2f})")
    selected_ui(explorer, view)
    neighbours.neighbours_ui(explorer, view)
    lines = []
    if view.ellipse is not None:
        lines.append(bridge.polyline(view.ellipse, CURRENT_COLOR, closed=True, width=1.5, dash="4 3"))
    bridge.map_layer(
        "current",
        points=[bridge.point(view.xy[0], view.xy[1], CURRENT_COLOR, 6, "cross")],
        lines=lines,
        on_click=functools.partial(_on_click, explorer, visible_classes),
    )
    on_change()
