"""Issue 27, latent traversals decoded in the browser: the rows are painted by the page's own
decoder, the middle image is the live image's point, and while a slider is held and dragged the
rows follow the point before the release, without taking the live image's frames. Each row says
what it shows (axe-core's WCAG 2.1 AA rules pass on the view).

    .venv/bin/pytest -q tests/e2e/test_traversals_page.py
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.browser import SLIDER
from tests.e2e.conftest import OUTPUT, parse_z
from tests.e2e.test_accessibility import axe_violations, report

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium_path")]

GRID = ".st-key-traversals"

# Each row's middle image and ends, and the live image, sampled at their image pixels' centres (grey levels).
MIDDLES = """() => {
  const sample = (canvas, h, w) => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const out = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const px = Math.floor(((x + 0.5) * canvas.width) / w), py = Math.floor(((y + 0.5) * canvas.height) / h);
      out.push(data[(py * canvas.width + px) * 4]);
    }
    return out;
  };
  // the components draw in shadow roots
  const roots = [...document.querySelectorAll("*")].filter((e) => e.shadowRoot).map((e) => e.shadowRoot);
  const live = roots.map((r) => r.querySelector(".live-image")).find(Boolean);
  const rows = roots.flatMap((r) => [...r.querySelectorAll(".trav-strip")]);
  const shape = [28, 28];
  return {
    live: sample(live, ...shape),
    middles: rows.map((r) => sample(r.querySelector("canvas.middle"), ...shape)),
    ends: rows.map((r) => [...r.querySelectorAll("canvas")]
      .filter((_, k, all) => k === 0 || k === all.length - 1).map((c) => sample(c, ...shape))),
  };
}"""


def traversed(page) -> dict:
    return page.evaluate("() => { const t = vaeTestHooks.traversals; return { ...t, ms: t.ms.slice() }; }")


def test_the_rows_are_decoded_in_the_browser_and_follow_a_held_slider(explorer):
    page = explorer.page
    page.get_by_role("radio", name="Traversals").click()
    page.locator(GRID).wait_for()
    explorer.wait_idle()
    page.wait_for_function("() => vaeTestHooks.traversals.decoded >= 1")
    page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
    z = parse_z(explorer.decoded()["caption"])
    assert traversed(page)["z"] == pytest.approx(z, abs=0.006)
    labels = page.locator(f"{GRID} .trav-label").all_inner_texts()
    assert len(labels) == len(z) and all(label.startswith("z") for label in labels)
    # the middle of every row is the live image (one decoder, one point); the ends differ
    seen = page.evaluate(MIDDLES)
    live = np.asarray(seen["live"], dtype=int)
    for middle in seen["middles"]:
        assert np.abs(np.asarray(middle) - live).max() <= 2
    first, last = (np.asarray(e) for e in seen["ends"][0])
    assert np.abs(first - last).mean() > 5  # the top row moves its dimension: the image changes
    explorer.screenshot("traversals-1280", path=OUTPUT / "traversals.png")
    names = page.locator(f"{GRID} .trav-strip[role=img]").evaluate_all("(s) => s.map((e) => e.ariaLabel)")
    assert len(names) == len(z) and all(n.startswith("z") and "decodes from" in n for n in names)
    violations = axe_violations(page)
    assert violations == [], report(violations)

    # hold a slider and drag it: the rows follow before the release
    painted_before = page.evaluate("() => vaeTestHooks.live.painted")
    grids_before = traversed(page)["decoded"]
    box = page.locator(SLIDER.format(0)).bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    held = []
    for k in range(1, 13):
        page.mouse.move(x + k * box["width"] * 0.04, y)
        page.wait_for_timeout(80)
        held.append(traversed(page)["z"][0])
    page.wait_for_function("(n) => vaeTestHooks.traversals.decoded > n", arg=grids_before)
    during = traversed(page)
    painted_during = page.evaluate("() => vaeTestHooks.live.painted") - painted_before
    page.mouse.up()
    explorer.wait_idle()
    assert during["decoded"] > grids_before and len(set(held)) >= 2  # it moved while the slider was held
    assert painted_during >= 8  # the live image kept most of its 12 frames
    # once released and settled, the rows are at the committed point
    page.wait_for_function(
        "(z) => { const t = vaeTestHooks.traversals.z; return t && Math.abs(t[0] - z) < 0.006; }",
        arg=parse_z(explorer.decoded()["caption"])[0],
    )
    seen = page.evaluate(MIDDLES)
    assert np.abs(np.asarray(seen["middles"][0]) - np.asarray(seen["live"])).max() <= 2
    assert not explorer.errors
