import pytest

from vae_core.config import ConfigError, VAEConfig, preset_config


def test_defaults_are_a_2d_bernoulli_vae():
    config = VAEConfig()
    assert (config.latent_dim, config.likelihood, config.beta) == (2, "bernoulli", 1.0)


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("latent_dim", 0, "latent_dim=0"),
        ("latent_dim", 257, "1 to 256"),
        ("epochs", -1, "epochs=-1"),
        ("preset", "nope", "keras-io"),
        ("likelihood", "poisson", "bernoulli"),
        ("beta", -0.1, "beta"),
        ("neighbour_weight", -1.0, "neighbour_weight"),
        ("neighbour_k", 0, "1 to 100"),
        ("neighbour_scale", 0.0, "> 0"),
    ],
)
def test_out_of_range_values_are_rejected_with_the_field_named(field, value, fragment):
    with pytest.raises(ConfigError, match=fragment):
        VAEConfig(**{field: value})


def test_presets_reproduce_the_reference_settings():
    seed = preset_config("beta-vae-seed")
    assert (seed.likelihood, seed.beta, seed.batch_size) == ("mse", 0.001, 512)
    assert preset_config("keras-io", epochs=10).epochs == 10


def test_round_trip_through_a_manifest_dict_ignores_unknown_fields():
    config = VAEConfig(latent_dim=16, prior_components=10)
    assert VAEConfig.from_dict({**config.to_dict(), "from_the_future": 1}) == config


def test_an_autoencoder_has_no_kl_term_and_free_bits_need_the_standard_normal_prior():
    from vae_core.config import ConfigError, VAEConfig

    with pytest.raises(ConfigError, match="beta=1.0 is invalid: use 0 with deterministic"):
        VAEConfig(deterministic=True)
    assert VAEConfig(deterministic=True, beta=0.0).deterministic
    with pytest.raises(ConfigError, match="free_bits"):
        VAEConfig(free_bits=0.5, prior_components=10)
    with pytest.raises(ConfigError, match="free_bits"):
        VAEConfig(free_bits=-1.0)


def test_iwae_training_and_the_vamp_prior_reject_what_they_cannot_weight():
    from vae_core.config import ConfigError, VAEConfig

    assert VAEConfig(train_samples=8, vamp_components=50).train_samples == 8
    for bad in (
        {"train_samples": 0},
        {"train_samples": 4, "likelihood": "mse"},
        {"train_samples": 4, "deterministic": True, "beta": 0.0},
        {"train_samples": 4, "free_bits": 0.5},
    ):
        with pytest.raises(ConfigError, match="train_samples"):
            VAEConfig(**bad)
    with pytest.raises(ConfigError, match="vamp_components"):
        VAEConfig(vamp_components=10, prior_components=10)
    with pytest.raises(ConfigError, match="free_bits"):
        VAEConfig(vamp_components=10, free_bits=0.5)
