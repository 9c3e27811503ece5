"""The hero: a WebGL scatter of all encoded test images, coloured by class.

The figure depends only on the bundle and the display options, so it stays identical
across reruns (the browser keeps the chart; see DESIGN.md, "Measured pitfalls"). The
moving parts (current point, paths, uploads) are drawn over it by ``app.bridge``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import bridge
from app.explorer import Explorer
from app.state import ViewState
from app.style import CLASS_COLORS

BACKGROUNDS = {
    "none": "No background",
    "prior": "Prior density p(z)",
    "aggregate": "Where the data is (aggregate posterior)",
}
MAP_HEIGHT = 680  # px of the map's box (the chart stretches to fill it; app.style.PAGE_CSS sets it)
BACKGROUND_GRID = 90  # cells per side of the density layer
MAP_KEY = "latent_map"  # the chart's widget key (its box selection)
CLASSES_KEY, SIZE_KEY, BACKGROUND_KEY = "map_classes", "map_size_std", "map_background"  # display options
HOVER_KEY = "map_hover"  # decode under the pointer


@st.cache_resource(max_entries=16, show_spinner="Drawing the map...")
def map_figure(
    _explorer: Explorer, key: str, classes: tuple[int, ...], size_by_std: bool, background: str
) -> go.Figure:
    """The map figure (cached: the same object for the same options, so reruns send the same spec)."""
    explorer = _explorer
    fig = go.Figure()
    if background != "none":
        xs, ys, logp = explorer.density_background(background, BACKGROUND_GRID)
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=ys,
                z=np.maximum(logp, np.quantile(logp, 0.05)),
                colorscale="Greys",
                opacity=0.55,
                showscale=True,
                hoverinfo="skip",
                zsmooth="best",
                name="density",
                colorbar={
                    "title": {"text": "log density", "side": "right"},
                    "thickness": 12,
                    "len": 0.6,
                    "x": 1.0,
                    "xpad": 4,
                    "outlinewidth": 0,
                },
            )
        )
    if size_by_std:
        std = explorer.posterior_std  # (n,) mean posterior std of each image
        sizes = 3.0 + 9.0 * (std - std.min()) / max(float(np.ptp(std)), 1e-9)
    for c in classes:
        idx = np.flatnonzero(explorer.labels == c)
        name = explorer.class_names[c]
        marker = {"color": CLASS_COLORS[c], "size": sizes[idx] if size_by_std else 4, "opacity": 0.7}
        fig.add_trace(
            go.Scattergl(
                x=explorer.xy[idx, 0],
                y=explorer.xy[idx, 1],
                mode="markers",
                name=name,
                marker=marker,
                customdata=idx,
                hovertemplate=f"#%{{customdata}} · {name}<extra></extra>",
            )
        )
    (x0, x1), (y0, y1) = explorer.limits
    axis_title = ("z₁", "z₂") if explorer.d == 2 else ("PC 1", "PC 2") if explorer.d > 2 else ("z₁", "")
    fig.update_layout(
        margin={"l": 50, "r": 10, "t": 10, "b": 30},
        xaxis={"range": [x0, x1], "zeroline": False},
        yaxis={"range": [y0, y1], "title": axis_title[1], "zeroline": False},
        # The x axis is named inside the plot's corner: the legend under the tick labels never covers it,
        # whatever height the screen gives the map.
        annotations=[
            {
                "text": axis_title[0],
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 0,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14, "color": "#444"},
            }
        ],
        legend={
            "orientation": "h",
            "y": -0.07,
            "yanchor": "top",
            "x": 0.5,
            "xanchor": "center",
            "itemsizing": "constant",
            "title": {"text": ""},
        },
        dragmode="zoom",
        hoverdistance=6,
        uirevision=key,
        plot_bgcolor="#FAFAFA",
    )
    return fig


@dataclass(frozen=True)
class MapOptions:
    classes: tuple[int, ...]  # classes shown
    size_by_std: bool  # point size = mean posterior std
    background: str  # one of BACKGROUNDS
    hover: bool  # decode under the pointer (in the browser)

    @property
    def figure(self) -> tuple:
        """What the figure depends on (map_figure's arguments after the bundle)."""
        return self.classes, self.size_by_std, self.background


def map_options_ui(explorer: Explorer) -> MapOptions:
    """Display controls of the map (in a popover)."""
    st.session_state.setdefault(CLASSES_KEY, list(explorer.class_names))
    st.session_state.setdefault(HOVER_KEY, True)
    box = st.popover("Map display", icon=":material/palette:")
    names = box.multiselect(
        "Classes shown",
        explorer.class_names,
        key=CLASSES_KEY,
        help="Hide classes here, or click their names in the map's legend.",
    )
    size_by_std = box.toggle(
        "Point size = encoder uncertainty",
        key=SIZE_KEY,
        help="Bigger points: the encoder is less sure where the image belongs (mean posterior std).",
    )
    background = box.selectbox(
        "Background",
        list(BACKGROUNDS),
        format_func=BACKGROUNDS.get,
        key=BACKGROUND_KEY,
        help="Shade the plane by a density, to see where decodes leave the data."
        + (" For this model the shading is a slice through the data mean." if explorer.d > 2 else ""),
    )
    hover = box.toggle(
        "Decode under the pointer",
        key=HOVER_KEY,
        help="Hovering the map shows, beside the pointer, the image decoded at that spot (in your browser). "
        "Drag the current point's marker to move it.",
        disabled=explorer.browser_decoder is None,
    )
    classes = tuple(i for i, n in enumerate(explorer.class_names) if n in names)
    return MapOptions(classes, size_by_std, background, hover)


def restore(url: ViewState, class_names: tuple[str, ...]) -> None:
    """Set the display options from a shared link (at the start of a session)."""
    if url.classes is not None:
        st.session_state[CLASSES_KEY] = [class_names[c] for c in url.classes]
    if url.sized is not None:
        st.session_state[SIZE_KEY] = url.sized
    if url.background is not None:
        st.session_state[BACKGROUND_KEY] = url.background
    if url.hover is not None:
        st.session_state[HOVER_KEY] = url.hover


def link_fields(options: MapOptions) -> dict:
    """The display options a link carries (only those that differ from the defaults)."""
    out = {}
    if len(options.classes) != len(CLASS_COLORS):
        out["classes"] = options.classes
    if options.size_by_std:
        out["sized"] = True
    if options.background != "none":
        out["background"] = options.background
    if not options.hover:
        out["hover"] = False
    return out


def background_legend(background: str, d: int) -> str:
    """One line saying what the shading shows (beside the colour bar)."""
    what = {
        "prior": "the prior p(z): where the model expects codes before it sees an image",
        "aggregate": "the aggregate posterior, the average of every test image's q(z|x): where the data is",
    }[background]
    where = " On this map: a slice through the data mean." if d > 2 else ""
    return (
        f"Background: darker grey = higher density of {what}. The shading is the log density, "
        f"cut off at its lowest 5%; decodes from white areas are guesses.{where}"
    )


def _box_of(selection: object) -> list[list[float]] | None:
    """The last box of a chart selection as [[x0, x1], [y0, y1]] (sorted), or None."""
    boxes = ((selection or {}).get("selection") or {}).get("box") or []
    if not boxes:
        return None
    try:
        (x0, x1), (y0, y1) = sorted(map(float, boxes[-1]["x"])), sorted(map(float, boxes[-1]["y"]))
    except (KeyError, TypeError, ValueError):
        return None
    return [[x0, x1], [y0, y1]] if x1 > x0 and y1 > y0 else None


def map_ui(
    explorer: Explorer, version: float, options: MapOptions, on_box: Callable[[list[list[float]]], None]
) -> None:
    """Draw the (static) map inside the container the overlay looks for; a box drawn with the
    box-select tool is handed to ``on_box``."""

    def box_drawn() -> None:
        box = _box_of(st.session_state.get(MAP_KEY))
        if box is not None:
            on_box(box)

    fig = map_figure(explorer, f"{explorer.name}:{version}", *options.figure)
    with st.container(key=bridge.MAP_CONTAINER_KEY):
        st.plotly_chart(
            fig,
            key=MAP_KEY,
            on_select=box_drawn,
            selection_mode="box",
            theme=None,
            height="stretch",
            # No wheel zoom: the wheel over the map scrolls the page (overlay.js does the same for a swipe);
            # zoom with the toolbar or a box.
            config={
                "displaylogo": False,
                "scrollZoom": False,
                "modeBarButtonsToRemove": ["lasso2d", "autoScale2d", "toImage"],
            },
        )
    if options.background != "none":
        st.caption(background_legend(options.background, explorer.d))
