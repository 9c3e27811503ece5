"""Image helpers: upload preprocessing into a bundle's image format, upscaling, strips, GIFs.

Pillow + numpy only (no TensorFlow). Model images are ``(H, W, C)`` float32 in [0, 1], grey
(C = 1) or colour (C = 3); Fashion-MNIST's are ``(28, 28, 1)``, a light garment on black.
Display images are uint8 ``(H, W)`` (grey) or ``(H, W, 3)`` (colour).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = 28  # side of a Fashion-MNIST image
CONTENT = 24  # longer side of the garment after preprocessing (2 px margin, like the data)
MIN_SIDE = 8
WORK_SIDE = 1024  # bigger uploads are shrunk to this many pixels a side before the float steps
GAP_GREY = 128
_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
_FORMAT_NAMES = "PNG/JPEG/GIF/WebP/BMP"
# What Pillow raises for broken files (OSError covers "image file is truncated").
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    Image.DecompressionBombError,
)


class ImageError(ValueError):
    """An image that cannot be used; the message says what was wrong and how to fix it."""


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """An uploaded image in the training format, with notes on what was done to it."""

    pixels: np.ndarray  # (H, W, C) float32 in [0, 1], in the bundle's shape
    notes: tuple[str, ...]  # human-readable notes, e.g. "inverted a light background"


# --- upload ---------------------------------------------------------------------------------------


def _sniff_format(data: bytes) -> str | None:
    """The image format named by the file's magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:2] == b"BM":
        return "BMP"
    return None


