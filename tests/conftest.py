"""Shared fixtures: tiny synthetic data and tiny bundles, made fast on 2 CPU cores."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

FAKE_METRICS = {
    "test_neg_elbo_nats": 300.0,
    "test_recon_bce_nats": 295.0,
    "test_kl_nats": 5.0,
    "knn5_accuracy": 0.5,
}


def make_bundle(path: Path, latent_dim: int = 2, preset: str = "keras-io", n: int = 200, seed: int = 0, **config) -> Path:
    """Write an untrained but valid bundle with n fake test latents (no training: ~1 s)."""
    import keras

    from vae_core.bundle import export_bundle
    from vae_core.config import VAEConfig
    from vae_core.model import build_decoder, build_encoder

    keras.utils.set_random_seed(seed)
    cfg = VAEConfig(preset=preset, latent_dim=latent_dim, **config)
    rng = np.random.default_rng(seed)
    return export_bundle(
        path,
        encoder=build_encoder(cfg),
        decoder=build_decoder(cfg),
        config=cfg,
        z_mean=rng.standard_normal((n, latent_dim)).astype(np.float32),
        z_log_var=np.full((n, latent_dim), -2.0, np.float32),
        labels=(np.arange(n) % 10).astype(np.uint8),
        history=[{"epoch": 1, "loss": 400.0, "val_loss": 390.0}],
        metrics=dict(FAKE_METRICS),
    )


@pytest.fixture
def images() -> np.ndarray:
    """256 random images (256, 28, 28, 1) float32 in [0, 1]: enough to exercise training."""
    return np.random.default_rng(0).random((256, 28, 28, 1), dtype=np.float32)
