"""The view's one owner (app/view.py): every event as plain data, no Streamlit; then the state bugs
that came from the view being spread over widgets, through the app (AppTest)."""

from __future__ import annotations

import dataclasses

import pytest

from app import link
from app.view import (
    BoxDrawn,
    Chosen,
    Committed,
    LinkOpened,
    Listed,
    Loaded,
    Set,
    View,
    link_of,
    next_view,
    redraw,
)
from tests.app.conftest import commit, run, view

POINTS = {i: (float(i), -float(i)) for i in range(200)}


def loaded(bundle: str = "tiny-2d", key: str = "tiny-2d:1", d: int = 2, n: int = 200, classes: int = 10):
    return Loaded(bundle, key, d, n, classes, lambda i: POINTS[i] if d == 2 else (0.0,) * d)


def opened(**link_fields) -> View:
    """A session's first view: the link's, the bundles listed, the bundle loaded."""
    v = next_view(View(), LinkOpened(link.LinkState(**link_fields)))
    v = next_view(v, Listed(("tiny-2d", "tiny-5d"), "tiny-2d"))
    return next_view(v, loaded(v.bundle, f"{v.bundle}:1", 5 if v.bundle == "tiny-5d" else 2))


def test_a_first_visit_shows_the_first_test_image():
    v = opened()
    assert (v.bundle, v.z, v.index, v.mode, v.view) == ("tiny-2d", POINTS[0], 0, "explore", "interpolate")
    assert v.b_class == 9 and not v.notices  # B: the last class, whatever the data set has


def test_a_link_sets_the_point_the_image_and_every_setting():
    v = opened(z=(0.5, 0.25), index=7, view="manifold", grid=4, box=(0, 1, 0, 1), classes=(1, 2), sized=True)
    assert (v.z, v.index, v.view, v.grid, v.region, v.classes, v.sized) == (
        (0.5, 0.25),
        7,
        "manifold",
        4,
        "box",
        (1, 2),
        True,
    )


def test_link_values_the_bundle_cannot_show_fall_back_with_a_notice():
    v = opened(z=(1.0, 2.0, 3.0), index=9999, classes=(0, 12), a=("centroid", 30))
    assert v.z == POINTS[0] and v.index == 0 and v.classes == (0,) and v.a_class == 0
    assert len(v.notices) == 4


def test_an_unknown_bundle_gives_way_to_the_default_with_a_notice():
    v = opened(bundle="gone", vs="also-gone")
    assert v.bundle == "tiny-2d" and v.vs is None and len(v.notices) == 2


def test_a_commit_moves_the_point_once_and_keeps_the_image_as_context():
    v = opened()
    after = next_view(v, Committed((1.5, -0.5), 10, True))
    assert (after.z, after.index, after.commit_n, after.painted) == ((1.5, -0.5), 0, 10, True)
    assert next_view(after, Committed((3.0, 3.0), 10, True)) == after  # the same gesture again: no change
    assert next_view(after, Committed((3.0, 3.0), 9, True)) == after  # an older one, late: no change


@pytest.mark.parametrize("z", [(1.0,), (1.0, 2.0, 3.0), (float("nan"), 0.0), (1e9, 0.0), ("a", 1)])
def test_a_malformed_commit_changes_nothing(z):
    v = opened()
    assert next_view(v, Committed(z, 5, True)) == v


def test_a_click_or_a_lesson_choice_sets_point_and_image_and_the_server_paints_it():
    v = next_view(opened(), Committed((1.5, -0.5), 10, True))
    clicked = next_view(v, Chosen((2.0, 2.0), 42))
    assert (clicked.z, clicked.index, clicked.painted) == ((2.0, 2.0), 42, False)
    learning = next_view(v, Set("mode", "learn"))
    assert next_view(learning, Chosen((0.0, 1.0), None, explore=True)).mode == "explore"


