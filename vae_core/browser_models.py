"""Browser models: the encoder and decoder as ONNX files, for decoding under the pointer.

A bundle of schema version 2 may carry `encoder.onnx` and `decoder.onnx`, exported with Keras's
own `model.export(path, format="onnx")` (tf2onnx under the TensorFlow backend). The manifest
names each file's tensors and SHA-256 under "onnx" (see shared/DESIGN.md):

    "onnx": {"encoder": {"file", "sha256", "inputs": [name], "outputs": [z_mean, z_log_var]},
             "decoder": {"file", "sha256", "inputs": [name], "outputs": [name]},
             "exporter": {"keras", "tf2onnx", "onnx", "opset"}}

Reading and verifying those entries is ``vae_core.manifest.browser_models_of`` (no TensorFlow);
exporting them is here and needs tf2onnx and onnx.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from .atomic import sha256_file, staged_folder
from .bundle import MAX_TEST_POINTS, bundle_arrays, load_test_images
from .light_models import export_light_models
from .manifest import (
    ONNX_OUTPUTS,
    ONNX_PARTS,
    BundleError,
    browser_models_of,
    read_manifest,
    with_browser_models,
)

# onnxruntime-web 1.30's WebAssembly backend runs opsets 7-23; 17 is well inside that range and
# is what tf2onnx 1.17 converts every layer used here (Conv, ConvTranspose, MatMul, ...) with.
OPSET = 17
log = logging.getLogger(__name__)
FILES = {part: f"{part}.onnx" for part in ONNX_PARTS}
LIGHT_FILES = {part: f"{part}.light.onnx" for part in ONNX_PARTS}


def export_browser_models(
    folder: Path,
    encoder,
    decoder,
    z_mean: np.ndarray | None = None,
    images: np.ndarray | None = None,
    report=None,
) -> dict:
    """Write encoder.onnx and decoder.onnx into folder; return the manifest's "onnx" entry. Given
    the encoded test set ``z_mean`` (and test ``images``, (n, H, W, C) float32 in [0, 1]), also
    their light copies for the browser (vae_core.light_models), under "light"."""
    import keras
    import onnx
    import tf2onnx

    entry = {}
    for part, model in (("encoder", encoder), ("decoder", decoder)):
        file = Path(folder) / FILES[part]
        export_onnx(model, file)
        inputs, outputs = tensor_names(file)
        check_exported(file, part, inputs, outputs)
        entry[part] = {"file": file.name, "sha256": sha256_file(file), "inputs": inputs, "outputs": outputs}
    entry["exporter"] = {
        "keras": keras.__version__,
        "tf2onnx": tf2onnx.__version__,
        "onnx": onnx.__version__,
        "opset": OPSET,
    }
    if z_mean is not None:
        entry["light"] = export_light_models(
            Path(folder), entry, z_mean, images, report=report or log.warning
        )
    return entry


def export_onnx(model, file: Path) -> None:
    """Keras's own ONNX export, with a dynamic batch dimension and the model's input name."""
    import tensorflow as tf

    (spec,) = model.inputs  # (None, H, W, C) images or (None, latent_dim) z
    signature = [tf.TensorSpec((None, *spec.shape[1:]), tf.float32, name=spec.name)]
    # tf2onnx logs every optimizer pass at INFO; the export itself is what the caller reports.
    quiet = [logging.getLogger(name) for name in ("tf2onnx", "tensorflow")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():  # Keras's tf2onnx patch probes the removed np.object
            warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
            model.export(
                str(file), format="onnx", verbose=False, input_signature=signature, opset_version=OPSET
            )
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


def tensor_names(file: Path) -> tuple[list[str], list[str]]:
    """(input names, output names) of an ONNX file, in the order the model defines them."""
    import onnx

    graph = onnx.load(str(file), load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}  # older exporters list weights as inputs too
    return [i.name for i in graph.input if i.name not in initializers], [o.name for o in graph.output]


def check_exported(file: Path, part: str, inputs: list[str], outputs: list[str]) -> None:
    """A freshly exported file is a valid ONNX model of the expected arity, standard ops only,
    with a dynamic batch dimension (the browser decodes one point or a batch)."""
    import onnx

    model = onnx.load(str(file))
    onnx.checker.check_model(model)
    if len(inputs) != 1 or len(outputs) != ONNX_OUTPUTS[part]:
        raise BundleError(
            f"{file} has inputs {inputs} and outputs {outputs}, but the {part} needs 1 input and "
            f"{ONNX_OUTPUTS[part]} output(s). The Keras model in the bundle is not a VAE {part} "
            "of this project."
        )
    domains = {node.domain for node in model.graph.node} - {"", "ai.onnx"}
    if domains:
        raise BundleError(
            f"{file} uses non-standard operator domains {sorted(domains)}; "
            "the browser runtime needs standard ops."
        )
    for value in (*model.graph.input, *model.graph.output):
        batch = value.type.tensor_type.shape.dim[0]
        if batch.HasField("dim_value"):
            raise BundleError(
                f"{file}: tensor {value.name} has a fixed batch size {batch.dim_value}; it must be dynamic."
            )


def _copy_bundle_files(source: Path, target: Path, skip: set[str]) -> list[str]:
    """Copy the bundle's own regular files (never through links, never folders); return what was left out."""
    left_out = []
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        if entry.name in skip:
            continue
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            left_out.append(entry.name)
            continue
        with open(entry.path, "rb") as f, open(target / entry.name, "wb") as out:
            while block := f.read(1 << 20):
                out.write(block)
    return left_out


