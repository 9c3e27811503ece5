"""The hero: a WebGL scatter of all encoded test images, coloured by class, and its display options.

The figure depends only on the bundle and the display options, so it stays identical
across reruns (the browser keeps the chart; see DESIGN.md, "Measured pitfalls"). The
moving parts (current point, paths, uploads) are drawn over it by ``app.overlay``. The page
draws the flat map itself (``app/frontend/figure.js``), on one plot element that a new figure
(another bundle, a display option) updates in place: st.plotly_chart mounted a new chart
for each and drew it twice. Each now draws once, on the same WebGL canvases, and a display
option keeps the zoom (BENCHMARKS.md, "Plotly updates the map instead of starting it over").

A 3-D model's map is a 3-D scene instead (``scene_ui``): its figure also holds the camera the
view keeps, so it is sent again after the scene was turned; the current point is one trace that
the browser moves (``app/frontend/live.js``).
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st

from app import components, glossary, session
from app.explorer import Explorer
from app.figures import BACKGROUNDS, MapStyle, map_figure, map_spec
from app.overlay import MAP_CONTAINER_KEY
from app.view import BoxDrawn, View

MAP_KEY = "latent_map"  # the map component's key (its box selection)
# Plotly's settings for the flat map. No wheel zoom: the wheel over the map scrolls the page
# (overlay.js does the same for a swipe); zoom with the toolbar or a box.
MAP_CONFIG = {
    "displaylogo": False,
    "showSendToCloud": False,
    "scrollZoom": False,
    "modeBarButtonsToRemove": ["lasso2d", "autoScale2d", "toImage"],
    "showTips": False,  # no "double-click to zoom back out" toast over the page's headings
}


def three_d(explorer: Explorer, view: View) -> bool:
    """Whether the map is a 3-D scene: a model of three dimensions, unless the view draws it flat."""
    return explorer.bundle.latent_dim == 3 and not view.flat


def style_of(view: View, scene: bool = False) -> MapStyle:
    """The big map's style for the view's display options (``scene``: in 3-D)."""
    return MapStyle(
        classes=view.classes,
        colour=view.colour,
        size_by_std=view.sized,
        background="none" if scene else view.background,
        three_d=scene,
    )


def map_options_ui(explorer: Explorer) -> None:
    """Display controls of the map (in a popover), each bound to the view."""
    names = explorer.class_names
    box = st.popover("Map display", icon=":material/palette:")
    if explorer.bundle.data.labelled:
        box.multiselect(
            "Classes shown",
            names,
            help="Hide classes here, or click their names in the map's legend.",
            **session.bind(
                "classes",
                "map_classes",
                to_widget=lambda shown: list(names) if shown is None else [names[c] for c in shown],
                from_widget=lambda picked: (
                    None
                    if len(picked) == len(names)
                    else tuple(i for i, n in enumerate(names) if n in picked)
                ),
            ),
        )
    if explorer.factors:
        box.selectbox(
            "Colour by",
            ["", *explorer.factors],
            format_func=lambda f: f or "Class",
            help="This data set comes with the values that generated each image (its factors): colour "
            "the map by one to see which direction of the map carries it.",
            **session.bind("colour", "map_colour"),
        )
    box.toggle(
        "Point size = encoder uncertainty",
        help="Bigger points: the encoder is less sure where the image belongs (mean posterior std).",
        **session.bind("sized", "map_size_std"),
    )
    box.selectbox(
        "Background",
        list(BACKGROUNDS),
        format_func=BACKGROUNDS.get,
        help="Shade the plane by a density, to see where decodes leave the data. The aggregate "
        "posterior: "
        + glossary.explain("aggregate posterior")
        + (
            " For this model the shading is a slice through the data mean."
            if explorer.bundle.latent_dim > 2
            else ""
        ),
        **session.bind("background", "map_background"),
    )
    box.toggle(
        "Decode under the pointer",
        help="Hovering the map shows, beside the pointer, the image decoded at that spot (in your browser). "
        "Drag the current point's marker to move it.",
        disabled=explorer.browser.decoder is None,
        **session.bind("hover", "map_hover"),
    )
    if explorer.bundle.latent_dim == 3:
        box.toggle(
            "3-D map",
            help="This model has three dimensions: its map is a 3-D scene (drag to turn it, click a point "
            "to pick it). Off: the flat map of its first two principal components, which also shows the "
            "density background, boxes for the decoded grid and the paths of the views.",
            **session.bind("flat", "map_3d", to_widget=lambda flat: not flat, from_widget=lambda on: not on),
        )


def scene_ui(explorer: Explorer, key: str, view: View) -> None:
    """A 3-D model's map: a rotatable scene of its codes, seen from the view's camera. The browser
    (live.js) places the current point, sends a click on a point and where the camera went."""
    fig = go.Figure(map_figure(explorer, key, style_of(view, scene=True)))
    if view.camera is not None:
        x, y, z = view.camera
        fig.update_layout(scene_camera={"eye": {"x": x, "y": y, "z": z}})
    with st.container(key=MAP_CONTAINER_KEY):
        st.plotly_chart(
            fig,
            key=f"{MAP_KEY}_3d",
            theme=None,
            height="stretch",
            config={
                "displaylogo": False,
                "scrollZoom": False,  # the wheel scrolls the page, as over the flat map
                "modeBarButtonsToRemove": ["toImage"],
            },
        )
    st.caption("Drag to turn the scene; click a point to pick its image; the sliders move the diamond.")


def background_legend(background: str, d: int) -> str:
    """One line saying what the shading shows (beside the colour bar)."""
    what = {
        "prior": "the prior p(z): where the model expects codes before it sees an image",
        "aggregate": "the aggregate posterior, the average of every test image's q(z|x): where the data is",
    }[background]
    where = " On this map: a slice through the data mean." if d > 2 else ""
    return (
        f"Background: darker grey = higher density of {what}. The darkest band is the densest region "
        "holding half of it, then 90% and 99%; white is the rest, where decodes are guesses (the "
        f"decoder was rarely or never asked about it).{where}"
    )


def box_of(value: object) -> tuple[float, float, float, float] | None:
    """The box in a component value ``{"box": {"x": [x0, x1], "y": [y0, y1]}}`` (map coordinates, as
    figure.js sends a box selection) as (x0, x1, y0, y1), sorted, or None when malformed or empty."""
    box = value.get("box") if hasattr(value, "get") else None
    if not hasattr(box, "get"):
        return None
    try:
        (x0, x1), (y0, y1) = sorted(map(float, box["x"])), sorted(map(float, box["y"]))
    except (KeyError, TypeError, ValueError):
        return None
    if not all(map(math.isfinite, (x0, x1, y0, y1))):
        return None
    return (x0, x1, y0, y1) if x1 > x0 and y1 > y0 else None


def _box_drawn() -> None:
    box = box_of(st.session_state.get(MAP_KEY))
    if box is not None:
        session.record(BoxDrawn(box))


@st.fragment(key="map")
def map_fragment(explorer: Explorer, key: str) -> None:
    """The map as the fragment "map": a display option that only the map shows (``app.view.redraw``)
    runs this alone, not the whole page (a whole-page run took a second, bench/clicks.py)."""
    view = session.apply_events()
    map_ui(explorer, key, view)
    if session.in_fragment_run():
        session.write_link(view)


def map_ui(explorer: Explorer, key: str, view: View) -> None:
    """Draw the (static) map inside the container the overlay looks for; a box drawn with the
    box-select tool opens the decoded grid over it."""
    if three_d(explorer, view):
        scene_ui(explorer, key, view)
        return
    spec = map_spec(explorer, key, style_of(view))
    with st.container(key=MAP_CONTAINER_KEY):
        components.show_figure(MAP_KEY, spec, MAP_CONFIG, "stretch", on_box_change=_box_drawn)
    if view.background != "none":
        st.caption(background_legend(view.background, explorer.bundle.latent_dim))
