"""Random decodes of prior samples: what the model generates from scratch."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from app.explorer import Explorer
from app.state import MAX_SEED, SAMPLE_SIZES, ViewState
from vae_core.images import image_grid, png_bytes

SEED_KEY = "prior_seed"
N_KEY = "prior_n"  # the grid size slider


def _new_samples() -> None:
    st.session_state[SEED_KEY] = int(st.session_state.get(SEED_KEY, 0)) + 1


def restore(url: ViewState) -> None:
    """Set the samples from a shared link (at the start of a session)."""
    if url.samples is not None:
        st.session_state[N_KEY] = url.samples
    if url.seed is not None:
        st.session_state[SEED_KEY] = url.seed


def link_fields() -> dict:
    """What a link needs to show these samples again (ViewState fields)."""
    return {"samples": st.session_state.get(N_KEY), "seed": st.session_state.get(SEED_KEY)}


@st.cache_data(max_entries=16, show_spinner=False)
def sampled_grid(_explorer: Explorer, key: str, n: int, seed: int) -> np.ndarray:
    # Drawn at least 560 px wide and shown at the column's width: the grid keeps its size as n grows.
    return image_grid(_explorer.prior_decodes(n * n, seed), n, scale=max(1, -(-560 // (28 * n))), gap=2)


@st.fragment
def prior_fragment(explorer: Explorer, version: float, on_change: Callable[[], None]) -> None:
    st.markdown(f"Draw random points from the model's prior, {explorer.prior_description}, and decode them.")
    c1, c2 = st.columns([1, 2])
    with c1:
        st.session_state.setdefault(N_KEY, 8)
        n = st.slider("Grid size", *SAMPLE_SIZES, key=N_KEY)
        st.number_input("Seed", 0, MAX_SEED, key=SEED_KEY)
        st.button("New samples", on_click=_new_samples, key="prior_new", type="primary")
    seed = int(st.session_state[SEED_KEY])
    grid = sampled_grid(explorer, f"{explorer.name}:{version}", n, seed)
    with c2:
        st.image(grid, caption=f"{n * n} prior samples, seed {seed}", output_format="PNG", width="stretch")
        st.download_button(
            "Download PNG", png_bytes(grid), f"prior-samples-seed{seed}.png", "image/png", key="prior_dl"
        )
    on_change()
