"""Speed of the compare view (app/panels/compare.py) in headless Chromium at 1280 x 720.

    python bench/compare.py [--artifacts artifacts] [--clicks 12] [--out bench/results/compare.json]

Serves the app at ``?mode=compare`` and measures:

* cold: the page opened -> both maps drawn;
* click *Random* -> both maps show the ring at the new test image (its overlay shape moved, then
  two animation frames so the browser has painted), p50 / p95.

Each click waits for the app to be idle before the next. Timings depend on the load of the
machine: the table says what the load average was.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from common import CHROMIUM, CHROMIUM_ARGS, IDLE, new_context, serve_app  # bench/common.py

REPO = Path(__file__).resolve().parents[1]
SCREEN = {"width": 1280, "height": 720}
CHART = "[data-testid=stPlotlyChart] .js-plotly-plot"
# Where each map's ring is (the layout shapes named "image"): changes when the new figure is drawn.
RINGS = f"""() => JSON.stringify([...document.querySelectorAll('{CHART}')].map((gd) =>
  ((gd.layout || {{}}).shapes || []).filter((s) => s.name === 'image').map((s) => [s.xanchor, s.yanchor])))"""
PAINTED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def measure(url: str, clicks: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = new_context(browser, 120_000, viewport=SCREEN).new_page()
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(f"() => document.querySelectorAll('{CHART} .xtick').length >= 2")
        page.wait_for_selector(IDLE, state="attached")
        cold = time.perf_counter() - start
        times = []
        for _ in range(clicks):
            before = page.evaluate(RINGS)
            start = time.perf_counter()
            page.get_by_role("button", name="Random").click()
            page.wait_for_function(f"(old) => ({RINGS})() !== old", arg=before, polling="raf")
            page.evaluate(PAINTED)
            times.append(1000 * (time.perf_counter() - start))
            page.wait_for_selector(IDLE, state="attached")
        browser.close()
    return {"cold_s": cold, "random_ms": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    parser.add_argument("--clicks", type=int, default=12)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "compare.json")
    args = parser.parse_args()
    log = REPO / "test-output" / "bench-compare-server.log"
    with serve_app(args.artifacts.resolve(), log) as server:
        result = measure(f"{server.url}/?mode=compare", args.clicks)
    ms = np.asarray(result["random_ms"])
    summary = {
        "cold_s": round(result["cold_s"], 2),
        "random_p50_ms": round(float(np.percentile(ms, 50))),
        "random_p95_ms": round(float(np.percentile(ms, 95))),
        "clicks": len(ms),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    print("| measure | value |\n| --- | --- |")
    print(f"| page opened -> both maps drawn | {summary['cold_s']} s |")
    print(
        f"| Random -> ring moved on both maps, p50 / p95 | {summary['random_p50_ms']} / "
        f"{summary['random_p95_ms']} ms ({summary['clicks']} clicks) |"
    )
    print(f"| load average (1, 5, 15 min) | {summary['load_average']} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**summary, "random_ms": [round(v) for v in ms]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
