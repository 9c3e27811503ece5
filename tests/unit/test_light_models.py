"""Light models: what a visitor downloads is smaller and stays within the tolerances of the
float32 model; a bundle exported before them gains them without TensorFlow touching its ONNX files."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.conftest import keras_networks, make_bundle
from vae_core import light_models
from vae_core.browser_models import add_browser_models, probe_images
from vae_core.bundle import load_bundle, load_test_images
from vae_core.geometry import fit_projection
from vae_core.manifest import BundleError

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("artifacts")
    return make_bundle(root / "tiny-2d", browser_models=True, test_images=True)


def _run(file: Path, inputs: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: inputs.astype(np.float32)})


def test_lighten_stores_the_named_weights_smaller_and_keeps_biases(tiny):
    full = onnx.load(str(tiny / "decoder.onnx"))
    names = light_models.weights(full)
    assert names, "the tiny decoder has weight matrices above MIN_WEIGHTS"
    sizes = [int(np.prod(i.dims)) for i in full.graph.initializer if i.name in names]
    assert sorted(sizes, reverse=True) == [
        int(np.prod(i.dims)) for n in names for i in full.graph.initializer if i.name == n
    ]
    biases = [i.name for i in full.graph.initializer if len(i.dims) == 1]
    assert not set(biases) & set(names)
    for precision, dtype in (("int8", np.int8), ("float16", np.float16)):
        light = light_models.lighten(full, {name: precision for name in names})
        stored = {i.name: numpy_helper.to_array(i) for i in light.graph.initializer}
        assert all(stored[f"{name}/{precision}"].dtype == dtype for name in names)
        assert not set(names) & set(stored)  # the float32 copies are gone
        assert len(light.SerializeToString()) < len(full.SerializeToString())


def test_int8_is_one_scale_per_output_channel():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 8)).astype(np.float32) * np.arange(1, 9, dtype=np.float32)
    values, scale = light_models._int8(w, axis=1)
    assert values.dtype == np.int8 and scale.shape == (1, 8)
    assert np.abs(values).max() == 127
    assert np.abs(values * scale - w).max() <= scale.max() / 2 + 1e-6


def test_choose_keeps_float32_when_nothing_is_close_enough_and_goes_int8_when_anything_is(tiny):
    full = onnx.load(str(tiny / "decoder.onnx"))
    points, _ = light_models.probes(load_bundle(tiny).z_mean, None)
    error = light_models.decoder_error(points)
    assert light_models.choose(full, error, tolerance=0.0) is None  # float16 rounding is not 0
    light, precisions, worst = light_models.choose(full, error, tolerance=1.0)
    assert set(precisions.values()) == {"int8"} and 0 < worst <= 1.0


def test_probes_are_data_and_the_box_the_data_spans():
    z = np.random.default_rng(1).standard_normal((1000, 3)).astype(np.float32)
    points, images = light_models.probes(z, np.zeros((50, 4, 4, 1), np.float32))
    assert points.shape == (2 * light_models.PROBES, 3) and images.shape == (50, 4, 4, 1)
    head = {tuple(p) for p in points[: light_models.PROBES]}
    assert head <= {tuple(p) for p in z}
    box = points[light_models.PROBES :]
    assert np.all(box >= z.min(axis=0)) and np.all(box <= z.max(axis=0))


def test_exported_bundle_names_verified_light_models_within_tolerance(tiny):
    manifest = json.loads((tiny / "manifest.json").read_text())
    light = manifest["onnx"]["light"]
    assert set(light) == {"encoder", "decoder"}
    models = load_bundle(tiny).browser_models
    for part, tolerance in (
        ("decoder", light_models.DECODER_TOLERANCE),
        ("encoder", light_models.ENCODER_TOLERANCE),
    ):
        entry, model = light[part], models[part]
        assert model.light.file.name == entry["file"] == f"{part}.light.onnx"
        assert model.light.inputs == model.inputs and model.light.outputs == model.outputs
        assert 0 <= entry["max_error"] <= entry["tolerance"] == round(tolerance, 6)
        assert model.light.file.stat().st_size < model.file.stat().st_size


def test_a_tampered_light_model_is_refused_with_the_fix(tiny, tmp_path):
    copy = shutil.copytree(tiny, tmp_path / "copy")
    (copy / "decoder.light.onnx").write_bytes(b"\x08\x07")
    with pytest.raises(BundleError, match=r"decoder.light.onnx does not match its SHA-256.*export-onnx"):
        load_bundle(copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["onnx"]["light"] = {"decoder": "decoder.light.onnx"}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r'light should map "encoder" and "decoder" to objects'):
        load_bundle(copy)


def test_a_bundle_exported_before_light_models_gains_them_and_keeps_its_onnx_files(
    tiny, tmp_path, monkeypatch
):
    import vae_core.keras_models

    copy = shutil.copytree(tiny, tmp_path / "artifacts" / "old")
    shutil.copy(tiny.parent / "fashion-mnist-test.npz", tmp_path / "artifacts")
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["onnx"]["light"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    for part in ("encoder", "decoder"):
        (copy / f"{part}.light.onnx").unlink()
    before = {name: (copy / name).read_bytes() for name in ("encoder.onnx", "decoder.onnx")}

    def no_keras(path):
        pytest.fail(f"{path} was loaded: adding light copies needs no TensorFlow")

    monkeypatch.setattr(vae_core.keras_models, "load_model_file", no_keras)
    assert add_browser_models(copy) == ["decoder.light.onnx", "encoder.light.onnx"]
    assert {name: (copy / name).read_bytes() for name in before} == before
    assert load_bundle(copy).browser_models["decoder"].light is not None
    assert add_browser_models(copy) == []  # and then it is left alone


def test_probe_images_are_the_test_images_beside_the_bundle(tiny, tmp_path):
    images = probe_images(tiny)
    assert (
        images.dtype == np.float32
        and images.shape[1:] == (28, 28, 1)
        and 0 <= images.min() <= images.max() <= 1
    )
    (tmp_path / "lonely").mkdir()
    assert probe_images(tmp_path / "lonely") is None


@pytest.mark.parametrize("name", ["fashion-mnist-2d", "fashion-mnist-16d"])
def test_shipped_light_models_stay_within_tolerance_of_keras(name):
    """The issue's bar, against the float32 Keras model: pixels within 2/255 on 256 data points and
    256 points of the map's box; mu within 0.02 map units on 256 test images."""
    bundle = load_bundle(ARTIFACTS / name)
    decoder, encoder = bundle.browser_models["decoder"].light, bundle.browser_models["encoder"].light
    assert decoder is not None and encoder is not None, f"python -m vae_core export-onnx artifacts/{name}"
    rng = np.random.default_rng(7)  # other probes than the export measured on
    z = bundle.z_mean
    points = np.concatenate(
        [z[rng.choice(len(z), 256, replace=False)], rng.uniform(z.min(0), z.max(0), (256, z.shape[1]))]
    ).astype(np.float32)
    nets = keras_networks(bundle)
    (pixels,) = _run(decoder.file, points)
    assert np.abs(pixels - nets.decode(points)).max() <= light_models.DECODER_TOLERANCE
    images, _ = load_test_images(ARTIFACTS)
    picked = images[rng.choice(len(images), 256, replace=False)][..., None].astype(np.float32) / 255.0
    mu = _run(encoder.file, picked)[0]
    components = fit_projection(z.astype(np.float64)).components
    moved = np.linalg.norm((mu - nets.encode(picked)[0]) @ components.T, axis=1)
    assert moved.max() <= light_models.ENCODER_TOLERANCE
    assert decoder.file.stat().st_size <= 0.6 * bundle.browser_models["decoder"].file.stat().st_size
