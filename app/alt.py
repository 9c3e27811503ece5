"""Text alternatives: what each image on the page shows, in words, for a screen reader (WCAG 1.1.1).

A decode is named by where it was decoded and what it most looks like: the classes of the test
images whose codes lie nearest. A test image is named by its number and class. Class names come
from the bundle: these strings go into ``alt`` attributes (escaped by the page), never into Markdown.
"""

from __future__ import annotations

import numpy as np

from app.explorer import Explorer
from vae_core import geometry

NEAREST = 10  # test images whose classes say what a decode looks like


def coords(z: np.ndarray, limit: int = 3) -> str:
    """``(0.12, -1.30)``, or the first ``limit`` coordinates and "..." for longer points."""
    z = np.asarray(z, dtype=np.float64).ravel()
    shown = ", ".join(f"{v:.2f}" for v in z[:limit])
    return f"({shown}{', ...' if len(z) > limit else ''})"


def looks_like(explorer: Explorer, z: np.ndarray) -> str:
    """What a decode at ``z`` most looks like, from its nearest test codes: "mostly Trouser (8 of
    10 nearest test images)", "between Shirt and T-shirt/top (5 and 4 of 10 ...)"; for a data set
    without classes, the nearest test image's number."""
    idx, _ = geometry.nearest_neighbours(explorer.bundle.z_mean, np.asarray(z, dtype=np.float64), NEAREST)
    if not explorer.bundle.data.labelled:
        return f"nearest test image #{int(idx[0])}"
    counts = np.bincount(explorer.bundle.labels[idx], minlength=len(explorer.class_names))
    first, second = np.argsort(-counts, kind="stable")[:2]
    names = explorer.class_names
    if counts[first] * 2 > len(idx) or counts[second] == 0:
        return f"mostly {names[first]} ({counts[first]} of {len(idx)} nearest test images)"
    return (
        f"between {names[first]} and {names[second]} "
        f"({counts[first]} and {counts[second]} of {len(idx)} nearest test images)"
    )


def decode_alt(explorer: Explorer, z: np.ndarray, what: str = "Decoded image") -> str:
    """``what`` at ``z``, and what it looks like."""
    return f"{what} at z = {coords(z)}: {looks_like(explorer, z)}"


def test_image_alt(explorer: Explorer, index: int, what: str = "Test image") -> str:
    """``what`` #index, and its class when the data set has classes."""
    if not explorer.bundle.data.labelled:
        return f"{what} #{index}"
    return f"{what} #{index}, a {explorer.label_name(index)}"
