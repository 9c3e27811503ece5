"""Fashion-MNIST: finding, reading and validating the IDX files (the tf.data pipelines that feed
training are vae_core.pipeline).

The four gzip-compressed IDX files come from, in this order (see DESIGN.md, "Data"):

1. an explicit directory (the ``data_dir`` argument / ``--data-dir``, else ``FASHION_MNIST_DIR``);
2. ``/usr/share/datasets/fashion-mnist/`` (Debian package ``dataset-fashion-mnist``);
3. the Keras cache ``~/.keras/datasets/fashion-mnist/``, downloading there if allowed.

Every file is validated whatever its source: gzip integrity, magic number, dimensions,
exact length, label range and (optionally) the SHA-256 of the decompressed bytes. A file
that fails raises :class:`DataError`, whose message names the file, says what is wrong and
how to get good data. TensorFlow and Keras are imported lazily, only by the functions that
need them, so importing this module is cheap.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

logger = logging.getLogger(__name__)

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (count, rows, cols)
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (count)
IMAGE_SIDE = 28
MAX_IDX_SIDE = 1024  # IDX images of other data sets: any size up to this (vae_core.datasets resizes)
MAX_ITEMS = 1_000_000  # refuse headers implying more items: a corrupt file or a decompression bomb
_CHUNK_BYTES = 1 << 20  # decompress in bounded 1 MiB reads

ENV_VAR = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FIX_HINT = (
    "Install the dataset with `apt-get install dataset-fashion-mnist`, or point "
    f"{ENV_VAR} / --data-dir at a folder holding the four Fashion-MNIST .gz files."
)


@dataclass(frozen=True)
class IdxFileSpec:
    """What one canonical Fashion-MNIST file must look like once decompressed."""

    kind: str  # "images" or "labels"
    n_bytes: int  # decompressed size, header included
    sha256: str  # hex SHA-256 of the decompressed bytes


FILES: Mapping[str, IdxFileSpec] = MappingProxyType(
    {
        "train-images-idx3-ubyte.gz": IdxFileSpec(
            "images", 47_040_016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
        ),
        "train-labels-idx1-ubyte.gz": IdxFileSpec(
            "labels", 60_008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
        ),
        "t10k-images-idx3-ubyte.gz": IdxFileSpec(
            "images", 7_840_016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
        ),
        "t10k-labels-idx1-ubyte.gz": IdxFileSpec(
            "labels", 10_008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
        ),
    }
)
# (images file, labels file) for each split.
_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DataError(Exception):
    """The dataset is missing or a file is invalid; the message says which file and the fix."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path  # the offending file or directory, when there is one


def _file_error(path: Path, problem: str, hint: str = FIX_HINT) -> DataError:
    """A DataError for one file: full path, what is wrong, how to get good data."""
    return DataError(f"{path.absolute()}: {problem}. {hint}", path=path)


@dataclass(frozen=True, eq=False)
class FashionMNIST:
    """The whole dataset in memory, as read from one directory."""

    x_train: np.ndarray  # (60000, 28, 28) uint8
    y_train: np.ndarray  # (60000,) uint8 in [0, 10)
    x_test: np.ndarray  # (10000, 28, 28) uint8
    y_test: np.ndarray  # (10000,) uint8 in [0, 10)
    source: str  # the directory the four files were read from
    digests: dict[str, str]  # .gz file name -> SHA-256 of its decompressed bytes (for manifests)


# --------------------------------------------------------------------------- IDX reading


def _read_exact(stream: gzip.GzipFile, n_bytes: int) -> bytearray:
    """Read up to ``n_bytes`` decompressed bytes in bounded chunks; shorter at end of stream."""
    buffer = bytearray(n_bytes)
    view = memoryview(buffer)
    got = 0
    while got < n_bytes:
        n = stream.readinto(view[got : got + _CHUNK_BYTES])
        if not n:
            break
        got += n
    view.release()
    del buffer[got:]
    return buffer


def _parse_header(
    path: Path, stream: gzip.GzipFile, kind: str, digest: hashlib._Hash, hint: str = FIX_HINT
) -> tuple[int, ...]:
    """Read and check the magic number and dimensions; return the dimensions."""
    expected_magic, ndim = (IMAGE_MAGIC, 3) if kind == "images" else (LABEL_MAGIC, 1)
    header = _read_exact(stream, 4 + 4 * ndim)
    digest.update(header)
    if len(header) < 4:
        raise _file_error(
            path, f"holds only {len(header)} bytes once decompressed, too short for an IDX header", hint
        )
    magic = int.from_bytes(header[:4], "big")
    if magic != expected_magic:
        what = {IMAGE_MAGIC: " (an image file?)", LABEL_MAGIC: " (a label file?)"}.get(magic, "")
        raise _file_error(
            path,
            f"wrong magic number 0x{magic:08x}{what}; an IDX {kind} file starts with 0x{expected_magic:08x}",
            hint,
        )
    if len(header) < 4 + 4 * ndim:
        raise _file_error(path, f"truncated IDX header ({len(header)} of {4 + 4 * ndim} bytes)", hint)
    return tuple(int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))


