"""The real page on imported bundles (issue 24): a keras.io conv VAE and an ONNX pair written the
way PyTorch exports one, each imported with `python -m vae_core import`. Measures what was painted:
the map's legend, and a new decoded image while a slider is held down and dragged."""

from __future__ import annotations

import pytest

from harness.browser import new_context
from harness.reference_vaes import imported_artifacts
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS, Explorer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium_path")]


@pytest.fixture(scope="module")
def imported_url(tmp_path_factory, serve_app):
    artifacts = imported_artifacts(tmp_path_factory.mktemp("imported"))
    with serve_app(artifacts, OUTPUT / "imported-server.log") as url:
        yield url


@pytest.mark.parametrize("bundle", ["keras-io", "onnx"])
def test_an_imported_bundles_map_shows_and_a_held_drag_paints(browser, imported_url, bundle):
    context = new_context(browser, TIMEOUT_MS, viewport={"width": 1280, "height": 720})
    try:
        p = context.new_page()
        app = Explorer(p, f"imported-{bundle}")
        p.goto(f"{imported_url}/?bundle={bundle}", timeout=TIMEOUT_MS)
        app.wait_ready()
        assert p.locator(".legendtext").all_text_contents() == ["left", "right"]  # the data set's classes
        app.drag_slider_held(0)  # returns once a new image was painted while held
        p.screenshot(path=str(OUTPUT / f"imported-{bundle}.png"))
        assert not app.errors
    finally:
        context.close()
