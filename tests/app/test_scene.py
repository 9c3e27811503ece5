"""A 3-D model's map as a rotatable scene (issue 27): the figure, the link's camera, picks and turns
from the page (the browser side is tests/e2e/test_scene_page.py)."""

from __future__ import annotations

import pytest

from app import link
from app.figures import CURRENT_TRACE
from app.panels.current_point import parse_camera, parse_pick
from app.view import Set
from tests.app.conftest import live_data, map_figure, record, view
from tests.app.test_app import no_errors


def spec(at) -> dict:
    return map_figure(at)


def test_a_3d_model_opens_on_a_scene_of_its_codes_with_the_current_point_in_it(app_at):
    at = app_at("own", {"bundle": "shapes-3d"}).run()
    no_errors(at)
    figure = spec(at)
    kinds = {t["type"] for t in figure["data"]}
    assert kinds == {"scatter3d"}
    names = [t.get("name") for t in figure["data"]]
    assert names.count(CURRENT_TRACE) == 1 and {"circle", "square", "triangle"} <= set(names)
    assert [figure["layout"]["scene"][a]["title"]["text"] for a in ("xaxis", "yaxis", "zaxis")] == [
        "z₁",
        "z₂",
        "z₃",
    ]
    assert live_data(at)["scene"] == CURRENT_TRACE  # the browser places the point in the scene
    assert any("drag it to turn the scene" in i.value for i in at.info)
    intro = next(m.value for m in at.markdown if "test images land" in m.value)
    assert "**Click a point**" in intro and "Click anywhere" not in intro  # a scene picks points only
    assert at.toggle(key="map_3d").value is True


def test_the_link_keeps_the_camera_and_the_flat_map(app_at):
    at = app_at("own", {"bundle": "shapes-3d", "cam": "1.5,-0.5,0.8"}).run()
    no_errors(at)
    assert spec(at)["layout"]["scene"]["camera"]["eye"] == {"x": 1.5, "y": -0.5, "z": 0.8}
    assert "1.5,-0.5,0.8" in str(at.query_params["cam"])
    at = record(at, Set("camera", (0.1, 2.0, 0.3)))  # a drag turned the scene (live.js sends it)
    assert view(at).camera == (0.1, 2.0, 0.3) and "0.1,2,0.3" in str(at.query_params["cam"])
    at.toggle(key="map_3d").set_value(False).run()
    no_errors(at)
    assert {t["type"] for t in spec(at)["data"]} == {"scattergl"}  # flat: the principal-component plane
    assert "2d" in str(at.query_params["map"]) and live_data(at)["scene"] is None
    flat = app_at("own", {"bundle": "shapes-3d", "map": "2d"}).run()
    assert {t["type"] for t in spec(flat)["data"]} == {"scattergl"}


def test_a_2d_model_keeps_its_plane_and_a_bad_camera_is_refused_with_a_notice(app_at):
    at = app_at("own", {"bundle": "shapes-2d", "cam": "0,0,0"}).run()
    no_errors(at)
    assert {t["type"] for t in spec(at)["data"]} == {"scattergl"}
    assert any("`cam`" in w.value and "between 0.001 and 100" in w.value for w in at.warning)


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"click": {"pick": -1}},
        {"click": {"pick": 10}},
        {"click": {"pick": True}},
        {"click": {"pick": "3"}},
        {"click": {"pick": 2.0}},
        {"click": "x"},
    ],
)
def test_a_malformed_pick_is_ignored(value):
    assert parse_pick(value, 10) is None
    assert parse_pick({"click": {"pick": 7}}, 10) == 7


@pytest.mark.parametrize(
    ("value", "eye"),
    [
        ({"camera": {"eye": [1.25, 1.25, 1.25]}}, (1.25, 1.25, 1.25)),
        ({"camera": {"eye": [0, 0, 0]}}, None),
        ({"camera": {"eye": [1e9, 0, 0]}}, None),
        ({"camera": {"eye": [1, 2]}}, None),
        ({"camera": {"eye": ["1", 2, 3]}}, None),
        ({"camera": {"eye": [float("nan"), 1, 1]}}, None),
        ({"camera": None}, None),
        ("camera", None),
    ],
)
def test_the_camera_from_the_page_is_checked(value, eye):
    assert parse_camera(value) == eye


def test_the_link_parses_and_writes_the_camera_and_map():
    state, notices = link.parse_query({"cam": "1.23456,-2,0.5", "map": "2d"})
    assert state.camera == (1.23456, -2.0, 0.5) and state.flat is True and notices == []
    assert link.format_query(state) == {"cam": "1.23,-2,0.5", "map": "2d"}
    assert link.parse_query({"map": "3d"})[0].flat is False
    for bad in ("1,2", "a,b,c", "0,0,0", "200,0,0"):
        state, notices = link.parse_query({"cam": bad})
        assert state.camera is None and len(notices) == 1
