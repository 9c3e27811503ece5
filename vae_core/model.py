"""The VAE: a Sampling layer, encoder/decoder builders per preset, priors and the training model.

Encoder: images (N, H, W, C) in [0, 1] -> [z_mean, z_log_var], each (N, latent_dim).
Decoder: z (N, latent_dim) -> Bernoulli means (N, H, W, C). Its last two layers are a linear
layer named "logits" and a sigmoid named "bernoulli_mean", so losses can use the logits
(numerically stable) while the saved decoder still outputs probabilities.

Every preset builds for the config's ``image_shape`` (8 to 64 pixels a side, grey or RGB): the
convolutional ones halve the size ``stages`` times (two for 28x28, as published; three from 33
pixels a side), so their smallest feature map is at most 8 a side, and the decoder crops what
its upsampling made too large (``architecture_notes`` says what was chosen).
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
from keras import layers, ops

from .config import DETERMINISTIC_LOG_VAR, PRESETS, VAEConfig

LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="vae_core")
class Sampling(layers.Layer):
    """Draws z = z_mean + exp(z_log_var / 2) * eps (the reparameterisation trick)."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs  # (batch, latent_dim) each
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="vae_core")
class MixturePrior(layers.Layer):
    """A learned prior p(z) = sum_k w_k N(z; mu_k, diag(exp(log_var_k)))."""

    def __init__(self, components: int, latent_dim: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.components, self.latent_dim, self.seed = components, latent_dim, seed
        self.weight_logits = self.add_weight(shape=(components,), initializer="zeros", name="weight_logits")
        # Means start spread like the standard normal so every component gets data early.
        self.means = self.add_weight(
            shape=(components, latent_dim),
            initializer=keras.initializers.RandomNormal(stddev=1.0, seed=seed),
            name="means",
        )
        self.log_vars = self.add_weight(shape=(components, latent_dim), initializer="zeros", name="log_vars")

    def call(self, z):
        return mixture_log_density(z, self.weight_logits, self.means, self.log_vars)

    def get_config(self):
        return {
            **super().get_config(),
            "components": self.components,
            "latent_dim": self.latent_dim,
            "seed": self.seed,
        }


# ---------------------------------------------------------------------------- loss math


def bernoulli_nll(x, logits):
    """Summed binary cross-entropy per image, in nats, from logits. (batch,)"""
    # -[x log s(l) + (1 - x) log(1 - s(l))] == softplus(l) - x * l, stable for any l.
    return ops.sum(ops.softplus(logits) - x * logits, axis=(1, 2, 3))


def mse_loss(x, logits):
    """Mean squared error per image between x and sigmoid(logits) (the β-VAE seed's loss). (batch,)"""
    return ops.mean(ops.square(x - ops.sigmoid(logits)), axis=(1, 2, 3))


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, diag(exp(log_var))), summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(z - mean) / ops.exp(log_var), axis=-1)


def mixture_log_density(z, weight_logits, means, log_vars):
    """log of a diagonal Gaussian mixture at z (batch, d) -> (batch,)."""
    per_component = gaussian_log_density(z[:, None, :], means[None], log_vars[None])  # (batch, K)
    log_weights = ops.log_softmax(weight_logits)  # (K,)
    return ops.logsumexp(per_component + log_weights[None], axis=1)


def neighbour_loss(z, scale):
    """Contrastive t-SNE loss per anchor (InfoNCE with a Cauchy kernel; Damrich et al., ICLR 2023).

    z is (2n, d): rows :n are anchors, rows n: their partners (neighbours in pixel space).
    Each anchor should be more similar to its partner than to the other 2n - 2 rows. (n,)
    """
    n = ops.shape(z)[0] // 2
    sq_dist = ops.sum(ops.square(z[:n, None, :] - z[None, :, :]), axis=-1) / scale**2  # (n, 2n)
    log_sim = -ops.log1p(sq_dist)
    log_sim_others = log_sim - 1e9 * ops.eye(n, 2 * n)  # an anchor is not its own negative
    log_sim_partner = ops.diagonal(log_sim[:, n:])  # anchor i pairs with row n + i
    return ops.logsumexp(log_sim_others, axis=1) - log_sim_partner


def kl_standard_normal_terms(z_mean, z_log_var):
    """Analytic KL(q(z_j|x) || N(0, 1)) of each latent dimension of each image. (batch, latent_dim)"""
    return -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))


def kl_standard_normal(z_mean, z_log_var):
    """Analytic KL(q(z|x) || N(0, I)) per image: the sum of its dimensions' terms. (batch,)"""
    return ops.sum(kl_standard_normal_terms(z_mean, z_log_var), axis=1)


# ---------------------------------------------------------------------------- architectures


