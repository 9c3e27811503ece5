"""Text from outside (a link, a file name, a manifest, an error about a bundle) shown literally.

Streamlit renders the body of st.warning/st.error/st.markdown/st.caption as Markdown plus its
own extras (``:red[...]`` colours, ``:material/icon:`` and emoji shortcodes, ``$math$``), so a
link value like ``![](http://host/track)`` would make every visitor's browser fetch that URL.
:func:`literal` turns such text into a Markdown code span: inside one, CommonMark shows every
character as it is (no links, images, emphasis, HTML or escapes), and Streamlit's extras,
which work on text nodes and not on code, leave it alone (except one rewrite of the raw
source, see below). The fence is one backtick longer
than the longest run of backticks in the value, so the value cannot close it early; line
breaks and other control or invisible format characters become visible escapes, because a
line break could start a new Markdown block (a heading, a list) before the span is parsed.

:func:`public_message` removes the server's artifacts folder from an error before a visitor
sees it (the full message goes to the server log).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from pathlib import Path

log = logging.getLogger("app")

MAX_CHARS = 300  # longer outside text is cut: a notice is one line, not a page


def _visible(ch: str) -> str:
    """A control or invisible format character as an escape (\\n, \\u202e), others unchanged."""
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
    return ch


def plotly_text(value: object, limit: int = MAX_CHARS) -> str:
    """``value`` for a Plotly label (a legend entry, a hover text or template, a colour bar's title):
    Plotly reads a few HTML tags in them (``<b>``, ``<a href>``, ``<br>``) and a hover template
    reads ``%{...}``, so ``<``, ``>``, ``&`` and ``%`` become character references, which Plotly
    shows as the characters themselves."""
    text = "".join(_visible(c) for c in str(value))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("%", "&#37;")


def literal(value: object, limit: int = MAX_CHARS) -> str:
    """``value`` as a Markdown code span that Streamlit shows character for character."""
    text = "".join(_visible(c) for c in str(value))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    # Streamlit rewrites every ":material/" in the source, code spans included, before parsing
    # (its icon syntax); an invisible word joiner keeps the value's own text as it is.
    text = text.replace(":material/", ":material\u2060/")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    # One space inside each fence: CommonMark strips exactly one from each side, so a value
    # that starts or ends with a backtick (or with a space) comes out unchanged.
    return f"{fence} {text} {fence}" if text.strip() else f"{fence}\u2423{fence}"  # ␣: an empty value


def escape_markdown(value: object, limit: int = MAX_CHARS) -> str:
    """``value`` for a place that renders Markdown but where a code span would not fit (a table
    cell): every ASCII punctuation character backslash-escaped (CommonMark shows it as itself),
    control and invisible characters as visible escapes, ``:`` broken from Streamlit's shortcodes."""
    text = "".join(_visible(c) for c in str(value))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    escaped = re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)
    return escaped.replace(":", ":\u2060")


def public_message(error: BaseException | str, root: Path) -> str:
    """An error's text for a visitor: the artifacts folder ``root`` named, never its server path.

    The bundle and the file within it stay (``artifacts/fashion-mnist-2d/decoder.keras``), so
    the operator knows what to fix; the full text goes to the server log.
    """
    text = str(error)
    shown = "$VAE_ARTIFACTS" if os.environ.get("VAE_ARTIFACTS", "").strip() else "artifacts"
    for form in sorted({str(root), str(root.absolute()), str(root.resolve())}, key=len, reverse=True):
        if len(form) > 1:  # never "/" or "."
            text = text.replace(form, shown)
    log.warning("shown to a visitor as %r: %s", text, error)
    return text
