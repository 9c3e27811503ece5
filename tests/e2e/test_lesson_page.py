"""Issue 13 in the real page: a student walks the lesson, step by step, on a 1280x720 screen.

Screenshots of every step land in test-output/e2e/lesson-step-N.png; the closing note uses them.

    .venv/bin/pytest -q tests/e2e/test_lesson.py
"""

from __future__ import annotations

import re

import pytest

from app.link import LESSON_STEPS
from harness.browser import IDLE, new_context
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS, numbered_images

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium_path")]

PROJECTOR = {"width": 1280, "height": 720}


def open_lesson(browser, url: str, query: str):
    context = new_context(browser, TIMEOUT_MS, viewport=PROJECTOR)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/?{query}")
    page.wait_for_selector(IDLE, state="attached")
    return context, page, errors


def step_title(page) -> str:
    return page.locator("h3").filter(has_text=re.compile(r"^\d · ")).first.inner_text()


def wait_step(page, n: int) -> None:
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('h3')].some((h) => h.innerText.startsWith(n + ' · '))", arg=n
    )
    page.wait_for_selector(IDLE, state="attached")


def test_a_student_walks_the_lesson_with_next_and_back_and_the_link_keeps_the_step(browser, app_url):
    context, page, errors = open_lesson(browser, app_url, "mode=learn")
    try:
        wait_step(page, 1)
        for n in range(1, LESSON_STEPS + 1):
            wait_step(page, n)
            page.wait_for_timeout(800)  # let Plotly finish drawing before the picture
            page.screenshot(path=OUTPUT / f"lesson-step-{n}.png")
            assert f"step={n}" in page.url
            # The step fits the screen: nothing of it below the fold.
            height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
            assert height <= PROJECTOR["height"] + 40, f"step {n} is {height} px tall"
            if n == LESSON_STEPS:  # each model's decodes, numbered as the crosses on its map
                decodes = numbered_images(page, 8)
                assert [d["name"] for d in decodes] == [str(k) for k in range(1, 9)] * 3
                assert min(d["w"] for d in decodes) >= 40
            if n < LESSON_STEPS:
                page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Back").click()
        wait_step(page, LESSON_STEPS - 1)
        assert errors == []
    finally:
        context.close()
    # A link to step 3 opens step 3.
    context, page, errors = open_lesson(browser, app_url, "mode=learn&step=3")
    try:
        wait_step(page, 3)
        assert "reconstruction" in page.get_by_text(re.compile(r"−ELBO = reconstruction \+ KL")).inner_text()
        # A click on the selected part ("Learn") keeps the lesson, still shown as selected.
        learn = page.get_by_role("radio", name="Learn", exact=True)
        learn.click()
        page.wait_for_timeout(1000)
        wait_step(page, 3)
        assert learn.get_attribute("aria-checked") == "true" and "mode=learn" in page.url
    finally:
        context.close()


def test_resample_changes_the_samples_but_not_mu(browser, app_url):
    context, page, errors = open_lesson(browser, app_url, "mode=learn&step=2&i=7")
    try:
        wait_step(page, 2)
        line = page.get_by_text(re.compile(r"^Sample 1: mu"))
        before = line.inner_text()
        page.get_by_role("button", name="Resample epsilon").click()
        page.wait_for_function(
            "(old) => [...document.querySelectorAll('p')].some((p) => p.innerText.startsWith('Sample 1: mu')"
            " && p.innerText !== old)",
            arg=before,
        )
        after = line.inner_text()
        mu = re.compile(r"mu (\([^)]*\))")
        assert mu.search(before).group(1) == mu.search(after).group(1)
        epsilon = re.compile(r"epsilon (\([^)]*\))")
        assert epsilon.search(before).group(1) != epsilon.search(after).group(1)
        assert errors == []
    finally:
        context.close()


def test_drawing_in_the_lesson_moves_the_ellipse_and_the_server_scores_it(browser, app_url):
    from tests.e2e import test_draw as d

    pad = ".st-key-lesson_draw canvas.draw-pad"
    context, page, errors = open_lesson(browser, app_url, "mode=learn&step=4")
    try:
        wait_step(page, 4)
        page.wait_for_selector(pad)
        before = d.wait_encoded(page)
        b = page.locator(pad).bounding_box()
        points = d.path_points(5)
        page.mouse.move(b["x"] + d.PATH[0][0] * b["width"], b["y"] + d.PATH[0][1] * b["height"])
        page.mouse.down()
        for u, v in points:
            page.mouse.move(b["x"] + u * b["width"], b["y"] + v * b["height"])
            page.wait_for_timeout(30)
        during = d.hook(page)["encodes"]
        page.mouse.up()
        assert during - before["encodes"] >= 5, "the encoder did not follow the stroke"
        after = d.wait_encoded(page)
        moved = (
            (after["ellipse"]["px"] - before["ellipse"]["px"]) ** 2
            + (after["ellipse"]["py"] - before["ellipse"]["py"]) ** 2
        ) ** 0.5
        assert moved > 10, f"the ellipse moved {moved:.1f} px"
        scored = page.get_by_text(re.compile(r"^Your drawing: mu"))
        scored.wait_for()
        page.screenshot(path=OUTPUT / "lesson-step-4-drawn.png")
        # The drawing becomes the image steps 1 to 3 follow.
        page.get_by_role("button", name="Follow my drawing in steps 1 to 3").click()
        wait_step(page, 1)
        page.get_by_text("Following your drawing").wait_for()
        assert errors == []
    finally:
        context.close()
