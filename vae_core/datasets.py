"""Image data sets for training: Fashion-MNIST, or your own images.

``load_images(path)`` reads, into one :class:`ImageSet` (uint8 ``(N, H, W, C)`` arrays for a
training and a test split, labels and class names or none, digests, notes on what was done):

* nothing (``None``): Fashion-MNIST, as ``vae_core.data`` finds it;
* a folder of images: ``PATH/<class>/*.png|jpg|...`` (one class per subfolder), optionally split
  as ``PATH/train/<class>/`` and ``PATH/test/<class>/``; images with no subfolders are an
  unlabelled set;
* an ``.npz`` with ``x_train``, ``x_test`` (uint8 ``(N, H, W)`` or ``(N, H, W, C)``) and optional
  ``y_train``, ``y_test``, ``class_names``, and known generating factors: ``y_<factor>_train`` and
  ``y_<factor>_test`` (one number per image: integers are categories, named by an optional
  ``<factor>_names``; other numbers are continuous), as ``make-sprites`` writes;
* a folder of IDX files in the MNIST layout (``*train*idx3*``, ``*train*idx1*``, ``*t10k*`` or
  ``*test*`` for the test split), at any image size; the four canonical Fashion-MNIST files are
  Fashion-MNIST.

``image_size`` resizes every image (Pillow, Lanczos); ``channels`` converts to grey (1) or RGB (3),
else a set is grey when every image is. Without a test split a seeded share is held out. Images
are 8 to 64 pixels a side after resizing; anything else is a :class:`DataError` whose one line
names the file or folder, what is wrong and the flag that fixes it. Reading runs in memory
(64x64 RGB: 12 KB an image, so 200,000 images take 2.5 GB).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import CLASS_NAMES, DataError, FashionMNIST, load_fashion_mnist
from .image_folder import MAX_CLASSES, MAX_IMAGES, MIN_IMAGES, read_folder
from .progress import BatchProgress

MIN_SIDE, MAX_SIDE = 8, 64
MAX_TEST = 10_000  # a bundle carries at most this many test images
MAX_FACTORS = 16
FACTOR_KEY = re.compile(r"y_([A-Za-z][A-Za-z0-9_]{0,31}?)_(?:train|test)")  # an .npz's factor arrays
FASHION_MNIST = "Fashion-MNIST"


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A data set as training and the bundle need it."""

    name: str
    kind: str  # fashion-mnist | folder | npz | idx
    source: str  # what was read (a path, or the Fashion-MNIST folder)
    x_train: np.ndarray  # (n, H, W, C) uint8
    y_train: np.ndarray  # (n,) uint8: class indices, all 0 when unlabelled
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] | None  # None: an unlabelled set
    digests: dict[str, str]
    notes: tuple[str, ...] = ()  # what was done to the images on the way
    # known generating factors (an .npz's y_<factor>_train/_test): name -> values, per split
    factors_train: dict[str, np.ndarray] = field(default_factory=dict)
    factors_test: dict[str, np.ndarray] = field(default_factory=dict)
    factor_info: dict[str, dict] = field(default_factory=dict)  # name -> {"kind", "names"?}

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.x_train.shape[1:])

    @property
    def labelled(self) -> bool:
        return self.class_names is not None

    @property
    def is_fashion_mnist(self) -> bool:
        """Fashion-MNIST as it comes: its bundles keep the schema they always had (no data block)."""
        return self.kind == "fashion-mnist" and self.image_shape == (28, 28, 1)

    def background(self) -> str:
        """ "dark" when most test images' border pixels are dark (objects drawn light on dark, like
        MNIST), else "light": an upload is inverted only to match a dark-background set."""
        border = np.concatenate(
            [
                self.x_test[:, 0].reshape(len(self.x_test), -1),
                self.x_test[:, -1].reshape(len(self.x_test), -1),
            ],
            axis=1,
        )
        return "dark" if float(np.median(border)) < 128 else "light"

    def data_block(self, floor_nats: float) -> dict:
        """The manifest's "data" block (schema 3)."""
        return {
            "name": self.name,
            "source": self.kind,
            "image_shape": list(self.image_shape),
            "class_names": list(self.class_names) if self.class_names else None,
            "n_train": int(len(self.x_train)),
            "n_test": int(len(self.x_test)),
            "sha256": self.digests,
            "floor_nats": float(floor_nats),
            "background": self.background(),
            "notes": list(self.notes),
            **({"factors": self.factor_info} if self.factor_info else {}),
        }


