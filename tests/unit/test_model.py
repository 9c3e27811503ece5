import math

import numpy as np
import pytest

from vae_core.config import VAEConfig
from vae_core.model import (
    bernoulli_nll,
    build_decoder,
    build_encoder,
    build_vae,
    gaussian_log_density,
    kl_standard_normal,
    logits_model,
    mixture_log_density,
    mse_loss,
    neighbour_loss,
)


@pytest.mark.parametrize("preset", ["default", "conv", "keras-io", "beta-vae-seed", "mlp"])
@pytest.mark.parametrize("latent_dim", [1, 2, 16, 200])
def test_encoder_and_decoder_shapes(preset, latent_dim):
    config = VAEConfig(preset=preset, latent_dim=latent_dim, width=16)
    z_mean, z_log_var = build_encoder(config)(np.zeros((3, 28, 28, 1), np.float32))
    assert z_mean.shape == z_log_var.shape == (3, latent_dim)
    images = np.asarray(
        build_decoder(config)(np.random.default_rng(0).standard_normal((3, latent_dim)).astype("float32"))
    )
    assert images.shape == (3, 28, 28, 1)
    assert images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("preset", ["default", "conv", "keras-io", "beta-vae-seed", "mlp"])
def test_every_preset_scores_a_batch(preset):
    """The loss uses the decoder's "logits" layer: it must be image-shaped for every preset."""
    vae = build_vae(VAEConfig(preset=preset, width=8))
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    recon, kl = vae.per_image_losses(images)
    assert np.asarray(recon).shape == np.asarray(kl).shape == (4,)
    assert np.all(np.isfinite(recon)) and np.all(np.asarray(recon) > 0)


def test_reference_architectures_match_keras_io():
    enc, dec = build_encoder(VAEConfig(preset="keras-io")), build_decoder(VAEConfig(preset="keras-io"))
    convs = [
        (layer.filters, layer.strides[0]) for layer in enc.layers if layer.__class__.__name__ == "Conv2D"
    ]
    assert convs == [(32, 2), (64, 2)]
    assert [layer.units for layer in enc.layers if layer.__class__.__name__ == "Dense"] == [16, 2, 2]
    # keras.io: 69,076 encoder + 65,089 decoder parameters for latent_dim 2
    assert (enc.count_params(), dec.count_params()) == (69076, 65089)


def test_bernoulli_nll_matches_a_hand_computation():
    x = np.array([0.2, 1.0, 0.0], np.float32).reshape(1, 1, 3, 1)
    logits = np.array([0.5, -1.0, 2.0], np.float32).reshape(1, 1, 3, 1)
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p))
    assert float(bernoulli_nll(x, logits)[0]) == pytest.approx(expected, rel=1e-5)
    assert float(mse_loss(x, logits)[0]) == pytest.approx(np.mean((x - p) ** 2), rel=1e-5)


def test_kl_matches_a_hand_computation():
    # dim 0: mean 1, var 1 -> 0.5; dim 1: mean 0, var 4 -> 0.5 * (4 - 1 - log 4)
    kl = kl_standard_normal(np.array([[1.0, 0.0]], np.float32), np.array([[0.0, math.log(4)]], np.float32))
    assert float(kl[0]) == pytest.approx(0.5 + 0.5 * (3 - math.log(4)), rel=1e-5)


def test_gaussian_and_one_component_mixture_agree():
    z = np.array([[0.3, -1.2]], np.float32)
    mean, log_var = np.array([[0.1, 0.2]], np.float32), np.array([[0.5, -0.5]], np.float32)
    expected = -0.5 * np.sum(np.log(2 * np.pi) + log_var + (z - mean) ** 2 / np.exp(log_var))
    assert float(gaussian_log_density(z, mean, log_var)[0]) == pytest.approx(expected, rel=1e-5)
    mixture = mixture_log_density(z, np.zeros(1, np.float32), mean, log_var)
    assert float(mixture[0]) == pytest.approx(expected, rel=1e-5)


