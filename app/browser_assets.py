"""What the browser fetches from the app itself: the pinned ONNX runtime and the bundles' browser models.

Streamlit serves the files under ``app/static/`` at ``app/static/...`` (relative to the app's
base URL) when ``server.enableStaticServing`` is on; it resolves real paths and refuses anything
outside that folder, symlinks included. So a bundle's ``decoder.onnx`` / ``encoder.onnx`` reach
the browser as a *copy* published under ``app/static/models/<sha256>.onnx``: named by content,
so a URL never changes meaning and the browser may cache it for good.

Standard library only (no Streamlit, no TensorFlow): the Dockerfile runs this at build time with
the base image's bare ``python3``:

    python3 app/browser_assets.py artifacts/      # publish every shipped bundle's .onnx files
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
MODELS_DIR = STATIC_DIR / "models"  # gitignored; filled at app start or image build
STATIC_URL = "app/static"  # the static route, relative to the app's base URL (no leading slash)

# onnxruntime-web, vendored by tools/vendor_onnxruntime_web.py (see its header for why these files).
RUNTIME_VERSION = "1.30.0"
RUNTIME_DIR = STATIC_DIR / "vendor" / f"onnxruntime-web-{RUNTIME_VERSION}"
RUNTIME_FILES = (
    "ort.wasm.bundle.min.mjs",  # the WebAssembly CPU backend with the Emscripten glue inlined
    "ort-wasm-simd-threaded.wasm",  # the runtime itself, as published
    "ort-wasm-simd-threaded.wasm.gz",  # the same, compressed once here (what live_decoder.js fetches)
)
RUNTIME_LICENCE_FILES = ("LICENSE", "ThirdPartyNotices.txt")
SUMS_FILE = "SHA256SUMS"

LIVE_DECODER_JS = Path(__file__).resolve().parent / "frontend" / "live_decoder.js"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class BrowserModelError(ValueError):
    """A browser model cannot be published: missing, or not the file its manifest describes."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def model_url(sha256: str) -> str:
    """The URL path (relative to the app's base URL) of a published model."""
    return f"{STATIC_URL}/models/{sha256}.onnx"


def publish_model(source: Path, sha256: str, models_dir: Path = MODELS_DIR) -> str | None:
    """Copy ``source`` to ``models_dir/<sha256>.onnx`` (atomically, verified); return its URL path.

    Also writes ``<sha256>.onnx.gz`` beside it, compressed once here: Streamlit's server would
    otherwise gzip the model again for every browser that loads it (about a second of CPU per
    10 MB), while an ``application/gzip`` file is sent as it is (live_decoder.js unpacks it).

    Idempotent: an already published, intact copy is kept. Returns None, with a log line, when
    ``models_dir`` cannot be written (a read-only image, another user's folder): the app then
    decodes on the server only. Raises :class:`BrowserModelError` when ``sha256`` is malformed,
    ``source`` is missing, or its content does not have that digest (a tampered or half-copied
    bundle), so a wrong model is never served.
    """
    sha256 = str(sha256).lower()
    if not _SHA256.fullmatch(sha256):
        raise BrowserModelError(
            f"{sha256!r} is not a SHA-256 digest (64 hex digits): "
            "check the bundle's manifest.json 'onnx' entry"
        )
    source = Path(source)
    if not source.is_file():
        raise BrowserModelError(
            f"{source.name} is named in the manifest but missing from the bundle: "
            "re-add the browser models to the bundle (or remove its 'onnx' entry)"
        )
    target = Path(models_dir) / f"{sha256}.onnx"
    packed = target.with_name(target.name + ".gz")
    if packed.is_file() and target.is_file() and sha256_file(target) == sha256:
        return model_url(sha256)
    data = source.read_bytes()  # a decoder is a few MB
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BrowserModelError(
            f"{source.name} does not match the SHA-256 in its bundle's manifest "
            f"(expected {sha256}, file has {hashlib.sha256(data).hexdigest()}): the file was changed after "
            "export; re-export the bundle or re-add its browser models"
        )
    try:
        Path(models_dir).mkdir(parents=True, exist_ok=True)
        _write_atomic(target, data)
        _write_atomic(packed, gzip.compress(data, compresslevel=6, mtime=0))
    except OSError as e:  # read-only or foreign folder: serve nothing, decode on the server
        log.info(
            "browser model %s cannot be published into %s (%s): server decoding only",
            source.name,
            models_dir,
            e,
        )
        return None
    return model_url(sha256)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename: a reader sees no file or the whole file, never part."""
    fd, tmp = tempfile.mkstemp(prefix=".publish-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the server may run as another user
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def onnx_entries(manifest: dict) -> dict[str, dict]:
    """The manifest's browser models, ``{"decoder": {"file", "sha256", ...}, ...}`` (schema 2; {} before)."""
    entries = manifest.get("onnx") or {}
    if not isinstance(entries, dict):
        raise BrowserModelError(
            "the manifest's 'onnx' entry is not a mapping of model name to {file, sha256}: "
            "re-export the bundle"
        )
    return {name: e for name, e in entries.items() if isinstance(e, dict) and "file" in e and "sha256" in e}


def publish_bundle(bundle_dir: Path, models_dir: Path = MODELS_DIR) -> dict[str, str | None]:
    """Publish every browser model of one bundle: ``{"decoder": url or None, ...}``."""
    bundle_dir = Path(bundle_dir)
    manifest = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
    urls = {}
    for name, entry in onnx_entries(manifest).items():
        file = Path(entry["file"])
        if file.is_absolute() or ".." in file.parts:
            raise BrowserModelError(
                f"the manifest's onnx file {entry['file']!r} must be a plain name inside the bundle: "
                "re-export the bundle"
            )
        urls[name] = publish_model(bundle_dir / file, entry["sha256"], models_dir)
    return urls


def live_decoder_js() -> str:
    """The in-browser decoder module's source, to put in front of a component's own JavaScript."""
    return LIVE_DECODER_JS.read_text(encoding="utf-8")


def main(argv: list[str], models_dir: Path = MODELS_DIR) -> int:
    """``browser_assets.py ARTIFACTS...``: publish the browser models of every bundle found there."""
    if not argv:
        print("usage: python3 app/browser_assets.py ARTIFACTS_DIR [...]", file=sys.stderr)
        return 2
    for root in map(Path, argv):
        for manifest in sorted(root.glob("*/manifest.json")):
            try:
                urls = publish_bundle(manifest.parent, models_dir)
            except (BrowserModelError, ValueError, OSError) as e:
                print(f"{manifest.parent.name}: not published: {e}", file=sys.stderr)
                return 1
            for name, url in urls.items():
                print(f"{manifest.parent.name}: {name} -> {url or 'NOT PUBLISHED (folder not writable)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
