"""app/text.py: outside text becomes a literal code span; server paths never reach visitors."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from app.text import literal, public_message
from tests.literal_check import assert_literal

HOSTILE = [
    "![](http://HOST/track)",
    "[click](https://example.com/login)",
    "[Click here to re-login](https://example.com/login) .png",
    "<img src=x onerror=alert(1)>",
    "<https://example.com/autolink>",
    "https://example.com/bare www.example.com",
    ":red[alert] :material/warning: :smile: $x^2$ ~~gone~~",
    "**bold** _it_ # not a heading",
    "`",
    "x``y```z",
    "`starts and ends`",
    "line one\n# heading\n\n- list\n> quote",
    "\u202eevil\u200b",
    "  spaced  ",
    "back\\slash \\[x\\](y)",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_literal_is_one_code_span_showing_the_value(value):
    message = f"Ignored the link's `view` value {literal(value)}: expected a view."
    assert_literal(message, value)


def test_literal_shows_the_characters_themselves():
    code = MarkdownIt("commonmark").parseInline(literal("a`b [x](y) *z*"))[0].children
    assert [t.type for t in code] == ["code_inline"] and code[0].content == "a`b [x](y) *z*"


def test_line_breaks_and_invisible_characters_are_shown_as_escapes():
    assert "\n" not in literal("a\nb") and "\\n" in literal("a\nb")
    assert "\\u202e" in literal("\u202e")


def test_long_values_are_cut():
    assert len(literal("x" * 10_000)) < 320


def test_public_message_names_the_bundle_not_the_server_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_ARTIFACTS", raising=False)
    root = tmp_path / "srv" / "artifacts"
    error = ValueError(f"{root / 'tiny-2d' / 'decoder.keras'} could not be loaded")
    shown = public_message(error, root)
    assert str(tmp_path) not in shown and shown == "artifacts/tiny-2d/decoder.keras could not be loaded"
    monkeypatch.setenv("VAE_ARTIFACTS", str(root))
    assert public_message(error, root).startswith("$VAE_ARTIFACTS/tiny-2d/decoder.keras")


def test_public_message_never_mangles_short_roots():
    assert public_message("a/b.c", Path("/")) == "a/b.c"


def test_escape_markdown_shows_a_manifest_name_as_written_in_a_table_cell():
    from app.panels.model_card import metric_rows
    from app.text import escape_markdown

    hostile = "![x](http://tracker/p) **bold** :smile: $x$ <b>"
    escaped = escape_markdown(hostile)
    assert "![" not in escaped and "**" not in escaped and "<b>" not in escaped
    assert ":smile:" not in escaped and "$x$" not in escaped
    # CommonMark drops each escaping backslash, and the word joiner is invisible: what shows is the name.
    assert escaped.replace("\\", "").replace("\u2060", "") == hostile
    (row,) = metric_rows({hostile: 1.0})
    assert row["metric"] == escape_markdown(hostile.replace("_", " "))


def test_plotly_text_shows_tags_templates_and_entities_as_characters():
    from app.text import plotly_text

    assert plotly_text("<a href='x'>%{y}</a> & &lt;") == "&lt;a href='x'&gt;&#37;{y}&lt;/a&gt; &amp; &amp;lt;"
    assert plotly_text("T-shirt/top") == "T-shirt/top"  # ordinary names unchanged
    assert plotly_text("a\nb") == "a\\nb"  # a line break (Plotly's <br> is text too) shown as an escape
