"""The explorer's views, one open at a time under the map (or beside it in the compact layout):
interpolation, the decoded grid, prior samples, encoding an image, Inside the VAE and the latent
traversals.

Runs as the fragment "view": a change in the open view reruns only it; a change of the current
point reruns it too when the view follows the point (``app.view.redraw``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import session
from app.explorer import Explorer
from app.panels import inside, interpolation, manifold, prior, traversals, upload
from app.view import View

VIEW_LABELS = {
    "interpolate": "Interpolate",
    "manifold": "Decoded grid",
    "prior": "Prior samples",
    "encode": "Encode an image",
    "inside": "Inside the VAE",
    "traverse": "Traversals",
}
SHORT_VIEW_LABELS = {
    "interpolate": "Interpolate",
    "manifold": "Grid",
    "prior": "Prior",
    "encode": "Encode",
    "inside": "Inside",
    "traverse": "Traverse",
}
INSIDE_SOURCES = {"test": "The clicked test image", "upload": "Your encoded image", "drawing": "Your drawing"}


def inside_ui(explorer: Explorer, view: View, compact: bool) -> None:
    """Inside the VAE for the clicked test image, the image encoded last or the lesson's drawing."""
    drawing = st.session_state.get(session.DRAWING)
    inputs = {
        "test": None
        if view.index is None
        else (explorer.images[view.index] / 255.0, f"Test image #{view.index}"),
        "upload": st.session_state.get(session.UPLOADED),
        "drawing": None if drawing is None else (drawing, "Your drawing"),
    }
    present = [k for k, v in inputs.items() if v is not None]
    st.markdown(
        "One image's trip through the model. The **encoder** turns it into **mu** (a centre on the map) "
        "and **sigma** (how unsure it is); the VAE draws random **epsilon** to pick points "
        "z = mu + sigma × epsilon near mu; the **decoder** turns points back into images; the loss adds "
        "how badly the image is rebuilt (reconstruction) to how far the encoder's cloud is from the "
        "prior (KL). The **Learn** part of the page explains each step."
    )
    if not present:
        st.info(
            "Click a test image on the map, or encode your own image, to follow it through the model.",
            icon=":material/ads_click:",
        )
        return
    source = view.inside_source if view.inside_source in present else present[0]
    if len(present) > 1:
        st.radio(
            "Image",
            present,
            format_func=INSIDE_SOURCES.get,
            horizontal=True,
            **session.bind("inside_source", "inside_source", to_widget=lambda _: source),
        )
    pixels, title = inputs[source]
    inside.inside_view(explorer, pixels, title, view.eps_seed, view.widen, compact)


@st.fragment(key="view")
def views_fragment(explorer: Explorer, key: str, compact: bool) -> None:
    """The view selector and the open view (``key``: the bundle's cache key, for cached grids)."""
    view = session.apply_events()
    labels = SHORT_VIEW_LABELS if compact else VIEW_LABELS  # short buttons fit a narrow column
    st.segmented_control(
        "View",
        list(VIEW_LABELS),
        format_func=labels.get,
        label_visibility="collapsed",
        **session.bind("view", "view"),
    )
    if view.view == "interpolate":
        interpolation.interpolation_ui(explorer, view)
    elif view.view == "manifold":
        manifold.manifold_ui(explorer, key, view)
    elif view.view == "prior":
        prior.prior_ui(explorer, key, view)
    elif view.view == "encode":
        upload.upload_ui(explorer, view)
    elif view.view == "traverse":
        traversals.traversals_ui(explorer, np.asarray(view.z), key="traversals", compact=compact, follow=True)
    else:
        inside_ui(explorer, view, compact)
    if session.in_fragment_run():
        session.write_link(view)
