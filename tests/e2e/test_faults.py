"""Faults: while one session hits errors, the server keeps serving the others (issue 6).

A `streamlit run` server of its own (a free port) over a temporary artifacts folder: the
shipped default bundle plus ``broken-2d``, a copy of it with a damaged ``decoder.onnx`` (served).
Session A (one browser context) opens a link full of garbage values, then a link to the
broken bundle, then uploads a truncated image, each step started while session B (another
context of the same Chromium) moves a slider and clicks the map. B must get a new decoded
image for every input and no page error; A must see a plain message, never a traceback.

    .venv/bin/pytest -q tests/e2e/test_faults.py
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from harness.browser import IDLE, MAP, REPO, SLIDER, new_context

OUTPUT = REPO / "test-output" / "e2e"
TIMEOUT_MS = 90_000
GOOD = "fashion-mnist-2d"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("chromium_path"),  # skips, or fails under CI, without Chromium: tests/needs.py
]


@pytest.fixture(scope="module")
def fault_root(tmp_path_factory) -> Path:
    """The shipped default bundle (copied) and a damaged copy of it, side by side."""
    shipped = REPO / "artifacts"
    if not (shipped / GOOD / "manifest.json").is_file():
        pytest.fail(f"no {GOOD} bundle in {shipped}: the fault test needs the shipped bundle")
    root = tmp_path_factory.mktemp("fault-artifacts")
    shutil.copytree(shipped / GOOD, root / GOOD)  # a linked bundle folder would be refused (issue 15)
    (root / "fashion-mnist-test.npz").symlink_to(shipped / "fashion-mnist-test.npz")
    shutil.copytree(shipped / GOOD, root / "broken-2d")
    (root / "broken-2d" / "decoder.onnx").write_bytes(b"\x08\x07 not really an ONNX model")
    return root


@pytest.fixture(scope="module")
def fault_url(chromium_path, fault_root, serve_app) -> str:
    """`streamlit run` on a free port over fault_root, for this module; yields its URL."""
    with serve_app(fault_root, OUTPUT / "faults-server.log") as url:
        yield url


class Session:
    """One browser context (one Streamlit session) with its uncaught page errors recorded."""

    def __init__(self, browser, url: str):
        self.context = new_context(browser, TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = url

    def open(self, query: str = "") -> None:
        """Navigate without waiting for the app (the server works on it while we do other things)."""
        self.page.goto(self.url + query, wait_until="commit", timeout=TIMEOUT_MS)

    def wait_idle(self) -> None:
        self.page.wait_for_selector(IDLE, state="attached")

    def decoded_src(self) -> str:
        return self.page.evaluate("() => vaePage.decodedSrc()")

    def alerts(self, kind: str) -> list[str]:
        return self.page.get_by_test_id(f"stAlertContent{kind}").all_inner_texts()

    def assert_no_traceback(self) -> None:
        exceptions = self.page.get_by_test_id("stException")
        assert exceptions.count() == 0, exceptions.all_inner_texts()
        assert "Traceback" not in self.page.locator("body").inner_text()

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(OUTPUT / f"{name}.png"))

    def close(self) -> None:
        self.context.close()


class Interactor:
    """Session B: alternately a slider key and a map click, each waited for by its new image."""

    def __init__(self, session: Session):
        self.s = session
        self.spots: list[list[float]] = []
        self.done = 0

    def ready(self) -> None:
        page = self.s.page
        page.wait_for_selector(f"{MAP} .legendtext", state="attached")
        page.wait_for_selector(f'{MAP} svg.vae-overlay g[data-layer="current"] circle', state="attached")
        page.wait_for_function("() => vaePage.decodedSrc()")
        self.s.wait_idle()
        self.spots = page.evaluate("() => vaePage.emptySpots(12, 24)")
        assert len(self.spots) >= 4, "no empty space on the map to click"

    def step(self) -> None:
        """One input; fails unless a new decoded image appears (within TIMEOUT_MS)."""
        page = self.s.page
        old = self.s.decoded_src()
        if self.done % 2 == 0:
            page.locator(SLIDER.format(0)).focus()
            page.keyboard.press("ArrowRight" if self.done % 4 == 0 else "ArrowLeft")
        else:
            x, y = self.spots[(self.done * 7) % len(self.spots)]  # a different empty spot each time
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.up()
        page.wait_for_function("(old) => vaePage.decodedChanged(old)", arg=old)
        self.done += 1

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.step()


def _truncated_png() -> bytes:
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, format="PNG")
    return out.getvalue()[: len(out.getvalue()) // 2]


def test_errors_in_one_session_do_not_disturb_another(browser, fault_url, fault_root):
    a, b = Session(browser, fault_url), Session(browser, fault_url)
    bob = Interactor(b)
    try:
        b.open()
        bob.ready()
        bob.steps(2)

        # 1. A link with garbage in every value: A gets notices and the default view.
        a.open("/?z=nan,banana&i=%C2%B2&view=%3Cscript%3Ealert(1)%3C%2Fscript%3E&bundle=..%2Fetc")
        bob.steps(2)
        a.page.wait_for_selector(f"{MAP} .legendtext", state="attached")
        a.wait_idle()
        warnings = " ".join(a.alerts("Warning"))
        for key in ("z", "i", "view", "bundle"):  # (the key is shown as code: no backticks in the text)
            assert f"Ignored the link's {key} value" in warnings, warnings
        assert "value <script>alert(1)</script>: expected one of interpolate" in warnings  # shown, not run
        assert a.page.locator("script", has_text="alert(1)").count() == 0
        a.assert_no_traceback()

        # 2. A link to the broken bundle: A gets the error with its fix, and a way back.
        a.open("/?bundle=broken-2d")
        bob.steps(2)
        error = a.page.get_by_test_id("stAlertContentError")
        error.wait_for()
        a.wait_idle()
        text = error.inner_text()
        assert text.startswith("The bundle broken-2d cannot be used:")
        assert "$VAE_ARTIFACTS/broken-2d/decoder.onnx" in text  # named in the bundle ...
        assert str(fault_root) not in text  # ... never by its server path
        assert "does not match its SHA-256 in the manifest" in text
        assert "python -m vae_core export-onnx $VAE_ARTIFACTS/broken-2d" in text  # the fix
        a.assert_no_traceback()
        a.screenshot("faults-broken-bundle")
        a.page.get_by_test_id("stSelectbox").click()
        a.page.get_by_role("option", name=GOOD).click()  # back to a working bundle
        bob.steps(1)
        a.page.wait_for_selector(f"{MAP} .legendtext", state="attached")
        a.wait_idle()
        assert a.alerts("Error") == []

        # 3. A truncated image uploaded in the encode view.
        a.page.get_by_role("radio", name="Encode an image").click()
        uploader = a.page.get_by_test_id("stFileUploader")
        uploader.wait_for()
        a.wait_idle()
        uploader.locator("input[type=file]").set_input_files(
            {"name": "shirt.png", "mimeType": "image/png", "buffer": _truncated_png()}
        )
        bob.steps(2)
        error = a.page.get_by_test_id("stAlertContentError")
        error.wait_for()
        a.wait_idle()
        assert error.inner_text().startswith("Cannot use shirt.png: the image is truncated or corrupt")
        a.assert_no_traceback()
        a.screenshot("faults-truncated-upload")

        # B carried on throughout: every input gave a new image, no error of any kind.
        bob.steps(1)
        assert bob.done == 10  # 2 before A starts, 8 while A hits its errors
        assert b.errors == [], b.errors
        assert a.errors == [], a.errors  # A's page itself never broke either
        b.assert_no_traceback()
        assert b.alerts("Error") == [] and b.alerts("Warning") == []
    except Exception:
        for who, s in (("A", a), ("B", b)):
            try:
                s.screenshot(f"FAILED-faults-{who}")
            except Exception:  # noqa: BLE001 - a screenshot must not hide the test's own failure
                pass
        raise
    finally:
        a.close()
        b.close()