def load_images(
    path: str | Path | None = None,
    *,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
    test_share: float = 0.1,
    seed: int = 0,
    progress: BatchProgress | None = None,
    fashion_mnist_dir: str | Path | None = None,
) -> ImageSet:
    """Read a data set (see the module's docstring). Raises DataError with one line of what is wrong."""
    if channels not in (None, 1, 3):
        raise DataError(f"--channels must be 1 (grey) or 3 (RGB), not {channels}")
    if image_size is not None and not all(MIN_SIDE <= s <= MAX_SIDE for s in image_size):
        raise DataError(f"--image-size must be from {MIN_SIDE} to {MAX_SIDE} a side, not {image_size}")
    if not 0 < test_share < 1:
        raise DataError(f"--test-share must be between 0 and 1, not {test_share}")
    if path is None:
        raw = _from_fashion_mnist(load_fashion_mnist(fashion_mnist_dir))
    else:
        path = Path(path)
        if path.is_file() and path.suffix == ".npz":
            raw = _from_npz(path)
        elif path.is_dir() and _idx_files(path):
            raw = _from_idx(path)
        elif path.is_dir():
            train, y_train, test, y_test, names, files = read_folder(path, progress)
            raw = _Raw(path.name, "folder", str(path), train, y_train, test, y_test, names, files=files)
        elif not path.exists():
            raise DataError(f"{path}: no such file or folder (give a folder of images, an .npz or IDX files)")
        else:
            raise DataError(f"{path}: not a folder of images, an .npz or a folder of IDX files")
    return _finish(raw, image_size, channels, test_share, seed)


# ---------------------------------------------------------------------------- sources


@dataclass
class _Raw:
    """What a source read, before resizing, conversion and splitting."""

    name: str
    kind: str
    source: str
    train: list[np.ndarray] | np.ndarray  # images (H, W, C) uint8 each, or one array
    y_train: np.ndarray
    test: list[np.ndarray] | np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...] | None
    files: dict[int, str] | None = None  # image index -> file name, for errors about one image
    digests: dict[str, str] | None = None  # of the files read, when they identify the data set
    factors_train: dict[str, np.ndarray] = field(default_factory=dict)
    factors_test: dict[str, np.ndarray] = field(default_factory=dict)
    factor_info: dict[str, dict] = field(default_factory=dict)


def _from_fashion_mnist(data: FashionMNIST) -> _Raw:
    return _Raw(
        FASHION_MNIST,
        "fashion-mnist",
        data.source,
        data.x_train[..., None],
        data.y_train,
        data.x_test[..., None],
        data.y_test,
        CLASS_NAMES,
        digests=data.digests,
    )


