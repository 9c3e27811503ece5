"""The decoded manifold: an N x N grid of decodes over a region of the map plane.

This module owns the grid's region (``session.REGION`` and ``session.REGION_SOURCE``):
:func:`use_box` takes a box drawn on the map.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from app import bridge, session
from app.explorer import Explorer
from app.state import GRID_SIZES, ViewState
from app.style import PATH_COLOR
from vae_core.images import image_grid, png_bytes

MIN_N, MAX_N = GRID_SIZES
N_KEY = "mf_n"  # the grid size slider
SOURCES = {"prior": "Square around the prior (±2.5)", "box": "Box selected on the map"}


def use_box(box: list[list[float]]) -> None:
    """Decode the grid over ``box`` ([[x0, x1], [y0, y1]] on the map) from now on."""
    st.session_state[session.REGION] = box
    st.session_state[session.REGION_SOURCE] = "box"


def restore(url: ViewState) -> None:
    """Set the grid from a shared link (at the start of a session)."""
    if url.grid is not None:
        st.session_state[N_KEY] = url.grid
    if url.box is not None:
        x0, x1, y0, y1 = url.box
        use_box([[x0, x1], [y0, y1]])


def link_fields() -> dict:
    """What a link needs to show this grid again (ViewState fields)."""
    out = {"grid": st.session_state.get(N_KEY)}
    box = st.session_state.get(session.REGION)
    if box and st.session_state.get(session.REGION_SOURCE) == "box":
        out["box"] = (*box[0], *box[1])
    return out


@st.cache_data(max_entries=16, show_spinner="Decoding the grid...")
def decoded_grid(_explorer: Explorer, key: str, region: tuple, n: int) -> np.ndarray:
    """uint8 image of n x n decodes over region ((x0, x1), (y0, y1)) of the map plane."""
    scale = max(1, round(840 / (28 * n)))  # about 840 px wide, whole-pixel tiles
    return image_grid(_explorer.grid_decodes(region, n), n, scale=scale)


@st.fragment
def manifold_fragment(explorer: Explorer, version: float, on_change: Callable[[], None]) -> None:
    st.markdown(
        "Decode an evenly spaced grid of latent points, the classic picture of what the model "
        "learned. Draw a box on the map (the box-select tool at the top right of the map) to decode that "
        "region instead."
    )
    c1, c2 = st.columns([1, 2])
    with c1:
        st.session_state.setdefault(N_KEY, 15)
        n = st.slider("Grid size N (N x N images)", MIN_N, MAX_N, key=N_KEY)
        box = st.session_state.get(session.REGION)
        sources = SOURCES if box else {"prior": SOURCES["prior"]}
        source = st.radio("Region", list(sources), format_func=sources.get, key=session.REGION_SOURCE)
        region = tuple(map(tuple, box)) if source == "box" and box else explorer.default_region()
        (x0, x1), (y0, y1) = region
        if source == "box":
            st.caption("Double-click the map to clear its selection shading.")
        st.caption(
            f"x from {x0:.2f} to {x1:.2f}, y from {y0:.2f} to {y1:.2f}"
            + (" (map plane through the data mean)" if explorer.d > 2 else "")
        )
    grid = decoded_grid(explorer, f"{explorer.name}:{version}", region, n)
    with c2:
        st.image(
            grid,
            caption=f"{n} x {n} decodes ({grid.shape[1]} x {grid.shape[0]} px); "
            f"top left is ({x0:.2f}, {y1:.2f})",
            output_format="PNG",
        )
        st.download_button("Download PNG", png_bytes(grid), f"manifold-{n}x{n}.png", "image/png", key="mf_dl")
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    bridge.map_layer("region", lines=[bridge.polyline(corners, PATH_COLOR, width=1.5, dash="2 3")])
    on_change()
