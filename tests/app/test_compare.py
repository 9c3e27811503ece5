"""The compare view (app/panels/compare.py) under AppTest: the app opened at ``?mode=compare``.

Tiny untrained bundles stand for a VAE, a β-VAE and an autoencoder; the last test opens the shipped ones.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app.panels.compare import INDEX_KEY, NOT_DRAWN, X_KEY, Y_KEY, picker_points
from app.resources import open_explorer
from app.style import UNLABELLED_COLOR, ink_on
from tests import needs
from tests.app.conftest import APP, make_bundle
from vae_core.config import DETERMINISTIC_LOG_VAR
from vae_core.evaluate import floor_nats

REPO_ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def shipped_artifacts() -> Path:
    """$VAE_ARTIFACTS if set (as the browser tests), else the repository's artifacts/."""
    env = os.environ.get("VAE_ARTIFACTS", "").strip()
    return Path(env).expanduser() if env else REPO_ARTIFACTS


@pytest.fixture(scope="module")
def compare_root(tmp_path_factory) -> Path:
    """a-broken (unreadable manifest), tiny-5d, tiny-ae, tiny-beta, tiny-vae, z-damaged (bad decoder)."""
    root = tmp_path_factory.mktemp("compare")
    make_bundle(root, "tiny-vae", 2)
    make_bundle(root, "tiny-beta", 2, seed=1, beta=4.0)
    ae = make_bundle(root, "tiny-ae", 2, seed=2, deterministic=True, beta=0.0)
    with np.load(ae / "latents.npz", allow_pickle=False) as data:  # as a trained autoencoder's: sigma 0.001
        latents = {**data, "z_log_var": np.full_like(data["z_log_var"], DETERMINISTIC_LOG_VAR)}
    np.savez(ae / "latents.npz", **latents)
    make_bundle(root, "tiny-5d", 5, seed=3)
    shutil.copytree(root / "tiny-vae", root / "a-broken")
    (root / "a-broken" / "manifest.json").write_text("{ not json")
    shutil.copytree(root / "tiny-vae", root / "z-damaged")
    (root / "z-damaged" / "decoder.onnx").write_bytes(b"this is not an ONNX model")
    return root


@pytest.fixture
def compare_at(monkeypatch):
    from streamlit.testing.v1 import AppTest

    def make(root: Path, bundle: str | None = "tiny-vae") -> AppTest:
        monkeypatch.setenv("VAE_ARTIFACTS", str(root))
        at = AppTest.from_file(APP, default_timeout=180)
        at.query_params["mode"] = "compare"
        if bundle is not None:
            at.query_params["bundle"] = bundle
        return at

    return make


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def marks(figure: dict, name: str) -> list[dict]:
    """The map's overlay shapes of one kind: "image" (the ring), "sigma" (its ellipse), "z" (the cross)."""
    return [shape for shape in figure["layout"].get("shapes", []) if shape.get("name") == name]


def z_mean(root: Path, name: str) -> np.ndarray:
    with np.load(root / name / "latents.npz", allow_pickle=False) as data:
        return data["z_mean"]


def assert_ring_at(figure: dict, point: np.ndarray) -> None:
    rings = marks(figure, "image")
    assert rings, "no ring on the map"
    for ring in rings:
        assert [ring["xanchor"], ring["yanchor"]] == pytest.approx(point[:2].tolist(), abs=1e-5)


def image_captions(at) -> list[list[str]]:
    return [list(image.captions) for image in at.get("image")]


def table(at):
    return at.table[0].value


def test_the_vae_and_the_autoencoder_side_by_side_with_the_same_image_ringed_in_both(
    compare_root, compare_at
):
    at = compare_at(compare_root).run()
    no_errors(at)
    assert (at.selectbox(key="cmp_left").value, at.selectbox(key="cmp_right").value) == (
        "tiny-vae",
        "tiny-ae",
    )
    left, right = figures(at)
    for figure in (left, right):  # each map: the encoded test set as one picture, no WebGL traces
        assert not figure["data"] and len(figure["layout"]["images"]) == 1
    assert_ring_at(left, z_mean(compare_root, "tiny-vae")[0])
    assert_ring_at(right, z_mean(compare_root, "tiny-ae")[0])
    assert marks(left, "sigma") and not marks(right, "sigma")  # the autoencoder's sigma is 0.001: a point
    assert all(
        str(compare_root) not in chart.proto.spec for chart in at.get("plotly_chart")
    )  # no server path

    at.number_input(key=INDEX_KEY).set_value(7).run()
    no_errors(at)
    left, right = figures(at)
    assert_ring_at(left, z_mean(compare_root, "tiny-vae")[7])
    assert_ring_at(right, z_mean(compare_root, "tiny-ae")[7])
    assert any(m.value.startswith("**Test image #7**") for m in at.markdown)
    assert image_captions(at)[0] == ["the image", "left: VAE", "right: autoencoder"]


