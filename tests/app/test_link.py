"""URL query string <-> explorer state (app/state.py): pure functions, then bad links through the app."""

from __future__ import annotations

from dataclasses import fields

import pytest

from app.link import KEYS, MAX_VALUE_CHARS, VIEWS, LinkState, format_query, format_z, parse_query
from app.view import BoxDrawn
from tests.app.conftest import commit, live_data, map_data, map_figure, record, run, view


def test_round_trip_of_a_full_view():
    view = LinkState(bundle="fashion-mnist-2d", z=(0.51234, -1.3, 0.0), view="manifold", index=42)
    parsed, notices = parse_query(format_query(view))
    assert notices == []
    assert parsed.bundle == "fashion-mnist-2d" and parsed.view == "manifold" and parsed.index == 42
    assert parsed.z == pytest.approx((0.5123, -1.3, 0.0))


BASE = {"bundle": "fashion-mnist-2d", "z": (0.5, -1.25), "index": 42}
VIEW_STATES = {  # everything each view shows, as a link carries it
    "interpolate": LinkState(
        **BASE, view="interpolate", a=("image", 7), b=("current", None), steps=32, path="spherical"
    ),
    "interpolate-centroids": LinkState(
        **BASE, view="interpolate", a=("centroid", 0), b=("centroid", 9), steps=2, path="linear"
    ),
    "manifold": LinkState(**BASE, view="manifold", grid=30, box=(-1.5, 0.25, -0.5, 2.0)),
    "manifold-prior-square": LinkState(**BASE, view="manifold", grid=2),
    "prior": LinkState(**BASE, view="prior", samples=12, seed=2**31 - 1),
    "encode": LinkState(**BASE, view="encode"),
    "traverse": LinkState(**BASE, view="traverse"),
    "map-options": LinkState(
        **BASE, view="prior", classes=(0, 3, 9), sized=True, background="aggregate", hover=False
    ),
    "map-colour-by-factor": LinkState(**BASE, colour="scale_2"),
    "map-no-classes": LinkState(**BASE, classes=(), background="none"),
    "compact-layout": LinkState(**BASE, view="interpolate", compact=True),
}


@pytest.mark.parametrize("name", list(VIEW_STATES))
def test_every_view_round_trips_through_a_link(name):
    parsed, notices = parse_query(format_query(VIEW_STATES[name]))
    assert notices == [] and parsed == VIEW_STATES[name]


def test_every_field_has_a_query_key():
    assert set(KEYS.values()) == {f.name for f in fields(LinkState)}


def test_empty_query_gives_defaults_without_notices():
    assert parse_query({}) == (LinkState(), [])


def test_format_z_is_short_and_has_no_negative_zero():
    assert format_z([0.5, -1.25, -0.00001, 2.0]) == "0.5,-1.25,0,2"


def test_format_query_leaves_out_unset_fields():
    assert format_query(LinkState(z=(1.0, 2.0))) == {"z": "1,2"}


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("z", "1,banana", "comma-separated numbers"),
        ("z", "nan,1", "finite"),
        ("z", "1e9,1", "finite"),
        ("z", ",".join(["1"] * 300), "at most 256"),
        ("view", "settings", ", ".join(VIEWS)),
        ("i", "-3", "test-image number"),
        ("i", "4.5", "test-image number"),
        ("i", "\u00b2", "test-image number"),  # a digit to str.isdigit, not to int()
        ("bundle", "../etc", "plain folder name"),
        ("bundle", ".hidden", "plain folder name"),
        ("bundle", "a\x00b", "plain folder name"),
        ("a", "centroid:50", "a class number from 0 to 49"),
        ("a", "image:-1", "test-image number"),
        ("b", "somewhere", "centroid:CLASS"),
        ("b", "current:3", "centroid:CLASS"),
        ("steps", "1", "from 2 to 32"),
        ("steps", "33", "from 2 to 32"),
        ("path", "curved", "linear, spherical"),
        ("n", "31", "from 2 to 30"),
        ("n", "x", "from 2 to 30"),
        ("box", "1,0,0,1", "x0 < x1"),
        ("box", "0,1,0", "four numbers"),
        ("box", "0,1,nan,1", "finite"),
        ("samples", "13", "from 2 to 12"),
        ("seed", "2147483648", "a seed from 0"),
        ("seed", "-1", "a seed from 0"),
        ("classes", "0,50", "class numbers from 0 to 49"),
        ("classes", "", "class numbers from 0 to 49"),
        ("size", "big", "expected std"),
        ("bg", "stars", "none, prior, aggregate"),
        ("colour", "x y", "name of a factor"),
        ("colour", "9lives", "name of a factor"),
        ("layout", "wide", "expected compact"),
        ("hover", "on", "expected off"),
    ],
)
def test_malformed_values_are_dropped_with_a_notice(key, value, fragment):
    parsed, notices = parse_query({key: value, "view": "prior"} if key != "view" else {key: value})
    assert getattr(parsed, KEYS[key]) is None
    assert len(notices) == 1 and f"`{key}`" in notices[0] and fragment in notices[0]


