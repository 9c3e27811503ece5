"""Artifact bundles: reading and validating one (the contract is in shared/DESIGN.md).

A :class:`Bundle` is everything in the folder except the networks: the manifest, the encoded test
set, the history, the prior and which ONNX models it has. Loading it needs no TensorFlow; the
networks come from ``vae_core.keras_models`` (training, evaluation) or ``vae_core.onnx_models``
(serving). Writing a bundle is ``vae_core.export``.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import write_atomically
from .config import VAEConfig
from .data import CLASS_NAMES
from .density import Prior, check_prior
from .files import FileProblem, inside, load_npz
from .manifest import (
    BrowserModel,
    BundleError,
    browser_models_of,
    command_path,
    read_bundle_json,
    read_manifest,
    retrain_hint,
)
from .schema import HISTORY, first_problem

log = logging.getLogger(__name__)

TEST_IMAGES_FILE = "fashion-mnist-test.npz"  # shared by all bundles under one artifacts/ folder
BUNDLE_TEST_IMAGES = "test_images.npz"  # schema 3: a bundle's own test images
FASHION_MNIST_SHAPE = (28, 28, 1)  # the images of a bundle whose manifest has no data block
MAX_TEST_POINTS = 10_000  # latents.npz and the test images hold at most this many images
MAX_PRIOR_COMPONENTS = 1000
MAX_ABS_LOG_VAR = 60.0  # exp(60) ~ 1e26: far beyond any trained encoder, still finite everywhere
MAX_ABS_Z = 1e6


@dataclass(frozen=True)
class DataInfo:
    """What a bundle's data set is: the images' shape, the class names, the floor of the -ELBO."""

    name: str
    image_shape: tuple[int, int, int]  # (H, W, C)
    class_names: tuple[str, ...]  # index = label; an unlabelled set has one class, "image"
    labelled: bool  # False: the data set has no classes (every label is 0)
    floor_nats: float | None  # mean binary entropy of the test pixels; None: compute from the images
    background: str = "dark"  # "dark": light objects on a dark ground (uploads are inverted to match)
    own: bool = False  # a data set of its own (schema 3): test images in the bundle
    # known factors: name -> {"kind": "categorical", "names"} or {"kind": "continuous", "min", "max"}
    factors: dict = field(default_factory=dict)

    @classmethod
    def of(cls, manifest: dict) -> DataInfo:
        """From the manifest's data block; a bundle without one is Fashion-MNIST (DESIGN.md)."""
        data = manifest.get("data") or {}
        floor = data.get("floor_nats")
        names = data.get("class_names", CLASS_NAMES) if "image_shape" in data else CLASS_NAMES
        return cls(
            name=str(data.get("name", "Fashion-MNIST")),
            image_shape=tuple(data.get("image_shape", FASHION_MNIST_SHAPE)),
            class_names=tuple(names) if names else ("image",),
            labelled=bool(names),
            floor_nats=float(floor) if isinstance(floor, (int, float)) else None,
            background="light" if data.get("background") == "light" else "dark",
            own="image_shape" in data,
            factors=dict(data.get("factors") or {}) if "image_shape" in data else {},
        )


@dataclass(frozen=True, eq=False)
class Bundle:
    """A loaded, validated bundle, without its networks."""

    path: Path
    manifest: dict
    z_mean: np.ndarray  # (n, latent_dim) float32, test-set order
    z_log_var: np.ndarray  # (n, latent_dim) float32
    labels: np.ndarray  # (n,) uint8
    history: list[dict]
    prior: Prior | None
    # "encoder"/"decoder" -> BrowserModel (absolute .onnx path, SHA-256, tensor names), checksums
    # verified; None when the bundle has none (schema 1).
    browser_models: dict[str, BrowserModel] | None = None

    @property
    def name(self) -> str:
        """The bundle's folder name (unique in its artifacts folder, unlike the manifest's name)."""
        return self.path.name

    @property
    def latent_dim(self) -> int:
        return int(self.manifest["latent_dim"])

    @functools.cached_property
    def config(self) -> VAEConfig:
        return VAEConfig.from_dict(self.manifest["config"])

    @property
    def metrics(self) -> dict:
        return self.manifest["metrics"]

    @functools.cached_property
    def data(self) -> DataInfo:
        return DataInfo.of(self.manifest)


# ---------------------------------------------------------------------------- finding bundles


