"""The whole app on bundles of other data sets (schema 3), from their manifests alone: 32x32 colour
shapes in three classes, an unlabelled 12x20 grey set, beside a Fashion-MNIST bundle."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.style import UNLABELLED_COLOR
from app.view import Set
from tests.app.conftest import live_data, map_figure, record, view
from tests.app.test_app import no_errors

VIEWS = ("manifold", "prior", "encode", "inside", "interpolate")


def _text(at) -> str:
    parts = [m.value for m in (*at.markdown, *at.caption, *at.info, *at.title)]
    return " ".join(parts)


@pytest.mark.parametrize("bundle", ["shapes-2d", "plain-2d"])
def test_every_view_of_an_own_data_bundle_runs_and_speaks_its_words(app_at, bundle):
    at = app_at("own", {"bundle": bundle}).run()
    no_errors(at)
    data = live_data(at)
    shape = [32, 32, 3] if bundle == "shapes-2d" else [12, 20, 1]
    assert data["shape"] == shape
    name = "Tiny set" if bundle == "shapes-2d" else "Plain"
    assert at.title[0].value.startswith(name)
    for v in VIEWS:
        record(at, Set("view", v))
        no_errors(at)
        words = _text(at).lower()
        assert "garment" not in words and "fashion" not in words, (v, words[:400])


def test_a_colour_bundle_decodes_shows_and_takes_uploads_in_colour(roots):
    """What the panels are drawn from (the browser test measures what was painted)."""
    from app.resources import open_explorer
    from vae_core.images import image_grid, prepare_upload, upscale

    explorer = open_explorer(roots["own"] / "shapes-2d", publish=False)
    decoded = explorer.decode(np.zeros((4, 2), np.float32))
    assert decoded.shape == (4, 32, 32, 3)
    assert upscale(decoded[0], 112).shape == (128, 128, 3)  # 4 whole pixels each
    assert image_grid(decoded, 2, scale=2).shape == (128, 128, 3)
    assert explorer.images.shape[1:] == (32, 32, 3)
    picture = Image.new("RGB", (64, 64), (0, 0, 0))
    picture.paste((220, 40, 40), (16, 16, 48, 48))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    data = explorer.bundle.data
    pixels = prepare_upload(
        buffer.getvalue(), shape=data.image_shape, background=data.background, centre=False
    ).pixels
    assert pixels.shape == (32, 32, 3) and pixels[16, 16, 0] > 0.7 and pixels[16, 16, 1] < 0.3
    trip = explorer.trip(pixels, samples=1)
    assert np.all(np.isfinite(explorer.map.to_map(trip.mu))) and trip.reconstruction.shape == (32, 32, 3)


def test_an_unlabelled_bundle_has_one_colour_and_no_legend(app_at):
    at = app_at("own", {"bundle": "plain-2d"}).run()
    no_errors(at)
    figure = map_figure(at)
    points = [t for t in figure["data"] if t.get("type") == "scattergl" and "customdata" in t]
    assert len(points) == 1 and points[0]["showlegend"] is False
    assert points[0]["marker"]["color"] == UNLABELLED_COLOR


def test_the_drawing_pad_says_why_it_is_hidden_for_colour(app_at):
    at = app_at("own", {"bundle": "shapes-2d", "mode": "learn", "step": "4"}).run()
    no_errors(at)
    assert any("colour" in i.value and "drawing pad" in i.value.lower() for i in at.info)
    grey = app_at("own", {"bundle": "plain-2d", "mode": "learn", "step": "4"}).run()
    no_errors(grey)
    pad = next(c for c in grey.get("bidi_component") if c.proto.component_name == "vae_draw_pad")
    import json

    assert json.loads(pad.proto.json)["shape"] == [12, 20, 1]  # the pad at the bundle's resolution


def test_every_lesson_step_runs_on_an_own_data_bundle(app_at):
    for step in range(1, 7):
        at = app_at("own", {"bundle": "shapes-2d", "mode": "learn", "step": str(step)}).run()
        no_errors(at)
        assert "garment" not in _text(at).lower()


def test_compare_pairs_only_bundles_of_the_same_data_set(app_at):
    at = app_at("own", {"bundle": "shapes-2d", "mode": "compare"}).run()
    no_errors(at)
    right = at.selectbox(key="cmp_right")
    assert set(right.options) == {"shapes-2d", "shapes-3d"}  # not plain-2d, not tiny-2d
    assert view(at).vs == "shapes-3d"
    # the metrics: one table per data set, each under its name; factor columns only where known
    tables = [t.value for t in at.table]
    names = [c.value for c in at.caption if c.value.startswith("Data set ")]
    assert len(tables) == len(names) >= 3
    bundles = sorted(b for t in tables for b in t["bundle"])
    assert len(bundles) == len(set(bundles)) and {"shapes-2d", "shapes-3d", "plain-2d", "tiny-2d"} <= set(
        bundles
    )
    together = next(t for t in tables if "shapes-2d" in set(t["bundle"]))
    assert set(together["bundle"]) == {"shapes-2d", "shapes-3d"}  # the same data set, and only it
    assert all(("MIG" in t.columns) == t["MIG"].notna().any() for t in tables if "MIG" in t.columns)


def test_the_bundle_selector_groups_bundles_by_data_set(app_at):
    at = app_at("own").run()
    selector = at.selectbox(key="bundle")
    labels = selector.options
    assert labels == sorted(labels)  # grouped: the data set's name leads each label
    assert any(label.startswith("Fashion-MNIST · ") for label in labels)
    assert any(label.startswith("Tiny set · ") for label in labels)
