"""The one builder of latent-map figures: the explorer's big map, Compare's two maps, the lesson's
and Inside's small maps are all this scatter of the encoded test set, with options.

A figure depends only on the bundle and its options, so the same options give the same object
(cached): reruns send the same spec and the browser keeps the chart (DESIGN.md, "Measured
pitfalls"). What moves is drawn over it by ``app.overlay``, or added to a copy by the caller.

A small map's points are one picture under the axes (:func:`points_picture`) rather than WebGL
traces, each map two WebGL contexts: the browser draws it in a fraction of the time
(bench/small_maps.py). Plotly cannot hover or pick a picture's points: Compare's maps, which are
pictures too, have the browser's picker for that (``app/frontend/picker.js``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from PIL import Image

from app.explorer import BACKGROUND_GRID, Explorer
from app.style import UNLABELLED_COLOR, class_colors
from app.text import plotly_text
from vae_core.density import highest_density_share

PICTURE_SCALE = 2  # a small map's picture has this many pixels per screen pixel: sharp on any screen
FILL_REACH = 0.2  # a filling map's picture reaches this share of the limits' span beyond each side
DENSITY_BANDS = (0.5, 0.9, 0.99)  # the background's bands: the densest regions holding these shares
BACKGROUNDS = {
    "none": "No background",
    "prior": "Prior density p(z)",
    "aggregate": "Where the data is (aggregate posterior)",
}


@dataclass(frozen=True)
class MapStyle:
    """How a latent map is drawn."""

    classes: tuple[int, ...] | None = None  # the classes drawn (None: all)
    colour: str = ""  # colour by this factor of the data ("": by class)
    size_by_std: bool = False  # point size = the image's mean posterior std
    background: str = "none"  # one of BACKGROUNDS: shade by a density
    sample: int | None = None  # draw a fixed random sample of this many images (a light small map)
    marker_size: float = 4.0
    opacity: float = 0.7
    hover: bool = True  # hovering a point names its image and class
    legend: bool = True  # a legend under the map (click a class to hide it)
    height: int | None = None  # None: the container's height
    small: bool = False  # a small, fixed map: tight margins, equal axes, no zoom; its points are one
    # picture, coloured by class (points_picture)
    fill: bool = False  # with small: the equal axes fill the plot area (a range grows to fit it) and
    # are named; the picture reaches FILL_REACH beyond the limits, into the grown range
    three_d: bool = False  # a 3-D model's codes in a rotatable 3-D scene (no density background)


CURRENT_TRACE = "current point"  # the 3-D scene's trace that live.js moves to the current point


def _scatter(style: MapStyle, coords: np.ndarray, idx: np.ndarray, **trace) -> go.Scattergl | go.Scatter3d:
    """One trace of the points ``idx`` at ``coords`` (n, 2 or 3): WebGL points on the plane, or in
    the 3-D scene (smaller markers: they are seen close up)."""
    xyz = coords[idx].astype(np.float32)  # 4 bytes a number: the map's message is 40% smaller
    if style.three_d:
        marker = dict(trace.pop("marker"))
        marker["size"] = marker["size"] * 0.55  # a number, or one per point
        return go.Scatter3d(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], marker=marker, **trace)
    return go.Scattergl(x=xyz[:, 0], y=xyz[:, 1], **trace)


def density_levels(logp: np.ndarray) -> np.ndarray:
    """Each cell's band (0 to len(DENSITY_BANDS)): 0 inside the densest region holding the first
    band's share of the mass, ..., len(DENSITY_BANDS) outside them all."""
    return np.searchsorted(np.asarray(DENSITY_BANDS), highest_density_share(logp), side="left")


def _background_trace(explorer: Explorer, kind: str) -> go.Heatmap:
    """The density as a few named bands (the densest half of the mass, 90%, 99%, the rest), greys
    from dark to white: a reader can say "this point is outside where 99% of the data is"."""
    xs, ys, logp = explorer.density_background(kind, BACKGROUND_GRID)
    k = len(DENSITY_BANDS) + 1
    greys = ("#3b3b3b", "#7d7d7d", "#bdbdbd", "#ffffff")[-k:]
    scale = [[edge, grey] for i, grey in enumerate(greys) for edge in (i / k, (i + 1) / k)]
    return go.Heatmap(
        x=xs,
        y=ys,
        z=density_levels(logp).astype(np.uint8),
        zmin=-0.5,
        zmax=k - 0.5,
        colorscale=scale,
        opacity=0.45,
        showscale=True,
        hoverinfo="skip",
        zsmooth="best",  # soft band edges, not the grid's cells
        name="density",
        colorbar={
            "title": {"text": "holds", "side": "top"},
            "tickvals": list(range(k)),
            "ticktext": [f"{b:.0%}" for b in DENSITY_BANDS] + ["the rest"],
            "thickness": 12,
            "len": 0.45,
            "x": 1.0,
            "xpad": 4,
            "outlinewidth": 0,
        },
    )