def test_other_values_survive_a_malformed_one():
    parsed, notices = parse_query({"z": "oops", "view": "encode", "bundle": "b-5d"})
    assert parsed == LinkState(bundle="b-5d", view="encode") and len(notices) == 1


def test_over_long_values_are_refused_before_parsing():
    parsed, notices = parse_query({"z": "1," * MAX_VALUE_CHARS})
    assert parsed.z is None and "characters long" in notices[0]


def test_index_is_bounded_by_the_number_of_images_when_known():
    assert parse_query({"i": "9999"}, n_images=10000)[0].index == 9999
    parsed, notices = parse_query({"i": "10000"}, n_images=10000)
    assert parsed.index is None and "only 10000 test images" in notices[0]


def test_repeated_keys_use_the_last_value_and_unknown_keys_are_ignored():
    parsed, notices = parse_query({"view": ["prior", "encode"], "utm_source": "mail"})
    assert parsed.view == "encode" and notices == []


# --- bad links through the app (AppTest on the tiny bundles of conftest.py) -----------------------


def _renders_with_defaults(at) -> None:
    """No exception or error; the map and the decoded first test image are there."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert map_data(at)
    assert max(live_data(at)["pixels"]) > 0
    assert view(at).bundle == "tiny-2d" and view(at).index == 0
    assert view(at).view == "interpolate"


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        (
            {"z": "nan,0"},
            "Ignored the link's `z` value ` nan,0 `: coordinates must be finite numbers within ±10000.",
        ),
        ({"z": "inf,-inf"}, "Ignored the link's `z` value ` inf,-inf `: coordinates must be finite"),
        ({"z": "1e9,0"}, "Ignored the link's `z` value ` 1e9,0 `: coordinates must be finite"),
        ({"i": "9999"}, "Ignored the link's test image 9999: this bundle has 200 test images."),
        ({"i": "\u00b2"}, "Ignored the link's `i` value ` ² `: expected a test-image number like 42."),
        (
            {"bundle": "no-such-model"},
            "Ignored the link's `bundle` value ` no-such-model `: there is no bundle of that name.",
        ),
        ({"bundle": "../../etc/passwd"}, "a bundle name is a plain folder name (no '/', not hidden)."),
        ({"z": "0," * 3000}, "Ignored the link's `z`: it is 6000 characters long (at most 4000)."),
        ({"classes": "0,12"}, "Ignored classes beyond 9: this bundle has 10 classes."),
        ({"a": "centroid:30"}, "Ignored the link's class 30 for endpoint A: this bundle has 10 classes."),
        (
            {"bundle": "b" * 3999},
            "Ignored the link's `bundle` value ` " + "b" * 37 + "... `: a bundle name is a plain folder name",
        ),
    ],
    ids=[
        "nan",
        "inf",
        "z-out-of-range",
        "i-out-of-range",
        "unicode-digit",
        "unknown-bundle",
        "path-in-bundle",
        "very-long-z",
        "classes-beyond-the-bundles",
        "centroid-beyond-the-bundles",
        "very-long-bundle",
    ],
)
def test_a_bad_link_value_shows_a_notice_and_the_app_renders(app_at, query, notice):
    at = app_at("one", query).run()
    _renders_with_defaults(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and notice in warnings[0], warnings
    commit(at, [1.5, -0.5])  # and it keeps working
    assert not at.exception and view(at).z == pytest.approx([1.5, -0.5])


def test_a_far_but_finite_link_point_is_kept_and_the_sliders_stop_at_their_ends(app_at):
    at = app_at("one", {"z": "500,-500"}).run()
    assert not at.exception and not at.error and not at.warning
    assert view(at).z == pytest.approx([500.0, -500.0])
    data = live_data(at)
    assert data["z"] == pytest.approx([500.0, -500.0])  # the browser's sliders clip it to their ends
    assert data["sliders"][0]["max"] < 500 and data["sliders"][1]["min"] > -500


# --- a copied link reopens what was on screen (AppTest) ---------------------------------------------------


def _link(at) -> dict[str, str]:
    """The page's query string as a person would copy it."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def _reopened(app_at, at):
    """A new session opened from ``at``'s link; both sessions rendered without errors."""
    link = _link(at)
    again = app_at("two", link).run()
    for page in (at, again):
        assert not (page.exception or page.error or page.warning), (page.exception, page.error, page.warning)
    assert _link(again) == link  # the reopened page writes the same link
    return again, link


