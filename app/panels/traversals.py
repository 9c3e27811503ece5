"""Latent traversals: the figure of every β-VAE paper, at the current point. One row per latent
dimension, that dimension alone moved from -3 to +3 of its spread over the test images (the middle
column is the point itself), rows sorted by the dimension's KL, unused dimensions marked, and a
dimension that clearly carries a known factor of the data named after it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app.explorer import ACTIVE_KL, Explorer
from app.text import escape_markdown
from vae_core.disentangle import clearly_carried
from vae_core.geometry import TRAVERSAL_SPAN, TRAVERSAL_STEPS, traversal_points
from vae_core.images import image_strip


@dataclass(frozen=True)
class Row:
    dim: int  # 0-based
    kl: float | None  # average KL of the dimension (None: the manifest does not say)
    factors: tuple[str, ...]  # known factors this dimension clearly carries
    decodes: np.ndarray  # (TRAVERSAL_STEPS, H, W, C)

    @property
    def used(self) -> bool:
        return self.kl is None or self.kl >= ACTIVE_KL

    def label(self) -> str:
        """Markdown: the dimension, its KL and the factor it follows (factor names escaped)."""
        return self._words(lambda s: f"**{s}**", lambda s: f"*{s}*", escape_markdown)

    def plain_label(self) -> str:
        """The same as plain text (an image's alt)."""
        return self._words(str, str, str)

    def _words(self, bold, italic, outside) -> str:
        text = bold(f"z{self.dim + 1}")
        if self.kl is not None:
            text += f" · KL {self.kl:.2f} nats"
        if not self.used:
            text += " · " + italic("unused")
        if self.factors:
            text += " · follows " + ", ".join(bold(outside(f)) for f in self.factors)
        return text


def traversal_rows(explorer: Explorer, z: np.ndarray) -> list[Row]:
    """The rows of the traversals at ``z``, most informative dimension first."""
    bundle = explorer.bundle
    d = bundle.latent_dim
    kl_list = bundle.metrics.get("kl_per_dimension")
    known = isinstance(kl_list, list) and len(kl_list) == d
    kl = np.asarray(kl_list, dtype=np.float64) if known else np.zeros(d)
    spread = bundle.z_mean.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    points, order = traversal_points(z, spread, kl)
    decodes = explorer.decode(points.reshape(-1, d)).reshape(d, TRAVERSAL_STEPS, *bundle.data.image_shape)
    carried = clearly_carried(bundle.metrics)
    return [
        Row(int(j), float(kl[j]) if known else None, tuple(carried.get(int(j), ())), decodes[row])
        for row, j in enumerate(order)
    ]


def explanation(where: str, factors: bool) -> str:
    """What the rows show (``where``: "the current point", say), for a caption."""
    text = (
        f"Each row moves one dimension of {where} from −{TRAVERSAL_SPAN:g} to +{TRAVERSAL_SPAN:g} "
        f"times its spread over the test images, in {TRAVERSAL_STEPS} steps, and keeps the others (the "
        "middle image is the point itself). Rows are sorted by how much the dimension carries (its "
        f"average KL, largest first); an unused dimension (KL below {ACTIVE_KL} nats) changes nothing."
    )
    if factors:
        text += " A dimension that clearly carries one of the data's known factors is named after it."
    return text


def traversals_ui(explorer: Explorer, z: np.ndarray, *, compact: bool = False, caption: bool = True) -> None:
    """The traversals at ``z``: a label and a strip of decodes per dimension (under what they show,
    unless ``caption`` is False)."""
    rows = traversal_rows(explorer, z)
    h, w, _ = explorer.bundle.data.image_shape
    scale = max(1, round((40 if compact else 56) / max(h, w)))
    if caption:
        st.caption(explanation("the current point", any(r.factors for r in rows)))
    for row in rows:
        label_col, image_col = st.columns([2, 5] if not compact else [1, 2], vertical_alignment="center")
        label_col.markdown(row.label())
        image_col.image(
            image_strip(row.decodes, scale=scale, gap=2),
            output_format="PNG",
            caption=None if row.used else "unused: every image is the same",
            alt=f"{row.plain_label()}: {len(row.decodes)} decodes from −{TRAVERSAL_SPAN:g} to "
            f"+{TRAVERSAL_SPAN:g} spreads" + ("" if row.used else ", all the same"),
        )
