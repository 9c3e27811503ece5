"""A bundle's networks as Keras models: loaded safely, and run as numpy functions.

Training, evaluation, ONNX export and imports use these; the app serves from the ONNX copies
(``vae_core.onnx_models``). Each ``.keras`` file is checked as an archive before Keras opens it
(``vae_core.files.check_archive``: a zip bomb is refused unread), then loaded with
``safe_mode=True``: no Lambda layer or unknown class runs code.
"""

from __future__ import annotations

import functools
import os
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

from .files import FileProblem, check_archive, inside
from .manifest import BundleError, retrain_hint
from .model import logits_model

MODEL_FILES = ("encoder.keras", "decoder.keras")
# A .keras file is a zip of config.json, metadata.json and model.weights.h5. Real ones: a few kB of
# JSON and weights of tens of MB (stored, barely compressible); these limits sit far above.
ARCHIVE_LIMITS = {"max_total": 4 << 30, "max_member": 4 << 30, "max_ratio": 50.0, "max_members": 1000}
CONFIG_LIMIT = 64 << 20  # config.json and metadata.json


class KerasNetworks:
    """An encoder and a decoder (Keras models) as numpy functions (vae_core.evaluate.Networks)."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model):
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.image_shape = tuple(int(s) for s in encoder.inputs[0].shape[1:])

    @functools.cached_property
    def _logits_model(self) -> keras.Model:
        return logits_model(self.decoder)  # built once: a new keras.Model per call was slow

    @functools.cached_property
    def _decode_fn(self):
        import tensorflow as tf

        # One traced graph for any batch size: no retracing, no predict() overhead.
        @tf.function(input_signature=[tf.TensorSpec((None, self.latent_dim), tf.float32)])
        def decode(z):
            return self.decoder(z, training=False)

        return decode

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(images, dtype=np.float32).reshape(-1, *self.image_shape)
        z_mean, z_log_var = self.encoder(x, training=False)
        return np.asarray(z_mean, dtype=np.float32), np.asarray(z_log_var, dtype=np.float32)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Bernoulli means (n, H, W, C) float32 of latent points (n, latent_dim) or one (latent_dim,)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        return self._decode_fn(z).numpy()

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        out = np.asarray(self._logits_model(z, training=False), dtype=np.float32)
        if self._logits_model is self.decoder:  # a decoder without a "logits" layer gives probabilities
            p = np.clip(out, 1e-7, 1 - 1e-7)
            out = np.log(p) - np.log1p(-p)
        return out


def load_model_file(file: Path) -> keras.Model:
    """One ``.keras`` file, checked as an archive first, loaded in safe mode (BundleError if unusable)."""
    path = file.parent
    try:
        check_archive(file, **ARCHIVE_LIMITS)
        _check_config_sizes(file)
    except FileNotFoundError:
        raise BundleError(f"{file} is missing. {retrain_hint(path)}") from None
    except FileProblem as e:
        reason = f"it {e.reason}" if e.path == file else str(e)
        raise BundleError(
            f"{file} could not be loaded as a Keras 3 model: {reason}. {retrain_hint(path)}"
        ) from None
    try:
        return keras.saving.load_model(file, safe_mode=True, compile=False)
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise BundleError(
            f"{file} could not be loaded as a Keras 3 model ({type(e).__name__}: {str(e)[:200]}). "
            f"The file may be corrupt or from an incompatible Keras version. {retrain_hint(path)}"
        ) from None


def _check_config_sizes(file: Path) -> None:
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            if info.filename.endswith(".json") and info.file_size > CONFIG_LIMIT:
                raise FileProblem(
                    file,
                    f"has {info.filename[:60]}, which unpacks to {info.file_size:,} bytes, more than the "
                    f"{CONFIG_LIMIT:,} a model's description may have (a damaged or hostile file)",
                )


def load_keras_networks(
    path: str | Path, latent_dim: int, image_shape: tuple[int, int, int]
) -> KerasNetworks:
    """The bundle folder's encoder.keras and decoder.keras, checked against the manifest's shapes."""
    path = Path(path)
    encoder, decoder = (load_model_file(_bundle_file(path, name)) for name in MODEL_FILES)
    check_networks(path, encoder, decoder, latent_dim, image_shape)
    return KerasNetworks(encoder, decoder)


def _bundle_file(path: Path, name: str) -> Path:
    try:
        return inside(path, name)
    except FileProblem as e:
        raise BundleError(f"{e}. {retrain_hint(path)}") from None


def check_networks(path: Path, encoder, decoder, d: int, image_shape: tuple[int, int, int]) -> None:
    """Finite weights; the encoder takes images of ``image_shape`` to two (N, d) outputs; the decoder
    takes (N, d) to images of ``image_shape``."""
    for model, name in ((encoder, "encoder.keras"), (decoder, "decoder.keras")):
        if not all(np.isfinite(w).all() for w in model.get_weights()):
            raise BundleError(
                f"{path / name} has NaN or infinite weights (training diverged). {retrain_hint(path)}"
            )
    try:
        outputs = encoder(np.zeros((1, *image_shape), np.float32), training=False)
        shapes = (
            [tuple(np.shape(o)) for o in outputs]
            if isinstance(outputs, (list, tuple))
            else [np.shape(outputs)]
        )
        image = np.asarray(decoder(np.zeros((1, d), np.float32), training=False))
    except (ValueError, TypeError) as e:
        raise BundleError(
            f"The models in {path} do not accept the manifest's shapes (latent_dim {d}, images "
            f"{image_shape}): {str(e)[:200]}. {retrain_hint(path)}"
        ) from None
    if shapes != [(1, d), (1, d)]:
        raise BundleError(
            f"{path / 'encoder.keras'} outputs {shapes}, but the manifest's latent_dim {d} needs "
            f"[z_mean, z_log_var] of shape (N, {d}) each. {retrain_hint(path)}"
        )
    if image.shape != (1, *image_shape):
        raise BundleError(
            f"{path / 'decoder.keras'} outputs {image.shape}, expected "
            f"(N, {', '.join(map(str, image_shape))}). {retrain_hint(path)}"
        )
