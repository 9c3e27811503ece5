"""The browser's files: the vendored onnxruntime-web is the pinned release; models are published safely."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tomllib
from pathlib import Path

import pytest

from app import browser_assets as ba

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
    module = (ba.RUNTIME_DIR / "ort.wasm.bundle.min.mjs").read_text(encoding="utf-8")
    assert f'"{ba.RUNTIME_VERSION}"' in module, "the vendored module is not the pinned release"
    js = ba.LIVE_DECODER_JS.read_text(encoding="utf-8")
    pin = rf'RUNTIME_VERSION = "{re.escape(ba.RUNTIME_VERSION)}"'
    assert re.search(pin, js), "live_decoder.js loads another version"
    for name in ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"):
        assert f'"{name}"' in js, f"live_decoder.js does not load {name}"
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


def _onnx(tmp_path: Path, content: bytes = b"\x08\x07fake onnx bytes") -> tuple[Path, str]:
    path = tmp_path / "decoder.onnx"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_publish_model_copies_by_content_and_is_idempotent(tmp_path):
    source, digest = _onnx(tmp_path)
    models = tmp_path / "static" / "models"
    url = ba.publish_model(source, digest, models)
    assert url == f"app/static/models/{digest}.onnx"
    published, packed = models / f"{digest}.onnx", models / f"{digest}.onnx.gz"
    assert published.read_bytes() == source.read_bytes()
    assert gzip.decompress(packed.read_bytes()) == source.read_bytes()
    assert published.stat().st_mode & 0o777 == 0o644 and packed.stat().st_mode & 0o777 == 0o644
    before = published.stat().st_mtime_ns
    assert ba.publish_model(source, digest.upper(), models) == url
    assert published.stat().st_mtime_ns == before, "an intact published copy is kept"
    assert sorted(p.name for p in models.iterdir()) == [published.name, packed.name], "no temporary files"


def test_publish_model_replaces_a_damaged_copy(tmp_path):
    source, digest = _onnx(tmp_path)
    models = tmp_path / "models"
    models.mkdir()
    (models / f"{digest}.onnx").write_bytes(b"half a file")
    (models / f"{digest}.onnx.gz").write_bytes(gzip.compress(b"half a file"))
    assert ba.publish_model(source, digest, models)
    assert (models / f"{digest}.onnx").read_bytes() == source.read_bytes()
    assert gzip.decompress((models / f"{digest}.onnx.gz").read_bytes()) == source.read_bytes()


def test_a_tampered_model_is_refused_and_nothing_is_served(tmp_path):
    source, digest = _onnx(tmp_path)
    source.write_bytes(b"changed after export")
    models = tmp_path / "models"
    with pytest.raises(ba.BrowserModelError, match="does not match the SHA-256"):
        ba.publish_model(source, digest, models)
    assert not models.exists() or list(models.iterdir()) == []


@pytest.mark.parametrize(("digest", "message"), [("abc", "not a SHA-256"), ("g" * 64, "not a SHA-256")])
def test_a_malformed_digest_is_refused(tmp_path, digest, message):
    source, _ = _onnx(tmp_path)
    with pytest.raises(ba.BrowserModelError, match=message):
        ba.publish_model(source, digest, tmp_path / "models")


def test_a_missing_model_is_refused(tmp_path):
    with pytest.raises(ba.BrowserModelError, match="missing from the bundle"):
        ba.publish_model(tmp_path / "decoder.onnx", "0" * 64, tmp_path / "models")


def test_an_unwritable_folder_means_no_url(tmp_path):
    """The app then decodes on the server (e.g. a read-only container)."""
    source, digest = _onnx(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the models folder should be")
    assert ba.publish_model(source, digest, blocker / "models") is None


def _bundle(tmp_path: Path, onnx: dict) -> Path:
    bundle = tmp_path / "artifacts" / "tiny-2d"
    bundle.mkdir(parents=True)
    (bundle / "manifest.json").write_text(json.dumps({"schema_version": 2, "onnx": onnx}), encoding="utf-8")
    return bundle


def test_publish_bundle_publishes_each_browser_model(tmp_path):
    bundle = _bundle(tmp_path, {})
    decoder, d_sha = _onnx(bundle, b"decoder bytes")
    encoder = bundle / "encoder.onnx"
    encoder.write_bytes(b"encoder bytes")
    e_sha = hashlib.sha256(b"encoder bytes").hexdigest()
    onnx = {
        "decoder": {"file": decoder.name, "sha256": d_sha, "inputs": ["z"], "outputs": ["Identity:0"]},
        "encoder": {"file": encoder.name, "sha256": e_sha},
    }
    (bundle / "manifest.json").write_text(json.dumps({"schema_version": 2, "onnx": onnx}), encoding="utf-8")
    urls = ba.publish_bundle(bundle, tmp_path / "models")
    assert urls == {"decoder": ba.model_url(d_sha), "encoder": ba.model_url(e_sha)}
    assert ba.publish_bundle(_bundle(tmp_path / "v1", {}), tmp_path / "models") == {}  # a version-1 bundle


def test_publish_bundle_refuses_a_file_outside_the_bundle(tmp_path):
    bundle = _bundle(tmp_path, {"decoder": {"file": "../secret.onnx", "sha256": "0" * 64}})
    with pytest.raises(ba.BrowserModelError, match="plain name inside the bundle"):
        ba.publish_bundle(bundle, tmp_path / "models")


def test_the_build_step_publishes_every_bundle_or_fails(tmp_path, capsys):
    bundle = _bundle(tmp_path, {})
    decoder, digest = _onnx(bundle)
    manifest = {"onnx": {"decoder": {"file": decoder.name, "sha256": digest}}}
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert ba.main([str(tmp_path / "artifacts")], tmp_path / "models") == 0
    assert f"tiny-2d: decoder -> app/static/models/{digest}.onnx" in capsys.readouterr().out
    decoder.write_bytes(b"tampered")
    for published in (tmp_path / "models").iterdir():
        published.unlink()
    assert ba.main([str(tmp_path / "artifacts")], tmp_path / "models") == 1
    assert "tiny-2d: not published" in capsys.readouterr().err


def test_published_models_are_not_committed():
    assert "app/static/models/" in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