def test_the_same_z_is_decoded_by_both_and_marked_on_both_maps(compare_root, compare_at):
    at = compare_at(compare_root).run()
    gap = (at.number_input(key=X_KEY).value, at.number_input(key=Y_KEY).value)
    at.number_input(key=X_KEY).set_value(0.5).run()
    at.number_input(key=Y_KEY).set_value(-0.25).run()
    no_errors(at)
    for figure in figures(at):  # both 2-D: the same z is the same spot of both planes
        crosses = marks(figure, "z")
        assert crosses and all([c["xanchor"], c["yanchor"]] == pytest.approx([0.5, -0.25]) for c in crosses)
    assert any("The same z = (+0.50, -0.25)" in m.value for m in at.markdown)
    decoded = image_captions(at)[1]
    assert len(decoded) == 2 and decoded[0].startswith("left: ") and decoded[1].startswith("right: ")
    assert all(re.fullmatch(r"(left|right): \d+× off, pixels \d+\.\d×", c) for c in decoded), decoded

    at.button(key="cmp_hole_left").click().run()
    left_hole = (at.number_input(key=X_KEY).value, at.number_input(key=Y_KEY).value)
    assert left_hole != pytest.approx(gap)
    at.button(key="cmp_hole_right").click().run()  # back to the start: the right map's deepest hole
    assert (at.number_input(key=X_KEY).value, at.number_input(key=Y_KEY).value) == pytest.approx(gap)


def test_a_model_of_another_latent_dim_says_the_same_z_means_nothing_there(compare_root, compare_at):
    at = compare_at(compare_root).run()
    at.selectbox(key="cmp_right").set_value("tiny-5d").run()
    no_errors(at)
    left, right = figures(at)
    assert marks(left, "z") and not marks(right, "z")
    assert_ring_at(left, z_mean(compare_root, "tiny-vae")[0])
    assert len(image_captions(at)[1]) == 1  # only the left model decodes z
    assert at.button(key="cmp_hole_right").disabled and not at.button(key="cmp_hole_left").disabled
    [info] = at.info
    assert "5 dimensions" in info.value and "means nothing there" in info.value


def test_the_table_lists_every_bundle_with_its_objective_and_a_broken_one_as_unreadable(
    compare_root, compare_at
):
    at = compare_at(compare_root).run()
    rows = table(at).set_index("bundle")
    assert list(rows.index) == ["tiny-5d", "tiny-ae", "tiny-beta", "tiny-vae", "z-damaged"]  # one data set
    assert rows.loc["tiny-vae", "objective"] == "VAE"
    assert rows.loc["tiny-beta", "objective"] == "β-VAE (β=4)"
    assert rows.loc["tiny-ae", "objective"] == "autoencoder"
    assert rows.loc["tiny-5d", "latent dim"] == 5
    with np.load(compare_root / "fashion-mnist-test.npz") as data:  # no floor in the tiny manifests:
        floor = floor_nats(data["images"])  # the test images' own, as for bundles made before it was saved
    assert rows.loc["tiny-vae", "above floor"] == pytest.approx(rows.loc["tiny-vae", "-ELBO"] - floor)
    assert "note" not in rows.columns  # a last column was cut at the screen's edge: notes go under it
    [notes] = [c.value for c in at.caption if "Nats above the floor" in c.value]
    broken = next(line for line in notes.split("\n") if line.startswith("**a\\-broken**"))
    assert "Cannot be read" in broken and str(compare_root) not in notes
    assert any(line.startswith("**tiny\\-ae**") and "true ELBO" in line for line in notes.split("\n"))


def test_a_bundle_that_cannot_load_gets_a_message_and_the_other_map_stays(compare_root, compare_at):
    at = compare_at(compare_root).run()
    at.selectbox(key="cmp_right").set_value("z-damaged").run()
    assert not at.exception
    [error] = at.error
    assert "z-damaged" in error.value and "cannot be used" in error.value
    assert str(compare_root) not in error.value
    [left] = figures(at)
    assert_ring_at(left, z_mean(compare_root, "tiny-vae")[0])


