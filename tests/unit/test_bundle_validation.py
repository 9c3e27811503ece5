"""Doctored bundles (issue 15): schema of manifest.json and history.json, array headers checked
before any data is read, files and linked folders that point outside the bundle."""

from __future__ import annotations

import io
import json
import shutil
import tracemalloc
import zipfile

import numpy as np
import pytest

from tests.conftest import keras_networks, make_bundle
from vae_core.bundle import load_bundle, load_test_images
from vae_core.manifest import BundleError, read_manifest

SHA = "ab" * 32


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("artifacts") / "tiny-2d")


@pytest.fixture
def broken(good, tmp_path):
    """A fresh copy of the good bundle, to damage in one way."""
    return shutil.copytree(good, tmp_path / "artifacts" / "broken")


def edit_manifest(path, change):
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def onnx_entry() -> dict:
    model = {"file": "decoder.onnx", "sha256": SHA, "inputs": ["z"], "outputs": ["Identity:0"]}
    encoder = {**model, "file": "encoder.onnx", "inputs": ["images"]}
    return {"encoder": encoder, "decoder": model, "exporter": {"keras": "3.15.1"}}


def _metric(**values):
    return lambda m: m["metrics"].update(values)


BAD_MANIFESTS = {  # case -> (how the manifest is doctored, what the message says)
    "metric-string": (
        _metric(test_neg_elbo_nats="abc"),
        "field metrics.test_neg_elbo_nats should be a number, not 'abc'",
    ),
    "latent-dim-string": (
        lambda m: m.update(latent_dim="2"),
        "field latent_dim should be an integer, not '2'",
    ),
    "config-latent-dim-string": (
        lambda m: m["config"].update(latent_dim="2"),
        "field config.latent_dim should be an integer, not '2'",
    ),
    "accuracy-range": (_metric(knn5_accuracy=1.5), "field metrics.knn5_accuracy is 1.5, should be at most 1"),
    "missing-metric": (
        lambda m: m["metrics"].pop("knn5_accuracy"),
        "lacks the field(s) knn5_accuracy in metrics",
    ),
    "missing-name": (lambda m: m.pop("name"), "lacks the field(s) name"),
    "name-type": (lambda m: m.update(name=["x"]), "field name should be a string, not ['x']"),
    "prior-type": (lambda m: m.update(prior={"type": "![](http://x)"}), "field prior.type should be one of"),
    "prior-escape": (
        lambda m: m.update(prior={"type": "gaussian_mixture", "file": "../../outside.npz"}),
        "field prior.file is '../../outside.npz': a file in the bundle is named plainly",
    ),
    "prior-absolute": (
        lambda m: m.update(prior={"type": "gaussian_mixture", "file": "/etc/passwd"}),
        "named plainly",
    ),
    "kl-strings": (_metric(kl_per_dimension=["a", "b"]), "should be a number, not 'b'"),
    "training-seconds": (
        lambda m: m.update(training={"seconds": "?"}),
        "field training.seconds should be a number",
    ),
    "version-string": (lambda m: m.update(schema_version="1"), "schema version '1'"),
}


@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_a_manifest_failing_the_schema_gets_one_line_naming_the_field(broken, case):
    change, expected = BAD_MANIFESTS[case]
    edit_manifest(broken, change)
    with pytest.raises(BundleError) as err:
        read_manifest(broken)
    message = str(err.value)
    assert expected in message and "\n" not in message and "python -m vae_core train --out" in message


def test_the_latent_dim_mismatch_message_is_not_misleading(broken):
    edit_manifest(broken, lambda m: m.update(latent_dim="2"))
    with pytest.raises(BundleError) as err:
        read_manifest(broken)
    assert "says latent_dim 2 but its config says 2" not in str(err.value)


