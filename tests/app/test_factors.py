"""A data set with known factors (make-sprites): colour the map by any factor, kept in the link."""

import base64
import json

import numpy as np

from tests.app.conftest import N_IMAGES, map_figure


def _values(data) -> np.ndarray:
    """A figure's array: a list, or Plotly's typed array ({"dtype", "bdata"})."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
    return np.asarray(data)


def _map(at) -> dict:
    """The map: a plane, or the 3-D scene of this 3-D fixture (coloured the same way)."""
    return map_figure(at)


def _points(figure) -> list[dict]:
    return [t for t in figure["data"] if t.get("type") in ("scattergl", "scatter3d") and "customdata" in t]


def no_errors(at):
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_colour_by_a_continuous_factor_draws_one_scale_with_its_colour_bar_and_keeps_it_in_the_link(app_at):
    at = app_at("factors").run()
    no_errors(at)
    box = at.selectbox(key="map_colour")
    assert box.options == ["Class", "shape", "x"]
    assert [t["name"] for t in _points(_map(at))] == ["square", "ellipse", "heart"]  # by class at first
    box.set_value("x").run()
    no_errors(at)
    (points,) = _points(_map(at))
    assert points["marker"]["showscale"] is True and points["marker"]["colorbar"]["title"]["text"] == "x"
    colours, images = _values(points["marker"]["color"]), _values(points["customdata"])
    assert len(colours) == N_IMAGES
    # the colours are the factor's values, image by image (customdata: the test image)
    np.testing.assert_allclose(colours, np.linspace(0.2, 0.8, N_IMAGES)[images], rtol=1e-6)
    link = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert link["colour"] == "x"
    again = app_at("factors", link).run()
    no_errors(again)
    assert again.selectbox(key="map_colour").value == "x"


def test_colour_by_a_categorical_factor_names_its_categories_in_the_legend(app_at):
    at = app_at("factors", {"colour": "shape"}).run()
    no_errors(at)
    traces = _points(_map(at))
    assert [t["name"] for t in traces] == ["shape: square", "shape: ellipse", "shape: heart"]
    assert sum(len(_values(t["customdata"])) for t in traces) == N_IMAGES
    for k, trace in enumerate(traces):  # each category's trace holds exactly its images
        assert set(_values(trace["customdata"]) % 3) == {k}


def test_a_link_colour_the_bundle_does_not_have_is_ignored_with_a_notice(app_at):
    at = app_at("factors", {"colour": "colour"}).run()
    no_errors(at)
    notices = [w.value for w in [*at.warning, *at.info]]
    assert any("Ignored the map colour" in n and "no factor" in n for n in notices)
    assert at.selectbox(key="map_colour").value == ""
    fm = app_at("one", {"colour": "x"}).run()  # Fashion-MNIST: no factors, no control
    no_errors(fm)
    assert not [s for s in fm.selectbox if s.key == "map_colour"]
    assert "colour" not in fm.query_params
    bad = app_at("factors", {"colour": "<b>x</b>"}).run()
    assert any("Ignored the link's `colour`" in w.value for w in [*bad.warning, *bad.info])


def test_the_model_card_and_compare_say_which_dimension_carries_each_factor(app_at):
    at = app_at("factors")
    at.session_state["model_card_open"] = True
    at.run()
    no_errors(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Known factors" in text and "MIG 0.300" in text
    (table,) = [t.value for t in at.table if "carried most by" in t.value.columns]
    assert (
        table.loc["x", "carried most by"] == "z1"
        and table.loc["shape", "gap to the next dimension"] == "0.05"
    )
    (kl,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"type":"bar"' in c.proto.spec]
    assert list(kl["data"][0]["x"]) == ["z1 (x)", "z2", "z3"]  # shape's lead (0.05) is too small to name