def test_the_picker_gets_every_test_images_place_and_class_and_no_path(compare_root):
    """What the browser needs to name the point under the pointer and pick it (picker.js)."""
    explorer = open_explorer(compare_root / "tiny-vae", publish=False)
    data = picker_points(explorer)
    (x0, x1), (y0, y1) = data["within"]  # the picture's ranges: it reaches beyond the limits
    (lx0, lx1), (ly0, ly1) = explorer.map.limits
    assert x0 < lx0 < lx1 < x1 and y0 < ly0 < ly1 < y1
    places = np.frombuffer(base64.b64decode(data["xy"]), dtype="<u2").reshape(-1, 2).astype(float)
    xy = np.array([x0, y0]) + places / (NOT_DRAWN - 1) * np.array([x1 - x0, y1 - y0])
    assert (places < NOT_DRAWN).all()  # every point of this bundle is drawn
    step = np.array([x1 - x0, y1 - y0]) / (NOT_DRAWN - 1)
    assert np.all(np.abs(xy - explorer.map.xy) <= step)
    labels = np.frombuffer(base64.b64decode(data["labels"]), dtype="u1")
    assert data["label_bytes"] == 1 and np.array_equal(labels, explorer.bundle.labels)
    assert data["names"] == list(explorer.class_names) and len(data["colors"]) == len(data["names"])
    assert data["inks"] == [ink_on(c) for c in data["colors"]]  # the label's text reads on its colour
    assert str(compare_root) not in json.dumps(data)


def test_a_point_the_picture_does_not_draw_cannot_be_picked(compare_root):
    explorer = open_explorer(compare_root / "tiny-vae", publish=False)
    (x0, x1), _ = explorer.map.limits
    xy = explorer.map.xy.copy()
    xy[3] = [x1 + 10 * (x1 - x0), 0.0]  # far beyond the picture
    xy[4] = [np.nan, 0.0]
    moved = SimpleNamespace(
        bundle=explorer.bundle, class_names=explorer.class_names, map=dataclasses.replace(explorer.map, xy=xy)
    )
    places = np.frombuffer(base64.b64decode(picker_points(moved)["xy"]), dtype="<u2").reshape(-1, 2)
    assert places[3].tolist() == places[4].tolist() == [NOT_DRAWN, NOT_DRAWN]
    assert (np.delete(places, [3, 4], axis=0) < NOT_DRAWN).all()


def test_the_shipped_autoencoder_and_beta_vae_load_beside_the_vae(compare_at):
    """The bundles this view exists for: found by what their manifests say, not by name."""
    root = shipped_artifacts()
    manifests = {p.parent.name: json.loads(p.read_text()) for p in root.glob("*/manifest.json")}
    two_d = {n: m["config"] for n, m in manifests.items() if m["latent_dim"] == 2}
    autoencoders = [n for n, c in two_d.items() if c.get("deterministic")]
    betas = [n for n, c in two_d.items() if not c.get("deterministic") and c.get("beta") not in (None, 1.0)]
    if not autoencoders or not betas:
        needs.missing("artifacts/ holds no 2-D autoencoder or β-VAE bundle", "ship them (see README)")
    at = compare_at(root, bundle=None).run()
    no_errors(at)
    assert at.selectbox(key="cmp_right").value == autoencoders[0]
    assert len(figures(at)) == 2 and image_captions(at)[0][1:] == ["left: VAE", "right: autoencoder"]
    # z starts in the autoencoder's deepest hole: far off its data, among the VAE's
    left_off, right_off = (float(re.search(r": (\d+)× off", c).group(1)) for c in image_captions(at)[1])
    assert right_off > 3 * left_off
    at.selectbox(key="cmp_right").set_value(betas[0]).run()
    no_errors(at)
    assert len(figures(at)) == 2 and image_captions(at)[0][2].startswith("right: β-VAE")
    rows = table(at).set_index("bundle")
    assert rows.loc[autoencoders[0], "objective"] == "autoencoder"
    assert rows.loc[betas[0], "objective"].startswith("β-VAE (β=")
    listed = [name for t in at.table for name in t.value["bundle"]]  # one table per data set
    assert sorted(listed) == sorted(manifests)


def test_with_one_bundle_it_sits_on_both_sides_and_with_none_the_view_says_so(
    compare_root, compare_at, tmp_path
):
    one = tmp_path / "one"
    one.mkdir()
    shutil.copytree(compare_root / "tiny-vae", one / "tiny-vae")
    shutil.copy(compare_root / "fashion-mnist-test.npz", one)
    at = compare_at(one).run()
    no_errors(at)
    assert at.selectbox(key="cmp_left").value == at.selectbox(key="cmp_right").value == "tiny-vae"
    assert len(figures(at)) == 2 and list(table(at)["bundle"]) == ["tiny-vae"]
    empty = tmp_path / "empty"
    empty.mkdir()
    at = compare_at(empty, bundle=None).run()
    assert not at.exception and "No model bundle found" in at.error[0].value


def test_a_data_set_without_classes_sends_the_picker_no_classes_and_one_colour(roots):
    data = picker_points(open_explorer(roots["own"] / "plain-2d", publish=False))
    assert data["labels"] is None and data["names"] == [] and data["colors"] == [UNLABELLED_COLOR]
