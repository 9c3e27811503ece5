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
