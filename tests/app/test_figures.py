"""A small map's points as one picture (app.figures.dots_picture, points_picture): where the dots
land, how they blend, and that the small maps send the picture and no WebGL traces."""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from app.figures import FILL_REACH, MapStyle, build_map, dots_picture, points_picture
from app.resources import open_explorer

RED, BLUE = "#FF0000", "#0000FF"


def picture(groups, diameter=1, opacity=1.0, shape=(10, 20)):
    return dots_picture(groups, (0.0, 2.0), (0.0, 1.0), shape, diameter, opacity)


def test_a_dot_lands_where_its_point_is_with_y_upwards():
    out = picture([(np.array([[0.25, 0.75]]), RED)])  # a quarter across, three quarters up
    rows, cols = np.nonzero(out[..., 3])
    assert (rows.tolist(), cols.tolist()) == ([2], [2])
    assert out[2, 2].tolist() == [255, 0, 0, 255]
    assert out[..., 3].sum() == 255  # every other pixel is transparent


@pytest.mark.parametrize("diameter", [2, 3, 6, 7])
def test_a_dot_is_round_and_as_wide_as_asked(diameter):
    out = picture([(np.array([[1.0, 0.5]]), RED)], diameter=diameter, shape=(40, 80))
    on = out[..., 3] > 0
    rows, cols = np.nonzero(on)
    assert np.ptp(rows) + 1 == diameter and np.ptp(cols) + 1 == diameter
    box = on[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    assert np.array_equal(box, box[::-1, ::-1]) and np.array_equal(box, box.T)  # symmetric
    if diameter >= 6:  # a disc, not a square: its corners stay empty
        assert not box[0, 0] and not box[-1, -1]


def test_dots_blend_as_webgl_points_do():
    one = picture([(np.array([[1.0, 0.5]]), RED)], opacity=0.5)
    two = picture([(np.array([[1.0, 0.5], [1.0, 0.5]]), RED)], opacity=0.5)
    assert one[5, 10, 3] == round(0.5 * 255) and two[5, 10, 3] == round(0.75 * 255)
    over = picture([(np.array([[1.0, 0.5]]), RED), (np.array([[1.0, 0.5]]), BLUE)], opacity=0.5)
    r, g, b, a = over[5, 10].tolist()
    assert a == round(0.75 * 255) and b > r > 0 and g == 0  # the later group on top


def test_points_outside_the_ranges_draw_nothing():
    far = [[-1.0, 0.5], [5.0, 0.5], [1.0, 3.0], [1.0, np.nan], [1e300, -1e300], [np.inf, 0.5]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        out = picture([(np.array(far), RED)], diameter=3)
    assert not out[..., 3].any()


@pytest.fixture(scope="module")
def explorer(roots):
    return open_explorer(roots["own"] / "shapes-2d", publish=False)


def decoded(image: dict) -> np.ndarray:
    head = "data:image/png;base64,"
    assert image["source"].startswith(head)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(image["source"][len(head) :]))).convert("RGBA"))


def test_a_small_map_sends_its_points_as_one_picture_over_the_map(explorer):
    style = MapStyle(sample=50, marker_size=3, opacity=0.5, hover=False, legend=False, small=True, height=200)
    fig = build_map(explorer, style)
    assert not [t for t in fig.data if t.type in ("scattergl", "scatter")]
    (image,) = fig.layout.images
    (x0, x1), (y0, y1) = explorer.map.limits
    assert (image.x, image.y, image.sizex, image.sizey) == pytest.approx((x0, y1, x1 - x0, y1 - y0))
    assert image.layer == "below" and image.sizing == "stretch"
    pixels = decoded(image.to_plotly_json())
    assert max(pixels.shape[:2]) == 400  # two picture pixels per screen pixel of the map's height
    assert pixels[..., 3].any() and not pixels[..., 3].all()


@pytest.mark.parametrize("ranges", [((0.0, 1.0), (0.0, 1e-9)), ((0.0, 1e-9), (0.0, 1.0))])
def test_a_picture_of_very_unequal_ranges_stays_small(explorer, ranges):
    style = MapStyle(sample=50, small=True, height=100)
    pixels = decoded(points_picture(explorer, style, *ranges))
    assert max(pixels.shape[:2]) == 200 and min(pixels.shape[:2]) >= 1


def test_the_picture_draws_only_the_classes_shown(explorer):
    every = MapStyle(sample=None, small=True, height=100, opacity=1.0)
    none = replace(every, classes=())
    assert decoded(points_picture(explorer, every, *explorer.map.limits))[..., 3].any()
    assert not decoded(points_picture(explorer, none, *explorer.map.limits))[..., 3].any()


def test_a_filling_map_names_its_axes_and_its_picture_reaches_into_the_grown_range(explorer):
    """Compare's maps: equal axes that fill the plot area (Plotly grows a range to fit), so the picture
    reaches FILL_REACH beyond the limits on each side, with the pixels to match."""
    style = MapStyle(hover=False, legend=False, small=True, fill=True, height=200)
    fig = build_map(explorer, style)
    assert (fig.layout.xaxis.constrain, fig.layout.yaxis.constrain) == ("range", "range")
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.xaxis.range == explorer.map.limits[0]
    assert fig.layout.yaxis.title.text == "z₂" and [a.text for a in fig.layout.annotations] == ["z₁"]
    (image,) = fig.layout.images
    (x0, x1), (y0, y1) = explorer.map.limits
    r = FILL_REACH
    wide = (x0 - r * (x1 - x0), y1 + r * (y1 - y0), (1 + 2 * r) * (x1 - x0), (1 + 2 * r) * (y1 - y0))
    assert (image.x, image.y, image.sizex, image.sizey) == pytest.approx(wide)
    pixels = decoded(image.to_plotly_json())
    assert max(pixels.shape[:2]) == round(400 * (1 + 2 * r))  # as sharp as a map of the limits alone
    assert pixels[..., 3].any()
