"""The hero: a WebGL scatter of all encoded test images, coloured by class.

The figure depends only on the bundle and the display options, so it stays identical
across reruns (the browser keeps the chart; see DESIGN.md, "Measured pitfalls"). The
moving parts (current point, paths, uploads) are drawn over it by ``app.bridge``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import bridge
from app.resources import Explorer
from app.style import CLASS_COLORS
from vae_core import latent
from vae_core.data import CLASS_NAMES

BACKGROUNDS = {
    "none": "No background",
    "prior": "Prior density p(z)",
    "aggregate": "Where the data is (aggregate posterior)",
}
MAP_HEIGHT = 680
BACKGROUND_GRID = 90  # cells per side of the density layer


def density_layer(ex: Explorer, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log density on a grid over the map: xs (n,), ys (n,), log p (n, n) (rows = ys)."""
    (x0, x1), (y0, y1) = ex.limits
    grid = latent.hit_grid((x0, x1), (y0, y1), BACKGROUND_GRID)  # (n*n, 2), rows by y then x
    z = latent.lift(ex.projection, grid)  # the map plane through the data mean
    b = ex.bundle
    if kind == "prior":
        prior = b.prior
        logp = (
            latent.prior_log_density(z)
            if prior is None
            else latent.prior_log_density(z, prior.weights, prior.means, prior.log_vars)
        )
    else:
        logp = latent.aggregate_posterior_log_density(z, b.z_mean, b.z_log_var)
    xs = np.linspace(x0, x1, BACKGROUND_GRID)
    ys = np.linspace(y0, y1, BACKGROUND_GRID)
    return xs, ys, logp.reshape(BACKGROUND_GRID, BACKGROUND_GRID)


@st.cache_resource(max_entries=16, show_spinner="Drawing the map...")
def map_figure(_ex: Explorer, key: str, classes: tuple[int, ...], size_by_std: bool, background: str) -> go.Figure:
    """The map figure (cached: the same object for the same options, so reruns send the same spec)."""
    ex = _ex
    b = ex.bundle
    fig = go.Figure()
    if background != "none":
        xs, ys, logp = density_layer(ex, background)
        floor = np.quantile(logp, 0.05)
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=np.maximum(logp, floor), colorscale="Greys", reversescale=False,
            opacity=0.55, showscale=False, hoverinfo="skip", zsmooth="best", name="density",
        ))
    if size_by_std:
        std = np.exp(0.5 * b.z_log_var).mean(axis=1)  # (n,) mean posterior std of each image
        rel = (std - std.min()) / max(float(np.ptp(std)), 1e-9)
        sizes = 3.0 + 9.0 * rel
    labels = b.labels
    for c in classes:
        idx = np.flatnonzero(labels == c)
        marker = {"color": CLASS_COLORS[c], "size": sizes[idx] if size_by_std else 4, "opacity": 0.7}
        fig.add_trace(go.Scattergl(
            x=ex.xy[idx, 0], y=ex.xy[idx, 1], mode="markers", name=CLASS_NAMES[c], marker=marker,
            customdata=idx, hovertemplate=f"#%{{customdata}} · {CLASS_NAMES[c]}<extra></extra>",
        ))
    (x0, x1), (y0, y1) = ex.limits
    axis_title = ("z₁", "z₂") if ex.d == 2 else ("PC 1", "PC 2") if ex.d > 2 else ("z₁", "")
    fig.update_layout(
        height=MAP_HEIGHT,
        margin={"l": 50, "r": 10, "t": 10, "b": 45},
        xaxis={"range": [x0, x1], "title": axis_title[0], "zeroline": False},
        yaxis={"range": [y0, y1], "title": axis_title[1], "zeroline": False},
        legend={"orientation": "h", "y": -0.09, "x": 0.5, "xanchor": "center", "itemsizing": "constant",
                "title": {"text": ""}},
        dragmode="zoom",
        hoverdistance=6,
        uirevision=key,
        plot_bgcolor="#FAFAFA",
    )
    return fig


def map_options_ui(ex: Explorer) -> tuple[tuple[int, ...], bool, str]:
    """Display controls of the map (in a popover); returns (classes shown, size by std, background)."""
    box = st.popover("Map display", icon=":material/palette:")
    names = box.multiselect(
        "Classes shown", CLASS_NAMES, default=list(CLASS_NAMES), key="map_classes",
        help="Hide classes here, or click their names in the map's legend.",
    )
    size_by_std = box.toggle(
        "Point size = encoder uncertainty", key="map_size_std",
        help="Bigger points: the encoder is less sure where the image belongs (mean posterior std).",
    )
    background = box.selectbox(
        "Background", list(BACKGROUNDS), format_func=BACKGROUNDS.get, key="map_background",
        help="Shade the plane by a density, to see where decodes leave the data."
        + (" For this model the shading is a slice through the data mean." if ex.d > 2 else ""),
    )
    classes = tuple(i for i, n in enumerate(CLASS_NAMES) if n in names)
    return classes, size_by_std, background


def _on_box() -> None:
    """A box drawn on the map (box-select tool) becomes the region of the decoded grid."""
    selection = st.session_state.get("latent_map") or {}
    boxes = (selection.get("selection") or {}).get("box") or []
    if not boxes:
        return
    try:
        (x0, x1), (y0, y1) = sorted(map(float, boxes[-1]["x"])), sorted(map(float, boxes[-1]["y"]))
    except (KeyError, TypeError, ValueError):
        return
    if x1 > x0 and y1 > y0:
        st.session_state["region"] = [[x0, x1], [y0, y1]]
        st.session_state["region_source"] = "box"
        st.session_state["view"] = "manifold"


def map_ui(ex: Explorer, stamp: float, classes: tuple[int, ...], size_by_std: bool, background: str) -> None:
    """Draw the (static) map inside the container the bridge component looks for."""
    fig = map_figure(ex, f"{ex.name}:{stamp}", classes, size_by_std, background)
    with st.container(key=bridge.MAP_CONTAINER_KEY):
        st.plotly_chart(
            fig, key="latent_map", on_select=_on_box, selection_mode="box", theme=None,
            config={"displaylogo": False, "scrollZoom": True,
                    "modeBarButtonsToRemove": ["lasso2d", "autoScale2d", "toImage"]},
        )
