"""The current latent point: sliders, the decoded image, the clicked test image, map clicks.

Runs as an ``st.fragment``: a slider move or a map click reruns only this panel (and never
re-sends the 10,000-point map). ``session.POINT`` holds the current point (d,); the sliders
are its view and are set from it whenever it changes elsewhere. This module is the only
writer of the point (:func:`set_point`) and of its slider widgets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import streamlit as st

from app import bridge, session
from app.explorer import Explorer, PointView
from app.panels import neighbours
from app.style import BIG, CURRENT_COLOR, class_chip
from vae_core.images import upscale

MAX_DIM_SLIDERS = 16  # one slider per dimension up to this latent_dim, else principal directions
SLIDER_STEPS = 400  # slider resolution: range / SLIDER_STEPS
COORDINATES_PREFIX = "z = ("  # how the decoded image's caption starts (the browser tests find it by it)


def current_point() -> np.ndarray:
    return np.asarray(st.session_state[session.POINT], dtype=np.float64)


def set_point(explorer: Explorer, z: np.ndarray, index: int | None) -> None:
    """Make z the current point (and `index` the selected test image); sync the sliders."""
    z = np.asarray(z, dtype=np.float64).reshape(explorer.d)
    st.session_state[session.POINT] = z.tolist()
    st.session_state[session.SELECTED] = index
    for i, value in enumerate(explorer.slider_values(z)):
        st.session_state[f"dim{i}"] = float(value)
    if explorer.d > MAX_DIM_SLIDERS:
        for j, value in enumerate(explorer.principal_values(z)):
            st.session_state[f"pc{j}"] = float(value)


def is_slider_key(key: str) -> bool:
    """A slider widget of this panel (reset with the point when another bundle opens)."""
    return key.startswith(("dim", "pc")) and key[2 if key.startswith("pc") else 3:].isdigit()


def _on_dim(i: int) -> None:
    z = current_point()
    z[i] = float(st.session_state[f"dim{i}"])
    st.session_state[session.POINT] = z.tolist()


def _on_principal(explorer: Explorer, j: int) -> None:
    z = explorer.along_principal(current_point(), j, float(st.session_state[f"pc{j}"]))
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


def sliders_ui(explorer: Explorer) -> None:
    """One slider per dimension (d <= 16), else principal-direction sliders plus chosen dims."""
    if explorer.d <= MAX_DIM_SLIDERS:
        dims = list(range(explorer.d))
    else:
        st.caption(
            f"This model has {explorer.d} dimensions: the sliders move the point along the "
            f"{len(explorer.pc_limit)} leading principal directions of the encoded test set."
        )
        cols = st.columns(2)
        for j, limit in enumerate(explorer.pc_limit):
            limit = float(limit)
            cols[j % 2].slider(
                f"Principal direction {j + 1}", -limit, limit, step=2 * limit / SLIDER_STEPS,
                key=f"pc{j}", on_change=_on_principal, args=(explorer, j), format="%.2f",
            )
        dims = st.multiselect(
            "Also move single dimensions", list(range(explorer.d)), format_func=lambda i: f"z{i + 1}",
            max_selections=MAX_DIM_SLIDERS, key="extra_dims",
        )
    cols = st.columns(2 if len(dims) > 3 else 1)
    for n, i in enumerate(dims):
        low, high = float(explorer.slider_min[i]), float(explorer.slider_max[i])
        cols[n % len(cols)].slider(
            f"z{i + 1}", low, high, step=(high - low) / SLIDER_STEPS, key=f"dim{i}", on_change=_on_dim, args=(i,),
            format="%.2f",
        )


def selected_ui(explorer: Explorer, view: PointView) -> None:
    """The clicked test image and its reconstruction (or a hint when none is selected)."""
    if view.index is None:
        st.caption("Click a point on the map to see its real image and reconstruction here.")
        return
    label = int(explorer.labels[view.index])
    st.markdown(f"**Clicked test image #{view.index}** {class_chip(label)}", unsafe_allow_html=True)
    c1, c2 = st.columns(2)
    c1.image(upscale(explorer.images[view.index], 112), caption="Real image", output_format="PNG")
    c2.image(upscale(view.reconstruction, 112), caption="Decoded", output_format="PNG")


def coordinates_text(z: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(f"{v:+.2f}" for v in z[:limit])
    return f"{COORDINATES_PREFIX}{shown}{', ...' if len(z) > limit else ''})"


@st.fragment
def explorer_fragment(explorer: Explorer, visible_classes: list[int], on_change: Callable[[], None]) -> None:
    """The right-hand column: decoded image, clicked image, sliders, nearest real items."""
    st.subheader("Decoded at the current point")
    k = neighbours.count()
    view = explorer.point_view(current_point(), st.session_state.get(session.SELECTED), k)
    img_col, info_col = st.columns([5, 4])
    img_col.image(upscale(view.image, BIG), caption=coordinates_text(view.z), output_format="PNG")
    with info_col:
        selected_ui(explorer, view)
    if explorer.d > 2:
        st.caption(f"On the map (PCA plane): ({view.xy[0]:+.2f}, {view.xy[1]:+.2f})")
    sliders_ui(explorer)
    neighbours.neighbours_ui(explorer, view)
    lines = []
    if view.ellipse is not None:
        lines.append(bridge.polyline(view.ellipse, CURRENT_COLOR, closed=True, width=1.5, dash="4 3"))
    bridge.map_layer(
        "current", points=[bridge.point(view.xy[0], view.xy[1], CURRENT_COLOR, 6, "cross")], lines=lines,
        on_click=functools.partial(_on_click, explorer, visible_classes),
    )
    on_change()