def _factor_traces(explorer: Explorer, style: MapStyle, rows: np.ndarray, sizes, coords: np.ndarray) -> list:
    """The points coloured by a factor: one trace per category (with the legend), or one trace on a
    sequential colour scale with its colour bar for a continuous factor."""
    factor, values = style.colour, explorer.factors[style.colour]
    info = explorer.bundle.data.factors[factor]
    name = plotly_text(factor)  # the factor's and its categories' names come from the bundle
    common = {"mode": "markers", "hoverinfo": None if style.hover else "skip"}

    def marker(idx, **more):
        return {"size": sizes[idx] if style.size_by_std else sizes, "opacity": style.opacity, **more}

    if info["kind"] == "categorical":
        labels, colors = info["names"], class_colors(len(info["names"]))
        traces = []
        for k, label in enumerate(labels):
            idx = rows[values[rows] == k]
            traces.append(
                _scatter(
                    style,
                    coords,
                    idx,
                    name=f"{name}: {plotly_text(label)}",
                    marker=marker(idx, color=colors[k]),
                    customdata=idx,
                    hovertemplate=f"#%{{customdata}} · {name} {plotly_text(label)}<extra></extra>"
                    if style.hover
                    else None,
                    showlegend=style.legend,
                    **common,
                )
            )
        return traces
    colorbar = {"title": {"text": name, "side": "right"}, "thickness": 12, "len": 0.6, "outlinewidth": 0}
    return [
        _scatter(
            style,
            coords,
            rows,
            name=name,
            marker=marker(rows, color=values[rows], colorscale="Viridis", showscale=True, colorbar=colorbar),
            customdata=rows,  # the test image (the overlay reads it), as in every map trace
            text=[f"{v:.3g}" for v in values[rows]],
            hovertemplate=f"#%{{customdata}} · {name} %{{text}}<extra></extra>" if style.hover else None,
            showlegend=False,
            **common,
        )
    ]


def build_map(explorer: Explorer, style: MapStyle, revision: str = "") -> go.Figure:
    """The map of ``explorer``'s encoded test set drawn with ``style`` (``revision`` keeps the user's
    zoom across reruns: Plotly's uirevision)."""
    bundle, lmap = explorer.bundle, explorer.map
    names = explorer.class_names
    labelled = bundle.data.labelled
    fig = go.Figure()
    coords = bundle.z_mean if style.three_d else lmap.xy
    if style.background != "none" and not style.three_d:
        fig.add_trace(_background_trace(explorer, style.background))
    rows = map_rows(explorer, style)
    sizes = style.marker_size
    if style.size_by_std:
        std = explorer.posterior_std
        sizes = 3.0 + 9.0 * (std - std.min()) / max(float(np.ptp(std)), 1e-9)
    classes = []
    if style.small and not style.three_d:  # the points are one picture: no traces
        fig.add_layout_image(points_picture(explorer, style, *picture_ranges(lmap.limits, style)))
    elif style.colour in explorer.factors:  # the factor's traces replace the classes'
        shown = range(len(names)) if style.classes is None else style.classes
        rows = rows[np.isin(bundle.labels[rows], list(shown))]
        for trace in _factor_traces(explorer, style, rows, sizes, coords):
            fig.add_trace(trace)
    else:
        classes = class_points(explorer, style, rows)
    for c, idx, colour in classes:
        name = plotly_text(names[c]) if labelled else "test images"  # a class name is the bundle's
        fig.add_trace(
            _scatter(
                style,
                coords,
                idx,
                mode="markers",
                name=name,
                marker={
                    "color": colour,
                    "size": sizes[idx] if style.size_by_std else sizes,
                    "opacity": style.opacity,
                },
                customdata=idx,
                hovertemplate=f"#%{{customdata}} · {name}<extra></extra>" if style.hover else None,
                hoverinfo=None if style.hover else "skip",
                showlegend=style.legend and labelled,
            )
        )
    if style.three_d:
        _scene_layout(fig, style, revision)
    else:
        _plane_layout(fig, explorer, style, revision)
    if style.height is not None:
        fig.update_layout(height=style.height)
    return fig


def map_rows(explorer: Explorer, style: MapStyle) -> np.ndarray:
    """The test images a map draws: all of them, or its fixed random sample."""
    rows = np.arange(len(explorer.bundle.labels))
    if style.sample is not None and style.sample < len(rows):
        rows = np.sort(np.random.default_rng(0).choice(rows, style.sample, replace=False))
    return rows


