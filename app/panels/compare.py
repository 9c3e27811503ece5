"""Compare models: two bundles' maps side by side, the same test image and the same z in both,
and one metrics table for every bundle in the artifacts folder.

Entry point :func:`compare_ui`; :func:`link_fields` is what a link needs to reopen the view. The
bundles are reached only through their :class:`Explorer` (``app.resources.load_explorer``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import comparison
from app.explorer import Explorer, PointView
from app.panels import map as map_panel
from app.resources import DEFAULT_BUNDLE, bundle_version, default_bundle_name, load_explorer
from app.style import CLASS_COLORS, CURRENT_COLOR, PATH_COLOR, class_chip
from app.text import literal, public_message
from vae_core.bundle import BundleError
from vae_core.images import upscale

LEFT_KEY, RIGHT_KEY = "cmp_left", "cmp_right"  # the two bundle selectors
INDEX_KEY = "cmp_index"  # the highlighted test image
X_KEY, Y_KEY = "cmp_x", "cmp_y"  # the decoded point, on the left map's plane
POINT_FOR_KEY = "cmp_point_for"  # the (left, right) pair the point was chosen for
MAP_KEYS = {"left": "cmp_map_left", "right": "cmp_map_right"}  # the charts (a clicked point)
MAP_HEIGHT = 390  # px: two maps and the decoded images fit a 1280 x 720 screen
THUMB = 96  # px side of each image (28 px scaled, crisp)
RING_SIZE = 22  # px: the highlighted image's ring
MIN_ELLIPSE = 0.004  # an ellipse narrower than this share of the map's span is not drawn (a point)

EXPLANATION = (
    "**What the KL term buys.** Each model squeezes an image into a few numbers, its code z: a point "
    "on the map. The encoder answers with a centre, *mu* (the ring on each map), and, in a VAE, a "
    "spread, *sigma* (the ellipse around it): the code is drawn at random from that cloud. A plain "
    "**autoencoder** has no KL term and no spread: nothing asks its codes to stay near the middle of the "
    "map or to leave no room between them, so its map has holes, and a point in a hole decodes to "
    "garbage: its decoder never saw a code there. The **VAE**'s KL term is a price for codes far from the "
    "middle and for spreads smaller than 1, so the clouds of neighbouring images overlap and fill the "
    "space: wherever there is data nearby, a point decodes to a garment. A **β-VAE** with β = 4 pays "
    "four times that price: it squeezes harder, so its map is more crowded, the classes overlap more and "
    "its images are blurrier. The two maps' axes were learned separately, so the same z is not the same "
    "garment in both; what to compare is whether each model decodes something sensible at a point off "
    "its data (the number under each image says how far off that is). *Hole, left map* and *Hole, right "
    "map* put z (the red cross) in the deepest hole of either map."
)


@dataclass(frozen=True)
class CompareLink:
    """What a link needs to reopen the compare view."""

    left: str | None
    right: str | None
    index: int | None
    point: tuple[float, float] | None  # the decoded point on the left map's plane


def link_fields() -> CompareLink:
    """The view's state for the link (None where not chosen yet)."""
    s = st.session_state
    point = (float(s[X_KEY]), float(s[Y_KEY])) if X_KEY in s and Y_KEY in s else None
    index = s.get(INDEX_KEY)
    return CompareLink(s.get(LEFT_KEY), s.get(RIGHT_KEY), None if index is None else int(index), point)


def default_pair(names: list[str], manifests: dict[str, dict]) -> tuple[str, str]:
    """Left: the default bundle, else the first readable 2-D VAE; right: an autoencoder of the same
    latent dim when there is one, else the next readable bundle. ``manifests``: the readable bundles."""
    readable = [n for n in names if n in manifests] or names

    def config(name: str) -> dict:
        return manifests.get(name, {}).get("config", {})

    def first(candidates: list[str], *tests) -> str | None:
        return next((n for n in candidates if all(test(config(n)) for test in tests)), None)

    def is_vae(c: dict) -> bool:
        return not c.get("deterministic") and c.get("beta") == 1

    left = DEFAULT_BUNDLE if DEFAULT_BUNDLE in readable else None
    left = left or first(readable, is_vae, lambda c: c.get("latent_dim") == 2) or first(readable, is_vae)
    left = left or default_bundle_name(readable)
    others = [n for n in readable if n != left] or [left]
    d = config(left).get("latent_dim")
    autoencoder = first(others, lambda c: bool(c.get("deterministic")), lambda c: c.get("latent_dim") == d)
    return left, autoencoder or first(others, lambda c: c.get("latent_dim") == d) or others[0]


