"""The browser's encoder is published beside its decoder (app.resources), for the drawing pad; what
the browser gets is each model's light copy where the bundle has one."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import app.resources
from app.browser_assets import publish_model
from app.resources import browser_models
from vae_core.manifest import browser_models_of

SHIPPED = Path(__file__).resolve().parents[2] / "artifacts" / "fashion-mnist-2d"


def shipped_bundle(**changes) -> SimpleNamespace:
    """The shipped bundle's browser models as a loaded Bundle lists them (no TensorFlow needed)."""
    models = browser_models_of(SHIPPED, json.loads((SHIPPED / "manifest.json").read_text()))
    for part, fields in changes.items():
        models[part] = dataclasses.replace(models[part], **fields)
    data = SimpleNamespace(image_shape=(28, 28, 1))
    return SimpleNamespace(name="fashion-mnist-2d", browser_models=models, latent_dim=2, data=data)


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """Publish into a temporary folder, not the app's static/models/."""
    monkeypatch.setattr(app.resources, "publish_model", functools.partial(publish_model, models_dir=tmp_path))
    return tmp_path


def test_the_light_encoder_is_published_with_its_tensor_names(models_dir):
    published = browser_models(shipped_bundle())
    manifest = json.loads((SHIPPED / "manifest.json").read_text())["onnx"]["light"]["encoder"]
    assert published.encoder == {
        "url": f"app/static/models/{manifest['sha256']}.onnx",
        "input": manifest["inputs"][0],
        "outputs": manifest["outputs"],
    }
    light = (SHIPPED / "encoder.light.onnx").read_bytes()
    assert (models_dir / f"{manifest['sha256']}.onnx").read_bytes() == light
    assert published.decoder["url"] != published.encoder["url"]  # each model under its own name


def test_without_a_light_copy_the_float32_models_are_published(models_dir):
    published = browser_models(shipped_bundle(encoder={"light": None}, decoder={"light": None}))
    manifest = json.loads((SHIPPED / "manifest.json").read_text())["onnx"]
    for part in ("encoder", "decoder"):
        assert getattr(published, part)["url"] == f"app/static/models/{manifest[part]['sha256']}.onnx"


def test_no_browser_encoder_means_none(models_dir):
    assert browser_models(SimpleNamespace(name="old", browser_models=None)).encoder is None
    bundle = shipped_bundle()
    del bundle.browser_models["encoder"]
    published = browser_models(bundle)
    assert published.encoder is None
    assert published.decoder is not None  # the decoder alone still decodes in the browser


def test_a_tampered_encoder_is_not_served(models_dir, caplog):
    light = shipped_bundle().browser_models["encoder"].light
    bundle = shipped_bundle(encoder={"light": dataclasses.replace(light, sha256="0" * 64)})
    assert browser_models(bundle).encoder is None
    assert "browser encoder not published" in caplog.text
    assert not (models_dir / f"{'0' * 64}.onnx").exists()
    decoder = bundle.browser_models["decoder"].light
    assert [p.name for p in models_dir.glob("*.onnx")] == [f"{decoder.sha256}.onnx"]
