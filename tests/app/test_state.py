"""URL query string <-> explorer state (app/state.py): pure functions, then bad links through the app."""

from __future__ import annotations

import pytest

from app.state import MAX_VALUE_CHARS, VIEWS, ViewState, format_query, format_z, parse_query
from tests.app.conftest import commit, live_data


def test_round_trip_of_a_full_view():
    view = ViewState(bundle="fashion-mnist-2d", z=(0.51234, -1.3, 0.0), view="manifold", index=42)
    parsed, notices = parse_query(format_query(view))
    assert notices == []
    assert parsed.bundle == "fashion-mnist-2d" and parsed.view == "manifold" and parsed.index == 42
    assert parsed.z == pytest.approx((0.5123, -1.3, 0.0))


def test_empty_query_gives_defaults_without_notices():
    assert parse_query({}) == (ViewState(), [])


def test_format_z_is_short_and_has_no_negative_zero():
    assert format_z([0.5, -1.25, -0.00001, 2.0]) == "0.5,-1.25,0,2"


def test_format_query_leaves_out_unset_fields():
    assert format_query(ViewState(z=(1.0, 2.0))) == {"z": "1,2"}


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
        ("bundle", "../etc", "letters, digits"),
        ("bundle", ".hidden", "letters, digits"),
    ],
)
def test_malformed_values_are_dropped_with_a_notice(key, value, fragment):
    parsed, notices = parse_query({key: value, "view": "prior"} if key != "view" else {key: value})
    assert getattr(parsed, "index" if key == "i" else key) is None
    assert len(notices) == 1 and f"`{key}`" in notices[0] and fragment in notices[0]


def test_other_values_survive_a_malformed_one():
    parsed, notices = parse_query({"z": "oops", "view": "encode", "bundle": "b-5d"})
    assert parsed == ViewState(bundle="b-5d", view="encode") and len(notices) == 1


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
    assert at.get("plotly_chart")
    assert max(live_data(at)["pixels"]) > 0
    assert at.session_state["bundle"] == "tiny-2d" and at.session_state["selected"] == 0
    assert at.session_state["view"] == "interpolate"


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ({"z": "nan,0"},
         "Ignored the link's `z` value ` nan,0 `: coordinates must be finite numbers within ±10000."),
        ({"z": "inf,-inf"}, "Ignored the link's `z` value ` inf,-inf `: coordinates must be finite"),
        ({"z": "1e9,0"}, "Ignored the link's `z` value ` 1e9,0 `: coordinates must be finite"),
        ({"i": "9999"}, "Ignored the link's test image 9999: this bundle has 200 test images."),
        ({"i": "\u00b2"}, "Ignored the link's `i` value ` ² `: expected a test-image number like 42."),
        ({"bundle": "no-such-model"},
         "Ignored the link's `bundle` value ` no-such-model `: there is no bundle of that name."),
        ({"bundle": "../../etc/passwd"}, "uses letters, digits, '-', '_' and '.' only."),
        ({"z": "0," * 3000}, "Ignored the link's `z`: it is 6000 characters long (at most 4000)."),
        ({"bundle": "b" * 3999},
         "Ignored the link's `bundle` value ` " + "b" * 37 + "... `: there is no bundle of that name."),
    ],
    ids=["nan", "inf", "z-out-of-range", "i-out-of-range", "unicode-digit", "unknown-bundle",
         "path-in-bundle", "very-long-z", "very-long-bundle"],
)
def test_a_bad_link_value_shows_a_notice_and_the_app_renders(app_at, query, notice):
    at = app_at("one", query).run()
    _renders_with_defaults(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and notice in warnings[0], warnings
    commit(at, [1.5, -0.5])  # and it keeps working
    assert not at.exception and at.session_state["point"] == pytest.approx([1.5, -0.5])


def test_a_far_but_finite_link_point_is_kept_and_the_sliders_stop_at_their_ends(app_at):
    at = app_at("one", {"z": "500,-500"}).run()
    assert not at.exception and not at.error and not at.warning
    assert at.session_state["point"] == pytest.approx([500.0, -500.0])
    data = live_data(at)
    assert data["z"] == pytest.approx([500.0, -500.0])  # the browser's sliders clip it to their ends
    assert data["sliders"][0]["max"] < 500 and data["sliders"][1]["min"] > -500
