"""What the browser tests and the benchmarks share: Chromium, the app server, the page reader.

* ``CHROMIUM`` / ``CHROMIUM_ARGS``: Debian's Chromium and the flags this sandbox needs;
* ``serve_app``: ``python -m streamlit run app/streamlit_app.py`` on a free port, healthy;
* ``new_context``: a browser context with ``page.js`` installed (``window.vaePage``);
* selectors derived from the app's own constants (``IDLE``, ``MAP``, ``OVERLAY``).

tests/e2e and bench/ both import it, so there is one copy of each; neither imports the other.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from app.overlay import MAP_CONTAINER_KEY
from app.panels.current_point import CAPTION_PREFIX
from app.panels.current_point import KEY as LIVE_KEY

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("VAE_CHROMIUM", "/usr/bin/chromium"))  # Debian's (apt-get install chromium)
# Without the background-networking flags Chromium keeps calling hosts this sandbox cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1500, "height": 1100}
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"  # Streamlit has finished a run
MAP = f".st-key-{MAP_CONTAINER_KEY} .js-plotly-plot"
OVERLAY = f"{MAP} svg.vae-overlay"
# The latent slider of dimension i in the live point panel (Playwright's CSS pierces its shadow root).
SLIDER = f'.st-key-{LIVE_KEY} .live-slider[data-kind="dim"][data-index="{{}}"] input'
SLIDER_VALUE = f'.st-key-{LIVE_KEY} .live-slider[data-kind="dim"][data-index="{{}}"] output'
PAGE_JS = (
    (Path(__file__).with_name("page.js"))
    .read_text()
    .replace("__MAP__", MAP)
    .replace("__DECODED_PREFIX__", CAPTION_PREFIX)
    .replace("__LIVE__", f".st-key-{LIVE_KEY}")
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    started: float  # time.perf_counter() when the process was spawned
    healthy_after_s: float  # spawn -> /_stcore/health answered


class ServerError(RuntimeError):
    """The app server exited or did not become healthy; the message names its log."""


@contextlib.contextmanager
def serve_app(
    artifacts: Path | None,
    log_path: Path,
    options: tuple[str, ...] = (),
    startup_s: float = 180,
    script: str = "app/streamlit_app.py",
    cwd: Path = REPO,
    python_flags: tuple[str, ...] = (),
    import_root: Path = REPO,
):
    """`streamlit run` over an artifacts folder on a free localhost port; yields an AppServer, then stops it.

    ``options`` are Streamlit settings like ``"runner.postScriptGC=false"``; ``script`` and ``cwd``
    run another Streamlit script (a test site), with ``import_root`` (this repository, or another
    checkout for a before/after benchmark) on its import path; ``python_flags`` go to the
    interpreter (``("-X", "importtime")`` logs every import).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(import_root))
    if artifacts is not None:
        env["VAE_ARTIFACTS"] = str(artifacts)
    flags = [part for option in options for part in ("--" + option.split("=", 1)[0], option.split("=", 1)[1])]
    cmd = [
        sys.executable,
        *python_flags,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        *flags,
    ]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None:
                    raise ServerError(f"streamlit exited with {process.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.perf_counter() - started > startup_s:
                    raise ServerError(
                        f"streamlit did not answer on {url} within {startup_s:.0f} s; see {log_path}"
                    )
                time.sleep(0.05)
            yield AppServer(url, process, started, time.perf_counter() - started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def new_context(
    browser, timeout_ms: int, viewport: dict | None = None, init_scripts: tuple[str, ...] = (), **options
):
    """A browser context (a fresh Streamlit session) with window.vaePage and ``init_scripts`` installed;
    ``options`` go to Playwright's ``new_context`` (e.g. ``has_touch=True`` for a phone)."""
    context = browser.new_context(viewport=viewport or VIEWPORT, **options)
    context.set_default_timeout(timeout_ms)
    for script in (PAGE_JS, *init_scripts):
        context.add_init_script(script)
    return context
