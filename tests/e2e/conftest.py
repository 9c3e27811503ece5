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
import time
from pathlib import Path

import pytest

from harness.browser import (
    CHROMIUM_ARGS,
    IDLE,
    MAP,
    OVERLAY,
    REPO,
    SLIDER,
    ServerError,
    new_context,
    serve_app,
)
from tests import needs

OUTPUT = REPO / "test-output" / "e2e"
# the session's app server (one per pytest-xdist worker: make test runs the browser tests on two)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
SERVER_LOG = OUTPUT / (f"server-{_WORKER}.log" if _WORKER else "server.log")
STARTUP_S = 180  # server start on 2 busy cores (TensorFlow import alone takes ~10 s)
TIMEOUT_MS = 90_000  # any single wait in the page: generous, the cores are shared with training


def parse_z(caption: str) -> list[float]:
    """The coordinates of a caption like ``z = (-0.40, +0.88)``."""
    found = re.search(r"z = \(([^)]*)\)", caption)
    assert found, f"no coordinates in {caption!r}"
    return [float(v) for v in found.group(1).split(",") if v.strip() not in ("", "...")]


NUMBERED = """(names) => [...document.querySelectorAll('[data-testid=stImageContainer]')]
  .filter((c) => names.includes((c.querySelector('[data-testid=stImageCaption]') || {}).innerText))
  .map((c) => { const r = c.querySelector('img').getBoundingClientRect();
                return {name: c.innerText.trim(), x: r.left, w: r.width, right: r.right}; })"""


def numbered_images(page, n: int) -> list[dict]:
    """Screen boxes of the images captioned "1" to "n" (a numbered row of decodes), in page order."""
    return page.evaluate(NUMBERED, [str(k) for k in range(1, n + 1)])


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
        page.wait_for_function("() => vaePage.decodedChanged('')")
        self.wait_idle()

    def wait_idle(self) -> None:
        self.page.wait_for_selector(IDLE, state="attached")

    def wait_images_loaded(self, *captions: str) -> None:
        """Wait until the images captioned ``captions`` (and the rest of their st.image) have loaded."""
        self.page.wait_for_function("(captions) => vaePage.imagesLoaded(captions)", arg=list(captions))

    def wait_decoded_change(self, old_src: str) -> dict:
        """Wait until the decoded image shows a new picture (loaded), then for the script to idle."""
        self.page.wait_for_function("(old) => vaePage.decodedChanged(old)", arg=old_src)
        self.wait_idle()
        return self.decoded()

    # -- what is shown -------------------------------------------------------------------
    def drag_slider_held(self, index: int = 0, steps: int = 7) -> str:
        """Hold slider ``index`` down and drag it right in small steps, as a hand does; wait until a
        new decoded image is painted while it is still held; release. Returns the painted src."""
        p = self.page
        p.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")
        first = self.decoded()["src"]
        p.locator(SLIDER.format(index)).scroll_into_view_if_needed()  # as a person scrolls to it
        box = p.locator(SLIDER.format(index)).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        p.mouse.move(x, y)
        p.mouse.down()
        for k in range(1, steps + 1):
            p.mouse.move(x + k * box["width"] / 20, y)
            p.wait_for_timeout(60)
        p.wait_for_function("(old) => vaePage.decodedChanged(old)", arg=first)
        painted = self.decoded()["src"]
        p.mouse.up()
        return painted

    def upload(self, name: str, png: bytes) -> None:
        """Open the Encode view, wait for its uploader and the page to be idle, and give it a PNG."""
        self.page.get_by_role("radio", name="Encode an image").click()
        uploader = self.page.get_by_test_id("stFileUploader")
        uploader.wait_for()
        self.wait_idle()
        uploader.locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": "image/png", "buffer": png}
        )

    def decoded(self) -> dict:
        """The main decoded image: ``{"src", "caption"}`` (its caption shows z)."""
        found = self.page.evaluate("() => vaePage.decoded()")
        assert found, "no decoded image on the page"
        return found

    def image(self, caption: str):
        """The st.image whose caption is exactly ``caption`` (a locator)."""
        return self.page.get_by_test_id("stImage").filter(
            has=self.page.get_by_test_id("stImageCaption").get_by_text(caption, exact=True)
        )

    def image_pixels(self, src: str):
        """The image behind ``src`` (a URL, or a data: URL of a canvas) as a float array (h, w)."""
        import base64
        import io
        from urllib.parse import urljoin

        import numpy as np
        from PIL import Image

        if src.startswith("data:"):
            body = base64.b64decode(src.split(",", 1)[1])
        else:
            body = self.page.request.get(urljoin(self.page.url, src)).body()
        return np.asarray(Image.open(io.BytesIO(body)).convert("L"), dtype=np.float64)

    def marker(
        self,
        layer: str = "current",
        near: tuple[float, float] | None = None,
        tolerance_px: float = 2.0,
        wait_s: float = 10.0,
    ) -> list[float] | None:
        """Screen position of an overlay layer's marker (the current point for "current").

        With ``near``, give the overlay up to ``wait_s`` to get there (it is redrawn by a
        component just after the images arrive), then report where it is.
        """
        deadline = time.monotonic() + (wait_s if near is not None else 0.0)
        while True:
            found = self.page.evaluate("(layer) => vaePage.marker(layer)", layer)
            close = (
                found is not None
                and near is not None
                and max(abs(found[0] - near[0]), abs(found[1] - near[1])) <= tolerance_px
            )
            if near is None or close or time.monotonic() > deadline:
                return found
            self.page.wait_for_timeout(100)

    # -- the map -------------------------------------------------------------------------
    def map_points(self) -> dict:
        """All visible map points: data (xs, ys), screen (px, py), test index, class name; plot box."""
        return self.page.evaluate("() => vaePage.mapPoints()")

    def to_data(self, x: float, y: float) -> dict:
        """Map coordinates of a screen position, and map units per pixel (ux, uy)."""
        return self.page.evaluate("(xy) => vaePage.toData(xy)", [x, y])

    def to_screen(self, x: float, y: float) -> list[float]:
        return self.page.evaluate("(xy) => vaePage.toScreen(xy)", [x, y])

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
        pytest.fail(
            f"no model bundle in {root}: the browser tests need the shipped bundle (or set VAE_ARTIFACTS)"
        )
    return root


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return needs.chromium()


@contextlib.contextmanager
def _serve_app(artifacts: Path, log_path: Path, python_flags: tuple[str, ...] = ()):
    """`streamlit run` over an artifacts folder on a free port; yields its URL (fails the test if it
    does not start)."""
    try:
        with serve_app(artifacts, log_path, startup_s=STARTUP_S, python_flags=python_flags) as server:
            yield server.url
    except ServerError as e:
        pytest.fail(str(e))


@pytest.fixture(name="serve_app", scope="session")
def serve_app_fixture():
    """`with serve_app(artifacts, log_path) as url:` a server of its own (e.g. over other bundles)."""
    return _serve_app


@pytest.fixture(scope="session")
def app_url(chromium_path, artifacts_root) -> str:
    """Start `streamlit run` on a free port for the whole session; yield its URL. Its log lists every
    module the server imports (-X importtime): tests/e2e/test_first_visit.py reads it."""
    with _serve_app(artifacts_root, SERVER_LOG, python_flags=("-X", "importtime")) as url:
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
    context = new_context(browser, TIMEOUT_MS)
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
