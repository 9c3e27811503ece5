"""Does a Markdown message show outside text literally? (CommonMark, as Streamlit parses it.)

Streamlit renders st.warning/st.error/st.markdown/st.caption bodies with react-markdown
(CommonMark + GitHub extensions) plus its own extras on text nodes: ``:red[...]``,
``:material/icon:``, emoji shortcodes, ``$math$``. A message is safe when, parsed as
CommonMark, it makes no link, image or HTML, no block other than plain paragraphs, and the
outside value appears whole inside one code span (where none of the extras apply). The
browser test checks the same in real Chromium.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_EXTRAS = re.compile(r":[\w+-]+/?[\w+-]*:|:[a-z]+\[|\$|~~|www\.|https?://")  # Streamlit/GFM extras


def rendered_html(message: str) -> str:
    return _MD.render(message)


def assert_literal(message: str, value: str | None = None) -> None:
    """Fail unless ``message`` renders no markup from outside and shows ``value`` verbatim."""
    tokens = _MD.parse(message)
    blocks = {t.type for t in tokens}
    assert blocks <= {"paragraph_open", "inline", "paragraph_close"}, (blocks, message)
    inline = [child for t in tokens if t.type == "inline" for child in t.children]
    kinds = {t.type for t in inline}
    assert not kinds & {"link_open", "image", "html_inline", "s_open"}, (kinds, message)
    for t in inline:
        if t.type == "text":
            assert not _EXTRAS.search(t.content), (t.content, message)
    if value is not None:
        from app.text import literal

        shown = literal(value, 10_000)
        code = [t.content for t in inline if t.type == "code_inline"]
        assert _MD.parseInline(shown)[0].children[0].content in code, (value, message)
