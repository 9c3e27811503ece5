import json

import keras
import numpy as np
import pytest

import vae_core.bundle as bundle_module
from tests.conftest import keras_networks, make_bundle
from vae_core.bundle import list_bundles, load_bundle, load_test_images, save_test_images
from vae_core.manifest import BundleError, read_manifest


def load_networks(path):
    """The bundle and its Keras networks, as the CLI's evaluate loads them."""
    return keras_networks(load_bundle(path))


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("artifacts") / "tiny-2d")


@pytest.fixture
def broken(bundle_dir, tmp_path):
    """A fresh copy of the good bundle, to damage in one way."""
    import shutil

    return shutil.copytree(bundle_dir, tmp_path / "broken")


def test_round_trip_gives_identical_decodes(bundle_dir):
    b = load_bundle(bundle_dir)
    z = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    reloaded = keras.saving.load_model(bundle_dir / "decoder.keras", safe_mode=True)
    decoded = keras_networks(b).decode(z)
    np.testing.assert_array_equal(np.asarray(reloaded(z)), decoded)
    assert decoded.shape == (5, 28, 28, 1)
    assert b.latent_dim == 2 and b.z_mean.shape == (200, 2) and b.labels.dtype == np.uint8


def test_manifest_follows_the_contract(bundle_dir):
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    for field in (
        "schema_version",
        "name",
        "latent_dim",
        "config",
        "architecture",
        "metrics",
        "versions",
        "created",
    ):
        assert field in manifest
    assert manifest["prior"] == {"type": "standard_normal"}
    with np.load(bundle_dir / "latents.npz", allow_pickle=False) as latents:
        assert set(latents.files) == {"z_mean", "z_log_var", "labels"}
        assert latents["z_mean"].dtype == np.float32


def test_list_bundles_skips_hidden_and_incomplete_folders(bundle_dir):
    (bundle_dir.parent / ".tiny-2d.work").mkdir(exist_ok=True)
    (bundle_dir.parent / "empty").mkdir(exist_ok=True)
    assert list_bundles(bundle_dir.parent) == [bundle_dir]


def _set_manifest(path, **changes):
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del manifest[key]
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_missing_bundle_says_how_to_make_one(tmp_path):
    with pytest.raises(BundleError, match="No bundle folder.*python -m vae_core train"):
        load_bundle(tmp_path / "nothing")


def test_missing_model_file(broken):
    (broken / "decoder.keras").unlink()
    with pytest.raises(BundleError, match="decoder.keras is missing"):
        load_networks(broken)


def test_corrupt_keras_zip(broken):
    (broken / "encoder.keras").write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(BundleError, match="encoder.keras could not be loaded"):
        load_networks(broken)


def test_manifest_missing_fields(broken):
    _set_manifest(broken, latent_dim=None)
    with pytest.raises(BundleError, match="lacks the field.*latent_dim"):
        read_manifest(broken)


def test_unknown_schema_version(broken):
    _set_manifest(broken, schema_version=99)
    with pytest.raises(BundleError, match="schema version 99.*reads version 1 or 2"):
        read_manifest(broken)


def test_latent_dim_disagreeing_between_files(broken):
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["latent_dim"] = 3
    manifest["config"]["latent_dim"] = 3
    (broken / "manifest.json").write_text(json.dumps(manifest))
    expected = r"z_mean has shape \(200, 2\), expected \(n, 3\) \(3 is the manifest's latent_dim\)"
    with pytest.raises(BundleError, match=expected):
        load_bundle(broken)


def test_nan_weights_are_refused(broken):
    decoder = keras.saving.load_model(broken / "decoder.keras")
    weights = decoder.get_weights()
    weights[0][...] = np.nan
    decoder.set_weights(weights)
    decoder.save(broken / "decoder.keras")
    with pytest.raises(BundleError, match="NaN or infinite weights"):
        load_networks(broken)


def test_pickled_latents_are_refused(broken):
    np.savez(
        broken / "latents.npz",
        z_mean=np.array([{"evil": 1}], dtype=object),
        z_log_var=np.zeros((1, 2)),
        labels=np.zeros(1),
    )
    with pytest.raises(BundleError, match="refused.*plain numeric arrays"):
        load_bundle(broken)


def test_export_killed_mid_write_leaves_the_previous_bundle(bundle_dir, monkeypatch):
    before = (bundle_dir / "manifest.json").read_text()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle_module.np, "savez_compressed", killed)
    with pytest.raises(KeyboardInterrupt):
        make_bundle(bundle_dir, seed=1)
    assert (bundle_dir / "manifest.json").read_text() == before
    assert load_bundle(bundle_dir).latent_dim == 2
    assert not [p for p in bundle_dir.parent.iterdir() if ".tmp-" in p.name]


def test_re_export_replaces_the_bundle_atomically(tmp_path):
    path = make_bundle(tmp_path / "b", seed=0)
    first = load_bundle(path).z_mean.copy()
    make_bundle(path, seed=1)
    assert not np.array_equal(load_bundle(path).z_mean, first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_mixture_prior_round_trip(tmp_path):
    from vae_core.density import Prior
    from vae_core.export import export_bundle

    src = load_bundle(make_bundle(tmp_path / "src"))
    nets = keras_networks(src)
    prior = Prior(np.array([0.25, 0.75]), np.zeros((2, 2)), np.zeros((2, 2)))
    export_bundle(
        tmp_path / "mix",
        encoder=nets.encoder,
        decoder=nets.decoder,
        config=src.config,
        z_mean=src.z_mean,
        z_log_var=src.z_log_var,
        labels=src.labels,
        history=[],
        metrics=src.metrics,
        prior=prior,
    )
    loaded = load_bundle(tmp_path / "mix")
    assert loaded.manifest["prior"]["type"] == "gaussian_mixture"
    np.testing.assert_array_equal(loaded.prior.weights, prior.weights)


def test_test_images_round_trip_and_errors(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    save_test_images(tmp_path, images, np.arange(10, dtype=np.uint8))
    loaded, labels = load_test_images(tmp_path)
    np.testing.assert_array_equal(loaded, images)
    with pytest.raises(BundleError, match="missing"):
        load_test_images(tmp_path / "elsewhere")
