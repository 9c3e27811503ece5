"""A folder of image files as a data set: its layout (classes, splits), and reading the files.

``PATH/<class>/*.png|jpg|...`` (one class per subfolder), optionally split as
``PATH/train/<class>/`` and ``PATH/test/<class>/``; images with no subfolders are an unlabelled
set. Hidden files and files without an image suffix are not read. Every image is read as 8-bit
RGB (grey images too); ``vae_core.datasets`` then sizes, converts and splits them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .data import DataError
from .progress import BatchProgress, tracked

MAX_CLASSES = 50  # what a map legend can tell apart
MAX_IMAGES = 200_000  # per data set read from a folder or an .npz
MIN_IMAGES = 10  # a training, a validation and a test split need a few each
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
READ_BATCH = 256  # images per progress step while reading a folder
GREY_MODES = frozenset({"1", "L", "LA"})
WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")  # 16-bit, 32-bit integer or float pixels


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _classes(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _listing(folder: Path) -> tuple[list[Path], list[int], tuple[str, ...] | None]:
    """(files, label per file, class names or None) of one split's folder."""
    subfolders, loose = _classes(folder), _image_files(folder)
    if subfolders and loose:
        raise DataError(
            f"{folder}: holds both images ({loose[0].name}, ...) and subfolders ({subfolders[0].name}, ...); "
            "put every image in a class subfolder, or none of them"
        )
    if not subfolders:
        return loose, [0] * len(loose), None
    if len(subfolders) > MAX_CLASSES:
        raise DataError(
            f"{folder}: {len(subfolders):,} class subfolders, more than the {MAX_CLASSES} a map can tell "
            "apart; merge classes, or train on an unlabelled folder of images"
        )
    files, labels = [], []
    for label, sub in enumerate(subfolders):
        found = _image_files(sub)
        if not found:
            raise DataError(
                f"{sub}: this class folder holds no images (.png, .jpg, ...); remove it or add images"
            )
        files += found
        labels += [label] * len(found)
    return files, labels, tuple(p.name for p in subfolders)


def read_folder(folder: Path, progress: BatchProgress | None = None):
    """(train images, train labels, test images or None, test labels or None, class names or None,
    {index: file}) of a folder; images are uint8 (H, W, 3) arrays, in the order listed."""
    splits = {name: folder / name for name in ("train", "test")}
    if all(p.is_dir() for p in splits.values()):
        (train, y_train, names), (test, y_test, test_names) = (_listing(p) for p in splits.values())
        if names != test_names:
            raise DataError(
                f"{folder}: train/ and test/ have different class folders ({names} and {test_names})"
            )
    else:
        train, y_train, names = _listing(folder)
        test, y_test = None, None
    total = len(train) + len(test or [])
    if total < MIN_IMAGES:
        raise DataError(f"{folder}: {total} image(s) found; a data set needs at least {MIN_IMAGES}")
    if total > MAX_IMAGES:
        raise DataError(
            f"{folder}: {total:,} images, more than the {MAX_IMAGES:,} read at once; use a subset"
        )
    files = list(train) + list(test or [])
    pixels = _read_files(files, progress)
    n = len(train)
    return (
        pixels[:n],
        np.asarray(y_train, np.uint8),
        pixels[n:] if test else None,
        np.asarray(y_test, np.uint8) if test else None,
        names,
        {i: str(f) for i, f in enumerate(files)},
    )


def _read_files(files: list[Path], progress: BatchProgress | None) -> list[np.ndarray]:
    """Each file as uint8 (H, W, 3); a file Pillow cannot read, or whose pixels are not 8-bit grey
    or colour, stops the reading with its name."""
    from PIL import Image, UnidentifiedImageError

    out: list[np.ndarray] = []
    batches = [files[i : i + READ_BATCH] for i in range(0, len(files), READ_BATCH)]
    for batch in tracked(batches, progress, "reading images", len(batches), READ_BATCH):
        for file in batch:
            try:
                with Image.open(file) as image:
                    mode = image.mode
                    if mode == "CMYK":
                        raise DataError(f"{file}: a CMYK image; save it as RGB (or grey) and try again")
                    if mode in WIDE_MODES:
                        raise DataError(
                            f"{file}: {mode} pixels (16-bit or wider); save it with 8 bits per channel"
                        )
                    image.load()
                    rgb = (
                        image.convert("RGB") if mode not in GREY_MODES else image.convert("L").convert("RGB")
                    )
            except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
                raise DataError(
                    f"{file}: not a readable image ({type(e).__name__}); remove or replace it"
                ) from None
            out.append(np.asarray(rgb, dtype=np.uint8))
    return out
