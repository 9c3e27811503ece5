"""Light copies of a bundle's ONNX models for the browser: the same graph, smaller weights.

What a visitor downloads is mostly weights. Each large weight matrix or kernel can be stored as
``int8`` (symmetric, one scale per output channel, read back by a Cast and a Mul: a quarter of
the bytes) or ``float16`` (read back by a Cast node: half). Both are turned back into float32
inside the graph, once, when the runtime loads it (constant folding), so the arithmetic and the
time per decode stay as they were.

The choice is measured, per tensor, on probes (points where the data is; real images): start with
every large tensor in float16, then move tensors to int8, the largest first, while the decoded
pixels stay within ``DECODER_TOLERANCE`` of the float32 model and the encoder's mu within
``ENCODER_TOLERANCE`` map units. (int8 everywhere moves a decoder's pixels by several grey levels:
the convolutions amplify their rounding, and so do the map's empty corners; bench/light_models.py
measures each choice.) A model that is not within tolerance even in float16 gets no light copy.
The server keeps computing every exact number (metrics, -ELBO) with the float32 models.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .atomic import sha256_file

DECODER_TOLERANCE = 2.0 / 255.0  # max |pixel difference|: at most two grey levels of 255
ENCODER_TOLERANCE = 0.02  # max distance of mu on the map, in map units
# A copy is kept only when its error on the probes is at most this share of the tolerance: the
# probes are a sample (on 512 other points the shipped 2-D decoder's int8 copy erred 8% more).
MARGIN = 0.5
MIN_WEIGHTS = 4096  # smaller tensors, and every bias (1-D), stay float32: they cost little
PROBES = 256


def _readers(graph) -> dict[str, list[tuple[str, int]]]:
    """Tensor name -> the (op type, input position) of every node that reads it."""
    users: dict[str, list[tuple[str, int]]] = {}
    for node in graph.node:
        for k, name in enumerate(node.input):
            users.setdefault(name, []).append((node.op_type, k))
    return users


def _channel_axis(users: list[tuple[str, int]], ndim: int) -> int | None:
    """The output-channel axis of a weight, when every reader agrees on it (else None: one scale)."""
    axes = set()
    for op, k in users:
        if op == "MatMul" and k == 1 and ndim == 2:
            axes.add(1)
        elif op == "Conv" and k == 1:
            axes.add(0)
        elif op == "ConvTranspose" and k == 1:
            axes.add(1)
        else:
            return None
    return axes.pop() if len(axes) == 1 else None


def weights(model) -> list[str]:
    """Names of the tensors a light copy may store smaller, largest first."""
    from onnx import TensorProto

    def size(init) -> int:
        return int(np.prod(init.dims))

    big = [
        init
        for init in model.graph.initializer
        if init.data_type == TensorProto.FLOAT and len(init.dims) >= 2 and size(init) >= MIN_WEIGHTS
    ]
    return [init.name for init in sorted(big, key=size, reverse=True)]


def _int8(w: np.ndarray, axis: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, float32 scale) with w ~= values * scale, symmetric, one scale per channel
    along ``axis`` (shaped to broadcast against w) or one for all."""
    others = tuple(i for i in range(w.ndim) if i != axis)
    scale = (np.maximum(np.abs(w).max(axis=others, keepdims=True), 1e-12) / 127.0).astype(np.float32)
    return np.clip(np.rint(w / scale), -127, 127).astype(np.int8), scale


