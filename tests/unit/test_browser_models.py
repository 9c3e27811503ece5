"""Browser models (ONNX): what the browser runs matches Keras, is checksummed, and can be added later."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import keras_networks, make_bundle
from vae_core.atomic import sha256_file as sha256_of
from vae_core.browser_models import add_browser_models, tensor_names
from vae_core.bundle import load_bundle, load_test_images
from vae_core.cli import main
from vae_core.manifest import BundleError

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TOLERANCE = 1e-4  # max abs difference between onnxruntime and Keras, per output value


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("artifacts") / "tiny-2d", browser_models=True)


@pytest.fixture
def copy(bundle_dir, tmp_path):
    """A fresh copy of the tiny bundle with browser models, to damage in one way."""
    return shutil.copytree(bundle_dir, tmp_path / "copy")


def _v1_bundle(path: Path) -> Path:
    """A bundle as vae_core wrote it before browser models: schema 1, no .onnx files."""
    make_bundle(path)
    manifest = json.loads((path / "manifest.json").read_text())
    assert "onnx" not in manifest
    (path / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 1}, indent=2))
    return path


def _run(model, inputs: np.ndarray) -> list[np.ndarray]:
    """Run one BrowserModel with onnxruntime, as the browser does (by the manifest's tensor names)."""
    session = ort.InferenceSession(str(model.file), providers=["CPUExecutionProvider"])
    return session.run(list(model.outputs), {model.inputs[0]: inputs})


def _assert_parity(bundle, z: np.ndarray, images: np.ndarray) -> tuple[float, float]:
    nets = keras_networks(bundle)
    (decoded,) = _run(bundle.browser_models["decoder"], z)
    decoder_diff = float(np.abs(decoded - nets.decode(z)).max())
    z_mean, z_log_var = _run(bundle.browser_models["encoder"], images)
    keras_mean, keras_log_var = nets.encode(images)
    encoder_diff = float(max(np.abs(z_mean - keras_mean).max(), np.abs(z_log_var - keras_log_var).max()))
    assert decoded.shape == (len(z), 28, 28, 1)
    assert z_mean.shape == z_log_var.shape == (len(images), bundle.latent_dim)
    assert decoder_diff <= TOLERANCE and encoder_diff <= TOLERANCE, (decoder_diff, encoder_diff)
    return decoder_diff, encoder_diff


# ---------------------------------------------------------------------------- export


def test_export_records_files_tensor_names_and_checksums(bundle_dir):
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    assert manifest["schema_version"] == 2
    onnx = manifest["onnx"]
    assert set(onnx) == {"encoder", "decoder", "exporter", "light"}
    assert set(onnx["exporter"]) == {"keras", "tf2onnx", "onnx", "opset"}
    assert 7 <= onnx["exporter"]["opset"] <= 21  # what onnxruntime-web 1.30's WebAssembly backend runs
    for part in ("encoder", "decoder"):
        entry = onnx[part]
        assert set(entry) == {"file", "sha256", "inputs", "outputs"}
        assert entry["file"] == f"{part}.onnx"
        assert entry["sha256"] == sha256_of(bundle_dir / entry["file"])
        assert (entry["inputs"], entry["outputs"]) == tensor_names(bundle_dir / entry["file"])
    assert len(onnx["encoder"]["outputs"]) == 2 and len(onnx["decoder"]["outputs"]) == 1


def test_tiny_bundle_onnx_matches_keras_on_256_points_and_images(bundle_dir):
    bundle = load_bundle(bundle_dir)
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((256, 2)) * 3).astype(np.float32)
    _assert_parity(bundle, z, rng.random((256, 28, 28, 1), dtype=np.float32))


def test_batch_dimension_is_dynamic(bundle_dir):
    bundle = load_bundle(bundle_dir)
    for n in (1, 7):
        (decoded,) = _run(bundle.browser_models["decoder"], np.zeros((n, 2), np.float32))
        assert decoded.shape == (n, 28, 28, 1)


def test_shipped_2d_bundle_onnx_matches_keras_on_256_points_and_test_images():
    bundle = load_bundle(ARTIFACTS / "fashion-mnist-2d")  # also verifies the committed files' checksums
    assert bundle.browser_models is not None, "python -m vae_core export-onnx artifacts/fashion-mnist-2d"
    rng = np.random.default_rng(0)
    # Points where the map is: the spread of the encoded test set, and a little beyond it.
    z = (rng.standard_normal((256, 2)) * bundle.z_mean.std(axis=0) * 1.5).astype(np.float32)
    images, _ = load_test_images(ARTIFACTS)
    picked = images[rng.choice(len(images), 256, replace=False)].astype(np.float32)[..., None] / 255.0
    _assert_parity(bundle, z, picked)


