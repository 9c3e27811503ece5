"""The drawing pad's live encoding: how long the ONNX encoder takes in the browser during a stroke.

    python bench/browser_draw.py [--artifacts artifacts] [--bundles fashion-mnist-2d fashion-mnist-16d]
                                 [--moves 120] [--out bench/results/browser_draw.json]

The pad's harness (harness/draw_app.py, built by harness/draw_site.py) runs under a real
``streamlit run`` and headless Chromium (onnxruntime-web, one WebAssembly thread). For each
bundle, in a fresh browser context: the time from navigation to the pad saying it encodes live
(runtime, encoder and decoder fetched and compiled, the blank pad encoded once); then a stroke
drawn with the mouse held down, one move every 16 ms (a 60 Hz pointer), ``--moves`` moves:

* encode: the encoder's run per drawing (the pad's hook ``window.vaeTestHooks.draw.encodeMs``: from the
  run's start to its answer, queueing excluded), p50 / p95 over the stroke;
* encoded per s: drawings encoded per second of stroke, and the share of pointer moves whose
  drawing was encoded (the rest were replaced by a newer one before they ran: latest wins).

Timings depend on the load of the machine: the table says what the load average was.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CHROMIUM, CHROMIUM_ARGS, new_context, write_report  # noqa: E402  bench/common.py

TIMEOUT_MS = 120_000
PAD = ".st-key-draw_pad canvas.draw-pad"
HOOK = "() => { const { pad, ...s } = vaeTestHooks.draw; return { ...s, encodeMs: s.encodeMs.slice() }; }"


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def measure(browser, url: str, bundle: str, moves: int) -> dict:
    context = new_context(browser, TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{url}/?bundle={bundle}")
        page.wait_for_function("() => window.vaeTestHooks?.draw?.live === 'on'")
        page.wait_for_function("() => window.vaeTestHooks.draw.encodes > 0")
        ready_ms = page.evaluate("() => performance.now()")
        box = page.locator(PAD).bounding_box()
        before = page.evaluate(HOOK)
        x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
        page.mouse.move(x0 + 0.5 * w, y0 + 0.2 * h)
        page.mouse.down()
        started = time.perf_counter()
        for k in range(1, moves + 1):  # a wave down the pad
            page.mouse.move(x0 + w * (0.5 + 0.3 * math.sin(k / 6)), y0 + h * (0.2 + 0.6 * k / moves))
            page.wait_for_timeout(16)
        stroke_s = time.perf_counter() - started
        during = page.evaluate(HOOK)
        page.mouse.up()
    finally:
        context.close()
    times = during["encodeMs"][len(before["encodeMs"]) :]
    encoded = during["encodes"] - before["encodes"]
    return {
        "ready_from_navigation_ms": ready_ms,
        "latent_dim": len(during["mu"]),
        "moves": moves,
        "stroke_s": stroke_s,
        "encodes": encoded,
        "requests": during["requests"] - before["requests"],
        "encode_ms": {"p50": percentile(times, 50), "p95": percentile(times, 95), "n": len(times)},
        "encoded_per_s": encoded / stroke_s,
    }


def table(results: dict) -> str:
    rows = [
        "| bundle | ready (from navigation) | encode p50 / p95 | encoded per s of stroke | moves encoded |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} ({r['latent_dim']}-D) | {r['ready_from_navigation_ms'] / 1000:.2f} s "
            f"| {r['encode_ms']['p50']:.1f} / {r['encode_ms']['p95']:.1f} ms "
            f"| {r['encoded_per_s']:.0f} | {r['encodes']} of {r['requests']} |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    parser.add_argument("--bundles", nargs="+", default=["fashion-mnist-2d", "fashion-mnist-16d"])
    parser.add_argument("--moves", type=int, default=120)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "browser_draw.json")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from app.browser_assets import RUNTIME_VERSION
    from harness.draw_site import build_site, serve_site

    load_before = os.getloadavg()
    artifacts = args.artifacts.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-draw-") as tmp:
        build_site(Path(tmp), artifacts, tuple(args.bundles))
        with serve_site(Path(tmp), artifacts, Path(tmp) / "streamlit.log") as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                results = {name: measure(browser, url, name, args.moves) for name in args.bundles}
                chromium_version = browser.version
            finally:
                browser.close()
    write_report(args.out, RUNTIME_VERSION, chromium_version, load_before, results, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