def _from_npz(path: Path) -> _Raw:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as e:  # not a zip, a pickled object array, a damaged member
        raise DataError(f"{path}: not a readable .npz without pickled objects ({e})") from None
    missing = [k for k in ("x_train", "x_test") if k not in arrays]
    if missing:
        raise DataError(
            f"{path}: missing {', '.join(missing)} (an .npz needs x_train and x_test, uint8 images)"
        )
    images = {}
    for key in ("x_train", "x_test"):
        x = arrays[key]
        if x.dtype != np.uint8 or x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] not in (1, 3)):
            raise DataError(
                f"{path}: {key} is {x.dtype} {x.shape}; it must be uint8 (N, H, W) or (N, H, W, 1 or 3)"
            )
        images[key] = x if x.ndim == 4 else x[..., None]
    labels = {k: arrays.get(k) for k in ("y_train", "y_test")}
    if (labels["y_train"] is None) != (labels["y_test"] is None):
        raise DataError(f"{path}: has one of y_train and y_test; give both or neither")
    names = None
    if labels["y_train"] is not None:
        for key, x in (("y_train", images["x_train"]), ("y_test", images["x_test"])):
            y = labels[key]
            if (
                y.ndim != 1
                or len(y) != len(x)
                or not np.issubdtype(y.dtype, np.integer)
                or y.size
                and y.min() < 0
            ):
                raise DataError(f"{path}: {key} must be {len(x)} class indices >= 0 (one per image)")
        n_classes = int(max(labels["y_train"].max(initial=0), labels["y_test"].max(initial=0))) + 1
        given = arrays.get("class_names")
        names = tuple(str(n) for n in given) if given is not None else tuple(str(i) for i in range(n_classes))
        if given is not None and (given.ndim != 1 or len(names) < n_classes):
            raise DataError(f"{path}: class_names lists {len(names)} names but the labels use {n_classes}")
    y_train, y_test = (
        (labels["y_train"], labels["y_test"])
        if names
        else (np.zeros(len(x), np.uint8) for x in images.values())
    )
    raw = _Raw(path.stem, "npz", str(path), images["x_train"], y_train, images["x_test"], y_test, names)
    raw.factors_train, raw.factors_test, raw.factor_info = _factors_of(path, arrays, images)
    return raw


def _factors_of(path: Path, arrays: dict, images: dict) -> tuple[dict, dict, dict]:
    """An .npz's factor arrays: y_<name>_train and y_<name>_test, numbers, one per image; integers are
    categorical (named by an optional <name>_names), other numbers continuous."""
    found = list(dict.fromkeys(m.group(1) for key in arrays if (m := FACTOR_KEY.fullmatch(key))))
    if len(found) > MAX_FACTORS:
        raise DataError(f"{path}: {len(found)} factors; at most {MAX_FACTORS} are read")
    train, test, info = {}, {}, {}
    for name in found:
        columns = {}
        for part, x in (("train", images["x_train"]), ("test", images["x_test"])):
            key = f"y_{name}_{part}"
            v = arrays.get(key)
            if (
                v is None
                or v.ndim != 1
                or len(v) != len(x)
                or not (np.issubdtype(v.dtype, np.integer) or np.issubdtype(v.dtype, np.floating))
                or not np.all(np.isfinite(v))
            ):
                raise DataError(
                    f"{path}: factor {name!r} needs y_{name}_train and y_{name}_test, finite numbers, "
                    f"one per image ({key} is {'missing' if v is None else f'{v.dtype} {v.shape}'})"
                )
            columns[part] = v
        if np.issubdtype(columns["train"].dtype, np.integer):
            top = int(max(columns["train"].max(initial=0), columns["test"].max(initial=0)))
            given = arrays.get(f"{name}_names")
            if min(columns["train"].min(initial=0), columns["test"].min(initial=0)) < 0 or top >= MAX_CLASSES:
                raise DataError(
                    f"{path}: factor {name!r} (integers: categories) must be 0 to {MAX_CLASSES - 1}"
                )
            if given is not None and (given.ndim != 1 or len(given) <= top):
                raise DataError(f"{path}: {name}_names lists {given.size} names but {name} uses {top + 1}")
            names = [str(n) for n in given] if given is not None else [str(i) for i in range(top + 1)]
            info[name] = {"kind": "categorical", "names": names}
            train[name], test[name] = (columns[p].astype(np.uint8) for p in ("train", "test"))
        else:
            both = np.concatenate([columns["train"], columns["test"]]).astype(np.float64)
            info[name] = {"kind": "continuous", "min": float(both.min()), "max": float(both.max())}
            train[name], test[name] = (columns[p].astype(np.float32) for p in ("train", "test"))
    return train, test, info


def _idx_files(folder: Path) -> dict[str, Path]:
    """The IDX files of a folder by role (train/test images/labels): those found."""
    found = {}
    for file in sorted(folder.iterdir()):
        name = file.name.lower()
        if not file.is_file() or ("idx3" not in name and "idx1" not in name):
            continue
        split = "train" if "train" in name else "test" if ("t10k" in name or "test" in name) else None
        if split:
            found.setdefault(f"{split}_{'images' if 'idx3' in name else 'labels'}", file)
    return found