def _conv_encoder(x, filters_strides, dense_units):
    for filters, stride in filters_strides:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    if dense_units:
        x = layers.Dense(dense_units, activation="relu")(x)
    return x


def _residual_block(x, channels):
    """Two 3x3 convolutions plus a skip connection (He et al. 2016); keeps the size and channels."""
    y = layers.Conv2D(channels, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(channels, 3, padding="same")(y)
    return layers.Activation("relu")(layers.Add()([x, y]))


def stages(image_shape) -> int:
    """How many times the convolutional presets halve an image: the fewest (at least 2) that leave
    at most 8 pixels a side (28 -> 7, 32 -> 8, 64 -> 8, 8 -> 2)."""
    side = max(image_shape[:2])
    n = 2
    while math.ceil(side / 2**n) > 8:
        n += 1
    return n


def _seed_shape(image_shape) -> tuple[int, int]:
    """The decoder's first feature map: the image halved ``stages`` times, rounded up."""
    n = stages(image_shape)
    return math.ceil(image_shape[0] / 2**n), math.ceil(image_shape[1] / 2**n)


def architecture_notes(config: VAEConfig) -> dict:
    """What the builders chose for the config's image shape (for the manifest)."""
    h, w = _seed_shape(config.image_shape)
    n = stages(config.image_shape)
    return {
        "image_shape": list(config.image_shape),
        "downsampling_stages": n if config.preset != "mlp" else 0,
        "decoder_seed": [h, w] if config.preset != "mlp" else None,
        "decoder_crop": [h * 2**n - config.image_shape[0], w * 2**n - config.image_shape[1]]
        if config.preset != "mlp"
        else [0, 0],
    }


def _to_size(x, image_shape):
    """Crop a feature map to the image's height and width (upsampling rounds up)."""
    extra_h, extra_w = x.shape[1] - image_shape[0], x.shape[2] - image_shape[1]
    if extra_h or extra_w:
        x = layers.Cropping2D(
            ((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2))
        )(x)
    return x


def _buildable(config: VAEConfig) -> None:
    if config.preset not in PRESETS:
        raise ValueError(f"preset {config.preset!r} has no architecture to build (an imported model)")


def build_encoder(config: VAEConfig) -> keras.Model:
    """Images (N, H, W, C) -> [z_mean, z_log_var] for the config's preset."""
    _buildable(config)
    images = keras.Input(shape=config.image_shape, name="images")
    w = config.width
    extra = stages(config.image_shape) - 2  # halvings beyond the published two (images above 32 a side)
    if config.preset == "keras-io":
        x = _conv_encoder(images, [(32, 2), (64, 2)] + [(64, 2)] * extra, dense_units=16)
    elif config.preset == "beta-vae-seed":
        x = _conv_encoder(images, [(32, 1), (64, 2), (64, 2)] + [(64, 2)] * extra + [(64, 1)], dense_units=0)
    elif config.preset == "mlp":
        x = layers.Dense(512, activation="relu")(layers.Flatten()(images))
    else:  # default, conv
        x = _conv_encoder(
            images, [(w // 2, 2), (w, 2)] + [(2 * w, 2)] * extra + [(2 * w, 1)], dense_units=256
        )
        if config.preset == "default":
            x = layers.Dense(256, activation="relu")(x)
    z_mean = layers.Dense(config.latent_dim, name="z_mean")(x)
    if config.deterministic:  # an autoencoder: a constant, untrained z_log_var (sigma = 0.001)
        z_log_var = layers.Dense(
            config.latent_dim,
            kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(DETERMINISTIC_LOG_VAR),
            trainable=False,
            name="z_log_var",
        )(x)
    else:
        z_log_var = layers.Dense(config.latent_dim, name="z_log_var")(x)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def _conv_decoder(x, seed, channels, transposed, final_conv, image_shape):
    x = layers.Reshape((*seed, channels))(x)
    for filters in transposed:
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = _to_size(x, image_shape)
    conv = layers.Conv2D if final_conv else layers.Conv2DTranspose
    return conv(image_shape[2], 3, padding="same", name="logits")(x)


def build_decoder(config: VAEConfig) -> keras.Model:
    """z (N, latent_dim) -> Bernoulli means (N, H, W, C) for the config's preset."""
    _buildable(config)
    z = keras.Input(shape=(config.latent_dim,), name="z")
    w, shape = config.width, config.image_shape
    seed = _seed_shape(shape)
    area = seed[0] * seed[1]
    extra = stages(shape) - 2
    if config.preset in ("keras-io", "beta-vae-seed"):
        x = layers.Dense(area * 64, activation="relu")(z)
        final_conv = config.preset == "beta-vae-seed"
        logits = _conv_decoder(x, seed, 64, [64] * (1 + extra) + [32], final_conv, shape)
    elif config.preset == "mlp":
        x = layers.Dense(512, activation="relu")(z)
        flat = layers.Dense(shape[0] * shape[1] * shape[2])(x)
        logits = layers.Reshape(shape, name="logits")(flat)  # "logits": image-shaped
    elif config.preset == "conv":  # the default until the residual decoder; better above 2-D
        x = layers.Dense(256, activation="relu")(z)
        x = layers.Dense(area * 2 * w, activation="relu")(x)
        x = layers.Reshape((*seed, 2 * w))(x)
        for filters in [2 * w] * extra + [w, w // 2]:
            x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
        x = _to_size(x, shape)
        x = layers.Conv2D(w // 2, 3, padding="same", activation="relu")(x)
        logits = layers.Conv2D(shape[2], 3, padding="same", name="logits")(x)
    else:  # default: a wide MLP on z (cheap: z is tiny), then residual blocks at 7x7 and 14x14
        x = layers.Dense(512, activation="relu")(z)
        x = layers.Dense(512, activation="relu")(x)
        x = layers.Dense(area * 2 * w, activation="relu")(x)
        x = _residual_block(layers.Reshape((*seed, 2 * w))(x), 2 * w)
        for _ in range(extra):  # images above 32 a side: one more halving, undone here
            x = layers.Conv2DTranspose(2 * w, 3, strides=2, padding="same", activation="relu")(x)
            x = _residual_block(x, 2 * w)
        x = layers.Conv2DTranspose(w, 3, strides=2, padding="same", activation="relu")(x)
        x = _residual_block(x, w)
        x = layers.Conv2DTranspose(w // 2, 3, strides=2, padding="same", activation="relu")(x)
        x = _to_size(x, shape)
        logits = layers.Conv2D(shape[2], 3, padding="same", name="logits")(x)
    probs = layers.Activation("sigmoid", name="bernoulli_mean")(logits)
    return keras.Model(z, probs, name="decoder")


def logits_model(decoder: keras.Model) -> keras.Model:
    """The decoder up to its "logits" layer (sharing weights), or the decoder itself if absent."""
    try:
        return keras.Model(decoder.input, decoder.get_layer("logits").output, name="decoder_logits")
    except ValueError:
        return decoder


# ---------------------------------------------------------------------------- training model


class VAE(keras.Model):
    """Composes encoder and decoder; train_step/test_step compute the (β-weighted) negative ELBO."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, config: VAEConfig, **kwargs):
        super().__init__(name="vae", **kwargs)
        self.encoder, self.decoder, self.config = encoder, decoder, config
        self.decoder_logits = logits_model(decoder)
        self.sampling = Sampling(seed=config.seed, name="sampling")
        self.prior = (
            MixturePrior(config.prior_components, config.latent_dim, seed=config.seed, name="prior")
            if config.prior_components
            else None
        )
        # VampPrior pseudo-images, as logits so the images stay in (0, 1); they start as noise.
        self.pseudo_logits = (
            self.add_weight(
                shape=(config.vamp_components, *config.image_shape),
                initializer=keras.initializers.RandomNormal(stddev=1.0, seed=config.seed),
                name="pseudo_logits",
            )
            if config.vamp_components
            else None
        )
        # The KL weight actually used for gradients; a callback ramps it during warm-up.
        start = 0.0 if config.kl_warmup_epochs else config.beta
        self.kl_weight = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(start), trainable=False, name="kl_weight"
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.recon_tracker = keras.metrics.Mean(name="recon")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.neighbour_tracker = keras.metrics.Mean(name="neighbour")

    def build(self, input_shape=None):
        # The sub-models are built when created; nothing is left to build here.
        self.built = True

    @property
    def metrics(self):
        trackers = [self.loss_tracker, self.recon_tracker, self.kl_tracker]
        return trackers + [self.neighbour_tracker] if self.config.neighbour_weight else trackers

    def call(self, images, training=False):
        z_mean, _ = self.encoder(images, training=training)
        return self.decoder(z_mean, training=training)

    def per_image_losses(self, images, training=False, return_posterior=False):
        """(reconstruction, KL[, z_mean, z_log_var]) per image, one posterior sample. (batch[, d])"""
        z_mean, z_log_var = self.encoder(images, training=training)  # (batch, latent_dim)
        z = z_mean if self.config.deterministic else self.sampling([z_mean, z_log_var])
        logits = self.decoder_logits(z, training=training)  # (batch, H, W, C)
        if self.config.likelihood == "mse":
            recon = mse_loss(images, logits)
        else:
            recon = bernoulli_nll(images, logits)
        if self.learned_prior:  # single-sample Monte Carlo estimate: log q(z|x) - log p(z)
            kl = gaussian_log_density(z, z_mean, z_log_var) - self.log_prior(z)
        else:
            kl = kl_standard_normal(z_mean, z_log_var)
        return (recon, kl, z_mean, z_log_var) if return_posterior else (recon, kl)

    @property
    def learned_prior(self) -> bool:
        return self.prior is not None or self.pseudo_logits is not None

    def pseudo_posteriors(self):
        """The VampPrior's components: the encoder's (z_mean, z_log_var) at the pseudo-images. (K, d) each"""
        return self.encoder(ops.sigmoid(self.pseudo_logits))

    def log_prior(self, z):
        """log p(z) per point (n,) for z (n, latent_dim), under whichever prior this VAE has."""
        if self.prior is not None:
            return self.prior(z)
        if self.pseudo_logits is not None:  # a uniform mixture of the pseudo-images' posteriors
            means, log_vars = self.pseudo_posteriors()
            return mixture_log_density(z, ops.zeros(self.config.vamp_components), means, log_vars)
        return gaussian_log_density(z, ops.zeros_like(z), ops.zeros_like(z))

    def iw_losses(self, images, training=False):
        """The negative IWAE bound per image with k = config.train_samples (Burda et al. 2016).

        log w_i = log p(x|z_i) + kl_weight * (log p(z_i) - log q(z_i|x)) for z_1..z_k ~ q(z|x);
        the loss is -(logsumexp_i log w_i - log k), which is the -ELBO at k = 1 and approaches
        -log p(x) as k grows. Returns (loss, reconstruction and KL of the first sample, z_mean). (batch,)
        """
        k = self.config.train_samples
        z_mean, z_log_var = self.encoder(images, training=training)  # (batch, d)
        stacked = [ops.repeat(t[None], k, axis=0) for t in (z_mean, z_log_var)]  # (k, batch, d)
        z = self.sampling(stacked)  # (k, batch, d)
        flat = ops.reshape(z, (-1, self.config.latent_dim))  # sample-major: (k * batch, d)
        repeated = ops.tile(images, (k, 1, 1, 1))  # matches flat's order
        recon = ops.reshape(bernoulli_nll(repeated, self.decoder_logits(flat, training=training)), (k, -1))
        log_q = gaussian_log_density(z, z_mean[None], z_log_var[None])  # (k, batch)
        kl = log_q - ops.reshape(self.log_prior(flat), (k, -1))  # (k, batch): log q - log p
        log_w = -recon - self.kl_weight * kl
        loss = -(ops.logsumexp(log_w, axis=0) - math.log(k))
        return loss, recon[0], kl[0], z_mean

    def _charged_kl(self, kl, z_mean, z_log_var):
        """The batch-mean KL the gradient sees: with free bits, each dimension at least its floor."""
        if not self.config.free_bits:
            return ops.mean(kl)
        # Free bits need the per-dimension terms: analytic under N(0, I), which the config checks.
        per_dim = ops.mean(kl_standard_normal_terms(z_mean, z_log_var), axis=0)  # (latent_dim,)
        return ops.sum(ops.maximum(per_dim, self.config.free_bits))

    def _track(self, recon, kl):
        # "loss" always uses the full beta so validation losses compare across warm-up epochs.
        self.loss_tracker.update_state(recon + self.config.beta * kl)
        self.recon_tracker.update_state(recon)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, batch):
        """One step on a batch of images, or of (anchors, partners) image pairs (neighbour term)."""
        import tensorflow as tf

        pairs = isinstance(batch, tuple)
        images = ops.concatenate(batch, axis=0) if pairs else batch
        with tf.GradientTape() as tape:
            if self.config.train_samples > 1:
                per_image, recon, kl, z_mean = self.iw_losses(images, training=True)
                loss = ops.mean(per_image)
            else:
                recon, kl, z_mean, z_log_var = self.per_image_losses(
                    images, training=True, return_posterior=True
                )
                loss = ops.mean(recon) + self.kl_weight * self._charged_kl(kl, z_mean, z_log_var)
            if pairs:
                neighbours = neighbour_loss(z_mean, self.config.neighbour_scale)
                loss += self.config.neighbour_weight * ops.mean(neighbours)
                self.neighbour_tracker.update_state(neighbours)
            # Under MirroredStrategy each replica sees batch/replicas images and the optimizer
            # sums gradients across replicas: divide so the sum is the global-batch mean.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        return self._track(recon, kl)

    def test_step(self, images):
        recon, kl = self.per_image_losses(images, training=False)
        logs = self._track(recon, kl)
        logs.pop("neighbour", None)  # a training-only term: validation batches have no pairs
        return logs


def build_vae(config: VAEConfig) -> VAE:
    vae = VAE(build_encoder(config), build_decoder(config), config)
    vae.build((None, *config.image_shape))
    return vae
