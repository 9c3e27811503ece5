"""Re-vendor onnxruntime-web into app/static/vendor/ reproducibly, or check the vendored copy.

    python tools/vendor_onnxruntime_web.py            # fetch, compare with SHA256SUMS (changes nothing)
    python tools/vendor_onnxruntime_web.py --write    # fetch and (re)write the vendored folder + SHA256SUMS

Why vendored: the app must work offline and in the container with no CDN and no build step
(the README's `make run` and `docker build` stay as they are), so the few files the browser
needs are committed, pinned by version and checked by SHA256SUMS (tests/unit/test_browser_assets.py).

Where the files come from, each through its ordinary client:
- `npm pack onnxruntime-web@VERSION`: npm checks the tarball against the registry's integrity
  hash, and this script checks that hash against NPM_INTEGRITY below. Of the ~140 MB package
  only the WebAssembly CPU backend is kept: `ort.wasm.bundle.min.mjs` (the ES module with the
  Emscripten glue inlined, so nothing else is imported) and `ort-wasm-simd-threaded.wasm`
  (fetched by it). Not kept: WebGL/WebGPU/JSEP/JSPI builds, the asyncify .wasm, source maps.
- `ort-wasm-simd-threaded.wasm.gz` is made here (gzip -9, no timestamp): the app's server would
  otherwise gzip the 14 MB .wasm again for every new browser (about a second of CPU each), while
  an application/gzip file is sent as it is; live_decoder.js unpacks it with DecompressionStream.
  Another zlib may compress to other bytes, so the check compares what it unpacks to.
- The npm package carries no licence text, so LICENSE and ThirdPartyNotices.txt come from the
  same release's Python wheel (`pip download onnxruntime==VERSION --no-deps`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.browser_assets import (
    RUNTIME_DIR,
    RUNTIME_FILES,
    RUNTIME_LICENCE_FILES,
    RUNTIME_VERSION,
    SUMS_FILE,
)

NPM_PACKAGE = "onnxruntime-web"
NPM_INTEGRITY = (  # `npm view onnxruntime-web@1.30.0 dist.integrity`
    "sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ=="
)
WHEEL_PACKAGE = "onnxruntime"
PACKED = "ort-wasm-simd-threaded.wasm.gz"


class VendorError(RuntimeError):
    """The fetched package is not the pinned one, or the vendored copy differs from SHA256SUMS."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_npm_files(work: Path) -> dict[str, bytes]:
    """The runtime files from the pinned npm tarball (integrity checked)."""
    out = subprocess.run(
        ["npm", "pack", f"{NPM_PACKAGE}@{RUNTIME_VERSION}", "--json", "--pack-destination", str(work)],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)[0]
    if info["integrity"] != NPM_INTEGRITY:
        raise VendorError(
            f"{NPM_PACKAGE}@{RUNTIME_VERSION} has integrity {info['integrity']}, pinned {NPM_INTEGRITY}: "
            "not the release this app was tested with; check before changing the pin"
        )
    with tarfile.open(work / info["filename"], "r:gz") as tar:
        files = {n: tar.extractfile(f"package/dist/{n}").read() for n in RUNTIME_FILES if n != PACKED}
    files[PACKED] = gzip.compress(files[PACKED.removesuffix(".gz")], compresslevel=9, mtime=0)
    return files


def fetch_licence_files(work: Path) -> dict[str, bytes]:
    """LICENSE and ThirdPartyNotices.txt from the same release's wheel."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(work),
            f"{WHEEL_PACKAGE}=={RUNTIME_VERSION}",
        ],
        check=True,
    )
    (wheel,) = work.glob(f"{WHEEL_PACKAGE}-{RUNTIME_VERSION}-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return {name: zf.read(f"{WHEEL_PACKAGE}/{name}") for name in RUNTIME_LICENCE_FILES}


def sums_text(files: dict[str, bytes]) -> str:
    """`sha256sum` format, sorted by name (so `sha256sum -c SHA256SUMS` works in the folder)."""
    return "".join(f"{sha256(data)}  {name}\n" for name, data in sorted(files.items()))


def check(files: dict[str, bytes]) -> list[str]:
    """What differs between the fetched files and the vendored folder (the .gz: by what it unpacks to)."""
    sums_path = RUNTIME_DIR / SUMS_FILE
    lines = sums_path.read_text(encoding="utf-8").splitlines() if sums_path.exists() else []
    committed = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    problems = []
    for name, data in sorted(files.items()):
        path = RUNTIME_DIR / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif name == PACKED:
            if gzip.decompress(path.read_bytes()) != gzip.decompress(data):
                problems.append(f"{path} does not unpack to the fetched {name.removesuffix('.gz')}")
        elif sha256(path.read_bytes()) != sha256(data) or committed.get(name) != sha256(data):
            problems.append(f"{path} or its line in {SUMS_FILE} differs from the fetched file")
    if set(committed) != set(files):
        problems.append(f"{SUMS_FILE} lists {sorted(committed)}, expected {sorted(files)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="(re)write the vendored folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {**fetch_npm_files(work), **fetch_licence_files(work)}
    if args.write:
        if RUNTIME_DIR.exists():
            shutil.rmtree(RUNTIME_DIR)
        RUNTIME_DIR.mkdir(parents=True)
        for name, data in files.items():
            (RUNTIME_DIR / name).write_bytes(data)
        (RUNTIME_DIR / SUMS_FILE).write_text(sums_text(files), encoding="utf-8")
        print(f"wrote {len(files)} files and {SUMS_FILE} into {RUNTIME_DIR}")
        return 0
    problems = check(files)
    if problems:
        print("\n".join(problems) + "\nRe-run with --write to replace the vendored copy.", file=sys.stderr)
        return 1
    print(f"{NPM_PACKAGE} {RUNTIME_VERSION}: the {len(files)} vendored files match the pinned release")
    return 0


if __name__ == "__main__":
    sys.exit(main())
