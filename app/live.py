"""The current point, live: the decoded image and the latent sliders as one components.v2
component (``app/frontend/live.js``, run with ``app/frontend/live_decoder.js`` in front of it).

Everything that follows the pointer (a slider drag, hovering the map, dragging the current
point's marker) is decoded in the browser with the bundle's ONNX decoder; the server gets the
final point when the gesture ends (the ``commit`` trigger) and remains the source of truth for
the rest (neighbours, the link, the other panels). Without a browser model, or where the
browser cannot run it, the same panel shows the server's decode and commits on release.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from app.browser_assets import live_decoder_js

if TYPE_CHECKING:  # (importing the Explorer loads TensorFlow: tests/e2e/page.py reads KEY from here)
    from app.explorer import BrowserDecoder, Explorer, PointView

FRONTEND = Path(__file__).resolve().parent / "frontend"
KEY = "live_point"  # the component's key: its trigger values live in st.session_state[KEY]
SEEN_KEY = "live_seen"  # the last commit the server applied, echoed to the browser
IMAGE_PX = 280  # side of the decoded image (28 px x 10, nearest neighbour)
SLIDER_STEPS = 400  # slider resolution: range / SLIDER_STEPS
SHOWN_COORDINATES = 8  # coordinates in the caption
CAPTION_PREFIX = "z = ("  # how the decoded image's caption starts (the browser tests find it by it)


@functools.cache
def _component():
    js = live_decoder_js() + "\n" + (FRONTEND / "live.js").read_text(encoding="utf-8")
    css = (FRONTEND / "live.css").read_text(encoding="utf-8")
    return st.components.v2.component("vae_live_point", html="", css=css, js=js)


def slider_specs(explorer: Explorer, dims: list[int], principal: bool) -> list[dict]:
    """The sliders: principal directions first (when ``principal``), then one per dimension in ``dims``."""
    specs = []
    if principal:
        for j, limit in enumerate(explorer.pc_limit):
            limit = float(limit)
            specs.append(
                {
                    "kind": "pc",
                    "index": j,
                    "label": f"Principal direction {j + 1}",
                    "min": -limit,
                    "max": limit,
                    "step": 2 * limit / SLIDER_STEPS,
                    "inactive": False,
                }
            )
    inactive = set(explorer.inactive_dims)
    for i in dims:
        low, high = float(explorer.slider_min[i]), float(explorer.slider_max[i])
        specs.append(
            {
                "kind": "dim",
                "index": i,
                "label": f"z{i + 1}",
                "min": low,
                "max": high,
                "step": (high - low) / SLIDER_STEPS,
                "inactive": i in inactive,
            }
        )
    return specs


def committed_point(explorer: Explorer) -> np.ndarray | None:
    """The final point of a gesture the browser has just committed and the server has not applied
    yet (then marked applied), else None; a malformed commit is ignored."""
    value = st.session_state.get(KEY)
    commit = value.get("commit") if value is not None and hasattr(value, "get") else None
    try:
        z = np.asarray(commit["z"], dtype=np.float64).reshape(explorer.d)
        n = int(commit["n"])
    except (KeyError, TypeError, ValueError):
        return None
    if not np.all(np.isfinite(z)) or n <= st.session_state.get(SEEN_KEY, 0):
        return None
    st.session_state[SEEN_KEY] = n
    return z


def live_point(
    explorer: Explorer,
    view: PointView,
    sliders: list[dict],
    decoder: BrowserDecoder | None,
    hover: bool,
    target: str,
    on_commit: Callable[[], None],
) -> None:
    """Draw the panel: the decoded image at ``view.z`` with its caption, and the sliders."""
    principal = None
    if any(s["kind"] == "pc" for s in sliders):
        principal = {"mean": explorer.pc_mean.tolist(), "directions": explorer.pc_directions.tolist()}
    data = {
        "z": view.z.tolist(),
        "pixels": np.round(view.image.ravel().astype(np.float64), 4).tolist(),  # the server's decode
        "seen": int(st.session_state.get(SEEN_KEY, 0)),
        "sliders": sliders,
        "principal": principal,
        "projection": {
            "mean": explorer.projection.mean.tolist(),
            "components": explorer.projection.components.tolist(),
        },
        "model": None
        if decoder is None
        else {"url": decoder.url, "input": decoder.input, "output": decoder.output},
        "hover": bool(hover),
        "target": target,
        "size": IMAGE_PX,
        "limit": SHOWN_COORDINATES,
        "prefix": CAPTION_PREFIX,
    }
    _component()(key=KEY, data=data, on_commit_change=on_commit)
