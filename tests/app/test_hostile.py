"""Hostile input through the app (issue 15): links, file names, bundle names and manifests that
try to inject Markdown, doctored bundles, and server paths that must stay on the server."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.app.conftest import map_figure
from tests.conftest import make_bundle
from tests.literal_check import assert_literal

HOSTILE_FOLDER = "![x](track.png) [a](b)"  # a bundle folder name: no "/" allowed, the rest is
HOSTILE_NAME = "![](http://HOST/name) :red[big]"
HOSTILE_CREATED = "[re-login](https://example.com/login) $x$"


@pytest.fixture(scope="module")
def hostile_roots(roots, tmp_path_factory):
    """Adds to ``roots``: ``hostile`` (a good bundle with a hostile folder name and manifest
    strings), ``hostile-broken`` (the same, with a damaged decoder), ``badhistory`` and
    ``badmetric`` (schema violations)."""
    base = tmp_path_factory.mktemp("hostile")
    good = roots["one"] / "tiny-2d"
    for name in ("hostile", "hostile-broken", "badhistory", "badmetric"):
        roots[name] = base / name
        roots[name].mkdir()
        shutil.copy(roots["one"] / "fashion-mnist-test.npz", roots[name])
    for name in ("hostile", "hostile-broken"):
        bundle = shutil.copytree(good, roots[name] / HOSTILE_FOLDER)
        manifest = json.loads((bundle / "manifest.json").read_text())
        manifest.update(name=HOSTILE_NAME, created=HOSTILE_CREATED)
        (bundle / "manifest.json").write_text(json.dumps(manifest))
    (roots["hostile-broken"] / HOSTILE_FOLDER / "decoder.onnx").write_bytes(b"not an ONNX model")
    bundle = shutil.copytree(good, roots["badhistory"] / "tiny-2d")
    (bundle / "history.json").write_text(json.dumps({"loss": "x"}))
    bundle = shutil.copytree(good, roots["badmetric"] / "tiny-2d")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["metrics"]["test_neg_elbo_nats"] = "abc"
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    return roots


LINK = {
    "view": "![](http://HOST/track)",
    "i": "[click](https://example.com/login)",
    "z": ":red[x] :material/warning: $y$",
    "bundle": "no-such-bundle",
}


def test_link_values_are_shown_literally(app_at):
    at = app_at("one", LINK).run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 4, warnings
    for key, value in LINK.items():
        (message,) = [w for w in warnings if f"`{key}`" in w]
        assert_literal(message, value)


@pytest.mark.parametrize(
    "name",
    [
        "[Click here to re-login](https://example.com/login) .png",
        "![x](http://HOST/pixel.png)x.png",
        "``:smile:``.png",
    ],
)
def test_upload_file_names_are_shown_literally(app_at, name):
    at = app_at("one", {"view": "encode"}).run()
    at.file_uploader(key="enc_file").upload(name, b"not an image at all", "image/png").run()
    assert not at.exception
    assert len(at.error) == 1 and "is not a PNG/JPEG/GIF/WebP/BMP image" in at.error[0].value
    assert_literal(at.error[0].value, name)


def test_bundle_folder_name_and_manifest_strings_are_shown_literally(app_at, hostile_roots):
    at = app_at("hostile").run()
    assert not at.exception and not at.error
    (caption,) = [c.value for c in at.caption if c.value.startswith("Model bundle:")]
    assert_literal(caption, HOSTILE_FOLDER)
    card = next(e for e in at.expander if e.label.startswith("Model card"))
    (summary,) = [m.value for m in card.markdown if "preset" in m.value]
    assert_literal(summary.replace("`default`", "` default `"))
    assert_literal(summary.split(" — ")[0], HOSTILE_NAME)
    assert_literal(summary.split("created ")[1], HOSTILE_CREATED)


def test_a_broken_bundle_with_a_hostile_name_is_reported_literally_without_server_paths(
    app_at, hostile_roots
):
    at = app_at("hostile-broken").run()
    assert not at.exception and len(at.error) == 1
    message = at.error[0].value
    assert_literal(message.split("\n\n")[0], HOSTILE_FOLDER)
    assert_literal(message.split("\n\n")[1])
    assert str(hostile_roots["hostile-broken"]) not in message
    assert f"$VAE_ARTIFACTS/{HOSTILE_FOLDER}/decoder.onnx" in message  # the tests set VAE_ARTIFACTS


def test_visitors_never_see_the_servers_artifacts_folder(app_at, roots):
    at = app_at("corrupt").run()
    assert len(at.error) == 1 and "tiny-2d/decoder.onnx" in at.error[0].value
    at = app_at("empty").run()
    assert len(at.error) == 1
    at = app_at("two").run()
    texts = [e.value for e in (*at.error, *at.warning, *at.caption, *at.markdown, *at.info)]
    texts += [s.help or "" for s in at.selectbox]
    for root in ("corrupt", "empty", "two"):
        assert not [t for t in texts if str(roots[root]) in t], root
    at = app_at("two", {"bundle": "elsewhere"}).run()
    assert str(roots["two"]) not in at.warning[0].value


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("badhistory", "history.json"),
        ("badmetric", "metrics.test_neg_elbo_nats"),
    ],
)
def test_a_bundle_failing_its_schema_gives_a_message_not_an_exception(app_at, hostile_roots, root, expected):
    at = app_at(root).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and expected in at.error[0].value
    assert "python -m vae_core train" in at.error[0].value


# --- issue 28: values from a link or a page that the bundle cannot show --------------------------------


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ({"mode": "learn", "i": "10000"}, "Ignored the test image 10000: this bundle has 200 test images."),
        ({"a": "image:99999"}, "Ignored the link's test image 99999 for endpoint A"),
        ({"mode": "compare", "vs": "no-such-bundle"}, "Ignored the link's `vs` value ` no-such-bundle `"),
    ],
    ids=["lesson-image", "endpoint-image", "compared-bundle"],
)
def test_a_link_value_the_bundle_cannot_show_is_replaced_with_a_notice(app_at, query, notice):
    at = app_at("family" if query.get("mode") == "compare" else "one", query).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(notice in w.value for w in at.warning), [w.value for w in at.warning]


def test_a_bundle_folder_with_a_space_round_trips_through_its_link(app_at, roots, tmp_path, monkeypatch):
    root = tmp_path / "spaced"
    shutil.copytree(roots["one"] / "tiny-2d", root / "with space")
    shutil.copy(roots["one"] / "fashion-mnist-test.npz", root)
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    monkeypatch.setenv("VAE_ARTIFACTS", str(root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    link = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert link["bundle"] == "with space"
    again = AppTest.from_file(APP, default_timeout=120)
    for key, value in link.items():
        again.query_params[key] = value
    again.run()
    assert not again.warning and not again.exception


def test_a_browser_model_that_does_not_fit_the_bundle_is_not_served(tmp_path, monkeypatch, caplog):
    """A 3-D decoder.onnx in a 2-D bundle (checksums and all in order): the server says live decoding
    is off and why, and decodes itself, instead of letting the page paint nothing."""
    from app import resources
    from app.browser_assets import publish_model
    from vae_core.atomic import sha256_file
    from vae_core.bundle import load_bundle

    two = make_bundle(tmp_path / "a" / "two", 2, browser_models=True)
    three = make_bundle(tmp_path / "b" / "three", 3, browser_models=True)
    manifest = json.loads((two / "manifest.json").read_text())
    for entry in (manifest["onnx"]["decoder"], manifest["onnx"]["light"]["decoder"]):  # what the browser gets
        shutil.copy(three / entry["file"], two / entry["file"])
        entry["sha256"] = sha256_file(two / entry["file"])
    (two / "manifest.json").write_text(json.dumps(manifest))
    published = tmp_path / "models"
    monkeypatch.setattr(resources, "publish_model", lambda m: publish_model(m, published))
    models = resources.browser_models(load_bundle(two))
    assert models.decoder is None and models.encoder is not None
    assert "browser decoder does not fit it" in models.note and "takes Nx3 values" in models.note
    assert "this bundle needs Nx2" in models.note


def test_crafted_values_from_the_page_are_ignored():
    from app.panels.current_point import parse_click, parse_commit

    inf, nan = float("inf"), float("nan")
    for value in (
        {"commit": {"z": [0.5, 0.5], "n": inf, "painted": True}},
        {"commit": {"z": [0.5, 0.5], "n": 1e300}},
        {"commit": {"z": [nan, 0.5], "n": 3}},
        {"commit": {"z": [1e308, 0.5], "n": 3}},
        {"commit": {"z": "0.5,0.5", "n": 3}},
        {"commit": {"z": [0.5], "n": 3}},
        {"commit": {"z": [True, 0.5], "n": 3}},
        {"commit": {"z": [0.5, 0.5], "n": 2.5}},
    ):
        assert parse_commit(value, 2) is None, value
    for value in (
        {"click": {"x": "NaN", "y": 0, "ux": 0.1, "uy": 0.1}},
        {"click": {"x": 1e308, "y": 0, "ux": 0.1, "uy": 0.1}},
        {"click": {"x": 0, "y": 0, "ux": 0, "uy": 0.1}},
        {"click": {"x": 0, "y": 0, "ux": inf, "uy": 0.1}},
        {"click": None},
        "click",
    ):
        assert parse_click(value) is None, value
    at, units, hidden = parse_click({"click": {"x": 1, "y": 2, "ux": 0.1, "uy": 0.1, "hidden": 5}})
    assert (at, units, hidden) == ((1.0, 2.0), (0.1, 0.1), set())  # "hidden": 5 is no list: none hidden
    assert parse_commit({"commit": {"z": [0.5, -1], "n": 7, "painted": True}}, 2).z == (0.5, -1.0)


HOSTILE_CLASS = "<b>Bold</b> %{x} &amp; <a href='https://example.com'>link</a>"


def test_class_names_reach_the_map_as_text_and_the_legend_hides_them(app_at, roots, tmp_path, monkeypatch):
    """Plotly reads a few HTML tags in a legend entry and %{...} in a hover template: a class name
    from a manifest is neither, and the legend's name for it still hides it from clicks."""
    import numpy as np

    from app.panels.current_point import legend_classes
    from app.resources import bundle_version, load_explorer
    from app.text import plotly_text

    names = [HOSTILE_CLASS] + [f"class {k}" for k in range(1, 10)]
    path = make_bundle(
        tmp_path / "classes" / "tiny-2d",
        2,
        n=200,
        test_images=True,
        browser_models=True,
        data={"class_names": names},
    )
    at = app_at("one")
    monkeypatch.setenv("VAE_ARTIFACTS", str(path.parent))  # this folder instead of "one"
    at.run()
    assert not at.exception
    spec = map_figure(at)
    trace = next(t for t in spec["data"] if t.get("name") == plotly_text(HOSTILE_CLASS))
    assert all(HOSTILE_CLASS not in str(t.get("name")) for t in spec["data"])
    assert "<b>" not in trace["hovertemplate"] and "%{x}" not in trace["hovertemplate"]
    assert "&lt;b&gt;Bold&lt;/b&gt; &#37;{x} &amp;amp;" in trace["name"]
    explorer = load_explorer(str(path), bundle_version(path))
    assert legend_classes({plotly_text(HOSTILE_CLASS), "no such class"}, explorer) == {HOSTILE_CLASS}
    # a click on a point of that class picks it, unless the legend hid the class
    first = int(np.flatnonzero(explorer.bundle.labels == 0)[0])
    at_point, base = tuple(explorer.map.xy[first]), explorer.test_point(first)
    assert explorer.click(at_point, (0.01, 0.01), base, set())[0] == first
    assert explorer.click(at_point, (0.01, 0.01), base, {HOSTILE_CLASS})[0] != first
