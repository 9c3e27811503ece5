"""The app's server runs the bundle's ONNX models with ONNX Runtime (vae_core.onnx_models): the
same numbers as Keras, the same door (vae_core.evaluate.Networks), and one clear line when a
bundle cannot be served that way."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.conftest import keras_networks, make_bundle
from vae_core.atomic import sha256_file
from vae_core.bundle import load_bundle, load_test_images
from vae_core.evaluate import elbo_terms
from vae_core.manifest import BundleError
from vae_core.onnx_models import load_onnx_networks, logits_model

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("artifacts") / "tiny-2d", browser_models=True)


def _probes(bundle, rng):
    z = bundle.z_mean
    points = rng.uniform(z.min(0) - 1, z.max(0) + 1, (256, bundle.latent_dim)).astype(np.float32)
    images, _ = load_test_images(ARTIFACTS)
    picked = images[rng.choice(len(images), 256, replace=False)][..., None].astype(np.float32) / 255.0
    return points, picked


@pytest.mark.parametrize("name", ["fashion-mnist-2d", "fashion-mnist-16d"])
def test_onnx_serving_matches_keras_on_256_points_and_images(name):
    bundle = load_bundle(ARTIFACTS / name)
    served, keras = load_onnx_networks(bundle), keras_networks(bundle)
    points, images = _probes(bundle, np.random.default_rng(0))
    assert np.abs(served.decode(points) - keras.decode(points)).max() <= 1e-5
    for a, b in zip(served.encode(images), keras.encode(images), strict=True):
        assert np.abs(a - b).max() <= 1e-4
    # -ELBO's parts per image, with the same posterior samples: within a thousandth of a nat
    (recon_a, kl_a), (recon_b, kl_b) = (elbo_terms(n, images, bundle.prior, seed=3) for n in (served, keras))
    assert np.abs(recon_a - recon_b).max() <= 1e-3 and np.abs(kl_a - kl_b).max() <= 1e-4


def test_the_logits_come_from_the_graph_without_its_sigmoid(tiny):
    bundle = load_bundle(tiny)
    proto = onnx.load(str(bundle.browser_models["decoder"].file))
    assert "Sigmoid" in {n.op_type for n in proto.graph.node}
    assert "Sigmoid" not in {n.op_type for n in logits_model(proto).graph.node}
    served = load_onnx_networks(bundle)
    z = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32) * 3
    logits = served.decode_logits(z)
    assert np.abs(logits - keras_networks(bundle).decode_logits(z)).max() <= 1e-4
    assert np.abs(1 / (1 + np.exp(-logits)) - served.decode(z)).max() <= 1e-6
    assert served.decode(z[0]).shape == (1, 28, 28, 1)  # one point as the app asks for it


def test_a_decoder_without_a_final_sigmoid_has_no_logits_graph(tiny):
    proto = onnx.load(str(tiny / "decoder.onnx"))
    for node in proto.graph.node:
        if node.op_type == "Sigmoid":
            node.op_type = "Relu"
    assert logits_model(proto) is None


def test_a_version_1_bundle_gets_one_line_with_the_export_onnx_command(tiny, tmp_path):
    copy = shutil.copytree(tiny, tmp_path / "old")
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["onnx"]
    (copy / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 1}))
    with pytest.raises(BundleError, match=r"no ONNX models.*`python -m vae_core export-onnx .*old`") as info:
        load_onnx_networks(load_bundle(copy))
    assert "\n" not in str(info.value)


def test_a_graph_onnx_runtime_cannot_run_is_a_bundle_error(tiny, tmp_path):
    copy = shutil.copytree(tiny, tmp_path / "odd")
    proto = onnx.load(str(copy / "decoder.onnx"))
    proto.graph.node[0].op_type = "NoSuchOp"
    onnx.save(proto, str(copy / "decoder.onnx"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["onnx"]["decoder"]["sha256"] = sha256_file(copy / "decoder.onnx")  # checksummed, yet odd
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"cannot be run \(.*export-onnx"):
        load_onnx_networks(load_bundle(copy))
