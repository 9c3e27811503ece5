"""Browser speed and server memory of the explorer: a real `streamlit run` driven by headless Chromium.

    python bench/browser.py [--artifacts artifacts] [--moves 30] [--clicks 30] [--sessions 10]
                            [--soak 200] [--set runner.postScriptGC=false] [--out bench/results/browser.json]

Measures, on the default bundle (issue 5's targets in brackets):

* slider moved with the keyboard -> new decoded image rendered, p50/p95 [<= 200 / 400 ms];
* click on the map (half on test points, half on empty space) -> new decoded image [p50 <= 300 ms];
* cold start: `streamlit run` spawned -> map visible in the browser [<= 12 s];
* server RSS (the streamlit process and its children, /proc/<pid>/status VmRSS) with 1 and
  with 10 concurrent pages [<= 800 MB], and its growth over 200 interactions [none];
* issue 11, the gestures decoded in the browser (skip with --no-live): pictures painted per
  second while a slider is held down and dragged, while the pointer sweeps the map (the hover
  preview) and while the current point's marker is dragged, each for 2 s with a mouse event
  every ~16 ms [>= 30 frames/s]; pointer event -> picture painted, p50/p95 [p50 <= 33 ms];
  runtime and model ready after the map is visible [<= 2 s], and the bytes fetched from
  app/static on a first load and on a reload; server CPU seconds for 100 slider steps
  released one by one (each a rerun, the only way before) and as one drag of 100 moves.

Latency is timed inside the page with performance.now(): from the keydown / pointerup
event to the frame after the live point panel painted a new picture (app/frontend/live.js
counts its paints; a key press on a slider is decoded in the browser, a click on the map by
the server). Each input waits for the app to be idle before the next;
a few uncounted interactions (--warmup) follow the cold start.
Timings depend on the load of the machine: the table says what the load average was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from common import (  # bench/common.py
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    MAP,
    SLIDER,
    new_context,
    serve_app,
    settled_rss,
)

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 120_000
TARGETS = {  # issue 5
    "slider_ms": "p50 <= 200, p95 <= 400",
    "click_ms": "p50 <= 300",
    "cold_start_s": "<= 12",
    "rss_10_pages_mb": "<= 800",
    "rss_growth_mb": "no growth",
}

# Installed in every page before the app's own scripts: input timestamps and a watcher.
INSTRUMENT = """
window.__bench = { input: null, idle: null };
addEventListener('keydown', () => { window.__bench.input = performance.now(); }, true);
addEventListener('pointerup', () => { window.__bench.input = performance.now(); }, true);
window.__benchMoves = 0;  // pointer moves the page received (the gesture measurements reset it)
addEventListener('pointermove', () => { window.__benchMoves += 1; }, true);
// When the script (or a fragment) last finished running.
new MutationObserver(() => {
  if (document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning')
    window.__bench.idle = performance.now();
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-test-script-state'] });
// How many pictures the live point panel has painted (app/frontend/live.js counts them).
window.__benchPainted = () => (window.vaeTestHooks ? window.vaeTestHooks.live.painted : 0);
// Resolves at the frame after the panel painted a picture beyond the first `before` (null: timeout).
window.__benchWatch = (before, timeoutMs) => new Promise((resolve) => {
  const start = performance.now();
  const tick = () => {
    if (window.__benchPainted() > before) {
      const seen = performance.now();
      requestAnimationFrame(() => resolve({ input: window.__bench.input, seen, painted: performance.now() }));
    } else if (performance.now() - start > timeoutMs) {
      resolve(null);
    } else {
      requestAnimationFrame(tick);
    }
  };
  tick();
});
"""


def stats(values: list[float]) -> dict:
    a = np.asarray(values, dtype=np.float64)
    if not a.size:
        return {"n": 0}
    return {
        "n": int(a.size),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "min": float(a.min()),
        "max": float(a.max()),
        "mean": float(a.mean()),
    }


class Page:
    """One browser context (one Streamlit session) on the explorer."""

    def __init__(self, browser, url: str):
        self.context = new_context(browser, TIMEOUT_MS, init_scripts=(INSTRUMENT,))
        self.page = self.context.new_page()
        self.url = url
        self.points = None

    def open(self) -> None:
        self.page.goto(self.url, wait_until="commit", timeout=TIMEOUT_MS)

    def wait_map(self) -> None:
        self.page.wait_for_selector(f"{MAP} .legendtext", state="attached")

    def wait_ready(self) -> None:
        self.wait_map()
        self.page.wait_for_selector(f'{MAP} svg.vae-overlay g[data-layer="current"] circle', state="attached")
        self.page.wait_for_function("() => window.__benchPainted() > 0")
        self.page.wait_for_selector(IDLE, state="attached")

    def timed(self, action, timeout_ms: int = 20_000) -> dict | None:
        """Run ``action`` (an input) and time it to the new decoded image; None if none came."""
        before = self.page.evaluate("() => window.__benchPainted()")
        self.page.evaluate(
            "([n, t]) => { window.__benchDone = window.__benchWatch(n, t); }", [before, timeout_ms]
        )
        action()
        result = self.page.evaluate("() => window.__benchDone")
        self.page.wait_for_selector(IDLE, state="attached")
        self.page.wait_for_timeout(100)
        if not result or result["input"] is None:
            return None
        idle = self.page.evaluate("() => window.__bench.idle")
        t0 = result["input"]
        return {
            "ms": result["painted"] - t0,  # input -> new picture painted
            "idle_ms": None if idle is None or idle < t0 else idle - t0,  # -> the rerun finished
        }

    def slider(self, dim: int, key: str) -> dict | None:
        """One keyboard step of slider ``dim`` (``key``, or the other way when the slider is at that end)."""
        thumb = self.page.locator(SLIDER.format(dim))
        value, low, high = (float(thumb.evaluate(f"(e) => e.{a}")) for a in ("value", "min", "max"))
        if (key == "ArrowRight" and value >= high) or (key == "ArrowLeft" and value <= low):
            key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
        thumb.focus()
        return self.timed(lambda: self.page.keyboard.press(key))

    def click(self, x: float, y: float) -> dict | None:
        self.page.mouse.move(x, y)
        return self.timed(lambda: (self.page.mouse.down(), self.page.mouse.up()))

    def targets(self, rng: np.random.Generator, n: int) -> list[tuple[str, float, float]]:
        """n click targets alternating between distinct test points and empty spots on the map."""
        from scipy.spatial import cKDTree

        found = self.page.evaluate("() => vaePage.mapPoints()")
        px, py = np.asarray(found["px"]), np.asarray(found["py"])
        x0, y0, w, h = found["box"]
        tree = cKDTree(np.c_[px, py])
        gap = tree.query(np.c_[px, py], k=2)[0][:, 1]
        m = 30.0
        inside = (px > x0 + m) & (px < x0 + w - m) & (py > y0 + m) & (py < y0 + h - m)
        points = rng.permutation(np.flatnonzero(inside & (gap >= 4.0)))
        gx, gy = np.meshgrid(np.arange(x0 + m, x0 + w - m, 7.0), np.arange(y0 + m, y0 + h - m, 7.0))
        gx, gy = gx.ravel(), gy.ravel()
        clear = tree.query(np.c_[gx, gy], k=1)[0]
        empty = rng.permutation(np.flatnonzero(clear >= 12.0))
        out = []
        for k in range(n):
            if k % 2 == 0 and k // 2 < len(points):
                i = points[k // 2]
                out.append(("point", float(px[i]), float(py[i])))
            else:
                j = empty[(k // 2) % len(empty)]
                out.append(("empty", float(gx[j]), float(gy[j])))
        return out

    def close(self) -> None:
        self.context.close()


STATIC_BYTES = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/app/static/')).reduce((sum, e) => sum + (e.transferSize || 0), 0)"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def gesture(page: Page, start: tuple[float, float], path, seconds: float, hold: bool) -> dict:
    """Move the mouse along ``path(t)`` (t in [0, 1)) for ``seconds``, button held down or not, as
    fast as the driver delivers events (Playwright's steps: no Python round trip between them);
    count the pointer events the page received and the pictures the live panel painted."""
    p = page.page
    before = p.evaluate("() => window.vaeTestHooks.live.paints.length")
    p.mouse.move(*start)
    if hold:
        p.mouse.down()
    p.evaluate("() => { window.__benchMoves = 0; }")
    t0 = time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        p.mouse.move(*path(elapsed / seconds), steps=4)  # 4 events towards the next point
    span = time.perf_counter() - t0
    events = p.evaluate("() => window.__benchMoves")
    if hold:
        p.mouse.up()
    p.wait_for_timeout(300)
    paints = p.evaluate("(n) => window.vaeTestHooks.live.paints.slice(n)", before)
    window = [x for x in paints if x.get("input") is not None]
    return {
        "seconds": span,
        "events": events,
        "painted": len(window),
        "fps": len(window) / span,
        "latency_ms": stats([x["painted"] - x["input"] for x in window]),
    }


def measure_live(page: Page, pid: int) -> dict:
    """Issue 11: frames painted during gestures, event -> paint latency, server CPU per step."""
    p = page.page
    p.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
    p.wait_for_selector(IDLE, state="attached")
    slider = p.locator(SLIDER.format(0))
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    x = box["x"] + 8 + (float(slider.input_value()) - low) / (high - low) * (box["width"] - 16)
    left, right = box["x"] + 10, box["x"] + box["width"] - 10

    def scrub(f: float) -> tuple[float, float]:  # back and forth across the track, as a person scrubs
        phase = (2 * f + (x - left) / (right - left) / 2) % 1
        return left + (right - left) * (1 - abs(2 * phase - 1)), y

    result = {"slider_drag": gesture(page, (x, y), scrub, 2.0, hold=True)}
    p.wait_for_selector(IDLE, state="attached")
    x0, y0, w, h = p.evaluate("() => vaePage.plotBox()")
    result["hover"] = gesture(
        page,
        (x0 + w * 0.1, y0 + h * 0.5),
        lambda f: (x0 + w * (0.1 + 0.8 * f), y0 + h * (0.5 + 0.3 * np.sin(6 * f))),
        2.0,
        hold=False,
    )
    p.wait_for_selector(IDLE, state="attached")
    mx, my = page.page.evaluate("() => vaePage.marker('current')")
    result["marker_drag"] = gesture(
        page, (mx, my), lambda f: (mx + w * 0.25 * np.sin(np.pi * f), my - h * 0.2 * f), 2.0, hold=True
    )
    p.wait_for_selector(IDLE, state="attached")
    p.wait_for_timeout(500)
    # Server CPU: 100 slider steps released one by one (each reruns the panel), then one drag of 100 moves.
    slider.focus()
    before = cpu_seconds(pid)
    for k in range(100):
        p.keyboard.press("ArrowRight" if k % 20 < 10 else "ArrowLeft")
        p.wait_for_selector(IDLE, state="attached")
    keyboard = cpu_seconds(pid) - before
    p.wait_for_timeout(500)
    box = slider.bounding_box()
    before = cpu_seconds(pid)
    p.mouse.move(box["x"] + box["width"] / 2, y)
    p.mouse.down()
    for k in range(100):
        p.mouse.move(box["x"] + 10 + (box["width"] - 20) * abs(np.sin(k / 15)), y)
        p.wait_for_timeout(10)
    p.mouse.up()
    p.wait_for_timeout(300)
    p.wait_for_selector(IDLE, state="attached")
    drag = cpu_seconds(pid) - before
    result["server_cpu"] = {"keyboard_100_steps_s": keyboard, "drag_100_moves_s": drag}
    return result


def ready_times(browser, url: str) -> dict:
    """Runtime and model ready after the map is visible, and the bytes fetched from app/static, on a
    first load and on a reload (a fresh browser context: nothing cached before)."""
    page = Page(browser, url)
    out = {}
    for phase in ("first", "reload"):
        if phase == "first":
            page.open()
        else:
            page.page.reload(wait_until="commit")
        page.wait_map()
        map_at = page.page.evaluate("() => performance.now()")
        page.page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
        ready_at = page.page.evaluate("() => performance.now()")
        page.page.wait_for_selector(IDLE, state="attached")
        out["after_map_s" if phase == "first" else "reload_after_map_s"] = (ready_at - map_at) / 1000
        page.page.wait_for_timeout(1500)  # let the cache writes finish
        out["first_load_bytes" if phase == "first" else "reload_bytes"] = page.page.evaluate(STATIC_BYTES)
    page.close()
    return out


def interact(page: Page, rng: np.random.Generator, n: int, log: list | None = None) -> int:
    """n mixed interactions (slider keys and map clicks); returns how many gave no new image."""
    targets = page.targets(rng, max(n, 2))
    misses = 0
    for k in range(n):
        if k % 2 == 0:
            result = page.slider(k % 4 // 2, "ArrowRight" if (k // 4) % 2 == 0 else "ArrowLeft")
        else:
            _, x, y = targets[k]
            result = page.click(x, y)
        if result is None:
            misses += 1
        elif log is not None:
            log.append(result)
    return misses


PHASES = ("ms", "idle_ms")  # in the order they happen after the input


def summary(runs: list[dict], misses: int) -> dict:
    """p50/p95 of input -> painted ("ms") plus the same for each phase, and the raw values."""
    out = {
        **stats([r["ms"] for r in runs]),
        "no_new_image": misses,
    }
    out["phases"] = {k: stats([r[k] for r in runs if r.get(k) is not None]) for k in PHASES}
    out["values"] = [{k: None if r.get(k) is None else round(r[k], 1) for k in PHASES} for r in runs]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_root = os.environ.get("VAE_ARTIFACTS") or str(REPO / "artifacts")
    parser.add_argument(
        "--artifacts", type=Path, default=Path(default_root), help="folder of bundles (VAE_ARTIFACTS)"
    )
    parser.add_argument("--moves", type=int, default=30, help="slider moves (keyboard)")
    parser.add_argument(
        "--clicks", type=int, default=30, help="map clicks (half on points, half on empty space)"
    )
    parser.add_argument(
        "--sessions", type=int, default=10, help="concurrent pages for the memory measurement"
    )
    parser.add_argument(
        "--soak", type=int, default=200, help="interactions for the memory-growth measurement"
    )
    parser.add_argument("--warmup", type=int, default=4, help="uncounted interactions after the cold start")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-live", dest="live", action="store_false", help="skip the in-browser gesture measurements"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="an extra `streamlit run` option for an experiment, e.g. runner.postScriptGC=false",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "browser.json")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    rng = np.random.default_rng(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "artifacts": str(args.artifacts),
        "streamlit_options": args.set,
        "load_average_before": os.getloadavg(),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = Page(browser, "")
        page.page.goto("about:blank")  # the browser is warm: the cold start is the server's
        log = REPO / "test-output" / "bench" / "browser.server.log"  # gitignored
        log.parent.mkdir(parents=True, exist_ok=True)
        try:
            with serve_app(args.artifacts, log, tuple(args.set)) as server:
                health_s = server.healthy_after_s
                page.url = server.url
                page.open()
                page.wait_map()
                map_s = time.perf_counter() - server.started
                page.wait_ready()
                ready_s = time.perf_counter() - server.started
                result["cold_start"] = {
                    "health_s": health_s,
                    "map_visible_s": map_s,
                    "first_screen_idle_s": ready_s,
                }
                print(
                    f"cold start: health {health_s:.1f} s, map visible {map_s:.1f} s, idle {ready_s:.1f} s",
                    flush=True,
                )

                interact(page, rng, args.warmup)  # first decodes and reruns of a session: not counted
                if args.live:
                    result["live"] = measure_live(page, server.process.pid)
                    result["live"]["ready"] = ready_times(browser, server.url)
                    print_live(result["live"])
                slider, misses = [], 0
                for k in range(args.moves):
                    r = page.slider(k % 2, "ArrowRight")  # one way only: no revisited (browser-cached) image
                    misses += r is None
                    slider += [r] if r else []
                result["slider"] = summary(slider, misses)
                print(f"slider moves: p50 {result['slider'].get('p50', float('nan')):.0f} ms", flush=True)

                clicks: dict[str, list[dict]] = {"point": [], "empty": []}
                misses = 0
                for kind, x, y in page.targets(rng, args.clicks):
                    r = page.click(x, y)
                    misses += r is None
                    clicks[kind] += [r] if r else []
                result["click"] = summary(clicks["point"] + clicks["empty"], misses)
                result["click"]["point"] = stats([r["ms"] for r in clicks["point"]])
                result["click"]["empty"] = stats([r["ms"] for r in clicks["empty"]])
                print(f"map clicks: p50 {result['click'].get('p50', float('nan')):.0f} ms", flush=True)

                rss_1 = settled_rss(server.process.pid)
                print(f"RSS with 1 page: {rss_1:.0f} MB", flush=True)
                others = [Page(browser, server.url) for _ in range(args.sessions - 1)]
                for p in others:
                    p.open()  # all sessions load at once
                for p in others:
                    p.wait_ready()
                for p in others:
                    interact(p, rng, 3)
                rss_many = settled_rss(server.process.pid)
                print(f"RSS with {args.sessions} pages: {rss_many:.0f} MB", flush=True)
                for p in others:
                    p.close()

                soak_rss = [(0, settled_rss(server.process.pid, 2.0))]
                soak: list[dict] = []
                misses = 0
                block = 20
                for done in range(block, args.soak + 1, block):
                    misses += interact(page, rng, block, soak)
                    soak_rss.append((done, settled_rss(server.process.pid, 2.0)))
                    print(f"  soak {done}: {soak_rss[-1][1]:.0f} MB", flush=True)
                page.close()
        finally:
            browser.close()

    half = len(soak_rss) // 2
    result["rss_mb"] = {
        "one_page": rss_1,
        "many_pages": rss_many,
        "sessions": args.sessions,
        "soak": {
            "interactions": args.soak,
            "samples": soak_rss,
            "growth": soak_rss[-1][1] - soak_rss[0][1],
            "growth_second_half": soak_rss[-1][1] - soak_rss[half][1],
        },
    }
    result["soak"] = summary(soak, misses)
    result["load_average_after"] = os.getloadavg()
    result["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    result["targets"] = TARGETS
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print_table(result, args)


def print_table(result: dict, args) -> None:
    s, c, soak = result["slider"], result["click"], result["soak"]
    rss, cold = result["rss_mb"], result["cold_start"]

    def ms(d: dict) -> tuple[str, str]:
        return (f"{d['p50']:.0f}", f"{d['p95']:.0f}") if d.get("n") else ("-", "-")

    many = rss["many_pages"]
    rows = [
        (
            "slider -> new image (ms)",
            s["n"],
            *ms(s),
            TARGETS["slider_ms"],
            s["n"] and s["p50"] <= 200 and s["p95"] <= 400,
        ),
        ("map click -> new image (ms)", c["n"], *ms(c), TARGETS["click_ms"], c["n"] and c["p50"] <= 300),
        ("  on a test point", c["point"]["n"], *ms(c["point"]), "", None),
        ("  on empty space", c["empty"]["n"], *ms(c["empty"]), "", None),
        ("mixed inputs during the soak (ms)", soak["n"], *ms(soak), "", None),
        (
            "cold start -> map visible (s)",
            1,
            f"{cold['map_visible_s']:.1f}",
            "",
            TARGETS["cold_start_s"],
            cold["map_visible_s"] <= 12,
        ),
        ("server RSS, 1 page (MB)", 1, f"{rss['one_page']:.0f}", "", "", None),
        (
            f"server RSS, {rss['sessions']} pages (MB)",
            1,
            f"{many:.0f}",
            "",
            TARGETS["rss_10_pages_mb"],
            many <= 800,
        ),
        (
            f"RSS growth, {rss['soak']['interactions']} interactions (MB)",
            1,
            f"{rss['soak']['growth']:+.0f}",
            "",
            f"none (2nd half {rss['soak']['growth_second_half']:+.0f})",
            None,
        ),
    ]
    print()
    print(f"| {'measure':<38} | {'n':>3} | {'p50':>6} | {'p95':>6} | {'target':<26} | met |")
    print(f"| {'-' * 38} | --:| -----:| -----:| {'-' * 26} | --- |")
    for name, n, p50, p95, target, met in rows:
        flag = "" if met is None else ("yes" if met else "no")
        print(f"| {name:<38} | {n:>3} | {p50:>6} | {p95:>6} | {target:<26} | {flag:<3} |")

    print("\nWhere the time goes, p50 ms after the input: the new picture painted, the rerun finished")
    print(f"| {'input':<10} | {'painted':>8} | {'rerun done':>10} |")
    print(f"| {'-' * 10} | -------:| ---------:|")
    for name, d in (("slider", s), ("map click", c), ("soak", soak)):
        ph = d["phases"]
        cells = [f"{ph[k]['p50']:.0f}" if ph[k].get("n") else "-" for k in PHASES]
        print(f"| {name:<10} | {cells[0]:>8} | {cells[1]:>10} |")
    if result.get("live"):
        print_live(result["live"])
    misses = s["no_new_image"] + c["no_new_image"] + soak["no_new_image"]
    lb, la = result["load_average_before"], result["load_average_after"]
    print(
        f"\n{os.cpu_count()} CPUs; 1-min load average {lb[0]:.1f} before, {la[0]:.1f} after (other work on "
        f"the machine slows every number). Inputs without a new image: {misses}. Written {args.out}"
    )


def print_live(live: dict) -> None:
    """The gestures decoded in the browser (issue 11's targets)."""
    print("\nGestures decoded in the browser (issue 11): pictures actually painted while the gesture ran")
    print(
        f"| {'gesture':<34} | {'s':>4} | {'events':>6} | {'painted':>7} | {'frames/s':>8} | "
        f"{'event->painted p50 / p95 ms':>27} |"
    )
    print(f"| {'-' * 34} | ---:| -----:| ------:| -------:| {'-' * 26}:|")
    for name, g in (
        ("slider held down and dragged", live["slider_drag"]),
        ("pointer swept over the map", live["hover"]),
        ("current point's marker dragged", live["marker_drag"]),
    ):
        lat = g["latency_ms"]
        cell = f"{lat['p50']:.1f} / {lat['p95']:.1f}" if lat.get("n") else "-"
        print(
            f"| {name:<34} | {g['seconds']:>4.1f} | {g['events']:>6} | {g['painted']:>7} | "
            f"{g['fps']:>8.1f} | {cell:>27} |"
        )
    r = live["ready"]
    print(
        f"\nRuntime and model ready {r['after_map_s']:.2f} s after the map was visible (first load), "
        f"{r['reload_after_map_s']:.2f} s on a reload. "
        f"Bytes from app/static: {r['first_load_bytes'] / 1e6:.1f} MB "
        f"on the first load, {r['reload_bytes'] / 1e6:.2f} MB on a reload."
    )
    cpu = live["server_cpu"]
    print(
        f"Server CPU for 100 slider steps: {cpu['keyboard_100_steps_s']:.2f} s as 100 released steps "
        "(each a rerun, "
        f"as before), {cpu['drag_100_moves_s']:.2f} s as one drag of 100 moves and one release."
    )


if __name__ == "__main__":
    main()
