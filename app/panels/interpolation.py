"""Interpolate between two latent points: a strip of decodes, the path on the map, a GIF."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import alt, overlay, session
from app.explorer import Explorer
from app.glossary import explain
from app.style import PATH_COLOR
from app.text import escape_markdown
from app.view import View
from vae_core.geometry import MAX_STEPS, MIN_STEPS
from vae_core.images import gif_bytes, image_strip, png_bytes, to_uint8, upscale

KINDS = {"centroid": "Class centroid", "image": "A test image", "current": "The current point"}
STRIP_KEY = "ip_strip"  # the container of the strip of frames


def endpoint_ui(explorer: Explorer, view: View, which: str) -> tuple[np.ndarray, str]:
    """Controls of endpoint A or B; returns its latent point (d,) and a short label."""
    st.markdown(f"**Endpoint {which.upper()}**")
    kinds = KINDS if explorer.bundle.data.labelled else {k: v for k, v in KINDS.items() if k != "centroid"}
    kind = getattr(view, f"{which}_kind")
    if kind not in kinds:
        kind = "image"
    st.radio(
        "From",
        list(kinds),
        format_func=kinds.get,
        horizontal=True,
        label_visibility="collapsed",
        **session.bind(f"{which}_kind", f"ip_{which}_kind", to_widget=lambda _: kind),
    )
    if kind == "centroid":
        names = explorer.class_names
        c = getattr(view, f"{which}_class")
        st.selectbox(
            "Class",
            range(len(names)),
            format_func=names.__getitem__,
            **session.bind(f"{which}_class", f"ip_{which}_class"),
        )
        return explorer.centroids[c], f"{names[c]} centroid"
    if kind == "image":
        i = getattr(view, f"{which}_image")
        st.number_input(
            "Test image number",
            0,
            len(explorer.bundle.labels) - 1,
            **session.bind(f"{which}_image", f"ip_{which}_index"),
        )
        label = f" ({explorer.label_name(i)})" if explorer.bundle.data.labelled else ""
        return explorer.test_point(i), f"#{i}{label}"
    return np.asarray(view.z, dtype=np.float64), "current point"


@st.cache_data(max_entries=32, show_spinner=False)
def _gif(frames: np.ndarray, duration_ms: int) -> bytes:
    return gif_bytes(frames, scale=6, duration_ms=duration_ms, bounce=True)


def interpolation_ui(explorer: Explorer, view: View) -> None:
    st.markdown("Walk from A to B through the latent space and decode every step.")
    col_a, col_b, col_opts = st.columns([2, 2, 2])
    with col_a:
        a, label_a = endpoint_ui(explorer, view, "a")
    with col_b:
        b, label_b = endpoint_ui(explorer, view, "b")
    with col_opts:
        st.slider("Steps", MIN_STEPS, MAX_STEPS, **session.bind("steps", "ip_steps"))
        st.radio(
            "Path",
            ["linear", "spherical"],
            horizontal=True,
            help=explain("slerp (spherical path)"),
            **session.bind("path", "ip_path"),
        )
        st.toggle("Play as animation", **session.bind("animate", "ip_animate"))
    steps, path = view.steps, view.path
    walk = explorer.interpolation(a, b, steps, path)
    with st.container(key=STRIP_KEY):  # one row that scrolls sideways (app.style.PAGE_CSS)
        st.image(
            [upscale(f, 84) for f in walk.frames],
            caption=[f"{t:.2f}" for t in np.linspace(0.0, 1.0, steps)],
            alt=[alt.decode_alt(explorer, z, f"Frame {k + 1} of {steps}") for k, z in enumerate(walk.z)],
            output_format="PNG",
        )
    st.caption(
        f"{steps} frames from {escape_markdown(label_a)} (left) to {escape_markdown(label_b)} (right), "
        f"{path} path."
    )
    frames_u8 = np.stack([to_uint8(f) for f in walk.frames])  # (steps, H, W[, 3]) uint8
    gif = _gif(frames_u8, 120)
    c1, c2, c3 = st.columns([1, 1, 2])
    if view.animate:
        c3.image(
            gif,
            caption="Animation (forth and back)",
            width=168,
            alt=f"An animation of the {steps} frames from {label_a} to {label_b} and back",
        )
    c1.download_button("Download GIF", gif, "interpolation.gif", "image/gif", key="ip_dl_gif")
    c2.download_button(
        "Download PNG strip",
        png_bytes(image_strip(frames_u8, scale=3, gap=2)),
        "interpolation.png",
        "image/png",
        key="ip_dl_png",
    )
    xy = walk.xy
    overlay.map_layer(
        "path",
        lines=[overlay.polyline(xy, PATH_COLOR, width=2.5, dash="6 3")],
        points=[overlay.point(p[0], p[1], PATH_COLOR, 2.5) for p in xy[1:-1]]  # the ends on top
        + [
            overlay.point(xy[0][0], xy[0][1], PATH_COLOR, 5, text="A"),
            overlay.point(xy[-1][0], xy[-1][1], PATH_COLOR, 5, text="B"),
        ],
    )
