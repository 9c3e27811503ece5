"""The in-browser decoder (app/frontend/decoder.js) in headless Chromium, on the vendored runtime.

A tiny untrained decoder and encoder (weights scaled so the images vary with z) are exported
with Keras's own ``model.export(path, format="onnx")`` and served, with the runtime, by a real
``streamlit run`` over a throwaway site (harness/live_site.py). What a person relies on:
the browser paints the same garment the server would (Keras to 1e-4), a fast pointer never
makes decodes queue up (latest wins), a component's JavaScript can use the module, and a
reload does not download the runtime or the model again.

    .venv/bin/python -m pytest -q tests/e2e/test_live_decoder.py
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.live_site import build_site, serve_site
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS

POINTS = np.array([[0.0, 0.0], [1.2, -0.7], [-2.5, 1.9], [3.1, 2.2], [-0.4, -3.0]], np.float32)  # (5, 2)
BURST = 50

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.usefixtures("chromium_path"),  # skips, or fails under CI, without Chromium: tests/needs.py
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny decoder/encoder exported to ONNX, and what Keras computes for POINTS, the burst, two images."""
    import keras

    from vae_core.config import VAEConfig
    from vae_core.model import build_decoder, build_encoder

    keras.utils.set_random_seed(0)
    config = VAEConfig(latent_dim=2, width=8)
    decoder, encoder = build_decoder(config), build_encoder(config)
    decoder.set_weights([2.0 * w for w in decoder.get_weights()])  # untrained outputs are ~0.5 everywhere
    rng = np.random.default_rng(1)
    burst = rng.normal(0.0, 1.5, (BURST, 2)).astype(np.float32)
    images = rng.random((2, 28, 28, 1), dtype=np.float32)
    expected = {
        "points": decoder(POINTS).numpy().reshape(len(POINTS), 784),
        "last": decoder(burst[-1:]).numpy().reshape(784),
        "encoded": [m.numpy() for m in encoder(images)],  # [z_mean, z_log_var], (2, 2) each
    }
    folder = tmp_path_factory.mktemp("onnx")
    decoder.export(str(folder / "decoder.onnx"), format="onnx", verbose=False)
    encoder.export(str(folder / "encoder.onnx"), format="onnx", verbose=False)
    assert np.ptp(expected["points"], axis=0).max() > 0.3, "the test decoder must give different images"
    return {"dir": folder, "burst": burst, "images": images, **expected}


@pytest.fixture(scope="module")
def site(models, tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    onnx = {"decoder": models["dir"] / "decoder.onnx", "encoder": models["dir"] / "encoder.onnx"}
    urls = build_site(root, onnx, proof_z=POINTS[1].tolist())
    with serve_site(root, OUTPUT / "live-site.log") as url:
        yield {"url": url, **urls}


@pytest.fixture
def page(browser, site):
    """The bare test page with the module loaded (a fresh context: empty caches)."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site['url']}/app/static/page.html")
    page.wait_for_function("() => !!window.live")
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def test_browser_decodes_and_encodes_like_keras(page, site, models):
    got = page.evaluate(
        """async ([decoderUrl, encoderUrl, points, images]) => {
          const decoder = await live.createDecoder({ url: decoderUrl }, runtime, { base: siteRoot });
          const single = [];
          for (const z of points) single.push(Array.from(await decoder.decode(z)));
          const batch = Array.from(await decoder.decodeBatch(points));
          const shape = [28, 28, 1];
          const encoder = await live.createEncoder({ url: encoderUrl }, runtime, shape, { base: siteRoot });
          const encoded = [];
          for (const image of images) {
            const { zMean, zLogVar } = await encoder.encode(image);
            encoded.push([Array.from(zMean), Array.from(zLogVar)]);
          }
          return { single, batch, encoded };
        }""",
        [site["decoder"], site["encoder"], POINTS.tolist(), models["images"].reshape(2, 784).tolist()],
    )
    single = np.array(got["single"])
    assert single.shape == (len(POINTS), 784)
    assert np.abs(single - models["points"]).max() <= 1e-4
    assert np.abs(np.array(got["batch"]).reshape(len(POINTS), 784) - models["points"]).max() <= 1e-4
    encoded = np.array(got["encoded"])  # (2 images, [z_mean, z_log_var], 2)
    z_mean, z_log_var = models["encoded"]
    assert np.abs(encoded[:, 0] - z_mean).max() <= 1e-4
    assert np.abs(encoded[:, 1] - z_log_var).max() <= 1e-4


def test_a_burst_of_requests_runs_few_decodes_and_paints_the_last(page, site, models):
    """50 pointer moves at once: the newest wins, the canvas shows the last point's garment, crisp."""
    got = page.evaluate(
        """async ([url, burst]) => {
          const decoder = await live.createDecoder({ url }, runtime, { base: siteRoot });
          await decoder.decode([0, 0]);  // warm: the burst measures queuing, not loading
          const canvas = document.getElementById("decoded");
          const before = decoder.runs;
          const painted = [];
          await Promise.all(burst.map((z, i) => decoder.decodeLatest(z).then((pixels) => {
            if (pixels) { live.paint(canvas, pixels, [28, 28, 1], 280); painted.push(i); }
          })));
          const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          const grey = [];
          for (let i = 0; i < rgba.length; i += 4) grey.push(rgba[i]);
          return { runs: decoder.runs - before, painted, width: canvas.width, height: canvas.height, grey };
        }""",
        [site["decoder"], models["burst"].tolist()],
    )
    assert got["runs"] < BURST / 5, f"{got['runs']} of {BURST} requests were decoded: they queued up"
    assert got["painted"][-1] == BURST - 1, f"painted {got['painted']}: the newest request must be shown last"
    assert len(got["painted"]) == got["runs"]
    assert (got["width"], got["height"]) == (280, 280)
    grey = np.array(got["grey"], np.float64).reshape(280, 280)
    blocks = grey.reshape(28, 10, 28, 10)
    assert (blocks == blocks[:, :1, :, :1]).all(), "each pixel must be a uniform 10 x 10 block (no smoothing)"
    want = np.rint(np.clip(models["last"], 0, 1) * 255).reshape(28, 28)
    assert np.abs(blocks[:, 0, :, 0] - want).max() <= 1


def test_the_runtime_is_served_by_the_app_and_a_reload_fetches_it_from_cache(browser, site):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    hosts, types = set(), {}
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]) if r.url.startswith("http") else None)
    page.on("response", lambda r: types.__setitem__(r.url.rsplit("/", 1)[-1], r.headers.get("content-type")))
    load = """async (url) => {
      const decoder = await live.createDecoder({ url }, runtime, { base: siteRoot });
      await decoder.decode([0, 0]);
      await live.stored();
      return performance.getEntriesByType("resource").filter((e) => e.transferSize > 0).map((e) => e.name);
    }"""
    try:
        page.goto(f"{site['url']}/app/static/page.html")
        page.wait_for_function("() => !!window.live")
        first = page.evaluate(load, site["decoder"])
        page.reload()
        page.wait_for_function("() => !!window.live")
        again = page.evaluate(load, site["decoder"])
    finally:
        context.close()
    assert hosts == {site["url"].split("/")[2]}, f"requests left the app: {hosts}"
    # The runtime and the model come precompressed (sent as they are, unpacked in the page).
    model = site["decoder"].rsplit("/", 1)[-1]
    assert any(u.endswith("/ort-wasm-simd-threaded.wasm.gz") for u in first), first
    assert any(u.endswith(f"/{model}.gz") for u in first), first
    assert types["ort-wasm-simd-threaded.wasm.gz"] == types[f"{model}.gz"] == "application/gzip"
    assert types["ort.wasm.bundle.min.mjs"] in ("text/javascript", "application/javascript")
    refetched = [u for u in again if u.endswith((".wasm", ".onnx", ".gz"))]
    assert not refetched, f"a reload downloaded {refetched} again"


