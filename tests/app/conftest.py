"""Tiny bundles for the app tests: untrained small models, fake latents, random test images.

Built once per test session (a few seconds). Folders (each an artifacts root):

* ``one``: a single 2-D bundle (no selector);
* ``two``: a 2-D and a 5-D bundle (selector, projection);
* ``wide``: a 20-D bundle (principal-direction sliders);
* ``empty``: no bundle; ``corrupt``: a damaged decoder.onnx; ``schema``: an unknown
  schema version; ``noimages``: a good bundle without the shared test images; ``mixed``:
  ``tiny-2d`` and ``broken-2d``, a copy with a damaged decoder.onnx; ``family``: ``tiny-2d`` with
  an autoencoder and a beta = 4 model of the same shape (the lesson's last step, the compare view);
  ``own``: data sets of their own; ``factors``: a 3-D bundle whose data has known factors.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import tests.conftest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_IMAGES = 200  # test images per tiny bundle (all 10 classes present)
APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")


def make_bundle(root: Path, name: str, latent_dim: int, seed: int = 0, **config_fields) -> Path:
    """An untrained bundle `root/name` with N_IMAGES random test images beside it, and the ONNX models
    the app serves with."""
    return tests.conftest.make_bundle(
        root / name, latent_dim, n=N_IMAGES, seed=seed, test_images=True, browser_models=True, **config_fields
    )


@pytest.fixture(scope="session")
def roots(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("artifacts")
    out = {
        name: base / name
        for name in (
            *("one", "two", "wide", "empty", "corrupt", "schema", "noimages", "mixed", "family", "own"),
            "factors",
        )
    }
    for p in out.values():
        p.mkdir()
    tiny2 = make_bundle(out["one"], "tiny-2d", 2, neighbour_weight=10.0)  # for the model card note
    shutil.copytree(tiny2, out["two"] / "tiny-2d")
    shutil.copy(out["one"] / "fashion-mnist-test.npz", out["two"])
    make_bundle(out["two"], "tiny-5d", 5, seed=1)
    make_bundle(out["wide"], "tiny-20d", 20, seed=2)
    for name in ("corrupt", "schema", "noimages", "mixed"):
        shutil.copytree(tiny2, out[name] / "tiny-2d")
    shutil.copytree(tiny2, out["mixed"] / "broken-2d")
    shutil.copytree(tiny2, out["family"] / "tiny-2d")
    make_bundle(out["family"], "tiny-2d-autoencoder", 2, seed=3, deterministic=True, beta=0.0)
    make_bundle(out["family"], "tiny-2d-beta4", 2, seed=4, beta=4.0)
    # Data sets of their own (schema 3): 32x32 colour shapes in three classes, an unlabelled grey
    # 12x20 set, a second colour bundle to compare with, and a Fashion-MNIST one beside them.
    make_bundle(out["own"], "shapes-2d", 2, seed=5, image_shape=(32, 32, 3))
    make_bundle(out["own"], "shapes-3d", 3, seed=6, image_shape=(32, 32, 3))
    make_bundle(
        out["own"],
        "plain-2d",
        2,
        seed=7,
        image_shape=(12, 20, 1),
        data={"name": "Plain", "class_names": None},
    )
    shutil.copytree(tiny2, out["own"] / "tiny-2d")
    # A set with known factors (as make-sprites writes): a categorical and a continuous one.
    shapes = ["square", "ellipse", "heart"]
    make_bundle(
        out["factors"],
        "sprites-3d",
        3,
        seed=8,
        image_shape=(16, 16, 1),
        data={
            "name": "Sprites",
            "class_names": shapes,
            "factors": {
                "shape": {"kind": "categorical", "names": shapes},
                "x": {"kind": "continuous", "min": 0.2, "max": 0.8},
            },
        },
        factors={
            "shape": (np.arange(N_IMAGES) % 3).astype(np.uint8),
            "x": np.linspace(0.2, 0.8, N_IMAGES).astype(np.float32),
        },
        metrics={
            "mig": 0.3,
            "disentanglement": {
                "bins": 20,
                "factors": {
                    "shape": {"dim": 1, "share": 0.1, "gap": 0.05},
                    "x": {"dim": 0, "share": 0.6, "gap": 0.55},
                },
            },
        },
    )
    shutil.copy(out["one"] / "fashion-mnist-test.npz", out["own"])
    for name in ("corrupt", "schema", "mixed"):
        shutil.copy(out["one"] / "fashion-mnist-test.npz", out[name])
    for broken in (out["corrupt"] / "tiny-2d", out["mixed"] / "broken-2d"):
        (broken / "decoder.onnx").write_bytes(b"this is not an ONNX model")  # the app serves from it
    manifest = out["schema"] / "tiny-2d" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["schema_version"] = 99
    manifest.write_text(json.dumps(data))
    return out


@pytest.fixture
def app_at(roots, monkeypatch):
    """A function: AppTest of the app over one of the roots (not yet run)."""
    from streamlit.testing.v1 import AppTest

    def make(root: str, query: dict | None = None) -> AppTest:
        monkeypatch.setenv("VAE_ARTIFACTS", str(roots[root]))
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        return at

    return make


def live_data(at) -> dict:
    """The data the live point panel (app/panels/current_point.py) was drawn with: z, pixels, sliders..."""
    import json

    panel = next(c for c in at.get("bidi_component") if c.proto.component_name == "vae_live_point")
    return json.loads(panel.proto.json)


def figures_data(at) -> dict[str, dict]:
    """The data of each figure the page draws itself (app/frontend/figure.js), by its name (key):
    figure, revision, config."""
    import json

    mounts = [c for c in at.get("bidi_component") if c.proto.component_name == "vae_plotly_figure"]
    return {d["name"]: d for d in (json.loads(c.proto.json) for c in mounts)}


def map_data(at) -> dict | None:
    """The data the explorer's flat map (app/panels/map.py) was drawn with; None when the page has
    no flat map (an error, a 3-D scene, another page)."""
    return figures_data(at).get("latent_map")  # not a small map


def map_figure(at) -> dict:
    """The explorer's map as a Plotly figure: the flat map's, or a 3-D scene's (st.plotly_chart)."""
    import json

    data = map_data(at)
    return data["figure"] if data is not None else json.loads(at.get("plotly_chart")[0].proto.spec)


def view(at):
    """The session's view (app.view.View)."""
    from app.session import VIEW

    return at.session_state[VIEW]


def record(at, *events):
    """What a component's callback does (AppTest does not run those): record events for the next run,
    then run the whole page."""
    from app.session import EVENTS

    queued = list(at.session_state[EVENTS]) if EVENTS in at.session_state else []
    at.session_state[EVENTS] = queued + list(events)
    return at.run()


def commit(at, z, painted: bool = False):
    """What the browser does when a gesture ends (a slider released, the marker dropped): its final
    point, as the live panel's callback records it (after parse_commit has read it)."""
    from app.view import Committed

    return record(at, Committed(tuple(float(v) for v in z), view(at).commit_n + 1, painted))


def run(at):
    """After a widget in a fragment changed, AppTest holds only that fragment's elements: run the page."""
    at.run()
    return at.run()
