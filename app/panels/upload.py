"""Encode your own image (or any test image): where it lands, how sure the encoder is, and
whether the model finds it typical (its -ELBO against the test set's)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import bridge
from app.panels.decoder import coordinates_text, set_point
from app.resources import Explorer
from app.style import UPLOAD_COLOR, class_chip
from app.text import literal
from vae_core import latent
from vae_core.data import CLASS_NAMES
from vae_core.images import ImageError, prepare_upload, upscale

ELBO_SAMPLE = 1000  # test images whose -ELBO forms the reference distribution
SOURCES = {"upload": "Upload an image", "test": "A test image by number"}


def neg_elbo(ex: Explorer, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image reconstruction NLL and KL in nats of images (n, 28, 28) in [0, 1]."""
    from vae_core.evaluate import elbo_terms

    x = np.asarray(pixels, dtype=np.float32).reshape(-1, 28, 28, 1)
    return elbo_terms(ex.bundle.encoder, ex.bundle.decoder, x, ex.bundle.prior, seed=0)


def reference_elbo(ex: Explorer) -> np.ndarray:
    """-ELBO (nats) of the first ELBO_SAMPLE test images: computed once per bundle."""
    if "neg_elbo_test" not in ex.cache:
        recon, kl = neg_elbo(ex, ex.images[:ELBO_SAMPLE] / 255.0)
        ex.cache["neg_elbo_test"] = recon + kl
    return ex.cache["neg_elbo_test"]


def ood_hint(share_below: float) -> str:
    if share_below >= 0.99:
        return "very unusual for this model: it is probably not like the Fashion-MNIST garments (out of distribution)"
    if share_below >= 0.9:
        return "on the unusual side: the model explains it worse than most test images"
    return "typical: the model explains it about as well as the test images"


def source_ui(ex: Explorer) -> tuple[np.ndarray | None, str, int | None]:
    """The image to encode: (pixels (28, 28) float in [0, 1] or None, title, test label or None)."""
    source = st.radio("Image", list(SOURCES), format_func=SOURCES.get, key="enc_source", horizontal=True)
    if source == "test":
        n = len(ex.bundle.labels)
        i = int(st.number_input("Test image number", 0, n - 1, 0, key="enc_index"))
        return ex.images[i] / 255.0, f"test image #{i}", int(ex.bundle.labels[i])
    file = st.file_uploader(
        "A photo or drawing of one garment (PNG or JPEG)", type=["png", "jpg", "jpeg", "webp", "bmp", "gif"],
        key="enc_file",
    )
    if file is None:
        st.caption("It is converted like the training data: grayscale, a light background inverted, "
                   "centred and shrunk to 28 x 28 pixels.")
        return None, "", None
    try:
        prepared = prepare_upload(file.getvalue())
    except ImageError as e:
        st.error(f"Cannot use {literal(file.name)}: {e}.")
        return None, "", None
    for note in prepared.notes:
        st.caption(f"Note: {note}.")
    return prepared.pixels, file.name, None


@st.fragment
def upload_fragment(ex: Explorer) -> None:
    st.markdown("Encode an image to see where it lands on the map, with the encoder's uncertainty.")
    c1, c2 = st.columns([1, 2])
    with c1:
        pixels, title, label = source_ui(ex)
    if pixels is None:
        bridge.map_layer("upload")
        return
    z_mean, z_log_var = (np.asarray(a, dtype=np.float64)[0] for a in ex.bundle.encode(pixels[None]))
    recon = ex.decode(z_mean)[0]
    rec_nll, kl = neg_elbo(ex, pixels[None])
    score = float(rec_nll[0] + kl[0])
    below = latent.percentile_of(score, reference_elbo(ex))
    with c2:
        i1, i2, i3 = st.columns(3)
        i1.image(upscale(pixels, 168), caption="As the model sees it (28 x 28)", output_format="PNG")
        i2.image(upscale(recon, 168), caption="Reconstruction", output_format="PNG")
        with i3:
            if label is not None:
                st.markdown(f"True class: {class_chip(label)}", unsafe_allow_html=True)
            st.metric("-ELBO (nats)", f"{score:.1f}", help="Reconstruction error + KL; lower = more typical.")
            st.caption(f"Higher than {below:.0%} of {ELBO_SAMPLE} test images: {ood_hint(below)}.")
        mse = float(np.mean((recon - pixels) ** 2))
        std = np.exp(0.5 * z_log_var)
        st.markdown(
            f"{coordinates_text(z_mean)} · posterior std {coordinates_text(std).split('= ')[1]} · "
            f"reconstruction error {float(rec_nll[0]):.1f} nats (BCE), MSE {mse:.4f}"
        )
        if st.button("Make it the current point", key="enc_use"):
            set_point(ex, z_mean, None)
            st.rerun()  # the whole page: the decoder panel and the marker follow
    xy = ex.to_map(z_mean)[0]
    ellipse = latent.posterior_ellipse(ex.projection, z_mean, z_log_var)
    name = title if label is None else CLASS_NAMES[label]
    bridge.map_layer(
        "upload",
        points=[bridge.point(xy[0], xy[1], UPLOAD_COLOR, 6, text=name[:24])],
        lines=[bridge.polyline(ellipse, UPLOAD_COLOR, closed=True, width=2, fill=UPLOAD_COLOR)],
    )
