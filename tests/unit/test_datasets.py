"""Your own images as a data set (vae_core.datasets): every source, the shapes, the splits, and one
clear line for each mistake a user will make."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from harness.image_sets import coloured_shapes, grey_blobs_npz, idx_set, unlabelled_colour
from vae_core.data import DataError
from vae_core.datasets import MAX_TEST, load_images, parse_size


def test_a_class_folder_set_in_colour_with_a_seeded_test_split(tmp_path):
    data = load_images(coloured_shapes(tmp_path / "shapes", per_class=20))
    assert data.kind == "folder" and data.name == "shapes"
    assert data.image_shape == (32, 32, 3) and data.class_names == ("circle", "square", "triangle")
    assert len(data.x_train) + len(data.x_test) == 60 and len(data.x_test) == 6
    assert data.x_train.dtype == np.uint8 and set(np.unique(data.y_train)) == {0, 1, 2}
    assert any("held out 6 images" in n for n in data.notes)
    again = load_images(tmp_path / "shapes")
    assert np.array_equal(again.x_test, data.x_test) and again.digests == data.digests  # seeded
    red = data.x_train[data.y_train == 0].reshape(-1, 3).max(axis=0)
    assert red[0] > 200 and red[1] < 60  # the circles are red: colour kept


def test_train_and_test_folders_are_kept_as_given(tmp_path):
    coloured_shapes(tmp_path / "set" / "train", per_class=10)
    coloured_shapes(tmp_path / "set" / "test", per_class=3, seed=1)
    data = load_images(tmp_path / "set")
    assert (len(data.x_train), len(data.x_test)) == (30, 9)
    assert not any("held out" in n for n in data.notes)


def test_a_grey_npz_and_an_unlabelled_colour_folder(tmp_path):
    blobs = load_images(grey_blobs_npz(tmp_path / "blobs.npz"))
    assert blobs.image_shape == (8, 8, 1) and blobs.class_names == ("left", "right")
    assert (len(blobs.x_train), len(blobs.x_test)) == (80, 20)
    plain = load_images(unlabelled_colour(tmp_path / "plain"))
    assert plain.image_shape == (64, 64, 3) and plain.class_names is None and not plain.labelled
    assert not plain.y_train.any() and plain.background() == "light"


def test_idx_files_at_any_size_resized_and_converted(tmp_path):
    data = load_images(idx_set(tmp_path / "bars", size=20))
    assert data.kind == "idx" and data.image_shape == (20, 20, 1) and data.class_names == ("0", "1", "2", "3")
    bigger = load_images(tmp_path / "bars", image_size=(24, 24), channels=3)
    assert bigger.image_shape == (24, 24, 3)
    assert any("Lanczos" in n for n in bigger.notes)
    assert np.array_equal(bigger.x_train[..., 0], bigger.x_train[..., 2])  # grey made RGB


def test_grey_pictures_make_a_grey_set_unless_told(tmp_path):
    folder = tmp_path / "grey"
    folder.mkdir()
    for i in range(12):
        Image.fromarray(np.full((16, 16, 3), i * 20, np.uint8)).save(
            folder / f"{i}.png"
        )  # RGB files, grey pixels
    assert load_images(folder).image_shape == (16, 16, 1)
    assert load_images(folder, channels=3).image_shape == (16, 16, 3)


def _pngs(folder, sizes, mode="L"):
    folder.mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(sizes):
        Image.new(mode, size).save(folder / f"{i}.png")
    return folder


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda d: _pngs(d, [(32, 32)] * 9 + [(40, 30)] * 3),
            r"different sizes .*32x32 in 9.*--image-size 32",
        ),
        (lambda d: _pngs(d, [(128, 128)] * 12), r"128x128, outside the 8 to 64 .*--image-size 64"),
        (lambda d: _pngs(d, [(4, 4)] * 12), r"4x4, outside .*--image-size 8"),
        (lambda d: _pngs(d, [(32, 32)]), r"1 image\(s\) found; a data set needs at least 10"),
    ],
)
def test_a_folder_a_user_got_wrong_gets_one_line(tmp_path, make, message):
    make(tmp_path / "set")
    with pytest.raises(DataError, match=message) as info:
        load_images(tmp_path / "set")
    assert "\n" not in str(info.value)


def test_odd_files_are_named(tmp_path):
    folder = _pngs(tmp_path / "cmyk", [(32, 32)] * 12)
    Image.new("CMYK", (32, 32)).save(folder / "print.jpg")
    with pytest.raises(DataError, match=r"print\.jpg: a CMYK image; save it as RGB"):
        load_images(folder)
    folder = _pngs(tmp_path / "wide", [(32, 32)] * 12)
    Image.fromarray(np.zeros((32, 32), np.uint16)).save(folder / "scan.png")
    with pytest.raises(DataError, match=r"scan\.png: I;16 pixels \(16-bit or wider\)"):
        load_images(folder)
    folder = _pngs(tmp_path / "broken", [(32, 32)] * 12)
    (folder / "half.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(DataError, match=r"half\.png: not a readable image"):
        load_images(folder)


def test_class_folders_a_user_got_wrong(tmp_path):
    root = tmp_path / "empty"
    _pngs(root / "a", [(16, 16)] * 12)
    (root / "b").mkdir()
    with pytest.raises(DataError, match=r"empty/b: this class folder holds no images"):
        load_images(root)
    root = tmp_path / "many"
    for k in range(60):
        _pngs(root / f"c{k}", [(16, 16)])
    with pytest.raises(DataError, match=r"60 class subfolders, more than the 50"):
        load_images(root)
    root = tmp_path / "mixed"
    _pngs(root / "a", [(16, 16)] * 12)
    _pngs(root, [(16, 16)] * 2)
    with pytest.raises(DataError, match=r"holds both images .* and subfolders"):
        load_images(root)


def test_npz_files_a_user_got_wrong(tmp_path):
    np.savez(
        tmp_path / "float.npz",
        x_train=np.zeros((20, 8, 8), np.float32),
        x_test=np.zeros((5, 8, 8), np.float32),
    )
    with pytest.raises(DataError, match=r"x_train is float32 .* must be uint8"):
        load_images(tmp_path / "float.npz")
    np.savez(tmp_path / "half.npz", x_train=np.zeros((20, 8, 8), np.uint8))
    with pytest.raises(DataError, match=r"missing x_test"):
        load_images(tmp_path / "half.npz")
    with pytest.raises(DataError, match=r"10,000 classes, more than the 50"):
        _many_classes(tmp_path)
    (tmp_path / "pickled.npz").write_bytes(b"PK not a zip")
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load_images(tmp_path / "pickled.npz")


def _many_classes(tmp_path):
    n = 10_000
    np.savez(
        tmp_path / "classes.npz",
        x_train=np.zeros((n, 8, 8), np.uint8),
        x_test=np.zeros((10, 8, 8), np.uint8),
        y_train=np.arange(n),
        y_test=np.zeros(10, int),
    )
    return load_images(tmp_path / "classes.npz")


def test_a_large_test_split_keeps_the_bundles_limit(tmp_path):
    n = MAX_TEST + 50
    np.savez(
        tmp_path / "big.npz", x_train=np.zeros((20, 8, 8), np.uint8), x_test=np.zeros((n, 8, 8), np.uint8)
    )
    data = load_images(tmp_path / "big.npz")
    assert len(data.x_test) == MAX_TEST and len(data.x_train) == 70
    assert any("moved 50 test images" in note for note in data.notes)


def test_flags_out_of_range_and_missing_paths(tmp_path):
    with pytest.raises(DataError, match="--image-size must be from 8 to 64"):
        load_images(tmp_path, image_size=(100, 100))
    with pytest.raises(DataError, match="--channels must be 1"):
        load_images(tmp_path, channels=2)
    with pytest.raises(DataError, match="no such file or folder"):
        load_images(tmp_path / "nothing")
    assert parse_size("32") == (32, 32) and parse_size("24x40") == (24, 40)
    with pytest.raises(DataError, match="give a side"):
        parse_size("big")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"y_x_train": np.zeros(80, np.float32)}, "needs y_x_train and y_x_test"),
        ({"y_x_train": np.full(80, np.nan), "y_x_test": np.zeros(20)}, "finite numbers"),
        ({"y_x_train": np.zeros(79), "y_x_test": np.zeros(20)}, "one per image"),
        ({"y_s_train": np.full(80, 60), "y_s_test": np.zeros(20, int)}, "must be 0 to 49"),
        (
            {"y_s_train": np.ones(80, int), "y_s_test": np.ones(20, int), "s_names": np.array(["a"])},
            "lists 1",
        ),
    ],
)
def test_malformed_factor_arrays_get_one_line(tmp_path, extra, expected):
    path = grey_blobs_npz(tmp_path / "blobs.npz")
    with np.load(path) as arrays:
        base = {k: arrays[k] for k in arrays.files}
    np.savez(path, **base, **extra)
    with pytest.raises(DataError, match=expected):
        load_images(path)
