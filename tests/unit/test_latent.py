"""Unit tests for vae_core.latent: tiny synthetic latents, no TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vae_core import latent


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_module_does_not_import_tensorflow():
    code = (
        "import sys, vae_core.latent; "
        "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


# --- interpolation --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["linear", "spherical"])
@pytest.mark.parametrize("d", [1, 2, 16])
def test_interpolate_endpoints_are_exact(path, d):
    a, b = _rng(d).normal(size=(2, d))
    out = latent.interpolate(a, b, 7, path=path)
    assert out.shape == (7, d)
    assert np.array_equal(out[0], a) and np.array_equal(out[-1], b)


def test_linear_interpolation_midpoint():
    out = latent.interpolate([0.0, 0.0], [2.0, 4.0], 3)
    np.testing.assert_allclose(out[1], [1.0, 2.0])


def test_spherical_path_keeps_norm_of_equal_norm_endpoints():
    a, b = _rng(1).normal(size=(2, 16))
    b = b / np.linalg.norm(b) * np.linalg.norm(a)
    out = latent.interpolate(a, b, 9, path="spherical")
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(a), rtol=1e-9)
    # while the straight segment cuts inside the sphere
    mid = latent.interpolate(a, b, 9, path="linear")[4]
    assert np.linalg.norm(mid) < np.linalg.norm(a) - 1e-3


@pytest.mark.parametrize(
    "a, b", [([0.0, 0.0], [1.0, 2.0]), ([1.0, 1.0], [2.0, 2.0]), ([1.0, 0.0], [-3.0, 0.0])]
)
def test_spherical_falls_back_to_linear_when_degenerate(a, b):
    out = latent.interpolate(a, b, 5, path="spherical")
    np.testing.assert_allclose(out, latent.interpolate(a, b, 5, path="linear"))
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("steps", [1, 33, 0, -2, 2.5, True])
def test_interpolate_rejects_steps_out_of_range(steps):
    with pytest.raises(ValueError, match="steps"):
        latent.interpolate([0.0], [1.0], steps)


def test_interpolate_rejects_unknown_path_and_shape_mismatch():
    with pytest.raises(ValueError, match="path"):
        latent.interpolate([0.0], [1.0], 4, path="geodesic")
    with pytest.raises(ValueError, match="length"):
        latent.interpolate([0.0, 1.0], [1.0], 4)


# --- classes and neighbours -----------------------------------------------------------------------


def test_class_centroids_and_missing_class():
    z = np.array([[0.0, 0.0], [2.0, 2.0], [10.0, 0.0]])
    labels = np.array([0, 0, 1])
    np.testing.assert_allclose(latent.class_centroids(z, labels, n_classes=2), [[1, 1], [10, 0]])
    with pytest.raises(ValueError, match=r"\[2\]"):
        latent.class_centroids(z, labels, n_classes=3)


def test_nearest_neighbours_on_hand_example():
    z = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0], [0.0, -2.0]])
    idx, dist = latent.nearest_neighbours(z, [0.0, 0.0], 3)
    assert idx.tolist() == [0, 2, 3]
    np.testing.assert_allclose(dist, [0.0, 1.0, 2.0])
    idx, dist = latent.nearest_neighbours(z, [0.0, 0.0], 10)  # k clipped to N
    assert idx.tolist() == [0, 2, 3, 1] and dist[-1] == pytest.approx(5.0)


def test_class_shares():
    shares = latent.class_shares([0, 0, 1, 3], n_classes=4)
    np.testing.assert_allclose(shares, [0.5, 0.25, 0.0, 0.25])
    assert shares.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_classes"):
        latent.class_shares([0, 5], n_classes=4)


def test_knn_accuracy_separable_is_perfect():
    rng = _rng(2)
    train = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    test = np.concatenate([rng.normal(0, 0.1, (5, 2)), rng.normal(5, 0.1, (5, 2))])
    labels = np.repeat([0, 1], 20), np.repeat([0, 1], 5)
    assert latent.knn_accuracy(train, labels[0], test, labels[1], k=5) == 1.0


def test_knn_accuracy_hand_example_with_tie_break():
    train = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    train_y = np.array([0, 1, 1, 2, 2])
    # query 0.1: neighbours 0(0), 1(1), 2(1) -> majority 1
    # query 10.4, k=2: neighbours 10(2), 11(2) -> 2
    # query 0.4, k=3 labels in distance order: 0, 1, 1 -> 1 (true label 0, wrong)
    test = np.array([[0.1], [10.4], [0.4]])
    assert latent.knn_accuracy(train, train_y, test, [1, 2, 0], k=3) == pytest.approx(2 / 3)
    # k=2: one vote each, the nearest neighbour's label wins
    assert latent.knn_accuracy(train, train_y, [[0.4], [0.6]], [0, 1], k=2) == 1.0


def test_latent_stats():
    stats = latent.latent_stats(np.array([[0.0, 1.0], [2.0, 1.0]]))
    np.testing.assert_allclose(stats["min"], [0, 1])
    np.testing.assert_allclose(stats["max"], [2, 1])
    np.testing.assert_allclose(stats["mean"], [1, 1])
    np.testing.assert_allclose(stats["std"], [1, 0])


def test_rejects_nan_latents():
    with pytest.raises(ValueError, match="NaN"):
        latent.fit_projection(np.array([[0.0, np.nan]]))


# --- projection -----------------------------------------------------------------------------------


def test_projection_is_identity_for_two_dims():
    z = _rng(3).normal(size=(50, 2)) + 3.0
    proj = latent.fit_projection(z)
    np.testing.assert_array_equal(proj.mean, [0, 0])
    np.testing.assert_array_equal(proj.components, np.eye(2))
    np.testing.assert_allclose(latent.project(proj, z), z)
    np.testing.assert_allclose(latent.lift(proj, z), z)


@pytest.mark.parametrize("d", [2, 16, 200])
def test_projection_round_trip(d):
    rng = _rng(d)
    z = rng.normal(size=(300, d)) * np.linspace(3.0, 0.5, d)
    proj = latent.fit_projection(z)
    np.testing.assert_allclose(proj.components @ proj.components.T, np.eye(2), atol=1e-9)
    xy = rng.normal(size=(10, 2))
    base = rng.normal(size=d)
    np.testing.assert_allclose(latent.project(proj, latent.lift(proj, xy, base)), xy, atol=1e-6)
    np.testing.assert_allclose(latent.project(proj, latent.lift(proj, xy)), xy, atol=1e-6)


def test_pca_finds_main_axis_with_deterministic_sign():
    rng = _rng(4)
    z = np.zeros((200, 5))
    z[:, 3] = rng.normal(0, 5.0, 200)
    z[:, 1] = rng.normal(0, 1.0, 200)
    proj = latent.fit_projection(z)
    np.testing.assert_allclose(np.abs(proj.components[0]), np.eye(5)[3], atol=1e-2)
    assert proj.components[0, 3] > 0 and proj.components[1, 1] > 0
    assert proj.explained_variance_ratio[0] > 0.9
    again = latent.fit_projection(-z)  # flipping the data must not flip the axes
    np.testing.assert_allclose(again.components, proj.components, atol=1e-9)


def test_lift_keeps_base_orthogonal_component():
    rng = _rng(5)
    z = rng.normal(size=(100, 16))
    proj = latent.fit_projection(z)
    base = rng.normal(size=16)
    point = latent.lift(proj, [[0.5, -1.0]], base)[0]
    residual = lambda p: (p - proj.mean) - proj.components.T @ (proj.components @ (p - proj.mean))
    np.testing.assert_allclose(residual(point), residual(base), atol=1e-9)


def test_projection_of_one_dim_latents():
    z = np.array([[-1.0], [0.0], [2.0]])
    proj = latent.fit_projection(z)
    np.testing.assert_allclose(latent.project(proj, z), [[-1, 0], [0, 0], [2, 0]])
    np.testing.assert_allclose(latent.lift(proj, [[1.5, 7.0]]), [[1.5]])  # y ignored


# --- grids ----------------------------------------------------------------------------------------


def test_plane_grid_is_in_image_order():
    grid = latent.plane_grid((-1.0, 1.0), (-2.0, 2.0), 3)
    assert grid.shape == (9, 2)
    rows = grid.reshape(3, 3, 2)
    assert np.all(rows[0, :, 1] == 2.0) and np.all(rows[-1, :, 1] == -2.0)  # top row = max y
    np.testing.assert_allclose(rows[0, :, 0], [-1.0, 0.0, 1.0])  # left to right
    np.testing.assert_allclose(latent.plane_grid((0, 2), (0, 4), 1), [[1.0, 2.0]])


@pytest.mark.parametrize("n", [0, 61])
def test_plane_grid_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        latent.plane_grid((0, 1), (0, 1), n)


def test_hit_grid_covers_the_map():
    grid = latent.hit_grid((0.0, 1.0), (-1.0, 1.0), n=5)
    assert grid.shape == (25, 2)
    assert grid[:, 0].min() == 0.0 and grid[:, 0].max() == 1.0
    assert grid[:, 1].min() == -1.0 and grid[:, 1].max() == 1.0


def test_map_limits_ignore_outliers():
    xy = np.column_stack([np.linspace(0, 1, 2001), np.zeros(2001)])
    xy[0] = [1e6, 1e6]
    (x0, x1), (y0, y1) = latent.map_limits(xy, pad=0.0, quantile=0.001)
    assert -0.01 < x0 < 0.01 and 0.99 < x1 < 1.01
    assert y0 < 0.0 < y1  # flat axis still gets a range


# --- sliders --------------------------------------------------------------------------------------


def test_slider_ranges_and_clip():
    z = np.array([[0.0, 5.0], [2.0, 5.0]])
    lo, hi = latent.slider_ranges(z, n_std=2.0)
    np.testing.assert_allclose(lo, [-1.0, 3.0])  # constant dim gets std 1
    np.testing.assert_allclose(hi, [3.0, 7.0])
    np.testing.assert_allclose(latent.clip_to_ranges([9.0, 0.0], lo, hi), [3.0, 3.0])


def test_principal_coeffs_round_trip():
    rng = _rng(6)
    z = rng.normal(size=(100, 32)) * np.linspace(2.0, 0.1, 32)
    mean, comps, std = latent.principal_directions(z, 4)
    assert comps.shape == (4, 32) and std.shape == (4,)
    assert np.all(np.diff(std) <= 0) and std[0] > 1.0
    np.testing.assert_allclose(comps @ comps.T, np.eye(4), atol=1e-9)
    coeffs = np.array([1.0, -2.0, 0.5, 0.0])
    point = latent.point_from_principal(mean, comps, coeffs)
    np.testing.assert_allclose(latent.principal_coeffs(mean, comps, point), coeffs, atol=1e-9)


# --- uncertainty and densities --------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 16])
def test_ellipse_of_isotropic_gaussian_is_circle(d):
    proj = latent.fit_projection(_rng(7).normal(size=(50, d)))
    z_mean = _rng(8).normal(size=d)
    std = 0.3
    poly = latent.posterior_ellipse(proj, z_mean, np.full(d, 2 * np.log(std)), n_std=2.0)
    assert poly.shape == (49, 2)
    np.testing.assert_array_equal(poly[0], poly[-1])
    centre = latent.project(proj, z_mean)[0]
    np.testing.assert_allclose(np.linalg.norm(poly - centre, axis=1), 2.0 * std, rtol=1e-9)


@pytest.mark.parametrize("d", [1, 2, 8])
def test_standard_normal_density_at_origin(d):
    value = latent.prior_log_density(np.zeros((1, d)))
    assert value[0] == pytest.approx(-d / 2 * np.log(2 * np.pi))


def test_one_component_mixture_equals_that_gaussian():
    rng = _rng(9)
    points = rng.normal(size=(20, 3))
    mean, log_var = np.array([1.0, -1.0, 0.5]), np.array([0.2, -0.5, 1.0])
    expected = -0.5 * np.sum(
        np.log(2 * np.pi) + log_var + (points - mean) ** 2 / np.exp(log_var), axis=1
    )
    got = latent.prior_log_density(points, [1.0], mean[None], log_var[None])
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    standard = latent.prior_log_density(points, [0.5, 0.5], np.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_allclose(standard, latent.prior_log_density(points), rtol=1e-9)
    with pytest.raises(ValueError, match="all of"):
        latent.prior_log_density(points, weights=[1.0])


def test_aggregate_posterior_density():
    rng = _rng(10)
    z_mean = rng.normal(size=(50, 2))
    z_log_var = np.full((50, 2), -2.0)
    points = rng.normal(size=(7, 2))
    full = latent.aggregate_posterior_log_density(points, z_mean, z_log_var)
    expected = latent.prior_log_density(points, np.ones(50), z_mean, z_log_var)
    np.testing.assert_allclose(full, expected, rtol=1e-9)
    sub = latent.aggregate_posterior_log_density(points, z_mean, z_log_var, max_components=10)
    again = latent.aggregate_posterior_log_density(points, z_mean, z_log_var, max_components=10)
    np.testing.assert_array_equal(sub, again)  # deterministic subsample
    assert np.all(np.isfinite(sub))
