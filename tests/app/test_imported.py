"""The app on imported bundles (issue 24): a keras.io conv VAE and an ONNX pair, imported with
`python -m vae_core import`, open like any bundle; the model card says where they came from and
that they have no training history, instead of an empty chart."""

from __future__ import annotations

import pytest

from app.panels.model_card import OPEN_KEY
from harness.reference_vaes import imported_artifacts
from tests.app.conftest import APP, live_data, record
from tests.app.test_app import no_errors

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    return imported_artifacts(tmp_path_factory.mktemp("imported"))


@pytest.mark.parametrize("bundle", ["keras-io", "onnx"])
def test_an_imported_bundle_opens_with_every_view_and_its_card(artifacts, monkeypatch, bundle):
    from streamlit.testing.v1 import AppTest

    from app.view import Set

    monkeypatch.setenv("VAE_ARTIFACTS", str(artifacts))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["bundle"] = bundle
    at.run()
    no_errors(at)
    assert live_data(at)["shape"] == [28, 28, 1]
    for v in ("manifold", "prior", "encode", "inside", "interpolate"):
        record(at, Set("view", v))
        no_errors(at)

    def no_chart(history):
        raise AssertionError(f"a history chart of {len(history)} epochs was drawn")

    monkeypatch.setattr("app.panels.model_card.history_figure", no_chart)
    at.session_state[OPEN_KEY] = True  # as a person opens the model card
    at.run()
    no_errors(at)
    words = " ".join(m.value for m in (*at.markdown, *at.caption))
    suffix = "onnx" if bundle == "onnx" else "keras"
    assert f"imported from ` encoder.{suffix} ` and ` decoder.{suffix} `" in words  # as literal text
    assert "No training history" in words
    conventions = at.table[0].value  # the first table: how the models read and write
    assert "pixel_range" in conventions.index and "encoder_outputs" in conventions.index
