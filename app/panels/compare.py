"""Compare models: two bundles' maps side by side, the same test image and the same z in both,
and one metrics table for every bundle in the artifacts folder.

Entry point :func:`compare_fragment` (the fragment "compare"): the left model is the view's bundle,
the right one ``view.vs``; their choices, the ringed image and the decoded point live in the view
(``app.view``). The bundles are reached only through their :class:`Explorer`
(``app.resources.load_explorer``).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import alt, comparison, components, session
from app.explorer import Explorer, PointView
from app.figures import MapStyle, picture_ranges
from app.figures import map_figure as base_map
from app.panels import traversals
from app.panels.current_point import parse_pick
from app.resources import DEFAULT_BUNDLE, bundle_version, default_bundle_name, load_explorer
from app.style import CURRENT_COLOR, PATH_COLOR, UNLABELLED_COLOR, class_chip, class_colors, ink_on
from app.text import escape_markdown, literal, public_message
from app.view import Set
from vae_core.bundle import DataInfo
from vae_core.images import upscale
from vae_core.manifest import BundleError

LEFT_KEY, RIGHT_KEY = "cmp_left", "cmp_right"  # the two bundle selectors
INDEX_KEY = "cmp_index"  # the highlighted test image
TRAVERSALS_KEY = "cmp_traversals_open"  # the traversals expander: open or not
X_KEY, Y_KEY = "cmp_x", "cmp_y"  # the decoded point, on the left map's plane
MAP_KEYS = {"left": "cmp_map_left", "right": "cmp_map_right"}  # the charts
PICK_KEYS = {"left": "cmp_pick_left", "right": "cmp_pick_right"}  # their pickers (hover, a clicked point)
MAP_HEIGHT = 390  # px: two maps and the decoded images fit a 1280 x 720 screen
# Each map's points are one picture (as the lesson's small maps), not 10,000 WebGL points: Compare
# answers a click in about half the time (bench/clicks.py). A picture does not zoom: Explore's map does.
MAP_STYLE = MapStyle(legend=False, hover=False, height=MAP_HEIGHT, small=True, fill=True)
THUMB = 96  # px side of each image (28 px scaled, crisp)
RING_SIZE = 22  # px: the highlighted image's ring
MIN_ELLIPSE = 0.004  # an ellipse narrower than this share of the map's span is not drawn (a point)

EXPLANATION = (
    "**What the KL term buys.** Each model squeezes an image into a few numbers, its code z: a point on "
    "the map. The encoder answers with a centre, *mu* (the ring on each map), and, in a VAE, a spread, "
    "*sigma* (the ellipse around it): the code is drawn at random from that cloud. A plain "
    "**autoencoder** has no KL term and no spread: nothing asks its codes to stay near the middle of the "
    "map or to leave no room between them, so its map has holes, and a point in a hole decodes to "
    "garbage: its decoder never saw a code there. The **VAE**'s KL term is a price for codes far from the"
    " middle and for spreads smaller than 1, so the clouds of neighbouring images overlap and fill the "
    "space: wherever there is data nearby, a point decodes to something like the data. A **β-VAE** with β"
    " = 4 pays four times that price: it squeezes harder, so its map is more crowded, the classes overlap"
    " more and its images are blurrier. The two maps' axes were learned separately, so the same z is not "
    "the same image in both; what to compare is whether each model decodes something sensible at a point "
    "off its data (the number under each image says how far off that is). *Hole, left map* and *Hole, "
    "right map* put z (the red cross) in the deepest hole of either map."
)


def default_pair(names: list[str], manifests: dict[str, dict], left: str | None = None) -> tuple[str, str]:
    """Left (unless given): the default bundle, else the first readable 2-D VAE; right: an autoencoder
    of the same latent dim when there is one, else the next readable bundle. ``manifests``: the
    readable bundles."""
    readable = [n for n in names if n in manifests] or names

    def config(name: str) -> dict:
        return manifests.get(name, {}).get("config", {})

    def first(candidates: list[str], *tests) -> str | None:
        return next((n for n in candidates if all(test(config(n)) for test in tests)), None)

    def is_vae(c: dict) -> bool:
        return not c.get("deterministic") and c.get("beta") == 1

    left = left if left in names else DEFAULT_BUNDLE if DEFAULT_BUNDLE in readable else None
    left = left or first(readable, is_vae, lambda c: c.get("latent_dim") == 2) or first(readable, is_vae)
    left = left or default_bundle_name(readable)
    others = [n for n in readable if n != left] or [left]
    d = config(left).get("latent_dim")
    autoencoder = first(others, lambda c: bool(c.get("deterministic")), lambda c: c.get("latent_dim") == d)
    return left, autoencoder or first(others, lambda c: c.get("latent_dim") == d) or others[0]


def likely_next(names: list[str], manifests: dict[str, dict], current: str) -> list[str]:
    """The bundles a visitor of ``current`` most likely opens next, for preloading: Compare's default
    partner, then the other bundles of its data set, by name. ``manifests``: the readable bundles."""
    if current not in manifests:
        return []
    ours = data_key(manifests[current])
    same = [n for n in names if n != current and n in manifests and data_key(manifests[n]) == ours]
    if not same:
        return []
    partner = default_pair([current, *same], manifests, current)[1]
    return [partner, *(n for n in same if n != partner)]


def readable_manifests(root: Path, names: list[str]) -> dict[str, dict]:
    """The manifests of the bundles under ``root`` that can be read."""
    return {n: m for n, m in comparison.read_manifests(root, names) if isinstance(m, dict)}


def _key(explorer: Explorer) -> str:
    """A key for a loaded bundle: its folder (unique, unlike a manifest's name) and version. It reaches the
    browser (the map's uirevision), so the folder is hashed: no server path in the page."""
    path = explorer.bundle.path
    return f"{hashlib.sha256(str(path).encode()).hexdigest()[:12]}:{bundle_version(path)}"


@st.cache_data(max_entries=32, show_spinner=False)
def _gap(
    _left: Explorer, _other: Explorer | None, in_other: bool, key: tuple[str, str]
) -> tuple[float, float]:
    return comparison.gap_on_map(_left, _other, in_other)


@st.cache_data(max_entries=16, show_spinner=False)
def _spacing(_explorer: Explorer, key: str) -> float:
    return comparison.spacing_of(_explorer)


def _random_image(n: int) -> None:
    session.record(Set("compare_index", int(np.random.default_rng().integers(n))))


def _pick(which: str, n: int) -> None:
    index = parse_pick(st.session_state.get(PICK_KEYS[which]), n)
    if index is not None:
        session.record(Set("compare_index", index))


def _base64(a: np.ndarray) -> str:
    return base64.b64encode(a.astype(a.dtype.newbyteorder("<")).tobytes()).decode("ascii")


@st.cache_data(max_entries=8, show_spinner=False)
def _points(_explorer: Explorer, key: str) -> dict:
    return picker_points(_explorer)


NOT_DRAWN = 65535  # a picker's point beyond the picture (or not finite): not drawn, not picked


def picker_points(explorer: Explorer) -> dict:
    """What the browser's picker (``picker.js``) needs to name and pick the map's points, base64 and
    little-endian: their places (x, y interleaved, uint16: 0 to NOT_DRAWN - 1 across the ranges
    ``within`` that the picture covers, NOT_DRAWN beyond them) and classes (uint8, or uint16 past
    256 classes), with the classes' names, colours and the text colour on each (as on a class's
    chip); a data set without classes sends no classes and one colour. A 16-bit step is a
    thousandth of a pixel: exact enough, half of float32's bytes."""
    bundle = explorer.bundle
    within = picture_ranges(explorer.map.limits, MAP_STYLE)
    lo, hi = np.array(within).T  # (x0, y0), (x1, y1)
    with np.errstate(invalid="ignore"):
        share = (explorer.map.xy[:, :2] - lo) / (hi - lo)
        drawn = np.all((share >= 0) & (share <= 1), axis=1)  # NaN: not drawn
    places = np.where(drawn[:, None], np.round(np.nan_to_num(share) * (NOT_DRAWN - 1)), NOT_DRAWN)
    data = {"xy": _base64(places.astype(np.uint16)), "within": within, "labels": None, "label_bytes": 1}
    if bundle.data.labelled:
        n = len(explorer.class_names)
        dtype = np.uint8 if n <= 256 else np.uint16
        data |= {"labels": _base64(bundle.labels.astype(dtype)), "label_bytes": np.dtype(dtype).itemsize}
        colors = list(class_colors(n))
        data |= {"names": list(explorer.class_names), "colors": colors, "inks": [ink_on(c) for c in colors]}
    else:
        data |= {"names": [], "colors": [UNLABELLED_COLOR], "inks": [ink_on(UNLABELLED_COLOR)]}
    return data


def map_picker(which: str, explorer: Explorer) -> None:
    """Hover names the map's point under the pointer, a click on one picks its test image."""
    key = _key(explorer)
    data = {"key": key, "target": f".st-key-{MAP_KEYS[which]}", **_points(explorer, key)}
    n = len(explorer.bundle.labels)
    components.map_picker()(key=PICK_KEYS[which], data=data, on_click_change=lambda: _pick(which, n))


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
    (x0, x1), (y0, y1) = explorer.map.limits
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
    """The map of every test image, its points one picture (``MAP_STYLE``), with the overlay shapes."""
    fig = go.Figure(base_map(explorer, _key(explorer), MAP_STYLE))  # a copy of the cached one
    fig.update_layout(margin={"l": 40, "r": 8, "t": 6, "b": 24}, shapes=overlay_shapes(explorer, view, z_xy))
    return fig


def _coords(values, fmt: str = "+.2f") -> str:
    return "(" + ", ".join(f"{v:{fmt}}" for v in values[:2]) + (", ..." if len(values) > 2 else "") + ")"


def map_caption(explorer: Explorer, view: PointView) -> str:
    """Under a map: the objective and what the encoder answered for the highlighted image."""
    sigma, d = explorer.test_sigma(view.index), explorer.bundle.latent_dim
    what = f"{comparison.objective(explorer.bundle.config)}, {d}-D · image #{view.index}:"
    if d <= 2:
        return f"{what} mu = {_coords(view.xy[:d])}, sigma = {_coords(sigma, '.2g')}"
    return f"{what} mu on this map = {_coords(view.xy)}, sigma {sigma.mean():.2f} (mean of {d})"


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
    chip = class_chip(int(some.bundle.labels[i]), some.class_names) if some.bundle.data.labelled else ""
    st.markdown(f"**Test image #{i}** {chip}", unsafe_allow_html=True)
    st.image(
        [_thumb(some.images[i]), *(_thumb(views[w].reconstruction) for w in models)],
        caption=["the image", *(f"{w}: {comparison.objective(e.bundle.config)}" for w, e in models.items())],
        alt=[
            alt.test_image_alt(some, i),
            *(f"The {w} model's reconstruction of test image #{i}" for w in models),
        ],
        width=THUMB,
        output_format="PNG",
    )
    left = models.get("left")
    if left is None or z is None:
        return
    d = left.bundle.latent_dim
    where = f"z = {_coords(z)}" if d <= 2 else f"z at {_coords(xy)} on the left map"
    st.markdown(f"**The same {where}**, decoded by each model")
    same = {w: e for w, e in models.items() if e.bundle.latent_dim == d}
    points = {w: e.point_view(z, None, 1) for w, e in same.items()}
    ratios = {w: points[w].distances[0] / _spacing(e, _key(e)) for w, e in same.items()}
    decoded = {w: e.decode(z)[0] for w, e in same.items()}
    pixels = {w: e.off_data(decoded[w])[2] for w, e in same.items()}
    st.image(
        [_thumb(decoded[w]) for w in same],
        caption=[f"{w}: {ratios[w]:.0f}× off, pixels {pixels[w]:.1f}×" for w in same],
        alt=[alt.decode_alt(e, z, f"The {w} model's decode") for w, e in same.items()],
        width=THUMB,
        output_format="PNG",
    )
    for w, e in models.items():
        if e.bundle.latent_dim != d:
            st.info(
                f"The {w} model has {e.bundle.latent_dim} dimensions, the left one {d}: the same z means "
                "nothing there.",
                icon=":material/block:",
            )
    st.caption(
        "“N× off”: z is N times as far from that model's nearest encoded test image as neighbouring "
        "images usually are from each other. Near 1: among its data; far above: off it. “Pixels M×”: "
        "the decode is M times as far from its nearest real image as that model's reconstructions "
        "usually are; a decode far off the data may still look real (M near 1): the decoder fills "
        "holes with something plausible."
    )


def _table_ui(entries: list[tuple[str, dict | str]], floor_of) -> None:
    """The metrics of every bundle in the artifacts folder: one table per data set (numbers from
    different data sets do not compare), then the notes, and the bundles that cannot be read."""
    groups: dict[str, list[tuple[str, dict | str]]] = {}
    for name, entry in entries:
        if isinstance(entry, dict):
            groups.setdefault(DataInfo.of(entry).name, []).append((name, entry))
    broken = comparison.metrics_table([(n, e) for n, e in entries if not isinstance(e, dict)])
    st.markdown("**Every bundle in the artifacts folder** (test-set values from each bundle's manifest)")
    noted, columns = list(broken), []
    for data_name, group in groups.items():
        rows = comparison.metrics_table(group, floor_of)
        noted += [row for row in rows if row["note"]]
        if len(groups) > 1:
            st.caption(f"Data set {literal(data_name, 80)}")
        columns += [c for c in _metrics_table(rows) if c not in columns]
    notes = [
        "Nats above the floor: -ELBO minus the test pixels' own entropy (each data set's, from its bundle), "
        "which no model can beat."
    ]
    if any(row["note"] == comparison.AUTOENCODER_NOTE for row in noted):
        notes.append(comparison.AUTOENCODER_EXPLANATION)
    lines = [" ".join(notes)]  # each row's note, under the tables: a last column was cut at the edge
    lines += [f"**{escape_markdown(row['bundle'])}**: {escape_markdown(row['note'])}" for row in noted]
    st.caption("  \n".join(lines))
    if columns:
        _columns_ui(columns)


def _metrics_table(rows: list[dict]) -> list[str]:
    """One table, with the factor columns only when a row's data has known factors; its columns.

    A plain table (st.table), not a data grid: the grid's code loads on the first Compare and draws
    the grid twice, the last 0.5 s of that click (bench/clicks.py); the rows are few enough to read
    without sorting, and the columns' meanings follow the tables (:func:`_columns_ui`)."""
    import pandas as pd

    formats = {name: "{:.1f}" for name in ("-ELBO", "above floor", "reconstruction", "KL", "IWAE bound")}
    # whole numbers as {:.0f}: a column with a missing value is a column of floats
    formats.update({"latent dim": "{:.0f}", "epochs": "{:.0f}", "MIG": "{:.2f}", "5-NN": "{:.1%}"})
    columns = [
        name
        for name in comparison.COLUMNS
        if name != "note"
        and (name not in comparison.FACTOR_COLUMNS or any(row["MIG"] is not None for row in rows))
    ]
    frame = pd.DataFrame(rows, columns=columns)
    shown = {name: f for name, f in formats.items() if name in columns}
    st.table(frame.style.format(shown, na_rep="–"), hide_index=True)
    return columns


def _columns_ui(columns: list[str]) -> None:
    """What each column of the tables means (a column's help, for a plain table)."""
    with st.expander("What the columns mean", icon=":material/help:"):
        st.markdown(
            "\n".join(f"- **{escape_markdown(name)}**: {comparison.COLUMNS[name]}" for name in columns)
        )


def data_key(manifest: dict) -> tuple:
    """What makes two bundles comparable: the same data set (its name and image shape)."""
    data = DataInfo.of(manifest)
    return data.name, data.image_shape


def _explorer(root: Path, name: str) -> Explorer | None:
    """The bundle's Explorer, or None after saying (without server paths) why it cannot be used."""
    path = root / name
    try:
        return load_explorer(str(path), bundle_version(path))
    except BundleError as e:
        st.error(f"The bundle {literal(name)} cannot be used:\n\n{literal(public_message(e, root), 600)}")
        return None


@st.fragment(key="compare")
def compare_fragment(root: Path, names: list[str], left_explorer: Explorer) -> None:
    """Compare the view's bundle (left) with another, over the bundles ``names`` in ``root``."""
    view = session.apply_events()
    entries = comparison.read_manifests(root, names, lambda e: public_message(e, root))
    manifests = {n: m for n, m in entries if isinstance(m, dict)}
    # Only models of the same data set compare: the same images, the same pixels to reconstruct.
    ours = data_key(left_explorer.bundle.manifest)
    pairable = [n for n in names if n == view.bundle or (n in manifests and data_key(manifests[n]) == ours)]
    if view.vs not in pairable:  # the page's own choice, kept in the view (and the link)
        view = session.apply(Set("vs", default_pair(pairable, manifests, view.bundle)[1]))
    right_name = view.vs
    controls = st.columns([2.2, 2.2, 1, 1.1, 0.9, 0.9, 1.8, 1.8], vertical_alignment="bottom")
    controls[0].selectbox(
        "Left model", names, help="A bundle in the artifacts folder.", **session.bind("bundle", LEFT_KEY)
    )
    controls[1].selectbox(
        "Right model",
        pairable,
        help=f"A bundle of the same data set ({left_explorer.bundle.data.name}) to set beside it.",
        **session.bind("vs", RIGHT_KEY, to_widget=lambda _: right_name),
    )
    maps_col, side_col = st.columns([8, 3], gap="small")
    with maps_col:  # the explanation goes under the two maps, beside the images
        cols = st.columns(2, gap="small")
    models = {"left": left_explorer}
    with cols[1]:
        right_model = left_explorer if right_name == view.bundle else _explorer(root, right_name)
    if right_model is not None:
        models["right"] = right_model
    n = min(len(e.bundle.labels) for e in models.values())
    i = view.compare_index if 0 <= view.compare_index < n else 0
    controls[2].number_input(
        "Test image",
        0,
        n - 1,
        help="Highlighted on both maps.",
        **session.bind("compare_index", INDEX_KEY, to_widget=lambda _: i),
    )
    controls[3].button(
        "Random", key="cmp_random", on_click=_random_image, args=(n,), help="Another test image."
    )
    d = left_explorer.bundle.latent_dim
    other = right_model if right_model is not None and right_model.bundle.latent_dim == d else None
    keys = (_key(left_explorer), "" if other is None else _key(other))
    holes = {"left": _gap(left_explorer, other, False, keys)}
    if other is not None:
        holes["right"] = _gap(left_explorer, other, True, keys)
    pair = (view.bundle, right_name)
    if view.cz_for != pair or view.cz is None:  # a new pair: start in the right map's hole (the defaults'
        view = session.apply(
            Set("cz", holes.get("right", holes["left"])), Set("cz_for", pair)
        )  # autoencoder)
    cx, cy = view.cz
    axes = ("z₁", "z₂") if d == 2 else ("map x", "map y")
    help_text = "A point on the left map's plane, decoded by each model."
    controls[4].number_input(
        axes[0],
        -1e4,
        1e4,
        step=0.1,
        format="%.2f",
        help=help_text,
        **session.bind("cz", X_KEY, to_widget=lambda v: float(v[0]), from_widget=lambda x: (float(x), cy)),
    )
    controls[5].number_input(
        axes[1],
        -1e4,
        1e4,
        step=0.1,
        format="%.2f",
        help=help_text,
        **session.bind("cz", Y_KEY, to_widget=lambda v: float(v[1]), from_widget=lambda y: (cx, float(y))),
    )
    for col, which in ((controls[6], "left"), (controls[7], "right")):
        col.button(
            f"Hole, {which} map",
            key=f"cmp_hole_{which}",
            disabled=which not in holes,
            help=f"z at the spot farthest from the {which} model's encoded test images (within the "
            "range of both maps): a point off its data.",
            **session.on_click(Set("cz", holes.get(which, holes["left"])), Set("cz_for", pair)),
        )
    z = comparison.plane_point(left_explorer.map.projection, (cx, cy))
    views = {w: e.point_view(e.test_point(i), i, 1) for w, e in models.items()}
    for which, col in (("left", cols[0]), ("right", cols[1])):
        if which not in models:
            continue
        explorer = models[which]
        z_xy = explorer.map.to_map(z)[0] if explorer.bundle.latent_dim == d else None
        with col:
            st.plotly_chart(
                map_figure(explorer, views[which], z_xy),
                key=MAP_KEYS[which],
                theme=None,
                config={"displayModeBar": False, "scrollZoom": False},
            )
            map_picker(which, explorer)
            st.caption(f"{literal(explorer.bundle.name)}: {map_caption(explorer, views[which])}")
    with side_col:
        if left_explorer.bundle.data.labelled:
            names_ = left_explorer.class_names
            st.markdown(" ".join(class_chip(c, names_) for c in range(len(names_))), unsafe_allow_html=True)
        _images_ui(models, views, z, (cx, cy))
    maps_col.markdown(EXPLANATION)
    _traversals_ui(models, i)
    _table_ui(entries, lambda name: _floor(manifests.get(name), left_explorer))  # each read once a run
    if session.in_fragment_run():
        session.write_link(view)


def _traversals_ui(models: dict[str, Explorer], i: int) -> None:
    """Both models' latent traversals at their own code (mu) of the ringed test image, side by side."""
    title = f"Latent traversals of test image #{i}, in each model"
    with st.expander(title, key=TRAVERSALS_KEY, on_change="rerun"):
        if not st.session_state.get(TRAVERSALS_KEY):
            return  # decoded only once opened
        factors = any(e.bundle.metrics.get("disentanglement") for e in models.values())
        st.caption(traversals.explanation(f"test image #{i}'s code (its mu in each model)", factors))
        cols = st.columns(len(models), gap="medium")
        for col, (which, explorer) in zip(cols, models.items(), strict=True):
            with col:
                st.markdown(f"**{literal(explorer.bundle.name)}**")
                traversals.traversals_ui(
                    explorer, explorer.test_point(i), key=f"traversals_{which}", compact=True, caption=False
                )


def _floor(manifest: dict | str | None, loaded: Explorer) -> float | None:
    """A bundle's floor from its manifest (as ``comparison.read_manifests`` gave it); a bundle of the
    same data set as ``loaded`` without one (made before manifests carried it) shares ``loaded``'s."""
    if not isinstance(manifest, dict):
        return None
    floor = (manifest.get("data") or {}).get("floor_nats")
    if isinstance(floor, (int, float)):
        return float(floor)
    return loaded.floor_nats if "image_shape" not in (manifest.get("data") or {}) else None
