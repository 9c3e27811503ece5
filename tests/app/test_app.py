"""The Streamlit script under streamlit.testing.v1.AppTest, on tiny bundles (see conftest)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app.panels.model_card import OPEN_KEY
from app.text import literal
from tests.app.conftest import commit, figures_data, live_data, map_data, map_figure, run, view
from vae_core.data import CLASS_NAMES


def decoded_pixels(at) -> np.ndarray:
    """The server's decode at the current point, as sent to the live panel (784 values)."""
    return np.asarray(live_data(at)["pixels"])


def _length(array) -> int:
    """Length of a plotly JSON array (a list, or a typed array {"dtype", "bdata"})."""
    if isinstance(array, dict):
        import base64

        return len(np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]))
    return len(array)


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_first_screen_shows_the_map_the_decoded_point_and_metrics(app_at):
    at = app_at("one").run()
    no_errors(at)
    figure = map_figure(at)
    names = [t.get("name") for t in figure["data"] if t.get("type") == "scattergl"]
    assert names == list(CLASS_NAMES)
    assert map_data(at)["config"]["showTips"] is False  # no toast over the page (issue 27)
    assert sum(_length(t["customdata"]) for t in figure["data"] if t.get("type") == "scattergl") == 200
    assert "Test -ELBO" in [m.label for m in at.metric]
    assert decoded_pixels(at).shape == (784,) and decoded_pixels(at).max() > 0  # decoded at the default point
    assert "bundle" not in [s.key for s in at.selectbox]  # one bundle: no selector
    assert [s["label"] for s in live_data(at)["sliders"]] == ["z1", "z2"]
    assert live_data(at)["model"]["url"].startswith("app/static/models/")  # decoded in the browser
    assert view(at).index == 0  # the first test image is selected at start
    assert any("Clicked test image #0" in m.value for m in at.markdown)


def test_the_model_card_says_when_a_neighbour_term_shaped_the_map(app_at):
    def card_text(root):
        at = app_at(root).run()
        no_errors(at)
        card = next(e for e in at.expander if e.label.startswith("Model card"))
        return " ".join(m.value for m in card.markdown)

    assert "neighbour term" in card_text("one")  # trained with neighbour_weight 10
    assert "neighbour term" not in card_text("wide")  # a plain VAE


def test_a_slider_released_in_the_browser_moves_the_point_and_changes_the_decoded_image(app_at):
    at = app_at("one").run()
    before = decoded_pixels(at)
    new = live_data(at)["sliders"][0]["max"]  # the edge of the range: surely another decode
    commit(at, [new, view(at).z[1]])
    no_errors(at)
    assert view(at).z[0] == pytest.approx(new)
    assert live_data(at)["z"][0] == pytest.approx(new)
    assert not np.allclose(decoded_pixels(at), before)
    from app.link import format_z

    shared = at.query_params["z"]
    assert (shared[0] if isinstance(shared, list) else shared) == format_z(view(at).z)


def test_interpolation_strip_has_the_chosen_number_of_frames(app_at):
    at = app_at("one").run()
    at.slider(key="ip_steps").set_value(7).run()
    at.radio(key="ip_path").set_value("spherical").run()
    no_errors(at)
    strip = next(img for img in at.image if len(img.value) > 1)
    assert len(strip.value) == 7
    assert strip.captions[0] == "0.00" and strip.captions[-1] == "1.00"
    labels = [b.label for b in at.get("download_button")]
    assert "Download GIF" in labels and "Download PNG strip" in labels


def test_manifold_grid_has_n_by_n_tiles(app_at):
    at = app_at("one", {"view": "manifold"}).run()
    at.slider(key="mf_n").set_value(5).run()
    no_errors(at)
    grid = next(img for img in at.image if img.captions[0].startswith("5 x 5 decodes"))
    side = 5 * 28 * 6  # 5 tiles of 28 px, each scaled 6x (about 840 px)
    assert f"({side} x {side} px)" in grid.captions[0]
    assert at.get("download_button")[0].label == "Download PNG"


def test_new_prior_samples_change_the_grid(app_at):
    at = app_at("one", {"view": "prior"}).run()
    before = next(img for img in at.image if "prior samples" in img.captions[0]).value
    at.button(key="prior_new").click().run()
    no_errors(at)
    after = next(img for img in at.image if "prior samples" in img.captions[0])
    assert at.session_state["prior_seed"] == 1
    assert "seed 1" in after.captions[0] and after.value != before


