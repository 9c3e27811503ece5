"""Latent helpers the app relies on: click mapping, prior samples, percentiles, regions."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.latent import click_to_latent, default_region, percentile_of, sample_prior
from vae_core import latent
from vae_core.evaluate import Prior


def test_a_click_on_a_point_selects_it():
    z = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    proj = latent.fit_projection(z)
    index, point = click_to_latent(proj, latent.project(proj, z), (1.02, 0.99), (0.01, 0.01), z[0], z)
    assert index == 1 and point == pytest.approx([1.0, 1.0])


def test_a_click_on_empty_space_decodes_that_exact_spot_in_2d():
    z = np.array([[0.0, 0.0], [1.0, 1.0]])
    proj = latent.fit_projection(z)
    index, point = click_to_latent(proj, z, (0.5, 0.25), (0.01, 0.01), z[0], z)
    assert index is None and point == pytest.approx([0.5, 0.25])


def test_hidden_points_are_not_selected():
    z = np.array([[0.0, 0.0], [1.0, 1.0]])
    proj = latent.fit_projection(z)
    index, point = click_to_latent(proj, z, (1.0, 1.0), (0.01, 0.01), z[0], z, visible=np.array([True, False]))
    assert index is None and point == pytest.approx([1.0, 1.0])


def test_the_snap_radius_is_in_screen_pixels():
    z = np.array([[0.0, 0.0]])
    proj = latent.fit_projection(np.array([[0.0, 0.0], [1.0, 1.0]]))
    # 0.05 map units away: 5 px at 0.01 units/px (selected), 10 px at 0.005 units/px (not).
    assert click_to_latent(proj, z, (0.05, 0.0), (0.01, 0.01), z[0], z)[0] == 0
    assert click_to_latent(proj, z, (0.05, 0.0), (0.005, 0.005), z[0], z)[0] is None


def test_in_5d_an_empty_click_lands_on_the_map_spot_and_keeps_the_rest_of_the_point():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((50, 5)) * [3.0, 2.0, 1.0, 0.5, 0.1]
    proj = latent.fit_projection(z)
    base = z[3]
    index, point = click_to_latent(proj, latent.project(proj, z), (10.0, -10.0), (0.01, 0.01), base, z)
    assert index is None
    assert latent.project(proj, point)[0] == pytest.approx([10.0, -10.0])
    off_plane = lambda v: (v - proj.mean) - ((v - proj.mean) @ proj.components.T) @ proj.components  # noqa: E731
    assert off_plane(point) == pytest.approx(off_plane(base))


def test_standard_normal_samples_are_seeded_and_standard():
    a, b = sample_prior(None, 3, 4000, seed=5), sample_prior(None, 3, 4000, seed=5)
    assert a.shape == (4000, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, sample_prior(None, 3, 4000, seed=6))
    assert a.mean(axis=0) == pytest.approx(0.0, abs=0.06) and a.std(axis=0) == pytest.approx(1.0, abs=0.05)


def test_mixture_samples_come_from_the_components():
    prior = Prior(np.array([0.25, 0.75]), np.array([[-10.0, 0.0], [10.0, 0.0]]), np.full((2, 2), -4.0))
    s = sample_prior(prior, 2, 4000, seed=0)
    near_right = np.mean(s[:, 0] > 0)
    assert near_right == pytest.approx(0.75, abs=0.03)
    assert np.all(np.abs(np.abs(s[:, 0]) - 10.0) < 1.0)


def test_percentile_of():
    sample = np.arange(100.0)
    assert percentile_of(50.0, sample) == 0.5 and percentile_of(1000.0, sample) == 1.0 and percentile_of(-1, sample) == 0.0


def test_default_region_is_centred_on_the_prior_mean():
    z = np.random.default_rng(1).standard_normal((100, 4)) + 3.0
    proj = latent.fit_projection(z)
    (x0, x1), (y0, y1) = default_region(proj, 2.5)
    centre = latent.project(proj, np.zeros(4))[0]
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx(tuple(centre)) and x1 - x0 == pytest.approx(5.0)
