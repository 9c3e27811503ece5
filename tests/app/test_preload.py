"""Preloading (app/resources.py, app/panels/compare.py): after a first page, the bundles a visitor
most likely opens next are loaded and warmed in the background, so that their first visit does not
wait for them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

import pytest

from app import resources
from app.panels.compare import data_key, likely_next, readable_manifests
from app.resources import bundle_names, bundle_version, load_explorer, open_explorer
from tests.app.conftest import APP


def _likely(root, current: str) -> list[str]:
    names = bundle_names(root)
    return likely_next(names, readable_manifests(root, names), current)


def test_compares_partner_comes_first_then_the_data_sets_other_bundles(roots):
    assert _likely(roots["family"], "tiny-2d") == ["tiny-2d-autoencoder", "tiny-2d-beta4"]
    assert _likely(roots["family"], "tiny-2d-beta4") == ["tiny-2d-autoencoder", "tiny-2d"]


def test_only_bundles_of_the_same_data_set_and_readable_ones_are_preloaded(roots):
    root = roots["own"]
    names = bundle_names(root)
    manifests = readable_manifests(root, names)
    chosen = _likely(root, "shapes-2d")
    assert chosen and "shapes-2d" not in chosen
    ours = data_key(manifests["shapes-2d"])
    assert all(data_key(manifests[n]) == ours for n in chosen)
    others = [n for n in names if n in manifests and data_key(manifests[n]) != ours]
    assert others and not set(others) & set(chosen)  # the root holds other data sets: none chosen
    assert _likely(root, "not-a-bundle") == []
    schema = roots["schema"]  # its one bundle's manifest cannot be read
    assert _likely(schema, "tiny-2d") == []


def _preload(root, current, likely) -> None:
    """resources.preload in a thread of its own, as the app runs it (it lowers its thread's priority)."""
    thread = threading.Thread(target=resources.preload, args=(root, current, likely))
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()


def _no_second_load(monkeypatch):
    def fail(*_a, **_k):
        raise AssertionError("loaded again: the preloaded Explorer was not kept")

    monkeypatch.setattr(resources, "open_explorer", fail)


def test_preloading_loads_and_warms_the_bundles_and_keeps_them(roots, monkeypatch):
    root = roots["family"]
    current = open_explorer(root / "tiny-2d", publish=False)
    _preload(root, current, lambda: _likely(root, "tiny-2d"))
    assert not current.warm_in_background().is_alive()  # the open bundle was warmed first
    _no_second_load(monkeypatch)
    for name in ("tiny-2d-autoencoder", "tiny-2d-beta4"):
        path = root / name
        explorer = load_explorer(str(path), bundle_version(path))
        assert explorer.bundle.name == name
        assert not explorer.warm_in_background().is_alive()  # warm: its thread has ended


def test_a_bundle_that_cannot_be_loaded_is_logged_and_the_next_is_still_preloaded(roots, monkeypatch, caplog):
    root = roots["mixed"]  # broken-2d: its decoder is not an ONNX model
    current = open_explorer(roots["one"] / "tiny-2d", publish=False)
    with caplog.at_level(logging.WARNING, logger="app.resources"):
        _preload(root, current, lambda: ["broken-2d", "tiny-2d"])
    assert any("broken-2d not preloaded" in r.getMessage() for r in caplog.records)
    _no_second_load(monkeypatch)
    path = root / "tiny-2d"
    assert load_explorer(str(path), bundle_version(path)).bundle.name == "tiny-2d"


def test_a_failing_choice_is_logged_not_raised(roots, caplog):
    current = open_explorer(roots["one"] / "tiny-2d", publish=False)

    def broken() -> list[str]:
        raise OSError("the folder went away")

    with caplog.at_level(logging.ERROR, logger="app.resources"):
        _preload(roots["one"], current, broken)
    assert any("choosing them failed" in r.getMessage() for r in caplog.records)


def test_at_most_the_cache_s_room_is_preloaded_in_the_order_given(roots, monkeypatch):
    loaded = []
    monkeypatch.setattr(resources, "load_explorer", lambda path, _v: loaded.append(path) or _Warm())
    current = open_explorer(roots["one"] / "tiny-2d", publish=False)
    _preload(roots["one"], current, lambda: [f"b{i}" for i in range(10)])
    assert loaded == [str(roots["one"] / f"b{i}") for i in range(resources.LOADED_BUNDLES - 1)]


def test_preloading_runs_below_the_pages_priority(roots):
    seen = []

    def likely() -> list[str]:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return []

    current = open_explorer(roots["one"] / "tiny-2d", publish=False)
    _preload(roots["one"], current, likely)
    assert seen and seen[0] > os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class _Warm:
    def warm_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=lambda: None)
        thread.start()
        return thread


def test_one_preloading_thread_per_artifacts_folder(roots, monkeypatch):
    calls = []
    monkeypatch.setattr(resources, "_preloading", set())
    monkeypatch.setattr(resources, "preload", lambda root, _c, _l: calls.append(root))
    for root in (roots["one"], roots["one"], roots["two"]):
        resources.preload_in_background(root, None, list)
    for thread in threading.enumerate():
        if thread.name == resources.PRELOAD_THREAD:
            thread.join(timeout=60)
    assert sorted(map(str, calls)) == sorted(map(str, (roots["one"], roots["two"])))


@pytest.mark.parametrize("thread_name, shown", [(resources.PRELOAD_THREAD, False), ("ScriptRunner", True)])
def test_streamlits_no_spinner_warning_is_dropped_for_the_preloading_thread_only(thread_name, shown):
    record = logging.LogRecord("streamlit", logging.WARNING, __file__, 1, "no ScriptRunContext", (), None)
    record.threadName = thread_name
    assert resources._NoSpinnerWarning().filter(record) is shown


EXIT_RIGHT_AFTER_A_PAGE = """
import sys
from streamlit.testing.v1 import AppTest

AppTest.from_file(sys.argv[1], default_timeout=120).run()  # the first page starts the preloading
"""


def test_a_process_that_ends_while_preloading_exits_cleanly(roots):
    """A process that ends while a thread is still in ONNX Runtime aborts: at exit, the preloading
    stops after its bundle."""
    env = dict(os.environ, VAE_ARTIFACTS=str(roots["family"]))
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", EXIT_RIGHT_AFTER_A_PAGE, APP],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