def test_logits_model_shares_weights_with_the_decoder():
    decoder = build_decoder(VAEConfig(width=16))
    z = np.ones((2, 2), np.float32)
    logits = np.asarray(logits_model(decoder)(z))
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), np.asarray(decoder(z)), rtol=1e-5, atol=1e-6)


def test_vae_losses_are_per_image_and_finite(images):
    vae = build_vae(VAEConfig(width=16, prior_components=3))
    recon, kl = vae.per_image_losses(images[:8])
    assert recon.shape == kl.shape == (8,)
    assert np.isfinite(np.asarray(recon)).all() and np.isfinite(np.asarray(kl)).all()


def test_neighbour_loss_matches_a_hand_computation():
    z = np.array([[0, 0], [3, 0], [0.1, 0], [0, 2]], np.float32)  # anchors 0, 1; partners 2, 3
    scale = 0.5
    sim = 1 / (1 + np.sum((z[:2, None] - z[None]) ** 2, axis=-1) / scale**2)  # (2, 4)
    expected = [np.log(sim[i].sum() - sim[i, i]) - np.log(sim[i, 2 + i]) for i in range(2)]
    np.testing.assert_allclose(np.asarray(neighbour_loss(z, scale)), expected, rtol=1e-5)


def test_neighbour_loss_is_lower_when_partners_are_close():
    rng = np.random.default_rng(0)
    anchors = rng.standard_normal((32, 2)).astype(np.float32)
    close = np.concatenate([anchors, anchors + 0.01])
    far = np.concatenate([anchors, rng.standard_normal((32, 2)).astype(np.float32)])
    assert float(np.mean(neighbour_loss(close, 0.1))) < float(np.mean(neighbour_loss(far, 0.1)))


def test_a_train_step_on_image_pairs_logs_the_neighbour_term(images):
    import keras

    vae = build_vae(VAEConfig(width=16, neighbour_weight=1.0))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = vae.train_step((images[:4], images[4:8]))
    assert {"loss", "recon", "kl", "neighbour"} <= set(logs)
    assert np.isfinite(float(logs["neighbour"]))
    assert "neighbour" not in vae.test_step(images[:4])


def test_a_deterministic_encoder_is_a_point_and_trains_without_sampling():
    from vae_core.config import DETERMINISTIC_LOG_VAR

    vae = build_vae(VAEConfig(width=8, deterministic=True, beta=0.0))
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    _, z_log_var = vae.encoder(images)
    np.testing.assert_allclose(np.asarray(z_log_var), DETERMINISTIC_LOG_VAR, rtol=1e-6)
    assert not vae.encoder.get_layer("z_log_var").trainable
    first, _ = vae.per_image_losses(images)
    second, _ = vae.per_image_losses(images)  # no epsilon: the same z, the same loss
    np.testing.assert_allclose(np.asarray(first), np.asarray(second), rtol=1e-6)


def test_free_bits_charge_each_dimension_at_least_its_floor():
    vae = build_vae(VAEConfig(width=8, latent_dim=4, free_bits=0.5))
    z_mean = np.zeros((8, 4), np.float32)  # the prior itself: KL 0 in every dimension
    z_log_var = np.zeros((8, 4), np.float32)
    kl = np.zeros(8, np.float32)
    assert float(vae._charged_kl(kl, z_mean, z_log_var)) == pytest.approx(4 * 0.5)
    z_mean[:, 0] = 3.0  # dimension 0 carries 4.5 nats: charged in full, the others at the floor
    assert float(vae._charged_kl(kl, z_mean, z_log_var)) == pytest.approx(4.5 + 3 * 0.5)
    plain = build_vae(VAEConfig(width=8, latent_dim=4))
    assert float(plain._charged_kl(np.full(8, 2.0, np.float32), z_mean, z_log_var)) == pytest.approx(2.0)


def _fixed_draws(vae, eps):
    """Replaces the VAE's sampling by z = mu + sigma * eps with the given eps (k, batch, d)."""
    vae.sampling = lambda inputs: inputs[0] + np.exp(0.5 * np.asarray(inputs[1])) * eps


