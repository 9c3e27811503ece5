"""Reading files we did not write ourselves: only regular files, only inside the folder they belong
to, with the size limits checked before anything is read.

Every file a bundle holds goes through here (and the images of a data set): a FIFO or a device
named ``manifest.json`` would otherwise hang a reader or stream gigabytes, a link could read
``/etc/passwd``, and an archive could declare gigabytes of content in a few kilobytes. Errors
are :class:`FileProblem` with a message saying what is wrong (callers add how to fix it).
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np


class FileProblem(ValueError):
    """A file cannot be read safely: ``str()`` is "PATH REASON"; ``reason`` alone says what is wrong."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}{reason}" if reason.startswith(":") else f"{path} {reason}")
        self.path, self.reason = Path(path), reason


def inside(folder: Path, name: str, what: str = "the bundle folder") -> Path:
    """``folder / name``, refused unless it lies inside ``folder`` once links are followed."""
    file = Path(folder) / name
    try:
        real, root = file.resolve(), Path(folder).resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop of links
        raise FileProblem(file, "is a loop of symbolic links") from None
    if real == root or root not in real.parents:
        raise FileProblem(file, f"lies outside {what} {folder}: every file it names must be inside it")
    return file


def _open_regular(path: Path) -> int:
    """A descriptor of ``path`` opened for reading, only if it is a regular file (never blocks on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        if e.errno == 40:  # ELOOP: a symlink loop
            raise FileProblem(path, "is a loop of symbolic links") from None
        raise FileProblem(path, f"cannot be read ({e.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileProblem(path, "is not a regular file (a folder, pipe or device), so it is not read")
    return fd


def size_of(path: Path) -> int:
    """The size in bytes of a regular file (FileProblem for anything else, FileNotFoundError if missing)."""
    fd = _open_regular(Path(path))
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def read_bytes(path: Path, limit: int) -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes (checked before reading)."""
    fd = _open_regular(Path(path))
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise FileProblem(path, f"is {size:,} bytes, more than the {limit:,} allowed")
        data = f.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise FileProblem(path, f"is more than the {limit:,} bytes allowed")
    return data


MAX_INT_DIGITS = 18  # a count or a metric; more digits is a damaged or doctored file


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is too large for a number")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text.lstrip('-'))} digits is too long")
    return int(text)


def read_json(path: Path, limit: int) -> object:
    """Parsed JSON of a regular file of at most ``limit`` bytes: numbers only finite and of sane size
    (no NaN or Infinity, which Python's json would otherwise accept; no 400-digit integers)."""
    data = read_bytes(path, limit)
    try:
        return json.loads(
            data.decode("utf-8"),
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise FileProblem(path, f"is not valid JSON ({str(e)[:100]})") from None


def check_archive(
    path: Path, *, max_total: int, max_member: int, max_ratio: float, max_members: int = 10_000
) -> None:
    """Refuse a zip archive whose members declare more than ``max_member`` bytes each or
    ``max_total`` together, or a big member compressed more than ``max_ratio`` times (a zip bomb),
    before anything is unpacked. Python's zipfile never reads past a member's declared size."""
    fd = _open_regular(Path(path))
    try:
        with os.fdopen(fd, "rb") as f, zipfile.ZipFile(f) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise FileProblem(path, "is not a complete zip archive (truncated or corrupt)") from None
    if len(members) > max_members:
        raise FileProblem(path, f"holds {len(members):,} files, more than the {max_members:,} allowed")
    total = 0
    for info in members:
        total += info.file_size
        if info.file_size > max_member:
            raise FileProblem(
                path,
                f"has {info.filename[:80]}, which unpacks to {info.file_size:,} bytes, more than the "
                f"{max_member:,} allowed (a damaged or hostile archive)",
            )
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > 1_000_000 and ratio > max_ratio:
            raise FileProblem(
                path,
                f"has {info.filename[:80]}, which is compressed {ratio:,.0f} times "
                f"(more than {max_ratio:g}): a zip bomb, refused before unpacking",
            )
    if total > max_total:
        raise FileProblem(path, f"unpacks to {total:,} bytes, more than the {max_total:,} allowed")


# --- .npz arrays -------------------------------------------------------------------------------

Shape = tuple  # of ints (exact sizes) and names ("n", "k": one size shared by the arrays)


def npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of each array in an .npz, read from the .npy headers only (no data)."""
    headers = {}
    fd = _open_regular(Path(path))
    with os.fdopen(fd, "rb") as f, zipfile.ZipFile(f) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(
                        f"{info.filename} has .npy format version {version}, expected 1.0 or 2.0"
                    )
            headers[info.filename.removesuffix(".npy")] = (shape, dtype)
    return headers


def header_problem(
    key: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    want: Shape,
    sizes: dict[str, int],
    limits: dict[str, int],
) -> str:
    """Why an array's declared shape/dtype is unacceptable ("" when fine); binds named sizes."""
    if dtype.hasobject or dtype.kind not in "fiu" or dtype.itemsize > 8:
        return f"{key} has dtype {dtype}, which was refused: only plain numeric arrays are read"
    expected = "(" + ", ".join(str(w) for w in want) + ("," if len(want) == 1 else "") + ")"
    if len(shape) != len(want):
        return f"{key} has shape {shape}, expected {expected}"
    for size, w in zip(shape, want, strict=True):
        if isinstance(w, int) and size != w:
            return f"{key} has shape {shape}, expected {expected}"
        if isinstance(w, str):
            if size > limits[w]:
                return f"{key} declares {size:,} rows, more than the {limits[w]:,} allowed (shape {shape})"
            if sizes.setdefault(w, size) != size:
                return f"{key} has shape {shape}, but another array has {sizes[w]} rows: all need the same"
    return ""


def load_npz(
    path: Path, shapes: dict[str, Shape], limits: dict[str, int], optional: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """Arrays ``shapes`` of an .npz: their shapes and dtypes are checked from the .npy headers before
    any data is read, so a small file that declares a huge array costs nothing. Arrays named in
    ``optional`` may be absent. Raises FileProblem (FileNotFoundError when the file is missing)."""
    path = Path(path)
    try:
        headers = npz_headers(path)
        missing = [k for k in shapes if k not in headers and k not in optional]
        if missing:
            raise FileProblem(path, f"lacks the array(s) {', '.join(missing)}")
        sizes: dict[str, int] = {}
        for key, want in shapes.items():
            if key in headers:
                problem = header_problem(key, *headers[key], want, sizes, limits)
                if problem:
                    raise FileProblem(path, f": {problem}")
        fd = _open_regular(path)
        with os.fdopen(fd, "rb") as f, np.load(f, allow_pickle=False) as data:
            return {key: data[key] for key in shapes if key in headers}
    except ValueError as e:  # a bad .npy magic or header, or pickled objects
        if isinstance(e, FileProblem):
            raise
        raise FileProblem(path, f"was refused: {str(e)[:200]}; only plain numeric arrays are read") from None
    except (zipfile.BadZipFile, EOFError) as e:
        raise FileProblem(path, f"is not a readable .npz file ({str(e)[:200]})") from None
    except OSError as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise FileProblem(path, f"cannot be read ({e.strerror or e})") from None
