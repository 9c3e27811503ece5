"""Unit tests for vae_core.geometry: tiny synthetic latents, no TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vae_core import geometry


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("module", ["vae_core.geometry", "vae_core.density"])
def test_module_does_not_import_tensorflow(module):
    code = f"import sys, {module}; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


@pytest.mark.parametrize("path", ["linear", "spherical"])
@pytest.mark.parametrize("d", [1, 2, 16])
def test_interpolate_endpoints_are_exact(path, d):
    a, b = _rng(d).normal(size=(2, d))
    out = geometry.interpolate(a, b, 7, path=path)
    assert out.shape == (7, d)
    assert np.array_equal(out[0], a) and np.array_equal(out[-1], b)


def test_linear_interpolation_midpoint():
    out = geometry.interpolate([0.0, 0.0], [2.0, 4.0], 3)
    np.testing.assert_allclose(out[1], [1.0, 2.0])


def test_spherical_path_keeps_norm_of_equal_norm_endpoints():
    a, b = _rng(1).normal(size=(2, 16))
    b = b / np.linalg.norm(b) * np.linalg.norm(a)
    out = geometry.interpolate(a, b, 9, path="spherical")
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(a), rtol=1e-9)
    # while the straight segment cuts inside the sphere
    mid = geometry.interpolate(a, b, 9, path="linear")[4]
    assert np.linalg.norm(mid) < np.linalg.norm(a) - 1e-3


@pytest.mark.parametrize(
    "a, b", [([0.0, 0.0], [1.0, 2.0]), ([1.0, 1.0], [2.0, 2.0]), ([1.0, 0.0], [-3.0, 0.0])]
)
def test_spherical_falls_back_to_linear_when_degenerate(a, b):
    out = geometry.interpolate(a, b, 5, path="spherical")
    np.testing.assert_allclose(out, geometry.interpolate(a, b, 5, path="linear"))
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("steps", [1, 33, 0, -2, 2.5, True])
def test_interpolate_rejects_steps_out_of_range(steps):
    with pytest.raises(ValueError, match="steps"):
        geometry.interpolate([0.0], [1.0], steps)


def test_interpolate_rejects_unknown_path_and_shape_mismatch():
    with pytest.raises(ValueError, match="path"):
        geometry.interpolate([0.0], [1.0], 4, path="geodesic")
    with pytest.raises(ValueError, match="length"):
        geometry.interpolate([0.0, 1.0], [1.0], 4)


def test_class_centroids_and_missing_class():
    z = np.array([[0.0, 0.0], [2.0, 2.0], [10.0, 0.0]])
    labels = np.array([0, 0, 1])
    np.testing.assert_allclose(geometry.class_centroids(z, labels, n_classes=2), [[1, 1], [10, 0]])
    with pytest.raises(ValueError, match=r"\[2\]"):
        geometry.class_centroids(z, labels, n_classes=3)


def test_nearest_neighbours_on_hand_example():
    z = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0], [0.0, -2.0]])
    idx, dist = geometry.nearest_neighbours(z, [0.0, 0.0], 3)
    assert idx.tolist() == [0, 2, 3]
    np.testing.assert_allclose(dist, [0.0, 1.0, 2.0])
    idx, dist = geometry.nearest_neighbours(z, [0.0, 0.0], 10)  # k clipped to N
    assert idx.tolist() == [0, 2, 3, 1] and dist[-1] == pytest.approx(5.0)


def test_class_shares():
    shares = geometry.class_shares([0, 0, 1, 3], n_classes=4)
    np.testing.assert_allclose(shares, [0.5, 0.25, 0.0, 0.25])
    assert shares.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_classes"):
        geometry.class_shares([0, 5], n_classes=4)


def test_rejects_nan_latents():
    with pytest.raises(ValueError, match="NaN"):
        geometry.fit_projection(np.array([[0.0, np.nan]]))


def test_projection_is_identity_for_two_dims():
    z = _rng(3).normal(size=(50, 2)) + 3.0
    proj = geometry.fit_projection(z)
    np.testing.assert_array_equal(proj.mean, [0, 0])
    np.testing.assert_array_equal(proj.components, np.eye(2))
    np.testing.assert_allclose(geometry.project(proj, z), z)
    np.testing.assert_allclose(geometry.lift(proj, z), z)


@pytest.mark.parametrize("d", [2, 16, 200])
def test_projection_round_trip(d):
    rng = _rng(d)
    z = rng.normal(size=(300, d)) * np.linspace(3.0, 0.5, d)
    proj = geometry.fit_projection(z)
    np.testing.assert_allclose(proj.components @ proj.components.T, np.eye(2), atol=1e-9)
    xy = rng.normal(size=(10, 2))
    base = rng.normal(size=d)
    np.testing.assert_allclose(geometry.project(proj, geometry.lift(proj, xy, base)), xy, atol=1e-6)
    np.testing.assert_allclose(geometry.project(proj, geometry.lift(proj, xy)), xy, atol=1e-6)


def test_pca_finds_main_axis_with_deterministic_sign():
    rng = _rng(4)
    z = np.zeros((200, 5))
    z[:, 3] = rng.normal(0, 5.0, 200)
    z[:, 1] = rng.normal(0, 1.0, 200)
    proj = geometry.fit_projection(z)
    np.testing.assert_allclose(np.abs(proj.components[0]), np.eye(5)[3], atol=1e-2)
    assert proj.components[0, 3] > 0 and proj.components[1, 1] > 0
    assert proj.explained_variance_ratio[0] > 0.9
    again = geometry.fit_projection(-z)  # flipping the data must not flip the axes
    np.testing.assert_allclose(again.components, proj.components, atol=1e-9)


def test_lift_keeps_base_orthogonal_component():
    rng = _rng(5)
    z = rng.normal(size=(100, 16))
    proj = geometry.fit_projection(z)
    base = rng.normal(size=16)
    point = geometry.lift(proj, [[0.5, -1.0]], base)[0]

    def residual(p):  # the part of p off the map plane
        return (p - proj.mean) - proj.components.T @ (proj.components @ (p - proj.mean))

    np.testing.assert_allclose(residual(point), residual(base), atol=1e-9)


def test_projection_of_one_dim_latents():
    z = np.array([[-1.0], [0.0], [2.0]])
    proj = geometry.fit_projection(z)
    np.testing.assert_allclose(geometry.project(proj, z), [[-1, 0], [0, 0], [2, 0]])
    np.testing.assert_allclose(geometry.lift(proj, [[1.5, 7.0]]), [[1.5]])  # y ignored


def test_grid_is_in_image_order():
    grid = geometry.grid((-1.0, 1.0), (-2.0, 2.0), 3)
    assert grid.shape == (9, 2)
    rows = grid.reshape(3, 3, 2)
    assert np.all(rows[0, :, 1] == 2.0) and np.all(rows[-1, :, 1] == -2.0)  # top row = max y
    np.testing.assert_allclose(rows[0, :, 0], [-1.0, 0.0, 1.0])  # left to right
    assert grid[:, 0].min() == -1.0 and grid[:, 1].min() == -2.0  # the limits are included
    np.testing.assert_allclose(geometry.grid((0, 2), (0, 4), 1), [[1.0, 2.0]])


@pytest.mark.parametrize("n", [0, geometry.MAX_GRID + 1])
def test_grid_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        geometry.grid((0, 1), (0, 1), n)


def test_map_limits_ignore_outliers():
    xy = np.column_stack([np.linspace(0, 1, 2001), np.zeros(2001)])
    xy[0] = [1e6, 1e6]
    (x0, x1), (y0, y1) = geometry.map_limits(xy, pad=0.0, quantile=0.001)
    assert -0.01 < x0 < 0.01 and 0.99 < x1 < 1.01
    assert y0 < 0.0 < y1  # flat axis still gets a range


def test_slider_ranges_and_clip():
    z = np.array([[0.0, 5.0], [2.0, 5.0]])
    low, high = geometry.slider_ranges(z, n_std=2.0)
    np.testing.assert_allclose(low, [-1.0, 3.0])  # constant dim gets std 1
    np.testing.assert_allclose(high, [3.0, 7.0])
    np.testing.assert_allclose(geometry.clip_to_ranges([9.0, 0.0], low, high), [3.0, 3.0])


def test_principal_coeffs_round_trip():
    rng = _rng(6)
    z = rng.normal(size=(100, 32)) * np.linspace(2.0, 0.1, 32)
    mean, comps, std = geometry.principal_directions(z, 4)
    assert comps.shape == (4, 32) and std.shape == (4,)
    assert np.all(np.diff(std) <= 0) and std[0] > 1.0
    np.testing.assert_allclose(comps @ comps.T, np.eye(4), atol=1e-9)
    coeffs = np.array([1.0, -2.0, 0.5, 0.0])
    point = mean + coeffs @ comps
    np.testing.assert_allclose(geometry.principal_coeffs(mean, comps, point), coeffs, atol=1e-9)


@pytest.mark.parametrize("d", [2, 16])
def test_ellipse_of_isotropic_gaussian_is_circle(d):
    proj = geometry.fit_projection(_rng(7).normal(size=(50, d)))
    z_mean = _rng(8).normal(size=d)
    std = 0.3
    poly = geometry.posterior_ellipse(proj, z_mean, np.full(d, 2 * np.log(std)), n_std=2.0)
    assert poly.shape == (49, 2)
    np.testing.assert_array_equal(poly[0], poly[-1])
    centre = geometry.project(proj, z_mean)[0]
    np.testing.assert_allclose(np.linalg.norm(poly - centre, axis=1), 2.0 * std, rtol=1e-9)


def test_a_click_on_a_point_selects_it():
    z = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    proj = geometry.fit_projection(z)
    index, point = geometry.click_to_latent(
        proj, geometry.project(proj, z), (1.02, 0.99), (0.01, 0.01), z[0], z
    )
    assert index == 1 and point == pytest.approx([1.0, 1.0])


def test_a_click_on_empty_space_decodes_that_exact_spot_in_2d():
    z = np.array([[0.0, 0.0], [1.0, 1.0]])
    proj = geometry.fit_projection(z)
    index, point = geometry.click_to_latent(proj, z, (0.5, 0.25), (0.01, 0.01), z[0], z)
    assert index is None and point == pytest.approx([0.5, 0.25])


def test_hidden_points_are_not_selected():
    z = np.array([[0.0, 0.0], [1.0, 1.0]])
    proj = geometry.fit_projection(z)
    index, point = geometry.click_to_latent(
        proj, z, (1.0, 1.0), (0.01, 0.01), z[0], z, visible=np.array([True, False])
    )
    assert index is None and point == pytest.approx([1.0, 1.0])


def test_the_snap_radius_is_in_screen_pixels():
    z = np.array([[0.0, 0.0]])
    proj = geometry.fit_projection(np.array([[0.0, 0.0], [1.0, 1.0]]))
    # 0.05 map units away: 5 px at 0.01 units/px (selected), 10 px at 0.005 units/px (not).
    assert geometry.click_to_latent(proj, z, (0.05, 0.0), (0.01, 0.01), z[0], z)[0] == 0
    assert geometry.click_to_latent(proj, z, (0.05, 0.0), (0.005, 0.005), z[0], z)[0] is None


def test_in_5d_an_empty_click_lands_on_the_map_spot_and_keeps_the_rest_of_the_point():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((50, 5)) * [3.0, 2.0, 1.0, 0.5, 0.1]
    proj = geometry.fit_projection(z)
    base = z[3]
    index, point = geometry.click_to_latent(
        proj, geometry.project(proj, z), (10.0, -10.0), (0.01, 0.01), base, z
    )
    assert index is None
    assert geometry.project(proj, point)[0] == pytest.approx([10.0, -10.0])
    off_plane = lambda v: (v - proj.mean) - ((v - proj.mean) @ proj.components.T) @ proj.components  # noqa: E731
    assert off_plane(point) == pytest.approx(off_plane(base))


def test_default_region_is_centred_on_the_prior_mean():
    z = np.random.default_rng(1).standard_normal((100, 4)) + 3.0
    proj = geometry.fit_projection(z)
    (x0, x1), (y0, y1) = geometry.default_region(proj, 2.5)
    centre = geometry.project(proj, np.zeros(4))[0]
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx(tuple(centre)) and x1 - x0 == pytest.approx(5.0)


# --- gaps and overlaps -----------------------------------------------------------------------------


def test_widest_gap_finds_the_hole_inside_a_ring_not_the_space_outside():
    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 3.0
    fill = np.random.default_rng(0).uniform(-3, 3, (3000, 2))
    fill = fill[np.linalg.norm(fill, axis=1) > 1.5]  # a disc with a hole of radius 1.5 at (0, 0)
    spot, distance = geometry.widest_gap(np.vstack([ring, fill]), bulk=1.0)
    assert np.linalg.norm(spot) < 0.3
    assert distance == pytest.approx(1.5, abs=0.2)


def test_closest_pair_returns_the_nearest_points_of_two_classes():
    z = np.array([[0.0, 0.0], [5.0, 5.0], [0.1, 0.0], [9.0, 9.0]])
    labels = np.array([0, 0, 6, 6])
    assert geometry.closest_pair(z, labels, 0, 6) == (0, 2, pytest.approx(0.1))
    with pytest.raises(ValueError, match="both need points"):
        geometry.closest_pair(z, labels, 0, 3)


def test_neighbour_purity_is_one_for_separate_clusters_and_low_for_mixed_ones():
    rng = np.random.default_rng(1)
    apart = np.vstack([rng.normal(0, 0.1, (50, 2)), rng.normal(10, 0.1, (50, 2))])
    mixed = rng.normal(0, 1, (100, 2))
    labels = np.repeat([0, 1], 50)
    assert geometry.neighbour_purity(apart, labels)[:2] == pytest.approx([1.0, 1.0])
    assert np.all(geometry.neighbour_purity(mixed, labels)[:2] < 0.75)
    assert np.isnan(geometry.neighbour_purity(apart, labels)[5])