def class_points(explorer: Explorer, style: MapStyle, rows: np.ndarray) -> list[tuple[int, np.ndarray, str]]:
    """(class, its test images among ``rows``, its colour) for each class the map draws, in drawing
    order; a data set without classes has one, drawn in UNLABELLED_COLOR."""
    bundle, n = explorer.bundle, len(explorer.class_names)
    colors = class_colors(n) if bundle.data.labelled else (UNLABELLED_COLOR,) * n
    shown = range(n) if style.classes is None else style.classes
    return [(c, rows[bundle.labels[rows] == c], colors[c]) for c in shown]


def dots_picture(
    groups: list[tuple[np.ndarray, str]],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    shape: tuple[int, int],
    diameter: float,
    opacity: float,
) -> np.ndarray:
    """Points as dots in an RGBA picture (H, W, 4) uint8 of ``x_range`` x ``y_range`` (y upwards).

    ``groups`` are (xy (n, 2), "#RRGGBB") drawn in order, each dot ``diameter`` pixels wide at
    ``opacity``, as WebGL blends them: where k dots of a group overlap, 1 - (1 - opacity)^k of
    their colour. Pixels with no dot are transparent; points that are not finite are not drawn."""
    (x0, x1), (y0, y1) = x_range, y_range
    h, w = shape
    # A dot's pixels around its anchor: an even-sized dot is centred on a pixel corner, an odd one
    # on a pixel's centre; a pixel is in the dot when its centre is.
    even = round(diameter) % 2 == 0
    shift = 0.5 if even else 0.0
    reach = int(np.ceil(diameter / 2))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    disc = (dx + shift) ** 2 + (dy + shift) ** 2 <= (diameter / 2) ** 2
    dy, dx = dy[disc], dx[disc]
    anchor = np.round if even else np.floor
    colour = np.zeros((h * w, 3))  # premultiplied by alpha
    alpha = np.zeros(h * w)
    for xy, hex_colour in groups:
        xy = np.asarray(xy, dtype=np.float64)
        xy = xy[np.isfinite(xy).all(axis=1)]
        # (clipped to just outside the picture first: a far point's pixel must fit an integer)
        col = anchor(np.clip((xy[:, 0] - x0) / (x1 - x0) * w, -reach - 1, w + reach)).astype(np.int64)
        row = anchor(np.clip((y1 - xy[:, 1]) / (y1 - y0) * h, -reach - 1, h + reach)).astype(np.int64)
        cols, rows = (col[:, None] + dx).ravel(), (row[:, None] + dy).ravel()
        on = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
        dots = np.bincount(rows[on] * w + cols[on], minlength=h * w)
        under = np.flatnonzero(dots)  # only the pixels this group covers change
        a = 1.0 - (1.0 - opacity) ** dots[under]
        rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
        colour[under] = colour[under] * (1.0 - a)[:, None] + rgb * a[:, None]
        alpha[under] = alpha[under] * (1.0 - a) + a
    picture = np.zeros((h * w, 4))
    picture[:, :3] = colour / np.maximum(alpha, 1e-9)[:, None]
    picture[:, 3] = alpha
    picture = picture.reshape(h, w, 4)
    return np.round(picture * 255).astype(np.uint8)


