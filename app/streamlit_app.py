"""Fashion-MNIST VAE latent-space explorer. Run from the repository root:

    streamlit run app/streamlit_app.py

Bundles are read from artifacts/ (or $VAE_ARTIFACTS). The app never trains or downloads.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # `streamlit run` puts app/ on sys.path, not the repo root
    sys.path.insert(0, str(_ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from app import session, state  # noqa: E402
from app.explorer import Explorer  # noqa: E402
from app.panels import compare, decoder, inside, interpolation, lesson, manifold, model_card, prior  # noqa: E402
from app.panels import map as map_panel  # noqa: E402
from app.resources import (  # noqa: E402
    TRAIN_COMMAND,
    artifacts_root,
    bundle_names,
    bundle_version,
    default_bundle_name,
    load_explorer,
)
from app.style import COMPACT_CSS, LESSON_CSS, PAGE_CSS  # noqa: E402
from app.text import literal, public_message  # noqa: E402

# An emoji icon becomes an inline data: image; a ":material/...:" one is fetched from a font host,
# and the demo makes no request outside its own origin.
PAGE_ICON = "👕"
VIEW_LABELS = {
    "interpolate": "Interpolate",
    "manifold": "Decoded grid",
    "prior": "Prior samples",
    "encode": "Encode an image",
    "inside": "Inside the VAE",
}
SHORT_VIEW_LABELS = {
    "interpolate": "Interpolate",
    "manifold": "Grid",
    "prior": "Prior",
    "encode": "Encode",
    "inside": "Inside",
}
MODE_LABELS = {"explore": "Explore", "learn": "Learn", "compare": "Compare"}


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


def bundle_selector_ui(root: Path, compact: bool = False) -> None:
    """A selector of the bundles in the artifacts folder (only when there are several)."""
    names = bundle_names(root)
    if len(names) > 1:
        st.selectbox(
            "Model bundle",
            names,
            key=session.BUNDLE,
            help="Bundles found in the artifacts folder.",
            label_visibility="collapsed" if compact else "visible",
        )
    else:
        st.caption(f"Model bundle: {literal(names[0])}")


def init_point(explorer: Explorer, url: state.ViewState) -> None:
    """Set the current point when a session starts or the bundle changes (from the link if valid)."""
    if st.session_state.get(session.BUNDLE_LOADED) == explorer.name:
        return
    first = session.BUNDLE_LOADED not in st.session_state
    kept = None if first else st.session_state.get(session.SELECTED)  # the same test set in every bundle
    for key in list(st.session_state):
        if key in session.PER_BUNDLE or key == decoder.EXTRA_DIMS_KEY:
            del st.session_state[key]
    st.session_state[session.BUNDLE_LOADED] = explorer.name
    n = explorer.n_images
    index = url.index if first and url.index is not None and url.index < n else None
    if first and url.index is not None and index is None:
        st.warning(
            f"Ignored the link's test image {url.index}: this bundle has {n} test images.",
            icon=":material/link:",
        )
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
    if not first and kept is not None and kept < n:
        index = kept
    if z is None:
        index = 0 if index is None else index
        z = explorer.test_point(index)
    decoder.set_point(explorer, z, index)


def apply_link(explorer: Explorer, url: state.ViewState) -> None:
    """Once per session: set each panel's controls from the link (the panels own their widgets)."""
    if st.session_state.get(session.LINK_APPLIED):
        return
    st.session_state[session.LINK_APPLIED] = True
    if url.compact:
        st.session_state[session.COMPACT] = True
    st.session_state[session.MODE] = url.mode or "explore"
    lesson.restore(url.step)
    if url.index is not None:
        st.session_state[session.LESSON_IMAGE] = url.index
    map_panel.restore(url, explorer.class_names)
    interpolation.restore(url, explorer.n_images)
    manifold.restore(url)
    prior.restore(url)


def mode() -> str:
    value = st.session_state.get(session.MODE)
    return value if value in state.MODES else "explore"


def keep_a_mode() -> None:
    """A click on the selected part deselects it: keep the part shown instead of showing none."""
    if st.session_state.get(session.MODE) is None:
        st.session_state[session.MODE] = st.session_state.get(session.SHOWN_MODE, "explore")


