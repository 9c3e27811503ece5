"""A bundle's ONNX models: whether their graphs fit the bundle they came in.

The browser runs them (and, in time, the server): a ``decoder.onnx`` that takes 16 numbers in a
2-D bundle paints nothing, one with 100 outputs throws on every frame. This reads a model's graph
(no weights are run) and says what does not fit the manifest, so the app falls back to decoding
on the server with one line instead. No TensorFlow here.
"""

from __future__ import annotations

from .manifest import BrowserModel


def _dims(value) -> list[int | None]:
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
    inputs = {v.name: _dims(v) for v in graph.input if v.name not in weights}
    outputs = {v.name: _dims(v) for v in graph.output}
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
