"""Browser models: the encoder and decoder as ONNX files, for decoding under the pointer.

A bundle of schema version 2 may carry `encoder.onnx` and `decoder.onnx`, exported with Keras's
own `model.export(path, format="onnx")` (tf2onnx under the TensorFlow backend). The manifest
names each file's tensors and SHA-256 under "onnx" (see shared/DESIGN.md):

    "onnx": {"encoder": {"file", "sha256", "inputs": [name], "outputs": [z_mean, z_log_var]},
             "decoder": {"file", "sha256", "inputs": [name], "outputs": [name]},
             "exporter": {"keras", "tf2onnx", "onnx", "opset"}}

Loading verifies the checksums only (hashlib): the app never imports onnx or onnxruntime.
Exporting needs tf2onnx and onnx (pinned in requirements.txt).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .bundle import SCHEMA_VERSION, BundleError, _load_model, read_manifest, staged_bundle

# onnxruntime-web 1.30's WebAssembly backend runs opsets 7-23; 17 is well inside that range and
# is what tf2onnx 1.17 converts every layer used here (Conv, ConvTranspose, MatMul, ...) with.
OPSET = 17
PARTS = ("encoder", "decoder")
FILES = {part: f"{part}.onnx" for part in PARTS}
N_OUTPUTS = {"encoder": 2, "decoder": 1}  # [z_mean, z_log_var]; Bernoulli means
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BrowserModel:
    """One ONNX model of a loaded bundle, as the browser needs it."""

    file: Path  # absolute path of the .onnx file (never shown to visitors)
    sha256: str  # of the file's bytes: a cache key and an integrity check
    inputs: tuple[str, ...]  # input tensor names (one: images or z), batch dimension dynamic
    outputs: tuple[str, ...]  # output tensor names: encoder [z_mean, z_log_var], decoder [means]


def export_hint(path: Path) -> str:
    return f"Re-create its browser models with `python -m vae_core export-onnx {path}` (no retraining)."


def sha256_of(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- export


def export_browser_models(folder: Path, encoder, decoder) -> dict:
    """Write encoder.onnx and decoder.onnx into folder; return the manifest's "onnx" entry."""
    import keras
    import onnx
    import tf2onnx

    entry = {}
    for part, model in (("encoder", encoder), ("decoder", decoder)):
        file = Path(folder) / FILES[part]
        export_onnx(model, file)
        inputs, outputs = tensor_names(file)
        check_exported(file, part, inputs, outputs)
        entry[part] = {"file": file.name, "sha256": sha256_of(file), "inputs": inputs, "outputs": outputs}
    entry["exporter"] = {
        "keras": keras.__version__,
        "tf2onnx": tf2onnx.__version__,
        "onnx": onnx.__version__,
        "opset": OPSET,
    }
    return entry


def export_onnx(model, file: Path) -> None:
    """Keras's own ONNX export, with a dynamic batch dimension and the model's input name."""
    import tensorflow as tf

    (spec,) = model.inputs  # (None, 28, 28, 1) images or (None, latent_dim) z
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
    if len(inputs) != 1 or len(outputs) != N_OUTPUTS[part]:
        raise BundleError(
            f"{file} has inputs {inputs} and outputs {outputs}, but the {part} needs 1 input and "
            f"{N_OUTPUTS[part]} output(s). The Keras model in the bundle is not a VAE {part} of this project."
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


def add_browser_models(path: str | Path, *, command: str | None = None, force: bool = False) -> bool:
    """Export an existing bundle's Keras models to ONNX and upgrade its manifest to schema 2,
    without retraining. Atomic (a copy is changed, then swapped in, as export_bundle does) and
    idempotent: a bundle whose browser models already verify is left alone unless force.
    Returns whether the bundle was changed."""
    path = Path(path)
    manifest = read_manifest(path)
    if not force and manifest.get("onnx") is not None:
        try:
            browser_models_of(path, manifest)
            return False
        except BundleError:
            pass  # tampered or missing: re-export below
    encoder, decoder = (_load_model(path / f"{part}.keras") for part in PARTS)
    with staged_bundle(path) as tmp:
        shutil.copytree(path, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*FILES.values()))
        manifest["onnx"] = export_browser_models(tmp, encoder, decoder)
        manifest["schema_version"] = SCHEMA_VERSION
        # `command` stays the training command (it must rebuild the bundle); this records the later step.
        manifest["onnx_added"] = {
            "command": command or f"python -m vae_core export-onnx {path}",
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return True


# ---------------------------------------------------------------------------- load


def browser_models_of(path: Path, manifest: dict) -> dict[str, BrowserModel] | None:
    """The bundle's verified browser models, or None if its manifest names none (then the app
    decodes on the server). A malformed entry, a missing file or a wrong checksum raises BundleError."""
    entry = manifest.get("onnx")
    if entry is None:
        return None
    where = f'{path / "manifest.json"}: "onnx"'
    if not isinstance(entry, dict) or not all(isinstance(entry.get(part), dict) for part in PARTS):
        raise BundleError(
            f'{where} should hold an object with "encoder" and "decoder" entries. {export_hint(path)}'
        )
    return {part: _verified(path, part, entry[part], f"{where}.{part}") for part in PARTS}


def _verified(path: Path, part: str, entry: dict, where: str) -> BrowserModel:
    name, digest = entry.get("file"), entry.get("sha256")
    inputs, outputs = entry.get("inputs"), entry.get("outputs")
    plain = isinstance(name, str) and name.endswith(".onnx") and Path(name).name == name and name[0] != "."
    if not plain:  # a name like "../x.onnx" must not reach files outside the bundle
        raise BundleError(
            f"{where}.file should be a plain .onnx file name inside the bundle, got {name!r}. "
            f"{export_hint(path)}"
        )
    if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
        raise BundleError(
            f"{where}.sha256 should be 64 lowercase hex digits, got {digest!r}. {export_hint(path)}"
        )
    for key, names, count in (("inputs", inputs, 1), ("outputs", outputs, N_OUTPUTS[part])):
        named = isinstance(names, list) and all(isinstance(n, str) and n for n in names)
        if not (named and len(names) == count):
            raise BundleError(
                f"{where}.{key} should list {count} tensor name(s), got {names!r}. {export_hint(path)}"
            )
    file = (path / name).resolve()
    if file.parent != path.resolve() or not file.is_file():
        raise BundleError(f"{path / name} is missing, though the manifest names it. {export_hint(path)}")
    actual = sha256_of(file)
    if actual != digest:
        raise BundleError(
            f"{path / name} does not match its SHA-256 in the manifest (expected {digest[:12]}..., found "
            f"{actual[:12]}...): the file was changed or is corrupt. {export_hint(path)}"
        )
    return BrowserModel(file, digest, tuple(inputs), tuple(outputs))
