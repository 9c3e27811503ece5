"""The real page on the shipped sprites bundle (issue 29), measuring what was painted: the map
coloured by a continuous factor (a colour scale from one end to the other, with its colour bar),
and by a categorical one (its legend)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from harness.browser import IDLE, MAP, OVERLAY, new_context
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium_path")]
VIRIDIS_ENDS = {"dark purple": (68, 1, 84), "yellow": (253, 231, 37)}


def _open(browser, app_url, query: str):
    context = new_context(browser, TIMEOUT_MS, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(app_url + query, timeout=TIMEOUT_MS)
    page.wait_for_selector(f'{OVERLAY} g[data-layer="current"] circle', state="attached")
    page.wait_for_selector(IDLE, state="attached")
    return context, page


def test_the_map_coloured_by_x_paints_the_scale_and_its_colour_bar(browser, app_url):
    context, page = _open(browser, app_url, "?bundle=sprites-beta16&colour=x")
    try:
        page.wait_for_selector(f"{MAP} .colorbar", state="attached")
        assert page.locator(f"{MAP} .colorbar .cbtitle").text_content().strip() == "x"
        assert page.locator(f"{MAP} .legendtext").count() == 0  # no class legend: one scale
        page.mouse.move(2, 2)
        page.wait_for_timeout(600)
        path = OUTPUT / "sprites-colour-x.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.locator(f"{MAP} .main-svg").first.screenshot(path=str(path))
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=int).reshape(-1, 3)
        for name, rgb in VIRIDIS_ENDS.items():  # points at both ends of the scale were painted
            near = np.abs(pixels - np.array(rgb)).sum(axis=1) < 60
            assert near.sum() > 30, f"no {name} points painted"
    finally:
        context.close()


def test_the_map_coloured_by_shape_names_its_categories(browser, app_url):
    context, page = _open(browser, app_url, "?bundle=sprites-vae&colour=shape")
    try:
        page.wait_for_selector(f"{MAP} .legendtext", state="attached")
        assert page.locator(f"{MAP} .legendtext").all_text_contents() == [
            "shape: square",
            "shape: ellipse",
            "shape: heart",
        ]
    finally:
        context.close()
