"""URL query string <-> explorer state: pure parse/format functions (no Streamlit here).

A shared link carries the bundle, the current latent point, the open view and (optionally)
the selected test image, e.g. ``?bundle=fashion-mnist-2d&z=0.512,-1.3&view=interpolate&i=42``.
Parsing never raises: a malformed or over-long value is dropped and a notice says which
one and why, so the app can show it and carry on with its defaults.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from app.text import literal

VIEWS = ("interpolate", "manifold", "prior", "encode")
MAX_VALUE_CHARS = 4000  # a 256-D point at 4 decimals fits easily
MAX_DIMS = 256  # the largest latent_dim vae_core supports
MAX_ABS_COORD = 1e4  # a coordinate beyond this is a typo, not a place on the map
DECIMALS = 4  # coordinates in the URL: enough for the pixel, short enough to share


@dataclass(frozen=True)
class ViewState:
    """What a link restores. None means "not given": the app keeps its default."""

    bundle: str | None = None
    z: tuple[float, ...] | None = None  # the current latent point, latent_dim numbers
    view: str | None = None  # one of VIEWS
    index: int | None = None  # a selected test image


def _first(value: object) -> str:
    """Streamlit gives the last value of a repeated key; plain dicts may hold lists."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


def parse_query(params: Mapping[str, object], n_images: int | None = None) -> tuple[ViewState, list[str]]:
    """A ViewState from query parameters, plus one notice per ignored (malformed) value.

    Unknown keys are ignored silently (other tools may add their own). ``n_images`` bounds
    the test-image index when known.
    """
    notices: list[str] = []
    values: dict[str, object] = {}
    for key in ("bundle", "z", "view", "i"):
        if key not in params:
            continue
        raw = _first(params[key]).strip()
        if len(raw) > MAX_VALUE_CHARS:
            notices.append(f"Ignored the link's `{key}`: it is {len(raw)} characters long (at most {MAX_VALUE_CHARS}).")
            continue
        parsed, problem = _PARSERS[key](raw, n_images)
        if problem:
            notices.append(f"Ignored the link's `{key}` value {literal(shorten(raw))}: {problem}.")
        else:
            values[key] = parsed
    state = ViewState(
        bundle=values.get("bundle"), z=values.get("z"), view=values.get("view"), index=values.get("i")
    )
    return state, notices


def _parse_bundle(raw: str, _n: int | None) -> tuple[str | None, str]:
    ok = raw and all(c.isalnum() or c in "-_." for c in raw) and not raw.startswith(".")
    return (raw, "") if ok else (None, "a bundle name uses letters, digits, '-', '_' and '.' only")


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


def _parse_index(raw: str, n: int | None) -> tuple[int | None, str]:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # "²".isdigit() but int("²") fails
        return None, "expected a test-image number like 42"
    index = int(raw)
    if n is not None and index >= n:
        return None, f"there are only {n} test images (0 to {n - 1})"
    return index, ""


_PARSERS = {"bundle": _parse_bundle, "z": _parse_z, "view": _parse_view, "i": _parse_index}


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


def format_query(state: ViewState) -> dict[str, str]:
    """Query parameters for a ViewState (only the fields that are set)."""
    params: dict[str, str] = {}
    if state.bundle is not None:
        params["bundle"] = state.bundle
    if state.z is not None:
        params["z"] = format_z(state.z)
    if state.view is not None:
        params["view"] = state.view
    if state.index is not None:
        params["i"] = str(int(state.index))
    return params
