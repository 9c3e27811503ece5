"""The few layers an imported model needs to follow this project's conventions (vae_core.importer).

Registered with Keras under the package "vae_core", so a bundle holding them loads in safe mode
like every other bundle: one half of a concatenated encoder output, a standard deviation as a
log-variance, a probability as a logit. Everything else an adapter does is a standard Keras layer
(Rescaling, Reshape, Permute, Activation).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
from keras import layers, ops

EPS = 1e-6  # probabilities are kept in [EPS, 1 - EPS] before their logit


@keras.saving.register_keras_serializable(package="vae_core")
class SplitHalves(layers.Layer):
    """The first (``part=0``) or second (``part=1``) half of the last axis: [mu, sigma] from one tensor."""

    def __init__(self, part: int, **kwargs):
        super().__init__(**kwargs)
        self.part = int(part)

    def call(self, x):
        half = ops.shape(x)[-1] // 2
        return x[..., :half] if self.part == 0 else x[..., half:]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] // 2)

    def get_config(self):
        return {**super().get_config(), "part": self.part}


@keras.saving.register_keras_serializable(package="vae_core")
class LogVarFromStd(layers.Layer):
    """log(sigma^2) from a standard deviation sigma (kept above 1e-12)."""

    def call(self, std):
        return 2.0 * ops.log(ops.maximum(std, 1e-12))


@keras.saving.register_keras_serializable(package="vae_core")
class Logit(layers.Layer):
    """The logit of a probability (kept in [1e-6, 1 - 1e-6]): a decoder that outputs probabilities
    gets the "logits" layer the loss terms read."""

    def call(self, p):
        p = ops.clip(p, EPS, 1.0 - EPS)
        return ops.log(p) - ops.log(1.0 - p)  # (not log1p: ONNX has no Log1p op)


# ---------------------------------------------------------------------------- wrapping a model


def standard_layers_only(model: keras.Model, what: str) -> None:
    """Refuse a model that still holds a layer of the user's own (the bundle must load in safe mode
    without their code)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            standard_layers_only(layer, what)
            continue
        module = type(layer).__module__
        if not (module.startswith("keras") or module == __name__):
            raise ValueError(
                f"the {what} computes its outputs with the layer {layer.name!r} of your class "
                f"{type(layer).__name__}: a bundle must load without your code, so rewrite that part with "
                "Keras's own layers"
            )


def wrap_encoder(source: keras.Model, conv, image_shape) -> keras.Model:
    """Images (N, H, W, C) in [0, 1] -> [z_mean, z_log_var] around ``source`` (``conv``:
    vae_core.importer.Conventions). Only what computes z_mean and z_log_var is kept."""
    from .importer import RANGES

    n = 1 if conv.encoder_outputs == "concatenated" else 2
    kept = keras.Model(source.inputs, source.outputs[:n], name="source_encoder")
    standard_layers_only(kept, "encoder")
    images = keras.Input(shape=image_shape, name="images")
    x = images
    low, high = RANGES[conv.pixel_range]
    if (low, high) != (0.0, 1.0):
        x = layers.Rescaling(high - low, offset=low)(x)
    h, w, c = image_shape
    x = {
        "hwc": lambda t: t,
        "chw": layers.Permute((3, 1, 2)),
        "hw": layers.Reshape((h, w)),
        "flat": layers.Reshape((h * w * c,)),
    }[conv.image_input](x)
    out = kept(x)
    out = out if isinstance(out, (list, tuple)) else [out]
    if conv.encoder_outputs == "concatenated":
        mean, second = SplitHalves(0)(out[0]), SplitHalves(1)(out[0])
    else:
        mean, second = out[0], out[1]
    if conv.sigma == "std":
        second = LogVarFromStd()(second)
    mean = layers.Identity(name="z_mean")(mean)
    log_var = layers.Identity(name="z_log_var")(second)
    return keras.Model(images, [mean, log_var], name="encoder")


def wrap_decoder(source: keras.Model, conv, image_shape) -> keras.Model:
    """z (N, latent_dim) -> Bernoulli means (N, H, W, C) around ``source``, ending, like every
    decoder here, in a "logits" layer and a sigmoid "bernoulli_mean"."""
    from .importer import RANGES

    standard_layers_only(source, "decoder")
    z = keras.Input(shape=(conv.latent_dim,), name="z")
    y = source(z)
    y = y[0] if isinstance(y, (list, tuple)) else y
    h, w, c = image_shape
    y = layers.Permute((2, 3, 1))(y) if conv.image_output == "chw" else layers.Reshape((h, w, c))(y)
    low, high = RANGES[conv.pixel_range]
    if conv.pixel_range == "unit" and conv.decoder_output == "logits":
        logits = layers.Identity(name="logits")(y)
    else:
        if (low, high) != (0.0, 1.0):
            y = layers.Rescaling(1.0 / (high - low), offset=-low / (high - low))(y)
        logits = Logit(name="logits")(y)
    return keras.Model(z, layers.Activation("sigmoid", name="bernoulli_mean")(logits), name="decoder")
