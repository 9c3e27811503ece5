"""A dSprites-style data set with known generating factors, made on this machine.

dSprites (Matthey et al. 2017, DeepMind) is every combination of 3 shapes x 6 scales x 40
rotations x 32 x-positions x 32 y-positions, a white shape on black, 64x64, binary. It cannot be
downloaded here, and it is itself the output of a simple recipe, so this module follows that
recipe (``python -m vae_core make-sprites --out data/sprites``):

* shape (categorical): square, ellipse (twice as wide as tall), heart;
* scale: ``scales`` values from 0.5 to 1 of the largest size (a square 0.4 of the image side);
* rotation: ``rotations`` angles over a full turn (in radians), about the shape's centre;
* x, y: ``positions`` values each, the centre kept far enough from the edges that the largest
  shape at any angle stays inside the image;

every combination once (or, with ``count``, that many combinations drawn without replacement),
each pixel the fraction of its 4x4 sub-pixels inside the shape (so edges are grey, where
dSprites is binary). Differences from the original: 32x32 by default (``size`` 64 gives its
size), fewer rotations and positions by default (10 and 16: 46,080 images instead of 737,280),
grey edges, the heart drawn from an implicit curve rather than dSprites' own bitmap, and a
test split. Deterministic: the images depend only on the grid, the split and any subsample on
``seed``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SHAPES = ("square", "ellipse", "heart")
SUPERSAMPLE = 4  # sub-pixels per side: edges get 17 grey levels
EXTENT = 0.4  # the largest shape's unit (its square's side), as a share of the image side
REACH = 0.71  # how far any shape reaches from its centre, in its units, at any angle (a square's corner)


@dataclass(frozen=True)
class Recipe:
    size: int = 32  # image side in pixels (dSprites: 64)
    scales: int = 6
    rotations: int = 10  # dSprites: 40
    positions: int = 16  # per axis (dSprites: 32)
    test_share: float = 0.1
    seed: int = 0
    count: int | None = None  # None: every combination

    def factor_grids(self) -> dict[str, np.ndarray]:
        """Each factor's values: shape indices, then continuous values."""
        margin = REACH * EXTENT + 1 / self.size  # the largest shape stays inside at any angle
        return {
            "shape": np.arange(len(SHAPES)),
            "scale": np.linspace(0.5, 1.0, self.scales),
            "rotation": np.linspace(0, 2 * np.pi, self.rotations, endpoint=False),
            "x": np.linspace(margin, 1 - margin, self.positions),
            "y": np.linspace(margin, 1 - margin, self.positions),
        }


def inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether shape-local points (u, v), in units of the shape's extent, are inside the shape."""
    if SHAPES[shape] == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.5
    if SHAPES[shape] == "ellipse":
        return (u / 0.7) ** 2 + (v / 0.35) ** 2 <= 1
    # heart: (x^2 + y^2 - 1)^3 <= x^2 y^3, scaled to about the square's size, point down
    x, y = u / 0.45, -v / 0.45 + 0.15
    return (x * x + y * y - 1) ** 3 <= x * x * y**3


def render(size: int, shape: int, scale: float, rotation: float, x: float, y: float) -> np.ndarray:
    """One image, uint8 (size, size): the shape's pixel coverage, white on black."""
    k = SUPERSAMPLE
    grid = (np.arange(size * k) + 0.5) / (size * k)  # sub-pixel centres in [0, 1]
    px, py = np.meshgrid(grid, grid)  # px: column (x, left to right), py: row (y, top to bottom)
    extent = scale * EXTENT  # the shape's unit, as a share of the image side
    cos, sin = np.cos(rotation), np.sin(rotation)
    dx, dy = (px - x) / extent, (py - y) / extent
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy  # rotate the image into the shape's frame
    cover = inside(shape, u, v).reshape(size, k, size, k).mean(axis=(1, 3))
    return np.round(cover * 255).astype(np.uint8)


def make_sprites(recipe: Recipe) -> dict[str, np.ndarray]:
    """The data set as the arrays of an .npz that ``train --data`` reads: x_train, x_test, y_train and
    y_test (the shape), class_names, and per factor y_<factor>_train and y_<factor>_test."""
    grids = recipe.factor_grids()
    names = list(grids)
    combos = np.array(list(itertools.product(*(range(len(g)) for g in grids.values()))))
    rng = np.random.default_rng(recipe.seed)
    if recipe.count is not None:
        if not 1 <= recipe.count <= len(combos):
            raise ValueError(f"count must be from 1 to {len(combos):,} (the grid's combinations)")
        combos = combos[np.sort(rng.choice(len(combos), recipe.count, replace=False))]
    values = np.stack([grids[n][combos[:, i]] for i, n in enumerate(names)], axis=1)
    images = np.stack([render(recipe.size, int(v[0]), *v[1:]) for v in values])[..., None]
    order = rng.permutation(len(images))
    n_test = max(1, round(recipe.test_share * len(images)))
    split = {"test": order[:n_test], "train": order[n_test:]}
    arrays: dict[str, np.ndarray] = {"class_names": np.array(SHAPES), "shape_names": np.array(SHAPES)}
    for part, rows in split.items():
        arrays[f"x_{part}"] = images[rows]
        arrays[f"y_{part}"] = combos[rows, 0].astype(np.uint8)
        for i, name in enumerate(names):
            column = combos[rows, i] if name == "shape" else values[rows, i]
            arrays[f"y_{name}_{part}"] = column.astype(np.uint8 if name == "shape" else np.float32)
    return arrays


def write_sprites(recipe: Recipe, out: Path) -> Path:
    """Writes ``out/sprites.npz`` and ``out/recipe.json``; the .npz's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    arrays = make_sprites(recipe)
    path = out / "sprites.npz"
    np.savez_compressed(path, **arrays)
    grids = {k: v.tolist() for k, v in recipe.factor_grids().items()}
    about = {"recipe": asdict(recipe), "factors": grids, "shapes": list(SHAPES), "module": __name__}
    (out / "recipe.json").write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    return path