def _from_idx(folder: Path) -> _Raw:
    from .data import FILES, _read_idx

    files = _idx_files(folder)
    missing = [r for r in ("train_images", "train_labels", "test_images", "test_labels") if r not in files]
    if missing:
        raise DataError(
            f"{folder}: IDX files for {', '.join(m.replace('_', ' ') for m in missing)} not found "
            "(expected names like train-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz])"
        )
    hint = "Give the four IDX files of an MNIST-style data set (images and labels for train and test)."
    arrays, digests = {}, {}
    for role, file in files.items():
        kind = role.split("_")[1]
        arrays[role], digests[file.name] = _read_idx(file, kind, None, side=None, classes=None, hint=hint)
    for split in ("train", "test"):
        if len(arrays[f"{split}_images"]) != len(arrays[f"{split}_labels"]):
            raise DataError(f"{folder}: the {split} images and labels files hold different counts")
    canonical = {name: spec.sha256 for name, spec in FILES.items()}
    if digests == canonical:  # the four Fashion-MNIST files, wherever they are
        return _from_fashion_mnist(load_fashion_mnist(folder))
    n_classes = int(max(arrays["train_labels"].max(initial=0), arrays["test_labels"].max(initial=0))) + 1
    return _Raw(
        folder.name,
        "idx",
        str(folder),
        arrays["train_images"][..., None],
        arrays["train_labels"],
        arrays["test_images"][..., None],
        arrays["test_labels"],
        tuple(str(i) for i in range(n_classes)),
    )


# ---------------------------------------------------------------------------- shape and splits


def _sizes(images) -> dict[tuple[int, int], int]:
    counts: dict[tuple[int, int], int] = {}
    for image in images:
        counts[image.shape[:2]] = counts.get(image.shape[:2], 0) + 1
    return counts


def _resize(images, size: tuple[int, int], channels: int) -> np.ndarray:
    from PIL import Image

    mode = "L" if channels == 1 else "RGB"
    out = np.empty((len(images), *size, channels), np.uint8)
    for i, image in enumerate(images):
        picture = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
        if picture.size != (size[1], size[0]):
            picture = picture.resize((size[1], size[0]), Image.Resampling.LANCZOS)
        out[i] = np.asarray(picture.convert(mode)).reshape(*size, channels)
    return out


def _shape_of(raw: _Raw, image_size: tuple[int, int] | None, channels: int | None) -> tuple[tuple, int]:
    """The (H, W) and channel count every image gets, or a DataError saying which flag is needed."""
    every = list(raw.train) + list(raw.test if raw.test is not None else [])
    sizes = _sizes(every)
    if image_size is None:
        if len(sizes) > 1:
            common = sorted(sizes.items(), key=lambda kv: -kv[1])
            listed = ", ".join(f"{h}x{w} in {n:,}" for (h, w), n in common[:3])
            odd = next(i for i, im in enumerate(every) if im.shape[:2] != common[0][0])
            where = f", e.g. {raw.files[odd]}" if raw.files else ""
            raise DataError(
                f"{raw.source}: images of different sizes ({listed}{where}); pass --image-size "
                f"{common[0][0][0]} to resize them all"
            )
        ((h, w),) = sizes
        if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
            side = min(MAX_SIDE, max(MIN_SIDE, h, w))
            raise DataError(
                f"{raw.source}: images are {h}x{w}, outside the {MIN_SIDE} to {MAX_SIDE} pixels a side the "
                f"explorer handles; pass --image-size {side} to resize them"
            )
        image_size = (h, w)
    if channels is None:
        grey = all(im.shape[2] == 1 or _is_grey(im) for im in every)
        channels = 1 if grey else 3
    return image_size, channels


def _is_grey(image: np.ndarray) -> bool:
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2]))


