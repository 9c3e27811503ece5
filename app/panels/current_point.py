"""The current point: its decoded image and sliders (live, in the browser), its marker on the map,
the selected test image and the nearest real items. The explorer's right-hand column.

Runs as the fragment "point": the end of a gesture (a slider released, the marker dropped) or a
click on the map reruns only this panel (and the open view when it follows the point), never the
10,000-point map. While a gesture is under way the browser decodes by itself (``live.js``); when it
ends, the component's callback records a ``Committed`` event, and a click a ``Chosen`` one
(``app.view``). The server sends pixels only for points the browser has not painted itself.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import streamlit as st

from app import alt, components, session
from app.browser_assets import RUNTIME_URL
from app.explorer import Explorer, PointView
from app.figures import CURRENT_TRACE
from app.link import MAX_ABS_COORD, MAX_SLIDERS, camera_ok
from app.overlay import MAP_TARGET, polyline
from app.panels import map as map_panel
from app.panels import neighbours
from app.style import CURRENT_COLOR, class_chip
from app.text import plotly_text
from app.view import Chosen, Committed, Set, View
from vae_core.images import crisp_width, upscale

KEY = "live_point"  # the component's key: its trigger values live in st.session_state[KEY]
IMAGE_PX = 280  # width of the decoded image (nearest neighbour)
SLIDER_STEPS = 400  # slider resolution: range / SLIDER_STEPS
SHOWN_COORDINATES = 8  # coordinates in the caption
CAPTION_PREFIX = "z = ("  # how the decoded image's caption starts (the browser tests find it by it)
RECONSTRUCTION_CAPTION = "Reconstruction of #{}"  # the selected image decoded at its z_mean
MAX_COMMIT_N = 2**53  # the browser numbers commits with time stamps in ms (Date.now())


def slider_specs(explorer: Explorer, dims: list[int], principal: bool) -> list[dict]:
    """The sliders: principal directions first (when ``principal``), then one per dimension in ``dims``."""
    lmap, specs = explorer.map, []
    if principal:
        for j, limit in enumerate(lmap.pc_limit):
            limit = float(limit)
            specs.append(
                {
                    "kind": "pc",
                    "index": j,
                    "label": f"Principal direction {j + 1}",
                    "min": -limit,
                    "max": limit,
                    "step": 2 * limit / SLIDER_STEPS,
                    "inactive": False,
                }
            )
    inactive = set(explorer.inactive_dims)
    for i in dims:
        low, high = float(lmap.slider_low[i]), float(lmap.slider_high[i])
        specs.append(
            {
                "kind": "dim",
                "index": i,
                "label": f"z{i + 1}",
                "min": low,
                "max": high,
                "step": (high - low) / SLIDER_STEPS,
                "inactive": i in inactive,
            }
        )
    return specs


def _finite(value: object, limit: float = MAX_ABS_COORD) -> float | None:
    """A number from the page, if it is one (not a bool, finite, within ``limit``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and abs(value) <= limit else None


def parse_commit(value: object, d: int) -> Committed | None:
    """The commit in a component value ``{"commit": {"z": [d numbers], "n": int, "painted": bool}}``,
    or None when there is none or it is malformed: the page is outside our control."""
    commit = value.get("commit") if hasattr(value, "get") else None
    if not hasattr(commit, "get"):
        return None
    z, n = commit.get("z"), _finite(commit.get("n"), MAX_COMMIT_N)
    if not isinstance(z, list) or len(z) != d or n is None or n < 1 or n != int(n):
        return None
    values = [_finite(v) for v in z]
    if any(v is None for v in values):
        return None
    return Committed(tuple(values), int(n), commit.get("painted") is True)


def parse_click(value: object) -> tuple[tuple[float, float], tuple[float, float], set[str]] | None:
    """A click in a component value ``{"click": {"x", "y", "ux", "uy", "hidden": [names]}}``: (at,
    units per pixel, hidden classes), or None when malformed."""
    click = value.get("click") if hasattr(value, "get") else None
    if not hasattr(click, "get"):
        return None
    x, y, ux, uy = (_finite(click.get(k)) for k in ("x", "y", "ux", "uy"))
    if None in (x, y, ux, uy) or ux <= 0 or uy <= 0:
        return None
    hidden = click.get("hidden")
    names = {str(h)[:200] for h in hidden[:1000]} if isinstance(hidden, list) else set()
    return (x, y), (ux, uy), names


def _on_commit(d: int) -> None:
    event = parse_commit(st.session_state.get(KEY), d)
    if event is not None:
        session.record(event)


def parse_pick(value: object, n_images: int) -> int | None:
    """A click on a point of the 3-D scene, ``{"click": {"pick": test image}}``: its index, or None."""
    click = value.get("click") if hasattr(value, "get") else None
    pick = click.get("pick") if hasattr(click, "get") else None
    if isinstance(pick, bool) or not isinstance(pick, int) or not 0 <= pick < n_images:
        return None
    return pick


def parse_camera(value: object) -> tuple[float, float, float] | None:
    """Where the 3-D scene is seen from, ``{"camera": {"eye": [x, y, z]}}``, or None when malformed."""
    camera = value.get("camera") if hasattr(value, "get") else None
    eye = camera.get("eye") if hasattr(camera, "get") else None
    if not isinstance(eye, list) or not camera_ok(eye):
        return None
    return tuple(round(float(v), 4) for v in eye)


def _on_camera() -> None:
    eye = parse_camera(st.session_state.get(KEY))
    if eye is not None:
        session.record(Set("camera", eye))


def legend_classes(hidden: set[str], explorer: Explorer) -> set[str]:
    """The classes behind the legend's names the page says are hidden (the map shows a class name
    as Plotly text: app.text.plotly_text); a name that is no class's is dropped."""
    legend = {plotly_text(name): name for name in explorer.class_names}
    return {legend[name] for name in hidden if name in legend}


def _on_click(explorer: Explorer) -> None:
    pick = parse_pick(st.session_state.get(KEY), len(explorer.bundle.labels))
    if pick is not None:
        session.record(Chosen(tuple(map(float, explorer.test_point(pick))), pick))
        return
    click = parse_click(st.session_state.get(KEY))
    if click is None:
        return
    at, units, hidden = click
    index, z = explorer.click(at, units, np.asarray(session.current().z), legend_classes(hidden, explorer))
    session.record(Chosen(tuple(map(float, z)), index))


def slider_dims_ui(explorer: Explorer) -> tuple[list[int], bool]:
    """Which sliders to show: (dimensions with their own slider, whether principal directions come first)."""
    d = explorer.bundle.latent_dim
    if d <= MAX_SLIDERS:
        return list(range(d)), False
    st.caption(
        f"This model has {d} dimensions: the first sliders move the point along the "
        f"{len(explorer.map.pc_limit)} leading principal directions of the encoded test set."
    )
    dims = st.multiselect(
        "Also move single dimensions",
        list(range(d)),
        format_func=lambda i: f"z{i + 1}",
        max_selections=MAX_SLIDERS,
        **session.bind("extra_dims", "extra_dims", to_widget=list, from_widget=lambda v: tuple(sorted(v))),
    )
    return list(dims), True


def live_data(explorer: Explorer, view: View, pv: PointView, sliders: list[dict]) -> dict:
    """What the browser side (live.js) needs to show the point and follow gestures."""
    lmap, decoder = explorer.map, explorer.browser.decoder
    pixels = None
    if not (view.painted and decoder is not None):  # the browser has not painted this point itself
        pixels = np.round(explorer.decode(np.asarray(view.z))[0].ravel().astype(np.float64), 4).tolist()
    principal = None
    if any(s["kind"] == "pc" for s in sliders):
        principal = {"mean": lmap.pc_mean.tolist(), "directions": lmap.pc_directions.tolist()}
    ellipse = (
        None
        if pv.ellipse is None
        else polyline(pv.ellipse, CURRENT_COLOR, closed=True, width=1.5, dash="4 3")
    )
    return {
        "z": list(view.z),
        "pixels": pixels,
        "seen": view.commit_n,
        "loaded": view.loaded,  # the bundle (and version) the point and "seen" belong to
        "sliders": sliders,
        "principal": principal,
        "projection": {
            "mean": lmap.projection.mean.tolist(),
            "components": lmap.projection.components.tolist(),
        },
        "model": decoder,
        "note": explorer.browser.note,  # why there is no model, when the bundle has one that does not fit
        "runtime": RUNTIME_URL,
        "shape": list(explorer.bundle.data.image_shape),
        "hover": view.hover,
        "target": MAP_TARGET,
        "size": crisp_width(explorer.bundle.data.image_shape, IMAGE_PX),
        "limit": SHOWN_COORDINATES,
        "prefix": CAPTION_PREFIX,
        "marker": {"color": CURRENT_COLOR, "ellipse": ellipse},
        # a 3-D scene's trace that holds the current point (None: the flat map and its overlay)
        "scene": CURRENT_TRACE if map_panel.three_d(explorer, view) else None,
        # the decoded image's name for a screen reader (said once the point settles)
        "description": alt.decode_alt(explorer, np.asarray(view.z)),
    }


def selected_ui(explorer: Explorer, pv: PointView) -> None:
    """The clicked test image and its reconstruction (or a hint when none is selected)."""
    if pv.index is None:
        st.caption("Click a point on the map to see its real image and reconstruction here.")
        return
    chip = class_chip(int(explorer.bundle.labels[pv.index]), explorer.class_names)
    st.markdown(f"**Clicked test image #{pv.index}** {chip}", unsafe_allow_html=True)
    if pv.left_selected > 0:
        st.caption(
            f"The current point has moved {pv.left_selected:.2f} away from this image's place on the map "
            "(its z_mean): the picture above is no longer its reconstruction."
        )
    c1, c2 = st.columns(2)
    c1.image(
        upscale(explorer.images[pv.index], 112),
        caption="Real image",
        output_format="PNG",
        alt=alt.test_image_alt(explorer, pv.index),
    )
    caption = RECONSTRUCTION_CAPTION.format(pv.index)
    c2.image(
        upscale(pv.reconstruction, 112),
        caption=caption,
        output_format="PNG",
        alt=f"The model's reconstruction of test image #{pv.index}",
    )


def coordinates_text(z: np.ndarray, limit: int = SHOWN_COORDINATES) -> str:
    shown = ", ".join(f"{v:+.2f}" for v in z[:limit])
    return f"{CAPTION_PREFIX}{shown}{', ...' if len(z) > limit else ''})"


@st.fragment(key="point")
def point_fragment(explorer: Explorer) -> None:
    """The right-hand column: the live decoded image and sliders, the clicked image, nearest real items."""
    view = session.apply_events()
    st.subheader("Decoded at the current point")
    pv = explorer.point_view(np.asarray(view.z), view.index, view.neighbours)
    dims, principal = slider_dims_ui(explorer)
    components.live_point()(
        key=KEY,
        data=live_data(explorer, view, pv, slider_specs(explorer, dims, principal)),
        on_commit_change=functools.partial(_on_commit, explorer.bundle.latent_dim),
        on_click_change=functools.partial(_on_click, explorer),
        on_camera_change=_on_camera,
    )
    if explorer.bundle.latent_dim > 2 and not map_panel.three_d(explorer, view):
        st.caption(f"On the map (PCA plane): ({pv.xy[0]:+.2f}, {pv.xy[1]:+.2f})")
    selected_ui(explorer, pv)
    neighbours.neighbours_ui(explorer, pv, np.asarray(view.z))
    if session.in_fragment_run():
        session.write_link(view)
