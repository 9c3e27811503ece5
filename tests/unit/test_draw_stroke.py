"""The drawing pad's pure parts (app.panels.draw_pad): reading a stroke the browser sent, and the
pad's map sample.

The browser is outside our control: whatever arrives as a stroke is either a valid drawing of the
bundle's size in [0, 1] or ignored, never a crash.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.panels.draw_pad import MAP_POINTS, map_sample
from app.panels.draw_pad import parse_stroke as parse

SHAPE = (28, 28, 1)
PIXELS = 28 * 28


def parse_stroke(value, shape=SHAPE):
    return parse(value, shape)


def stroke(pixels=None, n=1):
    return {"stroke": {"pixels": [0.0] * PIXELS if pixels is None else pixels, "n": n}}


def test_a_valid_stroke_becomes_a_28_by_28_float32_image():
    values = np.linspace(0.0, 1.0, PIXELS)
    parsed = parse_stroke(stroke(values.round(3).tolist(), n=17))
    assert parsed.n == 17
    assert parsed.pixels.shape == (28, 28, 1) and parsed.pixels.dtype == np.float32
    assert parsed.pixels[0, 0, 0] == 0.0 and parsed.pixels[27, 27, 0] == 1.0
    assert parsed.pixels[0, 5, 0] == pytest.approx(values[5], abs=1e-3)  # row-major, as the pad sends it


def test_rounding_just_outside_0_1_is_clipped_not_refused():
    pixels = [1.0005] + [-0.0004] + [0.5] * (PIXELS - 2)
    parsed = parse_stroke(stroke(pixels))
    assert parsed.pixels.max() == 1.0 and parsed.pixels.min() == 0.0


@pytest.mark.parametrize(
    "value",
    [
        None,
        "stroke",
        {},
        {"stroke": None},
        {"stroke": "pixels"},
        stroke([0.5] * (PIXELS - 1)),  # wrong length
        stroke([0.5] * (PIXELS + 1)),
        stroke([[0.5] * 28] * 28),  # nested rows, not 784 numbers
        stroke([math.nan] + [0.0] * (PIXELS - 1)),  # non-finite
        stroke([math.inf] + [0.0] * (PIXELS - 1)),
        stroke([1.5] + [0.0] * (PIXELS - 1)),  # out of range
        stroke([-0.2] + [0.0] * (PIXELS - 1)),
        stroke(["0.5"] + [0.0] * (PIXELS - 1)),  # not numbers
        stroke([True] + [0.0] * (PIXELS - 1)),
        stroke([None] + [0.0] * (PIXELS - 1)),
        stroke("0" * PIXELS),
        stroke(n=0),  # counters start at 1
        stroke(n=-3),
        stroke(n="7"),
        stroke(n=math.nan),
        stroke(n=True),
        stroke(n=math.inf),  # a page can send 1e400 (Infinity)
        stroke(n=1e300),
        {"stroke": {"pixels": [0.0] * PIXELS}},  # no counter
    ],
)
def test_a_malformed_stroke_is_ignored(value):
    assert parse_stroke(value) is None


def test_a_stroke_has_the_bundles_size():
    parsed = parse_stroke(stroke([0.25] * 400), (20, 20, 1))
    assert parsed.pixels.shape == (20, 20, 1)
    assert parse_stroke(stroke([0.25] * 400)) is None  # 400 values are no 28 x 28 drawing


def test_the_map_sample_is_fixed_and_small():
    rng = np.random.default_rng(3)
    xy, labels = rng.normal(size=(10_000, 2)), rng.integers(0, 10, 10_000)
    sample = map_sample(xy, labels)
    assert len(sample["xy"]) == len(sample["labels"]) == MAP_POINTS
    assert sample == map_sample(xy, labels)  # the same points on every rerun: the browser draws them once
    first = int(np.flatnonzero(np.all(np.isclose(xy, sample["xy"][0], atol=1e-3), axis=1))[0])
    assert sample["labels"][0] == labels[first]  # each point keeps its own label
    small = map_sample(xy[:50], labels[:50])
    assert len(small["xy"]) == 50  # fewer points than the sample: all of them
