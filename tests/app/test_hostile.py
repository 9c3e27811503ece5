"""Hostile input through the app (issue 15): links, file names, bundle names and manifests that
try to inject Markdown, doctored bundles, and server paths that must stay on the server."""

from __future__ import annotations

import json
import shutil

import pytest

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
    (roots["hostile-broken"] / HOSTILE_FOLDER / "decoder.keras").write_bytes(b"not a zip file")
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
    assert f"$VAE_ARTIFACTS/{HOSTILE_FOLDER}/decoder.keras" in message  # the tests set VAE_ARTIFACTS


def test_visitors_never_see_the_servers_artifacts_folder(app_at, roots):
    at = app_at("corrupt").run()
    assert len(at.error) == 1 and "tiny-2d/decoder.keras" in at.error[0].value
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
