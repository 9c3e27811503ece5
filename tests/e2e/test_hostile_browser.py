"""Hostile input in real headless Chromium (issue 15): link values and file names that try to
inject Markdown render as plain text (no link, no image, no request to another host), and an
upload over the size limit says so on the page.

    .venv/bin/pytest -q tests/e2e/test_hostile_browser.py
"""

from __future__ import annotations

from urllib.parse import urlencode, urlparse

import pytest

from harness.browser import IDLE, new_context
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("chromium_path"),  # skips, or fails under CI, without Chromium: tests/needs.py
]

LINK = {
    "view": "![](http://tracker.invalid/track.png)",
    "i": "[click](https://example.com/login)",
    "z": ":red[x] :material/warning: :smile: $y^2$ <img src=x>",
    "bundle": "no-such-bundle",
}
NAMES = [
    "[Click here to re-login](https://example.com/login) .png",
    "![x](http://tracker.invalid/pixel.png)x.png",
]
# What a rendered injection would leave in an alert: a link, an image, an icon, colour, maths, emoji.
_INJECTED = """() => [...document.querySelectorAll('[data-testid=stAlert]')].map((a) => ({
  text: a.innerText,
  injected: a.querySelectorAll(
    '[data-testid=stMarkdownContainer] a, [data-testid=stMarkdownContainer] img, .katex, '
    + '[data-testid=stIconMaterial], span[style*="color"]').length,
  emoji: /\\p{Extended_Pictographic}/u.test(
    a.querySelector('[data-testid=stMarkdownContainer]')?.innerText || ''),
}))"""


@pytest.fixture
def page(browser, app_url):
    """A fresh context, recording every request that leaves the app's own host."""
    context = new_context(browser, TIMEOUT_MS)
    page = context.new_page()
    page.outside = []
    # Only the hosts the hostile values name: Streamlit itself fetches its Material icons from
    # fonts.gstatic.com (the page icon), which is not what these tests are about.
    hostile = ("tracker.invalid", "example.com")
    page.on("request", lambda r: urlparse(r.url).hostname in hostile and page.outside.append(r.url))
    yield page
    context.close()


def alerts(page) -> list[dict]:
    page.wait_for_selector(IDLE, state="attached")
    return page.evaluate(_INJECTED)


def test_hostile_link_values_render_as_text(page, app_url):
    page.goto(f"{app_url}/?{urlencode(LINK)}")
    page.get_by_test_id("stAlert").first.wait_for()
    page.wait_for_selector(IDLE, state="attached")
    page.wait_for_timeout(1000)  # an injected image would be requested by now
    found = alerts(page)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "hostile_link.png"))
    assert len(found) == 4, found
    assert all(a["injected"] == 0 and not a["emoji"] for a in found), found
    text = "\n".join(a["text"] for a in found).replace("\u2060", "")  # see app/text.py
    for value in LINK.values():
        assert (value if len(value) <= 40 else value[:37] + "...") in text, (value, text)
    assert page.outside == []


@pytest.mark.parametrize("name", NAMES, ids=["link", "image"])
def test_hostile_upload_names_render_as_text(page, app_url, name):
    page.goto(f"{app_url}/?view=encode")
    uploader = page.get_by_test_id("stFileUploader")
    uploader.wait_for()
    page.wait_for_selector(IDLE, state="attached")
    uploader.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": b"not an image at all"}
    )
    page.get_by_test_id("stAlert").filter(has_text="Cannot use").wait_for()
    page.wait_for_timeout(1000)
    (found,) = [a for a in alerts(page) if a["text"].startswith("Cannot use")]
    assert found["injected"] == 0 and name in found["text"], found
    assert page.outside == []


def test_an_oversized_upload_is_refused_on_the_page(page, app_url):
    page.goto(f"{app_url}/?view=encode")
    uploader = page.get_by_test_id("stFileUploader")
    uploader.wait_for()
    page.wait_for_selector(IDLE, state="attached")
    uploader.locator("input[type=file]").set_input_files(
        {"name": "huge.png", "mimeType": "image/png", "buffer": b"\0" * (24 * 1024 * 1024)}
    )
    reason = uploader.get_by_text("File must be 5.0MB or smaller.")
    reason.wait_for()  # visible on the page, not only in a tooltip on hover
    box = reason.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 5, box
    uploader.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / "hostile_oversized_upload.png"))


def test_an_overlong_static_file_name_is_a_bad_request_not_a_server_error(page, app_url):
    """Streamlit's static route used to answer a 300-character name with HTTP 500 and a traceback."""
    page.goto(app_url)
    page.wait_for_selector(IDLE, state="attached")
    response = page.request.get(f"{app_url}/app/static/{'a' * 300}")
    assert response.status == 400
    assert page.request.get(f"{app_url}/app/static/vendor/onnxruntime-web-1.30.0/LICENSE").status == 200


def test_crafted_component_values_leave_the_session_working(page, app_url):
    """Values a hostile page can send through the components' triggers (Infinity, NaN as text, huge
    numbers, 5000-deep JSON): ignored, the page keeps answering."""
    page.goto(app_url)
    page.wait_for_function("() => window.vaeTestHooks?.live.panel?.setTrigger", timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, state="attached")
    deep = "JSON.parse('[' .repeat(5000) + ']'.repeat(5000))"
    for value in (
        '{"z": [0.1, 0.2], "n": Infinity, "painted": true}',
        '{"z": [0.1, 0.2], "n": 1e308}',
        '{"z": ["NaN", 0.2], "n": 5}',
        f'{{"z": [0.1, 0.2], "n": 6, "extra": {deep}}}',
    ):
        page.evaluate(f"() => vaeTestHooks.live.panel.setTrigger('commit', {value})")
        page.wait_for_timeout(300)
        page.wait_for_selector(IDLE, state="attached")
    for value in (
        '{"x": "NaN", "y": 0, "ux": 1, "uy": 1}',
        '{"x": 1e308, "y": 0, "ux": 1, "uy": 1, "hidden": 5}',
    ):
        page.evaluate(f"() => vaeTestHooks.live.panel.setTrigger('click', {value})")
        page.wait_for_timeout(300)
        page.wait_for_selector(IDLE, state="attached")
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_text("This app has encountered an error").count() == 0
    z_before = page.evaluate("() => new URL(location.href).searchParams.get('z')")
    page.evaluate(
        "() => vaeTestHooks.live.panel.setTrigger('commit', {z: [0.25, -0.5], n: Date.now(), painted: false})"
    )
    page.wait_for_function("(z) => new URL(location.href).searchParams.get('z') !== z", arg=z_before)
    assert page.evaluate("() => new URL(location.href).searchParams.get('z')") == "0.25,-0.5"
