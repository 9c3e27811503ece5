"""VAE latent-space explorer. Run from the repository root:

    streamlit run app/streamlit_app.py

Bundles are read from artifacts/ (or $VAE_ARTIFACTS). The app never trains or downloads.

Each run: the view (``app.view``) takes the events callbacks recorded, the page loads the view's
bundle and fits the view to it, draws the part of the page the view shows, and writes the link.
The way between Explore and Learn or Compare runs only the fragment "page" (``page_fragment``):
the explorer stays on the page, hidden, and comes back as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # `streamlit run` puts app/ on sys.path, not the repo root
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from app import glossary, link, session, streamlit_guards  # noqa: E402
from app.explorer import Explorer  # noqa: E402
from app.panels import compare, current_point, lesson, model_card, views  # noqa: E402
from app.panels import map as map_panel  # noqa: E402
from app.resources import (  # noqa: E402
    TRAIN_COMMAND,
    artifacts_root,
    bundle_names,
    bundle_version,
    data_sets,
    default_bundle_name,
    load_explorer,
    preload_in_background,
)
from app.style import COMPACT_CSS, LESSON_CSS, PAGE_CSS  # noqa: E402
from app.text import escape_markdown, literal, public_message  # noqa: E402
from app.view import LinkOpened, Listed, Loaded, View  # noqa: E402
from vae_core.manifest import BundleError  # noqa: E402

# An emoji icon becomes an inline data: image; a ":material/...:" one is fetched from a font host,
# and the demo makes no request outside its own origin.
PAGE_ICON = "🧭"
MODE_LABELS = {"explore": "Explore", "learn": "Learn", "compare": "Compare"}


def explorer_at(path: Path) -> Explorer:
    """The (shared) Explorer of the bundle at ``path``; raises BundleError."""
    return load_explorer(str(path), bundle_version(path))


def open_view(names: list[str]) -> View:
    """The view for this run: the link's on a session's first run, then the events callbacks recorded,
    fitted to the bundles there are."""
    if session.VIEW not in st.session_state:
        parsed, notices = link.parse_query(st.query_params.to_dict())
        session.apply(LinkOpened(parsed, tuple(notices)))
    session.apply_events()
    return session.apply(Listed(tuple(names), default_bundle_name(names)))


def notices_ui(view: View) -> None:
    """Why values of the link were ignored (shown for the whole visit)."""
    for notice in view.notices:
        st.warning(notice, icon=":material/link:")


def no_bundle_ui(root: Path) -> None:
    st.error(
        f"No model bundle found in `{public_message(root, root)}/`. "
        "Train one (about 15 minutes on 2 CPU cores):\n\n"
        f"`{TRAIN_COMMAND}`\n\nor point the app at a folder of bundles with "
        "`VAE_ARTIFACTS=/path/to/artifacts streamlit run app/streamlit_app.py`."
    )


def bundle_selector_ui(root: Path, names: list[str], compact: bool = False) -> None:
    """A selector of the bundles in the artifacts folder (only when there are several), grouped by
    data set when they are of more than one."""
    if len(names) > 1:
        data = data_sets(root, names)
        several = len(set(data.values())) > 1
        st.selectbox(
            "Model bundle",
            sorted(names, key=lambda n: (data[n], n)) if several else names,
            format_func=(lambda n: f"{data[n]} · {n}") if several else str,
            help="Bundles found in the artifacts folder" + (", by data set." if several else "."),
            label_visibility="collapsed" if compact else "visible",
            **session.bind("bundle", "bundle"),
        )
    else:
        st.caption(f"Model bundle: {literal(names[0])}")


def title_ui(view: View, explorer: Explorer) -> None:
    """The title, the part of the page (explore, learn, compare) and, when exploring, the layout switch."""
    data = explorer.bundle.data.name
    if view.mode == "explore":
        title, modes, switch = st.columns([6.2, 4.0, 1.8], vertical_alignment="center")
        with title, st.container(key="page_title"):
            st.title(f"{escape_markdown(data, 60)} latent space explorer", anchor=False)
    else:  # the lesson and the comparison need the height of a 720-pixel screen: one short row
        title, modes, switch = st.columns([1.9, 3.5, 4.6], vertical_alignment="center")
        title.markdown(f"**{escape_markdown(data, 60)} latent space explorer**")
    with modes, st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.segmented_control(
            "Part of the page",
            list(MODE_LABELS),
            format_func=MODE_LABELS.get,
            label_visibility="collapsed",
            **session.bind("mode", "mode"),
        )
        glossary.glossary_ui()
    if view.mode == "learn":
        with switch:
            lesson.nav_ui(view)
    elif view.mode == "explore":
        with switch, st.container(key="layout_switch"):
            st.toggle(
                "Compact layout",
                help="Map, decoded image and the open view side by side on one screen "
                "(a projector, a laptop).",
                **session.bind("compact", "compact"),
            )


def intro_ui(explorer: Explorer, compact: bool, colour: str = "", scene: bool = False) -> None:
    """What the page is, the headline metrics and, for d > 2, what the map shows."""
    d, data = explorer.bundle.latent_dim, explorer.bundle.data
    h, w, c = data.image_shape
    if not compact:
        coloured = " coloured by class," if data.labelled else ""
        if colour:
            coloured = f" coloured by their {escape_markdown(colour)} (the map's legend or colour bar),"
        click = (
            "**Click a point** on it to decode its code"  # a 3-D scene picks points, not places
            if scene
            else "**Click anywhere** on it to decode that spot"
        )
        st.markdown(
            f"A variational autoencoder squeezed each {h}×{w} image of {escape_markdown(data.name, 60)} into "
            f"**{d} numbers**. "
            f"The map shows where the {len(explorer.bundle.labels):,} test images land,{coloured} "
            f"{click}, drag the **sliders** to walk the space, and use the views below to interpolate, "
            "decode a whole grid, sample from the prior, encode your own image or move one dimension at a "
            "time (traversals). Hover a point to see its number; click a class in the legend to hide it. "
            "New to VAEs? **Learn** (at the top) shows how this one works, step by step."
        )
        model_card.metrics_row(explorer)
    if scene:
        text = (
            f"This model has {d} latent dimensions, and the map shows all three: drag it to turn the "
            "scene, click a point to pick its image. The diamond is the current point; the sliders move "
            "it. Map display → 3-D map switches to the flat map of its first two principal components."
        )
        if compact:
            st.caption(text)
        else:
            st.info(text, icon=":material/3d_rotation:")
    elif d > 2:
        ratio = explorer.map.projection.explained_variance_ratio
        text = (
            f"This model has {d} latent dimensions, so the map is a 2-D projection: the two directions "
            f"along which the codes (z_mean) spread most, their first two principal components "
            f"({ratio[0]:.0%} + {ratio[1]:.0%} of their variance). "
            "A click moves the current point within that plane and keeps its other components."
        )
        if compact:
            st.caption(text)
        else:
            st.info(text, icon=":material/explore:")


@st.fragment(key="page")
def page_fragment(explorer: Explorer, root: Path, names: list[str]) -> None:
    """The title row and, off Explore, the lesson or the comparison: the fragment "page".

    Going from Explore to Learn or Compare and back runs only this fragment. The explorer's
    elements stay on the page, hidden while the lesson or the comparison shows (LESSON_CSS), so coming
    back draws nothing again; ``app.view.redraw`` says when the explorer must be drawn anew.

    Learn and Compare have a slot each: Streamlit gives a new container the children of the
    container it replaces and draws them (greyed) until the run ends, so with one slot the way
    from Compare to Learn would draw Compare's two maps again, only to drop them."""
    view = session.apply_events()
    title_ui(view, explorer)
    for part in ("learn", "compare"):
        if part != view.mode:
            st.empty()
            continue
        with st.container(key=f"{part}_page"):
            st.markdown(LESSON_CSS, unsafe_allow_html=True)  # hides the explorer
            if part == "learn":
                lesson.lesson_page(explorer, view, root, names, explorer_at)
            else:
                compare.compare_fragment(root, names, explorer)
    if session.in_fragment_run():
        session.write_link(session.current())


