"""Import a VAE you already trained: a Keras (.keras, .h5) or ONNX encoder and decoder, written as
an ordinary bundle (``python -m vae_core import``) that every view, ``evaluate``, ``list`` and
Compare treat like a trained one.

What the models look like is detected and stated (or given by a flag where it cannot be):

* the encoder's outputs: ``[z_mean, z_log_var]``, ``[z_mean, z_log_var, z]`` (keras.io) or one
  tensor of ``2 * latent_dim`` (PyTorch tutorials); log-variance or standard deviation;
* images as ``(H, W, C)``, ``(C, H, W)``, ``(H, W)`` or flattened, in and out;
* pixels in [0, 1], [-1, 1] or [0, 255], and a decoder giving probabilities or logits: the pair
  that reconstructs the data best is taken, and its error beside the others' is recorded.

The bundle's models follow this project's conventions: images ``(N, H, W, C)`` in [0, 1] in,
``[z_mean, z_log_var]`` out; Bernoulli means out of the decoder. Keras models are wrapped in
standard layers and three registered ones (``vae_core.adapters``); only what computes z_mean and
z_log_var is kept, so a sampling layer of the user's own goes. ONNX models get the same adapters
as graph nodes (``vae_core.onnx_adapt``) and the bundle holds them without Keras files. Before
anything is written, the models must agree on the latent size and the data's shape, and the
adapted models must give the source's numbers on 256 test images and 256 points.

Safe mode stays on: a Lambda layer or an unknown class is refused with the two ways out, a
``--custom-objects`` file of the user's own layer classes or ``--trust-code`` (recorded).
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import sha256_file
from .manifest import BundleError

TOLERANCE = 1e-4  # max |difference| between the adapted and the source models' outputs
PROBES = 256
RANGES = {"unit": (0.0, 1.0), "signed": (-1.0, 1.0), "byte": (0.0, 255.0)}  # --pixel-range
CANDIDATES = (("unit", "probs"), ("unit", "logits"), ("signed", "probs"), ("byte", "probs"))  # tried in turn
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
STANDARD_MODELS = {"Functional", "Sequential", "Model", "InputLayer"}


class ImportProblem(BundleError):
    """A model cannot be imported as given; the message says which check failed and how to fix it."""


@dataclass
class Source:
    """A model as the user gave it."""

    path: Path
    kind: str  # keras | onnx
    model: object  # keras.Model or onnx.ModelProto
    input_shape: tuple  # without the batch; None for a dimension the model leaves open
    output_shapes: list[tuple]
    output_names: list[str]
    session: object = None  # ONNX Runtime, for an ONNX model

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        x = np.asarray(x, np.float32)
        if self.kind == "onnx":
            return [
                np.asarray(o, np.float32)
                for o in self.session.run(None, {self.session.get_inputs()[0].name: x})
            ]
        out = self.model(x, training=False)
        return [np.asarray(o, np.float32) for o in (out if isinstance(out, (list, tuple)) else [out])]


@dataclass
class Conventions:
    """How the source models read and write, each with how it was decided."""

    latent_dim: int
    encoder_outputs: str  # pair | triple | concatenated
    sigma: str  # log_var | std
    image_input: str  # hwc | chw | hw | flat
    image_output: str
    pixel_range: str  # unit | signed | byte
    decoder_output: str  # probs | logits (for the unit range)
    how: dict = field(default_factory=dict)

    def as_manifest(self) -> dict:
        keys = ("latent_dim", "encoder_outputs", "sigma", "image_input", "image_output", "pixel_range")
        values = {k: getattr(self, k) for k in (*keys, "decoder_output")}
        return {k: {"value": v, "how": self.how.get(k, "")} for k, v in values.items()}


# ---------------------------------------------------------------------------- loading


def custom_objects_from(module_file: Path | None) -> dict:
    """The layer classes a user's own module defines (it runs: only with --custom-objects)."""
    if module_file is None:
        return {}
    import keras

    if not module_file.is_file():
        raise ImportProblem(f"--custom-objects {module_file}: no such file")
    spec = importlib.util.spec_from_file_location(
        f"vae_user_layers_{sha256_file(module_file)[:8]}", module_file
    )
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - the user's code: any failure is reported, in one line
        raise ImportProblem(
            f"--custom-objects {module_file} failed to run ({type(e).__name__}: {e})"
        ) from None
    found = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, keras.layers.Layer)
        and value.__module__ == module.__name__
    }
    if not found:
        raise ImportProblem(f"--custom-objects {module_file} defines no Keras layer classes")
    return found


