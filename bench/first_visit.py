"""What a first visit costs: the bytes a visitor downloads, how long until the live map, and what
the server holds (issue 25). Prints a table and writes bench/results/first_visit.json.

For each checkout (this one, and with ``--before PATH`` another one, e.g. a git worktree of an
older commit, measured in the same run because this machine is noisy), in headless Chromium:

* cold start: ``streamlit run`` spawned -> /_stcore/health -> the map painted -> live (the
  browser's decoder loaded and the current point painted), the browser already running;
* first visits: ``--visits`` fresh browser contexts (nothing cached), one after another, each
  timed from ``goto`` to the map painted and to live, with every response's bytes as they came
  over the wire, by kind, and what a gzip front (the classroom's nginx) would send instead;
* server memory (RSS, the process and its children) with 1 session, then with ``--sessions``.

    .venv/bin/python bench/first_visit.py
    git worktree add /tmp/before <commit> && .venv/bin/python bench/first_visit.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import time
from pathlib import Path

from common import (  # bench/common.py
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    MAP,
    new_context,
    serve_app,
    settled_rss,
)

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 180_000
GOALS = {  # issue 25
    "page_mb_gzip": "<= 8",
    "own_runtime_and_models_mb": "<= 6",
    "open_to_live_s": "<= 2.5",
    "cold_start_to_map_s": "<= 4",
    "rss_mb": "<= 300 (1 and 10 sessions)",
}
KINDS = ("models", "runtime", "app modules", "Plotly", "Streamlit page", "Streamlit messages", "other")
LIVE = "() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'"


def kind_of(url: str, body: bytes) -> str:
    if "/app/static/models/" in url:
        return "models"
    if "/app/static/vendor/" in url:
        return "runtime"
    if "/app/static/frontend/" in url:
        return "app modules"
    if "plotly" in url.lower():
        return "Plotly"
    if "/static/" in url or url.rstrip("/").count("/") <= 2:
        return "Streamlit page"
    return "other"


def gzipped(body: bytes, content_type: str) -> int:
    """What a gzip front sends: already-compressed bodies as they are, the rest compressed (level 6)."""
    if "gzip" in content_type or content_type.startswith(("image/", "font/")):
        return len(body)
    return min(len(body), len(gzip.compress(body, 6)))


class Visit:
    """One fresh browser context on the app: timings and the bytes of every response."""

    def __init__(self, browser, url: str):
        self.context = new_context(browser, TIMEOUT_MS)
        self.page = self.context.new_page()
        self.url = url
        self.bytes = {kind: 0 for kind in KINDS}
        self.gzip = {kind: 0 for kind in KINDS}
        self.page.on("response", self._response)
        self.page.on("websocket", self._websocket)

    def _response(self, response) -> None:
        try:
            body = response.body()
            sent = response.request.sizes()["responseBodySize"]
        except Exception:  # noqa: BLE001 - a redirect or a response the page dropped: no body to count
            return
        kind = kind_of(response.url, body)
        self.bytes[kind] += sent
        self.gzip[kind] += gzipped(body, response.headers.get("content-type", ""))

    def _websocket(self, ws) -> None:
        def received(payload) -> None:
            n = len(payload if isinstance(payload, bytes) else payload.encode())
            self.bytes["Streamlit messages"] += n
            self.gzip["Streamlit messages"] += n  # permessage-deflate aside: counted as sent

        ws.on("framereceived", received)

    def open(self) -> dict:
        """goto -> map painted -> live, in seconds."""
        started = time.perf_counter()
        self.page.goto(self.url, wait_until="commit", timeout=TIMEOUT_MS)
        self.page.wait_for_selector(f"{MAP} .legendtext", state="attached", timeout=TIMEOUT_MS)
        map_s = time.perf_counter() - started
        self.page.wait_for_function(LIVE, timeout=TIMEOUT_MS)
        live_s = time.perf_counter() - started
        self.page.wait_for_selector(IDLE, state="attached", timeout=TIMEOUT_MS)
        self.page.wait_for_timeout(1500)  # late fetches (the cache writes, the encoder if any)
        return {"map_s": map_s, "live_s": live_s}

    def close(self) -> None:
        self.context.close()


def measure(browser, checkout: Path, artifacts: Path, visits: int, sessions: int) -> dict:
    log = REPO / "test-output" / "bench" / f"first_visit.{checkout.name}.server.log"  # gitignored
    with serve_app(artifacts, log, cwd=checkout, import_root=checkout) as server:
        first = Visit(browser, server.url)
        cold = first.open()
        first.close()
        result = {
            "cold_start": {
                "health_s": server.healthy_after_s,
                "map_s": server.healthy_after_s + cold["map_s"],
                "live_s": server.healthy_after_s + cold["live_s"],
            }
        }
        timings, downloads = [], []
        for _ in range(visits):
            visit = Visit(browser, server.url)
            timings.append(visit.open())
            downloads.append((visit.bytes, visit.gzip))
            last = visit
        result["rss_one_mb"] = settled_rss(server.process.pid)
        others = [Visit(browser, server.url) for _ in range(sessions - 1)]
        for v in others:
            v.page.goto(server.url, wait_until="commit", timeout=TIMEOUT_MS)  # all at once
        for v in others:
            v.page.wait_for_function(LIVE, timeout=TIMEOUT_MS)
        result["rss_many_mb"] = settled_rss(server.process.pid)
        for v in [*others, last]:
            v.close()
    result["visits"] = timings
    result["open_to_map_s"] = statistics.median(t["map_s"] for t in timings)
    result["open_to_live_s"] = statistics.median(t["live_s"] for t in timings)
    sent, packed = downloads[-1]  # every visit downloads the same; the last is reported
    result["bytes"] = sent
    result["bytes_gzip"] = packed
    return result


def mb(n: float) -> str:
    return f"{n / 1e6:.2f}"


def print_table(results: dict, sessions: int) -> None:
    names = list(results)
    rows = [("", *names)]
    for kind in KINDS:
        rows.append((f"{kind} (MB)", *(mb(results[n]["bytes"][kind]) for n in names)))
    rows.append(("whole page (MB)", *(mb(sum(results[n]["bytes"].values())) for n in names)))
    rows.append(("whole page via gzip (MB)", *(mb(sum(results[n]["bytes_gzip"].values())) for n in names)))
    own = ("models", "runtime", "app modules")
    rows.append(
        ("runtime + models + modules (MB)", *(mb(sum(results[n]["bytes"][k] for k in own)) for n in names))
    )
    rows.append(("open -> map painted, p50 (s)", *(f"{results[n]['open_to_map_s']:.2f}" for n in names)))
    rows.append(("open -> live, p50 (s)", *(f"{results[n]['open_to_live_s']:.2f}" for n in names)))
    for key, label in (("health_s", "health"), ("map_s", "map"), ("live_s", "live")):
        rows.append((f"cold start -> {label} (s)", *(f"{results[n]['cold_start'][key]:.1f}" for n in names)))
    rows.append(("server RSS, 1 session (MB)", *(f"{results[n]['rss_one_mb']:.0f}" for n in names)))
    rows.append(
        (f"server RSS, {sessions} sessions (MB)", *(f"{results[n]['rss_many_mb']:.0f}" for n in names))
    )
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, width, strict=True))
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, help="another checkout to measure first, in the same run")
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts", help="the bundles both serve")
    parser.add_argument("--visits", type=int, default=5, help="fresh first visits, one after another")
    parser.add_argument("--sessions", type=int, default=10, help="concurrent sessions for the memory figure")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "first_visit.json")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    checkouts = {"before": args.before.resolve()} if args.before else {}
    checkouts["after" if args.before else "this checkout"] = REPO
    load_before = os.getloadavg()
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, checkout in checkouts.items():
                print(f"measuring {name} ({checkout}) ...", flush=True)
                results[name] = measure(browser, checkout, args.artifacts, args.visits, args.sessions)
        finally:
            browser.close()
    report = {
        "checkouts": {name: str(path) for name, path in checkouts.items()},
        "artifacts": str(args.artifacts),
        "goals": GOALS,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print_table(results, args.sessions)
    print(f"\nload average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; wrote {args.out}")


if __name__ == "__main__":
    main()
