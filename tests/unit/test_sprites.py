"""make-sprites: the recipe's grid, determinism, shapes drawn where their factors say, and the
factors carried from the .npz through the data set into a bundle's test images."""

import json
import subprocess
import sys

import numpy as np
import pytest

from vae_core.datasets import load_images
from vae_core.sprites import SHAPES, Recipe, make_sprites, render, write_sprites


def test_the_default_grid_has_every_combination_of_the_documented_factors():
    grids = Recipe().factor_grids()
    assert list(grids) == ["shape", "scale", "rotation", "x", "y"]
    assert [len(g) for g in grids.values()] == [3, 6, 10, 16, 16]
    assert grids["scale"][0] == 0.5 and grids["scale"][-1] == 1.0
    assert np.allclose(np.diff(grids["rotation"]), 2 * np.pi / 10) and grids["rotation"][-1] < 2 * np.pi
    # the largest shape at any angle stays inside the image at every position
    big = [render(32, s, 1.0, np.pi / 4, grids["x"][0], grids["y"][-1]) for s in range(3)]
    for image in big:
        assert image[:, 0].max() == 0 and image[-1, :].max() == 0


def test_a_small_grid_holds_each_combination_once_split_into_train_and_test():
    arrays = make_sprites(Recipe(size=16, scales=2, rotations=2, positions=2))
    names = ["shape", "scale", "rotation", "x", "y"]
    rows = np.concatenate(
        [np.stack([arrays[f"y_{n}_{part}"] for n in names], axis=1) for part in ("train", "test")]
    )
    assert len(rows) == 3 * 2 * 2 * 2 * 2 == len(np.unique(rows, axis=0))
    assert len(arrays["y_shape_test"]) == round(0.1 * 48)
    assert np.array_equal(arrays["y_train"], arrays["y_shape_train"])  # the class is the shape
    assert list(arrays["class_names"]) == list(SHAPES)


def test_the_same_seed_makes_the_same_set_and_another_seed_another_draw():
    a, b = make_sprites(Recipe(count=40, seed=3)), make_sprites(Recipe(count=40, seed=3))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = make_sprites(Recipe(count=40, seed=4))
    assert not np.array_equal(a["y_x_train"], c["y_x_train"])
    with pytest.raises(ValueError, match="count"):
        make_sprites(Recipe(size=16, scales=1, rotations=1, positions=1, count=4))


def ink_moments(image):
    w = image.astype(float)
    rows, cols = np.indices(image.shape)
    total = w.sum()
    cy, cx = (rows * w).sum() / total, (cols * w).sum() / total
    cov = np.cov(np.stack([cols.ravel(), rows.ravel()]), aweights=w.ravel())
    return total / 255, (cx + 0.5) / image.shape[1], (cy + 0.5) / image.shape[0], cov


@pytest.mark.parametrize("shape", range(3))
def test_each_shape_is_drawn_at_its_position_and_size(shape):
    area1, cx, cy, _ = ink_moments(render(64, shape, 1.0, 0.0, 0.4, 0.6))
    area_half, *_ = ink_moments(render(64, shape, 0.5, 0.0, 0.4, 0.6))
    assert area1 / area_half == pytest.approx(4.0, rel=0.08)  # area goes with the scale squared
    # the ink's centre is at (x, y) (the heart's a little off its centre, by its shape)
    tolerance = 0.05 if SHAPES[shape] == "heart" else 0.01
    assert cx == pytest.approx(0.4, abs=tolerance) and cy == pytest.approx(0.6, abs=tolerance)


def test_rotation_turns_the_shape_and_the_shapes_differ():
    _, _, _, flat = ink_moments(render(64, SHAPES.index("ellipse"), 1.0, 0.0, 0.5, 0.5))
    _, _, _, upright = ink_moments(render(64, SHAPES.index("ellipse"), 1.0, np.pi / 2, 0.5, 0.5))
    assert flat[0, 0] > 3 * flat[1, 1]  # twice as wide as tall: 4x the variance
    assert upright[1, 1] > 3 * upright[0, 0]
    square = render(64, SHAPES.index("square"), 1.0, 0.0, 0.5, 0.5)
    turned = render(64, SHAPES.index("square"), 1.0, np.pi / 4, 0.5, 0.5)
    assert (square > 127).any(axis=0).sum() < (turned > 127).any(axis=0).sum()  # a diamond is wider
    heart = render(64, SHAPES.index("heart"), 1.0, 0.0, 0.5, 0.5) > 127
    assert np.array_equal(heart, heart[:, ::-1])  # symmetric left to right
    assert not np.array_equal(heart, heart[::-1, :])  # not top to bottom: lobes up, point down
    top, bottom = heart[:32].sum(axis=1).max(), heart[32:].sum(axis=1)
    assert top > bottom[bottom > 0].min() * 3


def test_the_factors_travel_from_the_npz_into_the_image_set(tmp_path):
    path = write_sprites(Recipe(count=300, seed=1), tmp_path / "sprites")
    recipe = json.loads((tmp_path / "sprites" / "recipe.json").read_text())
    assert recipe["recipe"]["count"] == 300 and recipe["shapes"] == list(SHAPES)
    data = load_images(path)
    assert data.class_names == SHAPES
    assert list(data.factor_info) == ["shape", "scale", "rotation", "x", "y"]
    assert data.factor_info["shape"] == {"kind": "categorical", "names": list(SHAPES)}
    assert data.factor_info["scale"] == {"kind": "continuous", "min": 0.5, "max": 1.0}
    # every move of the images (the shuffle of the training split) moves their factors too
    assert np.array_equal(data.factors_train["shape"], data.y_train)
    assert np.array_equal(data.factors_test["shape"], data.y_test)
    for i in (0, 7, 100):
        _, cx, cy, _ = ink_moments(data.x_train[i, ..., 0])
        if data.y_train[i] != SHAPES.index("heart"):
            assert cx == pytest.approx(data.factors_train["x"][i], abs=0.03)
            assert cy == pytest.approx(data.factors_train["y"][i], abs=0.03)
    assert data.data_block(0.0)["factors"] == data.factor_info


def test_make_sprites_cli(tmp_path):
    out = tmp_path / "s"
    run = subprocess.run(
        [sys.executable, "-m", "vae_core", "make-sprites", "--out", str(out), "--size", "16"]
        + ["--scales", "2", "--rotations", "2", "--positions", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "train --data" in run.stdout
    with np.load(out / "sprites.npz") as arrays:
        assert len(arrays["x_train"]) + len(arrays["x_test"]) == 3 * 2 * 2 * 3 * 3
    bad = subprocess.run(
        [sys.executable, "-m", "vae_core", "make-sprites", "--out", str(out), "--size", "100"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "--size must be from 8 to 64" in bad.stderr
