import numpy as np
import pytest

from vae_core import model
from vae_core.config import VAEConfig
from vae_core.density import Prior
from vae_core.evaluate import (
    IW_VALUES,
    aggregate_posterior_gap,
    bernoulli_nll,
    elbo_terms,
    evaluate,
    gaussian_log_density,
    iw_nll,
    kl_per_dimension,
    kl_standard_normal_terms,
    knn_accuracy,
    latent_stats,
    percentile_of,
)
from vae_core.keras_models import KerasNetworks
from vae_core.model import build_decoder, build_encoder


@pytest.fixture(scope="module")
def models():
    import keras

    keras.utils.set_random_seed(0)
    config = VAEConfig(preset="keras-io")
    return KerasNetworks(build_encoder(config), build_decoder(config))


def test_the_numpy_elbo_terms_are_the_training_losses():
    """evaluate.py writes the loss terms in numpy (the app scores images without TensorFlow), model.py
    in keras.ops for training: the same numbers."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 28, 28, 1)).astype(np.float32)
    logits = (rng.standard_normal((4, 28, 28, 1)) * 30).astype(np.float32)  # saturated ones too
    mu, log_var = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    z = rng.standard_normal((4, 3))
    np.testing.assert_allclose(
        bernoulli_nll(x, logits), np.asarray(model.bernoulli_nll(x, logits)), rtol=1e-5
    )
    np.testing.assert_allclose(
        kl_standard_normal_terms(mu, log_var),
        np.asarray(model.kl_standard_normal_terms(mu, log_var)),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        gaussian_log_density(z, mu, log_var),
        np.asarray(model.gaussian_log_density(z, mu, log_var)),
        rtol=1e-6,
    )


def test_aggregate_posterior_matching_the_prior_has_no_gap():
    z_mean = np.random.default_rng(0).standard_normal((200_000, 2)) * np.sqrt(0.5)
    z_log_var = np.full_like(z_mean, np.log(0.5))  # total variance 0.5 + 0.5 = 1
    assert aggregate_posterior_gap(z_mean, z_log_var) == pytest.approx(0.0, abs=0.01)
    assert aggregate_posterior_gap(z_mean + 3, z_log_var) == pytest.approx(9.0, rel=0.01)  # 0.5 * |mu|^2


def test_unused_dimensions_have_zero_kl():
    z_mean = np.stack([np.random.default_rng(0).standard_normal(100), np.zeros(100)], axis=1)
    z_log_var = np.stack([np.full(100, -3.0), np.zeros(100)], axis=1)
    kl = kl_per_dimension(z_mean, z_log_var)
    assert kl[1] == pytest.approx(0.0) and kl[0] > 0.5


def test_kl_per_dimension_under_a_mixture_prior_is_to_its_marginals():
    rng = np.random.default_rng(0)
    z_mean = np.stack([rng.standard_normal(500), np.full(500, 0.3)], axis=1)
    z_log_var = np.stack([np.full(500, -2.0), np.full(500, np.log(0.5))], axis=1)
    # A one-component "mixture" N(0, I) gives the analytic terms.
    standard = Prior(np.ones(1), np.zeros((1, 2)), np.zeros((1, 2)))
    np.testing.assert_allclose(
        kl_per_dimension(z_mean, z_log_var, standard), kl_per_dimension(z_mean, z_log_var), rtol=1e-6
    )
    # Two components; dimension 1's posterior is, for every image, exactly the prior's marginal
    # there (both components put N(0.3, 0.5) on it): that dimension is unused.
    prior = Prior(
        np.array([0.25, 0.75]), np.array([[-2.0, 0.3], [1.0, 0.3]]), np.array([[0.0, np.log(0.5)]] * 2)
    )
    kl = kl_per_dimension(z_mean, z_log_var, prior)
    assert kl[1] == pytest.approx(0.0, abs=1e-9)
    # Dimension 0 against a Monte Carlo estimate of E_q[log q(z) - log p_0(z)].
    eps = rng.standard_normal((500, 4000))
    z = z_mean[:, :1] + np.exp(0.5 * z_log_var[:, :1]) * eps
    log_q = -0.5 * (np.log(2 * np.pi) + z_log_var[:, :1] + eps**2)
    log_p = np.logaddexp(
        np.log(0.25) - 0.5 * (np.log(2 * np.pi) + (z + 2.0) ** 2),
        np.log(0.75) - 0.5 * (np.log(2 * np.pi) + (z - 1.0) ** 2),
    )
    assert kl[0] == pytest.approx(np.mean(log_q - log_p), abs=0.01)


def test_importance_weighting_tightens_the_bound(images):
    import keras

    keras.utils.set_random_seed(0)
    config = VAEConfig(preset="keras-io")
    encoder, decoder = build_encoder(config), build_decoder(config)
    # A posterior much wider than the prior (variance e^2): the ELBO pays ~4.4 nats of KL that
    # importance weighting mostly recovers.
    layer = encoder.get_layer("z_log_var")
    layer.set_weights([np.zeros_like(layer.kernel), np.full(2, 2.0, np.float32)])
    networks = KerasNetworks(encoder, decoder)
    recon, kl = elbo_terms(networks, images[:32])
    assert kl.mean() == pytest.approx(0.5 * (np.exp(2) - 1 - 2) * 2, rel=0.05)
    bound = iw_nll(networks, images[:32], k=64)
    assert bound.shape == (32,)
    assert bound.mean() < (recon + kl).mean() - 1.0


def test_a_one_component_mixture_prior_estimates_the_same_kl(models, images):
    _, analytic = elbo_terms(models, images[:64])
    standard = Prior(np.ones(1), np.zeros((1, 2)), np.zeros((1, 2)))
    _, monte_carlo = elbo_terms(models, images[:64], prior=standard)
    assert monte_carlo.mean() == pytest.approx(analytic.mean(), abs=0.5)


def test_evaluate_reports_every_contract_metric(models, images):
    labels = np.arange(len(images)) % 10
    metrics, (z_mean, z_log_var) = evaluate(models, images[:100], labels[:100], images, labels, iw_samples=2)
    for key in (
        "test_neg_elbo_nats",
        "test_recon_bce_nats",
        "test_kl_nats",
        "knn5_accuracy",
        "test_iw_nll_nats",
        "test_recon_mse",
        "aggregate_posterior_kl_to_standard_normal",
        "kl_per_dimension",
        "latent_stats",
    ):
        assert key in metrics
    assert metrics["test_neg_elbo_nats"] == pytest.approx(
        metrics["test_recon_bce_nats"] + metrics["test_kl_nats"]
    )
    assert z_mean.shape == z_log_var.shape == (100, 2)


def test_the_iwae_bound_is_bounded_and_batched(models, images):
    """k samples per image are decoded k * batch at a time, whatever k (a big k once took > 4 GB)."""
    decoded = []

    class Counting:
        latent_dim, image_shape = models.latent_dim, models.image_shape
        encode = staticmethod(models.encode)

        @staticmethod
        def decode_logits(z):
            decoded.append(len(z))
            return models.decode_logits(z)

    iw_nll(Counting(), images[:10], k=1000)
    assert max(decoded) * images[0].size <= max(IW_VALUES, 1000 * images[0].size)  # (one image's k at least)
    with pytest.raises(ValueError, match="k \\(importance samples\\) must be from 1 to 5000"):
        iw_nll(models, images[:2], k=20_000)


def test_knn_accuracy_separable_is_perfect():
    rng = np.random.default_rng(2)
    train = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    test = np.concatenate([rng.normal(0, 0.1, (5, 2)), rng.normal(5, 0.1, (5, 2))])
    labels = np.repeat([0, 1], 20), np.repeat([0, 1], 5)
    assert knn_accuracy(train, labels[0], test, labels[1], k=5) == 1.0


def test_knn_accuracy_hand_example_with_tie_break():
    train = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    train_y = np.array([0, 1, 1, 2, 2])
    # query 0.1: neighbours 0(0), 1(1), 2(1) -> majority 1
    # query 10.4, k=2: neighbours 10(2), 11(2) -> 2
    # query 0.4, k=3 labels in distance order: 0, 1, 1 -> 1 (true label 0, wrong)
    test = np.array([[0.1], [10.4], [0.4]])
    assert knn_accuracy(train, train_y, test, [1, 2, 0], k=3) == pytest.approx(2 / 3)
    # k=2: one vote each, the nearest neighbour's label wins
    assert knn_accuracy(train, train_y, [[0.4], [0.6]], [0, 1], k=2) == 1.0


def test_latent_stats():
    stats = latent_stats(np.array([[0.0, 1.0], [2.0, 1.0]]))
    np.testing.assert_allclose(stats["min"], [0, 1])
    np.testing.assert_allclose(stats["max"], [2, 1])
    np.testing.assert_allclose(stats["mean"], [1, 1])
    np.testing.assert_allclose(stats["std"], [1, 0])


def test_percentile_of():
    sample = np.arange(100.0)
    assert (
        percentile_of(50.0, sample) == 0.5
        and percentile_of(1000.0, sample) == 1.0
        and percentile_of(-1, sample) == 0.0
    )
