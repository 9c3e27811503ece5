"""The current latent point: sliders, the decoded image, the clicked test image, map clicks.

Runs as an ``st.fragment``: a slider move or a map click reruns only this panel (and never
re-sends the 10,000-point map). ``st.session_state["z"]`` holds the current point (d,);
the sliders are its view and are set from it whenever it changes elsewhere.
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from app import bridge
from app.panels import neighbours
from app.resources import MAX_DIM_SLIDERS, Explorer
from app.style import BIG, CURRENT_COLOR, class_chip
from vae_core import latent
from vae_core.data import CLASS_NAMES
from vae_core.images import upscale

SLIDER_STEPS = 400  # slider resolution: (hi - lo) / SLIDER_STEPS


def current_z(ex: Explorer) -> np.ndarray:
    return np.asarray(st.session_state["z"], dtype=np.float64)


def set_point(ex: Explorer, z: np.ndarray, index: int | None) -> None:
    """Make z the current point (and `index` the selected test image); sync the sliders."""
    z = np.asarray(z, dtype=np.float64).reshape(ex.d)
    st.session_state["z"] = z.tolist()
    st.session_state["sel"] = index
    shown = latent.clip_to_ranges(z, ex.lo, ex.hi)
    for i in range(ex.d):
        st.session_state[f"dim{i}"] = float(shown[i])
    if ex.d > MAX_DIM_SLIDERS:
        coeffs = latent.principal_coeffs(ex.pc_mean, ex.pc_directions, z)
        limit = 4.0 * ex.pc_std
        for j, c in enumerate(np.clip(coeffs, -limit, limit)):
            st.session_state[f"pc{j}"] = float(c)


def _on_dim(ex: Explorer, i: int) -> None:
    z = current_z(ex)
    z[i] = float(st.session_state[f"dim{i}"])
    st.session_state["z"] = z.tolist()


def _on_pc(ex: Explorer, j: int) -> None:
    z = current_z(ex)
    coeff = latent.principal_coeffs(ex.pc_mean, ex.pc_directions, z)[j]
    z = z + (float(st.session_state[f"pc{j}"]) - coeff) * ex.pc_directions[j]  # move along direction j only
    set_point(ex, z, st.session_state.get("sel"))


def _on_click(ex: Explorer) -> None:
    ev = bridge.event("current", "click")
    if not ev:
        return
    try:
        click = (float(ev["x"]), float(ev["y"]))
        units = (float(ev["ux"]), float(ev["uy"]))
    except (KeyError, TypeError, ValueError):
        return
    hidden = {str(h) for h in ev.get("hidden") or []}
    shown = st.session_state.get("map_classes", CLASS_NAMES)
    visible_classes = [c for c, name in enumerate(CLASS_NAMES) if name in shown and name not in hidden]
    visible = np.isin(ex.bundle.labels, visible_classes)
    index, z = latent.click_to_latent(
        ex.projection, ex.xy, click, units, current_z(ex), ex.bundle.z_mean, visible
    )
    set_point(ex, z, index)


def sliders_ui(ex: Explorer) -> None:
    """One slider per dimension (d <= 16), else principal-direction sliders plus chosen dims."""
    step = lambda lo, hi: float((hi - lo) / SLIDER_STEPS)  # noqa: E731
    if ex.d <= MAX_DIM_SLIDERS:
        dims = list(range(ex.d))
    else:
        st.caption(
            f"This model has {ex.d} dimensions: the sliders move the point along the "
            f"{len(ex.pc_std)} leading principal directions of the encoded test set."
        )
        cols = st.columns(2)
        for j in range(len(ex.pc_std)):
            limit = float(4.0 * ex.pc_std[j])
            cols[j % 2].slider(
                f"Principal direction {j + 1}", -limit, limit, step=limit / (SLIDER_STEPS / 2),
                key=f"pc{j}", on_change=_on_pc, args=(ex, j), format="%.2f",
            )
        dims = st.multiselect(
            "Also move single dimensions", list(range(ex.d)), format_func=lambda i: f"z{i + 1}",
            max_selections=MAX_DIM_SLIDERS, key="extra_dims",
        )
    cols = st.columns(2 if len(dims) > 3 else 1)
    for n, i in enumerate(dims):
        lo, hi = float(ex.lo[i]), float(ex.hi[i])
        cols[n % len(cols)].slider(
            f"z{i + 1}", lo, hi, step=step(lo, hi), key=f"dim{i}", on_change=_on_dim, args=(ex, i),
            format="%.2f",
        )


def selected_ui(ex: Explorer, index: int | None) -> None:
    """The clicked test image and its reconstruction (or a hint when none is selected)."""
    if index is None:
        st.caption("Click a point on the map to see its real image and reconstruction here.")
        return
    b = ex.bundle
    label = int(b.labels[index])
    recon = ex.decode(b.z_mean[index])[0]
    st.markdown(f"**Clicked test image #{index}** {class_chip(label)}", unsafe_allow_html=True)
    c1, c2 = st.columns(2)
    c1.image(upscale(ex.images[index], 112), caption="Real image", output_format="PNG")
    c2.image(upscale(recon, 112), caption="Decoded", output_format="PNG")


def coordinates_text(z: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(f"{v:+.2f}" for v in z[:limit])
    return f"z = ({shown}{', ...' if len(z) > limit else ''})"


@st.fragment
def explorer_fragment(ex: Explorer, on_change) -> None:
    """The right-hand column: decoded image, clicked image, sliders, nearest real items."""
    z = current_z(ex)
    xy = ex.to_map(z)[0]
    index = st.session_state.get("sel")
    st.subheader("Decoded at the current point")
    img_col, info_col = st.columns([5, 4])
    img_col.image(upscale(ex.decode(z)[0], BIG), caption=coordinates_text(z), output_format="PNG")
    with info_col:
        selected_ui(ex, index)
    if ex.d > 2:
        st.caption(f"On the map (PCA plane): ({xy[0]:+.2f}, {xy[1]:+.2f})")
    sliders_ui(ex)
    lines = []
    if index is not None:
        ellipse = latent.posterior_ellipse(ex.projection, ex.bundle.z_mean[index], ex.bundle.z_log_var[index])
        lines.append(bridge.polyline(ellipse, CURRENT_COLOR, closed=True, width=1.5, dash="4 3"))
    neighbours.neighbours_ui(ex, z)
    bridge.map_layer(
        "current", points=[bridge.point(xy[0], xy[1], CURRENT_COLOR, 6, "cross")], lines=lines,
        on_click=functools.partial(_on_click, ex),
    )
    on_change()
