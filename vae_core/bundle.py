"""Artifact bundles: export (atomic), load and validate (the contract is in shared/DESIGN.md)."""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import write_atomically
from .config import ConfigError, VAEConfig
from .density import Prior
from .evaluate import elbo_terms
from .model import logits_model

import keras  # noqa: E402  (imported after .model, which selects the backend)

SCHEMA_VERSION = 2  # 2 added the optional browser models (encoder.onnx, decoder.onnx)
READABLE_SCHEMA_VERSIONS = (1, 2)  # version 1 is version 2 without browser models
MODEL_FILES = ("encoder.keras", "decoder.keras")
REQUIRED_FIELDS = ("schema_version", "name", "latent_dim", "config", "metrics")
REQUIRED_METRICS = ("test_neg_elbo_nats", "test_recon_bce_nats", "test_kl_nats", "knn5_accuracy")
TEST_IMAGES_FILE = "fashion-mnist-test.npz"  # shared by all bundles under one artifacts/ folder


class BundleError(Exception):
    """A bundle is missing, corrupt or incompatible; the message says how to fix it."""


def _retrain_hint(path: Path) -> str:
    return f"Re-create it with `python -m vae_core train --out {path}` (see README, 'Training')."


@dataclass
class Bundle:
    """A loaded, validated bundle: models, test-set latents, history and prior."""

    path: Path
    manifest: dict
    encoder: keras.Model
    decoder: keras.Model
    z_mean: np.ndarray  # (10000, latent_dim) float32, test-set order
    z_log_var: np.ndarray  # (10000, latent_dim) float32
    labels: np.ndarray  # (10000,) uint8
    history: list[dict]
    prior: Prior | None
    # "encoder"/"decoder" -> BrowserModel (absolute .onnx path, SHA-256, tensor names), checksums
    # verified; None when the bundle has none (schema 1, or exported without): decode on the server.
    browser_models: dict | None = None

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def latent_dim(self) -> int:
        return int(self.manifest["latent_dim"])

    @property
    def config(self) -> VAEConfig:
        return VAEConfig.from_dict(self.manifest["config"])

    @property
    def metrics(self) -> dict:
        return self.manifest["metrics"]

    @functools.cached_property
    def _decode_fn(self):
        import tensorflow as tf

        # One traced graph for any batch size: no retracing, no predict() overhead.
        @tf.function(input_signature=[tf.TensorSpec((None, self.latent_dim), tf.float32)])
        def decode(z):
            return self.decoder(z, training=False)

        return decode

    @functools.cached_property
    def _logits_model(self) -> keras.Model:
        return logits_model(self.decoder)  # built once: a new keras.Model per score was slow

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Bernoulli means (n, 28, 28) float32 for latent points z (n, latent_dim) or one point (latent_dim,)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        return self._decode_fn(z).numpy()[..., 0]

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """z_mean, z_log_var (n, latent_dim) float64 of images (n, 28, 28) or (n, 28, 28, 1) in [0, 1]."""
        x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
        z_mean, z_log_var = self.encoder(x, training=False)
        return np.asarray(z_mean, dtype=np.float64), np.asarray(z_log_var, dtype=np.float64)

    def elbo_parts(self, images: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Reconstruction NLL and KL (nats) per image of images (n, 28, 28[, 1]) in [0, 1]; -ELBO is their sum."""
        x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
        return elbo_terms(self.encoder, self.decoder, x, self.prior, seed=seed, logits_of=self._logits_model)


# ---------------------------------------------------------------------------- export


def export_bundle(
    out_dir: str | Path,
    *,
    encoder: keras.Model,
    decoder: keras.Model,
    config: VAEConfig,
    z_mean: np.ndarray,
    z_log_var: np.ndarray,
    labels: np.ndarray,
    history: list[dict],
    metrics: dict,
    prior: Prior | None = None,
    extra: dict | None = None,
    browser_models: bool = True,
) -> Path:
    """Write a bundle atomically: into a temporary folder beside `out_dir`, then renamed.

    An export killed at any point leaves the previous bundle (if any) intact and loadable.
    With browser_models (the default) the encoder and decoder are also exported to ONNX for the
    browser; tests that never decode in a browser turn it off to save the export's seconds.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a bundle is read by other users (the container's)
    try:
        encoder.save(tmp / "encoder.keras")
        decoder.save(tmp / "decoder.keras")
        onnx_entry = {}
        if browser_models:
            from .browser_models import export_browser_models  # it imports BundleError from here

            onnx_entry = {"onnx": export_browser_models(tmp, encoder, decoder)}
        np.savez_compressed(
            tmp / "latents.npz",
            z_mean=z_mean.astype(np.float32),
            z_log_var=z_log_var.astype(np.float32),
            labels=labels.astype(np.uint8),
        )
        prior_entry = {"type": "standard_normal"}
        if prior is not None:
            np.savez(tmp / "prior.npz", weights=prior.weights, means=prior.means, log_vars=prior.log_vars)
            prior_entry = {"type": "gaussian_mixture", "file": "prior.npz", "components": len(prior.weights)}
        (tmp / "history.json").write_text(json.dumps(history, indent=1))
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "name": out.name,
            "latent_dim": config.latent_dim,
            "config": config.to_dict(),
            "architecture": {
                "preset": config.preset,
                "encoder": _describe(encoder),
                "decoder": _describe(decoder),
            },
            "prior": prior_entry,
            **onnx_entry,
            "metrics": metrics,
            "versions": _versions(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **(extra or {}),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _swap_into_place(new: Path, out: Path) -> None:
    if not out.exists():
        os.rename(new, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)  # between these two renames the previous bundle is at `old`
    os.rename(new, out)
    shutil.rmtree(old)


def _describe(model: keras.Model) -> dict:
    return {
        "parameters": int(model.count_params()),
        "layers": [f"{layer.__class__.__name__}:{layer.name}" for layer in model.layers],
    }


def _versions() -> dict:
    import tensorflow as tf

    return {
        "vae_core": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


# ---------------------------------------------------------------------------- load


def list_bundles(root: str | Path = "artifacts") -> list[Path]:
    """Bundle folders (those holding a manifest.json) under root, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").exists())


def read_manifest(path: str | Path) -> dict:
    """The validated manifest of a bundle folder (cheap: loads no model)."""
    path = Path(path)
    if not path.is_dir():
        leftovers = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.is_dir() else []
        hint = f" An interrupted export left the previous bundle at {leftovers[0]}: rename it back." if leftovers else ""
        raise BundleError(f"No bundle folder at {path}.{hint} {_retrain_hint(path)}")
    file = path / "manifest.json"
    try:
        manifest = json.loads(file.read_text())
    except FileNotFoundError:
        raise BundleError(f"{file} is missing, so {path} is not a complete bundle. {_retrain_hint(path)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{file} is not valid JSON ({e}). {_retrain_hint(path)}") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{file} should hold a JSON object. {_retrain_hint(path)}")
    missing = [f for f in REQUIRED_FIELDS if f not in manifest]
    if missing:
        raise BundleError(f"{file} lacks the field(s) {', '.join(missing)}. {_retrain_hint(path)}")
    if manifest["schema_version"] not in READABLE_SCHEMA_VERSIONS:
        raise BundleError(
            f"{path} has bundle schema version {manifest['schema_version']!r}, but this vae_core "
            f"({__version__}) reads version {' or '.join(map(str, READABLE_SCHEMA_VERSIONS))} only. "
            f"Use the vae_core version that made it, "
            f"or re-create it: {_retrain_hint(path)}"
        )
    missing = [m for m in REQUIRED_METRICS if m not in manifest["metrics"]]
    if missing:
        raise BundleError(f"{file} lacks the metric(s) {', '.join(missing)}. {_retrain_hint(path)}")
    try:
        config = VAEConfig.from_dict(manifest["config"])
    except (ConfigError, TypeError) as e:
        raise BundleError(f"{file} has an invalid training config: {e}. {_retrain_hint(path)}") from None
    if config.latent_dim != manifest["latent_dim"]:
        raise BundleError(
            f"{file} says latent_dim {manifest['latent_dim']} but its config says {config.latent_dim}. "
            f"{_retrain_hint(path)}"
        )
    return manifest


def load_bundle(path: str | Path) -> Bundle:
    """Load and validate a bundle; any problem raises BundleError saying what and how to fix it."""
    from .browser_models import browser_models_of  # it imports BundleError from here

    path = Path(path)
    manifest = read_manifest(path)
    browser_models = browser_models_of(path, manifest)  # checksums first: cheap, and a clear refusal
    d = int(manifest["latent_dim"])
    encoder, decoder = (_load_model(path / name) for name in MODEL_FILES)
    _check_models(path, encoder, decoder, d)
    latents = _load_npz(path / "latents.npz", {"z_mean": 2, "z_log_var": 2, "labels": 1})
    z_mean, z_log_var, labels = latents["z_mean"], latents["z_log_var"], latents["labels"]
    n = len(labels)
    if z_mean.shape != (n, d) or z_log_var.shape != (n, d):
        raise BundleError(
            f"{path / 'latents.npz'} holds z_mean {z_mean.shape} and z_log_var {z_log_var.shape}, but the "
            f"manifest's latent_dim {d} and {n} labels need ({n}, {d}) each. {_retrain_hint(path)}"
        )
    if not (np.isfinite(z_mean).all() and np.isfinite(z_log_var).all()):
        raise BundleError(f"{path / 'latents.npz'} contains NaN or infinite values. {_retrain_hint(path)}")
    try:
        history = json.loads((path / "history.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise BundleError(f"{path / 'history.json'} is missing or unreadable ({e}). {_retrain_hint(path)}") from None
    return Bundle(
        path, manifest, encoder, decoder, z_mean.astype(np.float32), z_log_var.astype(np.float32),
        labels.astype(np.uint8), history, _load_prior(path, manifest, d), browser_models,
    )


def _load_model(file: Path) -> keras.Model:
    if not file.exists():
        raise BundleError(f"{file} is missing. {_retrain_hint(file.parent)}")
    try:
        return keras.saving.load_model(file, safe_mode=True, compile=False)
    except (zipfile.BadZipFile, OSError, ValueError, TypeError, KeyError) as e:
        raise BundleError(
            f"{file} could not be loaded as a Keras 3 model ({type(e).__name__}: {str(e)[:200]}). "
            f"The file may be corrupt or from an incompatible Keras version. {_retrain_hint(file.parent)}"
        ) from None


def _check_models(path: Path, encoder, decoder, d: int) -> None:
    for model, name in ((encoder, "encoder.keras"), (decoder, "decoder.keras")):
        if not all(np.isfinite(w).all() for w in model.get_weights()):
            raise BundleError(f"{path / name} has NaN or infinite weights (training diverged). {_retrain_hint(path)}")
    try:
        outputs = encoder(np.zeros((1, 28, 28, 1), np.float32), training=False)
        shapes = [tuple(np.shape(o)) for o in outputs] if isinstance(outputs, (list, tuple)) else [np.shape(outputs)]
        image = np.asarray(decoder(np.zeros((1, d), np.float32), training=False))
    except (ValueError, TypeError) as e:
        raise BundleError(f"The models in {path} do not accept the manifest's latent_dim {d}: {e}. {_retrain_hint(path)}") from None
    if shapes != [(1, d), (1, d)]:
        raise BundleError(
            f"{path / 'encoder.keras'} outputs {shapes}, but the manifest's latent_dim {d} needs "
            f"[z_mean, z_log_var] of shape (N, {d}) each. {_retrain_hint(path)}"
        )
    if image.shape != (1, 28, 28, 1):
        raise BundleError(f"{path / 'decoder.keras'} outputs {image.shape}, expected (N, 28, 28, 1). {_retrain_hint(path)}")


def _load_npz(file: Path, ndims: dict[str, int]) -> dict[str, np.ndarray]:
    if not file.exists():
        raise BundleError(f"{file} is missing. {_retrain_hint(file.parent)}")
    try:
        with np.load(file, allow_pickle=False) as data:
            arrays = {key: data[key] for key in ndims if key in data.files}
    except ValueError as e:  # includes "Object arrays cannot be loaded when allow_pickle=False"
        raise BundleError(f"{file} was refused: {e}. Bundles hold plain numeric arrays only. {_retrain_hint(file.parent)}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise BundleError(f"{file} is not a readable .npz file ({e}). {_retrain_hint(file.parent)}") from None
    missing = [k for k in ndims if k not in arrays]
    if missing:
        raise BundleError(f"{file} lacks the array(s) {', '.join(missing)}. {_retrain_hint(file.parent)}")
    for key, ndim in ndims.items():
        if arrays[key].ndim != ndim or arrays[key].dtype.kind not in "fiu":
            raise BundleError(f"{file}: {key} should be a {ndim}-D numeric array, got {arrays[key].dtype} {arrays[key].shape}. {_retrain_hint(file.parent)}")
    return arrays


def _load_prior(path: Path, manifest: dict, d: int) -> Prior | None:
    entry = manifest.get("prior", {"type": "standard_normal"})
    if entry.get("type") == "standard_normal":
        return None
    if entry.get("type") != "gaussian_mixture":
        raise BundleError(f"{path / 'manifest.json'} names an unknown prior type {entry.get('type')!r}. {_retrain_hint(path)}")
    arrays = _load_npz(path / entry.get("file", "prior.npz"), {"weights": 1, "means": 2, "log_vars": 2})
    k = len(arrays["weights"])
    if arrays["means"].shape != (k, d) or arrays["log_vars"].shape != (k, d):
        raise BundleError(f"{path / 'prior.npz'} does not match latent_dim {d}. {_retrain_hint(path)}")
    return Prior(*(arrays[key].astype(np.float64) for key in ("weights", "means", "log_vars")))


# ---------------------------------------------------------------------------- test images


def save_test_images(root: str | Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Store the test set (uint8) under root so the app can show real images without the dataset."""
    file = Path(root) / TEST_IMAGES_FILE
    file.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(
        file, lambda tmp: np.savez_compressed(tmp, images=images.astype(np.uint8), labels=labels.astype(np.uint8))
    )


def load_test_images(root: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 28, 28) uint8, labels (n,) uint8) saved by save_test_images."""
    file = Path(root) / TEST_IMAGES_FILE
    arrays = _load_npz(file, {"images": 3, "labels": 1})
    if arrays["images"].shape[1:] != (28, 28) or len(arrays["images"]) != len(arrays["labels"]):
        raise BundleError(f"{file} should hold images (n, 28, 28) and n labels. Re-create it with `python -m vae_core export-test-images`.")
    return arrays["images"].astype(np.uint8), arrays["labels"].astype(np.uint8)
