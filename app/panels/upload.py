"""Encode your own image (or any test image): where it lands, how sure the encoder is, and
whether the model finds it typical (its -ELBO against the test set's)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import bridge, session
from app.explorer import REFERENCE_IMAGES, Explorer, ImageError
from app.panels.decoder import coordinates_text, set_point
from app.style import UPLOAD_COLOR, class_chip
from app.text import literal
from vae_core.images import upscale

SOURCES = {"upload": "Upload an image", "test": "A test image by number"}


def ood_hint(share_below: float) -> str:
    if share_below >= 0.99:
        return (
            "very unusual for this model: it is probably not like the Fashion-MNIST garments "
            "(out of distribution)"
        )
    if share_below >= 0.9:
        return "on the unusual side: the model explains it worse than most test images"
    return "typical: the model explains it about as well as the test images"


def source_ui(explorer: Explorer) -> tuple[np.ndarray | None, str, int | None]:
    """The image to encode: (pixels (28, 28) float in [0, 1] or None, title, test label or None)."""
    source = st.radio("Image", list(SOURCES), format_func=SOURCES.get, key="enc_source", horizontal=True)
    if source == "test":
        i = int(st.number_input("Test image number", 0, explorer.n_images - 1, 0, key="enc_index"))
        return explorer.images[i] / 255.0, f"test image #{i}", int(explorer.labels[i])
    file = st.file_uploader(
        "A photo or drawing of one garment (PNG or JPEG)",
        type=["png", "jpg", "jpeg", "webp", "bmp", "gif"],
        key="enc_file",
    )
    if file is None:
        st.caption(
            "It is converted like the training data: grayscale, a light background inverted, "
            "centred and shrunk to 28 x 28 pixels."
        )
        return None, "", None
    try:
        prepared = explorer.prepare_upload(file.getvalue())
    except ImageError as e:
        st.error(f"Cannot use {literal(file.name)}: {e}.")
        return None, "", None
    for note in prepared.notes:
        st.caption(f"Note: {note}.")
    return prepared.pixels, file.name, None


def follow_inside(pixels: np.ndarray, title: str) -> None:
    """Open the Inside the VAE view on this image (a callback: before the view selector is drawn)."""
    st.session_state[session.UPLOADED] = (pixels, title)
    st.session_state[session.INSIDE_SOURCE] = "upload"
    st.session_state[session.VIEW] = "inside"


@st.fragment
def upload_fragment(explorer: Explorer) -> None:
    st.markdown("Encode an image to see where it lands on the map, with the encoder's uncertainty.")
    c1, c2 = st.columns([1, 2])
    with c1:
        pixels, title, label = source_ui(explorer)
    if pixels is None:
        bridge.map_layer("upload")
        return
    encoded = explorer.encode(pixels)
    with c2:
        i1, i2, i3 = st.columns(3)
        i1.image(upscale(pixels, 168), caption="As the model sees it (28 x 28)", output_format="PNG")
        i2.image(upscale(encoded.reconstruction, 168), caption="Reconstruction", output_format="PNG")
        with i3:
            if label is not None:
                st.markdown(f"True class: {class_chip(label)}", unsafe_allow_html=True)
            st.metric(
                "-ELBO (nats)",
                f"{encoded.neg_elbo:.1f}",
                help="Reconstruction error + KL; lower = more typical.",
            )
            st.caption(
                f"Higher than {encoded.share_below:.0%} of {REFERENCE_IMAGES} test images: "
                f"{ood_hint(encoded.share_below)}."
            )
        st.markdown(
            f"{coordinates_text(encoded.z_mean)} · "
            f"posterior std {coordinates_text(encoded.z_std).split('= ')[1]} · "
            f"reconstruction error {encoded.recon_nats:.1f} nats (BCE), MSE {encoded.mse:.4f}"
        )
        b1, b2 = st.columns(2)
        if b1.button("Make it the current point", key="enc_use"):
            set_point(explorer, encoded.z_mean, None)
            st.rerun()  # the whole page: the decoder panel and the marker follow
        shown = "Your upload" if label is None else title.capitalize()
        if b2.button(
            "Follow it inside the VAE",
            key="enc_inside",
            icon=":material/model_training:",
            on_click=follow_inside,
            args=(pixels, shown),
        ):
            st.rerun()  # the whole page: the view selector is outside this fragment
    name = title if label is None else explorer.class_names[label]
    bridge.map_layer(
        "upload",
        points=[bridge.point(encoded.xy[0], encoded.xy[1], UPLOAD_COLOR, 6, text=name[:24])],
        lines=[bridge.polyline(encoded.ellipse, UPLOAD_COLOR, closed=True, width=2, fill=UPLOAD_COLOR)],
    )
