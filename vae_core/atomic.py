"""Writing files and folders so that a reader (or a crash) sees the old version or the new one, never
half of one, and never losing what was there unless it was ours to replace.

Standard library only: the app's static publishing and the Docker build use it too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# The files a bundle folder may hold (shared/DESIGN.md, "The artifact bundle"). A folder holding
# anything else is not ours: no command replaces it (a user's thesis must never be deleted).
BUNDLE_FILES = frozenset(
    {
        "manifest.json",
        "history.json",
        "latents.npz",
        "prior.npz",
        "test_images.npz",
        "encoder.keras",
        "decoder.keras",
        "encoder.onnx",
        "decoder.onnx",
        "encoder.light.onnx",
        "decoder.light.onnx",
    }
)
_CHUNK = 1 << 20


class ReplaceError(ValueError):
    """A folder cannot be written or replaced; the message says what is there and what to do."""


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary name ends like ``path`` (Keras and numpy insist on their suffixes).
    """
    path = Path(path)
    tmp = path.with_name(f"tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomically(path: str | Path, data: bytes, mode: int = 0o644) -> Path:
    """``data`` into ``path`` through a private temporary file and a rename, readable by others."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".write-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)  # mkstemp makes it 0600; the server may run as another user
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def why_not_replaceable(out: str | Path) -> str | None:
    """Why ``out`` must not be replaced by a bundle (None: it is missing, empty or a bundle).

    A bundle is a real folder (not a link) holding a manifest.json and nothing but BUNDLE_FILES, each
    a regular file (a link in a bundle is refused: copying it would copy what it points to).
    """
    out = Path(out)
    if out.is_symlink():
        return f"{out} is a symbolic link; give the folder itself, or another --out"
    if not out.exists():
        return None
    if not out.is_dir():
        return f"{out} is a file, not a bundle folder; choose another --out (nothing was changed)"
    try:
        entries = sorted(os.listdir(out))
    except OSError as e:
        return f"{out} cannot be read ({e.strerror}); choose another --out"
    if not entries:
        return None
    foreign = [
        name
        for name in entries
        if name not in BUNDLE_FILES or (out / name).is_symlink() or not (out / name).is_file()
    ]
    if foreign or "manifest.json" not in entries:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        what = f"it holds {shown}, which" if foreign else "it has no manifest.json, so it"
        return (
            f"{out} is not a bundle: {what} no bundle holds. Nothing was changed; "
            "choose a new or empty folder for --out (or move those files away)"
        )
    return None


def check_replaceable(out: str | Path) -> None:
    """Raise ReplaceError unless a bundle may be written at ``out`` (see :func:`why_not_replaceable`),
    including whether its parent folder can be written."""
    out = Path(out)
    problem = why_not_replaceable(out)
    if problem:
        raise ReplaceError(problem)
    parent = out.parent
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise ReplaceError(
            f"{parent} is not writable, so {out.name} cannot be written there; choose another --out"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_copies(out: Path) -> list[Path]:
    """Remove the hidden staging folders ``.NAME.tmp-PID-*`` that killed writers left beside ``out``."""
    removed = []
    if not out.parent.is_dir():
        return removed
    for leftover in out.parent.glob(f".{out.name}.tmp-*"):
        pid = leftover.name.removeprefix(f".{out.name}.tmp-").split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)) and leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover)
    return removed


@contextlib.contextmanager
def staged_folder(out: str | Path) -> Iterator[Path]:
    """A private folder beside ``out`` to write a whole bundle into; when the block ends without an
    error it takes ``out``'s place by renames, so a process killed at any point leaves the previous
    bundle loadable; after an error it is removed.

    Only a missing or empty folder, or a bundle, is replaced (:func:`check_replaceable`), checked
    before anything is written and again just before the swap.
    """
    out = Path(out)
    check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_copies(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a bundle is read by other users (the container's)
    try:
        yield tmp
        check_replaceable(out)  # the folder may have changed while the bundle was written
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_into_place(new: Path, out: Path) -> None:
    if not out.exists():
        os.rename(new, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)  # between these two renames the previous bundle is at `old`
    os.rename(new, out)
    shutil.rmtree(old)
