"""How many students: a class of protocol-level sessions against 1, 2 and 3 replicas behind the
front (issue 26). Prints a table and writes bench/results/load.json.

    python bench/load.py [--replicas 1,2,3] [--students 20,40,80,...,400] [--every 5]
                         [--duration 30] [--p95-ms 300]

A student is a websocket session that speaks Streamlit's own protocol (BackMsg/ForwardMsg), the
way the page does, without a browser: a browser per student on the same 2 cores would measure the
browsers (bench/load_pages.py does that, up to 20 pages). One real Chromium page is there too:
it opens the app, makes a held slider drag, and its messages to the server are the template every
student replays (the first run, then a commit of a new point, which is all a slider or map
gesture sends: the drag itself is decoded in the browser). During every level the page keeps
dragging, so the table also says what a person sees: release -> the page's run finished.

For each replica count the cluster (deploy/cluster.py: nginx and N `streamlit run`, cookie
affinity) starts fresh, and each replica's first session (it loads the bundle) is opened before,
untimed. Students join (--join-per-s), then each makes one gesture every --every seconds
(random phase, +-20 %) for --duration seconds. Levels go up until a commit's p95 passes
--p95-ms; "students" is the largest level that stayed under it. Measured per level: commit
latency (send -> the session idle again: every run the commit caused finished), the replicas'
CPU per gesture and per joining session (their /proc counters), memory per session, errors (a
run that raised, a commit unanswered in 10 s, a first screen in 30 s). The driver runs on the
same cores; its own CPU is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from common import CHROMIUM, CHROMIUM_ARGS, IDLE, MAP, PAGE_JS, SLIDER, free_port, machine, rss_mb
from server_cost import cpu_s

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy"))
from cluster import Cluster  # noqa: E402  (deploy/cluster.py)
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

TIMEOUT_S = 10.0  # a commit
JOIN_TIMEOUT_S = 30.0  # a first screen
TRIGGER = "live_point__events"

# The real page: its run state, watched from before the release until the run it caused ended.
WATCH_JS = """() => { const app = document.querySelector('[data-testid=stApp]');
  const t0 = performance.now(); let ran = false;
  window.__commit = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      const s = app.getAttribute('data-test-script-state');
      if (s === 'running') ran = true;
      else if (ran) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(app, { attributes: true, attributeFilter: ['data-test-script-state'] });
    setTimeout(() => { obs.disconnect(); resolve(null); }, 15000);
  }); }"""


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Template:
    """The real page's first message and one commit, to be replayed with other points."""

    def __init__(self, frames: list[bytes]):
        messages = []
        for raw in frames:
            m = BackMsg()
            m.ParseFromString(raw)
            messages.append(m)
        self.first = messages[0].SerializeToString()
        commits = [m for m in messages if any(TRIGGER in w.id for w in m.rerun_script.widget_states.widgets)]
        if not commits:
            raise SystemExit("the real page sent no commit: did the slider drag reach the server?")
        self.commit = commits[-1]
        self.commit.rerun_script.ClearField("cached_message_hashes")  # a new session has cached nothing
        self.z = json.loads(self._trigger().json_trigger_value)[0]["value"]["z"]

    def _trigger(self, message: BackMsg | None = None):
        widgets = (message or self.commit).rerun_script.widget_states.widgets
        return next(w for w in widgets if TRIGGER in w.id)

    def commit_of(self, z: list[float], n: int) -> bytes:
        m = BackMsg()
        m.CopyFrom(self.commit)
        self._trigger(m).json_trigger_value = json.dumps(
            [{"event": "commit", "value": {"z": z, "n": n, "painted": True}}]
        )
        query = dict(parse_qsl(m.rerun_script.query_string))
        query["z"] = ",".join(f"{v:.4f}" for v in z)
        m.rerun_script.query_string = urlencode(query)
        return m.SerializeToString()


