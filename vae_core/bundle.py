"""Artifact bundles: export (atomic), load and validate (the contract is in shared/DESIGN.md)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from . import __version__
from .atomic import write_atomically
from .config import ConfigError, VAEConfig
from .density import Prior
from .evaluate import elbo_terms
from .model import logits_model
from .schema import HISTORY, MANIFEST, READABLE_VERSIONS, first_problem, shown

SCHEMA_VERSION = 2  # 2 added the optional browser models (encoder.onnx, decoder.onnx)
READABLE_SCHEMA_VERSIONS = READABLE_VERSIONS  # version 1 is version 2 without browser models
MODEL_FILES = ("encoder.keras", "decoder.keras")
REQUIRED_FIELDS = ("schema_version", "name", "latent_dim", "config", "metrics")
REQUIRED_METRICS = ("test_neg_elbo_nats", "test_recon_bce_nats", "test_kl_nats", "knn5_accuracy")
TEST_IMAGES_FILE = "fashion-mnist-test.npz"  # shared by all bundles under one artifacts/ folder
MAX_TEST_POINTS = 10_000  # latents.npz and the test images hold at most the Fashion-MNIST test set
MAX_PRIOR_COMPONENTS = 1000
MAX_JSON_BYTES = {"manifest.json": 1_000_000, "history.json": 20_000_000}  # far above real ones
# Set to 1 to load bundle folders that are symlinks to somewhere outside their artifacts folder.
ALLOW_EXTERNAL_ENV = "VAE_ALLOW_EXTERNAL_BUNDLES"


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
        """Bernoulli means (n, 28, 28) float32 of latent points (n, latent_dim) or one (latent_dim,)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        return self._decode_fn(z).numpy()[..., 0]

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """z_mean, z_log_var (n, latent_dim) float64 of images (n, 28, 28) or (n, 28, 28, 1) in [0, 1]."""
        x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
        z_mean, z_log_var = self.encoder(x, training=False)
        return np.asarray(z_mean, dtype=np.float64), np.asarray(z_log_var, dtype=np.float64)

    def elbo_parts(self, images: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Reconstruction NLL and KL (nats) of each image (n, 28, 28[, 1]) in [0, 1]; -ELBO is their sum."""
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
    with staged_bundle(out) as tmp:
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
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **(extra or {}),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


@contextlib.contextmanager
def staged_bundle(out: Path) -> Iterator[Path]:
    """A private folder beside ``out`` to write a whole bundle into. When the block ends without an
    error it takes ``out``'s place by renames, so a process killed at any point leaves the previous
    bundle loadable; after an error it is removed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a bundle is read by other users (the container's)
    try:
        yield tmp
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").exists()
    )


def _external_allowed(allow_external: bool | None) -> bool:
    if allow_external is not None:
        return allow_external
    return os.environ.get(ALLOW_EXTERNAL_ENV, "").strip().lower() in ("1", "true", "yes")


def _check_location(path: Path, allow_external: bool | None) -> None:
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


def bundle_file(path: Path, name: str) -> Path:
    """``path / name``, refused unless it lies inside the bundle folder (symlinks followed)."""
    file = path / name
    real, folder = file.resolve(), path.resolve()
    if real == folder or folder not in real.parents:
        raise BundleError(
            f"{file} lies outside the bundle folder {path}: every file a bundle names must be inside "
            f"it. {_retrain_hint(path)}"
        )
    return file


def _read_json(path: Path, name: str) -> object:
    file = bundle_file(path, name)
    try:
        size = file.stat().st_size
        if size > MAX_JSON_BYTES[name]:
            raise BundleError(
                f"{file} is {size:,} bytes, more than the {MAX_JSON_BYTES[name]:,} a bundle's {name} may "
                f"have (a damaged or doctored file). {_retrain_hint(path)}"
            )
        return json.loads(file.read_text())
    except FileNotFoundError:
        raise BundleError(
            f"{file} is missing, so {path} is not a complete bundle. {_retrain_hint(path)}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise BundleError(f"{file} is not valid JSON ({str(e)[:100]}). {_retrain_hint(path)}") from None
    except OSError as e:
        raise BundleError(f"{file} cannot be read ({e.strerror}). {_retrain_hint(path)}") from None


def read_manifest(path: str | Path, *, allow_external: bool | None = None) -> dict:
    """The validated manifest of a bundle folder (cheap: loads no model).

    Checked against vae_core.schema (types, ranges, required fields). A bundle folder that is a
    symlink out of its artifacts folder is refused unless ``allow_external`` (default: the
    environment variable VAE_ALLOW_EXTERNAL_BUNDLES=1).
    """
    path = Path(path)
    if not path.is_dir():
        leftovers = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.is_dir() else []
        hint = (
            f" An interrupted export left the previous bundle at {leftovers[0]}: rename it back."
            if leftovers
            else ""
        )
        raise BundleError(f"No bundle folder at {path}.{hint} {_retrain_hint(path)}")
    _check_location(path, allow_external)
    file = path / "manifest.json"
    manifest = _read_json(path, "manifest.json")
    if not isinstance(manifest, dict):
        raise BundleError(f"{file} should hold a JSON object. {_retrain_hint(path)}")
    version = manifest.get("schema_version")
    if "schema_version" in manifest and (type(version) is not int or version not in READABLE_VERSIONS):
        raise BundleError(
            f"{path} has bundle schema version {shown(version, 20)}, but this vae_core ({__version__}) reads "
            f"version {' or '.join(map(str, READABLE_VERSIONS))} only. "
            "Use the vae_core version that made it, "
            f"or re-create it: {_retrain_hint(path)}"
        )
    problem = first_problem(manifest, MANIFEST)
    if problem:
        raise BundleError(f"{file}: {problem}. {_retrain_hint(path)}")
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


def read_history(path: Path) -> list[dict]:
    """The validated per-epoch history of a bundle folder."""
    history = _read_json(path, "history.json")
    problem = first_problem(history, HISTORY)
    if problem:
        raise BundleError(f"{path / 'history.json'}: {problem}. {_retrain_hint(path)}")
    return history


def load_bundle(path: str | Path, *, allow_external: bool | None = None) -> Bundle:
    """Load and validate a bundle; any problem raises BundleError saying what and how to fix it.

    Everything cheap is checked first (manifest, history, array headers), so a bad bundle is
    refused before its models are loaded or its arrays read.
    """
    path = Path(path)
    from .browser_models import browser_models_of  # it imports BundleError from here

    manifest = read_manifest(path, allow_external=allow_external)
    browser_models = browser_models_of(path, manifest)  # checksums first: cheap, and a clear refusal
    d = int(manifest["latent_dim"])
    history = read_history(path)
    latents = _load_npz(
        path,
        "latents.npz",
        {"z_mean": ("n", d), "z_log_var": ("n", d), "labels": ("n",)},
        {"n": MAX_TEST_POINTS},
        f" ({d} is the manifest's latent_dim)",
    )
    z_mean, z_log_var, labels = latents["z_mean"], latents["z_log_var"], latents["labels"]
    if not (np.isfinite(z_mean).all() and np.isfinite(z_log_var).all()):
        raise BundleError(f"{path / 'latents.npz'} contains NaN or infinite values. {_retrain_hint(path)}")
    prior = _load_prior(path, manifest, d)
    encoder, decoder = (_load_model(bundle_file(path, name)) for name in MODEL_FILES)
    _check_models(path, encoder, decoder, d)
    return Bundle(
        path,
        manifest,
        encoder,
        decoder,
        z_mean.astype(np.float32),
        z_log_var.astype(np.float32),
        labels.astype(np.uint8),
        history,
        prior,
        browser_models,
    )


def _load_model(file: Path) -> keras.Model:
    path = file.parent
    if not file.exists():
        raise BundleError(f"{file} is missing. {_retrain_hint(path)}")
    if not zipfile.is_zipfile(file):  # else Keras says "File not found" for a file that exists
        raise BundleError(
            f"{file} could not be loaded as a Keras 3 model: it is not a complete zip archive "
            "(truncated or corrupt). "
            f"{_retrain_hint(path)}"
        )
    try:
        return keras.saving.load_model(file, safe_mode=True, compile=False)
    except (zipfile.BadZipFile, OSError, ValueError, TypeError, KeyError) as e:
        raise BundleError(
            f"{file} could not be loaded as a Keras 3 model ({type(e).__name__}: {str(e)[:200]}). "
            f"The file may be corrupt or from an incompatible Keras version. {_retrain_hint(path)}"
        ) from None


def _check_models(path: Path, encoder, decoder, d: int) -> None:
    for model, name in ((encoder, "encoder.keras"), (decoder, "decoder.keras")):
        if not all(np.isfinite(w).all() for w in model.get_weights()):
            raise BundleError(
                f"{path / name} has NaN or infinite weights (training diverged). {_retrain_hint(path)}"
            )
    try:
        outputs = encoder(np.zeros((1, 28, 28, 1), np.float32), training=False)
        shapes = (
            [tuple(np.shape(o)) for o in outputs]
            if isinstance(outputs, (list, tuple))
            else [np.shape(outputs)]
        )
        image = np.asarray(decoder(np.zeros((1, d), np.float32), training=False))
    except (ValueError, TypeError) as e:
        raise BundleError(
            f"The models in {path} do not accept the manifest's latent_dim {d}: {e}. {_retrain_hint(path)}"
        ) from None
    if shapes != [(1, d), (1, d)]:
        raise BundleError(
            f"{path / 'encoder.keras'} outputs {shapes}, but the manifest's latent_dim {d} needs "
            f"[z_mean, z_log_var] of shape (N, {d}) each. {_retrain_hint(path)}"
        )
    if image.shape != (1, 28, 28, 1):
        raise BundleError(
            f"{path / 'decoder.keras'} outputs {image.shape}, expected (N, 28, 28, 1). {_retrain_hint(path)}"
        )


Shape = tuple  # of ints (exact sizes) and names ("n", "k": one size shared by the arrays)


def _npz_headers(file: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of each array in an .npz, read from the .npy headers only (no data)."""
    headers = {}
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(
                        f"{info.filename} has .npy format version {version}, expected 1.0 or 2.0"
                    )
            headers[info.filename.removesuffix(".npy")] = (shape, dtype)
    return headers


def _check_header(
    key: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    want: Shape,
    sizes: dict[str, int],
    limits: dict[str, int],
) -> str:
    """Why an array's declared shape/dtype is unacceptable ("" when fine); binds named sizes."""
    if dtype.hasobject or dtype.kind not in "fiu" or dtype.itemsize > 8:
        return f"{key} has dtype {dtype}, which was refused: bundles hold plain numeric arrays only"
    expected = "(" + ", ".join(str(w) for w in want) + ("," if len(want) == 1 else "") + ")"
    if len(shape) != len(want):
        return f"{key} has shape {shape}, expected {expected}"
    for size, w in zip(shape, want, strict=True):
        if isinstance(w, int) and size != w:
            return f"{key} has shape {shape}, expected {expected}"
        if isinstance(w, str):
            if size > limits[w]:
                return f"{key} declares {size:,} rows, more than the {limits[w]:,} allowed (shape {shape})"
            if sizes.setdefault(w, size) != size:
                return f"{key} has shape {shape}, but another array has {sizes[w]} rows: all need the same"
    return ""


def _load_npz(
    path: Path, name: str, shapes: dict[str, Shape], limits: dict[str, int], note: str = ""
) -> dict[str, np.ndarray]:
    """Arrays ``shapes`` of ``path / name``: shapes and dtypes are checked from the .npy headers
    before any data is read, so a small file that declares a huge array costs nothing."""
    if name == TEST_IMAGES_FILE:  # shared by the bundles of an artifacts folder, not in one
        file, hint = path / name, f"Re-create it with `python -m vae_core export-test-images --out {path}`."
    else:
        file, hint = bundle_file(path, name), _retrain_hint(path)
    if not file.exists():
        raise BundleError(f"{file} is missing. {hint}")
    try:
        headers = _npz_headers(file)
        missing = [k for k in shapes if k not in headers]
        if missing:
            raise BundleError(f"{file} lacks the array(s) {', '.join(missing)}. {hint}")
        sizes: dict[str, int] = {}
        for key, want in shapes.items():
            problem = _check_header(key, *headers[key], want, sizes, limits)
            if problem:
                explained = note if "expected" in problem else ""  # the note says where a size comes from
                raise BundleError(f"{file}: {problem}{explained}. {hint}")
        with np.load(file, allow_pickle=False) as data:
            return {key: data[key] for key in shapes}
    except ValueError as e:  # a bad .npy magic or header
        raise BundleError(
            f"{file} was refused: {str(e)[:200]}. Bundles hold plain numeric arrays only. {hint}"
        ) from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise BundleError(f"{file} is not a readable .npz file ({str(e)[:200]}). {hint}") from None


def _load_prior(path: Path, manifest: dict, d: int) -> Prior | None:
    entry = manifest.get("prior", {"type": "standard_normal"})  # its type was checked by the schema
    if entry["type"] == "standard_normal":
        return None
    k_max = entry.get("components", MAX_PRIOR_COMPONENTS)
    shapes = {"weights": ("k",), "means": ("k", d), "log_vars": ("k", d)}
    arrays = _load_npz(
        path, entry.get("file", "prior.npz"), shapes, {"k": k_max}, f" ({d} is the manifest's latent_dim)"
    )
    return Prior(*(arrays[key].astype(np.float64) for key in ("weights", "means", "log_vars")))


# ---------------------------------------------------------------------------- test images


def save_test_images(root: str | Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Store the test set (uint8) under root so the app can show real images without the dataset."""
    file = Path(root) / TEST_IMAGES_FILE
    file.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(
        file,
        lambda tmp: np.savez_compressed(tmp, images=images.astype(np.uint8), labels=labels.astype(np.uint8)),
    )


def load_test_images(root: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 28, 28) uint8, labels (n,) uint8) saved by save_test_images."""
    arrays = _load_npz(
        Path(root), TEST_IMAGES_FILE, {"images": ("n", 28, 28), "labels": ("n",)}, {"n": MAX_TEST_POINTS}
    )
    return arrays["images"].astype(np.uint8), arrays["labels"].astype(np.uint8)
