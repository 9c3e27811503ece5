""" "Inside the VAE": the numbers one image's trip shows are the model's own, and they add up
(vae_core.evaluate.image_trip, one encode per image)."""

import numpy as np
import pytest

from app import explorer as explorer_module
from app.explorer import BACKGROUND_GRID
from app.resources import open_explorer
from tests.conftest import make_bundle
from vae_core.evaluate import elbo_terms, pixel_entropy


class CountingNetworks:
    """The explorer's networks, counting how often each runs."""

    def __init__(self, networks):
        self.inner, self.encodes, self.decodes = networks, 0, 0
        self.latent_dim, self.image_shape = networks.latent_dim, networks.image_shape

    def encode(self, images):
        self.encodes += 1
        return self.inner.encode(images)

    def decode_logits(self, z):
        self.decodes += 1
        return self.inner.decode_logits(z)


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    path = make_bundle(
        tmp_path_factory.mktemp("a") / "b", latent_dim=3, test_images=True, browser_models=True
    )
    return open_explorer(path, publish=False)


@pytest.mark.parametrize("seed", [0, 7])
def test_the_shown_reconstruction_and_kl_add_up_to_evaluates_neg_elbo(explorer, seed):
    pixels = explorer.images[5] / 255.0
    trip = explorer.trip(pixels, seed=seed)
    recon, kl = elbo_terms(
        explorer.networks, pixels[None].astype(np.float32), explorer.bundle.prior, seed=seed
    )
    assert trip.recon_nats == pytest.approx(float(recon[0]), rel=1e-5)
    assert trip.kl_nats == pytest.approx(float(kl[0]), rel=1e-5)
    assert trip.neg_elbo == pytest.approx(float(recon[0] + kl[0]), rel=1e-5)
    assert trip.kl_per_dim.sum() == pytest.approx(trip.kl_nats, rel=1e-5, abs=1e-4)


def test_one_image_is_encoded_once_and_decoded_in_one_call(explorer):
    counting = CountingNetworks(explorer.networks)
    from vae_core.evaluate import image_trip

    image_trip(counting, explorer.images[4] / 255.0, samples=16, seed=2)
    assert (counting.encodes, counting.decodes) == (1, 1)


def test_samples_follow_the_reparameterisation_and_the_first_is_the_scored_one(explorer):
    pixels = explorer.images[3] / 255.0
    trip = explorer.trip(pixels, samples=16, seed=3)
    assert trip.z.shape == trip.eps.shape == (16, 3)
    np.testing.assert_allclose(trip.z, trip.mu + trip.sigma * trip.eps, rtol=1e-6)
    mu, log_var = explorer.networks.encode(pixels[None])
    np.testing.assert_allclose(trip.mu, mu[0], rtol=1e-6)
    np.testing.assert_allclose(trip.sigma, np.exp(0.5 * log_var[0]), rtol=1e-6)
    # The scored draw: elbo_terms takes the first d normals of default_rng(seed).
    first = np.random.default_rng(3).standard_normal((1, 3)).astype(np.float32)
    np.testing.assert_allclose(trip.eps[0], first[0], rtol=1e-6)
    np.testing.assert_allclose(trip.sample_decodes[0], explorer.decode(trip.z[0])[0], atol=1e-5)
    np.testing.assert_allclose(trip.reconstruction, explorer.decode(trip.mu)[0], atol=1e-5)


def test_resampling_draws_new_samples_but_keeps_mu_and_sigma(explorer):
    pixels = explorer.images[1] / 255.0
    a, b = explorer.trip(pixels, seed=0), explorer.trip(pixels, seed=1)
    np.testing.assert_allclose(a.mu, b.mu)
    assert not np.allclose(a.z, b.z)


def test_map_facts_name_a_hole_and_the_two_classes_the_map_confuses_most(explorer):
    facts = explorer.map_facts
    labels = explorer.bundle.labels
    a, b = facts.classes
    assert a != b and labels[facts.pair[0]] == a and labels[facts.pair[1]] == b
    assert facts.gap_distance > 0
    np.testing.assert_allclose(explorer.map.to_map(facts.gap_z)[0], facts.gap_xy, atol=1e-9)
    assert facts.purity.shape == (10,) and np.all((facts.purity >= 0) & (facts.purity <= 1))


def test_the_floor_is_the_pixels_own_entropy_and_no_decoder_beats_it(explorer):
    assert pixel_entropy(np.zeros((1, 28, 28))) == pytest.approx(0.0, abs=1e-6)
    assert pixel_entropy(np.full((1, 28, 28), 0.5)) == pytest.approx(784 * np.log(2))
    trip = explorer.trip(explorer.images[2] / 255.0)
    assert trip.recon_nats >= trip.floor_nats
    assert explorer.floor_nats == pytest.approx(float(pixel_entropy(explorer.images / 255.0).mean()))


def test_warming_computes_the_references_once_in_a_thread_of_its_own(tmp_path, monkeypatch):
    path = make_bundle(tmp_path / "w", latent_dim=2, test_images=True, browser_models=True)
    warm = open_explorer(path, publish=False)
    counting = CountingNetworks(warm.networks)
    warm.networks = counting
    warm.warm_in_background()
    warm.warm_in_background()  # a second call starts nothing
    warm._warming.join(timeout=60)
    assert not warm._warming.is_alive()
    runs = counting.decodes
    assert runs > 0  # the references were computed in the thread...
    _ = warm.share_below(100.0), warm.reconstruction_rms
    assert counting.decodes == runs  # ...and a click then finds them
    # the map's aggregate posterior background too: computed there, found by the map
    monkeypatch.setattr(explorer_module, "aggregate_posterior_log_density", _not_again)
    xs, ys, logp = warm.density_background("aggregate")
    assert logp.shape == (BACKGROUND_GRID, BACKGROUND_GRID) and np.isfinite(logp).all()
    assert warm.density_background("aggregate")[2] is logp


def _not_again(*args, **kwargs):
    raise AssertionError("computed again")
