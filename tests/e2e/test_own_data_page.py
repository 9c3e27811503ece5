"""The real page on a bundle of another data set (issue 23): 32x32 colour shapes in three classes,
trained here for one short epoch. Measures what was painted: the map's legend, the live canvas at
the bundle's size in colour while a slider is held, a colour upload landing on the map."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from harness.browser import new_context
from harness.image_sets import SHAPE_CLASSES, coloured_shapes
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS, Explorer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium_path")]


@pytest.fixture(scope="module")
def own_url(tmp_path_factory, serve_app):
    from vae_core.cli import main

    root = tmp_path_factory.mktemp("own")
    source = coloured_shapes(root / "shapes", per_class=40)
    args = ["train", "--data", str(source), "--epochs", "1", "--width", "8", "--iw-samples", "2"]
    assert main([*args, "--out", str(root / "artifacts" / "shapes-2d")]) == 0
    with serve_app(root / "artifacts", OUTPUT / "own-data-server.log") as url:
        yield url


@pytest.fixture
def page(browser, own_url):
    context = new_context(browser, TIMEOUT_MS, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    app = Explorer(page, "own-data")
    page.goto(own_url, timeout=TIMEOUT_MS)
    app.wait_ready()
    yield app
    context.close()


def _rgb(src: str) -> np.ndarray:
    return np.asarray(
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"), dtype=int
    )


def test_the_map_names_the_data_sets_classes(page):
    legend = page.page.locator(".legendtext").all_text_contents()
    assert legend == list(SHAPE_CLASSES)
    assert page.page.get_by_role("heading", name="shapes latent space explorer").is_visible()


def test_a_held_slider_drag_paints_the_bundles_size_in_colour(page):
    p = page.page
    painted = _rgb(page.drag_slider_held(0))
    assert painted.shape[0] == painted.shape[1]  # a 32x32 image: square
    assert painted.shape[0] % 32 == 0  # crisp: whole pixels of the bundle's size
    assert np.abs(painted[..., 0] - painted[..., 1]).max() > 0  # colour, not grey
    p.screenshot(path=str(OUTPUT / "own-data-colour.png"))
    assert not page.errors


def test_a_colour_upload_lands_on_the_map(page):
    p = page.page
    picture = Image.new("RGB", (96, 96), (0, 0, 0))
    picture.paste((40, 170, 60), (24, 24, 72, 72))  # a green square
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    page.upload("green.png", buffer.getvalue())
    seen = page.image("As the model sees it (32 x 32)")
    seen.wait_for()
    page.wait_idle()
    page.wait_images_loaded("As the model sees it (32 x 32)")
    src = seen.locator("img").get_attribute("src")
    from urllib.parse import urljoin

    body = p.request.get(urljoin(p.url, src)).body()
    pixels = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), dtype=int)
    middle = pixels[pixels.shape[0] // 2, pixels.shape[1] // 2]
    assert middle[1] > 120 and middle[0] < 100  # still green
    upload = p.locator('svg.vae-overlay g[data-layer="upload"]')
    upload.locator("text", has_text="green.png").wait_for(state="attached")
    p.screenshot(path=str(OUTPUT / "own-data-upload.png"))
    assert not page.errors
