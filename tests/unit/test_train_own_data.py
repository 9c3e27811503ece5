"""Training on your own images end to end: `train --data` on small sets the tests make (colour
shapes, 8x8 grey blobs, 20x20 IDX, 64x64 unlabelled colour), one short epoch each, then the bundle:
schema 3, its data block, its test images, decoder shape, ONNX against Keras, `evaluate`, `list`."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from harness.image_sets import coloured_shapes, grey_blobs_npz, idx_set, unlabelled_colour
from tests.conftest import keras_networks
from vae_core.bundle import bundle_test_images, load_bundle
from vae_core.cli import main

pytestmark = pytest.mark.slow

SETS = {
    "shapes": (lambda root: coloured_shapes(root / "shapes", per_class=12), (32, 32, 3), 3),
    "blobs": (lambda root: grey_blobs_npz(root / "blobs.npz"), (8, 8, 1), 2),
    "bars": (lambda root: idx_set(root / "bars", size=20), (20, 20, 1), 4),
    "plain": (lambda root: unlabelled_colour(root / "plain", n=30), (64, 64, 3), None),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each set trained for one epoch into artifacts/<name>: {name: bundle path}."""
    root = tmp_path_factory.mktemp("own")
    out = {}
    for name, (make, _, _) in SETS.items():
        source = make(root)
        bundle = root / "artifacts" / name
        args = ["train", "--data", str(source), "--epochs", "1", "--width", "8", "--iw-samples", "2"]
        assert main([*args, "--out", str(bundle)]) == 0
        out[name] = bundle
    return out


@pytest.mark.parametrize("name", list(SETS))
def test_the_bundle_describes_its_data_set(trained, name):
    _, shape, classes = SETS[name]
    manifest = json.loads((trained[name] / "manifest.json").read_text())
    data = manifest["data"]
    assert manifest["schema_version"] == 3 and manifest["config"]["image_shape"] == list(shape)
    assert data["image_shape"] == list(shape) and data["name"] == name.replace(".npz", "")
    assert (data["class_names"] is None) == (classes is None)
    assert classes is None or len(data["class_names"]) == classes
    assert data["floor_nats"] >= 0 and data["n_test"] >= 1 and data["background"] in ("dark", "light")
    assert (manifest["metrics"]["knn5_accuracy"] is None) == (classes is None)
    bundle = load_bundle(trained[name])
    assert bundle.data.own and bundle.data.image_shape == shape
    images = bundle_test_images(bundle)
    assert images.shape == (data["n_test"], *shape) and images.dtype == np.uint8


@pytest.mark.parametrize("name", list(SETS))
def test_decoder_shape_and_onnx_parity_at_the_new_shape(trained, name):
    bundle = load_bundle(trained[name])
    _, shape, _ = SETS[name]
    nets = keras_networks(bundle)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((256, bundle.latent_dim)).astype(np.float32) * 2
    images = rng.random((64, *shape), dtype=np.float32)
    keras_pixels = nets.decode(z)
    assert keras_pixels.shape == (256, *shape)
    for model in (bundle.browser_models["decoder"], bundle.browser_models["encoder"]):
        session = ort.InferenceSession(str(model.file), providers=["CPUExecutionProvider"])
        feed = z if model is bundle.browser_models["decoder"] else images
        out = session.run(list(model.outputs), {model.inputs[0]: feed})
        reference = [keras_pixels] if len(out) == 1 else list(nets.encode(images))
        for a, b in zip(out, reference, strict=True):
            assert np.abs(a - b).max() <= 1e-4


def test_evaluate_and_list_read_an_own_data_bundle(trained, capsys):
    assert main(["evaluate", str(trained["shapes"]), "--iw-samples", "2"]) == 0
    out = capsys.readouterr().out
    assert "test -ELBO" in out and "pass --data" in out  # 5-NN needs the training images
    assert main(["list", str(trained["shapes"].parent)]) == 0
    listing = capsys.readouterr().out
    assert "plain" in listing and "n/a" in listing  # the unlabelled set has no 5-NN


def test_fashion_mnist_bundles_keep_their_schema(tmp_path):
    """Without --data nothing changes: the data block stays the old one (no image_shape)."""
    from vae_core.config import VAEConfig
    from vae_core.manifest import build_manifest

    plain = build_manifest(
        "x",
        VAEConfig(),
        metrics={"test_neg_elbo_nats": 1, "test_recon_bce_nats": 1, "test_kl_nats": 0, "knn5_accuracy": 0.5},
        architecture={},
        data={"source": "/usr/share/datasets/fashion-mnist", "sha256": {}},
    )
    assert plain["schema_version"] == 2
