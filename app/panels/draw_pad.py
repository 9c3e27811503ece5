"""Draw your own: a drawing pad, at the bundle's resolution, whose image is encoded live in the browser.

One components.v2 component (``app/frontend/draw.js``). While a person draws (mouse, pen or
finger), the bundle's ONNX encoder runs in the browser on every pointer move ("latest wins"),
and the component shows, on a small latent map of its own, the encoder's 2-sigma ellipse q(z|x)
for the drawing, the decode of its mean, and mu and sigma as numbers. When a stroke ends (and on
Clear) the browser sends the pixels to the server (trigger ``stroke``); :func:`draw_pad` returns
the latest of them, so the server can score the drawing. Without WebAssembly or a browser model
the pad still draws and still sends each stroke; it says in one quiet line that live encoding is
off. A pad draws in grey: it is for bundles of grey images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from app import components
from app.browser_assets import RUNTIME_URL
from app.explorer import Explorer
from app.style import class_colors
from vae_core.images import crisp_width

KEY = "draw_pad"  # the default key: the component's trigger values live in st.session_state[key]
PAD_PX = 252  # side of the pad on screen
MAP_POINTS = 2000  # test points on the pad's own latent map (enough to show the classes' regions)
SHOWN_DIMS = 4  # mu and sigma are written out for this many latent dimensions
N_STD = 2.0  # the ellipse is the 2-sigma contour of q(z|x), like vae_core.geometry.posterior_ellipse
TOLERANCE = 1e-3  # the browser rounds pixels to 3 decimals: values this far outside [0, 1] are clipped


@dataclass(frozen=True)
class Stroke:
    """The pad's pixels as the browser sent them when a stroke ended (or the pad was cleared)."""

    n: int  # grows with every message from the browser (a time stamp), so each is applied once
    pixels: np.ndarray  # (H, W, 1) float32 in [0, 1], light ink on black


@dataclass
class _Received:
    """What the server has applied so far, per pad (in st.session_state)."""

    n: int = 0  # the newest stroke applied
    count: int = 0  # strokes applied in this session
    pixels: np.ndarray | None = None  # (H, W, 1) the latest drawing; None when blank


def parse_stroke(value: object, shape: tuple[int, int, int]) -> Stroke | None:
    """The stroke in a component value ``{"stroke": {"pixels": [H * W numbers], "n": int}}``, or
    None when there is none or it is malformed (wrong length, not numbers, non-finite, out of
    [0, 1], a bad counter): the browser is outside our control, so bad input is ignored, never a crash.
    """
    stroke = value.get("stroke") if value is not None and hasattr(value, "get") else None
    if not hasattr(stroke, "get"):
        return None
    n, pixels = stroke.get("n"), stroke.get("pixels")
    if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or not 1 <= n <= 2**53:
        return None
    if not isinstance(pixels, (list, tuple)) or len(pixels) != shape[0] * shape[1]:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pixels):
        return None
    image = np.asarray(pixels, dtype=np.float64)
    if not np.all(np.isfinite(image)) or image.min() < -TOLERANCE or image.max() > 1 + TOLERANCE:
        return None
    return Stroke(int(n), np.clip(image, 0.0, 1.0).astype(np.float32).reshape(shape[0], shape[1], 1))


def _state_key(key: str) -> str:
    return f"{key}__received"


def _received(key: str) -> _Received:
    return st.session_state.setdefault(_state_key(key), _Received())


def apply_stroke(shape: tuple[int, int, int], key: str = KEY) -> bool:
    """Take a new stroke from the component's value into the pad's state; True when one was new.

    Idempotent: the component's callback calls it, and :func:`draw_pad` again before drawing
    (for a value that came without the callback, as in AppTest)."""
    stroke = parse_stroke(st.session_state.get(key), shape)
    received = _received(key)
    if stroke is None or stroke.n <= received.n:
        return False
    received.n = stroke.n
    received.count += 1
    received.pixels = stroke.pixels if stroke.pixels.any() else None  # Clear sends a blank pad
    return True


def latest_drawing(key: str = KEY) -> np.ndarray | None:
    """The latest drawing the server received, (H, W, 1) float32 in [0, 1]; None when the pad is blank."""
    pixels = _received(key).pixels
    return None if pixels is None else pixels.copy()


def strokes_received(key: str = KEY) -> int:
    """How many strokes (and clears) the server has applied for this pad in this session."""
    return _received(key).count


def map_sample(xy: np.ndarray, labels: np.ndarray, n: int = MAP_POINTS, seed: int = 0) -> dict:
    """A fixed random subsample of the map's points for the pad's own map: xy rounded, labels."""
    count = len(labels)
    pick = np.sort(np.random.default_rng(seed).choice(count, size=min(n, count), replace=False))
    return {
        "xy": np.round(np.asarray(xy, dtype=np.float64)[pick], 3).tolist(),
        "labels": np.asarray(labels)[pick].astype(int).tolist(),
    }


def pad_data(explorer: Explorer, key: str) -> dict:
    """Everything the browser side needs: the map, the projection, the models, the last drawing."""
    received = _received(key)
    (x0, x1), (y0, y1) = explorer.map.limits
    names = explorer.class_names
    pixels = None if received.pixels is None else np.round(received.pixels.ravel().astype(np.float64), 3)
    return {
        "pixels": None if pixels is None else pixels.tolist(),  # restores the pad when it is drawn anew
        "seen": received.n,
        "map": {
            **map_sample(explorer.map.xy, explorer.bundle.labels),
            "limits": [[float(x0), float(x1)], [float(y0), float(y1)]],
            "colors": list(class_colors(len(names))),
            "names": list(names) if explorer.bundle.data.labelled else [],
        },
        "projection": {
            "mean": explorer.map.projection.mean.tolist(),
            "components": explorer.map.projection.components.tolist(),
        },
        "encoder": explorer.browser.encoder,
        "decoder": explorer.browser.decoder,
        "runtime": RUNTIME_URL,
        "shape": list(explorer.bundle.data.image_shape),
        "size": crisp_width(explorer.bundle.data.image_shape, PAD_PX),
        "shown": SHOWN_DIMS,
        "nStd": N_STD,
    }


def draw_pad(
    explorer: Explorer, key: str = KEY, on_stroke: Callable[[], None] | None = None
) -> np.ndarray | None:
    """Render the pad; return the latest drawing the server received ((H, W, 1) float32 in [0, 1])
    or None while the pad is blank. ``on_stroke`` runs (as a Streamlit callback, before the rerun)
    after each stroke or clear has been applied, so it can read :func:`latest_drawing`."""

    shape = explorer.bundle.data.image_shape

    def on_change() -> None:
        if apply_stroke(shape, key) and on_stroke is not None:
            on_stroke()

    apply_stroke(shape, key)
    components.draw_pad()(key=key, data=pad_data(explorer, key), on_stroke_change=on_change)
    return latest_drawing(key)
