"""The drawing pad on the server (AppTest): what it sends the browser and what it makes of strokes.

The component's browser side is tested in tests/e2e/test_draw.py; here a stroke is put in the
session state the way the browser's trigger puts it there, and the script runs. The explorer is
a stand-in with the few attributes the pad reads (no TensorFlow, no bundle).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.panels.draw_pad import KEY, MAP_POINTS

PIXELS = 28 * 28


def pad_script(with_encoder: bool) -> None:
    from types import SimpleNamespace

    import numpy as np
    import streamlit as st

    from app.explorer import BrowserModels
    from app.panels.draw_pad import draw_pad, strokes_received
    from vae_core.geometry import Projection

    rng = np.random.default_rng(0)
    encoder = {
        "url": "app/static/models/e.onnx",
        "input": "images",
        "outputs": ["Identity:0", "Identity_1:0"],
    }
    decoder = {"url": "app/static/models/d.onnx", "input": "z", "output": "Identity:0"}
    explorer = SimpleNamespace(
        map=SimpleNamespace(
            xy=rng.normal(size=(3000, 2)),
            limits=((-4.0, 4.0), (-3.0, 3.0)),
            projection=Projection(np.zeros(2), np.eye(2), np.array([0.5, 0.5])),
        ),
        bundle=SimpleNamespace(
            labels=np.arange(3000) % 10,
            data=SimpleNamespace(image_shape=(28, 28, 1), labelled=True),
        ),
        class_names=tuple(f"class {c}" for c in range(10)),
        browser=BrowserModels(decoder, encoder if with_encoder else None),
    )

    pixels = draw_pad(explorer)
    st.text(f"strokes {strokes_received()}")
    st.text("blank" if pixels is None else f"ink {pixels.sum():.3f} shape {pixels.shape} {pixels.dtype}")


def run(with_encoder: bool = True) -> AppTest:
    at = AppTest.from_function(pad_script, args=(with_encoder,), default_timeout=30)
    return at.run()


def pad_data(at) -> dict:
    component = next(c for c in at.get("bidi_component") if c.proto.component_name == "vae_draw_pad")
    return json.loads(component.proto.json)


def send(at, pixels, n: int) -> AppTest:
    """What the browser does when a stroke ends: the 784 pixels and a counter, as the "stroke" trigger."""
    at.session_state[KEY] = {"stroke": {"pixels": list(pixels), "n": n}}
    return at.run()


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def drawing(seed: int = 0) -> list[float]:
    image = np.zeros((28, 28))
    image[6:22, 10 + seed : 18 + seed] = 0.8  # a bar of ink
    return image.ravel().round(3).tolist()


def test_the_pad_gets_the_map_the_projection_and_both_browser_models():
    at = run()
    assert not at.exception
    data = pad_data(at)
    assert len(data["map"]["xy"]) == len(data["map"]["labels"]) == MAP_POINTS
    assert data["map"]["limits"] == [[-4.0, 4.0], [-3.0, 3.0]]
    assert len(data["map"]["colors"]) == len(data["map"]["names"]) == 10
    assert data["projection"] == {"mean": [0.0, 0.0], "components": [[1.0, 0.0], [0.0, 1.0]]}
    assert data["encoder"] == {
        "url": "app/static/models/e.onnx",
        "input": "images",
        "outputs": ["Identity:0", "Identity_1:0"],
    }
    assert data["decoder"]["input"] == "z"
    assert data["pixels"] is None and data["seen"] == 0
    assert texts(at) == ["strokes 0", "blank"]


def test_without_a_browser_encoder_the_pad_is_told_so():
    at = run(with_encoder=False)
    assert not at.exception
    assert pad_data(at)["encoder"] is None


def test_a_stroke_reaches_the_server_once_and_is_returned_as_the_drawing():
    at = send(run(), drawing(), n=5)
    assert not at.exception
    assert texts(at) == ["strokes 1", f"ink {0.8 * 16 * 8:.3f} shape (28, 28, 1) float32"]
    data = pad_data(at)
    assert data["seen"] == 5
    assert data["pixels"] == pytest.approx(drawing(), abs=1e-6)  # a remounted pad shows it again
    at.run()  # a rerun for any other reason: the same stroke is not applied twice
    assert texts(at)[0] == "strokes 1"
    at = send(at, drawing(seed=4), n=4)  # an older message arriving late changes nothing
    assert texts(at)[0] == "strokes 1" and pad_data(at)["pixels"] == pytest.approx(drawing(), abs=1e-6)
    at = send(at, drawing(seed=4), n=9)
    assert texts(at)[0] == "strokes 2" and pad_data(at)["pixels"] == pytest.approx(drawing(seed=4), abs=1e-6)


def test_clear_makes_the_drawing_none_again():
    at = send(run(), drawing(), n=1)
    at = send(at, [0.0] * PIXELS, n=2)
    assert texts(at) == ["strokes 2", "blank"]
    assert pad_data(at)["pixels"] is None


@pytest.mark.parametrize(
    "pixels",
    [[0.5] * 100, [float("nan")] * PIXELS, [2.0] * PIXELS, ["x"] * PIXELS],
    ids=["short", "nan", "too-bright", "text"],
)
def test_a_malformed_stroke_keeps_the_last_good_drawing(pixels):
    at = send(run(), drawing(), n=1)
    at = send(at, pixels, n=2)
    assert not at.exception
    assert texts(at) == ["strokes 1", f"ink {0.8 * 16 * 8:.3f} shape (28, 28, 1) float32"]
