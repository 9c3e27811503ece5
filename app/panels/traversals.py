"""Latent traversals: the figure of every β-VAE paper, at a point. One row per latent dimension,
that dimension alone moved from -3 to +3 of its spread over the test images (the middle column is
the point itself), rows sorted by the dimension's KL, unused dimensions marked, and a dimension
that clearly carries a known factor of the data named after it.

The rows are decoded in the browser (``traversals.js``, with the bundle's browser decoder): in the
explorer they follow the current point while it moves, as the live image does. The server decodes
them only when the bundle has no browser model or the page could not load it (the component then
asks for the server's images, one PNG strip per row).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import streamlit as st

from app import components
from app.browser_assets import RUNTIME_URL
from app.explorer import ACTIVE_KL, Explorer
from vae_core.disentangle import clearly_carried
from vae_core.geometry import TRAVERSAL_SPAN, TRAVERSAL_STEPS, traversal_order, traversal_points
from vae_core.images import crisp_width, image_strip, png_bytes

IMAGE_PX = 56  # each decode's width in the normal layout, about (crisp: whole screen pixels per pixel)
COMPACT_PX = 40  # and in the compact one (or a column of Compare)
SERVER = "traversals_server"  # session key: the keys of grids whose page could not decode them


@dataclass(frozen=True)
class Row:
    dim: int  # 0-based
    kl: float | None  # average KL of the dimension (None: the manifest does not say)
    factors: tuple[str, ...]  # known factors this dimension clearly carries
    spread: float  # the dimension's spread over the test images: the row's steps are multiples of it

    @property
    def used(self) -> bool:
        return self.kl is None or self.kl >= ACTIVE_KL

    def parts(self) -> list[tuple[str, str]]:
        """The row's label as (text, style) pieces, style "strong", "em" or "" (the page shows the
        text as it is: a factor's name comes from the bundle)."""
        parts = [(f"z{self.dim + 1}", "strong")]
        if self.kl is not None:
            parts.append((f" · KL {self.kl:.2f} nats", ""))
        if not self.used:
            parts += [(" · ", ""), ("unused", "em")]
        for k, factor in enumerate(self.factors):
            parts += [(" · follows " if k == 0 else ", ", ""), (factor, "strong")]
        return parts

    def plain_label(self) -> str:
        return "".join(text for text, _ in self.parts())

    def alt(self) -> str:
        """What the row's images show, for a screen reader."""
        ends = f"{TRAVERSAL_STEPS} decodes from −{TRAVERSAL_SPAN:g} to +{TRAVERSAL_SPAN:g} spreads"
        return f"{self.plain_label()}: {ends}" + ("" if self.used else ", all the same")


def _kl_and_spread(explorer: Explorer) -> tuple[np.ndarray | None, np.ndarray]:
    bundle = explorer.bundle
    kl_list = bundle.metrics.get("kl_per_dimension")
    known = isinstance(kl_list, list) and len(kl_list) == bundle.latent_dim
    spread = bundle.z_mean.std(axis=0)
    return (np.asarray(kl_list, dtype=np.float64) if known else None), np.where(spread > 0, spread, 1.0)


def traversal_rows(explorer: Explorer) -> list[Row]:
    """The rows of the traversals, most informative dimension first."""
    kl, spread = _kl_and_spread(explorer)
    d = explorer.bundle.latent_dim
    order = traversal_order(np.zeros(d) if kl is None else kl)
    carried = clearly_carried(explorer.bundle.metrics)
    return [
        Row(int(j), None if kl is None else float(kl[j]), tuple(carried.get(int(j), ())), float(spread[j]))
        for j in order
    ]


def traversal_decodes(explorer: Explorer, z: np.ndarray) -> np.ndarray:
    """The rows decoded on the server at ``z``: (d, TRAVERSAL_STEPS, H, W, C), in the rows' order."""
    kl, spread = _kl_and_spread(explorer)
    d = explorer.bundle.latent_dim
    points, _ = traversal_points(z, spread, np.zeros(d) if kl is None else kl)
    return explorer.decode(points.reshape(-1, d)).reshape(
        d, TRAVERSAL_STEPS, *explorer.bundle.data.image_shape
    )


def explanation(where: str, factors: bool) -> str:
    """What the rows show (``where``: "the current point", say), for a caption."""
    text = (
        f"Each row moves one dimension of {where} from −{TRAVERSAL_SPAN:g} to +{TRAVERSAL_SPAN:g} "
        f"times its spread over the test images, in {TRAVERSAL_STEPS} steps, and keeps the others (the "
        "middle image, outlined, is the point itself). Rows are sorted by how much the dimension carries "
        f"(its average KL, largest first); an unused dimension (KL below {ACTIVE_KL} nats) changes nothing."
    )
    if factors:
        text += " A dimension that clearly carries one of the data's known factors is named after it."
    return text


def _strip_url(decodes: np.ndarray) -> str:
    """One row's decodes side by side at their own size, as a PNG data URL."""
    return (
        "data:image/png;base64," + base64.b64encode(png_bytes(image_strip(decodes, scale=1, gap=0))).decode()
    )


def grid_data(
    explorer: Explorer, rows: list[Row], z: np.ndarray, *, compact: bool, follow: bool, server: bool
) -> dict:
    """What the browser side (traversals.js) needs: the rows, the point, the model; and the
    server's decodes when there is no browser model or ``server`` (the page could not load it)."""
    shape = explorer.bundle.data.image_shape
    decoder = explorer.browser.decoder
    strips = None
    if decoder is None or server:
        strips = [_strip_url(row) for row in traversal_decodes(explorer, z)]
    return {
        "z": [float(v) for v in z],
        "rows": [
            {"dim": r.dim, "spread": r.spread, "used": r.used, "parts": r.parts(), "alt": r.alt()}
            for r in rows
        ],
        "offsets": np.linspace(-TRAVERSAL_SPAN, TRAVERSAL_SPAN, TRAVERSAL_STEPS).tolist(),
        "shape": list(shape),
        "px": crisp_width(shape, COMPACT_PX if compact else IMAGE_PX),  # whole screen pixels per pixel
        "compact": compact,
        "model": None if server else decoder,
        "runtime": RUNTIME_URL,
        "follow": follow,
        "strips": strips,
    }


def _on_fallback(key: str) -> None:
    """The page could not decode the rows itself: the server decodes this grid from now on."""
    st.session_state.setdefault(SERVER, set()).add(key)


def traversals_ui(
    explorer: Explorer,
    z: np.ndarray,
    *,
    key: str,
    compact: bool = False,
    follow: bool = False,
    caption: bool = True,
) -> None:
    """The traversals at ``z`` (following the current point while it moves when ``follow``), with
    what they show above them unless ``caption`` is False."""
    rows = traversal_rows(explorer)
    server = key in st.session_state.get(SERVER, set())
    data = grid_data(explorer, rows, z, compact=compact, follow=follow, server=server)
    if caption:
        st.caption(explanation("the current point", any(r.factors for r in rows)))
    components.traversals()(key=key, data=data, on_fallback_change=lambda: _on_fallback(key))
