"""Small image data sets the tests make themselves (other data sets cannot be downloaded here):
coloured shapes in class folders, grey blobs in an .npz, an unlabelled colour folder, IDX files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES = ("circle", "square", "triangle")
COLOURS = ((220, 40, 40), (40, 170, 60), (40, 80, 220))  # red circles, green squares, blue triangles


def shape_image(kind: str, size: int, rng: np.random.Generator, background=(0, 0, 0)) -> Image.Image:
    """One shape of its class colour at a random place and size on a plain background."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    r = rng.uniform(0.18, 0.32) * size
    cx, cy = rng.uniform(r + 1, size - r - 1, 2)
    colour = COLOURS[SHAPE_CLASSES.index(kind)]
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif kind == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return image


def coloured_shapes(folder: Path, per_class: int = 40, size: int = 32, seed: int = 0) -> Path:
    """``folder/<class>/<i>.png``: red circles, green squares and blue triangles on black."""
    rng = np.random.default_rng(seed)
    for kind in SHAPE_CLASSES:
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape_image(kind, size, rng).save(folder / kind / f"{i:04d}.png")
    return folder


def grey_blobs_npz(path: Path, n_train: int = 80, n_test: int = 20, size: int = 8, seed: int = 0) -> Path:
    """An .npz of ``size``-pixel grey blobs in two classes (left or right), with class names."""
    rng = np.random.default_rng(seed)

    def blobs(n):
        y = rng.integers(0, 2, n)
        rows, cols = np.mgrid[:size, :size]
        centre = np.where(y[:, None, None] == 0, size * 0.3, size * 0.7)
        x = np.exp(-((cols[None] - centre) ** 2 + (rows[None] - size / 2) ** 2) / (size / 3))
        return (x * 255).astype(np.uint8), y.astype(np.uint8)

    x_train, y_train = blobs(n_train)
    x_test, y_test = blobs(n_test)
    np.savez(
        path,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=np.array(["left", "right"]),
    )
    return path


def unlabelled_colour(folder: Path, n: int = 60, size: int = 64, seed: int = 0) -> Path:
    """``folder/<i>.png`` with no class folders: mixed shapes on white, 64x64 colour."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shape_image(SHAPE_CLASSES[i % 3], size, rng, background=(255, 255, 255)).save(folder / f"{i:04d}.png")
    return folder


def _idx(array: np.ndarray, magic: int) -> bytes:
    return (
        magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()
    )


def idx_set(folder: Path, size: int = 20, n_train: int = 60, n_test: int = 20, seed: int = 0) -> Path:
    """MNIST-layout IDX files (gzip) of ``size``-pixel images in 4 classes: bars at 4 angles."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 4, n).astype(np.uint8)
        images = np.zeros((n, size, size), np.uint8)
        for i, label in enumerate(labels):
            picture = Image.new("L", (size, size))
            angle = np.pi * label / 4
            c, s = np.cos(angle) * size * 0.4, np.sin(angle) * size * 0.4
            ImageDraw.Draw(picture).line(
                (size / 2 - c, size / 2 - s, size / 2 + c, size / 2 + s), fill=255, width=2
            )
            images[i] = np.asarray(picture)
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images, 0x803)))
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels, 0x801)))
    return folder
