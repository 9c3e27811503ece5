"""bench/curve.py scores a run mid-training; its numbers must be the ones the bundle will report."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from vae_core.config import VAEConfig
from vae_core.evaluate import evaluate
from vae_core.keras_models import KerasNetworks
from vae_core.model import build_vae
from vae_core.train import prior_of

CURVE = Path(__file__).resolve().parents[2] / "bench" / "curve.py"


def load_curve():
    spec = importlib.util.spec_from_file_location("bench_curve", CURVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("prior", ["standard normal", "VampPrior"])
def test_a_curve_row_is_the_bundles_metrics_at_that_epoch(images, prior):
    vae = build_vae(VAEConfig(width=8, vamp_components=5 if prior == "VampPrior" else 0))
    labels = np.arange(len(images)) % 10
    x_test, y_test = images[:64], labels[:64]
    rows = []
    curve = load_curve().Curve(1, 1, x_test, y_test, images, labels, rows.append)
    curve.set_model(vae)
    curve.on_epoch_end(0, {"val_loss": 1.0})
    metrics, _ = evaluate(
        KerasNetworks(vae.encoder, vae.decoder),
        x_test,
        y_test,
        images,
        labels,
        prior=prior_of(vae),
        iw_samples=1,
    )
    assert rows[0]["test_neg_elbo_nats"] == pytest.approx(metrics["test_neg_elbo_nats"], rel=1e-6)
    assert rows[0]["test_kl_nats"] == pytest.approx(metrics["test_kl_nats"], rel=1e-5)
    assert rows[0]["knn5_accuracy"] == metrics["knn5_accuracy"]
