"""Shared fixtures: tiny synthetic data and tiny bundles, made fast on 2 CPU cores."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import numpy as np
import pytest

pytest_plugins = ["pytester"]  # tests/unit/test_needs.py runs pytest on pytest

FAKE_METRICS = {
    "test_neg_elbo_nats": 300.0,
    "test_recon_bce_nats": 290.0,
    "test_kl_nats": 10.0,
    "test_iw_nll_nats": 295.0,
    "knn5_accuracy": 0.5,
    "test_recon_mse": 0.05,
}


def make_bundle(
    path: Path,
    latent_dim: int = 2,
    *,
    n: int = 200,
    seed: int = 0,
    preset: str = "default",
    width: int = 8,
    test_images: bool = False,
    browser_models: bool = False,
    data: dict | None = None,
    factors: dict[str, np.ndarray] | None = None,
    metrics: dict | None = None,
    **config_fields,
) -> Path:
    """Write an untrained but valid bundle with n fake test latents (no training: ~0.5 s).

    With test_images, random test images for the n labels are saved beside it, as the app needs.
    With browser_models, encoder.onnx and decoder.onnx (and their light copies) too, as every real
    bundle has them; off by default because the ONNX export adds ~2 s per bundle on these 2 cores
    (schema 2 without "onnx"). With ``data`` (fields of a schema-3 data block, e.g. class_names None
    for an unlabelled set) or an ``image_shape`` other than (28, 28, 1), a bundle of a data set of
    its own: schema 3, its random test images inside it; ``factors`` (name -> (n,) values, described in
    ``data["factors"]``) go in with them; ``metrics`` are added to the fake ones.
    """
    import keras

    from vae_core.bundle import save_test_images
    from vae_core.config import VAEConfig
    from vae_core.export import export_bundle
    from vae_core.model import build_decoder, build_encoder

    keras.utils.set_random_seed(seed)
    config = VAEConfig(preset=preset, latent_dim=latent_dim, width=width, epochs=2, **config_fields)
    rng = np.random.default_rng(seed)
    own = data is not None or config.image_shape != (28, 28, 1)
    block = None
    if own:
        block = {
            "name": "Tiny set",
            "source": "folder",
            "image_shape": list(config.image_shape),
            "class_names": ["circle", "square", "triangle"],
            "n_train": 1000,
            "n_test": n,
            "sha256": {},
            "floor_nats": 50.0,
            "background": "dark",
            **(data or {}),
        }
    classes = 10 if not own else len(block["class_names"] or [0])
    labels = (np.arange(n) % classes).astype(np.uint8)  # every class present
    history = [
        {
            "epoch": e,
            "loss": 300.0 - e,
            "recon": 290.0 - e,
            "kl": 10.0,
            "val_loss": 301.0 - e,
            "val_recon": 291.0 - e,
            "val_kl": 10.0,
            "seconds": 1.0,
        }
        for e in (1, 2)
    ]
    z_mean = rng.standard_normal((n, latent_dim)).astype(np.float32) + labels[:, None] * 0.3
    shape = config.image_shape if own else (28, 28)
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)  # after z_mean: the same draws as ever
    path = export_bundle(
        path,
        encoder=build_encoder(config),
        decoder=build_decoder(config),
        config=config,
        z_mean=z_mean,
        z_log_var=np.full((n, latent_dim), -2.0, np.float32),
        labels=labels,
        history=history,
        metrics={**FAKE_METRICS, "kl_per_dimension": [2.0] + [0.01] * (latent_dim - 1), **(metrics or {})},
        extra={
            "training": {"epochs_run": 2, "seconds": 2.0},
            "command": f"python -m vae_core train --out {path}",
            **({"data": block} if own else {}),
        },
        browser_models=browser_models,
        probe_images=images.reshape(n, *config.image_shape).astype(np.float32) / 255.0,
        test_images=images if own else None,
        test_factors=factors,
    )
    if test_images and not own:
        save_test_images(path.parent, images, labels)
    return path


@pytest.fixture
def images() -> np.ndarray:
    """256 random images (256, 28, 28, 1) float32 in [0, 1]: enough to exercise training."""
    return np.random.default_rng(0).random((256, 28, 28, 1), dtype=np.float32)


def keras_networks(bundle):
    """A loaded bundle's networks as Keras models (vae_core.keras_models), for tests that decode or encode."""
    from vae_core.keras_models import load_keras_networks

    return load_keras_networks(bundle.path, bundle.latent_dim, bundle.data.image_shape)
