"""Fashion-MNIST VAE latent-space explorer. Run from the repository root:

    streamlit run app/streamlit_app.py

Bundles are read from artifacts/ (or $VAE_ARTIFACTS). The app never trains or downloads.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # `streamlit run` puts app/ on sys.path, not the repo root
    sys.path.insert(0, str(_ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from app import session, state  # noqa: E402
from app.explorer import Explorer  # noqa: E402
from app.panels import decoder, manifold, map as map_panel, model_card  # noqa: E402
from app.resources import (  # noqa: E402
    TRAIN_COMMAND, artifacts_root, bundle_names, bundle_version, default_bundle_name, load_explorer,
)
from app.style import PAGE_CSS  # noqa: E402
from app.text import literal, public_message  # noqa: E402

VIEW_LABELS = {
    "interpolate": "Interpolate",
    "manifold": "Decoded grid",
    "prior": "Prior samples",
    "encode": "Encode an image",
}


def url_state_ui() -> state.ViewState:
    """The link's state, parsed once per session; malformed values get a visible notice."""
    if session.URL_STATE not in st.session_state:
        parsed, notices = state.parse_query(st.query_params.to_dict())
        st.session_state[session.URL_STATE] = parsed
        st.session_state[session.URL_NOTICES] = notices
    for notice in st.session_state.get(session.URL_NOTICES, []):
        st.warning(notice, icon=":material/link:")
    return st.session_state[session.URL_STATE]


def bundle_ui(url: state.ViewState) -> Path | None:
    """Find the bundles; a selector when there are several. None (with an error) when none."""
    root = artifacts_root()
    names = bundle_names(root)
    if not names:
        st.error(
            f"No model bundle found in `{public_message(root, root)}/`. "
            "Train one (about 15 minutes on 2 CPU cores):\n\n"
            f"`{TRAIN_COMMAND}`\n\nor point the app at a folder of bundles with "
            "`VAE_ARTIFACTS=/path/to/artifacts streamlit run app/streamlit_app.py`."
        )
        return None
    if session.BUNDLE not in st.session_state:
        wanted = url.bundle
        if wanted is not None and wanted not in names:
            st.session_state.setdefault(session.URL_NOTICES, []).append(
                f"Ignored the link's `bundle` value {literal(state.shorten(wanted))}: "
                "there is no bundle of that name."
            )
            st.warning(st.session_state[session.URL_NOTICES][-1], icon=":material/link:")
            wanted = None
        st.session_state[session.BUNDLE] = wanted or default_bundle_name(names)
    if st.session_state[session.BUNDLE] not in names:
        st.session_state[session.BUNDLE] = default_bundle_name(names)
    return root / st.session_state[session.BUNDLE]


def bundle_selector_ui(root: Path) -> None:
    """A selector of the bundles in the artifacts folder (only when there are several)."""
    names = bundle_names(root)
    if len(names) > 1:
        st.selectbox("Model bundle", names, key=session.BUNDLE, help="Bundles found in the artifacts folder.")
    else:
        st.caption(f"Model bundle: {literal(names[0])}")


def init_point(explorer: Explorer, url: state.ViewState) -> None:
    """Set the current point when a session starts or the bundle changes (from the link if valid)."""
    if st.session_state.get(session.BUNDLE_LOADED) == explorer.name:
        return
    first = session.BUNDLE_LOADED not in st.session_state
    for key in list(st.session_state):
        if key in session.PER_BUNDLE or key == decoder.EXTRA_DIMS_KEY:
            del st.session_state[key]
    st.session_state[session.BUNDLE_LOADED] = explorer.name
    n = explorer.n_images
    index = url.index if first and url.index is not None and url.index < n else None
    if first and url.index is not None and index is None:
        st.warning(f"Ignored the link's test image {url.index}: this bundle has {n} test images.", icon=":material/link:")
    z = None
    if first and url.z is not None:
        if len(url.z) == explorer.d:
            z = np.asarray(url.z)
        else:
            st.warning(
                f"Ignored the link's point: it has {len(url.z)} coordinates but {literal(explorer.name)} has "
                f"{explorer.d} dimensions.",
                icon=":material/link:",
            )
    if z is None:
        index = 0 if index is None else index
        z = explorer.test_point(index)
    decoder.set_point(explorer, z, index)


