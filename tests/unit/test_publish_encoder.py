"""The browser's encoder is published beside its decoder (app.resources), for the drawing pad."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import app.browser_assets
from app.explorer import BrowserEncoder
from app.resources import publish_decoder, publish_encoder

SHIPPED = Path(__file__).resolve().parents[2] / "artifacts" / "fashion-mnist-2d"


def shipped_bundle(**changes) -> SimpleNamespace:
    """The shipped bundle's browser models as a loaded Bundle lists them (no TensorFlow needed)."""
    entries = json.loads((SHIPPED / "manifest.json").read_text())["onnx"]
    models = {
        part: SimpleNamespace(
            file=SHIPPED / entries[part]["file"],
            sha256=entries[part]["sha256"],
            inputs=tuple(entries[part]["inputs"]),
            outputs=tuple(entries[part]["outputs"]),
        )
        for part in ("encoder", "decoder")
    }
    for part, fields in changes.items():
        models[part] = SimpleNamespace(**{**vars(models[part]), **fields})
    return SimpleNamespace(name="fashion-mnist-2d", browser_models=models)


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """Publish into a temporary folder, not the app's static/models/."""
    original = app.browser_assets.publish_model
    monkeypatch.setattr(app.browser_assets, "publish_model", functools.partial(original, models_dir=tmp_path))
    return tmp_path


def test_the_encoder_is_published_with_its_tensor_names(models_dir):
    encoder = publish_encoder(shipped_bundle())
    manifest = json.loads((SHIPPED / "manifest.json").read_text())["onnx"]["encoder"]
    assert encoder == BrowserEncoder(
        f"app/static/models/{manifest['sha256']}.onnx", manifest["inputs"][0], tuple(manifest["outputs"])
    )
    assert (models_dir / f"{manifest['sha256']}.onnx").read_bytes() == (SHIPPED / "encoder.onnx").read_bytes()
    assert publish_decoder(shipped_bundle()).url != encoder.url  # each model under its own name


def test_no_browser_encoder_means_none(models_dir):
    assert publish_encoder(SimpleNamespace(name="old", browser_models=None)) is None
    bundle = shipped_bundle()
    del bundle.browser_models["encoder"]
    assert publish_encoder(bundle) is None
    assert publish_decoder(bundle) is not None  # the decoder alone still decodes in the browser


def test_a_tampered_encoder_is_not_served(models_dir, caplog):
    bundle = shipped_bundle(encoder={"sha256": "0" * 64})
    assert publish_encoder(bundle) is None
    assert "browser encoder not published" in caplog.text
    assert not list(models_dir.glob("*.onnx"))