def sync_url() -> None:
    """Write the whole view into the query string (when changed): bundle, point, selected image,
    the open view and its settings, the map's display options; or the lesson's step, or the
    compared bundles."""
    if mode() == "learn":
        fields = {"bundle": st.session_state.get(session.BUNDLE), "mode": "learn", **lesson.link_fields()}
        _write_query(state.ViewState(**fields))
        return
    if mode() == "compare":
        link = compare.link_fields()
        fields = {
            "bundle": link.left,
            "mode": "compare",
            "vs": link.right,
            "index": link.index,
            "cz": link.point,
        }
        _write_query(state.ViewState(**fields))
        return
    view = st.session_state.get(session.VIEW)
    view = view if view in state.VIEWS else None
    fields = {
        "bundle": st.session_state.get(session.BUNDLE),
        "z": tuple(st.session_state[session.POINT]),
        "view": view,
        "index": st.session_state.get(session.SELECTED),
        "compact": bool(st.session_state.get(session.COMPACT)),
    }
    fields.update(st.session_state.get(session.MAP_LINK, {}))
    fields.update(
        {
            "interpolate": interpolation.link_fields,
            "manifold": manifold.link_fields,
            "prior": prior.link_fields,
        }.get(view, dict)()
    )
    _write_query(state.ViewState(**fields))


def _write_query(view: state.ViewState) -> None:
    params = state.format_query(view)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def after_point_drawn() -> None:
    """After the decoder panel ran: update the link; when only that panel reran (a click, a
    slider) and the interpolation ends at the current point, rerun the page so it follows."""
    sync_url()
    if not st.session_state.get(session.PAGE_RUN) and interpolation.is_stale():
        st.rerun()


def title_ui() -> bool:
    """The title, the part of the page (explore, learn, compare) and, when exploring, the layout
    switch; returns whether the compact layout is on."""
    if mode() == "explore":
        title, modes, switch = st.columns([7.2, 2.6, 1.3], vertical_alignment="center")
        with title, st.container(key="page_title"):
            st.title("Fashion-MNIST latent space explorer")
    else:  # the lesson and the comparison need the height of a 720-pixel screen: one short row
        st.markdown(LESSON_CSS, unsafe_allow_html=True)
        title, modes, switch = st.columns([2.4, 2.2, 4.4], vertical_alignment="center")
        title.markdown("**Fashion-MNIST latent space explorer**")
    st.session_state[session.SHOWN_MODE] = mode()
    with modes:
        st.segmented_control(
            "Part of the page",
            list(MODE_LABELS),
            format_func=MODE_LABELS.get,
            key=session.MODE,
            on_change=keep_a_mode,
            label_visibility="collapsed",
        )
    if mode() == "learn":
        with switch:
            lesson.nav_ui()
    if mode() != "explore":
        return False
    with switch, st.container(key="layout_switch"):
        return st.toggle(
            "Compact layout",
            key=session.COMPACT,
            help="Map, decoded image and the open view side by side on one screen (a projector, a laptop).",
        )


def intro_ui(explorer: Explorer, compact: bool) -> None:
    """What the page is, the headline metrics and, for d > 2, what the map shows."""
    if not compact:
        st.markdown(
            "A variational autoencoder squeezed each 28×28 Fashion-MNIST image into "
            f"**{explorer.d} numbers**. "
            "The map shows where the 10,000 test images land, coloured by class. **Click anywhere** on it "
            "to decode that spot, drag the **sliders** to walk the space, and use the views below to "
            "interpolate, decode a whole grid, sample from the prior or encode your own image. "
            "Hover a point to see its class and number; click a class in the legend to hide it. "
            "New to VAEs? **Learn** (at the top) shows how this one works, step by step."
        )
        model_card.metrics_row(explorer)
    if explorer.d > 2:
        ratio = explorer.projection.explained_variance_ratio
        text = (
            f"This model has {explorer.d} latent dimensions, so the map is a 2-D projection: the first "
            f"two principal components of z_mean ({ratio[0]:.0%} + {ratio[1]:.0%} of its variance). "
            "A click moves the current point within that plane and keeps its other components."
        )
        if compact:
            st.caption(text)
        else:
            st.info(text, icon=":material/explore:")


def open_view(view: str) -> None:
    """Switch the view selector to ``view`` (from a callback: before the selector is drawn)."""
    st.session_state[session.VIEW] = view


def view_ui(compact: bool) -> str | None:
    if session.VIEW not in st.session_state:
        url = st.session_state.get(session.URL_STATE)
        open_view((url.view if url and url.view else None) or "interpolate")
    labels = SHORT_VIEW_LABELS if compact else VIEW_LABELS  # four short buttons fit a narrow column
    return st.segmented_control(
        "View", list(VIEW_LABELS), format_func=labels.get, key=session.VIEW, label_visibility="collapsed"
    )


