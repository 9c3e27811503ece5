"""The k nearest real test images of the current point (in latent space) and their classes."""

from __future__ import annotations

import base64
import html

import numpy as np
import streamlit as st

from app import session
from app.alt import test_image_alt
from app.explorer import Explorer, PointView
from app.style import class_chip
from vae_core.images import png_bytes, upscale

THUMB = 56  # px
COUNT_KEY = "k_nn"  # the "How many" widget
OFF_DATA = 1.5  # a decode this many times as far from any real image as a reconstruction is off the data


def _thumb(img: np.ndarray, text: str) -> str:
    """An <img> of ``img`` whose alt is ``text`` (escaped)."""
    data = base64.b64encode(png_bytes(upscale(img, THUMB))).decode("ascii")
    size = f'width="{THUMB}" height="{THUMB}"'
    return (
        f'<img src="data:image/png;base64,{data}" {size} alt="{html.escape(text)}" '
        'style="image-rendering:pixelated">'
    )


def neighbours_html(explorer: Explorer, view: PointView) -> str:
    cells = []
    names = explorer.class_names
    for i, d in zip(view.neighbours, view.distances, strict=True):
        chip = (
            class_chip(int(explorer.bundle.labels[i]), names) + "<br>"
            if explorer.bundle.data.labelled
            else ""
        )
        cells.append(
            f'<figure style="margin:0;text-align:center" title="#{i}, distance {d:.2f}">'
            f"{_thumb(explorer.images[i], test_image_alt(explorer, i))}"
            f'<figcaption style="font-size:.75rem">{chip}#{i} · {d:.2f}</figcaption>'
            "</figure>"
        )
    return '<div style="display:flex;flex-wrap:wrap;gap:6px">' + "".join(cells) + "</div>"


def shares_html(shares: np.ndarray, names: tuple[str, ...]) -> str:
    order = np.argsort(-shares, kind="stable")
    parts = [f"{class_chip(c, names)} {shares[c]:.0%}" for c in order if shares[c] > 0]
    return " &nbsp; ".join(parts)


def neighbours_ui(explorer: Explorer, view: PointView, z: np.ndarray) -> None:
    head, control = st.columns([3, 2], vertical_alignment="bottom")
    head.markdown("**Nearest real items** (test images closest in latent space)")
    control.number_input("How many", 1, 24, **session.bind("neighbours", COUNT_KEY))
    if explorer.bundle.data.labelled:
        st.markdown(
            f"Class shares among the {len(view.neighbours)} nearest: "
            + shares_html(view.shares, explorer.class_names),
            unsafe_allow_html=True,
        )
    st.markdown(neighbours_html(explorer, view), unsafe_allow_html=True)
    off_data_ui(explorer, z)


def off_data_ui(explorer: Explorer, z: np.ndarray) -> None:
    """How far the decode is from the nearest real image, in pixels, beside an ordinary reconstruction."""
    i, rms, ratio = explorer.off_data(explorer.decode(z)[0])
    st.caption(
        f"**Nearest real image in pixels**: #{i}, {rms:.3f} apart (root-mean-square per pixel, 0 to 1). "
        f"A test image's reconstruction is typically {explorer.reconstruction_rms:.3f} from its nearest, "
        f"so this decode is {ratio:.1f}× as far from anything real"
        + (": off the data, a guess." if ratio >= OFF_DATA else ".")
    )
