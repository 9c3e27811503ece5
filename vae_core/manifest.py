"""A bundle's manifest.json: built in one place, read and validated in one place.

The manifest is the bundle's contract (shared/DESIGN.md): the app, the CLI, the benchmarks and
outside evaluators read it. It is checked against ``vae_core.schema`` (types, ranges, required
fields), then for what a schema cannot say (the config rebuilds, latent_dim agrees, the browser
models' files exist with their SHA-256). No TensorFlow here: the app reads bundles without it.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .atomic import sha256_file, why_not_replaceable
from .config import ConfigError, VAEConfig
from .files import FileProblem, inside, read_json, size_of
from .schema import MANIFEST, READABLE_VERSIONS, first_problem, shown

SCHEMA_VERSION = 2  # 2 added the optional browser models (encoder.onnx, decoder.onnx)
DATA_SCHEMA_VERSION = 3  # 3 added the data block of a data set other than Fashion-MNIST
MAX_JSON_BYTES = {"manifest.json": 1_000_000, "history.json": 20_000_000}  # far above real ones
ONNX_PARTS = ("encoder", "decoder")
ONNX_OUTPUTS = {"encoder": 2, "decoder": 1}  # [z_mean, z_log_var]; Bernoulli means
# Set to 1 to load bundle folders that are symlinks to somewhere outside their artifacts folder.
ALLOW_EXTERNAL_ENV = "VAE_ALLOW_EXTERNAL_BUNDLES"


class BundleError(Exception):
    """A bundle is missing, corrupt or incompatible; the message says how to fix it."""


def command_path(path: str | Path) -> str:
    """A path as it can be pasted into a shell: quoted when it holds anything a shell would read."""
    return shlex.quote(str(path))


def retrain_hint(path: str | Path) -> str:
    """How to get a good bundle at ``path`` again (never a command that would replace a user's folder)."""
    problem = why_not_replaceable(path)
    if problem:
        return f"({problem.split(';')[0]}: give the folder of one bundle, such as artifacts/NAME.)"
    return (
        f"Re-create it with `python -m vae_core train --out {command_path(path)}` (see README, 'Training')."
    )


def export_hint(path: str | Path) -> str:
    return (
        f"Re-create its browser models with `python -m vae_core export-onnx {command_path(path)}` "
        "(no retraining)."
    )


# ---------------------------------------------------------------------------- build


def build_manifest(
    name: str,
    config: VAEConfig,
    *,
    metrics: dict,
    architecture: dict,
    prior: dict | None = None,
    onnx: dict | None = None,
    versions: dict | None = None,
    **extra,
) -> dict:
    """Every manifest a bundle gets is made here: its fields in the contract's order, then ``extra``
    (data, training, command, ...)."""
    own_data = "image_shape" in (extra.get("data") or {})
    manifest = {
        "schema_version": DATA_SCHEMA_VERSION if own_data else SCHEMA_VERSION,
        "name": name,
        "latent_dim": config.latent_dim,
        "config": config.to_dict(),
        "architecture": architecture,
        "prior": prior or {"type": "standard_normal"},
        **({"onnx": onnx} if onnx else {}),
        "metrics": metrics,
        "versions": {"vae_core": __version__, **(versions or {})},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }
    problem = first_problem(manifest, MANIFEST)
    if problem:  # a bug of ours, not the user's: never write a bundle we could not read back
        raise BundleError(f"the manifest being written is invalid: {problem}")
    return manifest


def with_browser_models(manifest: dict, onnx: dict, command: str) -> dict:
    """A manifest after ``export-onnx`` added browser models: schema 2 at least, the "onnx" entry,
    and the step recorded (``command`` stays the training command: it must rebuild the bundle)."""
    updated = {
        **manifest,
        "schema_version": max(SCHEMA_VERSION, int(manifest.get("schema_version", 1))),
        "onnx": onnx,
        "onnx_added": {"command": command, "created": datetime.now(UTC).isoformat(timespec="seconds")},
    }
    problem = first_problem(updated, MANIFEST)
    if problem:
        raise BundleError(f"the manifest being written is invalid: {problem}")
    return updated


# ---------------------------------------------------------------------------- read


def _external_allowed(allow_external: bool | None) -> bool:
    if allow_external is not None:
        return allow_external
    return os.environ.get(ALLOW_EXTERNAL_ENV, "").strip().lower() in ("1", "true", "yes")


def check_location(path: Path, allow_external: bool | None = None) -> None:
    """A bundle folder that is a symlink must stay inside the folder holding it (the artifacts
    folder), unless allowed: a planted link must not make the app read files from anywhere."""
    if _external_allowed(allow_external):
        return
    real, parent = path.resolve(), path.parent.resolve()
    if parent not in real.parents:
        raise BundleError(
            f"{path} links to a folder outside {path.parent}, which is refused. Copy the bundle "
            f"there, or set {ALLOW_EXTERNAL_ENV}=1 to allow linked bundles "
            "(see README, 'Bundles from elsewhere')."
        )


def read_bundle_json(path: Path, name: str) -> object:
    """A bundle's JSON file (manifest.json, history.json): a regular file inside it, size-limited."""
    try:
        return read_json(inside(path, name), MAX_JSON_BYTES[name])
    except FileNotFoundError:
        raise BundleError(
            f"{path / name} is missing, so {path} is not a complete bundle. {retrain_hint(path)}"
        ) from None
    except FileProblem as e:
        more = " (a damaged or doctored file)" if "allowed" in str(e) else ""
        raise BundleError(f"{e}{more}. {retrain_hint(path)}") from None


def read_manifest(path: str | Path, *, allow_external: bool | None = None) -> dict:
    """The validated manifest of a bundle folder (cheap: loads no model, reads no array).

    A bundle folder that is a symlink out of its artifacts folder is refused unless
    ``allow_external`` (default: the environment variable VAE_ALLOW_EXTERNAL_BUNDLES=1).
    """
    path = Path(path)
    if not path.is_dir():
        leftovers = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.is_dir() else []
        hint = (
            f" An interrupted export left the previous bundle at {leftovers[0]}: rename it back."
            if leftovers
            else ""
        )
        raise BundleError(f"No bundle folder at {path}.{hint} {retrain_hint(path)}")
    check_location(path, allow_external)
    file = path / "manifest.json"
    manifest = read_bundle_json(path, "manifest.json")
    if not isinstance(manifest, dict):
        raise BundleError(f"{file} should hold a JSON object. {retrain_hint(path)}")
    version = manifest.get("schema_version")
    if "schema_version" in manifest and (type(version) is not int or version not in READABLE_VERSIONS):
        raise BundleError(
            f"{path} has bundle schema version {shown(version, 20)}, but this vae_core ({__version__}) reads "
            f"version {' or '.join(map(str, READABLE_VERSIONS))} only. "
            f"Use the vae_core version that made it, or re-create it: {retrain_hint(path)}"
        )
    problem = first_problem(manifest, MANIFEST)
    if problem:
        raise BundleError(f"{file}: {problem}. {retrain_hint(path)}")
    try:
        config = VAEConfig.from_dict(manifest["config"])
    except (ConfigError, TypeError) as e:
        raise BundleError(f"{file} has an invalid training config: {e}. {retrain_hint(path)}") from None
    if config.latent_dim != manifest["latent_dim"]:
        raise BundleError(
            f"{file} says latent_dim {manifest['latent_dim']} but its config says {config.latent_dim}. "
            f"{retrain_hint(path)}"
        )
    return manifest


# ---------------------------------------------------------------------------- browser models


@dataclass(frozen=True)
class BrowserModel:
    """One ONNX model of a bundle, as the server and the browser need it."""

    file: Path  # absolute path of the .onnx file (never shown to visitors)
    sha256: str  # of the file's bytes: a cache key and an integrity check
    inputs: tuple[str, ...]  # input tensor names (one: images or z), batch dimension dynamic
    outputs: tuple[str, ...]  # output tensor names: encoder [z_mean, z_log_var], decoder [means]
    # The same model with smaller weights, for what a visitor downloads (vae_core.light_models);
    # None when the bundle has none for this part.
    light: BrowserModel | None = None

    @property
    def for_browser(self) -> BrowserModel:
        """What the browser fetches: the light copy where there is one."""
        return self.light or self


def browser_models_of(path: Path, manifest: dict) -> dict[str, BrowserModel] | None:
    """The bundle's verified ONNX models, or None if its manifest names none (schema 1). A malformed
    entry, a missing file or a wrong checksum raises BundleError."""
    entry = manifest.get("onnx")
    if entry is None:
        return None
    where = f'{path / "manifest.json"}: "onnx"'
    if not isinstance(entry, dict) or not all(isinstance(entry.get(part), dict) for part in ONNX_PARTS):
        raise BundleError(
            f'{where} should hold an object with "encoder" and "decoder" entries. {export_hint(path)}'
        )
    light = entry.get("light") or {}
    if not isinstance(light, dict) or not all(isinstance(light.get(p, {}), dict) for p in ONNX_PARTS):
        raise BundleError(f'{where}.light should map "encoder" and "decoder" to objects. {export_hint(path)}')
    models = {}
    for part in ONNX_PARTS:
        small = _verified(path, part, light[part], f"{where}.light.{part}") if part in light else None
        models[part] = replace(_verified(path, part, entry[part], f"{where}.{part}"), light=small)
    return models


def _verified(path: Path, part: str, entry: dict, where: str) -> BrowserModel:
    name, digest = entry.get("file"), entry.get("sha256")
    inputs, outputs = entry.get("inputs"), entry.get("outputs")
    plain = isinstance(name, str) and name.endswith(".onnx") and Path(name).name == name and name[0] != "."
    if not plain:  # a name like "../x.onnx" must not reach files outside the bundle
        raise BundleError(
            f"{where}.file should be a plain .onnx file name inside the bundle, got {shown(name)}. "
            f"{export_hint(path)}"
        )
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise BundleError(
            f"{where}.sha256 should be 64 lowercase hex digits, got {shown(digest)}. {export_hint(path)}"
        )
    for key, names, count in (("inputs", inputs, 1), ("outputs", outputs, ONNX_OUTPUTS[part])):
        named = isinstance(names, list) and all(isinstance(n, str) and n for n in names)
        if not (named and len(names) == count):
            raise BundleError(
                f"{where}.{key} should list {count} tensor name(s), got {shown(names)}. {export_hint(path)}"
            )
    try:
        file = inside(path, name)
        actual = sha256_of_regular(file)
    except (FileNotFoundError, FileProblem):
        raise BundleError(
            f"{path / name} is missing or unreadable, though the manifest names it. {export_hint(path)}"
        ) from None
    if actual != digest:
        raise BundleError(
            f"{path / name} does not match its SHA-256 in the manifest (expected {digest[:12]}..., found "
            f"{actual[:12]}...): the file was changed or is corrupt. {export_hint(path)}"
        )
    return BrowserModel(file.resolve(), digest, tuple(inputs), tuple(outputs))


def sha256_of_regular(file: Path) -> str:
    """SHA-256 of a regular file (FileProblem for a pipe, device or folder, which are never read)."""
    size_of(file)  # refuses what is not a regular file before opening it for reading
    return sha256_file(file)
