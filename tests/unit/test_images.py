"""Unit tests for vae_core.images: inputs are built with Pillow in memory."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, features

from vae_core import images
from vae_core.images import ImageError


def _encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _shirt(background: int, garment: int, mode: str = "L", size=(100, 80)) -> Image.Image:
    """A T-shirt-like shape placed off-centre (to the top left) on a plain background."""
    img = Image.new("L", size, background)
    draw = ImageDraw.Draw(img)
    draw.rectangle((15, 10, 45, 60), fill=garment)  # body
    draw.rectangle((5, 10, 55, 22), fill=garment)  # sleeves
    return img.convert(mode)


def _centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(pixels.shape)
    total = pixels.sum()
    return float((rows * pixels).sum() / total), float((cols * pixels).sum() / total)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, followed by a tiny (incomplete) IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_module_does_not_import_tensorflow():
    code = "import sys, vae_core.images; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


# --- prepare_upload -------------------------------------------------------------------------------


def test_white_background_dark_shirt_is_inverted_and_centred():
    prepared = images.prepare_upload(_encode(_shirt(255, 40, "RGB"), "PNG"))
    assert prepared.pixels.shape == (28, 28, 1)
    px = prepared.pixels[..., 0]
    assert px.dtype == np.float32
    assert 0.0 <= px.min() and px.max() <= 1.0
    assert any("inverted" in note for note in prepared.notes)
    assert px[0].max() == 0.0 and px[:, 0].max() == 0.0  # black margin
    assert px.max() > 0.7  # the dark shirt became light
    r, c = _centre_of_mass(px)
    assert abs(r - 13.5) < 2 and abs(c - 13.5) < 2


def test_black_background_jpeg_is_not_inverted():
    prepared = images.prepare_upload(_encode(_shirt(0, 200), "JPEG", quality=95))
    assert not any("inverted" in note for note in prepared.notes)
    assert prepared.pixels[..., 0].max() == pytest.approx(200 / 255, abs=0.1)
    assert prepared.pixels[..., 0][:2].max() < 0.05  # background stays black


def test_transparent_background_is_composited_on_white():
    img = Image.new("RGBA", (60, 60), (0, 0, 0, 0))  # transparent *black*
    ImageDraw.Draw(img).rectangle((20, 10, 40, 50), fill=(30, 30, 30, 255))
    prepared = images.prepare_upload(_encode(img, "PNG"))
    assert any("transparent" in note for note in prepared.notes)
    assert any("inverted" in note for note in prepared.notes)
    assert prepared.pixels[..., 0][14, 14] > 0.7 and prepared.pixels[..., 0][0, 0] == 0.0


def test_sixteen_bit_png_is_scaled_not_clipped():
    values = np.zeros((40, 40), dtype=np.uint16)
    values[10:30, 12:28] = 30000  # ~46% of full scale
    data = _encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    px = images.prepare_upload(data).pixels[..., 0]
    assert 0.35 < px.max() < 0.55
    assert px[14, 14] == pytest.approx(30000 / 65535, abs=0.02)


def test_animated_gif_uses_first_frame():
    frames = [_shirt(0, 255, size=(64, 64)), Image.new("L", (64, 64), 0)]
    frames.append(Image.new("L", (64, 64), 90))
    ImageDraw.Draw(frames[1]).rectangle((30, 30, 60, 60), fill=255)
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    prepared = images.prepare_upload(data)
    assert any("first of 3" in note for note in prepared.notes)
    assert prepared.pixels[..., 0].max() > 0.9


@pytest.mark.parametrize(
    "mode, fmt",
    [("CMYK", "JPEG"), ("P", "PNG"), ("L", "BMP"), ("RGB", "WEBP"), ("1", "PNG")],
)
def test_other_modes_and_formats(mode, fmt):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    base = _shirt(0, 255, "RGB")
    img = base.convert(mode) if mode != "P" else base.convert("P", palette=Image.Palette.ADAPTIVE)
    prepared = images.prepare_upload(_encode(img, fmt))
    assert not any("inverted" in note for note in prepared.notes)
    assert prepared.pixels[..., 0].max() > 0.8 and prepared.pixels[..., 0][0, 0] < 0.05


def test_truncated_png_is_rejected():
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    data = _encode(Image.fromarray(noise), "PNG")
    with pytest.raises(ImageError, match="truncated or corrupt"):
        images.prepare_upload(data[: len(data) // 2])


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"></svg>',
        b"<html><body>not an image</body></html>",
        b"PK\x03\x04 a zip file",
    ],
)
def test_non_images_are_rejected(data):
    with pytest.raises(ImageError, match="not a PNG/JPEG/GIF/WebP/BMP image"):
        images.prepare_upload(data)


def test_tiny_image_is_rejected():
    with pytest.raises(ImageError, match="too small"):
        images.prepare_upload(_encode(Image.new("L", (1, 1), 255), "PNG"))


def test_pixel_cap_is_checked_before_decoding():
    with pytest.raises(ImageError, match="pixel cap"):
        images.prepare_upload(_png_header_only(20000, 20000))
    with pytest.raises(ImageError, match="pixel cap"):
        images.prepare_upload(_encode(_shirt(0, 255), "PNG"), max_pixels=1000)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_big_photo_gives_the_same_image_as_a_small_one(fmt, monkeypatch):
    small = _shirt(255, 40, size=(100, 80))
    big = small.resize((3000, 2400), Image.Resampling.NEAREST)  # the same picture, 30x larger
    expected = images.prepare_upload(_encode(small, "PNG")).pixels[..., 0]
    seen = []  # sizes reaching the float steps: a 25-megapixel upload must not (memory)
    to_array = images._to_array
    monkeypatch.setattr(
        images, "_to_array", lambda img, notes, c: seen.append(img.size) or to_array(img, notes, c)
    )
    got = images.prepare_upload(_encode(big, fmt, **({"quality": 95} if fmt == "JPEG" else {}))).pixels[
        ..., 0
    ]
    assert max(seen[0]) <= images.WORK_SIDE < max(big.size)
    assert float(np.abs(got - expected).mean()) < 0.02


def test_empty_oversized_and_blank_files_are_rejected():
    with pytest.raises(ImageError, match="empty"):
        images.prepare_upload(b"")
    with pytest.raises(ImageError, match="limit"):
        images.prepare_upload(_encode(_shirt(0, 255), "PNG"), max_bytes=100)
    with pytest.raises(ImageError, match=r"the file is 5\.1 MB, over the 5\.0 MB limit"):  # rounded up
        images.prepare_upload(b"\x89PNG\r\n\x1a\n" + bytes(5_000_001))
    for colour in (0, 255):
        with pytest.raises(ImageError, match="blank"):
            images.prepare_upload(_encode(Image.new("L", (40, 40), colour), "PNG"))


# --- display --------------------------------------------------------------------------------------


def test_to_uint8_rounds_clips_and_passes_uint8_through():
    out = images.to_uint8(np.array([[-0.5, 0.5], [1.0, 2.0]]).reshape(2, 2, 1))
    assert out.dtype == np.uint8 and out.tolist() == [[0, 128], [255, 255]]
    raw = np.arange(4, dtype=np.uint8).reshape(2, 2)
    assert images.to_uint8(raw) is raw


def test_upscale_is_crisp():
    img = np.random.default_rng(1).random((28, 28, 1))
    big = images.upscale(img, 224)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    blocks = big.reshape(28, 8, 28, 8)
    assert np.all(blocks.min(axis=(1, 3)) == blocks.max(axis=(1, 3)))
    np.testing.assert_array_equal(blocks[:, 0, :, 0], images.to_uint8(img))
    assert images.upscale(img, 100).shape == (112, 112)  # 4 whole pixels each: the nearest to 100
    assert images.upscale(np.zeros((32, 32, 3)), 280).shape == (288, 288, 3)  # 9 each, never 8.75


def test_png_bytes_round_trip():
    img = np.random.default_rng(2).integers(0, 256, (28, 28), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(images.png_bytes(img))))
    np.testing.assert_array_equal(decoded, img)


def test_image_strip_and_grid_shapes_and_order():
    tiles = np.stack([np.full((28, 28), v, dtype=np.uint8) for v in (10, 60, 200, 250)])
    strip = images.image_strip(tiles[:3], scale=3, gap=2)
    assert strip.shape == (84, 3 * 84 + 2 * 2)
    assert strip[0, 84] == images.GAP_GREY and strip[0, 86] == 60
    grid = images.image_grid(tiles, 2)
    assert grid.shape == (56, 56)
    assert grid[0, 0] == 10 and grid[0, 55] == 60 and grid[55, 0] == 200  # row-major, row 0 on top
    assert images.image_grid(tiles, 2, scale=2, gap=3).shape == (115, 115)
    with pytest.raises(ImageError, match="n\\*n"):
        images.image_grid(tiles[:3], 2)


@pytest.mark.parametrize("bounce, expected", [(False, 4), (True, 6)])
def test_gif_bytes_frame_count(bounce, expected):
    frames = np.stack([np.full((28, 28), v / 4) for v in range(4)])
    data = images.gif_bytes(frames, scale=2, bounce=bounce)
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF" and gif.n_frames == expected and gif.size == (56, 56)
    assert gif.info.get("loop") == 0


def test_a_colour_upload_keeps_its_colour_at_the_bundles_size():
    picture = Image.new("RGB", (90, 60), (250, 250, 250))
    picture.paste((200, 30, 30), (20, 10, 70, 50))  # a red block on white
    prepared = images.prepare_upload(
        _encode(picture, "PNG"), shape=(16, 24, 3), background="light", centre=False
    )
    px = prepared.pixels
    assert px.shape == (16, 24, 3) and px.dtype == np.float32
    red, green = px[8, 12, 0], px[8, 12, 1]
    assert red > 0.7 and green < 0.3  # still red: no grey conversion, no inversion on a light set
    assert px[0, 0].min() > 0.9  # the white ground stays white
    assert any("resized to 16x24" in n for n in prepared.notes)


def test_a_grey_upload_to_a_dark_background_set_is_inverted_and_resized_whole():
    picture = _shirt(255, 40, size=(64, 64))  # dark on white
    prepared = images.prepare_upload(
        _encode(picture, "PNG"), shape=(32, 32, 1), background="dark", centre=False
    )
    assert prepared.pixels.shape == (32, 32, 1)
    assert prepared.pixels[0, 0, 0] < 0.05 and prepared.pixels.max() > 0.7
    assert any("inverted" in n for n in prepared.notes)


def test_colour_display_helpers_keep_three_channels():
    tiles = np.random.default_rng(0).random((4, 8, 12, 3))
    assert images.to_uint8(tiles[0]).shape == (8, 12, 3)
    assert images.upscale(tiles[0], 96).shape == (64, 96, 3)  # the longer side, aspect kept
    assert images.image_grid(tiles, 2, scale=2, gap=1).shape == (33, 49, 3)
    assert images.image_strip(tiles, scale=1, gap=2).shape == (8, 54, 3)
    gif = Image.open(io.BytesIO(images.gif_bytes(tiles, scale=2)))
    assert gif.n_frames == 4 and gif.size == (24, 16)
    assert Image.open(io.BytesIO(images.png_bytes(tiles[1]))).mode == "RGB"


def test_a_bernoulli_sample_is_ink_or_not_at_each_pixels_probability():
    from vae_core.images import bernoulli_sample

    p = np.tile(np.linspace(0, 1, 11), (400, 1))  # 400 draws of each probability
    sample = bernoulli_sample(p, seed=3)
    assert set(np.unique(sample)) <= {0.0, 1.0} and sample.dtype == np.float32
    assert sample[:, 0].max() == 0 and sample[:, -1].min() == 1  # never and always
    np.testing.assert_allclose(sample.mean(axis=0), p[0], atol=0.08)
    assert np.array_equal(sample, bernoulli_sample(p, seed=3))
    assert not np.array_equal(sample, bernoulli_sample(p, seed=4))