def _png(light_background: bool) -> bytes:
    img = np.zeros((64, 48), np.uint8)
    img[10:54, 12:36] = 200  # a bright block: a very crude garment
    if light_background:
        img = 255 - img
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def test_uploading_an_image_encodes_and_reconstructs_it(app_at):
    at = app_at("one", {"view": "encode"}).run()
    at.file_uploader(key="enc_file").upload("shirt.png", _png(True), "image/png").run()
    no_errors(at)
    captions = [c for img in at.image for c in img.captions]
    assert "As the model sees it (28 x 28)" in captions and "Reconstruction" in captions
    assert any("inverted a light background" in c.value for c in at.caption)
    assert "-ELBO (nats)" in [m.label for m in at.metric]
    assert any("test images:" in c.value for c in at.caption)  # the out-of-distribution hint


def _encoded(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    data = _encoded(Image.fromarray(noise), "PNG")
    return data[: len(data) // 2]


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


BAD_UPLOADS = {  # what is uploaded (name, bytes) -> what the person is told
    "not-an-image": ("notes.png", b"not an image at all", "is not a PNG/JPEG/GIF/WebP/BMP image"),
    "truncated": ("shirt.png", _truncated_png(), "is truncated or corrupt"),
    "huge": ("bomb.png", _png_claiming(20000, 20000), "more than the pixel cap of 25,000,000 pixels"),
    "one-pixel": ("dot.png", _encoded(Image.new("L", (1, 1), 255), "PNG"), "1x1 pixels, too small"),
    "svg-as-png": (
        "logo.png",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"></svg>',
        "is not a PNG/JPEG/GIF/WebP/BMP image",
    ),
    "html-as-jpg": (
        "page.jpg",
        b"<html><script>alert(1)</script></html>",
        "is not a PNG/JPEG/GIF/WebP/BMP image",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_says_what_is_wrong_and_the_app_keeps_working(app_at, case):
    name, data, message = BAD_UPLOADS[case]
    at = app_at("one", {"view": "encode"}).run()
    uploader = at.file_uploader(key="enc_file")
    uploader.upload(name, data, "image/png").run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith(f"Cannot use {literal(name)}: ")
    assert message in at.error[0].value
    assert decoded_pixels(at).max() > 0 and map_data(at)  # the rest of the page is intact
    at.file_uploader(key="enc_file").upload("shirt.png", _png(True), "image/png").run()
    no_errors(at)  # the next (good) upload is encoded
    assert "Reconstruction" in [c for img in at.image for c in img.captions]


def _rgba_shirt() -> bytes:
    img = Image.new("RGBA", (60, 60), (0, 0, 0, 0))  # transparent around the garment
    img.paste((40, 40, 40, 255), (20, 10, 40, 50))
    return _encoded(img, "PNG")


def _animated_gif() -> bytes:
    frames = [Image.new("L", (64, 64), 0) for _ in range(3)]
    frames[0].paste(255, (16, 8, 48, 56))
    frames[1].paste(255, (0, 0, 20, 20))
    return _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)


def _sixteen_bit_png() -> bytes:
    values = np.zeros((40, 40), dtype=np.uint16)
    values[8:32, 12:28] = 50000
    return _encoded(Image.fromarray(values), "PNG")


@pytest.mark.parametrize(
    ("name", "data", "note"),
    [
        ("walk.gif", _animated_gif(), "Note: used the first of 3 animation frames."),
        ("cutout.png", _rgba_shirt(), "Note: filled transparent areas with white."),
        ("scan16.png", _sixteen_bit_png(), None),
    ],
    ids=["animated-gif", "rgba", "16-bit"],
)
def test_unusual_but_valid_uploads_are_encoded_with_a_note(app_at, name, data, note):
    at = app_at("one", {"view": "encode"}).run()
    at.file_uploader(key="enc_file").upload(name, data, "image/png").run()
    no_errors(at)
    assert "Reconstruction" in [c for img in at.image for c in img.captions]
    captions = [c.value for c in at.caption]
    assert note is None or note in captions, captions


def test_a_test_image_by_number_can_be_encoded(app_at):
    at = app_at("one", {"view": "encode"}).run()
    at.radio(key="enc_source").set_value("test").run()
    at.number_input(key="enc_index").set_value(13).run()
    no_errors(at)
    assert any("True class" in m.value and CLASS_NAMES[13 % 10] in m.value for m in at.markdown)


def test_two_bundles_give_a_selector_and_a_projection_notice_for_5d(app_at):
    at = app_at("two").run()
    no_errors(at)
    selector = at.selectbox(key="bundle")
    assert selector.options == ["tiny-2d", "tiny-5d"]
    assert not at.info  # 2-D: true coordinates, no projection notice
    selector.set_value("tiny-5d").run()
    no_errors(at)
    assert "2-D projection" in at.info[0].value and "principal components" in at.info[0].value
    assert [(s["kind"], s["index"]) for s in live_data(at)["sliders"]] == [("dim", i) for i in range(5)]
    assert len(view(at).z) == 5


def test_a_20d_model_gets_principal_direction_sliders(app_at):
    at = app_at("wide").run()
    no_errors(at)
    data = live_data(at)
    assert [(s["kind"], s["index"]) for s in data["sliders"]] == [("pc", j) for j in range(8)]
    directions = np.asarray(data["principal"]["directions"])
    assert directions.shape == (8, 20)  # what the browser moves the point along
    np.testing.assert_allclose(directions @ directions.T, np.eye(8), atol=1e-6)
    at.multiselect(key="extra_dims").set_value([0, 19]).run()
    no_errors(at)
    assert [(s["kind"], s["index"]) for s in live_data(at)["sliders"]][8:] == [("dim", 0), ("dim", 19)]


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("empty", "python -m vae_core train"),
        ("corrupt", "python -m vae_core export-onnx"),
        ("schema", "schema version"),
        ("noimages", "python -m vae_core export-test-images"),
    ],
)
def test_bad_bundles_show_an_error_with_the_fix(app_at, root, expected):
    at = app_at(root).run()
    assert not at.exception
    assert len(at.error) == 1 and expected in at.error[0].value
    assert not at.get("plotly_chart") and map_data(at) is None


def test_a_bundle_without_onnx_models_says_how_to_add_them(app_at, roots, tmp_path, monkeypatch):
    """The app serves from the bundles' ONNX models: a bundle made before them (schema 1) gets one line."""
    import json
    import shutil

    root = tmp_path / "old"
    old = shutil.copytree(roots["one"] / "tiny-2d", root / "tiny-2d")
    shutil.copy(roots["one"] / "fashion-mnist-test.npz", root)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["onnx"]
    (old / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 1}))
    for part in ("encoder", "decoder"):
        (old / f"{part}.onnx").unlink()
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    monkeypatch.setenv("VAE_ARTIFACTS", str(root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and len(at.error) == 1
    assert "has no ONNX models" in at.error[0].value
    assert "python -m vae_core export-onnx" in at.error[0].value


def test_a_broken_bundle_keeps_the_selector_so_another_can_be_chosen(app_at):
    at = app_at("mixed", {"bundle": "broken-2d"}).run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith(f"The bundle {literal('broken-2d')} cannot be used:")
    assert "decoder.onnx does not match its SHA-256" in at.error[0].value
    at.selectbox(key="bundle").set_value("tiny-2d").run()
    no_errors(at)
    assert map_data(at) and decoded_pixels(at).max() > 0
    assert at.query_params["bundle"] in ("tiny-2d", ["tiny-2d"])  # the link no longer names the broken one


def test_a_shared_link_restores_bundle_point_view_and_selection(app_at):
    at = app_at("two", {"bundle": "tiny-5d", "z": "0.5,-1,0.25,0,1.5", "view": "prior", "i": "7"}).run()
    no_errors(at)
    assert not at.warning
    assert view(at).bundle == "tiny-5d"
    assert view(at).z == pytest.approx([0.5, -1, 0.25, 0, 1.5])
    assert view(at).view == "prior" and view(at).index == 7
    assert any("prior samples" in (img.captions[0] or "") for img in at.image)


def test_malformed_link_values_are_ignored_with_a_notice(app_at):
    at = app_at("one", {"z": "1,banana", "view": "nowhere", "i": "-3"}).run()
    no_errors(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "`z`" in warnings and "`view`" in warnings and "`i`" in warnings
    assert view(at).index == 0 and view(at).view == "interpolate"  # defaults


def test_a_link_point_of_the_wrong_dimension_is_ignored(app_at):
    at = app_at("one", {"z": "1,2,3"}).run()
    no_errors(at)
    assert "3 coordinates" in at.warning[0].value
    assert len(view(at).z) == 2


def test_uncertainty_view_adds_a_density_background_and_sizes_points_by_std(app_at):
    at = app_at("one").run()
    at.selectbox(key="map_background").set_value("aggregate").run()
    run(at)  # only the map runs: the page again
    at.toggle(key="map_size_std").set_value(True).run()
    run(at)
    no_errors(at)
    figure = map_figure(at)
    assert figure["data"][0]["type"] == "heatmap"
    # The shading is explained: a colour bar with its quantity, and a line saying what it shows.
    bar = figure["data"][0]["colorbar"]
    assert figure["data"][0]["showscale"] and bar["ticktext"] == ["50%", "90%", "99%", "the rest"]
    z = figure["data"][0]["z"]  # a typed array: {"dtype", "bdata" (base64), "shape"}
    levels = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
    assert set(np.unique(levels)) == {0, 1, 2, 3}  # every band is on the map, the densest the darkest
    assert any(
        c.value.startswith("Background: darker grey = higher density of the aggregate posterior")
        for c in at.caption
    )
    sizes = figure["data"][1]["marker"]["size"]
    assert _length(sizes) == 20  # one size per point of the class, not a constant


def test_the_map_is_sent_with_a_revision_that_changes_only_with_its_figure(app_at):
    """The page redraws its map only when the revision changes (app/frontend/figure.js)."""
    at = app_at("two").run()
    first = map_data(at)
    assert first["plotly"].startswith("static/js/PlotlyChart.")  # Streamlit's own Plotly, found
    run(at)  # the page again: the same figure, the same revision
    assert map_data(at)["revision"] == first["revision"] and map_data(at)["figure"] == first["figure"]
    at.toggle(key="map_size_std").set_value(True).run()
    run(at)
    sized = map_data(at)
    assert sized["revision"] != first["revision"] and sized["figure"] != first["figure"]
    at.selectbox(key="bundle").set_value(at.selectbox(key="bundle").options[1]).run()
    assert map_data(at)["revision"] not in (first["revision"], sized["revision"])


def test_inside_the_vae_draws_its_small_maps_in_the_page_with_the_page_font(app_at):
    """The small maps are figures the page draws in place (app/frontend/figure.js), not new charts."""
    at = app_at("one", {"view": "inside", "i": "3"}).run()
    no_errors(at)
    figures = figures_data(at)
    assert set(figures) == {"latent_map", "inside_map_whole", "inside_map_zoom"}
    assert not at.get("plotly_chart")
    zoom = figures["inside_map_zoom"]
    assert zoom["config"]["displayModeBar"] is False
    assert "Source Sans" in zoom["figure"]["layout"]["font"]["family"]
    assert "close-up around mu" in zoom["figure"]["layout"]["title"]["text"]
    names = {t.get("name") for t in zoom["figure"]["data"]}
    assert {"mu", "q(z|x): the encoder's belief"} <= names


@pytest.mark.parametrize(
    "value, box",
    [
        ({"box": {"x": [1.5, -1.0], "y": [-2.0, 0.25]}}, (-1.0, 1.5, -2.0, 0.25)),  # sorted
        ({"box": {"x": [0.0, 0.0], "y": [0.0, 1.0]}}, None),  # no width
        ({"box": {"x": [0.0, float("nan")], "y": [0.0, 1.0]}}, None),
        ({"box": {"x": [0.0, 1.0]}}, None),
        ({"box": {"x": ["a", 1.0], "y": [0.0, 1.0]}}, None),
        ({"box": [0.0, 1.0, 0.0, 1.0]}, None),
        ({"selection": {"box": [{"x": [0.0, 1.0], "y": [0.0, 1.0]}]}}, None),  # st.plotly_chart's, no more
        (None, None),
    ],
)
def test_a_box_from_the_map_is_read_or_refused(value, box):
    from app.panels.map import box_of

    assert box_of(value) == box


def test_the_clicked_image_panel_says_what_each_image_is_and_when_the_point_has_left_it(app_at):
    at = app_at("one").run()
    captions = [c for img in at.image for c in img.captions]
    assert "Real image" in captions and "Reconstruction of #0" in captions
    assert not any("has moved" in c.value for c in at.caption)  # the point is test image #0's z_mean
    z = view(at).z
    commit(at, [z[0] + 1.0, z[1]])  # a slider released one unit away
    no_errors(at)
    assert any("has moved 1.00 away" in c.value for c in at.caption)
    assert any("Clicked test image #0" in m.value for m in at.markdown)  # still shown, as context


def test_the_model_card_names_each_metric_with_its_unit_and_meaning(app_at):
    at = app_at("one").run()
    no_errors(at)
    card = next(e for e in at.expander if e.label.startswith("Model card"))
    assert not card.table  # closed: its table, charts and code are not sent
    at.session_state[OPEN_KEY] = True  # as a person opens it (on_change="rerun")
    at.run()
    card = next(e for e in at.expander if e.label.startswith("Model card"))
    assert card.code[0].value.startswith("python -m vae_core train")
    table = card.table[0].value
    assert "test_neg_elbo_nats" not in table.index  # readable names, not raw keys
    assert table.loc["Test -ELBO", "unit"] == "nats per image"
    assert table.loc["5-NN accuracy", "value"].endswith("%")
    assert all(table["meaning"].str.len() > 20), table["meaning"]


def test_sliders_of_dimensions_the_model_does_not_use_are_marked(app_at):
    at = app_at("two").run()
    at.selectbox(key="bundle").set_value(
        "tiny-5d"
    ).run()  # its manifest: KL 2.0 nats for z1, 0.01 for the rest
    no_errors(at)
    marked = {s["label"]: s["inactive"] for s in live_data(at)["sliders"]}
    assert marked == {"z1": False, "z2": True, "z3": True, "z4": True, "z5": True}
