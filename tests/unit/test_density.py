"""Unit tests for vae_core.density: the prior, the aggregate posterior and prior samples."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core import density
from vae_core.density import Prior


@pytest.mark.parametrize("d", [1, 2, 8])
def test_standard_normal_density_at_origin(d):
    value = density.prior_log_density(np.zeros((1, d)))
    assert value[0] == pytest.approx(-d / 2 * np.log(2 * np.pi))


def test_one_component_mixture_equals_that_gaussian():
    rng = np.random.default_rng(9)
    points = rng.normal(size=(20, 3))
    mean, log_var = np.array([1.0, -1.0, 0.5]), np.array([0.2, -0.5, 1.0])
    expected = -0.5 * np.sum(np.log(2 * np.pi) + log_var + (points - mean) ** 2 / np.exp(log_var), axis=1)
    got = density.prior_log_density(points, Prior(np.array([1.0]), mean[None], log_var[None]))
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    two_standard = Prior(np.array([0.5, 0.5]), np.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_allclose(
        density.prior_log_density(points, two_standard), density.prior_log_density(points), rtol=1e-9
    )
    with pytest.raises(ValueError, match="weights"):
        density.prior_log_density(points, Prior(np.array([-1.0, 0.0]), np.zeros((2, 3)), np.zeros((2, 3))))


def test_aggregate_posterior_density():
    rng = np.random.default_rng(10)
    z_mean = rng.normal(size=(50, 2))
    z_log_var = np.full((50, 2), -2.0)
    points = rng.normal(size=(7, 2))
    full = density.aggregate_posterior_log_density(points, z_mean, z_log_var)
    expected = density.prior_log_density(points, Prior(np.ones(50), z_mean, z_log_var))
    np.testing.assert_allclose(full, expected, rtol=1e-9)
    sub = density.aggregate_posterior_log_density(points, z_mean, z_log_var, max_components=10)
    again = density.aggregate_posterior_log_density(points, z_mean, z_log_var, max_components=10)
    np.testing.assert_array_equal(sub, again)  # deterministic subsample
    assert np.all(np.isfinite(sub))


def test_standard_normal_samples_are_seeded_and_standard():
    a, b = density.sample_prior(None, 3, 4000, seed=5), density.sample_prior(None, 3, 4000, seed=5)
    assert a.shape == (4000, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, density.sample_prior(None, 3, 4000, seed=6))
    assert a.mean(axis=0) == pytest.approx(0.0, abs=0.06) and a.std(axis=0) == pytest.approx(1.0, abs=0.05)


def test_mixture_samples_come_from_the_components():
    prior = Prior(np.array([0.25, 0.75]), np.array([[-10.0, 0.0], [10.0, 0.0]]), np.full((2, 2), -4.0))
    s = density.sample_prior(prior, 2, 4000, seed=0)
    near_right = np.mean(s[:, 0] > 0)
    assert near_right == pytest.approx(0.75, abs=0.03)
    assert np.all(np.abs(np.abs(s[:, 0]) - 10.0) < 1.0)


def test_highest_density_share_names_the_regions_that_hold_each_share_of_the_mass():
    # four cells with masses 4, 3, 2, 1 (of 10): the densest holds 40%, the two densest 70%, ...
    logp = np.log(np.array([[1.0, 4.0], [3.0, 2.0]])) - 7.0  # any offset
    share = density.highest_density_share(logp)
    np.testing.assert_allclose(share, [[1.0, 0.4], [0.7, 0.9]])
    assert density.highest_density_share(np.array([0.0, -np.inf]))[1] == 1.0
    with pytest.raises(ValueError):
        density.highest_density_share(np.array([np.nan, 0.0]))


def test_a_blurred_aggregate_posterior_is_smooth_between_narrow_posteriors():
    # two codes 1 apart, each sure to 0.01: unblurred, the midpoint is empty; blurred by 0.5, it is not
    z_mean, z_log_var = np.array([[0.0, 0.0], [1.0, 0.0]]), np.full((2, 2), 2 * np.log(0.01))
    mid, on = np.array([[0.5, 0.0]]), np.array([[0.0, 0.0]])
    sharp = density.aggregate_posterior_log_density(np.vstack([mid, on]), z_mean, z_log_var)
    soft = density.aggregate_posterior_log_density(np.vstack([mid, on]), z_mean, z_log_var, blur=0.5)
    assert sharp[1] - sharp[0] > 1000 and soft[1] - soft[0] < 1.0
    with pytest.raises(ValueError):
        density.aggregate_posterior_log_density(mid, z_mean, z_log_var, blur=-1.0)
