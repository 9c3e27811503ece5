"""Where bundles live, and loading them once per process (shared by all sessions)."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import streamlit as st

from app.explorer import BrowserDecoder, BrowserEncoder, Explorer, open_explorer

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS_ENV = "VAE_ARTIFACTS"
DEFAULT_BUNDLE = "fashion-mnist-2d"
TRAIN_COMMAND = "python -m vae_core train --latent-dim 2"


def artifacts_root() -> Path:
    """The folder holding bundles: $VAE_ARTIFACTS, else artifacts/ at the repository root."""
    env = os.environ.get(ARTIFACTS_ENV, "").strip()
    return Path(env).expanduser() if env else REPO_ROOT / "artifacts"


def bundle_names(root: Path) -> list[str]:
    """Names of the bundles under root, sorted."""
    from vae_core.bundle import list_bundles

    return [p.name for p in list_bundles(root)]


def default_bundle_name(names: list[str]) -> str:
    """The bundle the app opens first: fashion-mnist-2d when present, else the first by name."""
    return DEFAULT_BUNDLE if DEFAULT_BUNDLE in names else names[0]


@st.cache_resource(show_spinner="Loading the model bundle...", max_entries=4)
def load_explorer(path: str, version: float) -> Explorer:
    """The Explorer of a bundle (raises BundleError). ``version`` (the manifest's modification
    time) makes a re-exported bundle load afresh."""
    explorer = open_explorer(Path(path), publish_decoder, publish_encoder)
    # TensorFlow and the model leave ~370k long-lived Python objects. Streamlit runs a full
    # gc.collect() after every rerun (runner.postScriptGC), which scanned them all: ~130 ms
    # per slider move, holding the lock that serves the new image. Freezing moves everything
    # alive now out of the collector's reach; later garbage is still collected.
    gc.freeze()
    return explorer


def publish_decoder(bundle) -> BrowserDecoder | None:
    """Copy the bundle's ONNX decoder where the app serves it (app/static/models/); None when the
    bundle has none or it cannot be published (the app then decodes on the server only)."""
    published = _publish(bundle, "decoder")
    return None if published is None else BrowserDecoder(published[0], published[1][0], published[2][0])


def publish_encoder(bundle) -> BrowserEncoder | None:
    """The same for the bundle's ONNX encoder (the drawing pad encodes while you draw); None: the
    server encodes a drawing when a stroke ends."""
    published = _publish(bundle, "encoder")
    if published is None or len(published[2]) != 2:
        return None
    return BrowserEncoder(published[0], published[1][0], (published[2][0], published[2][1]))


def _publish(bundle, part: str) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(url, input names, output names) of one published browser model, or None."""
    from app.browser_assets import BrowserModelError, publish_model

    model = (bundle.browser_models or {}).get(part)
    if model is None:
        return None
    try:
        url = publish_model(model.file, model.sha256)
    except BrowserModelError as e:
        log.warning("bundle %s: browser %s not published: %s", bundle.name, part, e)
        return None
    return None if url is None else (url, tuple(model.inputs), tuple(model.outputs))


def bundle_version(path: Path) -> float:
    """Modification time of a bundle's manifest (0 when unreadable: loading reports why)."""
    try:
        return (path / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0