def test_the_plain_files_have_the_types_browsers_need(browser, site):
    """Served as published too: .wasm as application/wasm (streaming compilation), .onnx as bytes."""
    context = browser.new_context()
    try:
        get = lambda path: context.request.get(f"{site['url']}/{path}", headers={"Range": "bytes=0-99"})  # noqa: E731
        wasm = get("app/static/vendor/onnxruntime-web-1.30.0/ort-wasm-simd-threaded.wasm")
        model = get(site["decoder"])
        outside = context.request.get(f"{site['url']}/app/static/..%2F..%2Fapp.py")
    finally:
        context.close()
    assert wasm.headers["content-type"] == "application/wasm"
    assert model.headers["content-type"] == "application/octet-stream"
    assert wasm.headers.get("etag") and wasm.headers.get("last-modified")
    assert outside.status >= 400, "the static route must not serve files outside static/"


def test_a_component_can_run_the_module(browser, site, models):
    """A component's JavaScript imports the module from the static route: it decodes, paints, reports."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(site["url"])
        text = page.get_by_text("decoded in the browser:")
        page.wait_for_function("() => Array.isArray(window.liveProof)")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stText]')]"
            ".some((e) => e.innerText.includes('784'))"
        )
        reported = json.loads(text.inner_text().split(":", 1)[1])
        pixels = np.array(page.evaluate("() => window.liveProof"))
        canvas = page.evaluate(
            "() => { const c = document.querySelector('canvas.live-proof')"
            " || [...document.querySelectorAll('*')]"
            ".map((e) => e.shadowRoot?.querySelector('canvas.live-proof'))"
            ".find(Boolean); return c ? [c.width, c.height] : null; }"
        )
    finally:
        context.close()
    assert reported["n"] == 784
    assert np.abs(pixels - models["points"][1]).max() <= 1e-4
    assert canvas == [140, 140]


def test_a_decoder_that_does_not_fit_the_bundle_is_refused_at_load(page, site):
    """The page checks a model against the bundle it was given for (issue 28): one decode of a zero
    point; a decoder of another latent size or image size is refused, and the page falls back."""
    got = page.evaluate(
        """async (url) => {
          const tryCheck = async (check) => {
            try { await live.createDecoder({ url }, runtime, { base: siteRoot, check }); return "ok"; }
            catch (e) { return String(e.message); }
          };
          return [await tryCheck({ latentDim: 2, size: 784 }), await tryCheck({ latentDim: 3, size: 784 }),
                  await tryCheck({ latentDim: 2, size: 3072 })];
        }""",
        site["decoder"],
    )
    assert got[0] == "ok"
    assert "does not take this bundle's 3 numbers" in got[1]
    assert "gives 784 values per image, this bundle's images have 3072" in got[2]
