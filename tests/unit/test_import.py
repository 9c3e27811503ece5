"""`python -m vae_core import` (issue 24) on small models in the shapes of the references
(harness.reference_vaes): keras.io's conv VAE (.keras, its own Sampling class), a Chollet-style
notebook's dense VAE (.h5 with a Lambda), a course's SampleLayer + MSE model in [-1, 1], and an
ONNX pair written the way PyTorch exports one. Each imports into an ordinary bundle; each
mismatched pair is refused with its message and nothing written."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from harness import reference_vaes as ref
from harness.image_sets import grey_blobs_npz
from vae_core.bundle import load_bundle
from vae_core.cli import main
from vae_core.onnx_models import load_onnx_networks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{reference: (encoder file, decoder file, extra flags)} and the data they were trained on."""
    root = tmp_path_factory.mktemp("import")
    data = grey_blobs_npz(root / "blobs.npz", n_train=200, n_test=60, size=28)
    images = (np.load(data)["x_train"][..., None] / 255.0).astype(np.float32)
    built = {
        "keras_io": (
            *ref.keras_io(root / "keras_io", images),
            ["--custom-objects", str(root / "keras_io" / "my_layers.py")],
        ),
        "notebook": (*ref.notebook(root / "notebook", images), ["--trust-code"]),
        "course": (
            *ref.course(root / "course", images),
            ["--custom-objects", str(root / "course" / "my_layers.py")],
        ),
        "onnx": (*ref.onnx_graph(root / "onnx", images), []),
    }
    return root, data, built


def run_import(capsys, data, encoder, decoder, out, *flags) -> tuple[int, str]:
    argv = [
        "import",
        "--encoder",
        str(encoder),
        "--decoder",
        str(decoder),
        "--out",
        str(out),
        "--data",
        str(data),
    ]
    code = main([*argv, "--iw-samples", "2", *flags])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture(scope="module")
def imported(models):
    """Each reference imported with its flags: {reference: bundle path}."""
    root, data, built = models
    out = {}
    for name, (encoder, decoder, flags) in built.items():
        bundle = root / "artifacts" / name
        argv = ["import", "--encoder", str(encoder), "--decoder", str(decoder), "--out", str(bundle)]
        assert main([*argv, "--data", str(data), "--iw-samples", "2", *flags]) == 0, name
        out[name] = bundle
    return out


DETECTED = {  # what each reference's conventions are, as its code writes them
    "keras_io": {
        "encoder_outputs": "triple",
        "sigma": "log_var",
        "image_input": "hwc",
        "pixel_range": "unit",
        "decoder_output": "probs",
    },
    "notebook": {
        "encoder_outputs": "triple",
        "sigma": "log_var",
        "image_input": "flat",
        "pixel_range": "unit",
        "decoder_output": "probs",
    },
    "course": {"encoder_outputs": "triple", "sigma": "std", "image_input": "hw", "pixel_range": "signed"},
    "onnx": {
        "encoder_outputs": "concatenated",
        "sigma": "log_var",
        "image_input": "chw",
        "pixel_range": "unit",
        "decoder_output": "logits",
    },
}


@pytest.mark.parametrize("name", list(DETECTED))
def test_each_reference_imports_with_its_conventions_detected_and_stated(models, imported, name):
    manifest = json.loads((imported[name] / "manifest.json").read_text())
    conventions = manifest["imported"]["conventions"]
    for key, value in DETECTED[name].items():
        assert conventions[key]["value"] == value, (key, conventions[key])
        assert conventions[key]["how"], key
    assert conventions["latent_dim"]["value"] == 2
    encoder, decoder, flags = models[2][name]
    source = manifest["imported"]
    assert source["encoder"]["file"] == encoder.name and len(source["encoder"]["sha256"]) == 64
    assert source["format"] == ("onnx" if name == "onnx" else "keras")
    assert source["trust_code"] == ("--trust-code" in flags)
    assert manifest["config"]["preset"] == "imported" and manifest["config"]["image_shape"] == [28, 28, 1]
    metrics = manifest["metrics"]
    assert np.isfinite(metrics["test_neg_elbo_nats"]) and metrics["test_neg_elbo_nats"] > 0
    assert "Bernoulli -ELBO on [0, 1] pixels" in metrics["likelihood_note"]
    assert len(metrics["kl_per_dimension"]) == 2 and metrics["knn5_accuracy"] is not None
    assert json.loads((imported[name] / "history.json").read_text()) == []


@pytest.mark.parametrize("name", list(DETECTED))
def test_the_bundle_serves_the_source_models_numbers(models, imported, name):
    """The bundle's ONNX models (what the app runs) give the source decoder's images in [0, 1]."""
    from vae_core.import_bundle import load_source
    from vae_core.importer import custom_objects_from, detect, source_means

    encoder, decoder, flags = models[2][name]
    custom = custom_objects_from(encoder.parent / "my_layers.py") if "--custom-objects" in flags else {}
    bundle = load_bundle(imported[name])
    served = load_onnx_networks(bundle)
    source_dec = load_source(decoder, custom, "--trust-code" in flags)
    source_enc = load_source(encoder, custom, "--trust-code" in flags)
    images = (np.load(models[1])["x_test"][:16, ..., None] / 255.0).astype(np.float32)
    conv = detect(source_enc, source_dec, images)
    z = np.random.default_rng(1).standard_normal((32, 2)).astype(np.float32)
    np.testing.assert_allclose(served.decode(z), source_means(source_dec, conv, z, (28, 28, 1)), atol=1e-4)