def add_browser_models(
    path: str | Path,
    *,
    command: str | None = None,
    force: bool = False,
    report=None,
) -> list[str]:
    """Export an existing bundle's Keras models to ONNX and upgrade its manifest to schema 2,
        without retraining; with their light copies for the browser (vae_core.light_models). Atomic
        (a copy is changed, then swapped in) and idempotent: a bundle whose browser models already
        verify is left alone unless ``force``; one exported before light copies existed keeps its
        ONNX files and gains the copies. Only the bundle's own regular files are copied; links and
        folders in it are left out (``report`` says which). Returns the names of the files it wrote
    (none when the bundle was left alone)."""
    path = Path(path)
    say = report or log.warning
    manifest = read_manifest(path)
    verified = False
    if not force and manifest.get("onnx") is not None:
        try:
            browser_models_of(path, manifest)
            verified = True
        except BundleError:
            pass  # tampered or missing: re-export below
    if verified and "light" in manifest["onnx"]:
        return []
    networks = None
    if not verified:  # exporting needs TensorFlow; adding light copies to verified ONNX models does not
        from .keras_models import MODEL_FILES, load_model_file

        networks = [load_model_file(path / name) for name in MODEL_FILES]
    d = int(manifest["latent_dim"])
    z_mean = bundle_arrays(path, "latents.npz", {"z_mean": ("n", d)}, {"n": MAX_TEST_POINTS})["z_mean"]
    images = probe_images(path)
    with staged_folder(path) as tmp:
        skip = {*LIGHT_FILES.values(), "manifest.json", *(() if verified else FILES.values())}
        left_out = _copy_bundle_files(path, tmp, skip)
        if left_out:
            say(f"{path}: left out {', '.join(left_out)} (links and folders are not bundle files)")
        tell = lambda message: say(f"{path}: {message}")  # noqa: E731
        if networks is None:
            onnx = {
                **manifest["onnx"],
                "light": export_light_models(tmp, manifest["onnx"], z_mean, images, tell),
            }
        else:
            onnx = export_browser_models(tmp, *networks, z_mean, images, tell)
        manifest = with_browser_models(manifest, onnx, command or f"python -m vae_core export-onnx {path}")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    written = [] if verified else list(FILES.values())
    return written + [entry["file"] for entry in onnx["light"].values()]


def probe_images(path: Path) -> np.ndarray | None:
    """The test images the bundle's light encoder is measured on, (n, H, W, C) float32 in [0, 1];
    None when this artifacts folder has none."""
    try:
        images, _ = load_test_images(path.parent)
    except BundleError:
        return None
    return images[..., None].astype(np.float32) / 255.0
