"""A bundle's ONNX models: whether their graphs fit the bundle, and running them on the server.

The browser runs them with onnxruntime-web, the app's server with ONNX Runtime (so the app never
loads TensorFlow). A ``decoder.onnx`` that takes 16 numbers in a 2-D bundle would paint nothing,
one with 100 outputs would throw on every frame: :func:`shape_problem` reads a graph (no weights
are run) and says what does not fit the manifest.
"""

from __future__ import annotations

import os

import numpy as np

from .manifest import ONNX_PARTS, BrowserModel, BundleError, command_path, export_hint


def tensor_dims(value) -> list[int | None]:
    """A graph tensor's dimensions: ints where fixed, None where symbolic (the batch)."""
    dims = value.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else None for d in dims]


def shape_problem(
    model: BrowserModel, part: str, latent_dim: int, image_shape: tuple[int, ...]
) -> str | None:
    """Why an ONNX encoder or decoder does not fit a bundle of ``latent_dim`` and ``image_shape``
    (None: it fits): its named tensors exist, they are the only ones, and their fixed sizes agree."""
    import onnx

    try:
        graph = onnx.load(str(model.file), load_external_data=False).graph
    except Exception as e:  # noqa: BLE001 - a damaged file may fail any way inside protobuf
        return f"{model.file.name} cannot be read as an ONNX model ({type(e).__name__})"
    weights = {t.name for t in graph.initializer}
    inputs = {v.name: tensor_dims(v) for v in graph.input if v.name not in weights}
    outputs = {v.name: tensor_dims(v) for v in graph.output}
    if set(inputs) != set(model.inputs) or set(outputs) != set(model.outputs):
        return (
            f"{model.file.name} has inputs {sorted(inputs)[:5]} and {len(outputs)} output(s) "
            f"{sorted(outputs)[:5]}, but the manifest names {list(model.inputs)} and {list(model.outputs)}"
        )
    image = [None, *image_shape]
    want_in = [None, latent_dim] if part == "decoder" else image
    want_out = [image] if part == "decoder" else [[None, latent_dim], [None, latent_dim]]
    for got, want, what in [
        (inputs[model.inputs[0]], want_in, "takes"),
        *((outputs[name], w, "gives") for name, w in zip(model.outputs, want_out, strict=True)),
    ]:
        fits = len(got) == len(want) and all(
            g is None or w is None or g == w for g, w in zip(got, want, strict=True)
        )
        if not fits:
            shown = "x".join("N" if g is None else str(g) for g in got)
            expected = "x".join("N" if w is None else str(w) for w in want)
            return f"{model.file.name} {what} {shown} values, but this bundle needs {expected}"
    return None


# ---------------------------------------------------------------------------- serving

# Ops that only move values around: a sigmoid followed by them still ends the decoder.
_LAYOUT_OPS = {"Reshape", "Transpose", "Identity", "Squeeze", "Unsqueeze", "Flatten"}


def logits_model(model):
    """A copy of a decoder's ONNX graph whose output is the logits: the final Sigmoid (followed only
    by layout ops) becomes an Identity. None when the graph does not end that way."""
    import onnx

    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    node = producers.get(graph.output[0].name)
    while node is not None and node.op_type in _LAYOUT_OPS:
        node = producers.get(node.input[0])
    if node is None or node.op_type != "Sigmoid":
        return None
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for n in copy.graph.node:
        if n.op_type == "Sigmoid" and list(n.output) == list(node.output):
            n.op_type = "Identity"
            n.name = f"{n.name}_logits"
    return copy


class OnnxNetworks:
    """A bundle's encoder and decoder run by ONNX Runtime on the CPU, as numpy functions
    (vae_core.evaluate.Networks): what the app serves with, no TensorFlow."""

    def __init__(
        self, encoder: BrowserModel, decoder: BrowserModel, latent_dim: int, image_shape, threads: int
    ):
        import onnx

        self._open(
            onnx.load(str(encoder.file), load_external_data=False),
            onnx.load(str(decoder.file), load_external_data=False),
            (encoder.inputs[0], list(encoder.outputs), decoder.inputs[0], decoder.outputs[0]),
            latent_dim,
            image_shape,
            threads,
        )

    @classmethod
    def of_graphs(cls, encoder, decoder, latent_dim: int, image_shape, threads: int = 1) -> OnnxNetworks:
        """Networks of in-memory graphs (an import, before its bundle is written): the encoder's first
        two outputs are z_mean and z_log_var."""
        self = cls.__new__(cls)
        names = (
            encoder.graph.input[0].name,
            [o.name for o in encoder.graph.output[:2]],
            decoder.graph.input[0].name,
            decoder.graph.output[0].name,
        )
        self._open(encoder, decoder, names, latent_dim, image_shape, threads)
        return self

    def _open(self, encoder, decoder, names, latent_dim: int, image_shape, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Threads wait on a condition, not in a spin loop: sessions share two cores with the server.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        cpu = ["CPUExecutionProvider"]
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        self._encoder_input, self._encoder_outputs, self._decoder_input, self._decoder_output = names
        self._encoder = ort.InferenceSession(encoder.SerializeToString(), options, providers=cpu)
        logits = logits_model(decoder)
        self._logits_given = logits is not None
        self._decoder = ort.InferenceSession((logits or decoder).SerializeToString(), options, providers=cpu)

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(images, dtype=np.float32).reshape(-1, *self.image_shape)
        z_mean, z_log_var = self._encoder.run(self._encoder_outputs, {self._encoder_input: x})
        return z_mean.astype(np.float32), z_log_var.astype(np.float32)

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        (out,) = self._decoder.run([self._decoder_output], {self._decoder_input: z})
        out = out.reshape(len(z), *self.image_shape)
        if not self._logits_given:  # a decoder that does not end in a sigmoid gives probabilities
            p = np.clip(out, 1e-7, 1 - 1e-7)
            out = np.log(p) - np.log1p(-p)
        return out.astype(np.float32)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Bernoulli means (n, H, W, C) float32 of latent points (n, latent_dim) or one (latent_dim,)."""
        return (1.0 / (1.0 + np.exp(-self.decode_logits(z).astype(np.float64)))).astype(np.float32)


def load_onnx_networks(bundle, threads: int | None = None) -> OnnxNetworks:
    """The bundle's ONNX encoder and decoder (checked against its manifest) in ONNX Runtime.
    A bundle without them (schema 1) cannot be served without TensorFlow: BundleError says how to
    add them."""
    models = bundle.browser_models
    path = bundle.path
    if not models:
        raise BundleError(
            f"{path} has no ONNX models, which the app serves with (it was made before them): add them "
            f"with `python -m vae_core export-onnx {command_path(path)}` (no retraining)."
        )
    for part in ONNX_PARTS:
        problem = shape_problem(models[part], part, bundle.latent_dim, bundle.data.image_shape)
        if problem:
            raise BundleError(f"{problem}. {export_hint(path)}")
    threads = threads or min(2, os.cpu_count() or 1)
    try:
        return OnnxNetworks(
            models["encoder"], models["decoder"], bundle.latent_dim, bundle.data.image_shape, threads
        )
    except Exception as e:  # noqa: BLE001 - ONNX Runtime raises its own exception types for a bad graph
        raise BundleError(
            f"{path}'s ONNX models cannot be run ({type(e).__name__}: {str(e)[:200]}). {export_hint(path)}"
        ) from None
