"""The in-browser decoder's speed: onnxruntime-web (vendored, one WebAssembly thread) in headless Chromium.

    python bench/browser_decode.py [--artifacts artifacts] [--bundles fashion-mnist-2d fashion-mnist-16d]
                                   [--decodes 200] [--out bench/results/browser_decode.json]

Each bundle's decoder.keras is exported with Keras's own ``model.export(path, format="onnx")``
into a temporary folder and served, with the vendored runtime and app/frontend/live_decoder.js,
by a real ``streamlit run`` (static serving on; harness/live_site.py builds the site). For
each decoder, in a fresh browser context (empty caches), then after a reload:

* ready: from the call of ``createDecoder`` to the first decoded image (runtime module, .wasm
  and model fetched, compiled, session created, one decode) [issue 11: <= 2 s after the map
  is visible]; also from the page's navigation start;
* decode: ``await decoder.decode(z)`` for single random points, p50/p95 over --decodes
  (after 20 uncounted), and the same with ``paint`` to a 280 px canvas [well under 33 ms];
* sweep: a new random point every animation frame for 2 s, shown with ``decoder.show``
  (latest wins): images actually painted per second [issue 11: >= 30];
* bytes: what the page transferred (Resource Timing ``transferSize``: headers plus the
  possibly gzip-compressed body; 0 when served from a cache), runtime + model only.

Timings depend on the load of the machine: the table says what the load average was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CHROMIUM, CHROMIUM_ARGS, write_report  # noqa: E402  bench/common.py

TIMEOUT_MS = 120_000
WARMUP = 20

LOAD_JS = """async ([url, d]) => {
  const call = performance.now();
  const decoder = await live.createDecoder(url, { base: siteRoot });
  await decoder.decode(new Float32Array(d));
  const ready = performance.now();
  await live.stored();  // before a reload: the runtime and model are in Cache Storage
  const ours = (e) => /\\/onnxruntime-web-|\\/models\\//.test(e.name);
  const entries = performance.getEntriesByType("resource").filter(ours);
  return {
    ready_from_call_ms: ready - call, ready_from_navigation_ms: ready,
    bytes: entries.reduce((s, e) => s + e.transferSize, 0),
    files: entries.map((e) => ({ name: e.name.split("/").pop(), transfer: e.transferSize,
                                  body: e.encodedBodySize,
                                  fetch_ms: e.responseEnd - e.startTime })),
  };
}"""

TIME_JS = """async ([url, d, n, warmup]) => {
  const decoder = await live.createDecoder(url, { base: siteRoot });
  const canvas = document.getElementById("decoded");
  // Random points of about the prior's spread (a sum of uniforms: roughly normal, std 1).
  const normal = () => 2 * (Math.random() + Math.random() + Math.random() - 1.5);
  const z = () => Float32Array.from({ length: d }, normal);
  for (let i = 0; i < warmup; i++) await decoder.decode(z());
  const decode = [], paint = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await decoder.decode(z());
    decode.push(performance.now() - t);
  }
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    live.paint(canvas, await decoder.decode(z()), 280);
    paint.push(performance.now() - t);
  }
  // A pointer sweep: a new point every animation frame for ~2 s, each shown with latest wins.
  let painted = 0, frames = 0;
  const t0 = performance.now();
  await new Promise((done) => {
    const frame = () => {
      frames += 1;
      decoder.show(canvas, z(), 280).then((shown) => { if (shown) painted += 1; });
      if (performance.now() - t0 < 2000) requestAnimationFrame(frame);
      else decoder.decodeLatest(z()).then(done); // the last show has finished (or was dropped)
    };
    requestAnimationFrame(frame);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { decode, paint, sweep: { frames, painted, seconds, fps: painted / seconds } };
}"""


def summary(values: list[float]) -> dict:
    xs = sorted(values)
    pick = lambda q: xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]  # noqa: E731
    return {
        "n": len(xs),
        "p50": pick(0.5),
        "p95": pick(0.95),
        "min": xs[0],
        "max": xs[-1],
        "mean": statistics.fmean(xs),
    }


def export_decoders(artifacts: Path, bundles: list[str], folder: Path) -> dict[str, tuple[Path, int]]:
    """Each bundle's decoder as ONNX (Keras's own exporter): name -> (path, latent_dim)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    import vae_core.model  # noqa: F401  registers the custom layers

    out = {}
    for name in bundles:
        decoder = keras.saving.load_model(artifacts / name / "decoder.keras", safe_mode=True)
        latent_dim = int(decoder.inputs[0].shape[-1])
        decoder(np.zeros((1, latent_dim), np.float32))  # the exporter refuses a model never called
        path = folder / f"{name}.onnx"
        decoder.export(str(path), format="onnx", verbose=False)
        out[name] = (path, latent_dim)
    return out


def measure(browser, url: str, model_url: str, latent_dim: int, decodes: int) -> dict:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        loads = []
        for i in range(2):
            if i == 0:
                page.goto(f"{url}/app/static/page.html")
            else:
                page.reload()
            page.wait_for_function("() => !!window.live")
            loads.append(page.evaluate(LOAD_JS, [model_url, latent_dim]))
        times = page.evaluate(TIME_JS, [model_url, latent_dim, decodes, WARMUP])
    finally:
        context.close()
    return {
        "latent_dim": latent_dim,
        "first_load": loads[0],
        "reload": loads[1],
        "decode_ms": summary(times["decode"]),
        "decode_paint_ms": summary(times["paint"]),
        "sweep": times["sweep"],
    }


def table(results: dict) -> str:
    rows = [
        "| decoder | ready (first load) | ready (reload) | decode p50 / p95 | decode + paint p50 / p95 "
        "| sweep: images painted per s | bytes first load | bytes reload |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        first, again = r["first_load"], r["reload"]
        rows.append(
            f"| {name} ({r['latent_dim']}-D) | {first['ready_from_call_ms'] / 1000:.2f} s "
            f"| {again['ready_from_call_ms'] / 1000:.2f} s "
            f"| {r['decode_ms']['p50']:.1f} / {r['decode_ms']['p95']:.1f} ms "
            f"| {r['decode_paint_ms']['p50']:.1f} / {r['decode_paint_ms']['p95']:.1f} ms "
            f"| {r['sweep']['fps']:.0f} ({r['sweep']['frames']} frames) "
            f"| {first['bytes'] / 1e6:.2f} MB | {again['bytes'] / 1e6:.3f} MB |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    parser.add_argument("--bundles", nargs="+", default=["fashion-mnist-2d", "fashion-mnist-16d"])
    parser.add_argument("--decodes", type=int, default=200)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "browser_decode.json")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from app.browser_assets import RUNTIME_VERSION
    from harness.live_site import build_site, serve_site

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        models = export_decoders(args.artifacts, args.bundles, Path(tmp))
        urls = build_site(Path(tmp) / "site", {name: path for name, (path, _) in models.items()})
        with serve_site(Path(tmp) / "site", Path(tmp) / "streamlit.log") as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                results = {
                    name: measure(browser, url, urls[name], dim, args.decodes)
                    for name, (_, dim) in models.items()
                }
                chromium_version = browser.version
            finally:
                browser.close()
    write_report(args.out, RUNTIME_VERSION, chromium_version, load_before, results, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