def _init(names: list[str], manifests: dict, left, right, index, point) -> None:
    """Start values: the link's when valid, else the defaults; a bundle that disappeared is replaced."""
    s = st.session_state
    default_left, default_right = default_pair(names, manifests)
    for key, wanted, default in ((LEFT_KEY, left, default_left), (RIGHT_KEY, right, default_right)):
        if s.get(key) not in names:
            s[key] = wanted if wanted in names else default
    if INDEX_KEY not in s:
        s[INDEX_KEY] = int(index) if index is not None and index >= 0 else 0
    if point is not None and X_KEY not in s:
        s[X_KEY], s[Y_KEY] = float(point[0]), float(point[1])
        s[POINT_FOR_KEY] = (s[LEFT_KEY], s[RIGHT_KEY])


def _load(root: Path, name: str) -> Explorer | None:
    """The bundle's Explorer, or None after saying (without server paths) why it cannot be used."""
    path = root / name
    try:
        return load_explorer(str(path), bundle_version(path))
    except BundleError as e:
        st.error(f"The bundle {literal(name)} cannot be used:\n\n{literal(public_message(e, root), 600)}")
        return None


def _key(explorer: Explorer) -> str:
    """A key for a loaded bundle: its folder (unique, unlike a manifest's name) and version. It reaches the
    browser (the map's uirevision), so the folder is hashed: no server path in the page."""
    path = explorer.path
    return f"{hashlib.sha256(str(path).encode()).hexdigest()[:12]}:{bundle_version(path)}"


@st.cache_data(max_entries=32, show_spinner=False)
def _gap(
    _left: Explorer, _other: Explorer | None, in_other: bool, key: tuple[str, str]
) -> tuple[float, float]:
    return comparison.gap_on_map(_left, _other, in_other)


@st.cache_data(max_entries=16, show_spinner=False)
def _spacing(_explorer: Explorer, key: str) -> float:
    return comparison.spacing_of(_explorer)


def _set_point(xy: tuple[float, float], pair: tuple[str, str]) -> None:
    st.session_state[X_KEY], st.session_state[Y_KEY] = xy
    st.session_state[POINT_FOR_KEY] = pair


def _random_image(n: int) -> None:
    st.session_state[INDEX_KEY] = int(np.random.default_rng().integers(n))


