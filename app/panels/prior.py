"""Random decodes of prior samples: what the model generates from scratch."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.resources import Explorer
from vae_core import latent
from vae_core.images import image_grid, png_bytes


def _new_samples() -> None:
    st.session_state["prior_seed"] = int(st.session_state.get("prior_seed", 0)) + 1


@st.cache_data(max_entries=16, show_spinner=False)
def sampled_grid(_ex: Explorer, key: str, n: int, seed: int) -> np.ndarray:
    ex = _ex
    z = latent.sample_prior(ex.bundle.prior, ex.d, n * n, seed)  # (n*n, d)
    return image_grid(ex.decode(z), n, scale=max(1, 560 // (28 * n)), gap=2)


@st.fragment
def prior_fragment(ex: Explorer, stamp: float) -> None:
    kind = "N(0, I)" if ex.bundle.prior is None else f"a mixture of {len(ex.bundle.prior.weights)} Gaussians"
    st.markdown(f"Draw random points from the model's prior, {kind}, and decode them.")
    c1, c2 = st.columns([1, 2])
    with c1:
        n = st.slider("Grid size", 2, 12, 8, key="prior_n")
        st.number_input("Seed", 0, 2**31 - 1, key="prior_seed")
        st.button("New samples", on_click=_new_samples, key="prior_new", type="primary")
    seed = int(st.session_state["prior_seed"])
    grid = sampled_grid(ex, ex.name + f":{stamp}", n, seed)
    with c2:
        st.image(grid, caption=f"{n * n} prior samples, seed {seed}", output_format="PNG")
        st.download_button("Download PNG", png_bytes(grid), f"prior-samples-seed{seed}.png", "image/png", key="prior_dl")
