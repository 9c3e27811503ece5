"""Class colours (the same everywhere: map, strips, captions), image sizes and page CSS."""

from __future__ import annotations

import colorsys
import functools
import html

# Petroff's ten-colour sequence (arXiv:2107.02270; matplotlib's "petroff10"): chosen so that all
# ten stay apart for viewers with any of the three common colour-vision deficiencies, which
# Tableau 10 does not (its Pullover/Shirt/Sneaker pinks merge). Index = class label;
# tests/app/test_style.py checks the distances.
CLASS_COLORS = (
    "#3F90DA",
    "#FFA90E",
    "#BD1F01",
    "#94A4A2",
    "#832DB6",
    "#A96B59",
    "#E76300",
    "#B9AC70",
    "#717581",
    "#92DADD",
)
UNLABELLED_COLOR = "#4E79A7"  # every point of a data set without classes


@functools.cache
def class_colors(n: int) -> tuple[str, ...]:
    """One colour per class: Petroff's ten for up to ten classes, then evenly spaced hues (golden
    angle) at three lightness levels, so 50 classes still stay apart from their neighbours."""
    if n <= len(CLASS_COLORS):
        return CLASS_COLORS[:n]
    colors = list(CLASS_COLORS)
    for k in range(n - len(CLASS_COLORS)):
        hue = (k * 0.618033988749895) % 1.0
        lightness = (0.42, 0.58, 0.32)[k % 3]
        r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.75)
        colors.append(f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}")
    return tuple(colors)


CURRENT_COLOR = "#111111"  # the current point's marker
PATH_COLOR = "#D62728"  # interpolation path
UPLOAD_COLOR = "#00A3E0"  # encoded upload and its ellipse
BIG = 280  # px side of the main decoded image (28 px * 10, nearest neighbour)
SMALL = 84  # px side of thumbnails (28 px * 3)

PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
/* The title shares its row with the page's parts (Explore, Learn, Compare): one line at 1280 px. */
.st-key-page_title h1 { font-size: 2.1rem; }
/* Overlay components only draw on the map: they take no room of their own. */
div[class*="st-key-overlay_"] { position: absolute; width: 0; height: 0; overflow: hidden; }
/* The model's own code (app.panels.inside.code_box): literal text that wraps, never a box that scrolls. */
.model-code { margin: 0; padding: .75rem 1rem; border-radius: .5rem; background: #F0F2F6; color: #31333F;
  font-family: "Source Code Pro", monospace; font-size: .8rem; line-height: 1.5;
  white-space: pre-wrap; overflow-wrap: anywhere; }
/* Crisp pixels wherever the browser scales an image. */
[data-testid="stImage"] img { image-rendering: pixelated; }
/* A file the browser refuses (over server.maxUploadSize) gets only a red "!" whose reason is a
   hover tooltip; Streamlit 1.67 also puts the reason in a visually hidden role=alert span: show it. */
