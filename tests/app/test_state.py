"""URL query string <-> explorer state (app/state.py): pure functions."""

from __future__ import annotations

import pytest

from app.state import MAX_VALUE_CHARS, VIEWS, ViewState, format_query, format_z, parse_query


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
