"""The one config object of a training run. It is saved into every bundle's manifest."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

PRESETS = ("default", "conv", "keras-io", "beta-vae-seed", "mlp")  # what `train --preset` builds
IMPORTED = "imported"  # the preset of an imported model (vae_core.import_bundle): nothing to build
LIKELIHOODS = ("bernoulli", "mse")
DETERMINISTIC_LOG_VAR = -13.815510557964274  # log(1e-6): sigma = 0.001
DISTRIBUTE = ("none", "mirrored", "multi-worker")
MAX_IW_SAMPLES = 5000  # importance samples per image: beyond, minutes and gigabytes for a bound
MIN_SIDE, MAX_SIDE = 8, 64  # image sides the presets build for


class ConfigError(ValueError):
    """A config value is out of range; the message names the field and the allowed values."""


@dataclass(frozen=True)
class VAEConfig:
    """Model and training hyper-parameters. Every field is written to manifest.json."""

    # model
    preset: str = "default"  # architecture: default | conv | keras-io | beta-vae-seed | mlp
    image_shape: tuple[int, int, int] = (28, 28, 1)  # (H, W, C) of the data set: 8-64 a side, grey or RGB
    latent_dim: int = 2  # size of z; 2 gives the explorer a true (unprojected) map
    likelihood: str = "bernoulli"  # bernoulli = summed BCE over every pixel and channel; mse = mean squared
    beta: float = 1.0  # weight of the KL term (β-VAE); 1.0 gives the true ELBO
    # A plain autoencoder: z = z_mean, no sampling; beta must be 0. Its encoder still outputs
    # z_log_var (the bundle contract), fixed at DETERMINISTIC_LOG_VAR: sigma = 0.001, a point.
    deterministic: bool = False
    prior_components: int = 0  # 0: N(0, I) prior; K > 0: learned mixture of K diagonal Gaussians
    # A VampPrior (Tomczak & Welling 2018): K > 0 learned pseudo-images, and the prior is the
    # mixture of the encoder's posteriors at them. Exported as the Gaussian mixture it is.
    vamp_components: int = 0
    width: int = 64  # base channel count of the default and conv presets (others are fixed)
    # Optional neighbour term: a contrastive t-SNE loss on z_mean that pulls each training image
    # towards one of its `neighbour_k` nearest images in pixel space and pushes it from the rest
    # of the batch. It trades ELBO for class separation (BENCHMARKS.md); metrics stay plain ELBO.
    neighbour_weight: float = 0.0  # weight of that term per image pair; 0 trains a plain VAE
    neighbour_k: int = 10  # nearest neighbours per training image (after PCA to 50 dimensions)
    neighbour_scale: float = 0.1  # latent distance at which the Cauchy similarity halves
    # optimisation
    epochs: int = 15  # upper bound (early stopping may end sooner); 15 fits in 15 min on 2 CPU cores
    batch_size: int = 128
    learning_rate: float = 1e-3  # Adam, cosine-decayed to 10% over `epochs` (default, conv presets)
    kl_warmup_epochs: int = 0  # ramp the KL weight linearly from 0 to beta over this many epochs
    # Free bits (Kingma et al. 2016): each latent dimension's batch-mean KL is charged at least
    # this many nats in the training loss, so the optimiser gains nothing by switching it off.
    free_bits: float = 0.0
    # Importance samples per image in the training loss: 1 trains on the ELBO, k > 1 on the
    # tighter IWAE bound (Burda et al. 2016). Metrics stay the plain ELBO (and the IWAE k=16).
    train_samples: int = 1
    patience: int = 5  # early stopping: epochs without validation improvement before stopping
    seed: int = 0  # seeds weights, shuffling and sampling noise
    # data and evaluation
    n_train: int = 50_000  # training images used (Fashion-MNIST: the last 10,000 are always validation)
    iw_samples: int = 16  # importance samples for the IWAE bound in the manifest's metrics
    distribute: str = "none"  # none | mirrored (all devices) | multi-worker (machines in TF_CONFIG)

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(self.image_shape))  # a manifest gives a list
        shape = self.image_shape
        if not (
            len(shape) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) for v in shape)
            and all(MIN_SIDE <= v <= MAX_SIDE for v in shape[:2])
            and shape[2] in (1, 3)
        ):
            raise ConfigError(
                f"image_shape={shape!r} is invalid: use (H, W, C) with H and W from {MIN_SIDE} to {MAX_SIDE} "
                "and C 1 or 3"
            )
        for f in dataclasses.fields(self):  # inf and nan pass every comparison below the wrong way
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{f.name}={value!r} is invalid: use a finite number")
        checks = [
            (self.preset in (*PRESETS, IMPORTED), "preset", f"one of {', '.join(PRESETS)}"),
            (self.likelihood in LIKELIHOODS, "likelihood", f"one of {', '.join(LIKELIHOODS)}"),
            (self.distribute in DISTRIBUTE, "distribute", f"one of {', '.join(DISTRIBUTE)}"),
            (1 <= self.latent_dim <= 256, "latent_dim", "an integer from 1 to 256"),
            (self.beta >= 0, "beta", "a number >= 0"),
            (not self.deterministic or self.beta == 0, "beta", "0 with deterministic (no KL term)"),
            (self.free_bits >= 0, "free_bits", "a number >= 0"),
            (
                not self.free_bits or not (self.prior_components or self.vamp_components),
                "free_bits",
                "0 with a learned prior (free bits need N(0, I))",
            ),
            (0 <= self.prior_components <= 100, "prior_components", "an integer from 0 to 100"),
            (0 <= self.vamp_components <= 1000, "vamp_components", "an integer from 0 to 1000"),
            (
                not (self.vamp_components and self.prior_components),
                "vamp_components",
                "0 with a mixture prior",
            ),
            (1 <= self.train_samples <= 64, "train_samples", "an integer from 1 to 64"),
            (
                self.train_samples == 1 or (self.likelihood == "bernoulli" and not self.deterministic),
                "train_samples",
                "1 with the mse likelihood or a deterministic encoder (no density to weight)",
            ),
            (self.train_samples == 1 or not self.free_bits, "train_samples", "1 with free bits"),
            (8 <= self.width <= 512, "width", "an integer from 8 to 512"),
            (self.neighbour_weight >= 0, "neighbour_weight", "a number >= 0"),
            (1 <= self.neighbour_k <= 100, "neighbour_k", "an integer from 1 to 100"),
            (self.neighbour_scale > 0, "neighbour_scale", "a number > 0"),
            (self.epochs >= 1, "epochs", "an integer >= 1"),
            (self.batch_size >= 1, "batch_size", "an integer >= 1"),
            (self.learning_rate > 0, "learning_rate", "a number > 0"),
            (self.kl_warmup_epochs >= 0, "kl_warmup_epochs", "an integer >= 0"),
            (self.patience >= 1, "patience", "an integer >= 1"),
            (1 <= self.n_train <= 200_000, "n_train", "an integer from 1 to 200000"),
            (1 <= self.iw_samples <= MAX_IW_SAMPLES, "iw_samples", f"an integer from 1 to {MAX_IW_SAMPLES}"),
            (0 <= self.seed < 2**32, "seed", "an integer from 0 to 4294967295"),
        ]
        for ok, name, allowed in checks:
            if not ok:
                raise ConfigError(f"{name}={getattr(self, name)!r} is invalid: use {allowed}")

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "image_shape": list(self.image_shape)}

    @classmethod
    def from_dict(cls, values: dict) -> VAEConfig:
        """Rebuild a config from a manifest, ignoring fields this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def preset_config(preset: str, **overrides) -> VAEConfig:
    """The reference settings of a preset (as published), with explicit overrides on top."""
    base = {
        "default": {},
        "conv": {"epochs": 20},
        "keras-io": {"batch_size": 128, "epochs": 30},
        "beta-vae-seed": {"likelihood": "mse", "beta": 0.001, "batch_size": 512, "epochs": 10},
        "mlp": {"batch_size": 128, "epochs": 50},
    }
    if preset not in base:
        raise ConfigError(f"preset={preset!r} is invalid: use one of {', '.join(PRESETS)}")
    return VAEConfig(preset=preset, **{**base[preset], **overrides})