def explore_page(explorer: Explorer, view: View, key: str, root: Path, names: list[str]) -> None:
    compact = view.compact
    if compact:
        st.markdown(COMPACT_CSS, unsafe_allow_html=True)
    with st.container(key="page_intro"):  # below the explorer on a phone (PAGE_CSS)
        intro_ui(explorer, compact, view.colour, map_panel.three_d(explorer, view))
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
                bundle_selector_ui(root, names, compact)
            with c2:
                map_panel.map_options_ui(explorer)
            map_panel.map_fragment(explorer, key)
        with point_col:
            current_point.point_fragment(explorer)
        with view_col, st.container(key="view_box"):
            views.views_fragment(explorer, key, compact)
    model_card.model_card_ui(explorer)


def main() -> None:
    streamlit_guards.install()
    st.set_page_config(
        page_title="VAE latent explorer",
        page_icon=PAGE_ICON,
        layout="wide",
        initial_sidebar_state="collapsed",
    )
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    root = artifacts_root()
    names = bundle_names(root)
    if not names:
        no_bundle_ui(root)
        return
    view = open_view(names)
    session.explorer_drawn(False)  # until this run has drawn the explorer
    path = root / view.bundle
    key = f"{view.bundle}:{bundle_version(path)}"
    try:
        explorer = explorer_at(path)
    except BundleError as e:
        details = literal(public_message(e, root), 2000)  # no server path, no Markdown
        notices_ui(view)
        st.error(f"The bundle {literal(path.name)} cannot be used:\n\n{details}")
        bundle_selector_ui(root, names)  # the other bundles stay one choice away
        return
    bundle = explorer.bundle
    view = session.apply(
        Loaded(
            bundle.name,
            key,
            bundle.latent_dim,
            len(bundle.labels),
            len(explorer.class_names),
            lambda i: tuple(map(float, bundle.z_mean[i])),
            tuple(explorer.factors),
        )
    )
    notices_ui(view)
    page_fragment(explorer, root, names)
    if view.mode == "explore":
        with st.container(key="explore_page"):
            explore_page(explorer, view, key, root, names)
        session.explorer_drawn(True)
    session.write_link(session.current())
    explorer.warm_in_background()  # the page is drawn: what its next clicks need, computed meanwhile
    preload_in_background(  # then the bundles a visitor most likely opens next (once per process)
        root, explorer, lambda: compare.likely_next(names, compare.readable_manifests(root, names), path.name)
    )


if __name__ == "__main__":
    main()