def _check_dims(path: Path, kind: str, dims: tuple[int, ...], side: int | None, hint: str) -> None:
    """Refuse wrong image sizes and implausible counts before any body byte is read."""
    if kind == "images" and side is not None and dims[1:] != (side, side):
        raise _file_error(path, f"images are {dims[1]}x{dims[2]}, expected {side}x{side}", hint)
    if kind == "images" and not all(1 <= d <= MAX_IDX_SIDE for d in dims[1:]):
        raise _file_error(path, f"images are {dims[1]}x{dims[2]}, more than {MAX_IDX_SIDE} a side", hint)
    if dims[0] > MAX_ITEMS:
        raise _file_error(
            path,
            f"header claims {dims[0]:,} {kind}, more than the {MAX_ITEMS:,} allowed "
            "(corrupt header or decompression bomb); refusing to read it",
            hint,
        )


def _read_body(path: Path, stream: gzip.GzipFile, kind: str, dims: tuple[int, ...], hint: str) -> bytearray:
    """Read exactly the header-implied body, plus one byte to detect trailing data."""
    n_body = int(np.prod(dims))
    body = _read_exact(stream, n_body)
    if len(body) < n_body:
        raise _file_error(
            path,
            f"truncated: header says {dims[0]:,} {kind} ({n_body:,} bytes) "
            f"but the file holds only {len(body):,}",
            hint,
        )
    if stream.read(1):
        raise _file_error(
            path,
            f"trailing bytes after the {dims[0]:,} {kind} the header announces ({n_body:,} bytes)",
            hint,
        )
    return body


def _read_idx(
    path: str | Path,
    kind: str,
    expected_sha256: str | None,
    *,
    side: int | None = IMAGE_SIDE,
    classes: int | None = len(CLASS_NAMES),
    hint: str = FIX_HINT,
) -> tuple[np.ndarray, str]:
    """Read and validate one IDX file (gzip-compressed when named .gz); return (array, hex SHA-256 of the
    decompressed bytes). ``side`` None accepts any image size, ``classes`` None any label."""
    path = Path(path)
    if not path.is_file():
        raise _file_error(path, "file not found" if not path.exists() else "not a regular file", hint)
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as stream:
            dims = _parse_header(path, stream, kind, digest, hint)
            _check_dims(path, kind, dims, side, hint)
            body = _read_body(path, stream, kind, dims, hint)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise _file_error(path, f"not a readable gzip file, or truncated ({exc})", hint) from exc
    digest.update(body)
    sha = digest.hexdigest()
    _check_digest(path, sha, expected_sha256)
    array = np.frombuffer(body, dtype=np.uint8).reshape(dims)
    if kind == "labels" and classes is not None and array.size and array.max() >= classes:
        index = int(np.argmax(array >= classes))
        raise _file_error(
            path, f"label {array[index]} at index {index} is out of range (classes are 0-{classes - 1})", hint
        )
    return array, sha


def _check_digest(path: Path, sha: str, expected_sha256: str | None) -> None:
    if expected_sha256 is not None and sha != expected_sha256.lower():
        raise _file_error(
            path,
            f"SHA-256 of the decompressed bytes is {sha}, expected {expected_sha256} "
            "(the file is corrupt or not the canonical Fashion-MNIST release)",
        )


def read_idx_images(path: str | Path, *, expected_sha256: str | None = None) -> np.ndarray:
    """Read a gzip IDX image file: uint8 ``(N, 28, 28)``. Raises DataError if invalid."""
    return _read_idx(path, "images", expected_sha256)[0]


def read_idx_labels(path: str | Path, *, expected_sha256: str | None = None) -> np.ndarray:
    """Read a gzip IDX label file: uint8 ``(N,)`` in [0, 10). Raises DataError if invalid."""
    return _read_idx(path, "labels", expected_sha256)[0]


# --------------------------------------------------------------------------- finding the files


def keras_cache_dir() -> Path:
    """Where ``keras.datasets.fashion_mnist`` caches the files (``$KERAS_HOME`` or ~/.keras)."""
    keras_home = os.environ.get("KERAS_HOME") or "~/.keras"
    return Path(keras_home).expanduser() / "datasets" / "fashion-mnist"


def _missing_files(directory: Path) -> list[str]:
    """The Fashion-MNIST file names absent from ``directory``."""
    return [name for name in FILES if not (directory / name).is_file()]


def _check_explicit_dir(directory: Path, origin: str) -> Path:
    """An explicitly chosen directory must hold all four files; never fall back from it."""
    if not directory.is_dir():
        raise DataError(
            f"{directory.absolute()} (from {origin}): no such directory. {FIX_HINT}", path=directory
        )
    missing = _missing_files(directory)
    if missing:
        raise DataError(
            f"{directory.absolute()} (from {origin}): missing {', '.join(missing)}. {FIX_HINT}",
            path=directory,
        )
    return directory


