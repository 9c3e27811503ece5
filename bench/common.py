"""Helpers shared by the browser and load benchmarks (imported as `common`: the scripts run
with bench/ on sys.path). Chromium, the app server and the page reader are the browser tests'
own (tests/e2e/page.py), so the benchmarks drive the page exactly as the tests do."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.e2e.page import (  # noqa: E402,F401  (re-exported for the benchmark scripts)
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