def test_a_box_drawn_on_the_map_opens_the_grid_over_it():
    v = next_view(opened(), BoxDrawn((-1.0, 1.0, -2.0, 2.0)))
    assert (v.view, v.region, v.box) == ("manifold", "box", (-1.0, 1.0, -2.0, 2.0))
    assert next_view(opened(), BoxDrawn((1.0, -1.0, 0.0, 1.0))) == opened()  # an empty box: nothing


def test_another_bundle_gets_a_new_point_and_keeps_the_selected_image():
    v = next_view(opened(), Chosen(POINTS[7], 7))
    v = next_view(v, BoxDrawn((-1.0, 1.0, -1.0, 1.0)))
    v = next_view(v, Set("bundle", "tiny-5d"))
    v = next_view(v, loaded("tiny-5d", "tiny-5d:1", d=5))
    assert (v.bundle, len(v.z), v.index) == ("tiny-5d", 5, 7)
    assert v.box is None and v.region == "prior"  # a box on the old map means nothing here


def test_a_bundle_retrained_with_another_latent_dim_under_the_same_name_gets_a_new_point():
    v = opened()
    again = next_view(v, loaded("tiny-2d", "tiny-2d:2", d=3))
    assert len(again.z) == 3


def test_settings_are_checked_and_a_deselection_keeps_the_shown_part():
    v = opened()
    assert next_view(v, Set("mode", None)) == v  # a click on the selected part of the page
    assert next_view(v, Set("steps", 99)) == v
    assert next_view(v, Set("no_such_field", 1)) == v
    assert next_view(v, Set("steps", 12)).steps == 12


def test_what_each_change_redraws():
    v = opened()
    moved = next_view(v, Committed((1.0, 1.0), 3, True))
    assert redraw(v, moved) == ["point"]  # between two class centroids: the interpolation stays
    following = next_view(v, Set("b_kind", "current"))
    assert redraw(following, next_view(following, Committed((1.0, 1.0), 3, True))) == ["point", "view"]
    inside = next_view(v, Set("view", "inside"))
    assert redraw(inside, next_view(inside, Committed((1.0, 1.0), 3, True))) == ["point"]  # same image
    assert redraw(inside, next_view(inside, Chosen((2.0, 2.0), 5))) == ["point", "view"]  # another image
    gridded = next_view(v, Set("view", "manifold"))
    assert redraw(v, gridded) == ["view"]
    assert redraw(gridded, next_view(gridded, Committed((1.0, 1.0), 3, True))) == ["point"]
    assert redraw(v, next_view(v, Set("sized", True))) == ["map"]  # only the map shows its options
    assert redraw(v, next_view(v, Set("background", "aggregate"))) == ["map"]
    assert redraw(v, next_view(v, Set("classes", (0, 1)))) == ["map"]
    assert redraw(v, next_view(v, Set("hover", False))) == ["point"]  # the live panel's preview
    assert redraw(v, next_view(v, Set("flat", True))) == "app"  # a 3-D model's map and sliders change
    comparing = next_view(v, Set("mode", "compare"))
    assert redraw(comparing, next_view(comparing, Set("compare_index", 4))) == ["compare"]
    assert redraw(v, v) == []


def test_leaving_the_explorer_and_coming_back_redraws_it_only_when_it_is_not_on_the_page():
    v = opened()
    learning = next_view(v, Set("mode", "learn"))
    assert redraw(v, learning) == ["page"]  # the explorer stays on the page, hidden
    stepped = next_view(learning, Set("step", 3))
    assert redraw(learning, stepped) == ["page"]
    comparing = next_view(stepped, Set("mode", "compare"))
    assert redraw(stepped, comparing) == ["page"]
    back = next_view(comparing, Set("mode", "explore"))
    assert redraw(comparing, back, explorer_drawn=True) == ["page"]  # shown again as it was
    assert redraw(comparing, back, explorer_drawn=False) == "app"  # e.g. the link opened Compare
    # A change the explorer shows, made off Explore (a new bundle, Inside's epsilons in the lesson),
    # runs the whole page, which leaves the explorer out: coming back then draws it anew.
    assert redraw(comparing, next_view(comparing, Set("bundle", "tiny-3d"))) == "app"
    assert redraw(learning, next_view(learning, Set("eps_seed", 5))) == "app"
    followed = next_view(next_view(learning, Set("view", "inside")), Set("mode", "explore"))
    assert redraw(learning, followed, explorer_drawn=True) == "app"


