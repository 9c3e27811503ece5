"""Property-based fuzz (Hypothesis) of what comes from outside: link values and manifests.

Whatever a link or a manifest holds, the page shows no traceback and renders nothing from it as
Markdown (see tests/literal_check.py), and vae_core answers with a BundleError or a valid bundle.
The pure properties run hundreds of examples in seconds; the AppTest ones (1-2 s per run) run a
few dozen and are marked slow.
"""

from __future__ import annotations

import itertools
import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.link import parse_query
from app.text import literal
from tests.literal_check import assert_literal, rendered_html

MARKDOWN_BITS = [
    "[",
    "]",
    "(",
    ")",
    "!",
    "`",
    "``",
    "*",
    "_",
    ":",
    "$",
    "<",
    ">",
    "/",
    "#",
    "\\",
    "~",
    "|",
    "-",
    ".",
    " ",
    "\n",
    "\r",
    "\t",
    "http://x.invalid/a.png",
    "https://example.com",
    "www.example.com",
    ":red[",
    ":material/warning:",
    ":smile:",
    "<img src=x>",
    "&lt;",
    "\u202e",
    "\u200b",
    "\x00",
    "😀",
    "0",
    "1",
    ",",
    "e",
    "nan",
    "inf",
]
hostile_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(MARKDOWN_BITS), max_size=25).map("".join),
)
link_values = st.fixed_dictionaries({}, optional={key: hostile_text for key in ("bundle", "z", "view", "i")})
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=500, deadline=None)
@given(hostile_text)
def test_literal_always_renders_as_one_code_span_of_the_text(value):
    message = f"Ignored the link's `view` value {literal(value)}: expected a view."
    assert_literal(message, value)
    assert "<a " not in rendered_html(message) and "<img" not in rendered_html(message)


@settings(max_examples=300, deadline=None)
@given(link_values)
def test_every_link_notice_is_literal(params):
    _state, notices = parse_query(params)
    for notice in notices:
        assert_literal(notice)


@pytest.mark.slow
@FUZZ
@given(params=link_values)
def test_the_page_survives_any_link(app_at, params):
    at = app_at("one", params).run()
    assert not at.exception, [e.value for e in at.exception]
    for element in (*at.warning, *at.error):
        assert_literal(element.value)


# --- manifests ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
FIELDS = [  # where a doctored manifest differs from a good one
    ("schema_version",),
    ("name",),
    ("latent_dim",),
    ("created",),
    ("command",),
    ("prior",),
    ("prior", "type"),
    ("prior", "file"),
    ("prior", "components"),
    ("metrics",),
    ("metrics", "test_neg_elbo_nats"),
    ("metrics", "knn5_accuracy"),
    ("metrics", "kl_per_dimension"),
    ("config",),
    ("config", "latent_dim"),
    ("config", "preset"),
    ("training",),
    ("training", "seconds"),
    ("training", "epochs_run"),
    ("onnx",),
    ("versions",),
    ("architecture",),
]
edits = st.lists(
    st.tuples(st.sampled_from(FIELDS), st.one_of(st.just(KeyError), json_values)), min_size=1, max_size=3
)


def doctor(manifest: dict, changes) -> dict:
    for path, value in changes:
        target = manifest
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if value is KeyError:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return manifest


@pytest.fixture(scope="module")
def good_manifest(roots):
    return json.loads((roots["one"] / "tiny-2d" / "manifest.json").read_text())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=edits)
def test_read_manifest_gives_a_manifest_or_one_line_bundle_error(
    roots, good_manifest, tmp_path_factory, changes
):
    from vae_core.bundle import BundleError, read_manifest

    folder = tmp_path_factory.mktemp("fuzz") / "b"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(doctor(json.loads(json.dumps(good_manifest)), changes)))
    try:
        read_manifest(folder)
    except BundleError as e:
        assert "\n" not in str(e) and "python -m vae_core train" in str(e)


_runs = itertools.count()


@pytest.mark.slow
@FUZZ
@given(changes=edits)
def test_the_page_survives_any_manifest(roots, good_manifest, app_at, tmp_path_factory, changes):
    root = tmp_path_factory.mktemp("fuzzroot")
    bundle = shutil.copytree(roots["one"] / "tiny-2d", root / f"fuzz-{next(_runs)}")  # a new name: no cache
    shutil.copy(roots["one"] / "fashion-mnist-test.npz", root)
    (bundle / "manifest.json").write_text(json.dumps(doctor(json.loads(json.dumps(good_manifest)), changes)))
    roots["fuzz"] = root
    at = app_at("fuzz").run()
    assert not at.exception, [e.value for e in at.exception]
    for element in (*at.warning, *at.error):
        assert_literal(element.value)
    if not at.error:  # the bundle loaded: its manifest strings in the model card are literal too
        card = next(e for e in at.expander if e.label.startswith("Model card"))
        (summary,) = [m.value for m in card.markdown if "preset" in m.value]
        assert_literal(summary)


# --- values a page sends through the components, and paths given to the CLI (issue 28) ----------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
triggers = st.fixed_dictionaries(
    {},
    optional={
        "commit": json_values
        | st.fixed_dictionaries({"z": json_values, "n": json_values, "painted": json_values}),
        "click": json_values
        | st.fixed_dictionaries(
            {"x": json_values, "y": json_values, "ux": json_values, "uy": json_values, "hidden": json_values}
        ),
        "stroke": json_values | st.fixed_dictionaries({"pixels": json_values, "n": json_values}),
        "box": json_values | st.fixed_dictionaries({"x": json_values, "y": json_values}),
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(value=triggers | json_values)
def test_a_component_value_is_parsed_or_ignored_never_raises(value):
    from app.panels.current_point import parse_click, parse_commit
    from app.panels.draw_pad import parse_stroke
    from app.panels.map import box_of
    from app.view import BoxDrawn, View, next_view

    commit = parse_commit(value, 2)
    if commit is not None:  # whatever is accepted is a usable event
        view = next_view(View(z=(0.0, 0.0)), commit)
        assert all(abs(v) <= 1e4 for v in view.z)
    click = parse_click(value)
    if click is not None:
        (x, y), (ux, uy), hidden = click
        assert ux > 0 and uy > 0 and all(isinstance(h, str) for h in hidden)
    parse_stroke(value, (28, 28, 1))
    box = box_of(value)
    if box is not None:  # a usable box: the decoded grid covers it
        assert next_view(View(z=(0.0, 0.0)), BoxDrawn(box)).box == box


path_parts = st.sampled_from(
    ["a", "..", ".", "-", "$(touch PWNED)", "x y", "\x1b[2J", "\u202e", "~", "*", "'", "\n", "lost+found", ""]
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(path_parts, min_size=1, max_size=4))
def test_the_cli_answers_any_path_in_one_line(tmp_path, capsys, parts):
    """evaluate and export-onnx on any path: exit 1 with one line that shows it escaped, or a bundle."""
    from vae_core.cli import main

    path = tmp_path.joinpath(*[p or "e" for p in parts])
    for command in (["evaluate", str(path)], ["export-onnx", str(path)]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"vae-core {command[0]}: error: ") and err.count("\n") == 1, err
        assert "\x1b" not in err and "\u202e" not in err
