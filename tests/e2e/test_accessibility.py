"""Issue 27, accessible to every student: WCAG 2.1 AA as axe-core checks it, on every part of the page.

axe-core is pinned in package.json (``npm ci`` installs it with ESLint); each page is opened in a
fresh session at 1280x720, left to settle, and checked with the rules tagged WCAG 2.0/2.1 A and AA.
A failure lists each rule, its impact and the first elements that break it.

    .venv/bin/pytest -q tests/e2e/test_accessibility.py
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from app.link import LESSON_STEPS
from harness.browser import IDLE, MAP, REPO, new_context
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS, Explorer, parse_z

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium_path")]

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PROJECTOR = {"width": 1280, "height": 720}
PAGES = {
    "explore": "",
    "explore-compact": "?layout=compact",
    "explore-3d": "?bundle=fashion-mnist-3d",  # the 3-D scene (the shipped 3-D bundle)
    **{f"learn-{n}": f"?mode=learn&step={n}" for n in range(1, LESSON_STEPS + 1)},
    "compare": "?mode=compare",
    "compare-compact": "?mode=compare&layout=compact",
}


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    if not AXE.is_file():
        pytest.fail(f"{AXE.relative_to(REPO)} is missing: run `npm ci` (make lint does)")
    page.add_script_tag(content=AXE.read_text())
    return page.evaluate(
        """async (tags) => {
             const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
             return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.map((n) => `${n.html.slice(0, 150)} | ${(n.failureSummary || '').slice(0, 99)}`),
           }));
           }""",
        WCAG_AA,
    )


def report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"][:4])
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_each_part_of_the_page_meets_wcag_21_aa(browser, app_url, name):
    context = new_context(browser, TIMEOUT_MS, viewport=PROJECTOR)
    page = context.new_page()
    try:
        page.goto(app_url + "/" + PAGES[name], timeout=TIMEOUT_MS)
        if name == "explore-3d":
            page.wait_for_selector(".st-key-latent_map_box .js-plotly-plot .gl-container", state="attached")
            page.wait_for_selector(IDLE, state="attached")
        elif name.startswith("explore"):
            Explorer(page, name).wait_ready()
        else:
            page.wait_for_selector("h3, [data-testid=stImage] img", state="attached")  # a step, or Compare
            page.wait_for_selector(IDLE, state="attached")
        page.wait_for_function(
            "() => [...document.querySelectorAll('img')].every((i) => i.complete)"
        )  # every image there, with its alt
        page.wait_for_timeout(1000)  # let Plotly and the live panel settle
        violations = axe_violations(page)
        page.screenshot(path=OUTPUT / f"a11y-{name}.png")
        assert violations == [], f"{name}: axe-core finds\n{report(violations)}"
    finally:
        context.close()


def test_the_map_point_moves_with_the_keyboard_and_the_decode_says_what_it_shows(explorer: Explorer):
    """Tab to the map, press the arrow keys: the point moves as a drag moves it (decoded at once, one
    commit when the keys rest), and the decoded image's name says where it is and what it looks like."""
    page = explorer.page
    before = explorer.decoded()
    x0, y0 = parse_z(before["caption"])[:2]
    label = page.locator("canvas.live-image").get_attribute("aria-label")
    assert label.startswith("Decoded image at z = (") and "nearest test images" in label, label
    page.focus(MAP)
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    after = explorer.wait_decoded_change(before["src"])
    expect(page.locator(".live-said")).not_to_have_text(label, timeout=TIMEOUT_MS)  # settled: said once
    explorer.wait_idle()
    x1, y1 = parse_z(explorer.decoded()["caption"])[:2]
    assert x1 > x0 and y1 > y0, (x0, y0, x1, y1)
    assert (y1 - y0) > 1.5 * (x1 - x0)  # Shift: ten small steps up against five to the right
    said = page.locator(".live-said").text_content()
    assert said == page.locator("canvas.live-image").get_attribute("aria-label")
    assert re.search(rf"z = \({x1:.2f}, {y1:.2f}\): (mostly|between) ", said), said
    linked = [float(v) for v in parse_qs(urlparse(page.url).query)["z"][0].split(",")]
    assert abs(linked[0] - x1) < 0.006 and abs(linked[1] - y1) < 0.006  # the link follows
    assert after["src"] != before["src"]
    assert explorer.errors == []


def test_the_images_say_what_they_show(browser, app_url):
    """A selected test image and its nearest items are named by number and class."""
    context = new_context(browser, TIMEOUT_MS, viewport=PROJECTOR)
    page = context.new_page()
    try:
        page.goto(app_url + "/?i=42", timeout=TIMEOUT_MS)
        Explorer(page, "alt_text").wait_ready()
        real = page.get_by_role("img", name=re.compile(r"^Test image #42, a \S"))
        assert real.count() >= 1
        neighbours = page.locator("figure[title] img")
        assert neighbours.count() >= 1
        names = neighbours.evaluate_all("(images) => images.map((i) => i.alt)")
        assert all(re.match(r"Test image #\d+, a \S", a) for a in names), names
    finally:
        context.close()
