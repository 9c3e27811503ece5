"""Helpers shared by the browser and load benchmarks (imported as `common`: the scripts run
with bench/ on sys.path). Chromium, the app server and the page reader are the browser tests'
own (harness/browser.py), so the benchmarks drive the page exactly as the tests do."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from harness.browser import (  # noqa: E402,F401  (re-exported for the benchmark scripts)
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    MAP,
    PAGE_JS,
    SLIDER,
    VIEWPORT,
    ServerError,
    free_port,
    new_context,
    serve_app,
)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    total_kb, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total_kb += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total_kb / 1024


def settled_rss(pid: int, seconds: float = 3.0) -> float:
    """RSS after the server had a moment to finish its work (max of a few samples)."""
    samples = []
    for _ in range(int(seconds / 0.5)):
        time.sleep(0.5)
        samples.append(rss_mb(pid))
    return max(samples)


def machine(load_before: tuple) -> dict:
    """What a result ran on, and when: cores, platform, load average before and now."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_report(
    out: Path, runtime: str, chromium: str, load_before: tuple, results: dict, table_text: str
) -> None:
    """Write a browser benchmark's results with the machine they ran on (JSON), and print its table."""
    report = {
        "runtime": f"onnxruntime-web {runtime} (WebAssembly, 1 thread)",
        "chromium": chromium,
        **machine(load_before),
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(table_text)
    print(
        f"\nload average before {load_before[0]:.2f}, after {report['load_average_after'][0]:.2f} "
        f"({report['cpus']} CPUs); Chromium {chromium}; wrote {out}"
    )
