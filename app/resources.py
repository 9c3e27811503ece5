"""Where bundles live, and loading them once per process (shared by all sessions)."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from app.browser_assets import publish_model
from app.explorer import BrowserModels, Explorer
from vae_core.bundle import Bundle, DataInfo, bundle_test_images, list_bundles, load_bundle
from vae_core.manifest import BundleError, read_manifest
from vae_core.onnx_models import load_onnx_networks, shape_problem

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS_ENV = "VAE_ARTIFACTS"
DEFAULT_BUNDLE = "fashion-mnist-2d"
TRAIN_COMMAND = "python -m vae_core train --latent-dim 2"
LOADED_BUNDLES = 4  # Explorers a process keeps (load_explorer's cache): the open one and those preloaded
PRELOAD_THREAD = "preload-bundles"


def artifacts_root() -> Path:
    """The folder holding bundles: $VAE_ARTIFACTS, else artifacts/ at the repository root."""
    env = os.environ.get(ARTIFACTS_ENV, "").strip()
    return Path(env).expanduser() if env else REPO_ROOT / "artifacts"


def bundle_names(root: Path) -> list[str]:
    """Names of the bundles under root, sorted (unreadable folders skipped, and logged)."""
    return [p.name for p in list_bundles(root)]


def data_sets(root: Path, names: list[str]) -> dict[str, str]:
    """Each bundle's data set name (its manifest's; "?" when unreadable), for grouping the selector."""
    return _data_sets(str(root), tuple((n, bundle_version(root / n)) for n in names))


@st.cache_data(max_entries=16, show_spinner=False)
def _data_sets(root: str, versions: tuple[tuple[str, str], ...]) -> dict[str, str]:
    out = {}
    for name, _ in versions:
        try:
            out[name] = DataInfo.of(read_manifest(Path(root) / name)).name
        except BundleError:
            out[name] = "?"
    return out


def default_bundle_name(names: list[str]) -> str:
    """The bundle the app opens first: fashion-mnist-2d when present, else the first by name."""
    return DEFAULT_BUNDLE if DEFAULT_BUNDLE in names else names[0]


def bundle_version(path: Path) -> str:
    """A key that changes when a bundle's folder does: its manifest's modification time and size."""
    try:
        st_ = (path / "manifest.json").stat()
        return f"{st_.st_mtime_ns}:{st_.st_size}"
    except OSError:
        return "0"


@st.cache_resource(show_spinner="Loading the model bundle...", max_entries=LOADED_BUNDLES)
def load_explorer(path: str, version: str) -> Explorer:
    """The Explorer of a bundle (raises BundleError). ``version`` (bundle_version) makes a
    re-exported bundle load afresh."""
    return open_explorer(Path(path))


_preloading: set[str] = set()  # the artifacts folders whose bundles a thread has been started for
_preloading_lock = threading.Lock()
_stopping = threading.Event()  # set at exit: a preloading thread stops after its bundle


def preload_in_background(root: Path, current: Explorer, likely: Callable[[], list[str]]) -> None:
    """Once per process and artifacts folder: load and warm, in a thread of their own at the lowest
    priority, the bundles a visitor most likely opens next (``likely()``, the first
    LOADED_BUNDLES - 1 of them), after ``current`` is warm. Their first visit then answers as a
    later one does (the 16-D bundle's first took 2.3 s, a later one 0.8 s, bench/clicks.py). A
    bundle that cannot be loaded is logged and skipped: its own visit says what is wrong."""
    with _preloading_lock:
        if str(root) in _preloading:
            return
        _preloading.add(str(root))
    threading.Thread(target=preload, args=(root, current, likely), name=PRELOAD_THREAD, daemon=True).start()


def preload(root: Path, current: Explorer, likely: Callable[[], list[str]]) -> None:
    """What preload_in_background's thread does, in the caller's thread (whose priority it lowers)."""
    _yield_the_cpu()
    current.warm_in_background().join()  # the open bundle's own references come first
    try:
        names = likely()[: LOADED_BUNDLES - 1]
    except Exception:
        log.exception("no bundles preloaded: choosing them failed")
        return
    for name in names:
        if _stopping.is_set():
            return
        path = root / name
        try:
            load_explorer(str(path), bundle_version(path)).warm_in_background().join()
        except BundleError as e:
            log.warning("bundle %s not preloaded: %s", name, e)
        except Exception:
            log.exception("bundle %s not preloaded", name)


@atexit.register
def _stop_preloading() -> None:
    """At exit, let a preloading thread finish the bundle it is on, and stop: a process that ends
    while a thread is still in ONNX Runtime aborts ("terminate called without an active exception")."""
    _stopping.set()
    for thread in threading.enumerate():
        if thread.name == PRELOAD_THREAD:
            thread.join(timeout=60)


def _yield_the_cpu() -> None:
    """Lower this thread's priority (and that of the threads it starts), where the system allows it:
    the pages' own runs come first."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # Linux: a thread's own niceness
    except (AttributeError, OSError):
        pass


class _NoSpinnerWarning(logging.Filter):
    """Streamlit warns that a thread outside a page run has no place to show load_explorer's spinner:
    the preloading thread needs none."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != PRELOAD_THREAD


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NoSpinnerWarning())


def open_explorer(path: Path, publish: bool = True) -> Explorer:
    """Load a bundle, its ONNX networks (no TensorFlow) and the test images beside it. Raises
    BundleError saying how to fix it.

    With ``publish`` its browser models are copied where the app serves them (else server decoding)."""
    bundle = load_bundle(path)
    images = bundle_test_images(bundle)
    networks = load_onnx_networks(bundle)
    browser = browser_models(bundle) if publish else BrowserModels(None, None)
    return Explorer(bundle, networks, images, browser)


def browser_models(bundle: Bundle) -> BrowserModels:
    """Publish the bundle's ONNX models for the browser (the light copy of each, where the bundle
    has one: fewer bytes for a visitor); a part that cannot be published, or that does not fit the
    bundle, is None (the app then decodes, or encodes drawings, on the server)."""
    served, notes = {}, []
    for part, model in (bundle.browser_models or {}).items():
        model = model.for_browser
        problem = shape_problem(model, part, bundle.latent_dim, bundle.data.image_shape)
        if problem:
            log.warning("bundle %s: browser %s not published: %s", bundle.name, part, problem)
            notes.append(f"its browser {part} does not fit it ({problem})")
            continue
        try:
            url = publish_model(model)
        except BundleError as e:
            log.warning("bundle %s: browser %s not published: %s", bundle.name, part, e)
            continue
        if url:
            served[part] = {"url": url, "input": model.inputs[0], "outputs": list(model.outputs)}
    decoder = served.get("decoder")
    if decoder:
        decoder = {"url": decoder["url"], "input": decoder["input"], "output": decoder["outputs"][0]}
    note = f"Live decoding is off for this bundle: {'; '.join(notes)}." if notes else None
    return BrowserModels(decoder, served.get("encoder"), note)
