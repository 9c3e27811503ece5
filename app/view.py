"""The view: everything a person has chosen on the page, in one value, and every way it changes.

A :class:`View` is immutable. It changes only through :func:`next_view`, from one of the events
below; widgets and components never write it. Their callbacks record events
(``app.session.record``), and each run applies them at its top, renders the view and writes the
link once. :func:`redraw` says which parts of the page an event's change needs to run again.

Reading this file tells what happens to the view on every event:

* ``LinkOpened``  a session starts: the link's values, each one validated later against the bundle;
* ``Listed``      the page found these bundles: a view's bundle that is not among them is replaced;
* ``Loaded``      the page has the view's bundle loaded: a new bundle resets the point (keeping the
                  selected test image when it has one) and drops what only the old one had;
* ``Committed``   a gesture in the browser (a slider released, the marker dropped) ends at a point;
* ``Chosen``      a point is picked on the server's side: a click on the map, a lesson's "open in the
                  explorer", an encoded image made the current point;
* ``BoxDrawn``    a box drawn on the map: the decoded grid covers it;
* ``Set``         a widget or button changed one setting (the part of the page, the open view, ...).

No Streamlit here: tests/app/test_view.py drives it as plain data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from app import link
from app.text import literal

PARTS = ("point", "view", "compare")  # the page's fragments, by key (app.streamlit_app)


@dataclass(frozen=True)
class View:
    """What is on the page. Defaults are what a first visit without a link shows."""

    bundle: str = ""  # the bundle's folder name ("" until the page picks one)
    mode: str = "explore"  # one of link.MODES
    compact: bool = False  # the one-screen layout
    notices: tuple[str, ...] = ()  # why values of the link were ignored (shown on the page)
    loaded: str = ""  # the bundle (and version) the point below belongs to
    # the current point
    z: tuple[float, ...] = ()  # latent_dim numbers
    index: int | None = None  # the test image the point came from (stays as context while it moves)
    commit_n: int = 0  # the last gesture applied (the browser numbers them, so each counts once)
    painted: bool = False  # the browser already shows z (it decoded the gesture itself)
    neighbours: int = 8  # nearest real items shown
    extra_dims: tuple[int, ...] = ()  # beyond link.MAX_SLIDERS dimensions: single ones that get a slider too
    # the open view of the explorer
    view: str = "interpolate"  # one of link.VIEWS
    # the map's display options
    classes: tuple[int, ...] | None = None  # the classes shown (None: all)
    sized: bool = False  # point size = encoder uncertainty
    background: str = "none"  # one of link.BACKGROUNDS
    colour: str = ""  # colour the map by this factor of the data ("": by class)
    hover: bool = True  # decode under the pointer
    flat: bool = False  # draw a 3-D model's map flat (its first two principal components), not in 3-D
    camera: tuple[float, float, float] | None = None  # the 3-D map's camera eye (None: the default)
    # the interpolation: each endpoint is a class centroid, a test image or the current point
    a_kind: str = "centroid"
    a_class: int = 0
    a_image: int = 0
    b_kind: str = "centroid"
    b_class: int = -1  # -1: the last class
    b_image: int = 1
    steps: int = 10
    path: str = "linear"
    animate: bool = True
    # the decoded grid
    grid: int = 15
    box: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 drawn on the map
    region: str = "prior"  # "prior" (a square around the prior) or "box"
    # prior samples
    samples: int = 8
    seed: int = 0
    # Encode an image: an upload, or a test image by number
    encode_source: str = "upload"
    encode_index: int = 0
    # Inside the VAE: "test" (the selected image), "upload" (encoded last) or "drawing"
    inside_source: str = "test"
    eps_seed: int = 0  # the epsilons drawn in Inside the VAE and the lesson (Resample draws new ones)
    widen: bool = False  # draw those epsilons with a wider sigma, to see what epsilon does
    # the lesson
    step: int = 1
    lesson_image: int | None = None  # None: the lesson picks a telling one
    lesson_source: str = "test"  # "test" or "drawing"
    # the comparison: the left model is ``bundle``
    vs: str | None = None  # the right model
    compare_index: int = 0  # the test image ringed on both maps
    cz: tuple[float, float] | None = None  # the point both decode, on the left map
    cz_for: tuple[str, str] | None = None  # the pair of bundles cz was chosen for


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True)
class LinkOpened:
    state: link.LinkState
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listed:
    """The bundles in the artifacts folder, and the one to open by default."""

    names: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class Loaded:
    """The page loaded the view's bundle. ``point_of(i)`` is test image i's z_mean."""

    bundle: str
    key: str  # changes when the bundle's folder does (another bundle, or re-exported)
    d: int
    n_images: int
    n_classes: int
    point_of: Callable[[int], tuple[float, ...]]
    factors: tuple[str, ...] = ()  # the known factors of its data, by name


@dataclass(frozen=True)
class Committed:
    z: tuple[float, ...]
    n: int  # grows with every gesture the browser commits
    painted: bool  # the browser drew this point itself


@dataclass(frozen=True)
class Chosen:
    z: tuple[float, ...]
    index: int | None
    explore: bool = False  # also open the explorer (from the lesson)


@dataclass(frozen=True)
class BoxDrawn:
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Set:
    field: str
    value: object


Event = LinkOpened | Listed | Loaded | Committed | Chosen | BoxDrawn | Set

# What each settable field accepts (a widget's value, or a button's).
_CHOICES: dict[str, Callable[[object], bool]] = {
    "bundle": lambda v: isinstance(v, str) and bool(v),
    "mode": lambda v: v in link.MODES,
    "compact": lambda v: isinstance(v, bool),
    "view": lambda v: v in link.VIEWS,
    "neighbours": lambda v: _int_in(v, 1, 24),
    "extra_dims": lambda v: (
        isinstance(v, tuple)
        and len(v) <= link.MAX_SLIDERS
        and all(_int_in(i, 0, link.MAX_DIMS - 1) for i in v)
    ),
    "classes": lambda v: (
        v is None or (isinstance(v, tuple) and all(_int_in(c, 0, link.MAX_CLASSES - 1) for c in v))
    ),
    "sized": lambda v: isinstance(v, bool),
    "background": lambda v: v in link.BACKGROUNDS,
    "colour": lambda v: v == "" or (isinstance(v, str) and link.FACTOR_NAME.fullmatch(v) is not None),
    "hover": lambda v: isinstance(v, bool),
    "flat": lambda v: isinstance(v, bool),
    "camera": lambda v: v is None or (isinstance(v, tuple) and link.camera_ok(v)),
    "a_kind": lambda v: v in link.ENDPOINT_KINDS,
    "b_kind": lambda v: v in link.ENDPOINT_KINDS,
    "a_class": lambda v: _int_in(v, 0, link.MAX_CLASSES - 1),
    "b_class": lambda v: _int_in(v, 0, link.MAX_CLASSES - 1),
    "a_image": lambda v: _int_in(v, 0, 10**9),
    "b_image": lambda v: _int_in(v, 0, 10**9),
    "steps": lambda v: _int_in(v, *link.STEPS),
    "path": lambda v: v in link.PATHS,
    "animate": lambda v: isinstance(v, bool),
    "grid": lambda v: _int_in(v, *link.GRID_SIZES),
    "region": lambda v: v in ("prior", "box"),
    "samples": lambda v: _int_in(v, *link.SAMPLE_SIZES),
    "seed": lambda v: _int_in(v, 0, link.MAX_SEED),
    "encode_source": lambda v: v in ("upload", "test"),
    "encode_index": lambda v: _int_in(v, 0, 10**9),
    "inside_source": lambda v: v in ("test", "upload", "drawing"),
    "eps_seed": lambda v: _int_in(v, 0, link.MAX_SEED),
    "widen": lambda v: isinstance(v, bool),
    "step": lambda v: _int_in(v, 1, link.LESSON_STEPS),
    "lesson_image": lambda v: v is None or _int_in(v, 0, 10**9),
    "lesson_source": lambda v: v in ("test", "drawing"),
    "vs": lambda v: isinstance(v, str) and bool(v),
    "compare_index": lambda v: _int_in(v, 0, 10**9),
    "cz": lambda v: isinstance(v, tuple) and len(v) == 2 and all(_finite(c) for c in v),
    "cz_for": lambda v: isinstance(v, tuple) and len(v) == 2,
}


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _finite(value: object) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= link.MAX_ABS_COORD
    )


def _point(z: object) -> tuple[float, ...] | None:
    """A finite point within the link's bounds as a tuple of floats, or None."""
    try:
        values = tuple(float(v) for v in z)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return values if values and all(_finite(v) for v in values) else None