def _download_to_keras_cache() -> None:
    """Download Fashion-MNIST into the Keras cache with ``keras.datasets.fashion_mnist``."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras  # lazy: slow to import, and only needed on this path

    logger.info("Downloading Fashion-MNIST into the Keras cache")
    keras.datasets.fashion_mnist.load_data()


def find_data_dir(data_dir: str | Path | None = None, *, allow_download: bool = True) -> Path:
    """Return the directory holding the four Fashion-MNIST .gz files.

    Order: ``data_dir`` (else ``$FASHION_MNIST_DIR``), which is never silently bypassed
    when given; the Debian package directory; the Keras cache, downloading into it when
    ``allow_download``. Raises DataError listing every place tried when none has the files.
    """
    if data_dir is not None:
        return _check_explicit_dir(Path(data_dir), "the data_dir argument")
    if os.environ.get(ENV_VAR):
        return _check_explicit_dir(Path(os.environ[ENV_VAR]), f"${ENV_VAR}")
    tried = []
    keras_dirs = [keras_cache_dir(), Path("/tmp/.keras/datasets/fashion-mnist")]  # Keras's fallback
    for directory in [DEBIAN_DIR, *keras_dirs]:
        missing = _missing_files(directory)
        if not missing:
            logger.info("Reading Fashion-MNIST from %s", directory)
            return directory
        tried.append(f"{directory} (missing {', '.join(missing)})")
    if allow_download:
        try:
            _download_to_keras_cache()
        except Exception as exc:  # noqa: BLE001 - any download failure becomes one DataError
            tried.append(f"download with keras.datasets.fashion_mnist (failed: {exc})")
        else:
            for directory in keras_dirs:
                if not _missing_files(directory):
                    return directory
            tried.append("download with keras.datasets.fashion_mnist (files not in the cache after it)")
    else:
        tried.append("download (not allowed)")
    raise DataError(
        f"Fashion-MNIST not found. Tried: ${ENV_VAR} (unset); " + "; ".join(tried) + f". {FIX_HINT}"
    )


# --------------------------------------------------------------------------- loading


def _check_counts(directory: Path, split: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Image and label files of one split must hold the same number of items."""
    if len(images) != len(labels):
        image_name, label_name = _SPLITS[split]
        raise DataError(
            f"{directory.absolute() / image_name} holds {len(images):,} images but "
            f"{directory.absolute() / label_name} holds {len(labels):,} labels; the two files "
            f"of the {split} split must agree. {FIX_HINT}",
            path=directory,
        )


def load_fashion_mnist(
    data_dir: str | Path | None = None,
    *,
    verify_digests: bool = True,
    allow_download: bool = True,
) -> FashionMNIST:
    """Find, read and validate Fashion-MNIST (see :func:`find_data_dir` for the source order).

    With ``verify_digests`` every decompressed file must match the canonical SHA-256.
    """
    directory = find_data_dir(data_dir, allow_download=allow_download)
    arrays: dict[str, np.ndarray] = {}
    digests: dict[str, str] = {}
    for name, spec in FILES.items():  # structure first: each file, then the splits' counts ...
        arrays[name], digests[name] = _read_idx(directory / name, spec.kind, None)
    splits = {}
    for split, (image_name, label_name) in _SPLITS.items():
        _check_counts(directory, split, arrays[image_name], arrays[label_name])
        splits[split] = (arrays[image_name], arrays[label_name])
    if verify_digests:  # ... then digests, whose mismatch says less about what is wrong
        for name, spec in FILES.items():
            _check_digest(directory / name, digests[name], spec.sha256)
    logger.info(
        "Loaded Fashion-MNIST from %s: %d train, %d test images",
        directory,
        len(splits["train"][0]),
        len(splits["test"][0]),
    )
    return FashionMNIST(
        x_train=splits["train"][0],
        y_train=splits["train"][1],
        x_test=splits["test"][0],
        y_test=splits["test"][1],
        source=str(directory),
        digests=digests,
    )


# --------------------------------------------------------------------------- arrays and pipeline


def split_validation(
    x: np.ndarray, y: np.ndarray, n_val: int = 10_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off the LAST ``n_val`` training items as the validation set.

    Returns ``(x_train, y_train, x_val, y_val)`` (views, no copies).
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} items but y has {len(y)}; they must agree")
    if not 0 < n_val < len(x):
        raise ValueError(f"n_val must be between 1 and {len(x) - 1} (the training set size - 1), got {n_val}")
    return x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]


def to_float(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 ``(N, H, W)`` or ``(N, H, W, C)`` -> float32 ``(N, H, W, C)`` in [0, 1] (the models' input)."""
    images = np.asarray(images_uint8)
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images, got {images.dtype}")
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"expected images of shape (N, H, W) or (N, H, W, 1 or 3), got {images.shape}")
    out = images.astype(np.float32)
    out *= np.float32(1.0 / 255.0)
    return out
