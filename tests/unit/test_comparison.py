"""The compare view's pure parts: the metrics table's rows and the point off the data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app import comparison
from tests.conftest import FAKE_METRICS, make_bundle
from vae_core import geometry
from vae_core.config import VAEConfig


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "VAE"),
        ({"beta": 4.0}, "β-VAE (β=4)"),
        ({"beta": 0.5}, "β-VAE (β=0.5)"),
        ({"deterministic": True, "beta": 0.0}, "autoencoder"),
        ({"neighbour_weight": 10.0}, "VAE, neighbour term 10"),
        ({"likelihood": "mse", "beta": 0.001}, "β-VAE (β=0.001), mse likelihood"),
        ({"prior_components": 10}, "VAE, mixture prior of 10"),
        ({"vamp_components": 50, "train_samples": 5}, "VAE, VampPrior of 50, IWAE k=5"),
    ],
)
def test_the_objective_names_what_training_minimised(fields, expected):
    assert comparison.objective(VAEConfig(**fields)) == expected


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Three tiny 2-D bundles (VAE, β = 4, autoencoder), a 3-D one and one whose manifest is damaged."""
    root = tmp_path_factory.mktemp("artifacts")
    make_bundle(root / "a-vae", 2)
    make_bundle(root / "b-beta", 2, beta=4.0)
    make_bundle(root / "c-ae", 2, deterministic=True, beta=0.0)
    make_bundle(root / "d-3d", 3)
    broken = make_bundle(root / "e-broken", 2)
    (broken / "manifest.json").write_text("{ not json")
    return root


def test_the_table_has_a_row_per_bundle_with_its_objective_and_numbers(artifacts):
    names = ["a-vae", "b-beta", "c-ae", "d-3d", "e-broken"]
    floors = {"a-vae": 150.5}  # each bundle's data set has its own floor; unknown: no "above floor"
    rows = comparison.metrics_table(comparison.read_manifests(artifacts, names), floors.get)
    assert [r["bundle"] for r in rows] == names
    assert [r["objective"] for r in rows] == ["VAE", "β-VAE (β=4)", "autoencoder", "VAE", "?"]
    assert [r["latent dim"] for r in rows] == [2, 2, 2, 3, None]
    assert [r["epochs"] for r in rows] == [2, 2, 2, 2, None]  # conftest.make_bundle trains 2
    vae = rows[0]
    assert vae["-ELBO"] == FAKE_METRICS["test_neg_elbo_nats"]
    assert vae["above floor"] == pytest.approx(FAKE_METRICS["test_neg_elbo_nats"] - 150.5)
    assert rows[1]["above floor"] is None
    assert vae["reconstruction"] == FAKE_METRICS["test_recon_bce_nats"]
    assert vae["KL"] == FAKE_METRICS["test_kl_nats"]
    assert vae["IWAE bound"] == FAKE_METRICS["test_iw_nll_nats"]
    assert vae["5-NN"] == FAKE_METRICS["knn5_accuracy"]
    assert vae["active dims"] == "1 of 2"  # make_bundle: KL per dimension [2.0, 0.01]
    assert rows[3]["active dims"] == "1 of 3"
    assert vae["note"] == "" and rows[2]["note"] == comparison.AUTOENCODER_NOTE
    assert rows[4]["note"].startswith("Cannot be read:") and "not valid JSON" in rows[4]["note"]
    assert rows[4]["-ELBO"] is None


def test_a_broken_bundle_is_described_through_the_given_function(artifacts):
    [(name, why)] = comparison.read_manifests(artifacts, ["e-broken"], shown=lambda e: "hidden")
    assert (name, why) == ("e-broken", "hidden")
    row = comparison.metrics_table([(name, why)])[0]
    assert row["note"] == "Cannot be read: hidden" and str(artifacts) not in json.dumps(row)


