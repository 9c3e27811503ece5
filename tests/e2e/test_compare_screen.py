"""The compare view in Chromium at 1280 x 720: both maps and the decoded images on one screen.

Runs the harness tests/app/compare_app.py (the view alone) over the repository's artifacts/;
the screenshot is test-output/e2e/compare-1280x720.png.

    .venv/bin/pytest -q tests/e2e/test_compare_screen.py
"""

from __future__ import annotations

import pytest

from harness.browser import IDLE, ServerError, new_context, serve_app
from tests.e2e.conftest import OUTPUT, STARTUP_S, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium_path")]

SCREEN = {"width": 1280, "height": 720}
CHART = "[data-testid=stPlotlyChart]"


def on_screen(box: dict | None) -> bool:
    """The whole box is inside the 1280 x 720 viewport (no scrolling needed to see it)."""
    if not box:
        return False
    right, bottom = box["x"] + box["width"], box["y"] + box["height"]
    return box["x"] >= 0 and box["y"] >= 0 and right <= SCREEN["width"] + 1 and bottom <= SCREEN["height"] + 1


@pytest.fixture(scope="module")
def compare_url(chromium_path, artifacts_root):
    try:
        with serve_app(artifacts_root, OUTPUT / "compare-server.log", startup_s=STARTUP_S) as server:
            yield f"{server.url}/?mode=compare"
    except ServerError as e:
        pytest.fail(str(e))


HEADING = (
    "() => [...document.querySelectorAll('[data-testid=stMarkdownContainer] p')]"
    ".map((p) => p.innerText).find((t) => /^Test image #\\d+/.test(t))"
)


# Screen position and test image number of the point of a map's class trace farthest from the plot's
# lower left corner (an outlying point of the top right Trouser cluster: nothing else under the pointer).
POINT_ON_MAP = """([chart, trace]) => {
  const gd = document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')[chart];
  const t = gd._fullData[trace], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  let best = 0, far = -1;
  for (let i = 0; i < t.x.length; i++) {
    const d = Math.hypot(t.x[i] - xa.range[0], t.y[i] - ya.range[0]);
    const inside = t.x[i] > xa.range[0] && t.x[i] < xa.range[1]
      && t.y[i] > ya.range[0] && t.y[i] < ya.range[1];
    if (inside && d > far) { far = d; best = i; }
  }
  return { index: t.customdata[best], px: box.left + xa._offset + xa.l2p(t.x[best]),
           py: box.top + ya._offset + ya.l2p(t.y[best]) };
}"""


def test_both_maps_and_the_decoded_images_fit_one_screen_and_a_click_picks_an_image(browser, compare_url):
    context = new_context(browser, TIMEOUT_MS, viewport=SCREEN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(compare_url)
        page.wait_for_selector(f"{CHART} .xtick", state="attached")
        page.wait_for_selector(IDLE, state="attached")
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=stPlotlyChart] .xtick').length > 0"
        )
        charts = page.locator(CHART)
        assert charts.count() == 2
        for i in range(2):
            assert on_screen(charts.nth(i).bounding_box()), charts.nth(i).bounding_box()
        images = page.locator("[data-testid=stImage] img")
        # the test image and its two redraws; the same z decoded by both (one if the dims differ)
        other_dim = page.get_by_text("means nothing there", exact=False).count()
        assert images.count() == (4 if other_dim else 5)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stImage] img')].every((i) => i.complete)"
        )
        for i in range(images.count()):
            assert on_screen(images.nth(i).bounding_box()), i
        page.wait_for_timeout(500)  # WebGL points drawn
        page.screenshot(path=str(OUTPUT / "compare-1280x720.png"))

        before = page.evaluate(HEADING)
        assert before.startswith("Test image #")
        page.get_by_role("button", name="Random").click()
        page.wait_for_function(f"(old) => ({HEADING})() !== old", arg=before)
        page.wait_for_selector(IDLE, state="attached")

        point = page.evaluate(POINT_ON_MAP, [1, 1])  # a Trouser on the right map
        page.mouse.move(point["px"], point["py"])
        page.mouse.click(point["px"], point["py"])
        page.wait_for_function(f"(n) => ({HEADING})().startsWith(`Test image #${{n}} `)", arg=point["index"])
        page.wait_for_selector(IDLE, state="attached")
        assert page.get_by_test_id("stAlertContentError").count() == 0
        assert page.get_by_test_id("stException").count() == 0
        # the metrics of the Fashion-MNIST bundles: every column in view, none behind a sideways scroll
        table = page.get_by_test_id("stTable").first
        table.scroll_into_view_if_needed()
        assert table.evaluate(
            "(e) => [...e.querySelectorAll('*')].every((c) => c.scrollWidth <= c.clientWidth + 1 "
            "|| getComputedStyle(c).overflowX === 'visible')"
        ), "the metrics table is cut at the right"
        assert not errors, errors
    finally:
        context.close()
