"""Imported ONNX models (from any framework, e.g. ``torch.onnx.export``): read them, and give them
this project's conventions by adding nodes around their graphs, so the bundle needs no Keras.

The encoder gets an ``images`` input (N, H, W, C) in [0, 1] and two outputs, ``z_mean`` and
``z_log_var``; the decoder a ``z`` input and one output of Bernoulli means (N, H, W, C). In
between: a scale and an offset for the source's pixel range, a Transpose or Reshape for its image
layout, a Slice for one concatenated output, 2 log(sigma) for a standard deviation, a Sigmoid
for logits (see vae_core.importer for how each is decided).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .importer import RANGES, ImportProblem, Source
from .onnx_models import tensor_dims

MIN_OPSET = 11  # Slice and Clip with their arguments as inputs
RESERVED = ("images", "z", "z_mean", "z_log_var", "means")  # the adapted models' tensor names


def load_onnx_source(path: Path) -> Source:
    import onnx
    import onnxruntime as ort

    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as e:  # noqa: BLE001 - onnx raises its own kinds for a damaged file
        raise ImportProblem(f"{path}: not a valid ONNX model ({type(e).__name__}: {str(e)[:160]})") from None
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise ImportProblem(f"{path}: opset {opset}; export it again with opset {MIN_OPSET} or newer")
    domains = {n.domain for n in model.graph.node} - {"", "ai.onnx"}
    if domains:
        raise ImportProblem(f"{path}: uses non-standard operators ({', '.join(sorted(domains))})")
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise ImportProblem(f"{path}: expected one input, got {len(inputs)}")
    batch = (tensor_dims(inputs[0]) or [None])[0]
    if batch is not None and batch > 0:
        raise ImportProblem(
            f"{path}: its input takes batches of exactly {batch}; export it with a dynamic batch dimension "
            "(torch.onnx.export(..., dynamic_axes={'input': {0: 'batch'}}))"
        )
    try:
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - ONNX Runtime's own exception types
        raise ImportProblem(f"{path}: ONNX Runtime cannot run it ({str(e)[:160]})") from None
    return Source(
        path,
        "onnx",
        model,
        tuple(tensor_dims(inputs[0])[1:]),
        [tuple(tensor_dims(o)[1:]) for o in model.graph.output],
        [o.name for o in model.graph.output],
        session,
    )


class _Graph:
    """A source graph being wrapped: new nodes and constants, names that cannot clash."""

    def __init__(self, source: Source):
        import onnx

        self.model = onnx.ModelProto()
        self.model.CopyFrom(source.model)
        self.graph = self.model.graph
        self.count = 0
        self._rename(RESERVED)
        weights = {t.name for t in self.graph.initializer}
        self.old_input = next(i.name for i in self.graph.input if i.name not in weights)
        self.before, self.after = [], []

    def _rename(self, names: tuple[str, ...]) -> None:
        """Tensors of the source named like the bundle's own get another name (no clash)."""
        g = self.graph
        taken = {
            *(o for n in g.node for o in n.output),
            *(i.name for i in g.input),
            *(t.name for t in g.initializer),
        }
        renames = {name: f"source_{name}" for name in names if name in taken}
        if not renames:
            return
        for n in g.node:
            n.input[:] = [renames.get(x, x) for x in n.input]
            n.output[:] = [renames.get(x, x) for x in n.output]
        for value in (*g.input, *g.output, *g.value_info, *g.initializer):
            value.name = renames.get(value.name, value.name)

    def name(self, what: str) -> str:
        self.count += 1
        return f"vae_adapt_{what}_{self.count}"

    def const(self, values, dtype=np.float32) -> str:
        from onnx import numpy_helper

        name = self.name("const")
        self.graph.initializer.append(numpy_helper.from_array(np.asarray(values, dtype), name))
        return name

    def node(self, op: str, inputs: list[str], nodes: list, output: str | None = None, **attrs) -> str:
        from onnx import helper

        output = output or self.name(op.lower())
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def finish(self, new_input, outputs) -> object:
        """Replace the input with ``new_input`` (fed to what the old input fed), and the outputs."""
        import onnx

        for n in self.graph.node:
            for k, name in enumerate(n.input):
                if name == self.old_input:
                    n.input[k] = self.feed
        kept = [i for i in self.graph.input if i.name != self.old_input]
        del self.graph.input[:]
        self.graph.input.extend([new_input, *kept])
        original = list(self.graph.node)
        del self.graph.node[:]
        self.graph.node.extend(self.before + original + self.after)
        del self.graph.output[:]
        self.graph.output.extend(outputs)
        del self.graph.value_info[:]  # shapes inferred for the old input no longer hold
        onnx.checker.check_model(self.model)
        return self.model