def test_epochs_come_from_the_manifest_when_it_says():
    assert comparison.epochs_run({"training": {"epochs_run": 40}}) == 40
    for unsaid in (
        {},
        {"training": None},
        {"training": {"epochs_run": "40"}},
        {"training": {"epochs_run": True}},
    ):
        assert comparison.epochs_run(unsaid) is None


def test_active_dims_needs_one_kl_per_dimension():
    assert comparison.active_dims({"kl_per_dimension": [0.5, 0.2, 0.05]}, 3) == "2 of 3"
    assert comparison.active_dims({"kl_per_dimension": [0.5]}, 3) == "?"
    assert comparison.active_dims({}, 2) == "?"


def test_names_are_shown_with_invisible_characters_escaped():
    assert comparison.plain("a\u202eb\nc") == "a\\u202eb\\nc"
    assert comparison.plain("fashion-mnist-2d") == "fashion-mnist-2d"


def _ring(n: int, radius: float, seed: int) -> np.ndarray:
    """n points near a circle of the given radius: a cloud with a hole in the middle."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    r = radius + rng.normal(0, 0.05 * radius, n)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)


def test_the_point_off_the_data_is_the_hole_in_a_map():
    ring = _ring(2000, 1.0, 0)
    projection = geometry.fit_projection(ring)
    gap = comparison.off_data_point(projection, geometry.map_limits(ring), [ring])
    assert np.linalg.norm(gap.z) < 0.15  # the centre of the ring, not the empty corners of its box
    assert gap.distances[0] > 0.8


def test_the_hole_of_each_model_is_found_inside_both_maps():
    """A filled disk (a VAE) and a ring of radius 10 (an autoencoder on its own scale, with a hole)."""
    rng = np.random.default_rng(1)
    disk = rng.normal(0, 0.5, (2000, 2))
    ring = _ring(2000, 10.0, 2)
    projection = geometry.fit_projection(disk)
    box = geometry.map_limits(disk)
    hole = comparison.off_data_point(projection, box, [disk, ring], target=1)
    assert np.linalg.norm(hole.z) < 1.0  # the ring's hole, where the disk has its data
    assert hole.scores[1] > 20 * hole.scores[0]  # far off the ring's data, among the disk's
    edge = comparison.off_data_point(projection, box, [disk, ring], target=0)
    assert np.linalg.norm(edge.z) > 0.8  # the disk has no hole: its emptiest spot is at its edge
    low, high = np.quantile(disk, 0.005, axis=0), np.quantile(disk, 0.995, axis=0)
    assert np.all((edge.z >= low) & (edge.z <= high))  # still inside both models' data ranges
    with pytest.raises(ValueError, match="target"):
        comparison.off_data_point(projection, box, [disk], target=1)


def test_typical_spacing_is_the_distance_between_neighbours():
    xs, ys = np.meshgrid(np.arange(10) * 0.5, np.arange(10) * 0.5)
    assert comparison.typical_spacing(np.stack([xs.ravel(), ys.ravel()], axis=1)) == pytest.approx(0.5)


def test_a_map_point_lifts_to_the_latent_point_there():
    z = np.random.default_rng(3).normal(size=(500, 4))
    projection = geometry.fit_projection(z)
    point = comparison.plane_point(projection, (0.3, -0.2))
    assert point.shape == (4,)
    assert geometry.project(projection, point)[0] == pytest.approx([0.3, -0.2])


def test_factor_dims_names_the_clear_dimensions_and_the_spread_factors():
    from app.comparison import factor_dims

    metrics = {
        "disentanglement": {
            "factors": {
                "x": {"dim": 2, "share": 0.5, "gap": 0.4},
                "shape": {"dim": 0, "share": 0.1, "gap": 0.02},
                "y": {"dim": 0, "share": 0.5, "gap": 0.3},
            }
        }
    }
    assert factor_dims(metrics) == "x z3, y z1; shape: spread"
    assert factor_dims({}) == ""
    only_spread = {"disentanglement": {"factors": {"shape": {"dim": 0, "share": 0.1, "gap": 0.0}}}}
    assert factor_dims(only_spread) == "shape: spread"