def test_the_link_says_what_the_part_of_the_page_shows():
    v = opened(index=3)
    assert link_of(v).view == "interpolate" and link_of(v).a == ("centroid", 0)
    learn = dataclasses.replace(v, mode="learn", step=3, lesson_image=12)
    assert link.format_query(link_of(learn)) == {"bundle": "tiny-2d", "mode": "learn", "step": "3", "i": "12"}
    compare = dataclasses.replace(v, mode="compare", vs="tiny-5d", compare_index=4, cz=(0.5, 1.0))
    assert link.format_query(link_of(compare))["vs"] == "tiny-5d"


# --- the state bugs, through the app (each failed before the view had one owner) -------------------


def test_after_learn_compare_explore_the_selector_shows_the_bundle_the_page_shows(app_at):
    at = app_at("two").run()
    at.selectbox(key="bundle").set_value("tiny-5d").run()
    for mode in ("learn", "compare", "explore"):
        at.segmented_control(key="mode").set_value(mode).run()
    run(at)  # the way back only showed the explorer again (the fragment "page")
    assert not at.exception
    assert at.selectbox(key="bundle").value == view(at).bundle == "tiny-5d"
    assert "5 latent dimensions" in at.info[0].value  # the page shows the 5-D model too


def test_point_size_by_uncertainty_survives_a_lesson(app_at):
    at = app_at("one").run()
    at.toggle(key="map_size_std").set_value(True).run()
    run(at)  # only the map ran
    at.segmented_control(key="mode").set_value("learn").run()
    at.segmented_control(key="lesson_step").set_value(5).run()
    at.segmented_control(key="mode").set_value("explore").run()
    run(at)
    assert at.toggle(key="map_size_std").value is True and view(at).sized


def test_the_interpolation_settings_survive_a_visit_to_compare(app_at):
    at = app_at("one").run()
    at.slider(key="ip_steps").set_value(23).run()
    run(at)
    at.segmented_control(key="mode").set_value("compare").run()
    at.segmented_control(key="mode").set_value("explore").run()
    run(at)
    assert at.slider(key="ip_steps").value == 23


def test_a_slider_end_is_the_maps_edge_in_2d(app_at):
    """Dragging z1 to its end used to move the marker off the plot (sliders spanned 4 std, the map less)."""
    at = app_at("one").run()
    commit(at, [live_max(at), view(at).z[1]])
    from app.resources import artifacts_root, bundle_version, load_explorer

    path = artifacts_root() / "tiny-2d"
    (x0, x1), _ = load_explorer(str(path), bundle_version(path)).map.limits
    assert live_max(at) == pytest.approx(x1) and view(at).z[0] <= x1


def live_max(at) -> float:
    from tests.app.conftest import live_data

    return live_data(at)["sliders"][0]["max"]


def test_the_map_colour_is_kept_for_a_bundle_with_that_factor_and_dropped_with_a_notice_otherwise():
    v = next_view(View(), LinkOpened(link.LinkState(colour="x")))
    v = next_view(v, Listed(("tiny-2d",), "tiny-2d"))
    kept = next_view(v, dataclasses.replace(loaded(), factors=("shape", "x")))
    assert kept.colour == "x" and link_of(kept).colour == "x" and not kept.notices
    dropped = next_view(v, loaded())
    assert dropped.colour == "" and link_of(dropped).colour is None
    assert any("Ignored the map colour" in n for n in dropped.notices)
    assert next_view(kept, Set("colour", "")).colour == ""
    assert next_view(kept, Set("colour", "<x>")).colour == "x"  # not a factor name: ignored
    assert redraw(kept, next_view(kept, Set("colour", "shape"))) == "app"
