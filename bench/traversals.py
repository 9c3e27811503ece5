"""Latent traversals decoded in the browser (issue 27): what the server no longer does, and what the
page pays while the rows follow a held slider.

    .venv/bin/python bench/traversals.py [--bundles fashion-mnist-2d fashion-mnist-16d] [--steps 60]

Server: the time to decode one grid with ONNX Runtime (what each rerun of the view cost before),
and the size of the grid's message with the server's PNG strips and without (the page decodes).
Browser (headless Chromium, one WebAssembly thread): a slider held and dragged in ``--steps``
moves 33 ms apart, once with the Traversals view open and once with Interpolate open (the
baseline, same page, same run): the live image's frames painted and its pointer-to-paint latency,
how many grids the traversals decoded meanwhile and how long each took, the longest task on the
page's thread (no pointer event is handled during one) and how long the drag took to deliver.
Prints a table; writes bench/results/traversals.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.panels.traversals import grid_data, traversal_decodes, traversal_rows  # noqa: E402
from app.resources import bundle_version, load_explorer  # noqa: E402
from bench.common import machine  # noqa: E402
from harness.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, new_context, serve_app  # noqa: E402

DEFAULT = ["fashion-mnist-2d", "fashion-mnist-16d"]
SLIDER = ".live-slider input"  # the first slider (a dimension in 2-D, a principal direction in 16-D)
# The page's long tasks (over 50 ms on its main thread: no pointer event is handled meanwhile).
LONG_TASKS = """window.vaeLongTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) vaeLongTasks.push(e.duration); })
  .observe({ type: "longtask", buffered: true });"""


def server_side(name: str) -> dict:
    path = REPO / "artifacts" / name
    explorer = load_explorer(str(path), bundle_version(path))
    z = explorer.bundle.z_mean[0].astype(np.float64)
    traversal_decodes(explorer, z)  # warm
    times = []
    for _ in range(15):
        t = time.perf_counter()
        traversal_decodes(explorer, z)
        times.append((time.perf_counter() - t) * 1000)
    rows = traversal_rows(explorer)
    sizes = {
        server: len(json.dumps(grid_data(explorer, rows, z, compact=False, follow=True, server=server)))
        for server in (True, False)
    }
    return {
        "images": len(rows)
        * len(grid_data(explorer, rows, z, compact=False, follow=True, server=False)["offsets"]),
        "server_ms": float(np.median(times)),
        "message_kb_server": sizes[True] / 1024,
        "message_kb_browser": sizes[False] / 1024,
    }


def drag(page, steps: int) -> dict:
    """Hold the first slider and drag it; what the live image and the traversals did meanwhile."""
    page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
    page.locator(SLIDER).first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    box = page.locator(SLIDER).first.bounding_box()
    x0, y = box["x"] + 10, box["y"] + box["height"] / 2
    before = page.evaluate(
        "() => ({ painted: vaeTestHooks.live.painted, paints: vaeTestHooks.live.paints.length,"
        " grids: vaeTestHooks.traversals.decoded, ms: vaeTestHooks.traversals.ms.length,"
        " long: vaeLongTasks.length })"
    )
    started = time.perf_counter()
    page.mouse.move(x0, y)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(x0 + k * (box["width"] - 20) / steps, y)
        page.wait_for_timeout(33)
    page.mouse.up()
    wall = time.perf_counter() - started
    page.wait_for_timeout(500)
    after = page.evaluate(
        """(b) => ({ painted: vaeTestHooks.live.painted - b.painted,
             latency: vaeTestHooks.live.paints.slice(b.paints).filter((p) => p.input !== null && !p.hover)
               .map((p) => p.painted - p.input),
             grids: vaeTestHooks.traversals.decoded - b.grids,
             ms: vaeTestHooks.traversals.ms.slice(b.ms), long: vaeLongTasks.slice(b.long) })""",
        before,
    )
    return {
        "painted": after["painted"],
        "latency_p50": float(np.percentile(after["latency"], 50)) if after["latency"] else float("nan"),
        "latency_p95": float(np.percentile(after["latency"], 95)) if after["latency"] else float("nan"),
        "grids": after["grids"],
        "grid_ms_p50": float(np.median(after["ms"])) if after["ms"] else float("nan"),
        "longest_task_ms": max(after["long"], default=0.0),
        "drag_s": wall,
    }


def browser_side(browser, url: str, name: str, steps: int) -> dict:
    out = {}
    for view in ("interpolate", "traverse"):
        context = new_context(
            browser, 120_000, viewport={"width": 1280, "height": 720}, init_scripts=(LONG_TASKS,)
        )
        page = context.new_page()
        page.goto(f"{url}/?bundle={name}&view={view}")
        page.wait_for_selector(IDLE, state="attached")
        if view == "traverse":
            page.wait_for_function("() => window.vaeTestHooks && vaeTestHooks.traversals.decoded >= 1")
        out[view] = drag(page, steps)
        context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", nargs="+", default=DEFAULT)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    load_before = os.getloadavg()
    from playwright.sync_api import sync_playwright

    results = []
    log = REPO / "bench" / "results" / "traversals-server.log"
    with serve_app(REPO / "artifacts", log) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for name in args.bundles:
            results.append(
                {"bundle": name, **server_side(name), **browser_side(browser, server.url, name, args.steps)}
            )
        browser.close()
    print(
        f"A slider held and dragged in {args.steps} moves 33 ms apart; baseline: the Interpolate view open.\n"
    )
    print(
        "| bundle | images per grid | server decode of a grid | message, server PNGs / page decodes | "
        "grid decoded in the browser, p50 | grids while dragging | "
        "live frames painted, baseline / traversals | "
        "live pointer-to-paint p50 / p95, baseline | traversals | "
        "longest task on the page's thread, baseline / traversals | the drag took, baseline / traversals |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        b, t = r["interpolate"], r["traverse"]
        print(
            f"| {r['bundle']} | {r['images']} | {r['server_ms']:.1f} ms | {r['message_kb_server']:.1f} / "
            f"{r['message_kb_browser']:.1f} KB | {t['grid_ms_p50']:.1f} ms | {t['grids']} | {b['painted']} / "
            f"{t['painted']} | {b['latency_p50']:.1f} / {b['latency_p95']:.1f} ms | "
            f"{t['latency_p50']:.1f} / {t['latency_p95']:.1f} ms | {b['longest_task_ms']:.0f} / "
            f"{t['longest_task_ms']:.0f} ms | {b['drag_s']:.2f} / {t['drag_s']:.2f} s |"
        )
    out = REPO / "bench" / "results" / "traversals.json"
    out.write_text(
        json.dumps({**machine(load_before), "steps": args.steps, "results": results}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
