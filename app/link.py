"""The link: URL query string <-> :class:`LinkState`, pure parse/format functions (no Streamlit here).

A shared link carries the whole view: the bundle, the current latent point, the open view,
the selected test image, that view's settings and the map's display options, e.g.
``?bundle=fashion-mnist-2d&z=0.512,-1.3&view=interpolate&i=42&a=centroid:0&b=current&steps=12``;
the lesson's step (``?mode=learn&step=3``) and the compared bundle (``?mode=compare&vs=...``) too.
Parsing never raises: a malformed or over-long value is dropped and a notice says which
one and why, so the app can show it and carry on with its defaults.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from app.text import literal

VIEWS = ("interpolate", "manifold", "prior", "encode", "inside", "traverse")
MODES = ("explore", "learn", "compare")  # the page's three parts; explore is the default
LESSON_STEPS = 6  # the lesson's steps, numbered from 1
MAX_VALUE_CHARS = 4000  # a 256-D point at 4 decimals fits easily
MAX_DIMS = 256  # the largest latent_dim vae_core supports
MAX_SLIDERS = 16  # one slider per dimension up to this latent_dim; beyond, principal directions first
MAX_ABS_COORD = 1e4  # a coordinate beyond this is a typo, not a place on the map
DECIMALS = 4  # coordinates in the URL: enough for the pixel, short enough to share
MAX_CLASSES = 50  # class numbers in a link are 0 to 49; the bundle says how many it has
STEPS = (2, 32)  # interpolation frames (vae_core.geometry.MIN_STEPS, MAX_STEPS)
PATHS = ("linear", "spherical")
ENDPOINT_KINDS = ("centroid", "image", "current")
GRID_SIZES = (2, 30)  # the decoded grid's N
SAMPLE_SIZES = (2, 12)  # the prior samples grid's size
MAX_SEED = 2**31 - 1
BACKGROUNDS = ("none", "prior", "aggregate")
FACTOR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")  # vae_core.schema.FACTOR_NAME


@dataclass(frozen=True)
class LinkState:
    """What a link restores. None means "not given": the app keeps its default."""

    bundle: str | None = None
    mode: str | None = None  # one of MODES
    step: int | None = None  # the lesson's step (mode learn), 1 to LESSON_STEPS
    vs: str | None = None  # the bundle compared with ``bundle`` (mode compare)
    cz: tuple[float, ...] | None = None  # the point both compared models decode (x, y on the left map)
    z: tuple[float, ...] | None = None  # the current latent point, latent_dim numbers
    view: str | None = None  # one of VIEWS
    index: int | None = None  # a selected test image
    # the interpolation; endpoints as (kind, number): ("centroid", class), ("image", test image) or
    # ("current", None)
    a: tuple[str, int | None] | None = None
    b: tuple[str, int | None] | None = None
    steps: int | None = None
    path: str | None = None  # one of PATHS
    # the decoded grid: N, and the box drawn on the map (x0, x1, y0, y1)
    grid: int | None = None
    box: tuple[float, float, float, float] | None = None
    # the prior samples: grid size and seed
    samples: int | None = None
    seed: int | None = None
    # the map's display options
    classes: tuple[int, ...] | None = None  # the classes shown (sorted; () = none)
    sized: bool | None = None  # point size = encoder uncertainty
    background: str | None = None  # one of BACKGROUNDS
    colour: str | None = None  # colour the map by this factor of the data (None: by class)
    hover: bool | None = None  # decode under the pointer (False: off)
    compact: bool | None = None  # the compact (one-screen) layout
    flat: bool | None = None  # a 3-D model's map drawn flat (its first two principal components)
    camera: tuple[float, float, float] | None = None  # where a 3-D map is seen from (Plotly's camera eye)


# query key -> LinkState field
KEYS = {
    "bundle": "bundle",
    "mode": "mode",
    "step": "step",
    "vs": "vs",
    "cz": "cz",
    "z": "z",
    "view": "view",
    "i": "index",
    "a": "a",
    "b": "b",
    "steps": "steps",
    "path": "path",
    "n": "grid",
    "box": "box",
    "samples": "samples",
    "seed": "seed",
    "classes": "classes",
    "size": "sized",
    "bg": "background",
    "colour": "colour",
    "hover": "hover",
    "layout": "compact",
    "map": "flat",
    "cam": "camera",
}


def _first(value: object) -> str:
    """Streamlit gives the last value of a repeated key; plain dicts may hold lists."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