def list_bundles(root: str | Path = "artifacts", skipped: list[str] | None = None) -> list[Path]:
    """Bundle folders (those holding a manifest.json) under root, sorted by name.

    A folder that cannot be read (another owner's ``lost+found``, say) is skipped, logged, and named
    in ``skipped`` when given, so one bad folder never hides the others.
    """
    root = Path(root)
    try:
        entries = sorted(root.iterdir()) if root.is_dir() else []
    except OSError as e:
        log.warning("cannot list %s: %s", root, e.strerror)
        if skipped is not None:
            skipped.append(f"{root}: cannot be listed ({e.strerror})")
        return []
    found = []
    for p in entries:
        if p.name.startswith("."):
            continue
        try:
            if p.is_dir() and (p / "manifest.json").exists():
                os.listdir(p)  # a folder we may stat but not read is no use either
                found.append(p)
        except OSError as e:
            log.warning("skipped %s: %s", p, e.strerror)
            if skipped is not None:
                skipped.append(f"{p.name}: cannot be read ({e.strerror})")
    return found


# ---------------------------------------------------------------------------- loading


def read_history(path: Path) -> list[dict]:
    """The validated per-epoch history of a bundle folder."""
    history = read_bundle_json(path, "history.json")
    problem = first_problem(history, HISTORY)
    if problem:
        raise BundleError(f"{path / 'history.json'}: {problem}. {retrain_hint(path)}")
    return history


def bundle_arrays(
    path: Path, name: str, shapes: dict, limits: dict[str, int], note: str = "", optional: tuple = ()
) -> dict[str, np.ndarray]:
    """Arrays of one of the bundle's .npz files (headers checked before any data is read)."""
    try:
        return load_npz(inside(path, name), shapes, limits, optional)
    except FileNotFoundError:
        raise BundleError(f"{path / name} is missing. {retrain_hint(path)}") from None
    except FileProblem as e:
        explained = note if "expected" in str(e) else ""  # the note says where a size comes from
        raise BundleError(f"{e}{explained}. {retrain_hint(path)}") from None


def load_bundle(path: str | Path, *, allow_external: bool | None = None) -> Bundle:
    """Load and validate a bundle (no networks); any problem raises BundleError saying what and how
    to fix it. Everything cheap is checked first (manifest, checksums, history, array headers)."""
    path = Path(path)
    manifest = read_manifest(path, allow_external=allow_external)
    browser_models = browser_models_of(path, manifest)
    d = int(manifest["latent_dim"])
    history = read_history(path)
    note = f" ({d} is the manifest's latent_dim)"
    latents = bundle_arrays(
        path,
        "latents.npz",
        {"z_mean": ("n", d), "z_log_var": ("n", d), "labels": ("n",)},
        {"n": MAX_TEST_POINTS},
        note,
    )
    z_mean, z_log_var, labels = (latents[k] for k in ("z_mean", "z_log_var", "labels"))
    with np.errstate(invalid="ignore"):
        sane = np.all(np.abs(z_mean) <= MAX_ABS_Z) and np.all(np.abs(z_log_var) <= MAX_ABS_LOG_VAR)
    if not sane:
        raise BundleError(
            f"{path / 'latents.npz'} holds NaN, infinite or absurd values (|z_mean| over {MAX_ABS_Z:g} or "
            f"|z_log_var| over {MAX_ABS_LOG_VAR:g}). {retrain_hint(path)}"
        )
    n_classes = len(DataInfo.of(manifest).class_names)
    if len(labels) and int(labels.max()) >= n_classes:
        raise BundleError(
            f"{path / 'latents.npz'} has label {int(labels.max())}, "
            f"but the data set has {n_classes} classes. "
            f"{retrain_hint(path)}"
        )
    return Bundle(
        path,
        manifest,
        z_mean.astype(np.float32),
        z_log_var.astype(np.float32),
        labels.astype(np.uint8),
        history,
        _load_prior(path, manifest, d),
        browser_models,
    )


def _load_prior(path: Path, manifest: dict, d: int) -> Prior | None:
    entry = manifest.get("prior", {"type": "standard_normal"})  # its type was checked by the schema
    if entry["type"] == "standard_normal":
        return None
    k_max = entry.get("components", MAX_PRIOR_COMPONENTS)
    shapes = {"weights": ("k",), "means": ("k", d), "log_vars": ("k", d)}
    arrays = bundle_arrays(
        path, entry.get("file", "prior.npz"), shapes, {"k": k_max}, f" ({d} is the manifest's latent_dim)"
    )
    prior = Prior(*(arrays[key].astype(np.float64) for key in ("weights", "means", "log_vars")))
    problem = check_prior(prior, MAX_ABS_LOG_VAR)
    if problem:
        raise BundleError(f"{path / entry.get('file', 'prior.npz')}: {problem}. {retrain_hint(path)}")
    return prior


