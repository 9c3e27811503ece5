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

from app import state  # noqa: E402
from app.panels import decoder, map as map_panel, model_card  # noqa: E402
from app.resources import TRAIN_COMMAND, Explorer, artifacts_root, default_bundle_name, load_explorer, manifest_stamp  # noqa: E402
from app.style import PAGE_CSS  # noqa: E402
from app.text import literal, public_message  # noqa: E402

VIEW_LABELS = {
    "interpolate": "Interpolate",
    "manifold": "Decoded grid",
    "prior": "Prior samples",
    "encode": "Encode an image",
}
SESSION_KEYS = ("z", "sel", "region", "region_source", "extra_dims")


def url_state_ui() -> state.ViewState:
    """The link's state, parsed once per session; malformed values get a visible notice."""
    if "url_state" not in st.session_state:
        parsed, notices = state.parse_query(st.query_params.to_dict())
        st.session_state["url_state"] = parsed
        st.session_state["url_notices"] = notices
    for notice in st.session_state.get("url_notices", []):
        st.warning(notice, icon=":material/link:")
    return st.session_state["url_state"]


def bundle_ui(url: state.ViewState) -> Path | None:
    """Find the bundles; a selector when there are several. None (with an error) when none."""
    from vae_core.bundle import list_bundles

    root = artifacts_root()
    paths = list_bundles(root)
    if not paths:
        st.error(
            f"No model bundle found in `{public_message(root, root)}/`. Train one (about 15 minutes on 2 CPU cores):\n\n"
            f"`{TRAIN_COMMAND}`\n\nor point the app at a folder of bundles with "
            "`VAE_ARTIFACTS=/path/to/artifacts streamlit run app/streamlit_app.py`."
        )
        return None
    names = [p.name for p in paths]
    if "bundle" not in st.session_state:
        wanted = url.bundle
        if wanted is not None and wanted not in names:
            st.session_state.setdefault("url_notices", []).append(
                f"Ignored the link's `bundle` value {literal(state.shorten(wanted))}: there is no bundle of that name."
            )
            st.warning(st.session_state["url_notices"][-1], icon=":material/link:")
            wanted = None
        st.session_state["bundle"] = wanted or default_bundle_name(names)
    if st.session_state["bundle"] not in names:
        st.session_state["bundle"] = default_bundle_name(names)
    return root / st.session_state["bundle"]


def bundle_selector_ui(root: Path) -> None:
    """A selector of the bundles in the artifacts folder (only when there are several)."""
    from vae_core.bundle import list_bundles

    names = [p.name for p in list_bundles(root)]
    if len(names) > 1:
        st.selectbox("Model bundle", names, key="bundle", help="Bundles found in the artifacts folder.")
    else:
        st.caption(f"Model bundle: {literal(names[0])}")


def init_point(ex: Explorer, url: state.ViewState) -> None:
    """Set the current point when a session starts or the bundle changes (from the link if valid)."""
    if st.session_state.get("bundle_loaded") == ex.name:
        return
    first = "bundle_loaded" not in st.session_state
    for key in list(st.session_state):
        if key in SESSION_KEYS or key.startswith(("dim", "pc")):
            del st.session_state[key]
    st.session_state["bundle_loaded"] = ex.name
    n = len(ex.bundle.labels)
    index = url.index if first and url.index is not None and url.index < n else None
    if first and url.index is not None and index is None:
        st.warning(f"Ignored the link's test image {url.index}: this bundle has {n} test images.", icon=":material/link:")
    z = None
    if first and url.z is not None:
        if len(url.z) == ex.d:
            z = np.asarray(url.z)
        else:
            st.warning(
                f"Ignored the link's point: it has {len(url.z)} coordinates but {literal(ex.name)} has {ex.d} dimensions.",
                icon=":material/link:",
            )
    if z is None:
        index = 0 if index is None else index
        z = ex.bundle.z_mean[index]
    decoder.set_point(ex, z, index)


def sync_url() -> None:
    """Write bundle, point, view and selected image into the query string (when changed)."""
    view = st.session_state.get("view")
    current = state.ViewState(
        bundle=st.session_state.get("bundle"),
        z=tuple(st.session_state["z"]),
        view=view if view in state.VIEWS else None,
        index=st.session_state.get("sel"),
    )
    params = state.format_query(current)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def header_ui(ex: Explorer) -> None:
    st.title("Fashion-MNIST latent space explorer")
    st.markdown(
        f"A variational autoencoder squeezed each 28×28 Fashion-MNIST image into **{ex.d} numbers**. "
        "The map shows where the 10,000 test images land, coloured by class. **Click anywhere** on it "
        "to decode that spot, drag the **sliders** to walk the space, and use the views below to "
        "interpolate, decode a whole grid, sample from the prior or encode your own image. "
        "Hover a point to see its class and number; click a class in the legend to hide it."
    )
    model_card.metrics_row(ex)
    if ex.d > 2:
        ratio = ex.projection.explained_variance_ratio
        st.info(
            f"This model has {ex.d} latent dimensions, so the map is a 2-D projection: the first two "
            f"principal components of z_mean ({ratio[0]:.0%} + {ratio[1]:.0%} of its variance). "
            "A click moves the current point within that plane and keeps its other components.",
            icon=":material/explore:",
        )


def view_ui() -> str | None:
    if "view" not in st.session_state:
        url = st.session_state.get("url_state")
        st.session_state["view"] = (url.view if url and url.view else None) or "interpolate"
    return st.segmented_control(
        "View", list(VIEW_LABELS), format_func=VIEW_LABELS.get, key="view", label_visibility="collapsed"
    )


def main() -> None:
    st.set_page_config(page_title="VAE latent explorer", page_icon=":material/checkroom:", layout="wide", initial_sidebar_state="collapsed")
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    url = url_state_ui()
    path = bundle_ui(url)
    if path is None:
        return
    from vae_core.bundle import BundleError

    try:
        ex = load_explorer(str(path), manifest_stamp(path))
    except BundleError as e:
        st.error(f"The bundle {literal(path.name)} cannot be used:\n\n{literal(public_message(e, path.parent), 2000)}")
        bundle_selector_ui(path.parent)  # the other bundles stay one choice away
        return
    stamp = manifest_stamp(path)
    init_point(ex, url)
    header_ui(ex)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        with c1:
            bundle_selector_ui(path.parent)
        with c2:
            options = map_panel.map_options_ui(ex)
    with left:
        map_panel.map_ui(ex, stamp, *options)
    with right:
        decoder.explorer_fragment(ex, sync_url)
    view = view_ui()
    if view == "interpolate":
        from app.panels.interpolation import interpolation_fragment

        interpolation_fragment(ex)
    elif view == "manifold":
        from app.panels.manifold import manifold_fragment

        manifold_fragment(ex, stamp)
    elif view == "prior":
        from app.panels.prior import prior_fragment

        prior_fragment(ex, stamp)
    elif view == "encode":
        from app.panels.upload import upload_fragment

        upload_fragment(ex)
    model_card.model_card_ui(ex)
    sync_url()


if __name__ == "__main__":
    main()