def parse_query(params: Mapping[str, object], n_images: int | None = None) -> tuple[LinkState, list[str]]:
    """A LinkState from query parameters, plus one notice per ignored (malformed) value.

    Unknown keys are ignored silently (other tools may add their own). ``n_images`` bounds
    the test-image index when known.
    """
    notices: list[str] = []
    values: dict[str, object] = {}
    for key, field in KEYS.items():
        if key not in params:
            continue
        raw = _first(params[key]).strip()
        if len(raw) > MAX_VALUE_CHARS:
            notices.append(
                f"Ignored the link's `{key}`: it is {len(raw)} characters long (at most {MAX_VALUE_CHARS})."
            )
            continue
        parsed, problem = _PARSERS[key](raw, n_images)
        if problem:
            notices.append(f"Ignored the link's `{key}` value {literal(shorten(raw))}: {problem}.")
        else:
            values[field] = parsed
    return LinkState(**values), notices


MAX_NAME_CHARS = 200  # a bundle's folder name


def _parse_bundle(raw: str, _n: int | None) -> tuple[str | None, str]:
    """A bundle's folder name: any plain name (a space or an accent is fine; a folder, a hidden name or a
    control character is not). Whether there is such a bundle is checked against the folder."""
    ok = (
        0 < len(raw) <= MAX_NAME_CHARS
        and not raw.startswith(".")
        and not any(c in "/\\" for c in raw)
        and raw.isprintable()
    )
    return (raw, "") if ok else (None, "a bundle name is a plain folder name (no '/', not hidden)")


def _parse_z(raw: str, _n: int | None) -> tuple[tuple[float, ...] | None, str]:
    parts = raw.split(",")
    if len(parts) > MAX_DIMS:
        return None, f"it has {len(parts)} coordinates (at most {MAX_DIMS})"
    try:
        z = tuple(float(p) for p in parts)
    except ValueError:
        return None, "expected comma-separated numbers like 0.5,-1.2"
    if not all(math.isfinite(v) and abs(v) <= MAX_ABS_COORD for v in z):
        return None, f"coordinates must be finite numbers within ±{MAX_ABS_COORD:g}"
    return z, ""


def _parse_view(raw: str, _n: int | None) -> tuple[str | None, str]:
    return (raw, "") if raw in VIEWS else (None, f"expected one of {', '.join(VIEWS)}")


def _parse_map_point(raw: str, n: int | None) -> tuple[tuple[float, ...] | None, str]:
    if len(raw.split(",")) != 2:
        return None, "expected two numbers x,y"
    return _parse_z(raw, n)


def _parse_mode(raw: str, _n: int | None) -> tuple[str | None, str]:
    return (raw, "") if raw in MODES else (None, f"expected one of {', '.join(MODES)}")


def _parse_index(raw: str, n: int | None) -> tuple[int | None, str]:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # "²".isdigit() but int("²") fails
        return None, "expected a test-image number like 42"
    index = int(raw)
    if n is not None and index >= n:
        return None, f"there are only {n} test images (0 to {n - 1})"
    return index, ""


def _parse_count(low: int, high: int, what: str):
    def parse(raw: str, _n: int | None) -> tuple[int | None, str]:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not low <= int(raw) <= high:
            return None, f"expected {what} from {low} to {high}"
        return int(raw), ""

    return parse


def _parse_endpoint(raw: str, n: int | None) -> tuple[tuple[str, int | None] | None, str]:
    kind, _, number = raw.partition(":")
    if kind == "current" and not number:
        return ("current", None), ""
    if kind == "centroid":
        value, problem = _parse_count(0, MAX_CLASSES - 1, "a class number")(number, None)
        return (None, problem) if problem else (("centroid", value), "")
    if kind == "image":
        value, problem = _parse_index(number, n)
        return (None, problem) if problem else (("image", value), "")
    return None, "expected centroid:CLASS, image:NUMBER or current"


def _parse_path(raw: str, _n: int | None) -> tuple[str | None, str]:
    return (raw, "") if raw in PATHS else (None, f"expected one of {', '.join(PATHS)}")


def _parse_box(raw: str, n: int | None) -> tuple[tuple[float, ...] | None, str]:
    parts = raw.split(",")
    if len(parts) != 4:
        return None, "expected four numbers x0,x1,y0,y1"
    box, problem = _parse_z(raw, n)
    if problem:
        return None, problem
    if not (box[0] < box[1] and box[2] < box[3]):
        return None, "expected x0 < x1 and y0 < y1"
    return box, ""


def _parse_classes(raw: str, _n: int | None) -> tuple[tuple[int, ...] | None, str]:
    if raw == "none":
        return (), ""
    parts = raw.split(",")
    if not all(p.isascii() and p.isdigit() and len(p) <= 2 and int(p) < MAX_CLASSES for p in parts):
        return None, f"expected class numbers from 0 to {MAX_CLASSES - 1} like 0,3,9, or none"
    return tuple(sorted({int(p) for p in parts})), ""