def picture_ranges(limits: tuple, style: MapStyle) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x and y ranges a small map's picture covers: the map's limits, widened by FILL_REACH of
    their span on each side for a map that fills its plot area."""
    reach = FILL_REACH if style.fill else 0.0
    return tuple((lo - reach * (hi - lo), hi + reach * (hi - lo)) for lo, hi in limits)


def points_picture(
    explorer: Explorer, style: MapStyle, x_range: tuple[float, float], y_range: tuple[float, float]
) -> dict:
    """A small map's points over ``x_range`` x ``y_range``, coloured by class, as one picture: a
    Plotly layout image (under the axes) for a map ``style.height`` pixels tall (300 if unset)."""
    (x0, x1), (y0, y1) = x_range, y_range
    # The axes have equal scales: the picture has the ranges' shape, its longer side the map's height
    # (a filling map's picture reaches beyond the map's limits: as many pixels more).
    side, aspect = PICTURE_SCALE * (style.height or 300), (x1 - x0) / (y1 - y0)
    side = round(side * (1 + 2 * FILL_REACH)) if style.fill else side
    h, w = (side, max(1, round(side * aspect))) if aspect <= 1 else (max(1, round(side / aspect)), side)
    points = class_points(explorer, style, map_rows(explorer, style))
    groups = [(explorer.map.xy[idx], colour) for _, idx, colour in points]
    picture = dots_picture(groups, x_range, y_range, (h, w), PICTURE_SCALE * style.marker_size, style.opacity)
    png = io.BytesIO()  # 64 colours: a third of the bytes, and no difference to see
    Image.fromarray(picture, "RGBA").quantize(64, method=Image.Quantize.FASTOCTREE).save(png, format="PNG")
    return {
        "source": "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii"),
        "xref": "x",
        "yref": "y",
        "x": x0,
        "y": y1,
        "sizex": x1 - x0,
        "sizey": y1 - y0,
        "xanchor": "left",
        "yanchor": "top",
        "sizing": "stretch",
        "layer": "below",
    }


def _plane_layout(fig: go.Figure, explorer: Explorer, style: MapStyle, revision: str) -> None:
    """The flat map's layout (1-D, 2-D or a principal-component plane): its limits, axis names and legend."""
    bundle, lmap = explorer.bundle, explorer.map
    (x0, x1), (y0, y1) = lmap.limits
    d = bundle.latent_dim
    axis_title = ("z₁", "z₂") if d == 2 else ("PC 1", "PC 2") if d > 2 else ("z₁", "")
    if style.small:
        constrain = "range" if style.fill else "domain"
        fig.update_layout(
            margin={"l": 4, "r": 4, "t": 4, "b": 4},
            # no grid: Plotly draws it over the points' picture
            xaxis={"range": [x0, x1], "zeroline": False, "showgrid": False, "constrain": constrain},
            yaxis={
                "range": [y0, y1],
                "scaleanchor": "x",
                "zeroline": False,
                "showgrid": False,
                "constrain": constrain,
                "title": {"text": axis_title[1] if style.fill else ""},
            },
            annotations=[_corner_title(axis_title[0])] if style.fill else [],
            showlegend=False,
            plot_bgcolor="white",
            dragmode=False,
        )
    else:
        fig.update_layout(
            margin={"l": 50, "r": 10, "t": 10, "b": 30},
            xaxis={"range": [x0, x1], "zeroline": False},
            yaxis={"range": [y0, y1], "title": axis_title[1], "zeroline": False},
            # The x axis is named inside the plot's corner: the legend under the tick labels never
            # covers it, whatever height the screen gives the map.
            annotations=[_corner_title(axis_title[0])],
            legend={
                "orientation": "h",
                "y": -0.07,
                "yanchor": "top",
                "x": 0.5,
                "xanchor": "center",
                "itemsizing": "constant",
                "title": {"text": ""},
            },
            showlegend=style.legend,
            dragmode="zoom",
            hovermode="closest",
            hoverdistance=6,
            uirevision=revision,
            plot_bgcolor="#FAFAFA",
        )


def _corner_title(text: str) -> dict:
    """The x axis's name inside the plot's lower right corner."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": 0,
        "xanchor": "right",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 14, "color": "#444"},
    }


def _scene_layout(fig: go.Figure, style: MapStyle, revision: str) -> None:
    """A 3-D model's map: its codes in a rotatable scene (drag to turn, wheel to zoom), with the
    current point's trace (empty here: live.js places it) and the legend under the scene."""
    fig.add_trace(
        go.Scatter3d(
            x=[],
            y=[],
            z=[],
            mode="markers",
            name=CURRENT_TRACE,
            marker={
                "symbol": "diamond",
                "size": 12,
                "color": "#111111",
                "line": {"color": "#ffffff", "width": 2},
            },
            hoverinfo="skip",
            showlegend=False,
        )
    )
    axis = {"backgroundcolor": "#FAFAFA", "gridcolor": "#DDDDDD", "zeroline": False, "showspikes": False}
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        scene={
            "xaxis": {**axis, "title": {"text": "z₁"}},
            "yaxis": {**axis, "title": {"text": "z₂"}},
            "zaxis": {**axis, "title": {"text": "z₃"}},
            "aspectmode": "cube",
        },
        legend={
            "orientation": "h",
            "y": 0,
            "yanchor": "top",
            "x": 0.5,
            "xanchor": "center",
            "itemsizing": "constant",
        },
        showlegend=style.legend,
        uirevision=revision,
        hoverdistance=6,
    )


@st.cache_resource(max_entries=32, show_spinner="Drawing the map...")
def map_figure(_explorer: Explorer, key: str, style: MapStyle) -> go.Figure:
    """build_map, kept: the same object for the same bundle ``key`` and style. Callers that add to
    it work on a copy (``go.Figure(fig)``)."""
    return build_map(_explorer, style, key)


def figure_spec(fig: go.Figure) -> dict:
    """A figure as the page draws it itself (app/frontend/figure.js): ``{"figure": its plain JSON,
    "revision": a digest of it}`` (the page redraws only when the revision changes)."""
    text = pio.to_json(fig, validate=False)
    return {"figure": json.loads(text), "revision": hashlib.sha256(text.encode()).hexdigest()[:16]}


@st.cache_resource(max_entries=32, show_spinner=False)
def map_spec(_explorer: Explorer, key: str, style: MapStyle) -> dict:
    """figure_spec of map_figure, kept."""
    return figure_spec(map_figure(_explorer, key, style))
