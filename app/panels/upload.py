"""Encode your own image (or any test image): where it lands, how sure the encoder is, and
whether the model finds it typical (its -ELBO against the test set's)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import alt, overlay, session
from app.explorer import REFERENCE_IMAGES, Explorer
from app.panels.current_point import coordinates_text
from app.style import UPLOAD_COLOR, class_chip
from app.text import literal
from app.view import Chosen, Set, View
from vae_core.images import ImageError, prepare_upload, upscale

SOURCES = {"upload": "Upload an image", "test": "A test image by number"}


def ood_hint(share_below: float, data_name: str) -> str:
    if share_below >= 0.99:
        return (
            f"very unusual for this model: it is probably not like the {data_name} images "
            "(out of distribution)"
        )
    if share_below >= 0.9:
        return "on the unusual side: the model explains it worse than most test images"
    return "typical: the model explains it about as well as the test images"


@st.cache_data(max_entries=8, show_spinner=False)
def _prepared(data: bytes, shape: tuple[int, int, int], background: str, centre: bool):
    return prepare_upload(data, shape=shape, background=background, centre=centre)


def conversion_text(data) -> str:
    """What an upload goes through, for this bundle's data set."""
    h, w, c = data.image_shape
    colour = "grayscale" if c == 1 else "colour kept"
    invert = ", a light background inverted" if data.background == "dark" else ""
    fit = "centred and shrunk" if not data.own else "resized whole"
    return f"It is converted like the training data: {colour}{invert}, {fit} to the model's {h} x {w} pixels."


def source_ui(explorer: Explorer, view: View) -> tuple[np.ndarray | None, str, int | None]:
    """The image to encode: (pixels (H, W, C) float in [0, 1] or None, title, test label or None)."""
    st.radio(
        "Image",
        list(SOURCES),
        format_func=SOURCES.get,
        horizontal=True,
        **session.bind("encode_source", "enc_source"),
    )
    if view.encode_source == "test":
        n = len(explorer.bundle.labels)
        st.number_input("Test image number", 0, n - 1, **session.bind("encode_index", "enc_index"))
        i = min(view.encode_index, n - 1)
        return explorer.images[i] / 255.0, f"test image #{i}", int(explorer.bundle.labels[i])
    file = st.file_uploader(
        f"A photo or drawing like the {explorer.bundle.data.name} images (PNG or JPEG)",
        type=["png", "jpg", "jpeg", "webp", "bmp", "gif"],
        key="enc_file",
    )
    if file is None:
        st.caption(conversion_text(explorer.bundle.data))
        return None, "", None
    try:
        data = explorer.bundle.data
        # Fashion-MNIST's garments are centred; any other set's pictures are taken whole.
        prepared = _prepared(file.getvalue(), data.image_shape, data.background, not data.own)
    except ImageError as e:
        st.error(f"Cannot use {literal(file.name)}: {e}.")
        return None, "", None
    for note in prepared.notes:
        st.caption(f"Note: {note}.")
    return prepared.pixels, file.name, None


def _follow_inside(pixels: np.ndarray, title: str) -> None:
    """Open the Inside the VAE view on this image."""
    st.session_state[session.UPLOADED] = (pixels, title)
    session.record(Set("inside_source", "upload"), Set("view", "inside"))


def upload_ui(explorer: Explorer, view: View) -> None:
    st.markdown("Encode an image to see where it lands on the map, with the encoder's uncertainty.")
    c1, c2 = st.columns([1, 2])
    with c1:
        pixels, title, label = source_ui(explorer, view)
    if pixels is None:
        overlay.map_layer("upload")
        return
    trip = explorer.trip(pixels, samples=1)
    share = explorer.share_below(trip.neg_elbo)
    with c2:
        i1, i2, i3 = st.columns(3)
        h, w = explorer.bundle.data.image_shape[:2]
        i1.image(
            upscale(pixels, 168),
            caption=f"As the model sees it ({h} x {w})",
            output_format="PNG",
            alt=f"Your image as the model sees it, {h} by {w} pixels",
        )
        i2.image(
            upscale(trip.reconstruction, 168),
            caption="Reconstruction",
            output_format="PNG",
            alt=alt.decode_alt(explorer, trip.mu, "Its reconstruction"),
        )
        with i3:
            if label is not None and explorer.bundle.data.labelled:
                st.markdown(f"True class: {class_chip(label, explorer.class_names)}", unsafe_allow_html=True)
            st.metric(
                "-ELBO (nats)",
                f"{trip.neg_elbo:.1f}",
                help="Reconstruction error + KL; lower = more typical.",
            )
            st.caption(
                f"Higher than {share:.0%} of {REFERENCE_IMAGES} test images: "
                f"{ood_hint(share, explorer.bundle.data.name)}."
            )
        st.markdown(
            f"{coordinates_text(trip.mu)} · "
            f"posterior std {coordinates_text(trip.sigma).split('= ')[1]} · "
            f"reconstruction error {trip.recon_nats:.1f} nats (BCE), MSE {trip.mse:.4f}"
        )
        b1, b2 = st.columns(2)
        b1.button(
            "Make it the current point",
            key="enc_use",
            **session.on_click(Chosen(tuple(map(float, trip.mu)), None)),
        )
        shown = "Your upload" if label is None else title.capitalize()
        b2.button(
            "Follow it inside the VAE",
            key="enc_inside",
            icon=":material/model_training:",
            on_click=_follow_inside,
            args=(pixels, shown),
        )
    name = title if label is None or not explorer.bundle.data.labelled else explorer.class_names[label]
    xy = explorer.map.to_map(trip.mu)[0]
    ellipse = explorer.map.ellipse(trip.mu, trip.log_var)
    overlay.map_layer(
        "upload",
        points=[overlay.point(xy[0], xy[1], UPLOAD_COLOR, 6, text=name[:24])],
        lines=[overlay.polyline(ellipse, UPLOAD_COLOR, closed=True, width=2, fill=UPLOAD_COLOR)],
    )