def _digest(x: np.ndarray, y: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()


def _finish(
    raw: _Raw, image_size: tuple[int, int] | None, channels: int | None, test_share: float, seed: int
) -> ImageSet:
    n_images = len(raw.train) + (len(raw.test) if raw.test is not None else 0)
    if n_images > MAX_IMAGES:
        raise DataError(
            f"{raw.source}: {n_images:,} images, more than the {MAX_IMAGES:,} read at once; use a subset"
        )
    if raw.class_names is not None and len(raw.class_names) > MAX_CLASSES:
        raise DataError(
            f"{raw.source}: {len(raw.class_names):,} classes, more than the {MAX_CLASSES} a map can tell "
            "apart; merge classes, or train without labels"
        )
    size, channels = _shape_of(raw, image_size, channels)
    notes = []
    source_shape = {tuple(im.shape[:2]) for im in raw.train[:1]}
    if image_size is not None and source_shape != {tuple(size)}:
        notes.append(f"resized to {size[0]}x{size[1]} with Pillow's Lanczos filter")
    if raw.kind != "fashion-mnist" or image_size is not None or channels != 1:
        x_train = _resize(raw.train, size, channels)
        x_test = _resize(raw.test, size, channels) if raw.test is not None else None
    else:  # Fashion-MNIST as it comes
        x_train, x_test = np.asarray(raw.train), np.asarray(raw.test)
    unchanged = raw.kind == "fashion-mnist" and image_size is None and channels == 1
    # Labels and factors, one column each ("" the class), follow their images through every move.
    train = {"": np.asarray(raw.y_train, np.uint8), **raw.factors_train}
    test = None if raw.y_test is None else {"": raw.y_test, **raw.factors_test}
    if x_test is None:
        n_test = min(MAX_TEST, max(1, round(test_share * len(x_train))))
        order = np.random.default_rng(seed).permutation(len(x_train))
        test_rows, train_rows = np.sort(order[:n_test]), np.sort(order[n_test:])
        x_train, x_test = x_train[train_rows], x_train[test_rows]
        train, test = _rows(train, train_rows), _rows(train, test_rows)
        notes.append(f"held out {n_test:,} images ({test_share:.0%}, seed {seed}) as the test split")
    elif len(x_test) > MAX_TEST:  # a bundle carries at most MAX_TEST test images: the rest train
        extra = len(x_test) - MAX_TEST
        x_train = np.concatenate([x_train, x_test[MAX_TEST:]])
        train = {k: np.concatenate([v, test[k][MAX_TEST:]]) for k, v in train.items()}
        x_test, test = x_test[:MAX_TEST], _rows(test, slice(None, MAX_TEST))
        notes.append(f"moved {extra:,} test images beyond the first {MAX_TEST:,} to the training split")
    if not unchanged:  # a folder lists class by class: mix them, so the validation split holds every class
        order = np.random.default_rng(seed).permutation(len(x_train))
        x_train, train = x_train[order], _rows(train, order)
    y_train, y_test = train.pop(""), test.pop("")
    if len(x_train) < MIN_IMAGES:
        raise DataError(
            f"{raw.source}: {len(x_train)} training image(s); a data set needs at least {MIN_IMAGES}"
        )
    return ImageSet(
        name=raw.name,
        kind=raw.kind,
        source=raw.source,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=np.asarray(y_test, np.uint8),
        class_names=raw.class_names,
        digests=raw.digests
        if unchanged
        else {"train": _digest(x_train, y_train), "test": _digest(x_test, y_test)},
        notes=tuple(notes),
        factors_train=train,
        factors_test=test,
        factor_info=raw.factor_info,
    )


def _rows(columns: dict[str, np.ndarray], rows) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in columns.items()}


def parse_size(text: str) -> tuple[int, int]:
    """``"32"`` -> (32, 32); ``"24x32"`` -> (24, 32) (height x width), for --image-size."""
    parts = text.lower().split("x")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise DataError(f"--image-size {text!r}: give a side (32) or HxW (24x32)") from None
    if len(values) not in (1, 2):
        raise DataError(f"--image-size {text!r}: give a side (32) or HxW (24x32)")
    return (values[0], values[0]) if len(values) == 1 else values
