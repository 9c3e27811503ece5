"""Class colours (the same everywhere: map, strips, captions), image sizes and page CSS."""

from __future__ import annotations

import html

from vae_core.data import CLASS_NAMES

# Tableau 10: distinct, colour-blind friendlier than Plotly's defaults; index = class label.
CLASS_COLORS = (
    "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F",
    "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC",
)
CURRENT_COLOR = "#111111"  # the current point's marker
PATH_COLOR = "#D62728"  # interpolation path
UPLOAD_COLOR = "#00A3E0"  # encoded upload and its ellipse
BIG = 280  # px side of the main decoded image (28 px * 10, nearest neighbour)
SMALL = 84  # px side of thumbnails (28 px * 3)

PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
/* Bridge components only draw on the map: they take no room of their own. */
div[class*="st-key-bridge"] { position: absolute; width: 0; height: 0; overflow: hidden; }
/* Crisp pixels wherever the browser scales an image. */
[data-testid="stImage"] img { image-rendering: pixelated; }
/* A file the browser refuses (over server.maxUploadSize) gets only a red "!" whose reason is a
   hover tooltip; Streamlit 1.67 also puts the reason in a visually hidden role=alert span: show it. */
[data-testid="stFileChips"] span[role="alert"] { position: static !important; clip: auto !important;
  clip-path: none !important; width: auto !important; height: auto !important; margin: 0 0 0 .5rem !important;
  overflow: visible !important; white-space: normal !important; color: #d62728; font-size: .85rem; }
.class-chip { display: inline-block; padding: 0 .45em; border-radius: .4em; color: #fff;
  font-size: .8rem; line-height: 1.4; }
</style>
"""


def class_chip(label: int, text: str | None = None) -> str:
    """HTML of a small coloured label naming a class (escaped)."""
    name = html.escape(text if text is not None else CLASS_NAMES[int(label)])
    return f'<span class="class-chip" style="background:{CLASS_COLORS[int(label)]}">{name}</span>'
