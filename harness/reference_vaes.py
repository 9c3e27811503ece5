"""Small VAEs in the shapes people bring to ``python -m vae_core import`` (issue 24), written the way
their references write them, trained a few steps on the images given (the importer checks that a
pair reconstructs the data, and the explorer works on any weights):

* ``keras_io``: keras.io's conv VAE; the encoder returns ``[z_mean, z_log_var, z]`` from its own
  ``Sampling`` layer class; saved as ``.keras`` (import with ``--custom-objects``);
* ``notebook``: the dense 784-input VAE of the Chollet-style notebooks, flat images, sampling in a
  ``Lambda`` layer; saved as ``encoder.h5``, ``decoder.h5`` and ``vae.h5`` (import with
  ``--trust-code``);
* ``course``: a course assignment's ``SampleLayer`` with an MSE loss, images ``(H, W)`` in
  [-1, 1] out of a tanh, the encoder's second output a standard deviation; ``.keras``;
* ``onnx_graph``: a linear encoder and decoder written with ``onnx.helper`` the way PyTorch
  exports them: NCHW images, one output of ``2 * latent_dim``, a decoder that gives logits.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SAMPLING = '''
import keras


class Sampling(keras.layers.Layer):
    """keras.io's: z = z_mean + exp(z_log_var / 2) * epsilon."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=keras.ops.shape(z_mean))
        return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon


class SampleLayer(keras.layers.Layer):
    """A course assignment's: z = mu + sigma * epsilon."""

    def call(self, inputs):
        mu, sigma = inputs
        return mu + sigma * keras.random.normal(shape=keras.ops.shape(mu))