def sync_url() -> None:
    """Write bundle, point, view and selected image into the query string (when changed)."""
    view = st.session_state.get(session.VIEW)
    current = state.ViewState(
        bundle=st.session_state.get(session.BUNDLE),
        z=tuple(st.session_state[session.POINT]),
        view=view if view in state.VIEWS else None,
        index=st.session_state.get(session.SELECTED),
    )
    params = state.format_query(current)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def header_ui(explorer: Explorer) -> None:
    st.title("Fashion-MNIST latent space explorer")
    st.markdown(
        f"A variational autoencoder squeezed each 28×28 Fashion-MNIST image into **{explorer.d} numbers**. "
        "The map shows where the 10,000 test images land, coloured by class. **Click anywhere** on it "
        "to decode that spot, drag the **sliders** to walk the space, and use the views below to "
        "interpolate, decode a whole grid, sample from the prior or encode your own image. "
        "Hover a point to see its class and number; click a class in the legend to hide it."
    )
    model_card.metrics_row(explorer)
    if explorer.d > 2:
        ratio = explorer.projection.explained_variance_ratio
        st.info(
            f"This model has {explorer.d} latent dimensions, so the map is a 2-D projection: the first two "
            f"principal components of z_mean ({ratio[0]:.0%} + {ratio[1]:.0%} of its variance). "
            "A click moves the current point within that plane and keeps its other components.",
            icon=":material/explore:",
        )


def open_view(view: str) -> None:
    """Switch the view selector to ``view`` (from a callback: before the selector is drawn)."""
    st.session_state[session.VIEW] = view


def view_ui() -> str | None:
    if session.VIEW not in st.session_state:
        url = st.session_state.get(session.URL_STATE)
        open_view((url.view if url and url.view else None) or "interpolate")
    return st.segmented_control(
        "View", list(VIEW_LABELS), format_func=VIEW_LABELS.get, key=session.VIEW, label_visibility="collapsed"
    )


def use_box(box: list[list[float]]) -> None:
    """A box drawn on the map: decode the grid over it, in the grid's view."""
    manifold.use_box(box)
    open_view("manifold")


def main() -> None:
    st.set_page_config(page_title="VAE latent explorer", page_icon=":material/checkroom:", layout="wide", initial_sidebar_state="collapsed")
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    url = url_state_ui()
    path = bundle_ui(url)
    if path is None:
        return
    from vae_core.bundle import BundleError

    version = bundle_version(path)
    try:
        explorer = load_explorer(str(path), version)
    except BundleError as e:
        details = literal(public_message(e, path.parent), 2000)  # no server path, no Markdown
        st.error(f"The bundle {literal(path.name)} cannot be used:\n\n{details}")
        bundle_selector_ui(path.parent)  # the other bundles stay one choice away
        return
    init_point(explorer, url)
    header_ui(explorer)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        with c1:
            bundle_selector_ui(path.parent)
        with c2:
            options = map_panel.map_options_ui(explorer)
        map_panel.map_ui(explorer, version, options, on_box=use_box)
    with right:
        decoder.explorer_fragment(explorer, list(options.classes), options.hover, sync_url)
    view = view_ui()
    if view == "interpolate":
        from app.panels.interpolation import interpolation_fragment

        interpolation_fragment(explorer)
    elif view == "manifold":
        manifold.manifold_fragment(explorer, version)
    elif view == "prior":
        from app.panels.prior import prior_fragment

        prior_fragment(explorer, version)
    elif view == "encode":
        from app.panels.upload import upload_fragment

        upload_fragment(explorer)
    model_card.model_card_ui(explorer)
    sync_url()


if __name__ == "__main__":
    main()