def _images(at) -> list:
    """The open view's images (the strip or the grid; not those at the current point, whose link
    coordinates are rounded to 4 decimals)."""
    at_point = ("z = ", "Real image", "Decoded", "Reconstruction of")
    return [img.value for img in at.image if not (img.captions and img.captions[0].startswith(at_point))]


def test_a_link_reopens_the_interpolation(app_at):
    at = app_at("two").run()
    at.radio(key="ip_a_kind").set_value("image").run()
    at.number_input(key="ip_a_index").set_value(17).run()
    at.radio(key="ip_b_kind").set_value("current").run()
    at.slider(key="ip_steps").set_value(23).run()
    at.radio(key="ip_path").set_value("spherical").run()
    again, link = _reopened(app_at, at)
    assert (link["a"], link["b"], link["steps"], link["path"]) == ("image:17", "current", "23", "spherical")
    for key in ("ip_a_kind", "ip_a_index", "ip_b_kind", "ip_steps", "ip_path"):
        assert again.session_state[key] == at.session_state[key], key
    captions = [c.value.replace("\\", "") for c in again.caption]  # as shown: Markdown escapes removed
    assert any(c.startswith("23 frames from #17") and "to current point" in c for c in captions), captions


def test_a_link_reopens_the_decoded_grid_over_a_box(app_at):
    from app.panels import manifold

    at = app_at("two", {"view": "manifold"}).run()
    at.slider(key="mf_n").set_value(4).run()
    record(at, BoxDrawn((-1.0, 0.5, -0.25, 1.75)))  # a box drawn with the map's box-select tool
    at.radio(key="region_source").set_value("prior").run()
    at.radio(key="region_source").set_value("box").run()
    again, link = _reopened(app_at, at)
    assert link["view"] == "manifold" and link["n"] == "4" and link["box"] == "-1,0.5,-0.25,1.75"
    assert view(again).region == "box" and view(again).box == (-1.0, 0.5, -0.25, 1.75)
    assert _images(again) == _images(at)
    assert manifold.MAX_N == 30


def test_a_link_reopens_the_prior_samples(app_at):
    at = app_at("two", {"view": "prior"}).run()
    at.slider(key="prior_n").set_value(3).run()
    at.button(key="prior_new").click().run()
    at.button(key="prior_new").click().run()
    again, link = _reopened(app_at, at)
    assert link["samples"] == "3" and link["seed"] == "2"
    assert again.session_state["prior_seed"] == 2 and again.session_state["prior_n"] == 3
    assert _images(again) == _images(at)


def test_a_link_reopens_the_encode_view_and_the_point(app_at):
    at = app_at("two", {"view": "encode", "bundle": "tiny-5d"}).run()
    z = view(at).z
    commit(at, [z[0], z[1], z[2] + 1.5, z[3], z[4]])  # a slider released further along z3
    again, link = _reopened(app_at, at)
    assert link["view"] == "encode" and link["bundle"] == "tiny-5d"
    assert view(again).z == pytest.approx(view(at).z, abs=1e-4)


def test_a_link_reopens_the_map_display_options(app_at):
    at = app_at("two").run()
    at.multiselect(key="map_classes").unselect("Bag").unselect("Coat").run()
    run(at)  # only the map runs
    at.toggle(key="map_size_std").set_value(True).run()
    run(at)
    at.selectbox(key="map_background").set_value("aggregate").run()
    run(at)
    again, link = _reopened(app_at, at)
    assert link["classes"] == "0,1,2,3,5,6,7,9" and link["size"] == "std" and link["bg"] == "aggregate"
    figure = [map_figure(page) for page in (at, again)]
    assert figure[0]["data"] == figure[1]["data"]
    assert "Background: darker grey = higher density" in " ".join(c.value for c in again.caption)


def test_a_link_turns_off_decoding_under_the_pointer(app_at):
    """(The tiny bundles have no browser models, so the toggle itself is disabled here.)"""
    at = app_at("two", {"hover": "off"}).run()
    assert not (at.exception or at.error or at.warning)
    assert at.toggle(key="map_hover").value is False and _link(at)["hover"] == "off"


def test_a_default_view_keeps_the_link_short(app_at):
    at = app_at("one").run()
    assert set(_link(at)) == {"bundle", "z", "view", "i", "a", "b", "steps", "path"}
