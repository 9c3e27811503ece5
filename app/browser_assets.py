"""What the browser fetches from the app itself: the pinned ONNX runtime, the app's own modules and
the bundles' browser models.

Streamlit serves the files under ``app/static/`` at ``app/static/...`` (relative to the app's
base URL) when ``server.enableStaticServing`` is on; it resolves real paths and refuses anything
outside that folder, symlinks included. So a bundle's ``decoder.onnx`` / ``encoder.onnx`` reach
the browser as a *copy* published under ``app/static/models/<sha256>.onnx``: named by content,
so a URL never changes meaning and the browser may cache it for good. Which files a bundle has,
and that they are the files its manifest describes, is ``vae_core.manifest.browser_models_of``.

The app's own browser code (``app/frontend/*.js``, ES modules importing each other) is published the
same way, into a folder named by the digest of all of them (``app/static/frontend/<digest>/``).
The Docker build publishes both ahead of time:

    python app/browser_assets.py artifacts/      # the browser modules, and every bundle's .onnx files
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script (the Docker build): the repository is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae_core.atomic import sha256_file, write_bytes_atomically
from vae_core.bundle import list_bundles
from vae_core.manifest import BrowserModel, BundleError, browser_models_of, read_manifest

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
MODELS_DIR = STATIC_DIR / "models"  # gitignored; filled at app start or image build
STATIC_URL = "app/static"  # the static route, relative to the app's base URL (no leading slash)
FRONTEND_DIR = Path(__file__).resolve().parent / "frontend"  # the app's browser code: ES modules, CSS
PUBLISHED_FRONTEND = STATIC_DIR / "frontend"  # gitignored: <version>/*.js, published at app start or build

# onnxruntime-web, vendored by tools/vendor_onnxruntime_web.py (see its header for why these files).
RUNTIME_VERSION = "1.30.0"
RUNTIME_DIR = STATIC_DIR / "vendor" / f"onnxruntime-web-{RUNTIME_VERSION}"
RUNTIME_URL = f"{STATIC_URL}/vendor/onnxruntime-web-{RUNTIME_VERSION}/"
RUNTIME_FILES = (
    "ort.wasm.bundle.min.mjs",  # the WebAssembly CPU backend with the Emscripten glue inlined
    "ort-wasm-simd-threaded.wasm",  # the runtime itself, as published
    "ort-wasm-simd-threaded.wasm.gz",  # the same, compressed once here (what decoder.js fetches)
)
RUNTIME_LICENCE_FILES = ("LICENSE", "ThirdPartyNotices.txt")
SUMS_FILE = "SHA256SUMS"


def model_url(sha256: str) -> str:
    """The URL path (relative to the app's base URL) of a published model."""
    return f"{STATIC_URL}/models/{sha256}.onnx"


def publish_model(model: BrowserModel, models_dir: Path = MODELS_DIR) -> str | None:
    """Copy a bundle's verified ONNX model to ``models_dir/<sha256>.onnx``; return its URL path.

    Also writes ``<sha256>.onnx.gz`` beside it, compressed once here: Streamlit's server would
    otherwise gzip the model again for every browser that loads it (about a second of CPU per
    10 MB), while an ``application/gzip`` file is sent as it is (decoder.js unpacks it).

    Idempotent: an already published, intact copy is kept. Returns None, with a log line, when
    ``models_dir`` cannot be written (a read-only image, another user's folder): the app then
    decodes on the server only. Raises BundleError when the file no longer has the digest its
    manifest gave (changed since the bundle was loaded), so a wrong model is never served.
    """
    target = Path(models_dir) / f"{model.sha256}.onnx"
    packed = target.with_name(target.name + ".gz")
    if packed.is_file() and target.is_file() and sha256_file(target) == model.sha256:
        return model_url(model.sha256)
    data = model.file.read_bytes()  # a model is a few MB
    if hashlib.sha256(data).hexdigest() != model.sha256:
        raise BundleError(
            f"{model.file.name} no longer matches the SHA-256 in its bundle's manifest: the file was changed "
            "after the bundle was loaded; re-export the bundle or re-add its browser models"
        )
    try:
        Path(models_dir).mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(target, data)
        write_bytes_atomically(packed, gzip.compress(data, compresslevel=6, mtime=0))
    except OSError as e:  # read-only or foreign folder: serve nothing, decode on the server
        log.info(
            "browser model %s cannot be published into %s (%s): server decoding only",
            model.file.name,
            models_dir,
            e,
        )
        return None
    return model_url(model.sha256)


def frontend_version() -> str:
    """A digest of the app's browser modules: their published folder's name, so a browser never runs
    an old module with a new one (each folder is immutable, like a published model)."""
    digest = hashlib.sha256()
    for file in sorted(FRONTEND_DIR.glob("*.js")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def publish_frontend(published: Path = PUBLISHED_FRONTEND) -> str:
    """Copy the browser modules to ``published/<version>/`` (once per version); return that folder's
    URL path. Raises OSError when the static folder cannot be written (publish at build time then:
    ``python app/browser_assets.py artifacts``)."""
    version = frontend_version()
    folder = Path(published) / version
    if not (folder / ".complete").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for file in sorted(FRONTEND_DIR.glob("*.js")):
            write_bytes_atomically(folder / file.name, file.read_bytes())
        write_bytes_atomically(folder / ".complete", b"")
    return f"{STATIC_URL}/frontend/{version}/"


@functools.cache
def streamlit_plotly_url() -> str | None:
    """The URL (relative to the app's base URL) of the module holding Streamlit's own chart element,
    which defines ``window.Plotly`` when loaded (figure.js draws the map with it), or None when this
    Streamlit has no such module (an upgrade renamed it: the map then says it cannot be drawn)."""
    import streamlit

    found = sorted((Path(streamlit.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    if len(found) != 1:
        log.warning("Streamlit's chart module (static/js/PlotlyChart.*.js): %d candidates", len(found))
        return None
    return f"static/js/{found[0].name}"


def publish_bundle(bundle_dir: Path, models_dir: Path = MODELS_DIR) -> dict[str, str | None]:
    """Publish what the browser fetches of one bundle (each model's light copy where it has one):
    ``{"decoder": url or None, ...}`` (BundleError if its manifest or models are not in order)."""
    models = browser_models_of(Path(bundle_dir), read_manifest(bundle_dir)) or {}
    return {part: publish_model(model.for_browser, models_dir) for part, model in models.items()}


def main(argv: list[str], models_dir: Path = MODELS_DIR) -> int:
    """``browser_assets.py ARTIFACTS...``: publish the browser models of every bundle found there."""
    if not argv:
        print("usage: python app/browser_assets.py ARTIFACTS_DIR [...]", file=sys.stderr)
        return 2
    print(f"browser modules -> {publish_frontend()}")
    for root in map(Path, argv):
        for bundle_dir in list_bundles(root):
            try:
                urls = publish_bundle(bundle_dir, models_dir)
            except BundleError as e:
                print(f"{bundle_dir.name}: not published: {e}", file=sys.stderr)
                return 1
            for name, url in urls.items():
                print(f"{bundle_dir.name}: {name} -> {url or 'NOT PUBLISHED (folder not writable)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