[data-testid="stFileChips"] span[role="alert"] { position: static !important; clip: auto !important;
  clip-path: none !important; width: auto !important; height: auto !important; margin: 0 0 0 .5rem !important;
  overflow: visible !important; white-space: normal !important; color: #d62728; font-size: .85rem; }
.class-chip { display: inline-block; padding: 0 .45em; border-radius: .4em;
  font-size: .8rem; line-height: 1.4; }
/* Text contrast of at least 4.5:1 (WCAG 2.1 AA): Streamlit's grey captions and help text are
   3.9:1 on white, its code colours 3.6-3.8:1. */
[data-testid="stCaptionContainer"] { opacity: 1 !important; color: rgba(49, 51, 63, .78) !important; }
[data-testid="stCode"] .token.keyword, [data-testid="stCode"] .token.function,
[data-testid="stCode"] .token.builtin { color: #0b5cad; }
[data-testid="stCode"] .token.comment { color: #5f6270; }
[data-testid="stCode"] .token.string { color: #067a2b; }
[data-testid="stCode"] .token.number, [data-testid="stCode"] .token.boolean { color: #0e7466; }
/* The map takes the keyboard's focus (arrow keys move the current point): show where it is. */
.js-plotly-plot:focus-visible { outline: 2px solid #3e6a98; outline-offset: 2px; }
/* The map fills a box whose height depends on the screen (st.plotly_chart(height="stretch")). */
.stVerticalBlock.st-key-latent_map_box { flex: 0 0 680px; height: 680px; }
.st-key-latent_map_box > .stElementContainer { flex: 1 1 auto; height: 100%; }
/* The interpolation strip: one row. Frames shrink (down to 56 px, still readable) so that the
   default 10, the named end included, show at once; past that they wrap to further rows (a row
   that scrolled would hide frames, and a keyboard could not reach it). */
.st-key-ip_strip [data-testid="stImage"] { flex-wrap: wrap; max-width: 100%; }
.st-key-ip_strip [data-testid="stImageContainer"] { flex: 1 1 0; min-width: 56px; max-width: 84px; }
.st-key-ip_strip [data-testid="stImageContainer"] img { width: 100% !important; height: auto; }
/* A phone: the map first, the current point right under it, then the views; the introduction
   and the model card last. The explorer row's columns are flattened so that order can interleave them. */
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 3rem; }
  .stVerticalBlock.st-key-latent_map_box { flex: 0 0 460px; height: 460px; }
  h1 { font-size: 1.5rem !important; }
  .st-key-layout_switch { display: none; }
  /* Six views on one line: narrower buttons, words kept whole. */
  .st-key-view_box [data-testid="stButtonGroup"] button { padding: 0 0.2rem; flex: 1 1 auto; }
  .st-key-view_box [data-testid="stButtonGroup"] button p { font-size: 0.72rem; overflow-wrap: normal;
    word-break: keep-all; }
  /* The bundle selector and Map display share one line above the map. */
  .st-key-map_controls [data-testid="stHorizontalBlock"] { flex-wrap: nowrap; }
  .st-key-map_controls [data-testid="stColumn"] { min-width: 0 !important; width: auto !important; }
  .st-key-map_controls [data-testid="stColumn"]:last-child { flex: 0 0 auto !important; }
  .st-key-bundle [data-testid="stWidgetLabel"] { display: none; }
  [data-testid="stLayoutWrapper"]:has(> .st-key-page_intro) { order: 3; }
  .st-key-explorer_row > [data-testid="stLayoutWrapper"],
  .st-key-explorer_row > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"],
  .st-key-explorer_row > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"]
    > [data-testid="stColumn"],
  .st-key-explorer_row > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"]
    > [data-testid="stColumn"] > [data-testid="stVerticalBlock"] { display: contents; }
  [data-testid="stLayoutWrapper"]:has(> .st-key-view_box) { order: 2; }
  /* The view buttons stay on one line. */
  .st-key-view_box [data-testid="stButtonGroup"] > div { flex-wrap: nowrap; }
  .st-key-view_box [data-testid="stButtonGroup"] button { padding: .2rem .15rem; font-size: .72rem;
    line-height: 1.15; white-space: normal; height: auto; min-width: 0; flex: 1 1 0; }
  .st-key-view_box [data-testid="stButtonGroup"] button * { white-space: normal; overflow: visible;
    text-overflow: clip; }
}
</style>
"""

# Added in the compact layout: one screen of 1280 x 720 holds the map, the current point and the view.
COMPACT_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; padding-bottom: 1rem; }
h1 { font-size: 1.6rem !important; padding: 0 !important; }
.stVerticalBlock.st-key-latent_map_box { flex: 0 0 520px; height: 520px; }
.st-key-view_box [data-testid="stButtonGroup"] button { padding: 0 .6rem; }
/* The interpolation strip in a third of the screen: the default 10 frames in one row. */
.st-key-ip_strip [data-testid="stImageContainer"] { min-width: 28px; }
</style>
"""


# Added with the lesson or the comparison (app.streamlit_app.page_fragment): both fit a 720-pixel screen.
LESSON_CSS = """
<style>
/* The explorer stays on the page, hidden: not drawn, not laid out, out of the keyboard's and
   screen readers' way, taking no room. */
.st-key-explore_page { content-visibility: hidden; visibility: hidden; height: 0; overflow: hidden; }
[data-testid="stMainBlockContainer"] { padding-top: 0.8rem; padding-bottom: 0.5rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li { font-size: 0.95rem; }
</style>
"""


def _luminance(color: str) -> float:
    """WCAG relative luminance of ``#RRGGBB``."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#RRGGBB`` colours (1 to 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def ink_on(background: str) -> str:
    """Black or white text, whichever reads better on ``background`` (``#RRGGBB``)."""
    return "#000000" if contrast("#000000", background) >= contrast("#FFFFFF", background) else "#FFFFFF"


def class_chip(label: int, names: tuple[str, ...]) -> str:
    """HTML of a small coloured label naming class ``label`` of ``names`` (the name escaped)."""
    color = class_colors(len(names))[int(label)]
    style = f"background:{color};color:{ink_on(color)}"
    return f'<span class="class-chip" style="{style}">{html.escape(names[int(label)])}</span>'