def _value(name: str, dims: list) -> object:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def adapt_encoder(source: Source, conv, image_shape: tuple[int, int, int]):
    """The source encoder inside images (N, H, W, C) in [0, 1] -> z_mean, z_log_var."""
    g = _Graph(source)
    h, w, c = image_shape
    x = "images"
    low, high = RANGES[conv.pixel_range]
    if (low, high) != (0.0, 1.0):
        x = g.node("Mul", [x, g.const(high - low)], g.before)
        x = g.node("Add", [x, g.const(low)], g.before)
    if conv.image_input == "chw":
        x = g.node("Transpose", [x], g.before, perm=[0, 3, 1, 2])
    elif conv.image_input in ("hw", "flat"):
        shape = [-1, h, w] if conv.image_input == "hw" else [-1, h * w * c]
        x = g.node("Reshape", [x, g.const(shape, np.int64)], g.before)
    g.feed = x
    outs = [o.name for o in g.graph.output]
    d = conv.latent_dim
    if conv.encoder_outputs == "concatenated":
        axes = g.const([-1], np.int64)
        mean = g.node("Slice", [outs[0], g.const([0], np.int64), g.const([d], np.int64), axes], g.after)
        second = g.node("Slice", [outs[0], g.const([d], np.int64), g.const([2 * d], np.int64), axes], g.after)
    else:
        mean, second = outs[0], outs[1]
    if conv.sigma == "std":
        second = g.node("Max", [second, g.const(1e-12)], g.after)
        second = g.node("Log", [second], g.after)
        second = g.node("Mul", [second, g.const(2.0)], g.after)
    g.node("Identity", [mean], g.after, output="z_mean")
    g.node("Identity", [second], g.after, output="z_log_var")
    return g.finish(
        _value("images", ["N", h, w, c]), [_value("z_mean", ["N", d]), _value("z_log_var", ["N", d])]
    )


def adapt_decoder(source: Source, conv, image_shape: tuple[int, int, int]):
    """The source decoder inside z (N, latent_dim) -> Bernoulli means (N, H, W, C)."""
    g = _Graph(source)
    h, w, c = image_shape
    g.feed = "z"
    y = g.graph.output[0].name
    if conv.image_output == "chw":
        y = g.node("Reshape", [y, g.const([-1, c, h, w], np.int64)], g.after)
        y = g.node("Transpose", [y], g.after, perm=[0, 2, 3, 1])
    else:
        y = g.node("Reshape", [y, g.const([-1, h, w, c], np.int64)], g.after)
    if conv.pixel_range == "unit" and conv.decoder_output == "logits":
        g.node("Sigmoid", [y], g.after, output="means")
    else:
        low, high = RANGES[conv.pixel_range]
        if (low, high) != (0.0, 1.0):
            y = g.node("Sub", [y, g.const(low)], g.after)
            y = g.node("Div", [y, g.const(high - low)], g.after)
        g.node("Clip", [y, g.const(0.0), g.const(1.0)], g.after, output="means")
    return g.finish(_value("z", ["N", conv.latent_dim]), [_value("means", ["N", h, w, c])])