@pytest.mark.parametrize("name", ["fashion-mnist-2d", "fashion-mnist-16d"])
def test_shipped_bundles_carry_verified_browser_models(name):
    manifest = json.loads((ARTIFACTS / name / "manifest.json").read_text())
    assert manifest["schema_version"] == 2
    for part in ("encoder", "decoder"):
        entry = manifest["onnx"][part]
        assert sha256_of(ARTIFACTS / name / entry["file"]) == entry["sha256"]


# ---------------------------------------------------------------------------- load


def test_loaded_bundle_exposes_absolute_paths_and_tensor_names(bundle_dir):
    models = load_bundle(bundle_dir).browser_models
    assert set(models) == {"encoder", "decoder"}
    decoder = models["decoder"]
    assert decoder.file.is_absolute() and decoder.file == (bundle_dir / "decoder.onnx").resolve()
    assert models["decoder"].inputs == ("z",) and models["encoder"].inputs == ("images",)


def test_tampered_onnx_is_refused_with_the_fix(copy):
    data = bytearray((copy / "decoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "decoder.onnx").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"decoder.onnx does not match its SHA-256.*vae_core export-onnx"):
        load_bundle(copy)


def test_missing_onnx_is_refused_with_the_fix(copy):
    (copy / "encoder.onnx").unlink()
    with pytest.raises(BundleError, match=r"encoder.onnx is missing.*python -m vae_core export-onnx"):
        load_bundle(copy)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("file", "../decoder.onnx", "plain .onnx file name"),
        ("sha256", "abc", "64 lowercase hex"),
        ("outputs", [], "should list 1 tensor name"),
    ],
)
def test_malformed_onnx_entry_is_refused(copy, field, value, message):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["onnx"]["decoder"][field] = value
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message):
        load_bundle(copy)


def test_version_1_bundle_loads_without_browser_models(tmp_path):
    bundle = load_bundle(_v1_bundle(tmp_path / "old"))
    assert bundle.browser_models is None
    assert keras_networks(bundle).decode(np.zeros((1, 2), np.float32)).shape == (1, 28, 28, 1)


# ---------------------------------------------------------------------------- export-onnx


def test_export_onnx_upgrades_a_version_1_bundle_and_is_idempotent(tmp_path, capsys):
    path = _v1_bundle(tmp_path / "old")
    command = json.loads((path / "manifest.json").read_text())["command"]
    assert main(["export-onnx", str(path)]) == 0
    assert "wrote encoder.onnx (" in capsys.readouterr().out
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["schema_version"] == 2 and manifest["command"] == command  # still the training command
    assert manifest["onnx_added"]["command"] == f"python -m vae_core export-onnx {path}"
    assert load_bundle(path).browser_models["decoder"].sha256 == manifest["onnx"]["decoder"]["sha256"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]  # no temporary folder left behind

    before = {p.name: p.read_bytes() for p in path.iterdir()}
    assert main(["export-onnx", str(path)]) == 0
    assert "browser models present and verified" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before


def test_export_onnx_repairs_a_tampered_file(copy):
    (copy / "encoder.onnx").write_bytes(b"not onnx")
    assert add_browser_models(copy)[:2] == ["encoder.onnx", "decoder.onnx"]
    assert load_bundle(copy).browser_models is not None


def test_interrupted_export_onnx_leaves_the_bundle_as_it_was(tmp_path, monkeypatch):
    import vae_core.browser_models as browser_models

    path = _v1_bundle(tmp_path / "old")
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    def crash_after_the_encoder(model, file):
        if file.name == "decoder.onnx":
            file.write_bytes(b"half")
            raise KeyboardInterrupt
        real_export(model, file)

    real_export = browser_models.export_onnx
    monkeypatch.setattr(browser_models, "export_onnx", crash_after_the_encoder)
    with pytest.raises(KeyboardInterrupt):
        add_browser_models(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_export_onnx_of_a_missing_bundle_is_one_clear_line(tmp_path, capsys):
    assert main(["export-onnx", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert "No bundle folder" in err and "Traceback" not in err


def test_list_says_which_bundles_decode_in_the_browser(bundle_dir, tmp_path, capsys):
    _v1_bundle(tmp_path / "old")
    shutil.copytree(bundle_dir, tmp_path / "new")
    assert main(["list", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("new") and "browser models" in line for line in lines)
    assert any(line.startswith("old") and "server decoding only" in line for line in lines)
