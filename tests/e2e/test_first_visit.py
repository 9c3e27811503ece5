"""What a first visit costs and what the server loads for it (issue 25): the served app never imports
TensorFlow or Keras, and the page fetches the light browser models, the encoder only when a view
needs it. The sizes and times themselves are bench/first_visit.py's business.
"""

from __future__ import annotations

import re

import pytest

from harness.browser import IDLE, SLIDER, new_context
from tests.e2e.conftest import SERVER_LOG, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium_path")]


def test_the_served_app_never_imports_tensorflow_or_keras(browser, app_url):
    """A whole visit (a slider drag, every view, every lesson step, Compare), then the server's own
    import log (python -X importtime)."""
    context = new_context(browser, TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(app_url)
        page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
        box = page.locator(SLIDER.format(0)).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
        page.wait_for_selector(IDLE, state="attached")
        for view in ("Decoded grid", "Prior samples", "Encode an image", "Inside the VAE", "Interpolate"):
            page.get_by_role("radio", name=view).click()
            page.wait_for_selector(IDLE, state="attached")
        page.get_by_role("radio", name="Learn").click()
        page.wait_for_selector(IDLE, state="attached")
        for step in range(2, 7):
            page.get_by_role("radio", name=str(step), exact=True).click()
            page.wait_for_selector(IDLE, state="attached")
        page.get_by_role("radio", name="Compare").click()
        page.wait_for_selector(IDLE, state="attached")
        page.wait_for_selector("[data-testid=stPlotlyChart]")
    finally:
        context.close()
    log = SERVER_LOG.read_text(errors="replace")
    assert "import time:" in log, "the server was not started with -X importtime"
    imported = set(re.findall(r"import time:.*\|\s+(\S+)\s*$", log, flags=re.MULTILINE))
    assert "streamlit" in imported and "onnxruntime" in imported
    loaded = sorted(m for m in imported if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx"))
    assert not loaded, f"the server imported {loaded[:5]}"


def test_a_first_visit_fetches_the_light_decoder_and_the_encoder_only_for_the_drawing_pad(
    browser, app_url, artifacts_root
):
    from vae_core.bundle import load_bundle

    models = load_bundle(artifacts_root / "fashion-mnist-2d").browser_models
    decoder, encoder = models["decoder"], models["encoder"]
    assert decoder.light and encoder.light, "the shipped bundle has light copies (export-onnx adds them)"
    context = new_context(browser, TIMEOUT_MS)
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/app/static/models/" in r.url else None)
    try:
        page.goto(f"{app_url}/?bundle=fashion-mnist-2d")
        page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
        page.wait_for_selector(IDLE, state="attached")
        digests = {re.search(r"/([0-9a-f]{64})\.onnx", url).group(1) for url in fetched}
        assert digests == {decoder.light.sha256}, fetched  # the light decoder, and no encoder yet
        page.goto(f"{app_url}/?bundle=fashion-mnist-2d&mode=learn&step=4")  # the drawing pad
        page.wait_for_selector(".st-key-lesson_draw .draw-status[data-live=on]", state="attached")
    finally:
        context.close()
    digests = {re.search(r"/([0-9a-f]{64})\.onnx", url).group(1) for url in fetched}
    assert digests == {decoder.light.sha256, encoder.light.sha256}, fetched