def _corrupt(exc: BaseException) -> ImageError:
    """The error for a file that has an image signature but does not decode."""
    return ImageError(f"the image is truncated or corrupt ({exc}); re-save it and try again")


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open ``data`` and check its header size, without decoding the pixels."""
    if _sniff_format(data) is None:
        raise ImageError(f"the file is not a {_FORMAT_NAMES} image; upload a picture saved as PNG or JPEG")
    try:
        img = Image.open(io.BytesIO(data), formats=_FORMATS)
    except UnidentifiedImageError:
        raise ImageError(
            f"the file is not a {_FORMAT_NAMES} image Pillow can read; re-save it as PNG or JPEG"
        ) from None
    except Image.DecompressionBombError:
        raise ImageError(
            f"the image has more than the pixel cap of {max_pixels:,} pixels; "
            "resize it to at most a few thousand pixels a side"
        ) from None
    except _DECODE_ERRORS as exc:
        raise _corrupt(exc) from None
    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(
            f"the image is {width}x{height} = {width * height:,} pixels, over the pixel cap "
            f"of {max_pixels:,}; resize it to at most a few thousand pixels a side"
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageError(
            f"the image is {width}x{height} pixels, too small; it must be at least "
            f"{MIN_SIDE}x{MIN_SIDE} (ideally 28x28 or larger)"
        )
    return img


def _decode_first_frame(img: Image.Image, notes: list[str]) -> Image.Image:
    """Fully decode the first frame (noting animations and EXIF rotation)."""
    try:
        n_frames = int(getattr(img, "n_frames", 1))
        if n_frames > 1:
            img.seek(0)
            notes.append(f"used the first of {n_frames} animation frames")
        if img.format == "JPEG":  # let libjpeg decode a big photo at 1/2, 1/4 or 1/8 scale
            img.draft(img.mode, (WORK_SIDE, WORK_SIDE))
        img.load()
    except _DECODE_ERRORS as exc:
        raise _corrupt(exc) from None
    try:
        orientation = img.getexif().get(0x0112, 1)  # EXIF Orientation tag
        if orientation in (2, 3, 4, 5, 6, 7, 8):
            rotated = ImageOps.exif_transpose(img)
            notes.append("rotated the image as its EXIF orientation says")
            return rotated
    except _DECODE_ERRORS:  # unreadable EXIF: keep the pixels as stored
        pass
    return img


def _shrink(img: Image.Image) -> Image.Image:
    """At most WORK_SIDE pixels a side (box filter, aspect kept): a 25-megapixel upload would
    otherwise take ~0.7 GB as float arrays, and only 24x24 pixels of it survive anyway."""
    width, height = img.size
    scale = WORK_SIDE / max(width, height)
    if scale >= 1.0:
        return img
    if img.mode == "PA" or ("transparency" in img.info and img.mode not in ("RGBA", "LA")):
        img = img.convert("RGBA")  # a transparent colour key does not survive filtering; alpha does
    elif img.mode in ("1", "P"):  # Pillow resizes these by nearest neighbour only
        img = img.convert("RGB")
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return img.resize(size, Image.Resampling.BOX)  # RGBA is resized with premultiplied alpha


def _to_array(img: Image.Image, notes: list[str], channels: int) -> np.ndarray:
    """``(H, W)`` grey or ``(H, W, 3)`` colour float64 in [0, 1]; transparent areas composited on white."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(img, dtype=np.float64)  # (H, W)
        full = 65535.0 if img.mode.startswith("I;16") or values.max() > 255 else 255.0
        grey = np.clip(values / full, 0.0, 1.0)
        return grey if channels == 1 else np.repeat(grey[..., None], 3, axis=2)
    if img.mode == "F":
        values = np.asarray(img, dtype=np.float64)
        grey = np.clip(values / (255.0 if values.max() > 1.0 else 1.0), 0.0, 1.0)
        return grey if channels == 1 else np.repeat(grey[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
        notes.append("filled transparent areas with white")
    if img.mode not in ("L", "RGB"):  # CMYK, P, 1, YCbCr, ...
        img = img.convert("RGB")
    return np.asarray(img.convert("L" if channels == 1 else "RGB"), dtype=np.float64) / 255.0


def _border_mean(image: np.ndarray, width: int = 2) -> float:
    """Mean of the outer ring of ``width`` pixels of ``image`` ``(H, W[, 3])``."""
    ring = np.ones(image.shape[:2], dtype=bool)
    ring[width:-width, width:-width] = False
    return float(image[ring].mean())


def _crop_to_content(gray: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """The bounding box of pixels above ``threshold``, padded with black to a square."""
    rows = np.flatnonzero(np.any(gray > threshold, axis=1))
    cols = np.flatnonzero(np.any(gray > threshold, axis=0))
    if rows.size == 0:
        raise ImageError(
            "the image looks blank (nothing found); upload a picture with one object on a plain background"
        )
    crop = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # (h, w)
    side = max(crop.shape)
    square = np.zeros((side, side))  # (side, side)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    return square


def prepare_upload(
    data: bytes,
    *,
    shape: tuple[int, int, int] = (28, 28, 1),
    background: str = "dark",
    centre: bool = True,
    max_bytes: int = 5_000_000,
    max_pixels: int = 25_000_000,
) -> PreparedImage:
    """Turn an uploaded PNG/JPEG/GIF/WebP/BMP into a bundle's image format ``shape`` (H, W, C).

    Steps: first frame of an animation, shrunk to at most WORK_SIDE pixels a side,
    transparency composited on white, grey or colour in [0, 1], inverted when the data set's
    ``background`` is dark and the 2-px border is mostly light. With ``centre`` (Fashion-MNIST:
    a light garment on black, in the middle) the object is then cropped, padded to a square,
    resized (Lanczos) to 24/28 of the image and centred on black; otherwise the whole picture is
    resized (Lanczos) to the bundle's size. Raises :class:`ImageError` for files that are empty,
    too large, not images, truncated, over ``max_pixels`` pixels, smaller than 8x8 or blank.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) == 0:
        raise ImageError("the file is empty; choose a PNG or JPEG image")
    if len(data) > max_bytes:
        raise ImageError(
            f"the file is {math.ceil(len(data) / 1e5) / 10:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
            "save a smaller image (a few hundred pixels a side is plenty)"
        )
    h, w, c = shape
    notes: list[str] = []
    with _open_checked(data, max_pixels) as img:
        image = _to_array(_shrink(_decode_first_frame(img, notes)), notes, c)  # (H, W[, 3])
    if background == "dark" and _border_mean(image) > 0.5:
        image = 1.0 - image
        notes.append("inverted a light background (the model's images are light on a dark background)")
    if centre:
        grey = image if image.ndim == 2 else image.mean(axis=2)
        square = _crop_to_content(grey)  # (side, side)
        content = max(1, round(min(h, w) * CONTENT / SIZE))
        small = Image.fromarray(square.astype(np.float32))  # mode "F": no 8-bit rounding
        small = small.resize((content, content), Image.Resampling.LANCZOS)
        pixels = np.zeros((h, w), dtype=np.float32)
        top, left = (h - content) // 2, (w - content) // 2
        pixels[top : top + content, left : left + content] = np.asarray(small)
        pixels = np.repeat(pixels[..., None], c, axis=2)
    else:
        if image.ndim == 2:
            resized = Image.fromarray(image.astype(np.float32)).resize((w, h), Image.Resampling.LANCZOS)
            pixels = np.asarray(resized, dtype=np.float32)[..., None]
        else:
            planes = [
                np.asarray(
                    Image.fromarray(image[..., k].astype(np.float32)).resize((w, h), Image.Resampling.LANCZOS)
                )
                for k in range(3)
            ]
            pixels = np.stack(planes, axis=2).astype(np.float32)
        if max(image.shape[:2]) != max(h, w) or image.shape[0] * w != image.shape[1] * h:
            notes.append(f"resized to {h}x{w} (Lanczos), the model's size")
    return PreparedImage(pixels=np.clip(pixels, 0.0, 1.0).astype(np.float32), notes=tuple(notes))


# --- display --------------------------------------------------------------------------------------


def to_uint8(img: object) -> np.ndarray:
    """uint8 ``(H, W)`` (grey) or ``(H, W, 3)`` (colour) from a float image in [0, 1] (clipped,
    rounded) or a uint8 image. Accepts ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``."""
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)) or 0 in arr.shape:
        raise ImageError(f"expected an image of shape (H, W), (H, W, 1) or (H, W, 3), got {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ImageError("the image contains NaN or infinite values; check the decoder output")
    return np.rint(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)


def _enlarge(img: np.ndarray, factor: int) -> np.ndarray:
    """``(H, W[, 3])`` -> ``(H*factor, W*factor[, 3])`` by repeating each pixel (nearest neighbour)."""
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def upscale(img: object, size: int = 224) -> np.ndarray:
    """Nearest-neighbour enlargement to uint8, crisp: every pixel becomes a square of whole screen
    pixels, as many as bring the longer side nearest to ``size`` (at least one)."""
    arr = to_uint8(img)  # (H, W[, 3])
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 4096:
        raise ImageError(f"size must be an integer from 1 to 4096, got {size!r}")
    return _enlarge(arr, factor_for(arr.shape[:2], size))


def factor_for(shape: tuple[int, int], size: int) -> int:
    """Screen pixels per image pixel that bring the longer side of ``shape`` nearest to ``size``."""
    return max(1, round(size / max(shape)))


def crisp_width(shape: tuple[int, ...], size: int) -> int:
    """The on-screen width of an image of ``shape`` (H, W, ...) shown about ``size`` wide, crisp."""
    return factor_for(shape[:2], size) * shape[1]


def png_bytes(img_uint8: object) -> bytes:
    """PNG file bytes of a grey or colour image (uint8, or float in [0, 1])."""
    buf = io.BytesIO()
    Image.fromarray(to_uint8(img_uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _as_stack(images: object) -> np.ndarray:
    """uint8 ``(n, H, W)`` from ``(n, H, W)`` or ``(n, H, W, 1)`` images; ``(n, H, W, 3)`` from colour."""
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[3] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 3 or (arr.ndim == 4 and arr.shape[3] == 3)) or 0 in arr.shape:
        raise ImageError(f"expected images of shape (n, H, W) or (n, H, W, 3), got {arr.shape}")
    return np.stack([to_uint8(a) for a in arr])


def _check_layout(scale: int, gap: int) -> None:
    """Raise ImageError unless ``scale >= 1`` and ``gap >= 0`` are integers."""
    for name, value, lo in (("scale", scale, 1), ("gap", gap, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= 64:
            raise ImageError(f"{name} must be an integer from {lo} to 64, got {value!r}")


def image_grid(images: object, n: int, *, scale: int = 1, gap: int = 0) -> np.ndarray:
    """uint8 ``(n*H*scale + (n-1)*gap, n*W*scale + (n-1)*gap)``: ``n*n`` images, row-major.

    Image ``r * n + c`` sits in row r (row 0 on top), column c; gaps are mid-grey.
    """
    stack = _as_stack(images)  # (n*n, H, W[, 3])
    _check_layout(scale, gap)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or stack.shape[0] != n * n:
        raise ImageError(f"expected n*n images for n={n!r}, got {stack.shape[0]}")
    h, w = stack.shape[1] * scale, stack.shape[2] * scale
    out = np.full((n * h + (n - 1) * gap, n * w + (n - 1) * gap, *stack.shape[3:]), GAP_GREY, dtype=np.uint8)
    for i, tile in enumerate(stack):
        r, c = divmod(i, n)
        big = _enlarge(tile, scale)  # (h, w)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = big
    return out


def image_strip(images: object, *, scale: int = 3, gap: int = 2) -> np.ndarray:
    """uint8 ``(H*scale, n*W*scale + (n-1)*gap[, 3])``: images left to right, mid-grey gaps."""
    stack = _as_stack(images)  # (n, H, W[, 3])
    _check_layout(scale, gap)
    h, w = stack.shape[1] * scale, stack.shape[2] * scale
    n = stack.shape[0]
    out = np.full((h, n * w + (n - 1) * gap, *stack.shape[3:]), GAP_GREY, dtype=np.uint8)
    for i, tile in enumerate(stack):
        out[:, i * (w + gap) : i * (w + gap) + w] = _enlarge(tile, scale)
    return out


def gif_bytes(
    frames: object,
    *,
    scale: int = 4,
    duration_ms: int = 120,
    loop: bool = True,
    bounce: bool = False,
) -> bytes:
    """Animated GIF bytes of ``frames`` ``(n, H, W[, 3])``, each enlarged ``scale`` times (colour
    frames on an adaptive palette of 256 colours each).

    ``bounce`` plays forth and back (2n - 2 frames); ``loop`` repeats forever, else plays
    once. Note that GIF writers merge identical consecutive frames.
    """
    stack = _as_stack(frames)  # (n, H, W[, 3])
    _check_layout(scale, 0)
    if isinstance(duration_ms, bool) or not isinstance(duration_ms, int) or duration_ms < 10:
        raise ImageError(f"duration_ms must be an integer of at least 10, got {duration_ms!r}")
    if bounce and stack.shape[0] > 2:
        stack = np.concatenate([stack, stack[-2:0:-1]])  # (2n - 2, H, W)
    pictures = [Image.fromarray(_enlarge(frame, scale)) for frame in stack]
    if stack.ndim == 4:
        pictures = [p.convert("P", palette=Image.Palette.ADAPTIVE) for p in pictures]
    buf = io.BytesIO()
    extra = {"loop": 0} if loop else {}
    pictures[0].save(
        buf, format="GIF", save_all=True, append_images=pictures[1:], duration=duration_ms, **extra
    )
    return buf.getvalue()


def bernoulli_sample(probabilities: object, seed: int = 0) -> np.ndarray:
    """One image drawn from a Bernoulli decoder's output: each pixel (and channel) 1 with its
    probability, else 0 (float32, the input's shape; the same seed gives the same image)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return (np.random.default_rng(seed).random(p.shape) < p).astype(np.float32)
