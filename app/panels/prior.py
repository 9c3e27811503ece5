"""Random decodes of prior samples: what the model generates from scratch."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.explorer import Explorer
from vae_core.images import image_grid, png_bytes

SEED_KEY = "prior_seed"


def _new_samples() -> None:
    st.session_state[SEED_KEY] = int(st.session_state.get(SEED_KEY, 0)) + 1


@st.cache_data(max_entries=16, show_spinner=False)
def sampled_grid(_explorer: Explorer, key: str, n: int, seed: int) -> np.ndarray:
    return image_grid(_explorer.prior_decodes(n * n, seed), n, scale=max(1, 560 // (28 * n)), gap=2)


@st.fragment
def prior_fragment(explorer: Explorer, version: float) -> None:
    st.markdown(f"Draw random points from the model's prior, {explorer.prior_description}, and decode them.")
    c1, c2 = st.columns([1, 2])
    with c1:
        n = st.slider("Grid size", 2, 12, 8, key="prior_n")
        st.number_input("Seed", 0, 2**31 - 1, key=SEED_KEY)
        st.button("New samples", on_click=_new_samples, key="prior_new", type="primary")
    seed = int(st.session_state[SEED_KEY])
    grid = sampled_grid(explorer, f"{explorer.name}:{version}", n, seed)
    with c2:
        st.image(grid, caption=f"{n * n} prior samples, seed {seed}", output_format="PNG")
        st.download_button("Download PNG", png_bytes(grid), f"prior-samples-seed{seed}.png", "image/png", key="prior_dl")