# ---------------------------------------------------------------------------- test images


def save_test_images(root: str | Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Store the test set (uint8) under root so the app can show real images without the dataset."""
    file = Path(root) / TEST_IMAGES_FILE
    file.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(
        file,
        lambda tmp: np.savez_compressed(tmp, images=images.astype(np.uint8), labels=labels.astype(np.uint8)),
    )


def save_bundle_test_images(
    folder: Path, images: np.ndarray, labels: np.ndarray, factors: dict[str, np.ndarray] | None = None
) -> None:
    """Schema 3: the test images (uint8 (n, H, W, C)), labels and factors (``y_<name>``) in the bundle."""
    columns = {f"y_{name}": values for name, values in (factors or {}).items()}
    np.savez_compressed(
        Path(folder) / BUNDLE_TEST_IMAGES, images=images.astype(np.uint8), labels=labels, **columns
    )


def bundle_factors(bundle: Bundle) -> dict[str, np.ndarray]:
    """The test images' factor values (name -> (n,) array, in the latents' order) the manifest lists:
    categories as int indices into their names, continuous values as float32. BundleError if damaged."""
    info = bundle.data.factors
    if not info:
        return {}
    n = len(bundle.labels)
    where, fix = bundle.path / BUNDLE_TEST_IMAGES, retrain_hint(bundle.path)
    arrays = bundle_arrays(bundle.path, BUNDLE_TEST_IMAGES, {f"y_{name}": (n,) for name in info}, {}, "")
    factors = {}
    for name, entry in info.items():
        values = arrays[f"y_{name}"]
        if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values)):
            raise BundleError(f"{where}: y_{name} must hold finite numbers. {fix}")
        if entry["kind"] == "categorical":
            if np.any(values < 0) or np.any(values >= len(entry["names"])) or np.any(values % 1):
                raise BundleError(
                    f"{where}: y_{name} must be indices into its {len(entry['names'])} names. {fix}"
                )
            factors[name] = values.astype(np.int64)
        else:
            factors[name] = values.astype(np.float32)
    return factors


def bundle_test_images(bundle: Bundle) -> np.ndarray:
    """(n, H, W, C) uint8 test images of a bundle, in its latents' order: its own (schema 3), else
    Fashion-MNIST's beside it. Raises BundleError saying how to get them."""
    h, w, c = bundle.data.image_shape
    if bundle.data.own:
        arrays = bundle_arrays(
            bundle.path,
            BUNDLE_TEST_IMAGES,
            {"images": ("n", h, w, c), "labels": ("n",)},
            {"n": MAX_TEST_POINTS},
            f" ({h}x{w}x{c} is the manifest's image_shape)",
        )
        images, labels = arrays["images"], arrays["labels"]
        where, fix = bundle.path / BUNDLE_TEST_IMAGES, retrain_hint(bundle.path)
        if images.dtype != np.uint8:
            raise BundleError(f"{where}: images must be uint8. {fix}")
    else:
        root = bundle.path.parent
        fix = f"Create it with `python -m vae_core export-test-images --out {command_path(root)}`."
        try:
            images, labels = load_test_images(root)
        except BundleError as e:
            raise BundleError(f"{e} {fix}") from None
        where = root / TEST_IMAGES_FILE
    if not np.array_equal(labels, bundle.labels):
        raise BundleError(
            f"The test images in {where} do not match the bundle {bundle.name} (labels differ). {fix}"
        )
    return images.reshape(len(images), h, w, c)


def load_test_images(root: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 28, 28) uint8, labels (n,) uint8) saved by save_test_images."""
    root = Path(root)
    hint = f"Re-create it with `python -m vae_core export-test-images --out {command_path(root)}`."
    try:
        arrays = load_npz(
            root / TEST_IMAGES_FILE,
            {"images": ("n", 28, 28), "labels": ("n",)},
            {"n": MAX_TEST_POINTS},
        )
    except FileNotFoundError:
        raise BundleError(f"{root / TEST_IMAGES_FILE} is missing. {hint}") from None
    except FileProblem as e:
        raise BundleError(f"{e}. {hint}") from None
    return arrays["images"].astype(np.uint8), arrays["labels"].astype(np.uint8)
