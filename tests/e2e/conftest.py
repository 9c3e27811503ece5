"""Browser fixtures: one `streamlit run` server per test session, headless Chromium, one page per test.

The server is started like a person would (``python -m streamlit run app/streamlit_app.py``)
on a free port, with ``VAE_ARTIFACTS`` pointing at the repository's ``artifacts/`` (or at
``$VAE_ARTIFACTS`` when it is set), and polled on ``/_stcore/health``. Chromium is Debian's
``/usr/bin/chromium`` (Playwright's own browser download is not used); when it is missing the
tests skip with the command that installs it, or fail under CI (tests/needs.py). Screenshots
go to ``test-output/e2e/``; a failing test leaves ``FAILED-<test>.png`` there too.

The :class:`Explorer` object that the ``explorer`` fixture yields knows where things are on
the page (the map, the decoded image, the overlay); the tests say what a person sees.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import needs
from tests.needs import CHROMIUM  # noqa: F401  (test_container imports it from here)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1500, "height": 1100}
OUTPUT = REPO / "test-output" / "e2e"
STARTUP_S = 180  # server start on 2 busy cores (TensorFlow import alone takes ~10 s)
TIMEOUT_MS = 90_000  # any single wait in the page: generous, the cores are shared with training

IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
MAP = ".st-key-latent_map_box .js-plotly-plot"
OVERLAY = f"{MAP} svg.vae-overlay"

# JavaScript run in the page (a function of no or one argument).
_DECODED_IMG = """() => {
  const box = [...document.querySelectorAll('[data-testid=stImage]')].find(
    (e) => (e.querySelector('[data-testid=stImageCaption]')?.textContent || '').startsWith('z = ('));
  return box ? box.querySelector('img') : null;
}"""
_DECODED = f"""() => {{
  const img = ({_DECODED_IMG})();
  return img ? {{ src: img.getAttribute('src'), caption: img.closest('[data-testid=stImage]').innerText.trim() }} : null;
}}"""
_DECODED_CHANGED = f"""(old) => {{
  const img = ({_DECODED_IMG})();
  return !!img && img.getAttribute('src') !== old && img.complete && img.naturalWidth > 0;
}}"""
_IMAGES_LOADED = """(captions) => captions.every((caption) => {
  // The st.image holding an image captioned `caption`: all of its images are loaded.
  const box = [...document.querySelectorAll('[data-testid=stImage]')].find((e) =>
    [...e.querySelectorAll('[data-testid=stImageCaption]')].some((c) => c.textContent.trim() === caption));
  return !!box && [...box.querySelectorAll('img')].every((img) => img.complete && img.naturalWidth > 0);
})"""
_MAP_POINTS = """() => {
  const gd = document.querySelector('.st-key-latent_map_box .js-plotly-plot');
  const fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis, r = gd.getBoundingClientRect();
  const xs = [], ys = [], index = [], names = [];
  for (const t of gd._fullData) {
    if (t.type !== 'scattergl' || t.visible !== true) continue;
    for (let i = 0; i < t._length; i++) {
      xs.push(t.x[i]); ys.push(t.y[i]); index.push(Number(t.customdata[i])); names.push(t.name);
    }
  }
  return {
    xs, ys, index, names,
    px: xs.map((x) => r.left + xa._offset + xa.l2p(x)),
    py: ys.map((y) => r.top + ya._offset + ya.l2p(y)),
    box: [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length],
  };
}"""
_TO_DATA = """([x, y]) => {
  const gd = document.querySelector('.st-key-latent_map_box .js-plotly-plot');
  const fl = gd._fullLayout, r = gd.getBoundingClientRect();
  const cx = x - r.left - fl.xaxis._offset, cy = y - r.top - fl.yaxis._offset;
  return { x: fl.xaxis.p2l(cx), y: fl.yaxis.p2l(cy),
           ux: Math.abs(fl.xaxis.p2l(1) - fl.xaxis.p2l(0)), uy: Math.abs(fl.yaxis.p2l(1) - fl.yaxis.p2l(0)) };
}"""
_TO_SCREEN = """([x, y]) => {
  const gd = document.querySelector('.st-key-latent_map_box .js-plotly-plot');
  const fl = gd._fullLayout, r = gd.getBoundingClientRect();
  return [r.left + fl.xaxis._offset + fl.xaxis.l2p(x), r.top + fl.yaxis._offset + fl.yaxis.l2p(y)];
}"""
_MARKER = """(layer) => {
  // Screen position of the first circle of an overlay layer (the current point's cross).
  const c = document.querySelector(`svg.vae-overlay g[data-layer="${layer}"] circle`);
  if (!c) return null;
  const svg = c.ownerSVGElement.getBoundingClientRect();
  return [svg.left + Number(c.getAttribute('cx')), svg.top + Number(c.getAttribute('cy'))];
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_z(caption: str) -> list[float]:
    """The coordinates of a caption like ``z = (-0.40, +0.88)``."""
    found = re.search(r"z = \(([^)]*)\)", caption)
    assert found, f"no coordinates in {caption!r}"
    return [float(v) for v in found.group(1).split(",") if v.strip() not in ("", "...")]


class Explorer:
    """The explorer page in one browser tab, seen the way a person sees it."""

    def __init__(self, page, name: str):
        self.page = page
        self.name = name  # names the screenshots
        self.errors: list[str] = []  # uncaught JavaScript errors in the page
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    # -- waiting -------------------------------------------------------------------------
    def wait_ready(self) -> None:
        """The first screen is there: script idle, map drawn with its overlay, a decoded image."""
        page = self.page
        page.wait_for_selector(f"{MAP} .legendtext", state="attached")
        page.wait_for_selector(f'{OVERLAY} g[data-layer="current"] circle', state="attached")
        page.wait_for_function(_DECODED_CHANGED, arg="")
        self.wait_idle()

    def wait_idle(self) -> None:
        self.page.wait_for_selector(IDLE, state="attached")

    def wait_images_loaded(self, *captions: str) -> None:
        """Wait until the images captioned ``captions`` (and the rest of their st.image) have loaded."""
        self.page.wait_for_function(_IMAGES_LOADED, arg=list(captions))

    def wait_decoded_change(self, old_src: str) -> dict:
        """Wait until the decoded image shows a new picture (loaded), then for the script to idle."""
        self.page.wait_for_function(_DECODED_CHANGED, arg=old_src)
        self.wait_idle()
        return self.decoded()

    # -- what is shown -------------------------------------------------------------------
    def decoded(self) -> dict:
        """The main decoded image: ``{"src", "caption"}`` (its caption shows z)."""
        found = self.page.evaluate(_DECODED)
        assert found, "no decoded image on the page"
        return found

    def image(self, caption: str):
        """The st.image whose caption is exactly ``caption`` (a locator)."""
        return self.page.get_by_test_id("stImage").filter(
            has=self.page.get_by_test_id("stImageCaption").get_by_text(caption, exact=True)
        )

    def image_pixels(self, src: str):
        """The image behind ``src`` as a float array (h, w), fetched like the browser did."""
        import io

        import numpy as np
        from PIL import Image

        from urllib.parse import urljoin

        body = self.page.request.get(urljoin(self.page.url, src)).body()
        return np.asarray(Image.open(io.BytesIO(body)).convert("L"), dtype=np.float64)

    def marker(self, layer: str = "current", near: tuple[float, float] | None = None,
               tolerance_px: float = 2.0, wait_s: float = 10.0) -> list[float] | None:
        """Screen position of an overlay layer's marker (the current point for "current").

        With ``near``, give the overlay up to ``wait_s`` to get there (it is redrawn by a
        component just after the images arrive), then report where it is.
        """
        deadline = time.monotonic() + (wait_s if near is not None else 0.0)
        while True:
            found = self.page.evaluate(_MARKER, layer)
            close = found is not None and near is not None and max(abs(found[0] - near[0]), abs(found[1] - near[1])) <= tolerance_px
            if near is None or close or time.monotonic() > deadline:
                return found
            self.page.wait_for_timeout(100)

    # -- the map -------------------------------------------------------------------------
    def map_points(self) -> dict:
        """All visible map points: data (xs, ys), screen (px, py), test index, class name; plot box."""
        return self.page.evaluate(_MAP_POINTS)

    def to_data(self, x: float, y: float) -> dict:
        """Map coordinates of a screen position, and map units per pixel (ux, uy)."""
        return self.page.evaluate(_TO_DATA, [x, y])

    def to_screen(self, x: float, y: float) -> list[float]:
        return self.page.evaluate(_TO_SCREEN, [x, y])

    def click(self, x: float, y: float) -> None:
        """A plain left click at a screen position (the bridge reports it in map coordinates)."""
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.up()

    # -- outputs -------------------------------------------------------------------------
    def screenshot(self, name: str | None = None, *, path: Path | None = None) -> Path:
        """Save what the viewport shows, with the mouse moved off the map (no hover label).

        Streamlit scrolls inside its own container, so this is one screen: scroll the part
        that matters into view first.
        """
        path = path or OUTPUT / f"{name or self.name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(2, 2)
        self.page.wait_for_timeout(600)  # let the hover label and the map's toolbar fade out
        self.page.screenshot(path=str(path))
        return path


def _has_bundle(root: Path) -> bool:
    return root.is_dir() and any((p / "manifest.json").is_file() for p in root.iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def artifacts_root() -> Path:
    """$VAE_ARTIFACTS if set, else the repository's artifacts/ (the shipped default bundle)."""
    env = os.environ.get("VAE_ARTIFACTS", "").strip()
    root = Path(env).expanduser().resolve() if env else REPO / "artifacts"
    if not _has_bundle(root):
        pytest.fail(f"no model bundle in {root}: the browser tests need the shipped bundle (or set VAE_ARTIFACTS)")
    return root


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return needs.chromium()


@contextlib.contextmanager
def _serve_app(artifacts: Path, log_path: Path):
    """Run `streamlit run` over an artifacts folder on a free port; yield its URL, then stop it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(os.environ, VAE_ARTIFACTS=str(artifacts), TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_S
            while True:
                if server.poll() is not None:
                    pytest.fail(f"streamlit exited with {server.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not answer on {url} within {STARTUP_S} s")
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="session")
def serve_app():
    """`with serve_app(artifacts, log_path) as url:` a server of its own (e.g. over other bundles)."""
    return _serve_app


@pytest.fixture(scope="session")
def app_url(chromium_path, artifacts_root) -> str:
    """Start `streamlit run` on a free port for the whole session; yield its URL."""
    with _serve_app(artifacts_root, OUTPUT / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the page fixture knows about failures."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def explorer(browser, app_url, request):
    """A fresh browser context (so a fresh Streamlit session) with the app loaded and idle."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    app = Explorer(page, request.node.name.removeprefix("test_"))
    (OUTPUT / f"FAILED-{app.name}.png").unlink(missing_ok=True)
    page.goto(app_url, timeout=TIMEOUT_MS)
    app.wait_ready()
    yield app
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        try:
            app.screenshot(f"FAILED-{app.name}")
        except Exception:  # noqa: BLE001 - a screenshot must not hide the test's own failure
            pass
    context.close()