class Student:
    """One session over the protocol: joins, then commits a new point every so often."""

    def __init__(self, url: str, template: Template, rng: random.Random):
        self.url, self.template, self.rng = url, template, rng
        self.cookie = secrets.token_hex(8)  # the front hashes it to pick this student's replica
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.join_s: float | None = None
        self.ws = None
        self.n = 0

    async def _run_once(self, message: bytes, timeout_s: float = TIMEOUT_S) -> float:
        """Send one message, wait until the runs it starts are done; their time in seconds."""
        t0, finished = time.perf_counter(), False
        await self.ws.send(message)
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout_s - (time.perf_counter() - t0))
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception":
                self.errors.append("exception: " + msg.delta.new_element.exception.message[:200])
            if kind == "script_finished":  # a run ended; one that ended early has a rerun queued
                finished = msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            if (
                kind == "session_status_changed"
                and finished
                and not msg.session_status_changed.script_is_running
            ):
                return time.perf_counter() - t0  # the session is idle: every run it caused is done

    async def join(self) -> None:
        try:
            self.ws = await connect(
                self.url,
                subprotocols=["streamlit"],
                additional_headers={"Cookie": f"vae_replica={self.cookie}"},
                max_size=None,
                open_timeout=TIMEOUT_S,
            )
            self.join_s = await self._run_once(self.template.first, JOIN_TIMEOUT_S)
        except (OSError, TimeoutError) as e:
            self.errors.append(f"join: {type(e).__name__} {e}")

    async def gestures(self, stop_at: float, every: float) -> None:
        if self.ws is None:
            return
        await asyncio.sleep(self.rng.uniform(0, every))
        while time.monotonic() < stop_at:
            z = [v + self.rng.uniform(-1.5, 1.5) for v in self.template.z]
            self.n = max(self.n + 1, int(time.time() * 1000))
            try:
                self.latencies.append(await self._run_once(self.template.commit_of(z, self.n)))
            except (OSError, TimeoutError) as e:
                self.errors.append(f"commit: {type(e).__name__} {e}")
            await asyncio.sleep(every * self.rng.uniform(0.8, 1.2))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def real_page(browser, url: str):
    """Open the app in Chromium, make one held drag; the page and the messages it sent."""
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(180_000)
    await context.add_init_script(PAGE_JS)
    page = await context.new_page()
    sent: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda p: sent.append(p if isinstance(p, bytes) else p.encode())),
    )
    await page.goto(url, timeout=180_000)
    await page.wait_for_selector(f"{MAP} .legendtext", state="attached", timeout=180_000)
    await page.wait_for_function(
        "() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'", timeout=180_000
    )
    await page.wait_for_selector(IDLE, state="attached")
    await drag(page, random.Random(0))
    await page.wait_for_selector(IDLE, state="attached")
    return context, page, Template(sent)


async def drag(page, rng: random.Random) -> float | None:
    """A held slider drag as a person makes it; release -> the run it caused finished (ms)."""
    box = await page.locator(SLIDER.format(0)).bounding_box()
    x, y = box["x"] + box["width"] * rng.uniform(0.3, 0.7), box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    for k in range(1, 8):
        await page.mouse.move(x + k * box["width"] / 40 * rng.choice([-1, 1]), y)
        await page.wait_for_timeout(60)
    await page.evaluate(WATCH_JS)
    await page.mouse.up()
    return await page.evaluate("() => window.__commit")


async def page_gestures(page, stop_at: float, every: float, out: list) -> None:
    rng = random.Random(1)
    while time.monotonic() < stop_at:
        out.append(await drag(page, rng))
        await asyncio.sleep(every)


def cpu_of(pids: list[int]) -> float:
    return sum(cpu_s(p) for p in pids)