def _keras_config(path: Path) -> dict:
    """The model description inside a .keras or .h5 file, read without building the model."""
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("config.json"))
        import h5py

        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
            return json.loads(raw.decode() if isinstance(raw, bytes) else raw) if raw is not None else {}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise ImportProblem(
            f"{path}: not a readable Keras model file ({type(e).__name__}: {str(e)[:120]})"
        ) from None


def _unusual_layers(config) -> tuple[list[str], list[str]]:
    """(Lambda layers' names, classes that are not Keras's own) anywhere in a model description."""
    import keras

    lambdas, custom = [], []

    def walk(node):
        if isinstance(node, dict):
            name = node.get("class_name")
            if isinstance(name, str):
                module = node.get("module")
                if name == "Lambda":  # its config holds the function, not layers
                    lambdas.append(str((node.get("config") or {}).get("name", "lambda")))
                    return
                elif module is not None and not str(module).startswith("keras"):
                    custom.append(str(node.get("registered_name") or name))
                elif module is None and name not in STANDARD_MODELS and not hasattr(keras.layers, name):
                    if "config" in node and isinstance(node["config"], dict) and "name" in node["config"]:
                        custom.append(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return lambdas, sorted({c for c in custom if not c.startswith("vae_core>")})


def load_keras_source(path: Path, custom_objects: dict, trust_code: bool) -> Source:
    """A .keras/.h5 model (safe mode unless ``trust_code``), with its shapes."""
    path = Path(path)
    lambdas, custom = _unusual_layers(_keras_config(path))
    missing = [c for c in custom if c.split(">")[-1] not in custom_objects]
    if lambdas and not trust_code:
        raise ImportProblem(
            f"{path}: layer {lambdas[0]!r} is a Lambda layer (Python code stored in the file), which safe "
            "mode does not run. Rewrite it as a layer class and pass --custom-objects my_layers.py, or, if "
            "you trust this file, pass --trust-code (recorded in the bundle's manifest)"
        )
    if missing:
        raise ImportProblem(
            f"{path}: needs the layer class(es) {', '.join(missing)}, which only your code defines: pass "
            "--custom-objects my_layers.py (a file that defines them)"
        )
    import keras

    try:
        model = keras.saving.load_model(
            path, custom_objects=custom_objects, safe_mode=not trust_code, compile=False
        )
    except Exception as e:  # noqa: BLE001 - Keras raises many kinds for a file it cannot rebuild
        raise ImportProblem(f"{path}: Keras could not load it ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        raise ImportProblem(f"{path}: expected a model with one input, got {len(model.inputs)}")
    outputs = model.outputs
    return Source(
        path,
        "keras",
        model,
        tuple(model.inputs[0].shape[1:]),
        [tuple(o.shape[1:]) for o in outputs],
        [str(n) for n in getattr(model, "output_names", None) or [o.name for o in outputs]],
    )


# ---------------------------------------------------------------------------- conventions


def layout_of(shape: tuple, image_shape: tuple[int, int, int], what: str) -> str:
    """How a model lays out images of ``image_shape``: hwc, chw, hw or flat (None dims match anything)."""
    h, w, c = image_shape

    def fits(want):
        return len(shape) == len(want) and all(s is None or s == v for s, v in zip(shape, want, strict=True))

    for name, want in (("hwc", (h, w, c)), ("chw", (c, h, w)), ("hw", (h, w)), ("flat", (h * w * c,))):
        if (name != "hw" or c == 1) and fits(want):
            return name
    raise ImportProblem(
        f"the {what} has images of shape {shape}, the data's are {h}x{w}x{c}: give the --data it was "
        "trained on (with --image-size or --channels if it was resized or converted)"
    )


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """(N, H, W, C) images in a model's layout."""
    n = len(x)
    return {"hwc": x, "chw": np.transpose(x, (0, 3, 1, 2)), "hw": x[..., 0], "flat": x.reshape(n, -1)}[layout]


def from_layout(y: np.ndarray, layout: str, image_shape) -> np.ndarray:
    """A model's images back to (N, H, W, C)."""
    h, w, c = image_shape
    if layout == "chw":
        return np.transpose(y.reshape(len(y), c, h, w), (0, 2, 3, 1))
    return y.reshape(len(y), h, w, c)


def to_range(x01: np.ndarray, pixel_range: str) -> np.ndarray:
    low, high = RANGES[pixel_range]
    return low + x01 * (high - low)


def to_unit(y: np.ndarray, pixel_range: str, decoder_output: str) -> np.ndarray:
    """A decoder's output as Bernoulli means in [0, 1]."""
    if pixel_range == "unit" and decoder_output == "logits":
        return 1.0 / (1.0 + np.exp(-y))
    low, high = RANGES[pixel_range]
    return np.clip((y - low) / (high - low), 0.0, 1.0)


def detect(
    encoder: Source,
    decoder: Source,
    images01: np.ndarray,
    *,
    sigma: str | None = None,
    pixel_range: str | None = None,
    decoder_output: str | None = None,
) -> Conventions:
    """Every convention, from the models' shapes and their numbers on the data (``images01``: a few
    test images (N, H, W, C) in [0, 1])."""
    shape = images01.shape[1:]
    how = {}
    image_input = layout_of(encoder.input_shape, shape, f"encoder ({encoder.path.name})")
    image_output = layout_of(decoder.output_shapes[0], shape, f"decoder's output ({decoder.path.name})")
    how["image_input"] = f"the encoder's input shape {encoder.input_shape}"
    how["image_output"] = f"the decoder's output shape {decoder.output_shapes[0]}"
    n_out = len(encoder.output_shapes)
    if n_out not in (1, 2, 3):
        raise ImportProblem(
            f"{encoder.path.name} has {n_out} outputs; expected [z_mean, z_log_var(, z)] or one"
        )
    encoder_outputs = {1: "concatenated", 2: "pair", 3: "triple"}[n_out]
    width = encoder.output_shapes[0][-1]
    latent_dim = width // 2 if n_out == 1 else width
    how["encoder_outputs"] = f"{n_out} output(s) of shape {encoder.output_shapes}"
    decoder_latent = decoder.input_shape[-1] if decoder.input_shape else None
    if not latent_dim or (decoder_latent is not None and decoder_latent != latent_dim):
        raise ImportProblem(
            f"the encoder gives a latent code of {latent_dim} numbers, the decoder takes {decoder_latent}: "
            "they are not a pair"
        )
    how["latent_dim"] = f"the encoder's z_mean has {latent_dim} numbers, the decoder takes {decoder_latent}"
    errors = {}
    for r, out in CANDIDATES:
        mean, _ = _split(encoder.run(to_layout(to_range(images01, r), image_input)), encoder_outputs)
        pictures = from_layout(decoder.run(mean)[0], image_output, shape)
        errors[(r, out)] = float(np.mean((to_unit(pictures, r, out) - images01) ** 2))
    listed = ", ".join(f"{r}/{o} {e:.4f}" for (r, o), e in sorted(errors.items(), key=lambda kv: kv[1]))
    (best_range, best_out), best = min(errors.items(), key=lambda kv: kv[1])
    allowed = {
        (r, o): e
        for (r, o), e in errors.items()
        if (pixel_range in (None, r)) and (decoder_output in (None, o) or r != "unit")
    }
    (given_range, given_out), given = min(allowed.items(), key=lambda kv: kv[1])
    if given > 2 * best + 0.005:  # the flags contradict what the data says
        flags = " ".join(
            f"--{k} {v}" for k, v in (("pixel-range", pixel_range), ("decoder-output", decoder_output)) if v
        )
        raise ImportProblem(
            f"{flags} does not fit these models: they reconstruct the data with a per-pixel MSE of "
            f"{given:.4f} that way, {best:.4f} with pixels in {RANGES[best_range]} and {best_out} out. "
            f"Leave the flag out to use what fits, or check the pair and the --data (MSE per way: {listed})"
        )
    best_range, best_out, best = given_range, given_out, given
    how["pixel_range"] = how["decoder_output"] = (
        f"{'given' if pixel_range or decoder_output else 'detected'}: reconstruction MSE per pixel {listed}"
    )
    if best > 0.25:
        raise ImportProblem(
            f"the models do not reconstruct the data under any pixel convention (best MSE {best:.3f}): check "
            "the pair, the --data, and --pixel-range"
        )
    if sigma is None:
        x = to_layout(to_range(images01, best_range), image_input)
        sigma, how["sigma"] = _detect_sigma(encoder, x, encoder_outputs)
    else:
        how["sigma"] = "given"
    return Conventions(
        latent_dim, encoder_outputs, sigma, image_input, image_output, best_range, best_out, how
    )


LOG_VAR_NAMES = ("log_var", "logvar", "log_sigma", "logsigma", "log_std", "logstd")
STD_NAMES = ("sigma", "std", "scale")


def _detect_sigma(encoder: Source, x: np.ndarray, encoder_outputs: str) -> tuple[str, str]:
    """Is the encoder's second output a log-variance or a standard deviation? (value, how). From its
    own samples z where it gives them, else the output's name, else the values' sign."""
    outputs = encoder.run(x)
    mean, second = _split(outputs, encoder_outputs)
    if encoder_outputs == "triple":
        spread = float(np.mean([np.mean(np.square(encoder.run(x)[2] - mean)) for _ in range(4)]))
        as_log_var = float(np.mean(np.exp(np.clip(second, -30, 30))))
        as_std = float(np.mean(np.square(second)))
        if spread > 0:
            log_var_off, std_off = abs(np.log(spread / as_log_var)), abs(np.log(spread / max(as_std, 1e-30)))
            sigma = "log_var" if log_var_off <= std_off else "std"
            return sigma, (
                f"detected from the encoder's own samples z: their variance {spread:.3g} is nearer "
                f"{'exp(second output)' if sigma == 'log_var' else 'the second output squared'} "
                f"({as_log_var if sigma == 'log_var' else as_std:.3g}) than "
                f"{'its square' if sigma == 'log_var' else 'its exp'} "
                f"({as_std if sigma == 'log_var' else as_log_var:.3g})"
            )
    name = encoder.output_names[1].lower() if len(encoder.output_names) > 1 else ""
    if any(k in name for k in LOG_VAR_NAMES):
        return "log_var", f"detected from the output's name {encoder.output_names[1]!r}"
    if any(k in name for k in STD_NAMES):
        return "std", f"detected from the output's name {encoder.output_names[1]!r}"
    if float(np.min(second)) < 0:
        return "log_var", "detected: some values are negative, so a log-variance"
    return "std", "detected: every value is positive, so a standard deviation (--sigma-output log_var if not)"


def _split(outputs: list[np.ndarray], encoder_outputs: str) -> tuple[np.ndarray, np.ndarray]:
    if encoder_outputs == "concatenated":
        half = outputs[0].shape[-1] // 2
        return outputs[0][..., :half], outputs[0][..., half:]
    return outputs[0], outputs[1]


def source_posterior(
    encoder: Source, conv: Conventions, images01: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(z_mean, z_log_var) as the source encoder says, in this project's terms (the reference the
    adapted model must match)."""
    mean, second = _split(
        encoder.run(to_layout(to_range(images01, conv.pixel_range), conv.image_input)), conv.encoder_outputs
    )
    log_var = 2.0 * np.log(np.maximum(second, 1e-12)) if conv.sigma == "std" else second
    return mean, log_var


def source_means(decoder: Source, conv: Conventions, z: np.ndarray, image_shape) -> np.ndarray:
    """Bernoulli means (N, H, W, C) as the source decoder gives them (the reference)."""
    pictures = from_layout(decoder.run(z)[0], conv.image_output, image_shape)
    return to_unit(pictures, conv.pixel_range, conv.decoder_output).astype(np.float32)


def check_close(what: str, got: np.ndarray, want: np.ndarray, tolerance: float = TOLERANCE) -> float:
    """The largest difference; ImportProblem when over ``tolerance``."""
    if got.shape != want.shape:
        raise ImportProblem(f"{what}: shape {got.shape}, expected {want.shape}")
    worst = float(np.max(np.abs(got - want))) if got.size else 0.0
    if not np.isfinite(worst) or worst > tolerance:
        raise ImportProblem(
            f"{what}: differs from the source model by up to {worst:.3g} (allowed {tolerance:g})"
        )
    return worst


def probe_points(encoder_mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """256 latent points: spread like the test set's codes, a little beyond."""
    spread = np.maximum(encoder_mean.std(axis=0), 1e-3)
    centre = encoder_mean.mean(axis=0)
    return (centre + rng.standard_normal((PROBES, encoder_mean.shape[1])) * spread * 1.5).astype(np.float32)
