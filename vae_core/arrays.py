"""Argument checks shared by the pure numpy modules: each returns a clean array or raises a
ValueError that says what was expected and what came."""

from __future__ import annotations

from numbers import Integral

import numpy as np


def as_int(value: object, name: str, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int in [lo, hi], or raise ValueError saying what is allowed."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        allowed = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return int(value)


def as_matrix(z: object, name: str = "z", d: int | None = None) -> np.ndarray:
    """Return ``z`` as a finite float64 ``(N, d)`` array with N >= 1, or raise ValueError."""
    try:
        arr = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (N, d): {exc}") from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, d) with N, d >= 1, got {arr.shape}")
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"{name} has {arr.shape[1]} dimensions but {d} were expected")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; drop or fix those rows")
    return arr


def as_vector(v: object, name: str, d: int | None = None) -> np.ndarray:
    """Return ``v`` as a finite float64 ``(d,)`` vector, or raise ValueError."""
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric vector: {exc}") from None
    if arr.ndim != 1 or arr.shape[0] < 1:
        raise ValueError(f"{name} must be a 1-D vector, got shape {arr.shape}")
    if d is not None and arr.shape[0] != d:
        raise ValueError(f"{name} has length {arr.shape[0]} but {d} was expected")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_labels(labels: object, n: int, n_classes: int) -> np.ndarray:
    """Return integer class labels ``(n,)`` in [0, n_classes), or raise ValueError."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes}), got [{arr.min()}, {arr.max()}]; pass the right n_classes"
        )
    return arr


def as_limits(lim: object, name: str) -> tuple[float, float]:
    """Return a finite ``(lo, hi)`` pair with lo < hi, or raise ValueError."""
    try:
        lo, hi = (float(v) for v in lim)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (lo, hi), got {lim!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with lo < hi, got ({lo}, {hi})")
    return lo, hi