def lighten(model, precisions: dict[str, str]):
    """A copy of an ONNX model whose initializers named in ``precisions`` are stored as "int8" or
    "float16" and read back as float32 by a node in front of the graph."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    light = onnx.ModelProto()
    light.CopyFrom(model)
    graph = light.graph
    users = _readers(graph)
    kept, added, nodes = [], [], []
    for init in graph.initializer:
        precision = precisions.get(init.name)
        if precision is None:
            kept.append(init)
            continue
        w = numpy_helper.to_array(init)
        if precision == "float16":
            stored = numpy_helper.from_array(w.astype(np.float16), f"{init.name}/float16")
            added.append(stored)
            nodes.append(helper.make_node("Cast", [stored.name], [init.name], to=TensorProto.FLOAT))
        elif precision == "int8":
            # Cast and Mul rather than DequantizeLinear: runtimes fold constant Casts and Muls into
            # float32 weights once, when the session starts, but run DequantizeLinear every time.
            values, scale = _int8(w, _channel_axis(users.get(init.name, []), w.ndim))
            stored = numpy_helper.from_array(values, f"{init.name}/int8")
            scales = numpy_helper.from_array(scale, f"{init.name}/scale")
            added += [stored, scales]
            nodes.append(helper.make_node("Cast", [stored.name], [f"{init.name}/wide"], to=TensorProto.FLOAT))
            nodes.append(helper.make_node("Mul", [f"{init.name}/wide", scales.name], [init.name]))
        else:
            raise ValueError(f"unknown precision {precision!r}")
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    old = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + old)  # the new nodes read only initializers: in front is topological
    onnx.checker.check_model(light)
    return light


def _session(model):
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _outputs(model, inputs: np.ndarray) -> np.ndarray:
    session = _session(model)
    return session.run(None, {session.get_inputs()[0].name: inputs.astype(np.float32)})[0]


def decoder_error(points: np.ndarray) -> Callable:
    """(full, light) -> max |pixel difference| of two decoders (probabilities) on latent points."""
    cache: dict[int, np.ndarray] = {}

    def error(full, light) -> float:
        reference = cache.setdefault(id(full), _outputs(full, points))
        return float(np.abs(_outputs(light, points) - reference).max())

    return error


def encoder_error(images: np.ndarray, components: np.ndarray) -> Callable:
    """(full, light) -> max distance on the map between two encoders' mu (``components``: the
    map's (2, d) projection; the encoder's first output is mu)."""
    cache: dict[int, np.ndarray] = {}

    def error(full, light) -> float:
        reference = cache.setdefault(id(full), _outputs(full, images))
        return float(np.linalg.norm((_outputs(light, images) - reference) @ components.T, axis=1).max())

    return error


def choose(model, error: Callable, tolerance: float):
    """(light model, precisions, error) of the smallest copy found whose error on the probes is
    within MARGIN * tolerance, or None."""
    tolerance = MARGIN * tolerance
    precisions = {name: "float16" for name in weights(model)}
    if not precisions:
        return None
    light = lighten(model, precisions)
    worst = error(model, light)
    if worst > tolerance:
        return None
    for name in list(precisions):  # largest first: most of the bytes are in a few tensors
        trial = {**precisions, name: "int8"}
        candidate = lighten(model, trial)
        e = error(model, candidate)
        if e <= tolerance:
            precisions, light, worst = trial, candidate, e
    return light, precisions, worst


def probes(z_mean: np.ndarray, images: np.ndarray | None, seed: int = 0):
    """(latent points, images or None) the light copies are measured on: PROBES codes of test images
    and PROBES points drawn uniformly from the box the codes span (where the sliders and the map
    reach, away from the data too); PROBES of the test images."""
    rng = np.random.default_rng(seed)
    z = np.asarray(z_mean, dtype=np.float32)
    rows = rng.choice(len(z), min(PROBES, len(z)), replace=False)
    box = rng.uniform(z.min(axis=0), z.max(axis=0), size=(PROBES, z.shape[1])).astype(np.float32)
    if images is not None:
        images = np.asarray(images)[rng.choice(len(images), min(PROBES, len(images)), replace=False)]
    return np.concatenate([z[rows], box]), images


def export_light_models(
    folder: Path, entry: dict, z_mean: np.ndarray, images: np.ndarray | None = None, report=print
) -> dict:
    """Write ``<part>.light.onnx`` beside each ONNX model in ``entry`` (the manifest's "onnx"
    entry) whose light copy stays within tolerance; return the manifest's "light" entry.
    ``images`` (n, H, W, C) float32 in [0, 1] are the encoder's probes: without them (or when no
    copy is close enough) a part has no light copy and the browser fetches the float32 model."""
    import onnx

    from .geometry import fit_projection

    points, images = probes(z_mean, images)
    errors = {"decoder": decoder_error(points)}
    if images is not None:
        errors["encoder"] = encoder_error(images, fit_projection(np.asarray(z_mean, np.float64)).components)
    out = {}
    for part, tolerance in (("decoder", DECODER_TOLERANCE), ("encoder", ENCODER_TOLERANCE)):
        full = onnx.load(str(Path(folder) / entry[part]["file"]))
        if not weights(full):
            continue  # every weight is small already: nothing to gain
        if part not in errors:
            report(f"no light {part}: no test images to measure it on (the browser gets the float32 one)")
            continue
        found = choose(full, errors[part], tolerance)
        if found is None:
            report(f"no light {part}: even float16 weights move it more than {MARGIN * tolerance:.4f}")
            continue
        light, precisions, worst = found
        file = Path(folder) / f"{part}.light.onnx"
        onnx.save(light, str(file))
        out[part] = {
            "file": file.name,
            "sha256": sha256_file(file),
            "inputs": entry[part]["inputs"],
            "outputs": entry[part]["outputs"],
            # how many weight tensors are stored each way; the rest stay float32
            "weights": {p: sum(1 for v in precisions.values() if v == p) for p in ("int8", "float16")},
            "max_error": round(worst, 6),  # on the probes, against the float32 model
            "tolerance": round(tolerance, 6),
            "probes": len(points) if part == "decoder" else len(images),
        }
    return out