# ---------------------------------------------------------------------------- transitions


def next_view(view: View, event: Event) -> View:
    """The view after ``event``. Malformed values are ignored (the view stays as it was)."""
    if isinstance(event, LinkOpened):
        return _link_opened(view, event)
    if isinstance(event, Listed):
        return _listed(view, event)
    if isinstance(event, Loaded):
        return _loaded(view, event)
    if isinstance(event, Committed):
        z = _point(event.z)
        if z is None or len(z) != len(view.z) or event.n <= view.commit_n:
            return view  # malformed, of another bundle, or already applied
        return dataclasses.replace(view, z=z, commit_n=event.n, painted=bool(event.painted))
    if isinstance(event, Chosen):
        z = _point(event.z)
        if z is None or (view.z and len(z) != len(view.z)):
            return view
        mode = "explore" if event.explore else view.mode
        return dataclasses.replace(view, z=z, index=event.index, painted=False, mode=mode)
    if isinstance(event, BoxDrawn):
        x0, x1, y0, y1 = event.box
        if not (x0 < x1 and y0 < y1) or not all(_finite(v) for v in event.box):
            return view
        return dataclasses.replace(view, box=tuple(map(float, event.box)), region="box", view="manifold")
    if isinstance(event, Set):
        accepts = _CHOICES.get(event.field)
        if accepts is None or not accepts(event.value):
            return view  # also a deselected part of the page (None): the shown one stays
        return dataclasses.replace(view, **{event.field: event.value})
    raise TypeError(f"not a view event: {event!r}")