def _minus_log_weights(vae, images, eps):
    """-log w = -log p(x|z) - log p(z) + log q(z|x) of each draw z = mu + sigma * eps. (k, batch)"""
    z_mean, z_log_var = (np.asarray(t) for t in vae.encoder(images))
    out = []
    for e in eps:
        z = (z_mean + np.exp(0.5 * z_log_var) * e).astype(np.float32)
        recon = np.asarray(bernoulli_nll(images, vae.decoder_logits(z)))
        log_q = np.asarray(gaussian_log_density(z, z_mean, z_log_var))
        out.append(recon + log_q + 0.5 * np.sum(np.log(2 * np.pi) + z**2, axis=1))
    return np.stack(out)


def test_the_iwae_loss_is_the_elbo_when_all_its_samples_agree(images):
    """-(logsumexp of k equal log-weights - log k) is minus that log-weight: the single-sample -ELBO."""
    vae = build_vae(VAEConfig(width=8, train_samples=8))
    eps = np.repeat(np.random.default_rng(0).standard_normal((1, 4, 2)).astype(np.float32), 8, axis=0)
    _fixed_draws(vae, eps)
    loss, recon, kl, z_mean = vae.iw_losses(images[:4])
    assert loss.shape == recon.shape == kl.shape == (4,) and z_mean.shape == (4, 2)
    np.testing.assert_allclose(np.asarray(loss), np.asarray(recon) + np.asarray(kl), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(loss), _minus_log_weights(vae, images[:4], eps[:1])[0], rtol=1e-4)


def test_the_iwae_loss_is_minus_the_log_mean_weight_and_below_the_mean_elbo(images):
    """-log mean_i w_i, which by Jensen is below mean_i(-log w_i): the bound is tighter."""
    vae = build_vae(VAEConfig(width=8, train_samples=64))
    eps = np.random.default_rng(1).standard_normal((64, 4, 2)).astype(np.float32)
    _fixed_draws(vae, eps)
    loss = np.asarray(vae.iw_losses(images[:4])[0])
    minus_log_w = _minus_log_weights(vae, images[:4], eps)  # (64, 4)
    expected = -(np.logaddexp.reduce(-minus_log_w, axis=0) - np.log(64))
    np.testing.assert_allclose(loss, expected, rtol=1e-4)
    assert (loss < minus_log_w.mean(axis=0)).all()  # strictly: the draws differ


def test_an_iwae_train_step_updates_the_weights_and_reports_finite_logs(images):
    import keras

    vae = build_vae(VAEConfig(width=8, train_samples=4))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = vae.decoder.get_layer("logits").get_weights()[0].copy()
    logs = vae.train_step(images[:8])
    assert all(np.isfinite(float(logs[name])) for name in ("loss", "recon", "kl"))
    assert not np.allclose(before, vae.decoder.get_layer("logits").get_weights()[0])


def test_the_vamp_prior_is_the_mixture_of_the_pseudo_images_posteriors(images):
    import keras

    from vae_core.density import prior_log_density
    from vae_core.train import prior_of

    vae = build_vae(VAEConfig(width=8, vamp_components=5))
    prior = prior_of(vae)
    np.testing.assert_allclose(prior.weights, 0.2)
    pseudo_images = 1 / (1 + np.exp(-np.asarray(vae.pseudo_logits)))
    means, log_vars = (np.asarray(t) for t in vae.encoder(pseudo_images))
    np.testing.assert_allclose(prior.means, means, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(prior.log_vars, log_vars, rtol=1e-5, atol=1e-6)
    z = np.random.default_rng(0).standard_normal((6, 2)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(vae.log_prior(z)), prior_log_density(z, prior), rtol=1e-4)
    # The pseudo-images are learned with the rest of the model.
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = np.asarray(vae.pseudo_logits).copy()
    vae.train_step(images[:8])
    assert not np.allclose(before, np.asarray(vae.pseudo_logits))
