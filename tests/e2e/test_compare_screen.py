"""The compare view in Chromium at 1280 x 720: both maps and the decoded images on one screen.

Runs the harness tests/app/compare_app.py (the view alone) over the repository's artifacts/;
the screenshot is test-output/e2e/compare-1280x720.png.

    .venv/bin/pytest -q tests/e2e/test_compare_screen.py
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

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


# Screen position and test image number of the point of a map farthest from its plot's lower left
# corner (an outlying point of the top right cluster: nothing else under the pointer), from the
# points the map's picker holds (picker.js), and the colour of its class.
POINT_ON_MAP = """(chart) => {
  const target = `.st-key-cmp_map_${chart}`;
  const p = window.vaeTestHooks.pickers[target].points;
  const gd = document.querySelector(`${target} .js-plotly-plot`);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  let best = 0, far = -1;
  for (let i = 0; i < p.n; i++) {
    const x = p.xy[2 * i], y = p.xy[2 * i + 1];
    const d = Math.hypot(x - xa.range[0], y - ya.range[0]);
    const inside = x > xa.range[0] && x < xa.range[1] && y > ya.range[0] && y < ya.range[1]; // NaN: no
    if (inside && d > far) { far = d; best = i; }
  }
  return { index: best, name: p.names[p.labels[best]], color: p.colors[p.labels[best]],
           px: box.left + xa._offset + xa.l2p(p.xy[2 * best]),
           py: box.top + ya._offset + ya.l2p(p.xy[2 * best + 1]) };
}"""
HOVER_LABEL = (
    "() => [...document.querySelectorAll('.vae-pick')].filter((b) => b.style.display !== 'none')"
    ".map((b) => b.innerText)"
)


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


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
        page.wait_for_timeout(300)  # the maps' pictures drawn
        page.screenshot(path=str(OUTPUT / "compare-1280x720.png"))

        before = page.evaluate(HEADING)
        assert before.startswith("Test image #")
        page.get_by_role("button", name="Random").click()
        page.wait_for_function(f"(old) => ({HEADING})() !== old", arg=before)
        page.wait_for_selector(IDLE, state="attached")

        point = page.evaluate(POINT_ON_MAP, "right")
        # the map's picture shows a dot of the point's class where the picker has it
        shot = page.screenshot(clip={"x": point["px"] - 1, "y": point["py"] - 1, "width": 3, "height": 3})
        pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=float).reshape(-1, 3)
        assert np.abs(pixels - rgb(point["color"])).sum(axis=1).min() < 80, (pixels, point)
        page.mouse.move(point["px"] - 40, point["py"] + 40)
        page.mouse.move(point["px"], point["py"], steps=5)  # hovering names it, as a Plotly point's label
        page.wait_for_function(f"() => ({HOVER_LABEL})().length === 1")
        assert page.evaluate(HOVER_LABEL) == [f"#{point['index']} · {point['name']}"]
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