'''


def layers_module(folder: Path) -> Path:
    """The user's layer classes as a file, for ``--custom-objects``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "my_layers.py"
    path.write_text(SAMPLING)
    return path


def _layers(folder: Path):
    path = layers_module(folder)
    spec = importlib.util.spec_from_file_location("my_layers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fit(encoder, decoder, x, target, steps: int, mse: bool = False, sigma_is_std: bool = False) -> None:
    """A few Adam steps on the ELBO (or MSE + KL) of encoder -> decoder, on the z_mean path."""
    import keras
    import tensorflow as tf

    optimiser = keras.optimizers.Adam(3e-3)
    variables = encoder.trainable_variables + decoder.trainable_variables
    x, target = tf.constant(x, tf.float32), tf.constant(target, tf.float32)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            mean, second = encoder(x)[:2]
            out = decoder(mean)
            if mse:
                recon = tf.reduce_mean(tf.square(out - target))
            else:
                recon = tf.reduce_mean(
                    keras.losses.binary_crossentropy(
                        tf.reshape(target, (len(x), -1)), tf.reshape(out, (len(x), -1))
                    )
                )
            log_var = 2 * tf.math.log(second + 1e-6) if sigma_is_std else second
            kl = tf.reduce_mean(-0.5 * (1 + log_var - tf.square(mean) - tf.exp(log_var))) * 1e-3
            loss = recon + kl
        optimiser.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))


def keras_io(folder: Path, images: np.ndarray, latent_dim: int = 2, steps: int = 60) -> tuple[Path, Path]:
    """keras.io's conv VAE for (28, 28, 1) images in [0, 1]: encoder.keras, decoder.keras."""
    import keras

    keras.utils.set_random_seed(0)  # the same weights every run: the tests' numbers repeat
    from keras import layers

    sampling = _layers(folder).Sampling
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = sampling()([z_mean, z_log_var])
    encoder = keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")
    latent = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 16, activation="relu")(latent)
    x = layers.Reshape((7, 7, 16))(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(latent, outputs, name="decoder")
    _fit(encoder, decoder, images, images, steps)
    encoder.save(folder / "encoder.keras")
    decoder.save(folder / "decoder.keras")
    return folder / "encoder.keras", folder / "decoder.keras"


def notebook(folder: Path, images: np.ndarray, latent_dim: int = 2, steps: int = 80) -> tuple[Path, Path]:
    """The Chollet-style dense VAE on flattened 784-pixel images: encoder.h5, decoder.h5, vae.h5."""
    import keras

    keras.utils.set_random_seed(0)  # the same weights every run: the tests' numbers repeat
    from keras import layers

    folder.mkdir(parents=True, exist_ok=True)
    flat = images.reshape(len(images), -1)
    x = keras.Input(shape=(flat.shape[1],))
    h = layers.Dense(64, activation="relu")(x)
    z_mean = layers.Dense(latent_dim)(h)
    z_log_var = layers.Dense(latent_dim)(h)
    z = layers.Lambda(  # stored as Python bytecode, as Keras 2 notebooks stored their sampling function
        lambda t: (
            t[0]
            + __import__("keras").ops.exp(0.5 * t[1])
            * __import__("keras").random.normal(__import__("keras").ops.shape(t[0]))
        ),  # (no closure: the function is marshalled into the file)
        output_shape=(latent_dim,),
        name="z",
    )([z_mean, z_log_var])
    encoder = keras.Model(x, [z_mean, z_log_var, z], name="encoder")
    latent = keras.Input(shape=(latent_dim,))
    hidden = layers.Dense(64, activation="relu")(latent)
    decoder = keras.Model(latent, layers.Dense(flat.shape[1], activation="sigmoid")(hidden), name="decoder")
    vae = keras.Model(x, decoder(encoder(x)[2]), name="vae")
    _fit(encoder, decoder, flat, flat, steps)
    for model, name in ((encoder, "encoder"), (decoder, "decoder"), (vae, "vae")):
        keras.saving.save_model(model, folder / f"{name}.h5")
    return folder / "encoder.h5", folder / "decoder.h5"


def course(folder: Path, images: np.ndarray, latent_dim: int = 2, steps: int = 80) -> tuple[Path, Path]:
    """A SampleLayer + MSE model: (H, W) images in [-1, 1], [mu, sigma, z] out, tanh decoder."""
    import keras

    keras.utils.set_random_seed(0)  # the same weights every run: the tests' numbers repeat
    from keras import layers

    sample_layer = _layers(folder).SampleLayer
    signed = images[..., 0] * 2.0 - 1.0
    h, w = signed.shape[1:]
    x = keras.Input(shape=(h, w))
    hidden = layers.Dense(48, activation="relu")(layers.Flatten()(x))
    mu = layers.Dense(latent_dim, name="mu")(hidden)
    sigma = layers.Dense(latent_dim, activation="softplus", name="sigma")(hidden)
    encoder = keras.Model(x, [mu, sigma, sample_layer()([mu, sigma])], name="encoder")
    latent = keras.Input(shape=(latent_dim,))
    out = layers.Dense(h * w, activation="tanh")(layers.Dense(48, activation="relu")(latent))
    decoder = keras.Model(latent, layers.Reshape((h, w))(out), name="decoder")
    _fit(encoder, decoder, signed, signed, steps, mse=True, sigma_is_std=True)
    encoder.save(folder / "encoder.keras")
    decoder.save(folder / "decoder.keras")
    return folder / "encoder.keras", folder / "decoder.keras"


def _tensor(value) -> np.ndarray:
    value = np.asarray(value)
    return value.astype(np.float32) if value.dtype.kind == "f" else value.astype(np.int64)


def onnx_graph(folder: Path, images: np.ndarray, latent_dim: int = 2) -> tuple[Path, Path]:
    """A linear (PCA) encoder and decoder as ONNX graphs the way torch.onnx.export writes them:
    NCHW input, one output [mu, log_var], a decoder giving logits (N, C, H, W)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    n, h, w, c = images.shape
    flat = np.transpose(images, (0, 3, 1, 2)).reshape(n, -1).astype(np.float64)
    centre = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - centre, full_matrices=False)
    basis = vt[:latent_dim].T  # (D, latent)
    w_enc = np.concatenate([basis, np.zeros_like(basis)], axis=1)
    b_enc = np.concatenate([-centre @ basis, np.full(latent_dim, -2.0)])
    codes = np.concatenate([(flat - centre) @ basis, np.ones((n, 1))], axis=1)
    p = np.clip(flat, 0.02, 0.98)
    fit = np.linalg.lstsq(codes, np.log(p) - np.log1p(-p), rcond=None)[0]  # the codes' logits, least squares
    w_dec, b_dec = fit[:-1], fit[-1]

    def save(nodes, inputs, outputs, weights, name):
        graph = helper.make_graph(
            nodes,
            name,
            inputs,
            outputs,
            [numpy_helper.from_array(_tensor(v), k) for k, v in weights.items()],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, folder / f"{name}.onnx")
        return folder / f"{name}.onnx"

    encoder = save(
        [
            helper.make_node("Flatten", ["input"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "W", "b"], ["output"]),
        ],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", c, h, w])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 2 * latent_dim])],
        {"W": w_enc, "b": b_enc},
        "encoder",
    )
    decoder = save(
        [
            helper.make_node("Gemm", ["latent", "W", "b"], ["flat"]),
            helper.make_node("Reshape", ["flat", "shape"], ["logits"]),
        ],
        [helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["batch", latent_dim])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", c, h, w])],
        {"W": w_dec, "b": b_dec, "shape": np.array([-1, c, h, w])},
        "decoder",
    )
    return encoder, decoder


def imported_artifacts(root: Path, names=("keras_io", "onnx")) -> Path:
    """``root/artifacts`` holding the named references imported (python -m vae_core import) on 28x28
    grey blobs: one bundle per reference, named after it with dashes."""
    from harness.image_sets import grey_blobs_npz
    from vae_core.cli import main

    data = grey_blobs_npz(root / "blobs.npz", n_train=200, n_test=60, size=28)
    images = (np.load(data)["x_train"][..., None] / 255.0).astype(np.float32)
    for name in names:
        folder = root / name
        if name == "onnx":
            encoder, decoder, flags = *onnx_graph(folder, images), []
        else:
            encoder, decoder = {"keras_io": keras_io, "notebook": notebook, "course": course}[name](
                folder, images
            )
            flags = (
                ["--trust-code"] if name == "notebook" else ["--custom-objects", str(folder / "my_layers.py")]
            )
        out = root / "artifacts" / name.replace("_", "-")
        argv = ["import", "--encoder", str(encoder), "--decoder", str(decoder), "--out", str(out)]
        if main([*argv, "--data", str(data), "--iw-samples", "2", *flags]) != 0:
            raise RuntimeError(f"importing the {name} reference failed")
    return root / "artifacts"