def views_ui(explorer: Explorer, version: float, compact: bool) -> None:
    """The view selector and the open view."""
    view = view_ui(compact)
    if view != "interpolate":
        interpolation.follow(None)
    if view == "interpolate":
        interpolation.interpolation_fragment(explorer, sync_url)
    elif view == "manifold":
        manifold.manifold_fragment(explorer, version, sync_url)
    elif view == "prior":
        prior.prior_fragment(explorer, version, sync_url)
    elif view == "encode":
        from app.panels.upload import upload_fragment

        upload_fragment(explorer)
    elif view == "inside":
        inside_fragment(explorer)


INSIDE_SOURCES = {"test": "The clicked test image", "upload": "Your encoded image", "drawing": "Your drawing"}


@st.fragment
def inside_fragment(explorer: Explorer) -> None:
    """Inside the VAE for the clicked test image, the image encoded last or the lesson's drawing."""
    index = st.session_state.get(session.SELECTED)
    inputs = {
        "test": None if index is None else (explorer.images[index] / 255.0, f"Test image #{index}"),
        "upload": st.session_state.get(session.UPLOADED),
        "drawing": None
        if st.session_state.get(session.DRAWING) is None
        else (st.session_state[session.DRAWING], "Your drawing"),
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
    if st.session_state.get(session.INSIDE_SOURCE) not in present:
        st.session_state[session.INSIDE_SOURCE] = present[0]
    if len(present) > 1:
        st.radio("Image", present, format_func=INSIDE_SOURCES.get, key=session.INSIDE_SOURCE, horizontal=True)
    pixels, title = inputs[st.session_state[session.INSIDE_SOURCE]]
    inside.inside_view(explorer, pixels, title, "explore")


def explore_point(explorer: Explorer, z: np.ndarray, index: int | None) -> None:
    """From the lesson: open the explorer at a point (a gap, an overlapping test image)."""
    decoder.set_point(explorer, z, index)
    st.session_state[session.MODE] = "explore"


def use_box(box: list[list[float]]) -> None:
    """A box drawn on the map: decode the grid over it, in the grid's view."""
    manifold.use_box(box)
    open_view("manifold")


def main() -> None:
    st.session_state[session.PAGE_RUN] = True
    try:
        page()
    finally:
        st.session_state[session.PAGE_RUN] = False


def page() -> None:
    st.set_page_config(
        page_title="VAE latent explorer",
        page_icon=PAGE_ICON,
        layout="wide",
        initial_sidebar_state="collapsed",
    )
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
    apply_link(explorer, url)
    compact = title_ui()
    if mode() == "learn":
        lesson.lesson_page(
            explorer,
            path.parent,
            bundle_names(path.parent),
            lambda p: load_explorer(str(p), bundle_version(p)),
            functools.partial(explore_point, explorer),
        )
        sync_url()
        return
    if mode() == "compare":
        url = st.session_state[session.URL_STATE]
        compare.compare_fragment(
            path.parent,
            bundle_names(path.parent),
            left=explorer.name,
            right=url.vs,
            index=url.index,
            on_change=sync_url,
            point=url.cz,
        )
        return
    if compact:
        st.markdown(COMPACT_CSS, unsafe_allow_html=True)
    with st.container(key="page_intro"):  # below the explorer on a phone (PAGE_CSS)
        intro_ui(explorer, compact)
    with st.container(key="explorer_row"):
        if compact:  # three columns: map | current point | the open view
            map_col, point_col, view_col = st.columns([5, 3, 4], gap="small")
        else:  # the view under the map, beside the (taller) current point column
            map_col, point_col = st.columns([3, 2], gap="medium")
            view_col = map_col
        with map_col:
            with st.container(key="map_controls"):
                c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
            with c1:
                bundle_selector_ui(path.parent, compact)
            with c2:
                options = map_panel.map_options_ui(explorer)
                st.session_state[session.MAP_LINK] = map_panel.link_fields(options)
            map_panel.map_ui(explorer, version, options, on_box=use_box)
        with point_col:
            decoder.explorer_fragment(explorer, list(options.classes), options.hover, after_point_drawn)
        with view_col, st.container(key="view_box"):
            views_ui(explorer, version, compact)
    model_card.model_card_ui(explorer)
    sync_url()


if __name__ == "__main__":
    main()