def _link_opened(view: View, event: LinkOpened) -> View:
    s = event.state
    given = {
        "bundle": s.bundle,
        "mode": s.mode,
        "compact": s.compact,
        "step": s.step,
        "vs": s.vs,
        "cz": s.cz,
        "view": s.view,
        "classes": s.classes,
        "sized": s.sized,
        "background": s.background,
        "colour": s.colour,
        "hover": s.hover,
        "flat": s.flat,
        "camera": s.camera,
        "steps": s.steps,
        "path": s.path,
        "grid": s.grid,
        "samples": s.samples,
        "seed": s.seed,
    }
    for which, endpoint in (("a", s.a), ("b", s.b)):
        if endpoint is not None:
            kind, number = endpoint
            given[f"{which}_kind"] = kind
            if kind != "current":
                given[f"{which}_{'class' if kind == 'centroid' else 'image'}"] = number
    if s.box is not None:
        given.update(box=s.box, region="box")
    values = {k: v for k, v in given.items() if v is not None}
    # The link's point and test image wait for the bundle (Loaded), which says whether they fit.
    pending = {"z": s.z or (), "index": s.index}
    if s.mode == "learn":
        pending = {"z": (), "index": None}
        values["lesson_image"] = s.index
    elif s.mode == "compare":
        pending = {"z": (), "index": None}
        if s.index is not None:
            values["compare_index"] = s.index
    return dataclasses.replace(view, **values, **pending, notices=view.notices + tuple(event.notices))


def _listed(view: View, event: Listed) -> View:
    """Only bundles that exist: an unknown one (a link's, or one removed since) gives way to the default."""
    notices, changes = list(view.notices), {}
    if view.bundle not in event.names:
        if view.bundle:
            notices.append(
                f"Ignored the link's `bundle` value {literal(link.shorten(view.bundle))}: "
                "there is no bundle of that name."
            )
        changes["bundle"] = event.default
    if view.vs is not None and view.vs not in event.names:
        notices.append(
            f"Ignored the link's `vs` value {literal(link.shorten(view.vs))}: "
            "there is no bundle of that name."
        )
        changes["vs"] = None
    if not changes:
        return view
    return dataclasses.replace(view, **changes, notices=tuple(dict.fromkeys(notices)))


def _loaded(view: View, event: Loaded) -> View:
    """Fit the view to the bundle that was loaded: on a new bundle, a new point."""
    notices = list(view.notices)
    changes: dict = {"bundle": event.bundle}
    if view.loaded != event.key or len(view.z) != event.d:
        first = view.loaded == ""
        index, z = view.index, None
        if first and view.z:  # the link's point
            if len(view.z) == event.d:
                z = view.z
            else:
                notices.append(
                    f"Ignored the link's point: it has {len(view.z)} coordinates but this bundle has "
                    f"{event.d} dimensions."
                )
        if index is not None and not 0 <= index < event.n_images:
            if first:
                notices.append(
                    f"Ignored the link's test image {index}: this bundle has {event.n_images} test images."
                )
            index = None
        if z is None:
            index = 0 if index is None else index
            z = event.point_of(index)
        changes.update(loaded=event.key, z=tuple(float(v) for v in z), index=index, painted=False, commit_n=0)
        if not first:
            changes.update(box=None, region="prior")  # a box on the old map means nothing on the new one
    # Values the link (or the last bundle) set that this bundle cannot show fall back to defaults;
    # a notice says so for the link's own values (a person chose the last bundle's, and left it).
    from_link = view.loaded == ""
    last = event.n_classes - 1
    if view.classes is not None and any(c > last for c in view.classes):
        notices.append(f"Ignored classes beyond {last}: this bundle has {event.n_classes} classes.")
        changes["classes"] = tuple(c for c in view.classes if c <= last)
    for which in ("a", "b"):
        if getattr(view, f"{which}_class") > last:
            if from_link:
                notices.append(
                    f"Ignored the link's class {getattr(view, f'{which}_class')} for endpoint "
                    f"{which.upper()}: this bundle has {event.n_classes} classes."
                )
            changes[f"{which}_class"] = 0 if which == "a" else last
        if getattr(view, f"{which}_image") >= event.n_images:
            image = getattr(view, f"{which}_image")
            if from_link:
                notices.append(
                    f"Ignored the link's test image {image} for endpoint {which.upper()}: "
                    f"this bundle has {event.n_images} test images."
                )
            changes[f"{which}_image"] = 0
    if view.colour and view.colour not in event.factors:
        if from_link:
            notices.append(
                f"Ignored the map colour {literal(view.colour)}: "
                "this bundle's data has no factor of that name."
            )
        changes["colour"] = ""
    if view.b_class < 0:
        changes["b_class"] = last
    for field in ("lesson_image", "compare_index"):
        value = getattr(view, field)
        if value is not None and value >= event.n_images:
            notices.append(f"Ignored the test image {value}: this bundle has {event.n_images} test images.")
            changes[field] = None if field == "lesson_image" else 0
    return dataclasses.replace(view, **changes, notices=tuple(dict.fromkeys(notices)))


