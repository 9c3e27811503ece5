"""Random decodes of prior samples: what the model generates from scratch."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import session
from app.explorer import Explorer
from app.link import MAX_SEED, SAMPLE_SIZES
from app.view import Set, View
from vae_core.images import image_grid, png_bytes

SEED_KEY = "prior_seed"
N_KEY = "prior_n"  # the grid size slider
GRID_PX = 560  # drawn at least this wide and shown at the column's width: the grid keeps its size


@st.cache_data(max_entries=16, show_spinner=False)
def sampled_grid(_explorer: Explorer, key: str, n: int, seed: int) -> np.ndarray:
    width = _explorer.bundle.data.image_shape[1]
    return image_grid(
        _explorer.prior_decodes(n * n, seed), n, scale=max(1, -(-GRID_PX // (width * n))), gap=2
    )


def prior_ui(explorer: Explorer, key: str, view: View) -> None:
    st.markdown(
        f"Draw random points from the model's prior, {explorer.prior_description()}, and decode them."
    )
    c1, c2 = st.columns([1, 2])
    n, seed = view.samples, view.seed
    with c1:
        st.slider("Grid size", *SAMPLE_SIZES, **session.bind("samples", N_KEY))
        st.number_input("Seed", 0, MAX_SEED, **session.bind("seed", SEED_KEY))
        st.button(
            "New samples",
            key="prior_new",
            type="primary",
            **session.on_click(Set("seed", (seed + 1) % MAX_SEED)),
        )
    grid = sampled_grid(explorer, key, n, seed)
    with c2:
        st.image(
            grid,
            caption=f"{n * n} prior samples, seed {seed}",
            output_format="PNG",
            width="stretch",
            alt=f"A {n} by {n} grid of decodes of random draws from the prior (seed {seed})",
        )
        st.download_button(
            "Download PNG", png_bytes(grid), f"prior-samples-seed{seed}.png", "image/png", key="prior_dl"
        )
