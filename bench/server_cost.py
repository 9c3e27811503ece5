"""What one visitor costs the server (issue 26): CPU per new session, CPU per slider gesture, memory
per session, for ONE replica (`streamlit run` on the shipped artifacts), driven by one headless
Chromium, and what that means for a class. Prints a table and writes bench/results/server_cost.json.

    .venv/bin/python bench/server_cost.py [--sessions 5] [--gestures 20]

CPU is the server process's own counters (/proc/<pid>/stat: user + system time of all its
threads), read before and after each step once the page is idle, so the browser's work does not
count. A gesture is what a person does with a slider: press, drag in --steps moves 60 ms apart, release
(one commit to the server). The first session after start is reported apart (it loads the bundle).

"Students per replica" is an estimate from these costs, not a load test: a replica is one Python
process, so it has at most one core's worth of Python; at one gesture every --every seconds per
student, it stays under --busy of that core. Concurrent sessions (queueing, the p95 of a commit)
are not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from common import CHROMIUM, CHROMIUM_ARGS, IDLE, MAP, SLIDER, new_context, rss_mb, serve_app

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 180_000
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def settle(pid: int, quiet_s: float = 0.6, timeout_s: float = 20.0) -> None:
    """Wait until the server used no CPU for quiet_s (its work for the last step is done)."""
    deadline = time.monotonic() + timeout_s
    last = cpu_s(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = cpu_s(pid)
        if now - last < 0.01:
            return
        last = now


def open_session(browser, url: str):
    context = new_context(browser, TIMEOUT_MS, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector(f"{MAP} .legendtext", state="attached")
    page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
    page.wait_for_selector(IDLE, state="attached")
    return context, page


def gesture(page, steps: int) -> None:
    box = page.locator(SLIDER.format(0)).bounding_box()
    x, y = box["x"] + box["width"] * (0.3 + 0.4 * (time.monotonic() % 1)), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(x + k * box["width"] / 40 * 7 / steps, y)
        page.wait_for_timeout(60)
    page.mouse.up()
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, state="attached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--gestures", type=int, default=20)
    parser.add_argument("--steps", type=int, default=7, help="pointer moves while the slider is held")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between a student's gestures")
    parser.add_argument("--busy", type=float, default=0.5, help="share of a core a replica may use")
    parser.add_argument(
        "--option", action="append", default=[], help="a Streamlit setting, e.g. runner.postScriptGC=false"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "server_cost.json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    log = REPO / "test-output" / "bench" / "server_cost-server.log"
    with serve_app(REPO / "artifacts", log, tuple(args.option)) as server, sync_playwright() as p:
        pid, url = server.process.pid, server.url
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        settle(pid)
        rss0 = rss_mb(pid)
        sessions, contexts, rss = [], [], []
        for _ in range(args.sessions + 1):
            before = cpu_s(pid)
            context, page = open_session(browser, url)
            settle(pid)
            sessions.append(cpu_s(pid) - before)
            contexts.append((context, page))
            rss.append(rss_mb(pid))
        first, sessions = sessions[0], sessions[1:]
        page = contexts[-1][1]
        gestures = []
        for _ in range(args.gestures):
            settle(pid)
            before = cpu_s(pid)
            gesture(page, args.steps)
            settle(pid)
            gestures.append(cpu_s(pid) - before)
        rss_after_gestures = rss_mb(pid)
        for context, _ in contexts:
            context.close()
        browser.close()
    per_session_mb = (rss[-1] - rss[0]) / max(1, len(rss) - 1)
    g = statistics.median(gestures)
    s = statistics.median(sessions)
    students = int(args.busy / (g / args.every)) if g > 0 else None
    joins_per_minute = int(args.busy * 60 / s) if s > 0 else None
    results = {
        "first_session_cpu_s": round(first, 3),
        "session_cpu_s": {"median": round(s, 3), "all": [round(v, 3) for v in sessions]},
        "gesture_cpu_s": {
            "median": round(g, 4),
            "p90": round(sorted(gestures)[int(0.9 * (len(gestures) - 1))], 4),
        },
        "rss_mb": {
            "idle": round(rss0),
            "per_session": round(per_session_mb, 1),
            "with_sessions": round(rss[-1]),
            "after_gestures": round(rss_after_gestures),
        },
        "estimate": {
            "gesture_every_s": args.every,
            "busy_share_of_a_core": args.busy,
            "students_per_replica": students,
            "new_sessions_per_minute": joins_per_minute,
        },
        "options": args.option,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"one replica, {os.cpu_count()} cores, load before {load_before[0]:.1f}")
    print(f"  first session after start   {first:6.2f} s CPU")
    print(f"  new session (median of {len(sessions)})  {s:6.3f} s CPU")
    print(f"  slider gesture (median of {len(gestures)}) {g:6.4f} s CPU")
    print(
        f"  memory                      {rss0:.0f} MB idle, +{per_session_mb:.1f} MB per open session, "
        f"{rss[-1]:.0f} MB with them, {rss_after_gestures:.0f} MB after the gestures"
    )
    print(
        f"  estimate: {students} students at one gesture per {args.every:g} s within {args.busy:.0%} of a "
        f"core; {joins_per_minute} new sessions a minute"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
