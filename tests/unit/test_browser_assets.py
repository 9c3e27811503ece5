"""The browser's files: the vendored onnxruntime-web is the pinned release; models are published safely."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from app import browser_assets as ba
from tests.conftest import make_bundle
from vae_core.manifest import BrowserModel, BundleError, browser_models_of, read_manifest

REPO = Path(__file__).resolve().parents[2]


def _sums() -> dict[str, str]:
    lines = (ba.RUNTIME_DIR / ba.SUMS_FILE).read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def test_every_vendored_runtime_file_matches_sha256sums():
    sums = _sums()
    assert set(sums) == set(ba.RUNTIME_FILES) | set(ba.RUNTIME_LICENCE_FILES)
    on_disk = {p.name for p in ba.RUNTIME_DIR.iterdir()} - {ba.SUMS_FILE}
    assert on_disk == set(sums), "the vendored folder holds exactly the files SHA256SUMS lists"
    for name, digest in sums.items():
        got = hashlib.sha256((ba.RUNTIME_DIR / name).read_bytes()).hexdigest()
        assert got == digest, f"{name} was changed"


def test_the_runtime_is_the_pinned_version_everywhere():
    assert ba.RUNTIME_DIR.name == f"onnxruntime-web-{ba.RUNTIME_VERSION}"
    assert ba.RUNTIME_URL.endswith(f"/onnxruntime-web-{ba.RUNTIME_VERSION}/")  # what the page is told to load
    module = (ba.RUNTIME_DIR / "ort.wasm.bundle.min.mjs").read_text(encoding="utf-8")
    assert f'"{ba.RUNTIME_VERSION}"' in module, "the vendored module is not the pinned release"
    js = (ba.FRONTEND_DIR / "decoder.js").read_text(encoding="utf-8")
    assert not re.search(r"\d+\.\d+\.\d+", js), "decoder.js names a version: it must load the one it is given"
    for name in ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"):
        assert f'"{name}"' in js, f"decoder.js does not load {name}"
    licence = (ba.RUNTIME_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Microsoft" in licence


def test_the_packed_runtime_is_the_runtime():
    """The .wasm.gz live_decoder.js fetches unpacks to exactly the pinned .wasm."""
    packed = (ba.RUNTIME_DIR / "ort-wasm-simd-threaded.wasm.gz").read_bytes()
    assert hashlib.sha256(gzip.decompress(packed)).hexdigest() == _sums()["ort-wasm-simd-threaded.wasm"]


def test_the_app_serves_its_static_folder():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    assert "STREAMLIT_SERVER_ENABLE_STATIC_SERVING=true" in (REPO / "Dockerfile").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("artifacts") / "tiny-2d", browser_models=True)


@pytest.fixture
def bundle(bundle_dir, tmp_path):
    """A fresh copy of a tiny bundle with browser models, to damage in one way."""
    return shutil.copytree(bundle_dir, tmp_path / "artifacts" / "tiny-2d")


def _decoder(bundle: Path) -> BrowserModel:
    return browser_models_of(bundle, read_manifest(bundle))["decoder"]


def test_publish_model_copies_by_content_and_is_idempotent(bundle, tmp_path):
    model = _decoder(bundle)
    models = tmp_path / "static" / "models"
    url = ba.publish_model(model, models)
    assert url == f"app/static/models/{model.sha256}.onnx"
    published, packed = models / f"{model.sha256}.onnx", models / f"{model.sha256}.onnx.gz"
    assert published.read_bytes() == model.file.read_bytes()
    assert gzip.decompress(packed.read_bytes()) == model.file.read_bytes()
    assert published.stat().st_mode & 0o777 == 0o644 and packed.stat().st_mode & 0o777 == 0o644
    before = published.stat().st_mtime_ns
    assert ba.publish_model(model, models) == url
    assert published.stat().st_mtime_ns == before, "an intact published copy is kept"
    assert sorted(p.name for p in models.iterdir()) == [published.name, packed.name], "no temporary files"


def test_publish_model_replaces_a_damaged_copy(bundle, tmp_path):
    model = _decoder(bundle)
    models = tmp_path / "models"
    models.mkdir()
    (models / f"{model.sha256}.onnx").write_bytes(b"half a file")
    (models / f"{model.sha256}.onnx.gz").write_bytes(gzip.compress(b"half a file"))
    assert ba.publish_model(model, models)
    assert (models / f"{model.sha256}.onnx").read_bytes() == model.file.read_bytes()
    assert gzip.decompress((models / f"{model.sha256}.onnx.gz").read_bytes()) == model.file.read_bytes()


def test_a_model_changed_after_loading_is_refused_and_nothing_is_served(bundle, tmp_path):
    model = _decoder(bundle)
    model.file.write_bytes(b"changed after the bundle was loaded")
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="no longer matches the SHA-256"):
        ba.publish_model(model, models)
    assert not models.exists() or list(models.iterdir()) == []


def test_an_unwritable_folder_means_no_url(bundle, tmp_path):
    """The app then decodes on the server (e.g. a read-only container)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the models folder should be")
    assert ba.publish_model(_decoder(bundle), blocker / "models") is None


def test_publish_bundle_publishes_the_light_copy_of_each_browser_model(bundle, tmp_path):
    light = read_manifest(bundle)["onnx"]["light"]
    urls = ba.publish_bundle(bundle, tmp_path / "models")
    assert urls == {part: ba.model_url(light[part]["sha256"]) for part in ("encoder", "decoder")}


def test_publish_bundle_of_a_version_1_bundle_publishes_nothing(tmp_path):
    bundle = make_bundle(tmp_path / "artifacts" / "old")  # no browser models
    assert ba.publish_bundle(bundle, tmp_path / "models") == {}


def test_publish_bundle_refuses_a_file_outside_the_bundle(bundle, tmp_path):
    manifest = read_manifest(bundle)
    manifest["onnx"]["decoder"]["file"] = "../secret.onnx"
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BundleError, match="plain .onnx file name inside the bundle"):
        ba.publish_bundle(bundle, tmp_path / "models")


def test_the_build_step_publishes_every_bundle_or_fails(bundle, tmp_path, capsys):
    artifacts = bundle.parent
    digest = read_manifest(bundle)["onnx"]["light"]["decoder"]["sha256"]
    assert ba.main([str(artifacts)], tmp_path / "models") == 0
    out = capsys.readouterr().out
    assert f"tiny-2d: decoder -> app/static/models/{digest}.onnx" in out and "browser modules ->" in out
    (bundle / "decoder.light.onnx").write_bytes(b"tampered")
    for published in (tmp_path / "models").iterdir():
        published.unlink()
    assert ba.main([str(artifacts)], tmp_path / "models") == 1
    assert "tiny-2d: not published" in capsys.readouterr().err


def test_the_browser_modules_are_published_by_content(tmp_path):
    url = ba.publish_frontend(tmp_path)
    version = ba.frontend_version()
    assert url == f"app/static/frontend/{version}/"
    sources = sorted(p.name for p in ba.FRONTEND_DIR.glob("*.js"))
    assert sorted(p.name for p in (tmp_path / version).glob("*.js")) == sources
    for name in sources:
        assert (tmp_path / version / name).read_bytes() == (ba.FRONTEND_DIR / name).read_bytes()
    assert ba.publish_frontend(tmp_path) == url  # once per version


def test_published_models_are_not_committed():
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "app/static/models/" in ignored and "app/static/frontend/" in ignored