def picked_index(selection: object) -> int | None:
    """The test image a click on a map selected (its customdata), or None."""
    points = ((selection or {}).get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata") if isinstance(point, dict) else None
        data = data[0] if isinstance(data, list) and data else data
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return int(data)
    return None


def _pick(which: str) -> None:
    index = picked_index(st.session_state.get(MAP_KEYS[which]))
    if index is not None:
        st.session_state[INDEX_KEY] = index


def _pixel_shape(kind: str, x: float, y: float, box: tuple, color: str, width: float) -> dict:
    """A Plotly shape of ``kind`` anchored at data point (x, y), sized in screen pixels:
    ``box`` = (x0, x1, y0, y1) around the anchor, so it keeps its size when the map zooms."""
    x0, x1, y0, y1 = box
    return {
        "type": kind,
        "xref": "x",
        "yref": "y",
        "xsizemode": "pixel",
        "ysizemode": "pixel",
        "xanchor": x,
        "yanchor": y,
        "x0": x0,
        "x1": x1,
        "y0": y0,
        "y1": y1,
        "line": {"color": color, "width": width},
        "layer": "above",
    }


def _ring(x: float, y: float, color: str, width: float) -> dict:
    r = RING_SIZE / 2
    return _pixel_shape("circle", x, y, (-r, r, -r, r), color, width)


def _cross(x: float, y: float, color: str, width: float) -> list[dict]:
    r = 7
    return [_pixel_shape("line", x, y, (-r, r, s0, -s0), color, width) for s0 in (-r, r)]


def overlay_shapes(explorer: Explorer, view: PointView, z_xy: np.ndarray | None) -> list[dict]:
    """The highlighted image (a ring and, where sigma is visible, its ellipse) and z (a cross) as shapes:
    the scatter traces stay the same, so the browser only redraws these."""
    shapes = []
    (x0, x1), (y0, y1) = explorer.limits
    ellipse = view.ellipse
    extent = np.ptp(ellipse, axis=0) if ellipse is not None else np.zeros(2)
    if ellipse is not None and max(extent[0] / (x1 - x0), extent[1] / (y1 - y0)) >= MIN_ELLIPSE:
        path = "M" + "L".join(f"{px:.5g},{py:.5g}" for px, py in ellipse) + "Z"
        shapes.append(
            {
                "type": "path",
                "path": path,
                "xref": "x",
                "yref": "y",
                "name": "sigma",
                "line": {"color": CURRENT_COLOR, "width": 2},
                "fillcolor": "rgba(17,17,17,0.08)",
                "layer": "above",
            }
        )
    x, y = map(float, view.xy)
    shapes += [
        _ring(x, y, "white", 6) | {"name": "image"},
        _ring(x, y, CURRENT_COLOR, 2.5) | {"name": "image"},
    ]
    if z_xy is not None:
        zx, zy = map(float, z_xy)
        shapes += [c | {"name": "z"} for c in _cross(zx, zy, "white", 6) + _cross(zx, zy, PATH_COLOR, 3)]
    return shapes


def map_figure(explorer: Explorer, view: PointView, z_xy: np.ndarray | None) -> go.Figure:
    """The main map's figure (app.panels.map, all classes) copied, smaller, with the overlay shapes."""
    base = map_panel.map_figure(explorer, _key(explorer), tuple(range(len(CLASS_COLORS))), False, "none")
    fig = go.Figure(base)  # a copy: the cached figure is shared with the main map
    fig.update_layout(
        showlegend=False,
        height=MAP_HEIGHT,
        margin={"l": 40, "r": 8, "t": 6, "b": 24},
        shapes=overlay_shapes(explorer, view, z_xy),
    )
    return fig


def _coords(values, fmt: str = "+.2f") -> str:
    return "(" + ", ".join(f"{v:{fmt}}" for v in values[:2]) + (", ..." if len(values) > 2 else "") + ")"


def map_caption(explorer: Explorer, view: PointView) -> str:
    """Under a map: the objective and what the encoder answered for the highlighted image."""
    sigma = explorer.test_sigma(view.index)
    what = f"{comparison.objective(explorer.config)}, {explorer.d}-D · image #{view.index}:"
    if explorer.d <= 2:
        return f"{what} mu = {_coords(view.xy[: explorer.d])}, sigma = {_coords(sigma, '.2g')}"
    return f"{what} mu on this map = {_coords(view.xy)}, sigma {sigma.mean():.2f} (mean of {explorer.d})"


def _thumb(pixels: np.ndarray) -> np.ndarray:
    return upscale(pixels, THUMB)


def _images_ui(
    models: dict[str, Explorer], views: dict[str, PointView], z: np.ndarray | None, xy: tuple[float, float]
) -> None:
    """The highlighted image with both reconstructions, then the same z decoded by each model."""
    some = next(iter(models.values()), None)
    if some is None:
        return
    i = next(iter(views.values())).index
    st.markdown(f"**Test image #{i}** {class_chip(some.labels[i])}", unsafe_allow_html=True)
    st.image(
        [_thumb(some.images[i]), *(_thumb(views[w].reconstruction) for w in models)],
        caption=["the image", *(f"{w}: {comparison.objective(e.config)}" for w, e in models.items())],
        width=THUMB,
        output_format="PNG",
    )
    left = models.get("left")
    if left is None or z is None:
        return
    where = f"z = {_coords(z)}" if left.d <= 2 else f"z at {_coords(xy)} on the left map"
    st.markdown(f"**The same {where}**, decoded by each model")
    same = {w: e for w, e in models.items() if e.d == left.d}
    points = {w: e.point_view(z, None, 1) for w, e in same.items()}
    ratios = {w: points[w].distances[0] / _spacing(e, _key(e)) for w, e in same.items()}
    st.image(
        [_thumb(points[w].image) for w in same],
        caption=[f"{w}: {ratios[w]:.0f}× off" for w in same],
        width=THUMB,
        output_format="PNG",
    )
    for w, e in models.items():
        if e.d != left.d:
            st.info(
                f"The {w} model has {e.d} dimensions, the left one {left.d}: the same z means nothing there.",
                icon=":material/block:",
            )
    st.caption(
        "“N× off”: z is N times as far from that model's nearest encoded test image as neighbouring "
        "images usually are from each other. Near 1: among its data; far above: off it."
    )


def _table_ui(entries: list[tuple[str, dict | str]]) -> None:
    """One metrics table for every bundle in the artifacts folder."""
    import pandas as pd

    rows = comparison.metrics_table(entries)
    formats = {name: "%.1f" for name in ("-ELBO", "above floor", "reconstruction", "KL", "IWAE bound")}
    formats.update({"latent dim": "%d", "5-NN": "percent"})
    config = {
        name: st.column_config.NumberColumn(name, help=meaning, format=formats[name])
        if name in formats
        else st.column_config.TextColumn(name, help=meaning or None)
        for name, meaning in comparison.COLUMNS.items()
    }
    st.markdown("**Every bundle in the artifacts folder** (test-set values from each bundle's manifest)")
    st.dataframe(pd.DataFrame(rows, columns=list(comparison.COLUMNS)), hide_index=True, column_config=config)
    notes = [
        f"Nats above the floor: -ELBO minus {comparison.FLOOR_NATS}, the test pixels' own entropy, "
        "which no model can beat."
    ]
    if any(row["note"] == comparison.AUTOENCODER_NOTE for row in rows):
        notes.append(comparison.AUTOENCODER_EXPLANATION)
    st.caption(" ".join(notes))


def compare_ui(
    root: Path,
    names: list[str],
    left: str | None = None,
    right: str | None = None,
    index: int | None = None,
    on_change: Callable[[], None] | None = None,
    point: tuple[float, float] | None = None,
) -> None:
    """The compare view over the bundles ``names`` in ``root``. ``left``, ``right``, ``index`` and
    ``point`` are a link's values (used when the session has none yet); ``on_change`` runs at the end
    (to update the link from :func:`link_fields`)."""
    if not names:
        st.info("No bundles to compare: the artifacts folder holds none.")
        return
    entries = comparison.read_manifests(root, names, lambda e: public_message(e, root))
    _init(names, {n: m for n, m in entries if isinstance(m, dict)}, left, right, index, point)
    s = st.session_state
    controls = st.columns([2.2, 2.2, 1, 1.1, 0.9, 0.9, 1.8, 1.8], vertical_alignment="bottom")
    controls[0].selectbox("Left model", names, key=LEFT_KEY, help="A bundle in the artifacts folder.")
    controls[1].selectbox("Right model", names, key=RIGHT_KEY, help="A bundle to set beside it.")
    maps_col, side_col = st.columns([8, 3], gap="small")
    with maps_col:  # the explanation goes under the two maps, beside the images
        cols = st.columns(2, gap="small")
    models = {}
    for which, key, col in (("left", LEFT_KEY, cols[0]), ("right", RIGHT_KEY, cols[1])):
        with col:
            explorer = _load(root, s[key])
        if explorer is not None:
            models[which] = explorer
    n = min((e.n_images for e in models.values()), default=1)
    if not 0 <= int(s[INDEX_KEY]) < n:
        s[INDEX_KEY] = 0
    controls[2].number_input("Test image", 0, n - 1, key=INDEX_KEY, help="Highlighted on both maps.")
    controls[3].button(
        "Random", key="cmp_random", on_click=_random_image, args=(n,), help="Another test image."
    )
    i = int(s[INDEX_KEY])
    left_model = models.get("left")
    z = None
    if left_model is not None:
        right_model = models.get("right")
        other = right_model if right_model is not None and right_model.d == left_model.d else None
        keys = (_key(left_model), "" if other is None else _key(other))
        holes = {"left": _gap(left_model, other, False, keys)}
        if other is not None:
            holes["right"] = _gap(left_model, other, True, keys)
        pair = (s[LEFT_KEY], s[RIGHT_KEY])
        if s.get(POINT_FOR_KEY) != pair:  # a new pair: start in the right map's hole (the defaults'
            _set_point(holes.get("right", holes["left"]), pair)  # autoencoder), where z is far off its data
        axes = ("z₁", "z₂") if left_model.d == 2 else ("map x", "map y")
        help_text = "A point on the left map's plane, decoded by each model."
        controls[4].number_input(axes[0], -1e4, 1e4, key=X_KEY, step=0.1, format="%.2f", help=help_text)
        controls[5].number_input(axes[1], -1e4, 1e4, key=Y_KEY, step=0.1, format="%.2f", help=help_text)
        for col, which in ((controls[6], "left"), (controls[7], "right")):
            col.button(
                f"Hole, {which} map",
                key=f"cmp_hole_{which}",
                on_click=_set_point,
                args=(holes.get(which, holes["left"]), pair),
                disabled=which not in holes,
                help=f"z at the spot farthest from the {which} model's encoded test images (within the "
                "range of both maps): a point off its data.",
            )
        z = comparison.plane_point(left_model.projection, (s[X_KEY], s[Y_KEY]))
    views = {w: e.point_view(e.test_point(i), i, 1) for w, e in models.items()}
    for which, col in (("left", cols[0]), ("right", cols[1])):
        if which not in models:
            continue
        explorer = models[which]
        z_xy = explorer.to_map(z)[0] if z is not None and explorer.d == left_model.d else None
        with col:
            st.plotly_chart(
                map_figure(explorer, views[which], z_xy),
                key=MAP_KEYS[which],
                on_select=lambda w=which: _pick(w),
                selection_mode="points",
                theme=None,
                config={"displaylogo": False, "scrollZoom": False, "modeBarButtonsToRemove": ["lasso2d"]},
            )
            st.caption(f"{literal(explorer.name)}: {map_caption(explorer, views[which])}")
    with side_col:
        st.markdown(" ".join(class_chip(c) for c in range(len(CLASS_COLORS))), unsafe_allow_html=True)
        _images_ui(models, views, z, (s.get(X_KEY, 0.0), s.get(Y_KEY, 0.0)))
    maps_col.markdown(EXPLANATION)
    _table_ui(entries)
    if on_change is not None:
        on_change()


# A change in the view reruns the view only, not the page.
compare_fragment = st.fragment(compare_ui)