def test_the_bundles_keras_models_load_in_safe_mode_without_the_users_code(imported):
    import keras

    for name in ("keras_io", "notebook", "course"):
        for part in ("encoder", "decoder"):
            model = keras.saving.load_model(imported[name] / f"{part}.keras", safe_mode=True, compile=False)
            assert model is not None
    assert not (imported["onnx"] / "encoder.keras").exists()  # an ONNX pair's bundle needs no Keras


def test_evaluate_and_list_treat_imported_bundles_like_any_other(models, imported, capsys):
    root, data, _ = models
    for name in ("onnx", "course"):
        assert main(["evaluate", str(imported[name]), "--data", str(data), "--iw-samples", "2"]) == 0
        assert "test -ELBO" in capsys.readouterr().out
    assert main(["list", str(root / "artifacts")]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in DETECTED) and "BROKEN" not in listing


def test_custom_layers_are_refused_until_the_user_opts_in(models, capsys):
    root, data, built = models
    encoder, decoder, _ = built["keras_io"]
    code, said = run_import(capsys, data, encoder, decoder, root / "no" / "kio")
    assert code == 1 and "needs the layer class(es) Sampling" in said and "--custom-objects" in said
    encoder, decoder, _ = built["notebook"]
    code, said = run_import(capsys, data, encoder, decoder, root / "no" / "nb")
    assert code == 1 and "layer 'z' is a Lambda layer" in said
    assert "--custom-objects" in said and "--trust-code" in said
    assert not (root / "no").exists()


def test_mismatched_pairs_are_refused_with_what_differs(models, tmp_path, capsys):
    root, data, built = models
    images = (np.load(data)["x_train"][..., None] / 255.0).astype(np.float32)
    out = tmp_path / "artifacts" / "x"
    # latent sizes: a 2-D encoder with a 3-D decoder
    _, decoder3 = ref.onnx_graph(tmp_path / "three", images, latent_dim=3)
    code, said = run_import(capsys, data, built["onnx"][0], decoder3, out)
    assert code == 1 and "latent code of 2 numbers, the decoder takes 3" in said
    # output shapes: a decoder of 32x32 images for 28x28 data
    big = np.zeros((8, 32, 32, 1), np.float32)
    big[:, 2:30, 2:30] = images[:8]
    _, decoder32 = ref.onnx_graph(tmp_path / "big", big)
    code, said = run_import(capsys, data, built["onnx"][0], decoder32, out)
    assert code == 1 and "has images of shape (1, 32, 32), the data's are 28x28x1" in said
    # pixel ranges: the course's [-1, 1] model said to work in [0, 255]
    encoder, decoder, flags = built["course"]
    code, said = run_import(capsys, data, encoder, decoder, out, *flags, "--pixel-range", "byte")
    assert code == 1 and "--pixel-range byte does not fit these models" in said and "(-1.0, 1.0)" in said
    # formats: a Keras encoder with an ONNX decoder
    code, said = run_import(capsys, data, built["keras_io"][0], built["onnx"][1], out, *built["keras_io"][2])
    assert code == 1 and "two Keras files or two ONNX files" in said
    # a file that is not a model
    (tmp_path / "notes.keras").write_text("not a zip")
    code, said = run_import(capsys, data, tmp_path / "notes.keras", decoder, out)
    assert code == 1 and "not a readable Keras model file" in said
    assert not out.exists() and "Traceback" not in said


def test_an_existing_bundle_folder_is_kept_when_the_import_fails(models, tmp_path, capsys):
    root, data, built = models
    out = tmp_path / "artifacts" / "mine"
    shutil.copytree(root / "artifacts" / "onnx", out)
    before = (out / "manifest.json").read_bytes()
    code, _ = run_import(capsys, data, built["course"][0], built["onnx"][1], out)
    assert code == 1 and (out / "manifest.json").read_bytes() == before


def test_an_onnx_pair_whose_tensors_have_the_bundles_names_imports(models, tmp_path, capsys):
    """A source graph may already call its tensors images, z, z_mean or means: they are renamed."""
    import onnx

    root, data, built = models
    renamed = {}
    for part, names in (
        ("encoder", {"input": "images", "output": "z_mean"}),
        ("decoder", {"latent": "z", "logits": "means"}),
    ):
        model = onnx.load(str(built["onnx"][0 if part == "encoder" else 1]))
        for n in model.graph.node:
            n.input[:] = [names.get(x, x) for x in n.input]
            n.output[:] = [names.get(x, x) for x in n.output]
        for value in (*model.graph.input, *model.graph.output):
            value.name = names.get(value.name, value.name)
        renamed[part] = tmp_path / f"{part}.onnx"
        onnx.save(model, str(renamed[part]))
    code, said = run_import(
        capsys, data, renamed["encoder"], renamed["decoder"], tmp_path / "artifacts" / "named"
    )
    assert code == 0, said
    assert load_onnx_networks(load_bundle(tmp_path / "artifacts" / "named")).decode(
        np.zeros((1, 2))
    ).shape == (
        1,
        28,
        28,
        1,
    )


def test_an_onnx_model_with_a_fixed_batch_size_is_refused_with_how_to_export_it(models, tmp_path, capsys):
    import onnx

    root, data, built = models
    model = onnx.load(str(built["onnx"][0]))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1  # torch.onnx.export without dynamic_axes
    fixed = tmp_path / "encoder.onnx"
    onnx.save(model, str(fixed))
    code, said = run_import(capsys, data, fixed, built["onnx"][1], tmp_path / "artifacts" / "fixed")
    assert code == 1 and "takes batches of exactly 1" in said and "dynamic_axes" in said
    assert not (tmp_path / "artifacts").exists()
