"""The k nearest real test images of the current point (in latent space) and their classes."""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from app.resources import Explorer
from app.style import class_chip

THUMB = 56  # px: 28 x 2
from vae_core import latent
from vae_core.data import CLASS_NAMES
from vae_core.images import png_bytes, upscale


def _thumb(img: np.ndarray) -> str:
    data = base64.b64encode(png_bytes(upscale(img, THUMB))).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" width="{THUMB}" height="{THUMB}" style="image-rendering:pixelated">'


def neighbours_html(ex: Explorer, idx: np.ndarray, dist: np.ndarray) -> str:
    cells = []
    for i, d in zip(idx, dist):
        label = int(ex.bundle.labels[i])
        cells.append(
            f'<figure style="margin:0;text-align:center" title="#{i}, distance {d:.2f}">{_thumb(ex.images[i])}'
            f'<figcaption style="font-size:.75rem">{class_chip(label)}<br>#{i} · {d:.2f}</figcaption></figure>'
        )
    return '<div style="display:flex;flex-wrap:wrap;gap:6px">' + "".join(cells) + "</div>"


def shares_html(shares: np.ndarray) -> str:
    order = np.argsort(-shares, kind="stable")
    parts = [f"{class_chip(c)} {shares[c]:.0%}" for c in order if shares[c] > 0]
    return " &nbsp; ".join(parts)


def neighbours_ui(ex: Explorer, z: np.ndarray) -> None:
    head, control = st.columns([3, 2], vertical_alignment="bottom")
    head.markdown("**Nearest real items** (test images closest in latent space)")
    k = control.number_input("How many", 1, 24, 8, key="k_nn")
    idx, dist = latent.nearest_neighbours(ex.bundle.z_mean, z, k)
    shares = latent.class_shares(ex.bundle.labels[idx], len(CLASS_NAMES))
    st.markdown(f"Class shares among the {len(idx)} nearest: " + shares_html(shares), unsafe_allow_html=True)
    st.markdown(neighbours_html(ex, idx, dist), unsafe_allow_html=True)
