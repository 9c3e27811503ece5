"""The decoded manifold: an N x N grid of decodes over a region of the map plane."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import overlay, session
from app.explorer import Explorer
from app.link import GRID_SIZES
from app.style import PATH_COLOR
from app.view import View
from vae_core.images import image_grid, png_bytes

MIN_N, MAX_N = GRID_SIZES
N_KEY = "mf_n"  # the grid size slider
REGION_KEY = "region_source"
SOURCES = {"prior": "Square around the prior (±2.5)", "box": "Box selected on the map"}
GRID_PX = 840  # about this wide, in whole-pixel tiles


@st.cache_data(max_entries=16, show_spinner="Decoding the grid...")
def decoded_grid(_explorer: Explorer, key: str, region: tuple, n: int) -> np.ndarray:
    """uint8 image of n x n decodes over region ((x0, x1), (y0, y1)) of the map plane."""
    width = _explorer.bundle.data.image_shape[1]
    return image_grid(_explorer.grid_decodes(region, n), n, scale=max(1, round(GRID_PX / (width * n))))


def manifold_ui(explorer: Explorer, key: str, view: View) -> None:
    st.markdown(
        "Decode an evenly spaced grid of latent points, the classic picture of what the model "
        "learned. Draw a box on the map (the box-select tool at the top right of the map) to decode that "
        "region instead."
    )
    c1, c2 = st.columns([1, 2])
    with c1:
        n = view.grid
        st.slider("Grid size N (N x N images)", MIN_N, MAX_N, **session.bind("grid", N_KEY))
        sources = SOURCES if view.box else {"prior": SOURCES["prior"]}
        source = view.region if view.region in sources else "prior"
        st.radio(
            "Region",
            list(sources),
            format_func=sources.get,
            **session.bind("region", REGION_KEY, to_widget=lambda _: source),
        )
        if source == "box":
            x0, x1, y0, y1 = view.box
            region = ((x0, x1), (y0, y1))
            st.caption("Double-click the map to clear its selection shading.")
        else:
            region = explorer.map.default_region()
        (x0, x1), (y0, y1) = region
        st.caption(
            f"x from {x0:.2f} to {x1:.2f}, y from {y0:.2f} to {y1:.2f}"
            + (" (map plane through the data mean)" if explorer.bundle.latent_dim > 2 else "")
        )
    grid = decoded_grid(explorer, key, region, n)
    with c2:
        st.image(
            grid,
            caption=f"{n} x {n} decodes ({grid.shape[1]} x {grid.shape[0]} px); "
            f"top left is ({x0:.2f}, {y1:.2f})",
            output_format="PNG",
            alt=f"A {n} by {n} grid of decodes over the map, x from {x0:.2f} to {x1:.2f} left to right, "
            f"y from {y1:.2f} to {y0:.2f} top to bottom",
        )
        st.download_button("Download PNG", png_bytes(grid), f"manifold-{n}x{n}.png", "image/png", key="mf_dl")
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    overlay.map_layer("region", lines=[overlay.polyline(corners, PATH_COLOR, width=1.5, dash="2 3")])