@pytest.mark.parametrize("onnx", [None, onnx_entry()], ids=["without-onnx", "with-onnx"])
def test_schema_versions_1_and_2_are_read(broken, onnx):
    edit_manifest(broken, lambda m: m.update(schema_version=2, **({"onnx": onnx} if onnx else {})))
    assert read_manifest(broken)["schema_version"] == 2


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ({"loss": "x"}, "history.json: the file should be a list, not {'loss': 'x'}"),
        ([{"epoch": 1, "loss": "x"}], "history.json: field [0].loss should be a number or null, not 'x'"),
        ([{"epoch": "one"}], "field [0].epoch should be an integer"),
    ],
)
def test_a_bad_history_is_refused_with_a_message(broken, history, expected):
    (broken / "history.json").write_text(json.dumps(history))
    with pytest.raises(BundleError, match="python -m vae_core train") as err:
        load_bundle(broken)
    assert expected in str(err.value)


def npz_declaring(arrays: dict[str, tuple[tuple[int, ...], str]]) -> bytes:
    """An .npz whose members declare (shape, dtype) in their headers but hold only 16 data bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, (shape, dtype) in arrays.items():
            header = io.BytesIO()
            descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
            fields = {"descr": descr, "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(header, fields)
            archive.writestr(f"{key}.npy", header.getvalue() + b"\0" * 16)
    return buf.getvalue()


def test_a_huge_declared_array_is_refused_before_reading_data(broken):
    (broken / "latents.npz").write_bytes(
        npz_declaring(
            {
                "z_mean": ((200_000_000, 2), "<f4"),
                "z_log_var": ((200_000_000, 2), "<f4"),
                "labels": ((200_000_000,), "|u1"),
            }
        )
    )
    tracemalloc.start()
    try:
        with pytest.raises(BundleError) as err:
            load_bundle(broken)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "declares 200,000,000 rows, more than the 10,000 allowed" in str(err.value)
    assert peak < 200e6  # nowhere near the 1.6 GB the header asks for


def latents(z_mean=((5, 2), "<f4"), labels=((5,), "|u1")) -> dict:
    return {"z_mean": z_mean, "z_log_var": ((5, 2), "<f4"), "labels": labels}


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        (latents(labels=((6,), "|u1")), "another array has 5 rows"),
        (latents(z_mean=((5, 3), "<f4")), "expected (n, 2)"),
        (latents(z_mean=((5, 2), "<c8")), "dtype complex64"),
        (latents(z_mean=((5, 2), "|O")), "dtype object, which was refused"),
    ],
)
def test_wrong_shapes_and_dtypes_are_refused_from_the_headers(broken, arrays, expected):
    (broken / "latents.npz").write_bytes(npz_declaring(arrays))
    with pytest.raises(BundleError) as err:
        load_bundle(broken)
    assert expected in str(err.value) and "latents.npz" in str(err.value)


def test_test_images_bound_too(tmp_path):
    (tmp_path / "fashion-mnist-test.npz").write_bytes(
        npz_declaring({"images": ((10**9, 28, 28), "|u1"), "labels": ((10**9,), "|u1")})
    )
    with pytest.raises(BundleError, match="declares 1,000,000,000 rows"):
        load_test_images(tmp_path)


def test_a_prior_file_linked_outside_the_bundle_is_refused(broken, tmp_path):
    outside = tmp_path / "outside.npz"
    np.savez(outside, weights=np.ones(1), means=np.zeros((1, 2)), log_vars=np.zeros((1, 2)))
    (broken / "prior.npz").symlink_to(outside)
    edit_manifest(broken, lambda m: m.update(prior={"type": "gaussian_mixture", "file": "prior.npz"}))
    with pytest.raises(BundleError, match="prior.npz lies outside the bundle folder"):
        load_bundle(broken)


def test_a_model_file_linked_outside_the_bundle_is_refused(broken, tmp_path):
    shutil.move(broken / "decoder.keras", tmp_path / "decoder.keras")
    (broken / "decoder.keras").symlink_to(tmp_path / "decoder.keras")
    with pytest.raises(BundleError, match="decoder.keras lies outside the bundle folder"):
        keras_networks(load_bundle(broken))


def test_a_bundle_linked_from_outside_the_artifacts_folder_needs_permission(good, tmp_path, monkeypatch):
    root = tmp_path / "artifacts"
    root.mkdir()
    (root / "linked").symlink_to(good, target_is_directory=True)
    monkeypatch.delenv("VAE_ALLOW_EXTERNAL_BUNDLES", raising=False)
    with pytest.raises(BundleError, match="links to a folder outside .* set VAE_ALLOW_EXTERNAL_BUNDLES=1"):
        load_bundle(root / "linked")
    assert read_manifest(root / "linked", allow_external=True)["name"] == "tiny-2d"
    monkeypatch.setenv("VAE_ALLOW_EXTERNAL_BUNDLES", "1")
    assert load_bundle(root / "linked").latent_dim == 2


def test_a_bundle_linked_within_the_artifacts_folder_is_fine(good, tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_ALLOW_EXTERNAL_BUNDLES", raising=False)
    root = tmp_path / "artifacts"
    shutil.copytree(good, root / "versions" / "tiny-2d-v1")
    (root / "current").symlink_to(root / "versions" / "tiny-2d-v1", target_is_directory=True)
    assert read_manifest(root / "current")["latent_dim"] == 2


def test_a_truncated_keras_file_is_not_called_missing(broken):
    data = (broken / "decoder.keras").read_bytes()
    (broken / "decoder.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError) as err:
        keras_networks(load_bundle(broken))
    message = str(err.value)
    assert "decoder.keras could not be loaded as a Keras 3 model: it is not a complete zip archive" in message
    assert "not found" not in message.lower()


def test_an_oversized_manifest_is_refused_unread(broken):
    (broken / "manifest.json").write_text(" " * 2_000_000 + "{}")
    with pytest.raises(
        BundleError, match="manifest.json is 2,000,002 bytes, more than the 1,000,000 allowed"
    ):
        read_manifest(broken)


@pytest.fixture(scope="module")
def with_factors(tmp_path_factory):
    data = {
        "class_names": ["a", "b"],
        "factors": {
            "shape": {"kind": "categorical", "names": ["a", "b"]},
            "x": {"kind": "continuous", "min": 0.0, "max": 1.0},
        },
    }
    factors = {"shape": np.arange(20) % 2, "x": np.linspace(0, 1, 20).astype(np.float32)}
    return make_bundle(
        tmp_path_factory.mktemp("f") / "sprites", n=20, image_shape=(8, 8, 1), data=data, factors=factors
    )


def test_a_bundles_factor_values_are_read_and_damaged_ones_refused(with_factors, tmp_path):
    from vae_core.bundle import BUNDLE_TEST_IMAGES, bundle_factors

    good = bundle_factors(load_bundle(with_factors))
    assert list(good) == ["shape", "x"] and good["x"][-1] == 1.0 and good["shape"].tolist()[:3] == [0, 1, 0]
    for name, values, expected in (
        ("x", np.full(20, np.nan, np.float32), "finite numbers"),
        ("shape", np.full(20, 7), "indices into its 2 names"),
        ("x", np.zeros(3, np.float32), "shape"),
    ):
        copy = tmp_path / f"{name}-{expected[:5]}"
        shutil.copytree(with_factors, copy)
        with np.load(copy / BUNDLE_TEST_IMAGES) as arrays:
            columns = {k: arrays[k] for k in arrays.files}
        np.savez(copy / BUNDLE_TEST_IMAGES, **{**columns, f"y_{name}": values})
        with pytest.raises(BundleError, match=expected):
            bundle_factors(load_bundle(copy))


@pytest.mark.parametrize(
    "factors",
    [
        {"<b>x</b>": {"kind": "continuous", "min": 0, "max": 1}},  # a name that is not a plain name
        {"x": {"kind": "continuous", "min": 0}},  # no max
        {"shape": {"kind": "categorical", "names": []}},
        {"x": {"kind": "colour"}},
    ],
)
def test_a_manifest_with_malformed_factors_is_refused(with_factors, tmp_path, factors):
    copy = tmp_path / "bad"
    shutil.copytree(with_factors, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["data"]["factors"] = factors
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="factors"):
        read_manifest(copy)
