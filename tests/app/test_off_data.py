"""How far a decode is from anything real (Explorer.nearest_real, off_data), in pixels."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np

from app.explorer import Explorer
from tests.app.test_app import no_errors


def images_only(images: np.ndarray) -> SimpleNamespace:
    flat = images.reshape(len(images), -1).astype(np.float64)
    return SimpleNamespace(images=images, _image_norms=np.einsum("ij,ij->i", flat, flat))


def test_the_nearest_real_image_and_its_rms_difference():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 6, 5, 1), dtype=np.uint8)
    exact = images[[7, 31]].astype(np.float32) / 255.0
    index, rms = Explorer.nearest_real(images_only(images), exact)
    assert list(index) == [7, 31] and np.allclose(rms, 0.0, atol=1e-3)
    grey = np.full((1, 6, 5, 1), 0.5, dtype=np.float32)
    index, rms = Explorer.nearest_real(images_only(images), grey)
    brute = np.sqrt(np.mean((images.reshape(50, -1) / 255.0 - 0.5) ** 2, axis=1))
    assert index[0] == np.argmin(brute) and np.isclose(rms[0], brute.min(), atol=1e-5)


def test_the_explorer_says_how_far_the_decode_is_from_anything_real(app_at):
    at = app_at("one").run()
    no_errors(at)
    said = [c.value for c in at.caption if c.value.startswith("**Nearest real image in pixels**")]
    assert len(said) == 1
    found = re.search(r"#(\d+), ([\d.]+) apart .* typically ([\d.]+) from .* is ([\d.]+)× as far", said[0])
    assert found, said[0]
    rms, typical, ratio = (float(found.group(k)) for k in (2, 3, 4))
    assert abs(ratio - rms / typical) < 0.06
