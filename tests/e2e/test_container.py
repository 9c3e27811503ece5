"""Opt-in: build the Docker image with container-check, run it, and load the page in Chromium.

Slow (a first build installs the dependencies into the image: minutes on 2 cores) and needs
root plus the apt-installed podman/runc that container-check sets up, so it never runs by
default:

    VAE_CONTAINER_TEST=1 .venv/bin/python -m pytest -m container tests/e2e/test_container.py

container-check runs the image with `--network host`; to keep clear of anything already
serving on 8501 (`make run`, another check), the container gets a free port through
STREAMLIT_SERVER_PORT, which the image's CMD and HEALTHCHECK both follow.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from harness.browser import CHROMIUM, CHROMIUM_ARGS, free_port, new_context  # as the other browser tests
from tests import needs

pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(
        os.environ.get("VAE_CONTAINER_TEST") != "1",
        reason="container test is opt-in: set VAE_CONTAINER_TEST=1 (slow; needs root and podman)",
    ),
]

REPO = Path(__file__).resolve().parents[2]
CHECK = Path(os.environ.get("VAE_CONTAINER_CHECK", REPO.parent / "shared" / "tools" / "container-check"))
TAG = "vae-explorer:e2e"
PAGE_TITLE = "VAE latent explorer"
APP_HEADER = "Fashion-MNIST latent space explorer"
DEFAULT_BUNDLE = REPO / "artifacts" / "fashion-mnist-2d"


def _podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", "--runtime", "runc", *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def container():
    """(name, port, container-check output) of a running container, removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("container-check needs root (podman, apt-get)")
    if not CHECK.is_file():
        pytest.skip(f"no container-check at {CHECK}")
    port = free_port()
    # --keep leaves the container running; its name carries container-check's pid.
    proc = subprocess.Popen(
        [
            str(CHECK),
            "--tag",
            TAG,
            "--port",
            str(port),
            "--keep",
            "--",
            "-e",
            f"STREAMLIT_SERVER_PORT={port}",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    name = f"vae-explorer-check-{proc.pid}"
    try:
        out, _ = proc.communicate(timeout=60 * 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    try:
        assert proc.returncode == 0, f"container-check failed (exit {proc.returncode}):\n{out[-6000:]}"
        assert f"healthy on port {port}" in out, out[-3000:]
        yield name, port, out
    finally:
        _podman("rm", "-f", name, check=False)


def test_health_endpoint_and_image_config(container):
    name, port, out = container
    assert urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10).read() == b"ok"
    assert "image size" in out
    image = json.loads(_podman("image", "inspect", TAG).stdout)[0]
    config = image["Config"]
    healthcheck = image.get("Healthcheck") or config.get("Healthcheck") or {}  # podman: top level
    assert config.get("User") not in (None, "", "root", "0"), config.get("User")
    assert "8501/tcp" in config.get("ExposedPorts", {})
    assert "_stcore/health" in " ".join(healthcheck.get("Test", []))
    env = dict(e.split("=", 1) for e in config.get("Env", []))
    assert env["STREAMLIT_SERVER_HEADLESS"] == "true"
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert env["STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION"] == "true"
    assert env["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] == "none"


def test_runs_unprivileged_and_healthcheck_passes(container):
    name, _, _ = container
    assert _podman("exec", name, "id", "-u").stdout.strip() != "0"
    # the image's own HEALTHCHECK command, run once inside the container
    assert _podman("healthcheck", "run", name, check=False).returncode == 0


def test_the_demo_image_serves_without_tensorflow(container):
    """The default target is the serving image: ONNX Runtime in, TensorFlow and Keras out, and the
    bundles' float32 ONNX models (what the server runs) present and checksummed."""
    name, _, _ = container
    probe = (
        "import importlib.util as u, sys; from vae_core.bundle import load_bundle; "
        "from vae_core.onnx_models import load_onnx_networks; "
        "missing = [m for m in ('tensorflow', 'keras', 'tf2onnx') if u.find_spec(m)]; "
        "nets = load_onnx_networks(load_bundle('artifacts/fashion-mnist-2d')); "
        "print(missing, nets.decode([0.0, 0.0]).shape)"
    )
    result = _podman("exec", name, "python", "-c", probe, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[] (1, 28, 28, 1)", result.stdout


def test_page_loads_in_chromium(container):
    needs.chromium()  # opted in to the container test, so a missing browser is not an excuse under CI
    from playwright.sync_api import sync_playwright

    _, port, _ = container
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = new_context(browser, 60_000, viewport={"width": 1400, "height": 1000}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded", timeout=60_000)
            # Streamlit sets the title from st.set_page_config once the script has run.
            deadline = time.monotonic() + 120
            while page.title() != PAGE_TITLE and time.monotonic() < deadline:
                page.wait_for_timeout(500)
            assert page.title() == PAGE_TITLE
            if (DEFAULT_BUNDLE / "manifest.json").is_file():
                # the shipped default bundle: the explorer itself, header and map
                page.get_by_role("heading", name=APP_HEADER).wait_for(timeout=180_000)
                page.locator(".js-plotly-plot").first.wait_for(timeout=180_000)
                # the decoder runs in the browser, from the container's own files (no CDN)
                page.wait_for_function(
                    "() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'", timeout=120_000
                )
            else:
                # no bundle shipped in this checkout: the app says so instead of crashing
                page.get_by_text("No model bundle found").wait_for(timeout=120_000)
            body = page.locator("body").inner_text()
            assert "Traceback" not in body, body[-2000:]
            assert not errors, errors
        finally:
            browser.close()
