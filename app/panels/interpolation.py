"""Interpolate between two latent points: a strip of decodes, the path on the map, a GIF."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from app import bridge, session
from app.explorer import Explorer
from app.state import ViewState
from app.style import PATH_COLOR
from vae_core.geometry import MAX_STEPS, MIN_STEPS
from vae_core.images import gif_bytes, image_strip, png_bytes, to_uint8, upscale

KINDS = {"centroid": "Class centroid", "image": "A test image", "current": "The current point"}
DEFAULT_CLASS = {"a": 0, "b": 9}  # T-shirt/top -> Ankle boot: a long, varied walk
STRIP_KEY = "ip_strip"  # the container of the strip of frames


def _defaults(which: str) -> None:
    """The endpoint's widgets start at these values (unless a link set them)."""
    st.session_state.setdefault(f"ip_{which}_kind", "centroid")
    st.session_state.setdefault(f"ip_{which}_class", DEFAULT_CLASS[which])
    st.session_state.setdefault(f"ip_{which}_index", 0 if which == "a" else 1)


def endpoint_ui(explorer: Explorer, which: str) -> tuple[np.ndarray, str]:
    """Controls of endpoint A or B; returns its latent point (d,) and a short label."""
    _defaults(which)
    st.markdown(f"**Endpoint {which.upper()}**")
    kind = st.radio(
        "From",
        list(KINDS),
        format_func=KINDS.get,
        key=f"ip_{which}_kind",
        horizontal=True,
        label_visibility="collapsed",
    )
    if kind == "centroid":
        names = explorer.class_names
        c = st.selectbox("Class", range(len(names)), format_func=names.__getitem__, key=f"ip_{which}_class")
        return explorer.centroids[c], f"{names[c]} centroid"
    if kind == "image":
        i = int(st.number_input("Test image number", 0, explorer.n_images - 1, key=f"ip_{which}_index"))
        return explorer.test_point(i), f"#{i} ({explorer.label_name(i)})"
    return np.asarray(st.session_state[session.POINT], dtype=np.float64), "current point"


def restore(url: ViewState, n_images: int) -> None:
    """Set the controls from a shared link (at the start of a session)."""
    for which, endpoint in (("a", url.a), ("b", url.b)):
        if endpoint is None:
            continue
        kind, number = endpoint
        st.session_state[f"ip_{which}_kind"] = kind
        if kind == "centroid":
            st.session_state[f"ip_{which}_class"] = number
        elif kind == "image" and number < n_images:
            st.session_state[f"ip_{which}_index"] = number
    if url.steps is not None:
        st.session_state["ip_steps"] = url.steps
    if url.path is not None:
        st.session_state["ip_path"] = url.path


def link_fields() -> dict:
    """What a link needs to show this interpolation again (ViewState fields)."""
    out = {}
    for which in ("a", "b"):
        kind = st.session_state.get(f"ip_{which}_kind")
        number = {"centroid": f"ip_{which}_class", "image": f"ip_{which}_index"}.get(kind)
        if kind in KINDS:
            out[which] = (kind, None if number is None else int(st.session_state.get(number, 0)))
    for field, key in (("steps", "ip_steps"), ("path", "ip_path")):
        if st.session_state.get(key) is not None:
            out[field] = st.session_state[key]
    return out


def follow(point: list[float] | None) -> None:
    """Remember the current point the shown interpolation uses (None: it uses none)."""
    st.session_state[session.FOLLOWED_POINT] = point


def is_stale() -> bool:
    """True when the shown interpolation ends at a current point that has moved since."""
    followed = st.session_state.get(session.FOLLOWED_POINT)
    return followed is not None and followed != st.session_state.get(session.POINT)


@st.cache_data(max_entries=32, show_spinner=False)
def _gif(frames: np.ndarray, duration_ms: int) -> bytes:
    return gif_bytes(frames, scale=6, duration_ms=duration_ms, bounce=True)


@st.fragment
def interpolation_fragment(explorer: Explorer, on_change: Callable[[], None]) -> None:
    st.markdown("Walk from A to B through the latent space and decode every step.")
    col_a, col_b, col_opts = st.columns([2, 2, 2])
    with col_a:
        a, label_a = endpoint_ui(explorer, "a")
    with col_b:
        b, label_b = endpoint_ui(explorer, "b")
    with col_opts:
        st.session_state.setdefault("ip_steps", 10)
        steps = st.slider("Steps", MIN_STEPS, MAX_STEPS, key="ip_steps")
        path = st.radio(
            "Path",
            ["linear", "spherical"],
            key="ip_path",
            horizontal=True,
            help="Spherical (slerp) keeps the distance from the origin, like typical prior samples.",
        )
        animate = st.toggle("Play as animation", value=True, key="ip_animate")
    uses_current = "current" in (st.session_state.get("ip_a_kind"), st.session_state.get("ip_b_kind"))
    follow(list(st.session_state[session.POINT]) if uses_current else None)
    walk = explorer.interpolation(a, b, steps, path)
    with st.container(key=STRIP_KEY):  # one row that scrolls sideways (app.style.PAGE_CSS)
        st.image(
            [upscale(f, 84) for f in walk.frames],
            caption=[f"{t:.2f}" for t in np.linspace(0.0, 1.0, steps)],
            output_format="PNG",
        )
    st.caption(f"{steps} frames from {label_a} (left) to {label_b} (right), {path} path.")
    frames_u8 = np.stack([to_uint8(f) for f in walk.frames])  # (steps, 28, 28) uint8
    gif = _gif(frames_u8, 120)
    c1, c2, c3 = st.columns([1, 1, 2])
    if animate:
        c3.image(gif, caption="Animation (forth and back)", width=168)
    c1.download_button("Download GIF", gif, "interpolation.gif", "image/gif", key="ip_dl_gif")
    c2.download_button(
        "Download PNG strip",
        png_bytes(image_strip(frames_u8, scale=3, gap=2)),
        "interpolation.png",
        "image/png",
        key="ip_dl_png",
    )
    xy = walk.xy
    bridge.map_layer(
        "path",
        lines=[bridge.polyline(xy, PATH_COLOR, width=2.5, dash="6 3")],
        points=[bridge.point(p[0], p[1], PATH_COLOR, 2.5) for p in xy[1:-1]]  # the ends on top
        + [
            bridge.point(xy[0][0], xy[0][1], PATH_COLOR, 5, text="A"),
            bridge.point(xy[-1][0], xy[-1][1], PATH_COLOR, 5, text="B"),
        ],
    )
    on_change()