async def run_replicas(replicas: int, args, browser) -> dict:
    port = free_port()
    run = Path(tempfile.mkdtemp(prefix="vae-load-"))
    cluster = Cluster(replicas, port, run, interval=2.0)
    cluster.start()
    try:
        pids = [p.pid for p in cluster.processes.values()]
        http, ws_url = f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/_stcore/stream"
        context, page, template = await real_page(browser, http)
        # A replica's first session loads the bundle (seconds): one per replica, straight to it, untimed.
        for replica in cluster.ports:
            warm = Student(f"ws://127.0.0.1:{replica}/_stcore/stream", template, random.Random(0))
            await warm.join()
            await warm.close()
            if warm.errors:
                raise RuntimeError(f"replica {replica} did not answer its first session: {warm.errors}")
        rng = random.Random(args.seed)
        students: list[Student] = []
        levels = []
        for target in args.students:
            await asyncio.sleep(1.0)
            rss0, cpu0 = sum(rss_mb(p) for p in pids), cpu_of(pids)
            joining = [
                Student(ws_url, template, random.Random(rng.random())) for _ in range(target - len(students))
            ]
            joins = []
            for s in joining:
                joins.append(asyncio.create_task(s.join()))
                await asyncio.sleep(1 / args.join_per_s)
            await asyncio.gather(*joins)
            await asyncio.sleep(1.0)
            join_cpu = (cpu_of(pids) - cpu0) / max(1, len(joining))
            students += joining
            rss1 = sum(rss_mb(p) for p in pids)
            driver0, cpu1, t1 = time.process_time(), cpu_of(pids), time.monotonic()
            stop_at = t1 + args.duration
            before = {id(s): len(s.latencies) for s in students}
            errors_before = sum(len(s.errors) for s in students)
            seen: list = []
            await asyncio.gather(
                *(s.gestures(stop_at, args.every) for s in students),
                page_gestures(page, stop_at, args.every, seen),
            )
            wall = time.monotonic() - t1
            lat = [v * 1000 for s in students for v in s.latencies[before[id(s)] :]]
            painted = [v for v in seen if v is not None]
            errors = [e for s in students for e in s.errors][errors_before:]
            level = {
                "students": len(students),
                "joined": sum(s.join_s is not None for s in students),
                "join_ms_p95": round(1000 * percentile([s.join_s for s in joining if s.join_s], 0.95) or 0),
                "server_cpu_per_join_s": round(join_cpu, 3),
                "rss_mb": round(rss1),
                "rss_per_session_mb": round((rss1 - rss0) / max(1, len(joining)), 2),
                "commits": len(lat),
                "commits_per_s": round(len(lat) / wall, 1),
                "commit_ms": {
                    "p50": round(statistics.median(lat)) if lat else None,
                    "p95": round(percentile(lat, 0.95)) if lat else None,
                    "max": round(max(lat)) if lat else None,
                },
                "page_release_to_run_done_ms": {
                    "n": len(painted),
                    "p50": round(statistics.median(painted)) if painted else None,
                    "missing": len(seen) - len(painted),
                },
                "server_cpu_per_commit_s": round((cpu_of(pids) - cpu1) / max(1, len(lat) + len(seen)), 4),
                "server_cores_busy": round((cpu_of(pids) - cpu1) / wall, 2),
                "driver_cores_busy": round((time.process_time() - driver0) / wall, 2),
                "errors": len(errors),
                "error_examples": sorted(set(errors))[:3],
            }
            levels.append(level)
            print_level(replicas, level)
            for example in level["error_examples"]:
                print(f"         error: {example}", flush=True)
            if level["commit_ms"]["p95"] is None or level["commit_ms"]["p95"] > args.p95_ms or errors:
                break
        for s in students:
            await s.close()
        await context.close()
    finally:
        cluster.stop()
    ok = [
        lv["students"]
        for lv in levels
        if lv["commit_ms"]["p95"] is not None and lv["commit_ms"]["p95"] <= args.p95_ms and not lv["errors"]
    ]
    return {"replicas": replicas, "students": max(ok) if ok else 0, "levels": levels}


def print_level(replicas: int, lv: dict) -> None:
    c, p = lv["commit_ms"], lv["page_release_to_run_done_ms"]
    print(
        f"{replicas:>8} {lv['students']:>8} {lv['commits_per_s']:>9} {c['p50']!s:>7} {c['p95']!s:>7} "
        f"{p['p50']!s:>9} {lv['server_cpu_per_commit_s']:>9} {lv['server_cpu_per_join_s']:>8} "
        f"{lv['rss_per_session_mb']:>7} {lv['server_cores_busy']:>6} {lv['driver_cores_busy']:>6} "
        f"{lv['errors']:>4}",
        flush=True,
    )


async def bench(args) -> list[dict]:
    from playwright.async_api import async_playwright

    print(
        f"{'replicas':>8} {'students':>8} {'commits/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'page ms':>9} "
        f"{'CPU/cmt':>9} {'CPU/join':>8} {'MB/sess':>7} {'server':>6} {'driver':>6} {'errs':>4}"
    )
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return [await run_replicas(r, args, browser) for r in args.replicas]
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ints = lambda s: [int(v) for v in s.split(",")]  # noqa: E731
    parser.add_argument("--replicas", type=ints, default=[1, 2, 3])
    parser.add_argument("--students", type=ints, default=[20, 40, 80, 120, 160, 200, 240, 320, 400])
    parser.add_argument("--every", type=float, default=5.0, help="seconds between a student's gestures")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of gestures per level")
    parser.add_argument("--join-per-s", type=float, default=4.0, help="students joining per second")
    parser.add_argument("--p95-ms", type=float, default=300.0, help="the commit latency a class may have")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "load.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = asyncio.run(bench(args))
    report = {
        "gesture_every_s": args.every,
        "p95_ms": args.p95_ms,
        "duration_s": args.duration,
        **machine(load_before),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print()
    for r in results:
        print(
            f"{r['replicas']} replica(s) on {os.cpu_count()} cores: {r['students']} students "
            f"(a gesture every {args.every:g} s each, commit p95 <= {args.p95_ms:g} ms)"
        )
    print(f"load average before {load_before[0]:.2f}; wrote {args.out}")


if __name__ == "__main__":
    main()
