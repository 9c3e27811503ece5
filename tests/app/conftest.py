"""Tiny bundles for the app tests: untrained small models, fake latents, random test images.

Built once per test session (a few seconds). Folders (each an artifacts root):

* ``one``: a single 2-D bundle (no selector);
* ``two``: a 2-D and a 5-D bundle (selector, projection);
* ``wide``: a 20-D bundle (principal-direction sliders);
* ``empty``: no bundle; ``corrupt``: a damaged decoder.keras; ``schema``: an unknown
  schema version; ``noimages``: a good bundle without the shared test images.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_IMAGES = 200  # test images per tiny bundle (all 10 classes present)
APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")


def make_bundle(root: Path, name: str, latent_dim: int, seed: int = 0) -> Path:
    """Export an untrained width-8 VAE bundle with fake metrics, plus random test images."""
    from vae_core.bundle import export_bundle, save_test_images
    from vae_core.config import VAEConfig
    from vae_core.model import build_decoder, build_encoder

    rng = np.random.default_rng(seed)
    config = VAEConfig(latent_dim=latent_dim, width=8, epochs=2)
    labels = (np.arange(N_IMAGES) % 10).astype(np.uint8)
    images = rng.integers(0, 256, (N_IMAGES, 28, 28), dtype=np.uint8)
    z_mean = rng.standard_normal((N_IMAGES, latent_dim)).astype(np.float32) + labels[:, None] * 0.3
    z_log_var = np.full((N_IMAGES, latent_dim), -2.0, np.float32)
    history = [
        {"epoch": e, "loss": 300.0 - e, "recon": 290.0 - e, "kl": 10.0, "val_loss": 301.0 - e,
         "val_recon": 291.0 - e, "val_kl": 10.0, "seconds": 1.0}
        for e in (1, 2)
    ]
    metrics = {
        "test_neg_elbo_nats": 300.0, "test_recon_bce_nats": 290.0, "test_kl_nats": 10.0,
        "test_iw_nll_nats": 295.0, "knn5_accuracy": 0.5, "test_recon_mse": 0.05,
        "kl_per_dimension": [2.0] + [0.01] * (latent_dim - 1),
    }
    path = export_bundle(
        root / name, encoder=build_encoder(config), decoder=build_decoder(config), config=config,
        z_mean=z_mean, z_log_var=z_log_var, labels=labels, history=history, metrics=metrics,
        extra={"training": {"epochs_run": 2, "seconds": 2.0}, "command": f"python -m vae_core train --out {root / name}"},
    )
    save_test_images(root, images, labels)
    return path


@pytest.fixture(scope="session")
def roots(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("artifacts")
    out = {name: base / name for name in ("one", "two", "wide", "empty", "corrupt", "schema", "noimages")}
    for p in out.values():
        p.mkdir()
    tiny2 = make_bundle(out["one"], "tiny-2d", 2)
    shutil.copytree(tiny2, out["two"] / "tiny-2d")
    shutil.copy(out["one"] / "fashion-mnist-test.npz", out["two"])
    make_bundle(out["two"], "tiny-5d", 5, seed=1)
    make_bundle(out["wide"], "tiny-20d", 20, seed=2)
    for name in ("corrupt", "schema", "noimages"):
        shutil.copytree(tiny2, out[name] / "tiny-2d")
    shutil.copy(out["one"] / "fashion-mnist-test.npz", out["corrupt"])
    shutil.copy(out["one"] / "fashion-mnist-test.npz", out["schema"])
    (out["corrupt"] / "tiny-2d" / "decoder.keras").write_bytes(b"this is not a zip file")
    manifest = out["schema"] / "tiny-2d" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["schema_version"] = 99
    manifest.write_text(json.dumps(data))
    return out


@pytest.fixture
def app_at(roots, monkeypatch):
    """A function: AppTest of the app over one of the roots (not yet run)."""
    from streamlit.testing.v1 import AppTest

    def make(root: str, query: dict | None = None) -> AppTest:
        monkeypatch.setenv("VAE_ARTIFACTS", str(roots[root]))
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        return at

    return make
