"""Where bundles live, and loading them once per process (shared by all sessions)."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import numpy as np
import streamlit as st

from app.browser_assets import publish_model
from app.explorer import BrowserModels, Explorer
from vae_core.bundle import Bundle, list_bundles, load_bundle, load_test_images
from vae_core.manifest import BundleError, command_path
from vae_core.onnx_models import shape_problem

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS_ENV = "VAE_ARTIFACTS"
DEFAULT_BUNDLE = "fashion-mnist-2d"
TRAIN_COMMAND = "python -m vae_core train --latent-dim 2"
TEST_IMAGES_COMMAND = "python -m vae_core export-test-images --out {root}"
_frozen = False  # gc.freeze() ran (once per process)


def artifacts_root() -> Path:
    """The folder holding bundles: $VAE_ARTIFACTS, else artifacts/ at the repository root."""
    env = os.environ.get(ARTIFACTS_ENV, "").strip()
    return Path(env).expanduser() if env else REPO_ROOT / "artifacts"


def bundle_names(root: Path) -> list[str]:
    """Names of the bundles under root, sorted (unreadable folders skipped, and logged)."""
    return [p.name for p in list_bundles(root)]


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


@st.cache_resource(show_spinner="Loading the model bundle...", max_entries=4)
def load_explorer(path: str, version: str) -> Explorer:
    """The Explorer of a bundle (raises BundleError). ``version`` (bundle_version) makes a
    re-exported bundle load afresh."""
    global _frozen
    explorer = open_explorer(Path(path))
    if not _frozen:
        # TensorFlow and the first model leave ~370k long-lived Python objects. Streamlit runs a full
        # gc.collect() after every rerun (runner.postScriptGC), which scanned them all: ~130 ms per
        # slider move. Freezing them once moves them out of the collector's reach; later bundles are
        # not frozen, so a bundle the cache evicts is collected.
        gc.freeze()
        _frozen = True
    return explorer


def open_explorer(path: Path, publish: bool = True) -> Explorer:
    """Load a bundle, its networks and the test images beside it. Raises BundleError saying how to fix it.

    With ``publish`` its browser models are copied where the app serves them (else server decoding)."""
    from vae_core.keras_models import load_keras_networks

    bundle = load_bundle(path)
    images = test_images(bundle)
    networks = load_keras_networks(bundle.path, bundle.latent_dim, bundle.data.image_shape)
    return Explorer(
        bundle, networks, images, browser_models(bundle) if publish else BrowserModels(None, None)
    )


def test_images(bundle: Bundle) -> np.ndarray:
    """(n, H, W, C) uint8 test images of the bundle, in its latents' order."""
    root = bundle.path.parent
    fix = f"Create it with `{TEST_IMAGES_COMMAND.format(root=command_path(root))}`."
    try:
        images, labels = load_test_images(root)
    except BundleError as e:
        raise BundleError(f"{e} {fix}") from None
    if not np.array_equal(labels, bundle.labels):
        raise BundleError(
            f"The test images in {root} do not match the bundle {bundle.name} (labels differ). Re-{fix[1:]}"
        )
    return images.reshape(len(images), *bundle.data.image_shape)


def browser_models(bundle: Bundle) -> BrowserModels:
    """Publish the bundle's ONNX models for the browser; a part that cannot be published, or that
    does not fit the bundle, is None (the app then decodes, or encodes drawings, on the server)."""
    urls, notes = {}, []
    for part, model in (bundle.browser_models or {}).items():
        problem = shape_problem(model, part, bundle.latent_dim, bundle.data.image_shape)
        if problem:
            log.warning("bundle %s: browser %s not published: %s", bundle.name, part, problem)
            notes.append(f"its browser {part} does not fit it ({problem})")
            urls[part] = None
            continue
        try:
            urls[part] = publish_model(model)
        except BundleError as e:
            log.warning("bundle %s: browser %s not published: %s", bundle.name, part, e)
            urls[part] = None
    models = bundle.browser_models or {}
    decoder = encoder = None
    if urls.get("decoder"):
        m = models["decoder"]
        decoder = {"url": urls["decoder"], "input": m.inputs[0], "output": m.outputs[0]}
    if urls.get("encoder"):
        m = models["encoder"]
        encoder = {"url": urls["encoder"], "input": m.inputs[0], "outputs": list(m.outputs)}
    note = f"Live decoding is off for this bundle: {'; '.join(notes)}." if notes else None
    return BrowserModels(decoder, encoder, note)
