"""Load: N concurrent real browser sessions against ONE `streamlit run` server.

    python bench/load_pages.py [--sessions 1,5,20] [--duration 30] [--think-ms 250]
                         [--artifacts artifacts] [--out bench/results/load_pages.json]

Starts the server on a free localhost port, then for each N opens N browser contexts (N
Streamlit sessions) in one headless Chromium, all at once, and lets each interact for
--duration seconds: alternately a slider key (PageUp/PageDown, towards the middle of the
range) and a click at a random spot of the map (a test point or empty space), with
--think-ms between inputs. Reports per N:

* interactions served: inputs that got a new decoded image (and their rate);
* errors, which must be zero: uncaught page errors, inputs without a new image within
  --input-timeout, sessions whose first screen did not come, tracebacks or error alerts;
* latency p50/p95: input event -> the live point panel painted its next picture, timed
  inside the page with performance.now() (so the driver's own delays do not count);
* first screen: page opened -> map, overlay and decoded image there (all N opening at once);
* server RSS: the streamlit process and its children (/proc/<pid>/status VmRSS), before,
  the highest sample during (every second), and after the sessions closed.

Bounded: at most --max-inputs per session, every wait has a timeout, localhost only. The
browser runs on the same cores as the server, so latencies include the pages' own rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
from common import (  # bench/common.py
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    MAP,
    PAGE_JS,
    SLIDER,
    VIEWPORT,
    rss_mb,
    serve_app,
)

REPO = Path(__file__).resolve().parents[1]

# Installed in every page before the app's scripts: the last input's time and a watcher.
INSTRUMENT = """
window.__load = { input: null };
addEventListener('keydown', () => { window.__load.input = performance.now(); }, true);
addEventListener('pointerup', () => { window.__load.input = performance.now(); }, true);
// How many pictures the live point panel has painted (app/frontend/live.js counts them).
window.__loadPainted = () => (window.vaeTestHooks ? window.vaeTestHooks.live.painted : 0);
// Resolves with ms from the input to the next paint beyond the first `before` (null: timeout).
// Polled with timers, not animation frames, which a page in the background may not get.
window.__loadWatch = (before, timeoutMs) => new Promise((resolve) => {
  const start = performance.now();
  const poll = () => {
    if (window.__loadPainted() > before) resolve(performance.now() - window.__load.input);
    else if (performance.now() - start > timeoutMs) resolve(null);
    else setTimeout(poll, 5);
  };
  poll();
});
"""
DIAGNOSE = """() => {
  const gd = document.querySelector('__MAP__');
  return {
    script: document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state'),
    map: !!gd, axes: !!(gd && gd._fullLayout && gd._fullLayout.xaxis && gd._fullLayout.xaxis._length),
    layers: Object.keys((window.vaeTestHooks?.map || {}).layers || {}),
    overlay: !!document.querySelector('svg.vae-overlay'),
    decoded: window.__loadPainted() > 0,
  };
}""".replace("__MAP__", MAP)


def percentiles(values: list[float]) -> dict:
    a = np.asarray(values, dtype=np.float64)
    if not a.size:
        return {"n": 0}
    return {
        "n": int(a.size),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "max": float(a.max()),
    }


class Session:
    """One browser context = one Streamlit session, interacting until told to stop."""

    def __init__(self, browser, url: str, rng: random.Random, args):
        self.browser, self.url, self.rng, self.args = browser, url, rng, args
        self.latencies: list[float] = []
        self.page_errors: list[str] = []
        self.timeouts = 0
        self.failures: list[str] = []  # first screen missing, driver errors, tracebacks
        self.open_s: float | None = None

    async def open(self) -> bool:
        self.context = await self.browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(self.args.open_timeout * 1000)
        await self.context.add_init_script(PAGE_JS)
        await self.context.add_init_script(INSTRUMENT)
        self.page = await self.context.new_page()
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        started = time.perf_counter()
        try:
            await self.page.goto(self.url, wait_until="commit")
            await self.page.wait_for_selector(f"{MAP} .legendtext", state="attached")
            await self.page.wait_for_selector(
                f'{MAP} svg.vae-overlay g[data-layer="current"] circle', state="attached"
            )
            await self.page.wait_for_function("() => window.__loadPainted() > 0")
            await self.page.wait_for_selector(IDLE, state="attached")
            self.box = await self.page.evaluate("() => vaePage.plotBox()")
        except Exception as e:  # noqa: BLE001 - a session that never came up is counted, not fatal
            self.failures.append(
                f"first screen: {type(e).__name__}: {str(e).splitlines()[0][:120]}; "
                f"page: {await self.diagnose()}"
            )
            return False
        self.open_s = time.perf_counter() - started
        self.context.set_default_timeout(self.args.input_timeout * 1000)  # from now on: per input
        return True

    async def diagnose(self) -> str:
        """What the page has (for a session whose first screen did not come)."""
        try:
            return json.dumps(await self.page.evaluate(DIAGNOSE))
        except Exception as e:  # noqa: BLE001
            return f"unreadable ({type(e).__name__})"

    async def slider(self) -> None:
        dim = self.rng.randrange(2)
        thumb = self.page.locator(SLIDER.format(dim))
        value = float(await thumb.input_value())  # the slider's value is a property, not an attribute
        lo, hi = [float(await thumb.get_attribute(a)) for a in ("min", "max")]
        await thumb.focus()
        await self.page.keyboard.press("PageUp" if value < (lo + hi) / 2 else "PageDown")

    async def click(self) -> None:
        x0, y0, w, h = self.box
        x, y = x0 + 30 + self.rng.random() * (w - 60), y0 + 30 + self.rng.random() * (h - 60)
        await self.page.mouse.move(x, y)
        await self.page.mouse.down()
        await self.page.mouse.up()

    async def run(self, stop_at: float) -> None:
        """Inputs until stop_at (time.monotonic) or --max-inputs; each waits for its new image."""
        timeout_ms = int(self.args.input_timeout * 1000)
        for k in range(self.args.max_inputs):
            if time.monotonic() >= stop_at:
                break
            try:
                await self.page.wait_for_selector(IDLE, state="attached", timeout=timeout_ms)
                old = await self.page.evaluate("() => window.__loadPainted()")
                await self.page.evaluate(
                    "([old, t]) => { window.__loadDone = window.__loadWatch(old, t); }", [old, timeout_ms]
                )
                await (self.slider() if k % 2 == 0 else self.click())
                ms = await self.page.evaluate("() => window.__loadDone")
            except Exception as e:  # noqa: BLE001 - counted as an error; the session goes on
                self.failures.append(f"input {k}: {type(e).__name__}: {str(e)[:200]}")
                continue
            if ms is None:
                self.timeouts += 1
            else:
                self.latencies.append(ms)
            await asyncio.sleep(self.args.think_ms / 1000 * (0.5 + self.rng.random()))

    async def check_page(self) -> None:
        """A traceback or an error alert on the page is a failure too."""
        try:
            problems = "[data-testid=stException], [data-testid=stAlertContentError]"
            shown = await self.page.locator(problems).count()
        except Exception as e:  # noqa: BLE001
            self.failures.append(f"final check: {type(e).__name__}")
            return
        if shown:
            self.failures.append(f"{shown} exception/error element(s) on the page")

    async def close(self) -> None:
        try:
            await self.context.close()
        except Exception:  # noqa: BLE001 - closing a broken context must not hide the numbers
            pass


async def sample_rss(pid: int, samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(rss_mb(pid))
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


async def run_level(browser, url: str, pid: int, n: int, args, rng: random.Random) -> dict:
    """N sessions at once for args.duration seconds; their numbers."""
    rss_before = rss_mb(pid)
    samples: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, samples, stop))
    sessions = [Session(browser, url, random.Random(rng.random()), args) for _ in range(n)]
    t0 = time.monotonic()
    opened = await asyncio.gather(*(s.open() for s in sessions))
    open_wall = time.monotonic() - t0
    t1 = time.monotonic()
    await asyncio.gather(*(s.run(t1 + args.duration) for s, ok in zip(sessions, opened, strict=True) if ok))
    wall = time.monotonic() - t1
    await asyncio.gather(*(s.check_page() for s, ok in zip(sessions, opened, strict=True) if ok))
    await asyncio.gather(*(s.close() for s in sessions))
    stop.set()
    await sampler
    await asyncio.sleep(3)  # let the server drop the closed sessions
    latencies = [ms for s in sessions for ms in s.latencies]
    page_errors = [e for s in sessions for e in s.page_errors]
    failures = [f for s in sessions for f in s.failures]
    timeouts = sum(s.timeouts for s in sessions)
    return {
        "sessions": n,
        "sessions_up": int(sum(opened)),
        "duration_s": wall,
        "served": len(latencies),
        "served_per_s": len(latencies) / wall if wall > 0 else 0.0,
        "errors": len(page_errors) + timeouts + len(failures),
        "page_errors": page_errors[:20],
        "timeouts": timeouts,
        "failures": failures[:20],
        "latency_ms": percentiles(latencies),
        "first_screen_s": {
            **percentiles([s.open_s for s in sessions if s.open_s is not None]),
            "all_up_s": open_wall,
        },
        "rss_mb": {
            "before": rss_before,
            "max_during": max(samples, default=rss_before),
            "after": rss_mb(pid),
        },
        "load_average": os.getloadavg(),
    }


async def bench(args) -> dict:
    from playwright.async_api import async_playwright

    rng = random.Random(args.seed)
    log_path = args.out.with_suffix(".server.log")
    result: dict = {
        "artifacts": str(args.artifacts),
        "load_average_before": os.getloadavg(),
        "settings": {
            "duration_s": args.duration,
            "think_ms": args.think_ms,
            "input_timeout_s": args.input_timeout,
            "max_inputs": args.max_inputs,
        },
    }
    with serve_app(args.artifacts, log_path) as server:
        url, pid = server.url, server.process.pid
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                warm = Session(browser, url, rng, args)  # the first session loads the bundle: not counted
                await warm.open()
                await warm.close()
                result["rss_mb_idle"] = rss_mb(pid)
                result["levels"] = []
                for n in args.sessions:
                    level = await run_level(browser, url, pid, n, args, rng)
                    result["levels"].append(level)
                    print(
                        f"N={n}: {level['served']} served, {level['errors']} errors, "
                        f"p50 {level['latency_ms'].get('p50', float('nan')):.0f} ms, "
                        f"RSS max {level['rss_mb']['max_during']:.0f} MB",
                        flush=True,
                    )
            finally:
                await browser.close()
    result["load_average_after"] = os.getloadavg()
    result["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    return result


def print_table(result: dict, out: Path) -> None:
    def ms(d: dict, key: str) -> str:
        return f"{d[key]:.0f}" if d.get("n") else "-"

    print()
    print(
        "| sessions | served | served/s | errors | p50 ms | p95 ms | first screen p50 / max s "
        "| RSS before / max / after MB |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for lv in result["levels"]:
        lat, first, rss = lv["latency_ms"], lv["first_screen_s"], lv["rss_mb"]
        first_text = f"{first['p50']:.1f} / {first['max']:.1f}" if first.get("n") else "-"
        memory = f"{rss['before']:.0f} / {rss['max_during']:.0f} / {rss['after']:.0f}"
        print(
            f"| {lv['sessions']} | {lv['served']} | {lv['served_per_s']:.1f} | {lv['errors']} "
            f"| {ms(lat, 'p50')} | {ms(lat, 'p95')} | {first_text} | {memory} |"
        )
    s = result["settings"]
    lb, la = result["load_average_before"], result["load_average_after"]
    print(
        f"\n{s['duration_s']:.0f} s per level, think time ~{s['think_ms']:.0f} ms, "
        f"input timeout {s['input_timeout_s']:.0f} s; "
        f"{os.cpu_count()} CPUs shared by the server and Chromium; 1-min load average {lb[0]:.1f} before, "
        f"{la[0]:.1f} after. Server RSS with no session: {result['rss_mb_idle']:.0f} MB. Written {out}"
    )
    for lv in result["levels"]:
        for problem in lv["page_errors"] + lv["failures"]:
            print(f"  N={lv['sessions']}: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_root = os.environ.get("VAE_ARTIFACTS") or str(REPO / "artifacts")
    parser.add_argument(
        "--artifacts", type=Path, default=Path(default_root), help="folder of bundles (VAE_ARTIFACTS)"
    )
    parser.add_argument(
        "--sessions",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[1, 5, 20],
        help="comma-separated numbers of concurrent sessions (default 1,5,20)",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of interaction per level")
    parser.add_argument("--think-ms", type=float, default=250.0, help="mean pause between a session's inputs")
    parser.add_argument(
        "--input-timeout", type=float, default=30.0, help="seconds an input may wait for its new image"
    )
    parser.add_argument(
        "--open-timeout",
        type=float,
        default=180.0,
        help="seconds a session may take to show its first screen",
    )
    parser.add_argument("--max-inputs", type=int, default=300, help="most inputs per session and level")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "load_pages.json")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install chromium")
    if min(args.sessions) < 1 or max(args.sessions) > 50 or args.duration <= 0 or args.max_inputs < 1:
        raise SystemExit("--sessions must be 1 to 50 each, --duration and --max-inputs positive")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(bench(args))
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print_table(result, args.out)
    if any(lv["errors"] for lv in result["levels"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