# ---------------------------------------------------------------------------- what to draw again

_POINT = {"z", "index", "commit_n", "painted", "neighbours", "extra_dims", "hover"}
# The map's display options that only the map shows (its colour and 2-D/3-D switch change the intro too).
_MAP = {"classes", "sized", "background", "camera"}
_VIEW = {
    "view",
    "a_kind",
    "a_class",
    "a_image",
    "b_kind",
    "b_class",
    "b_image",
    "steps",
    "path",
    "animate",
    "grid",
    "box",
    "region",
    "samples",
    "seed",
    "inside_source",
    "encode_source",
    "encode_index",
    "eps_seed",
    "widen",
}
_COMPARE = {"vs", "compare_index", "cz", "cz_for"}
# The part of the page other than the explorer: which part, the lesson's step and image, the comparison.
_PAGE = {"mode", "step", "lesson_image", "lesson_source"} | _COMPARE


def _view_follows(after: View, changed: set[str]) -> bool:
    """Whether the open view shows what changed about the point: an interpolation from or to the
    current point, Inside the VAE following the selected test image, or the traversals at the point."""
    if after.view == "interpolate":
        return "z" in changed and "current" in (after.a_kind, after.b_kind)
    if after.view == "inside":
        return "index" in changed
    if after.view == "traverse":
        return "z" in changed
    return False


def redraw(before: View, after: View, explorer_drawn: bool = False) -> str | list[str]:
    """The part of the page to run again after a change: "app" (the whole page) or fragment keys.

    ``explorer_drawn``: the explorer's elements are on the page (hidden while the lesson or the
    comparison shows), drawn for a view that differs from ``after`` only in the fields of the rest
    of the page; then going back to Explore only shows them again (the fragment "page")."""
    changed = {f.name for f in dataclasses.fields(View) if getattr(before, f.name) != getattr(after, f.name)}
    if not changed:
        return []
    if after.mode == "explore" and changed <= _POINT | _VIEW | _MAP:
        parts = []
        if changed & _MAP:
            parts.append("map")
        if changed & _POINT:
            parts.append("point")
        if changed & _VIEW or _view_follows(after, changed):
            parts.append("view")
        return parts
    if after.mode == "compare" and changed <= _COMPARE:
        return ["compare"]
    if changed <= _PAGE and (after.mode != "explore" or explorer_drawn):
        return ["page"]
    return "app"


# ---------------------------------------------------------------------------- the link


def link_of(view: View) -> link.LinkState:
    """What the link shows for this view: the bundle and the part of the page, with its settings."""
    if view.mode == "learn":
        index = view.lesson_image if view.lesson_source != "drawing" else None
        return link.LinkState(bundle=view.bundle, mode="learn", step=view.step, index=index)
    if view.mode == "compare":
        return link.LinkState(
            bundle=view.bundle, mode="compare", vs=view.vs, index=view.compare_index, cz=view.cz
        )
    fields: dict = {
        "bundle": view.bundle,
        "z": view.z,
        "view": view.view,
        "index": view.index,
        "compact": view.compact,
        "classes": view.classes,
        "sized": view.sized or None,
        "background": None if view.background == "none" else view.background,
        "colour": view.colour or None,
        "hover": None if view.hover else False,
        "flat": view.flat or None,
        "camera": view.camera,
    }
    if view.view == "interpolate":
        for which in ("a", "b"):
            kind = getattr(view, f"{which}_kind")
            number = {"centroid": f"{which}_class", "image": f"{which}_image"}.get(kind)
            fields[which] = (kind, None if number is None else getattr(view, number))
        fields.update(steps=view.steps, path=view.path)
    elif view.view == "manifold":
        fields["grid"] = view.grid
        if view.region == "box" and view.box is not None:
            fields["box"] = view.box
    elif view.view == "prior":
        fields.update(samples=view.samples, seed=view.seed)
    return link.LinkState(**fields)
