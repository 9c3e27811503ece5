"""The explorer through its front (issue 26): `deploy/cluster.py` (what `make cluster` runs) starts
three replicas and nginx with deploy/nginx/explorer.conf on localhost. How the tests know which
replica answered: the front adds `X-Explorer-Replica` (nginx's $upstream_addr) to every response
and logs each request's replica and affinity cookie, the websocket's included, in its access log."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from harness.browser import REPO, new_context
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS, Explorer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium_path")]
REPLICAS = 3
HEADER = "x-explorer-replica"


def _free_block(n: int) -> int:
    """A port p with p .. p + n free."""
    for base in range(20100, 40000, 97):
        try:
            for p in range(base, base + n + 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx is not installed: scripts/system-deps installs it (make test does)")
    port = _free_block(REPLICAS)
    run = tmp_path_factory.mktemp("cluster")
    log = open(OUTPUT / "cluster.log", "w")  # kept open while the cluster runs
    process = subprocess.Popen(
        [sys.executable, "deploy/cluster.py", "--replicas", str(REPLICAS), "--port", str(port)]
        + ["--run-dir", str(run), "--interval", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def pump():
        for line in process.stdout:
            lines.append(line)
            log.write(line)
            log.flush()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 240
    while not any(line.startswith("serving on") for line in lines):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the cluster did not start: {''.join(lines)[-2000:]}")
        time.sleep(0.5)
    yield {"url": f"http://127.0.0.1:{port}", "run": run, "lines": lines}
    process.send_signal(signal.SIGTERM)  # as `make cluster` is stopped
    assert process.wait(timeout=60) == 0
    pids = [r["pid"] for r in json.loads((run / "replicas.json").read_text()).values()]
    assert not [p for p in pids if _alive(p)], "a replica outlived the cluster"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _replicas(cluster) -> dict[str, dict]:
    return json.loads((cluster["run"] / "replicas.json").read_text())


def _first_visit_replica(url: str) -> str:
    """Where a new visitor (no cookie) lands."""
    with urllib.request.urlopen(url + "/", timeout=10) as r:
        return r.headers[HEADER]


def _visit(browser, url: str, name: str):
    context = new_context(browser, TIMEOUT_MS, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    replicas: list[str] = []
    # The replica that gave each answer (nginx lists every one it tried: the last one answered).
    page.on(
        "response",
        lambda r: replicas.append(f"{r.status} {r.url} " + r.headers.get(HEADER, "").split(", ")[-1]),
    )
    app = Explorer(page, name)
    page.goto(url, timeout=TIMEOUT_MS)
    app.wait_ready()
    return context, app, replicas


def test_a_visitor_stays_on_one_replica_and_a_held_drag_paints(browser, cluster):
    context, app, replicas = _visit(browser, cluster["url"], "cluster")
    try:
        app.drag_slider_held(0)
        cookie = next(c["value"] for c in context.cookies() if c["name"] == "vae_replica")
        served = {
            r.rsplit(" ", 1)[1] for r in replicas if not r.endswith(" ")
        }  # (a cached answer names none)
        assert len(served) == 1, served
        assert not app.errors
        app.screenshot("cluster-page")
    finally:
        context.close()  # the websocket closes: the front logs it
    (replica,) = served
    deadline = time.monotonic() + 10
    pattern = re.compile(rf'"GET /_stcore/stream HTTP/1.1" 101 (\S+) cookie={cookie}')
    while not (found := pattern.findall((cluster["run"] / "logs" / "access.log").read_text())):
        assert time.monotonic() < deadline, "the websocket never passed the front"
        time.sleep(0.5)
    assert set(found) == {replica}  # the session's websocket went to the page's replica


def test_static_assets_arrive_gzipped_and_cacheable(cluster):
    with urllib.request.urlopen(cluster["url"] + "/", timeout=10) as r:
        script = re.search(r'/static/js/index[^"]*\.js', r.read().decode()).group(0)
    request = urllib.request.Request(cluster["url"] + script, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert "max-age=31536000" in r.headers["Cache-Control"]


def test_a_replica_that_fails_its_health_check_gets_no_new_visitors(cluster):
    port, info = next(iter(_replicas(cluster).items()))
    os.kill(info["pid"], signal.SIGSTOP)  # alive but not answering: its health check times out
    try:
        deadline = time.monotonic() + 30
        while _replicas(cluster)[port]["healthy"]:
            assert time.monotonic() < deadline, "the front never noticed the replica stopped answering"
            time.sleep(0.5)
        landed = {_first_visit_replica(cluster["url"]) for _ in range(12)}
        assert f"127.0.0.1:{port}" not in landed and len(landed) == REPLICAS - 1, landed
    finally:
        os.kill(info["pid"], signal.SIGCONT)
        deadline = time.monotonic() + 30
        while not _replicas(cluster)[port]["healthy"] and time.monotonic() < deadline:
            time.sleep(0.5)  # back before the next test, whatever happened above
    assert _replicas(cluster)[port]["healthy"], "the replica never came back"


def test_when_a_visitors_replica_stops_a_reload_lands_on_another_with_the_same_view(browser, cluster):
    context, app, replicas = _visit(browser, cluster["url"], "cluster-failover")
    try:
        page = app.page
        z = "() => new URL(location.href).searchParams.get('z')"
        before = page.evaluate(z)
        app.drag_slider_held(0)
        page.wait_for_function(f"(old) => ({z})() !== old", arg=before)  # the link holds the new point
        app.wait_idle()
        view = app.decoded()["caption"]
        url = page.url
        (replica,) = {r.rsplit(" ", 1)[1] for r in replicas if not r.endswith(" ")}
        pid = _replicas(cluster)[replica.rsplit(":", 1)[1]]["pid"]
        access = cluster["run"] / "logs" / "access.log"
        offset = len(access.read_bytes())
        os.kill(pid, signal.SIGKILL)
        page.reload(timeout=TIMEOUT_MS)
        app.wait_ready()
        page.wait_for_function("() => vaePage.decoded() !== null")
        app.wait_idle()
        assert app.decoded()["caption"] == view, (url, page.url)  # the same point, from the link
        # Where the reload's HTTP requests went (the browser's own cache would show the old replica's
        # headers, so the front's log says it): nginx lists each replica it tried, the last answered.
        cookie = next(c["value"] for c in context.cookies() if c["name"] == "vae_replica")
        answered = re.findall(
            rf'" (\d+) ([^"]*?) cookie={cookie} ', access.read_bytes()[offset:].decode(errors="replace")
        )
        now = {addr.split(", ")[-1] for status, addr in answered if 200 <= int(status) < 400 and addr != "-"}
        assert len(now) == 1 and replica not in now, (replica, answered)
        assert page.url == url
        assert not app.errors
    finally:
        context.close()