def _parse_size(raw: str, _n: int | None) -> tuple[bool | None, str]:
    return (True, "") if raw == "std" else (None, "expected std")


def _parse_hover(raw: str, _n: int | None) -> tuple[bool | None, str]:
    return (False, "") if raw == "off" else (None, "expected off")


def _parse_layout(raw: str, _n: int | None) -> tuple[bool | None, str]:
    return (True, "") if raw == "compact" else (None, "expected compact")


def _parse_flat(raw: str, _n: int | None) -> tuple[bool | None, str]:
    return {"2d": (True, ""), "3d": (False, "")}.get(raw, (None, "expected 2d or 3d"))


MIN_CAMERA, MAX_CAMERA = 1e-3, 100.0  # a camera nearer or farther than this from the centre sees nothing


def camera_ok(eye: object) -> bool:
    """Whether ``eye`` is a place a 3-D map can be seen from: three finite numbers, MIN_CAMERA to
    MAX_CAMERA from the centre (the link's, the view's and the page's cameras are all held to it)."""
    if not isinstance(eye, (tuple, list)) or len(eye) != 3:
        return False
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in eye):
        return False
    return MIN_CAMERA <= math.hypot(*eye) <= MAX_CAMERA


def _parse_camera(raw: str, n: int | None) -> tuple[tuple[float, float, float] | None, str]:
    if len(raw.split(",")) != 3:
        return None, "expected three numbers x,y,z (where the 3-D map is seen from)"
    eye, problem = _parse_z(raw, n)
    if problem:
        return None, problem
    if not camera_ok(eye):
        return None, f"the camera must be between {MIN_CAMERA:g} and {MAX_CAMERA:g} from the centre"
    return eye, ""


def _parse_background(raw: str, _n: int | None) -> tuple[str | None, str]:
    return (raw, "") if raw in BACKGROUNDS else (None, f"expected one of {', '.join(BACKGROUNDS)}")


def _parse_colour(raw: str, _n: int | None) -> tuple[str | None, str]:
    return (raw, "") if FACTOR_NAME.fullmatch(raw) else (None, "expected the name of a factor of the data")


_PARSERS = {
    "bundle": _parse_bundle,
    "mode": _parse_mode,
    "step": _parse_count(1, LESSON_STEPS, "a lesson step"),
    "vs": _parse_bundle,
    "cz": _parse_map_point,
    "z": _parse_z,
    "view": _parse_view,
    "i": _parse_index,
    "a": _parse_endpoint,
    "b": _parse_endpoint,
    "steps": _parse_count(*STEPS, "a number of steps"),
    "path": _parse_path,
    "n": _parse_count(*GRID_SIZES, "a grid size"),
    "box": _parse_box,
    "samples": _parse_count(*SAMPLE_SIZES, "a grid size"),
    "seed": _parse_count(0, MAX_SEED, "a seed"),
    "classes": _parse_classes,
    "size": _parse_size,
    "bg": _parse_background,
    "colour": _parse_colour,
    "hover": _parse_hover,
    "layout": _parse_layout,
    "map": _parse_flat,
    "cam": _parse_camera,
}


def shorten(raw: str, limit: int = 40) -> str:
    """``raw`` cut to ``limit`` characters (with "...") for a notice."""
    return raw if len(raw) <= limit else raw[: limit - 3] + "..."


def format_z(z: object) -> str:
    """``0.5123,-1.3`` : the point's coordinates rounded to DECIMALS, without trailing zeros."""
    out = []
    for v in z:  # type: ignore[union-attr]
        text = f"{float(v):.{DECIMALS}f}".rstrip("0").rstrip(".")
        out.append("0" if text in ("-0", "") else text)
    return ",".join(out)


def format_endpoint(endpoint: tuple[str, int | None]) -> str:
    kind, number = endpoint
    return kind if number is None else f"{kind}:{int(number)}"


_FORMATTERS = {
    "z": format_z,
    "cz": format_z,
    "box": format_z,
    "a": format_endpoint,
    "b": format_endpoint,
    "classes": lambda classes: ",".join(str(int(c)) for c in sorted(classes)) or "none",
    "size": lambda sized: "std",
    "layout": lambda compact: "compact",
    "hover": lambda hover: "off",
    "map": lambda flat: "2d",
    "cam": lambda eye: format_z(round(v, 2) for v in eye),
}


def format_query(state: LinkState) -> dict[str, str]:
    """Query parameters for a LinkState (only the fields that are set; switches only when on)."""
    params: dict[str, str] = {}
    for key, field in KEYS.items():
        value = getattr(state, field)
        if value is None or (key in ("size", "layout", "map") and not value) or (key == "hover" and value):
            continue
        params[key] = _FORMATTERS.get(key, str)(value)
    return params
