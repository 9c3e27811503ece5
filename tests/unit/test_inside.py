""" "Inside the VAE": the numbers the lesson shows are the model's own, and they add up."""

import numpy as np
import pytest

from app.explorer import open_explorer
from tests.conftest import make_bundle
from vae_core.evaluate import elbo_terms


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    return open_explorer(make_bundle(tmp_path_factory.mktemp("a") / "b", latent_dim=3, test_images=True))


@pytest.mark.parametrize("seed", [0, 7])
def test_the_shown_reconstruction_and_kl_add_up_to_evaluates_neg_elbo(explorer, seed):
    pixels = explorer.images[5] / 255.0
    inside = explorer.inside(pixels, seed=seed)
    recon, kl = elbo_terms(
        explorer.bundle.encoder,
        explorer.bundle.decoder,
        pixels.reshape(1, 28, 28, 1).astype(np.float32),
        explorer.bundle.prior,
        seed=seed,
    )
    assert inside.recon_nats == pytest.approx(float(recon[0]), rel=1e-5)
    assert inside.kl_nats == pytest.approx(float(kl[0]), rel=1e-5)
    assert inside.neg_elbo == pytest.approx(float(recon[0] + kl[0]), rel=1e-5)
    assert inside.kl_per_dim.sum() == pytest.approx(inside.kl_nats, rel=1e-5, abs=1e-4)


def test_samples_follow_the_reparameterisation_and_the_first_is_the_scored_one(explorer):
    pixels = explorer.images[3] / 255.0
    inside = explorer.inside(pixels, samples=16, seed=3)
    assert inside.z.shape == inside.eps.shape == (16, 3)
    np.testing.assert_allclose(inside.z, inside.mu + inside.sigma * inside.eps, rtol=1e-6)
    mu, log_var = explorer.bundle.encode(pixels)
    np.testing.assert_allclose(inside.mu, mu[0], rtol=1e-6)
    np.testing.assert_allclose(inside.sigma, np.exp(0.5 * log_var[0]), rtol=1e-6)
    # The scored draw: elbo_terms takes the first d normals of default_rng(seed).
    first = np.random.default_rng(3).standard_normal((1, 3)).astype(np.float32)
    np.testing.assert_allclose(inside.eps[0], first[0], rtol=1e-6)
    np.testing.assert_allclose(inside.sample_decodes[0], explorer.decode(inside.z[0])[0], atol=1e-5)
    np.testing.assert_allclose(inside.reconstruction, explorer.decode(inside.mu)[0], atol=1e-5)


def test_resampling_draws_new_samples_but_keeps_mu_and_sigma(explorer):
    pixels = explorer.images[1] / 255.0
    a, b = explorer.inside(pixels, seed=0), explorer.inside(pixels, seed=1)
    np.testing.assert_allclose(a.mu, b.mu)
    assert not np.allclose(a.z, b.z)


def test_map_facts_name_a_hole_and_a_t_shirt_shirt_pair(explorer):
    facts = explorer.map_facts
    assert explorer.labels[facts.pair[0]] == 0 and explorer.labels[facts.pair[1]] == 6
    assert facts.gap_distance > 0
    np.testing.assert_allclose(explorer.to_map(facts.gap_z)[0], facts.gap_xy, atol=1e-9)
    assert facts.purity.shape == (10,) and np.all((facts.purity >= 0) & (facts.purity <= 1))


def test_the_floor_is_the_pixels_own_entropy_and_no_decoder_beats_it(explorer):
    from app.explorer import pixel_entropy

    assert pixel_entropy(np.zeros((28, 28))) == pytest.approx(0.0, abs=1e-6)
    assert pixel_entropy(np.full((28, 28), 0.5)) == pytest.approx(784 * np.log(2))
    inside = explorer.inside(explorer.images[2] / 255.0)
    assert inside.recon_nats >= inside.floor_nats
