"""Latent geometry for the explorer: interpolation, projections, grids, neighbours, densities.

Pure numpy (plus scipy for log-sum-exp and a k-d tree); no TensorFlow, so it imports fast and
is unit-tested on tiny synthetic arrays. Latents are float arrays ``(N, d)`` with
``d = latent_dim`` (1 to 256). The app computes every piece of latent geometry here and
never re-implements it.

The map is a 2-D view of the latent space given by a :class:`Projection`:

* ``d == 2``: the identity, so the map shows true latent coordinates;
* ``d > 2``: the first two principal components of the encoded points;
* ``d == 1``: the single dimension on x, and y is always 0.

``project`` takes latents to map coordinates and ``lift`` takes map coordinates back to a
latent point (keeping a base point's component orthogonal to the map plane).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import logsumexp

MIN_STEPS, MAX_STEPS = 2, 32
MAX_PLANE_GRID = 60
_LOG_2PI = float(np.log(2.0 * np.pi))
_TINY = 1e-12
_CHUNK_ENTRIES = 2_000_000  # max (points x components) entries held at once in a density


# --- validation -----------------------------------------------------------------------------------


def _as_int(value: object, name: str, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int in [lo, hi], or raise ValueError saying what is allowed."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        allowed = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return int(value)


def _as_matrix(z: object, name: str = "z", d: int | None = None) -> np.ndarray:
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


def _as_vector(v: object, name: str, d: int | None = None) -> np.ndarray:
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


def _as_labels(labels: object, n: int, n_classes: int) -> np.ndarray:
    """Return integer class labels ``(n,)`` in [0, n_classes), or raise ValueError."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes}), got [{arr.min()}, {arr.max()}]; "
            "pass the right n_classes"
        )
    return arr


def _as_limits(lim: object, name: str) -> tuple[float, float]:
    """Return a finite ``(lo, hi)`` pair with lo < hi, or raise ValueError."""
    try:
        lo, hi = (float(v) for v in lim)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (lo, hi), got {lim!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with lo < hi, got ({lo}, {hi})")
    return lo, hi


# --- interpolation --------------------------------------------------------------------------------


def interpolate(a: object, b: object, steps: int, path: str = "linear") -> np.ndarray:
    """Points from ``a`` to ``b`` inclusive: ``(steps, d)``; row 0 is ``a``, row -1 is ``b``.

    ``path="linear"`` moves on the straight segment. ``path="spherical"`` is slerp about the
    origin (White 2016, "Sampling generative networks"), which keeps the norm of
    equal-norm endpoints, as typical samples of N(0, I) have. Slerp falls back to linear
    when either endpoint is ~zero or the two are (anti)parallel, where its great circle is
    undefined.
    """
    a = _as_vector(a, "a")
    b = _as_vector(b, "b", a.shape[0])
    steps = _as_int(steps, "steps", MIN_STEPS, MAX_STEPS)
    if path not in ("linear", "spherical"):
        raise ValueError(f"path must be 'linear' or 'spherical', got {path!r}")
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    out = (1.0 - t) * a + t * b  # (steps, d)
    if path == "spherical":
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        if na > 1e-8 and nb > 1e-8:
            cos = float(np.clip(a @ b / (na * nb), -1.0, 1.0))
            omega = np.arccos(cos)
            sin = np.sin(omega)
            if sin > 1e-6:
                out = (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / sin
    out[0], out[-1] = a, b  # exact endpoints
    return out


# --- classes and neighbours -----------------------------------------------------------------------


def class_centroids(z: object, labels: object, n_classes: int = 10) -> np.ndarray:
    """Mean latent of each class: ``(n_classes, d)``; a class without points is an error."""
    z = _as_matrix(z)
    n_classes = _as_int(n_classes, "n_classes", 1)
    labels = _as_labels(labels, z.shape[0], n_classes)
    counts = np.bincount(labels, minlength=n_classes)  # (n_classes,)
    if np.any(counts == 0):
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"classes {missing} have no points, so they have no centroid")
    sums = np.zeros((n_classes, z.shape[1]))  # (n_classes, d)
    np.add.at(sums, labels, z)
    return sums / counts[:, None]


def nearest_neighbours(z: object, query: object, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(k,)`` and Euclidean distances ``(k,)`` of the rows of ``z`` nearest ``query``.

    Sorted by distance (ties by index); ``k`` is clipped to the number of points.
    """
    z = _as_matrix(z)
    query = _as_vector(query, "query", z.shape[1])
    k = min(_as_int(k, "k", 1), z.shape[0])
    dist = np.sqrt(np.sum((z - query) ** 2, axis=1))  # (N,)
    idx = np.argpartition(dist, k - 1)[:k] if k < dist.shape[0] else np.arange(dist.shape[0])
    idx = idx[np.lexsort((idx, dist[idx]))]  # (k,) by distance, then index
    return idx, dist[idx]


def class_shares(labels: object, n_classes: int = 10) -> np.ndarray:
    """Fraction of points in each class: ``(n_classes,)``, summing to 1."""
    n_classes = _as_int(n_classes, "n_classes", 1)
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {arr.shape}")
    labels = _as_labels(arr, arr.shape[0], n_classes)
    return np.bincount(labels, minlength=n_classes) / labels.shape[0]


def knn_accuracy(
    train_z: object, train_labels: object, test_z: object, test_labels: object, k: int = 5
) -> float:
    """Accuracy of a k-nearest-neighbour classifier (Euclidean) fitted on ``train_z``.

    Each test point takes the majority label of its ``k`` nearest training points; a tie is
    broken by the nearest neighbour whose label is among the tied classes.
    """
    train_z = _as_matrix(train_z, "train_z")
    test_z = _as_matrix(test_z, "test_z", train_z.shape[1])
    k = min(_as_int(k, "k", 1), train_z.shape[0])
    train_y, test_y = np.asarray(train_labels), np.asarray(test_labels)
    if train_y.shape != (train_z.shape[0],) or test_y.shape != (test_z.shape[0],):
        raise ValueError("train_labels / test_labels must have one label per row of z")
    classes, train_idx = np.unique(train_y, return_inverse=True)  # (C,), (N,)
    _, nn = cKDTree(train_z).query(test_z, k=k)
    nn = np.asarray(nn).reshape(test_z.shape[0], k)  # (M, k), nearest first
    nn_labels = train_idx[nn]  # (M, k)
    rows = np.arange(test_z.shape[0])
    counts = np.zeros((test_z.shape[0], classes.shape[0]), dtype=np.int64)  # (M, C)
    for j in range(k):
        counts[rows, nn_labels[:, j]] += 1
    votes = counts[rows[:, None], nn_labels]  # (M, k) votes for each neighbour's class
    first_winner = np.argmax(votes == votes.max(axis=1, keepdims=True), axis=1)  # (M,)
    predicted = classes[nn_labels[rows, first_winner]]  # (M,)
    return float(np.mean(predicted == test_y))


def latent_stats(z: object) -> dict[str, np.ndarray]:
    """Per-dimension ``min``, ``max``, ``mean`` and ``std`` of ``z``, each ``(d,)``."""
    z = _as_matrix(z)
    return {
        "min": z.min(axis=0),
        "max": z.max(axis=0),
        "mean": z.mean(axis=0),
        "std": z.std(axis=0),
    }


# --- projection -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Projection:
    """Affine map from latents to the 2-D map: ``xy = (z - mean) @ components.T``."""

    mean: np.ndarray  # (d,) origin of the map in latent space
    components: np.ndarray  # (2, d) map directions; orthonormal rows (row 1 is 0 when d == 1)
    explained_variance_ratio: np.ndarray  # (2,) share of the variance of z along each row


def _pca(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean ``(d,)``, all principal directions ``(d, d)`` and their variances ``(d,)``.

    Uses the SVD of the ``(d, d)`` scatter matrix, so memory does not grow with N. Signs are
    deterministic: the largest-magnitude entry of each direction is positive.
    """
    mean = z.mean(axis=0)  # (d,)
    centred = z - mean  # (N, d)
    _, s, vt = np.linalg.svd(centred.T @ centred)  # s: (d,), vt: (d, d)
    pivot = np.argmax(np.abs(vt), axis=1)  # (d,)
    vt = vt * np.sign(vt[np.arange(vt.shape[0]), pivot])[:, None]
    return mean, vt, s / z.shape[0]


def fit_projection(z: object) -> Projection:
    """The map projection for latents ``z`` ``(N, d)``.

    d == 2: identity (mean 0), so the map shows true latent coordinates. d > 2: the first
    two principal components. d == 1: x is the latent value itself and y is always 0
    (components ``[[1], [0]]``, mean 0).
    """
    z = _as_matrix(z)
    d = z.shape[1]
    if d <= 2:
        var = np.zeros(2)
        var[:d] = z.var(axis=0)
        total = var.sum()
        ratio = var / total if total > 0 else np.zeros(2)
        return Projection(np.zeros(d), np.eye(2, d), ratio)
    mean, vt, var = _pca(z)
    total = var.sum()
    ratio = var[:2] / total if total > 0 else np.zeros(2)
    return Projection(mean, vt[:2].copy(), ratio)


def project(proj: Projection, z: object) -> np.ndarray:
    """Map coordinates ``(N, 2)`` of latents ``z`` ``(N, d)`` (a single ``(d,)`` gives (1, 2))."""
    z = _as_matrix(np.atleast_2d(np.asarray(z, dtype=np.float64)), "z", proj.mean.shape[0])
    return (z - proj.mean) @ proj.components.T


def lift(proj: Projection, xy: object, base: object = None) -> np.ndarray:
    """Latent points ``(N, d)`` that sit at map coordinates ``xy`` ``(N, 2)``.

    Each is ``base`` (default ``proj.mean``; ``(d,)`` or ``(N, d)``) with its component along
    the two map directions replaced by ``xy``, so ``project(proj, lift(proj, xy, base)) == xy``
    and the part of ``base`` orthogonal to the map is kept. For d == 2 this is the identity;
    for d == 1 the y coordinate is ignored.
    """
    d = proj.mean.shape[0]
    xy = _as_matrix(np.atleast_2d(np.asarray(xy, dtype=np.float64)), "xy", 2)
    base = proj.mean if base is None else np.asarray(base, dtype=np.float64)
    base = _as_matrix(np.atleast_2d(base), "base", d)  # (1 or N, d)
    if base.shape[0] not in (1, xy.shape[0]):
        raise ValueError(f"base must have 1 or {xy.shape[0]} rows, got {base.shape[0]}")
    current = (base - proj.mean) @ proj.components.T  # (1 or N, 2)
    return base + (xy - current) @ proj.components  # (N, d)


# --- grids and limits -----------------------------------------------------------------------------


def plane_grid(x_lim: object, y_lim: object, n: int) -> np.ndarray:
    """``(n*n, 2)`` evenly spaced map points in image order, for the decoded manifold.

    Row 0 of the image is the top (largest y); columns run left to right (increasing x);
    point ``r * n + c`` is row r, column c. The grid includes the limits; n == 1 is the centre.
    """
    (x0, x1), (y0, y1) = _as_limits(x_lim, "x_lim"), _as_limits(y_lim, "y_lim")
    n = _as_int(n, "n", 1, MAX_PLANE_GRID)
    if n == 1:
        return np.array([[(x0 + x1) / 2.0, (y0 + y1) / 2.0]])
    xs = np.linspace(x0, x1, n)  # (n,) left to right
    ys = np.linspace(y1, y0, n)  # (n,) top to bottom
    gx, gy = np.meshgrid(xs, ys)  # (n, n) each, indexed [row, col]
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def hit_grid(x_lim: object, y_lim: object, n: int = 60) -> np.ndarray:
    """``(n*n, 2)`` evenly spaced points covering the map, edges included.

    Drawn as an invisible trace so that a click on empty map space still selects a point.
    """
    (x0, x1), (y0, y1) = _as_limits(x_lim, "x_lim"), _as_limits(y_lim, "y_lim")
    n = _as_int(n, "n", 2, 300)
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))  # (n, n) each
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def map_limits(
    xy: object, pad: float = 0.05, quantile: float = 0.001
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits ``((xmin, xmax), (ymin, ymax))`` for map points ``xy`` ``(N, 2)``.

    Robust to outliers: spans the ``quantile`` to ``1 - quantile`` range of each axis, widened
    by ``pad`` times that span on each side. A flat axis gets a span of 1 around its value.
    """
    xy = _as_matrix(xy, "xy", 2)
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"quantile must be in [0, 0.5), got {quantile}")
    if not 0.0 <= pad < 10.0:
        raise ValueError(f"pad must be in [0, 10), got {pad}")
    lo = np.quantile(xy, quantile, axis=0)  # (2,)
    hi = np.quantile(xy, 1.0 - quantile, axis=0)  # (2,)
    span = hi - lo
    flat = span <= 1e-12
    lo, hi = np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi)
    span = np.where(flat, 1.0, span)
    lo, hi = lo - pad * span, hi + pad * span
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


# --- sliders --------------------------------------------------------------------------------------


def slider_ranges(z: object, n_std: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Slider bounds ``lo, hi`` ``(d,)`` = mean -/+ ``n_std`` * std of each dimension of ``z``.

    A constant dimension gets std 1, so its slider still has a usable range.
    """
    z = _as_matrix(z)
    if not (np.isfinite(n_std) and n_std > 0):
        raise ValueError(f"n_std must be positive, got {n_std}")
    mean, std = z.mean(axis=0), z.std(axis=0)  # (d,), (d,)
    std = np.where(std > 1e-12, std, 1.0)
    return mean - n_std * std, mean + n_std * std


def clip_to_ranges(z: object, lo: object, hi: object) -> np.ndarray:
    """``z`` (``(d,)`` or ``(N, d)``) clipped into ``[lo, hi]`` per dimension."""
    arr = np.asarray(z, dtype=np.float64)
    d = arr.shape[-1] if arr.ndim else 0
    lo, hi = _as_vector(lo, "lo", d), _as_vector(hi, "hi", d)
    if np.any(lo > hi):
        raise ValueError("lo must not exceed hi in any dimension")
    return np.clip(arr, lo, hi)


def principal_directions(z: object, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean ``(d,)``, top-``k`` principal directions ``(k, d)`` and the std along each ``(k,)``.

    For models with many latent dimensions: k sliders along these directions move through
    the bulk of the latent distribution.
    """
    z = _as_matrix(z)
    k = _as_int(k, "k", 1, z.shape[1])
    mean, vt, var = _pca(z)
    return mean, vt[:k].copy(), np.sqrt(var[:k])


def point_from_principal(mean: object, components: object, coeffs: object) -> np.ndarray:
    """Latent point ``(d,)`` = ``mean + coeffs @ components`` (coeffs ``(k,)``)."""
    components = _as_matrix(components, "components")
    mean = _as_vector(mean, "mean", components.shape[1])
    coeffs = _as_vector(coeffs, "coeffs", components.shape[0])
    return mean + coeffs @ components


def principal_coeffs(mean: object, components: object, point: object) -> np.ndarray:
    """Coefficients ``(k,)`` of ``point`` ``(d,)``: the inverse of ``point_from_principal``.

    Exact for points in the span of the (orthonormal) components; otherwise the projection.
    """
    components = _as_matrix(components, "components")
    mean = _as_vector(mean, "mean", components.shape[1])
    point = _as_vector(point, "point", components.shape[1])
    return components @ (point - mean)


# --- uncertainty and densities --------------------------------------------------------------------


def posterior_ellipse(
    proj: Projection, z_mean: object, z_log_var: object, n_std: float = 2.0, n_points: int = 48
) -> np.ndarray:
    """Closed polygon ``(n_points + 1, 2)`` in map coordinates: the ``n_std`` contour of the
    projected posterior N(z_mean, diag(exp(z_log_var))); the last point repeats the first.
    """
    d = proj.mean.shape[0]
    z_mean = _as_vector(z_mean, "z_mean", d)
    var = np.exp(_as_vector(z_log_var, "z_log_var", d))  # (d,)
    n_points = _as_int(n_points, "n_points", 3, 10_000)
    if not (np.isfinite(n_std) and n_std > 0):
        raise ValueError(f"n_std must be positive, got {n_std}")
    c = proj.components  # (2, d)
    cov = (c * var) @ c.T  # (2, 2)
    eigval, eigvec = np.linalg.eigh(cov)  # (2,), (2, 2)
    theta = np.linspace(0.0, 2.0 * np.pi, n_points + 1)  # (n_points + 1,)
    circle = np.stack([np.cos(theta), np.sin(theta)])  # (2, n_points + 1)
    offsets = (eigvec * (n_std * np.sqrt(np.clip(eigval, 0.0, None)))) @ circle  # (2, n + 1)
    polygon = project(proj, z_mean) + offsets.T  # (n_points + 1, 2)
    polygon[-1] = polygon[0]
    return polygon


def _mixture_log_density(
    points: np.ndarray, log_weights: np.ndarray, means: np.ndarray, log_vars: np.ndarray
) -> np.ndarray:
    """log sum_k w_k N(points; means_k, diag(exp(log_vars_k))): ``(N,)``, in bounded chunks."""
    inv_var = np.exp(-log_vars)  # (K, d)
    # Per component: log w - 0.5 * (d log 2pi + sum log var + sum mean^2 / var)
    const = log_weights - 0.5 * (
        means.shape[1] * _LOG_2PI + log_vars.sum(axis=1) + np.sum(means**2 * inv_var, axis=1)
    )  # (K,)
    mean_over_var = means * inv_var  # (K, d)
    chunk = max(1, _CHUNK_ENTRIES // means.shape[0])
    out = np.empty(points.shape[0])
    for start in range(0, points.shape[0], chunk):
        x = points[start : start + chunk]  # (n, d)
        quad = -0.5 * (x**2 @ inv_var.T) + x @ mean_over_var.T  # (n, K)
        out[start : start + chunk] = logsumexp(quad + const, axis=1)
    return out


def prior_log_density(
    points: object,
    weights: object = None,
    means: object = None,
    log_vars: object = None,
) -> np.ndarray:
    """Log density of the prior at ``points`` ``(N, d)``: ``(N,)``.

    N(0, I) by default; with ``weights (K,)``, ``means (K, d)`` and ``log_vars (K, d)`` a
    mixture of diagonal Gaussians (weights are normalised to sum to 1).
    """
    points = _as_matrix(points, "points")
    given = [v is not None for v in (weights, means, log_vars)]
    if not any(given):
        return -0.5 * (points.shape[1] * _LOG_2PI + np.sum(points**2, axis=1))
    if not all(given):
        raise ValueError("give all of weights, means and log_vars for a mixture prior, or none")
    means = _as_matrix(means, "means", points.shape[1])
    log_vars = _as_matrix(log_vars, "log_vars", points.shape[1])
    weights = _as_vector(weights, "weights", means.shape[0])
    if log_vars.shape != means.shape:
        raise ValueError(f"log_vars shape {log_vars.shape} must match means {means.shape}")
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("mixture weights must be non-negative with a positive sum")
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights / weights.sum())  # (K,)
    return _mixture_log_density(points, log_weights, means, log_vars)


def aggregate_posterior_log_density(
    points: object,
    z_mean: object,
    z_log_var: object,
    max_components: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """Log density ``(N,)`` at ``points`` of the aggregate posterior (1/M) sum_i N(z_mean_i, var_i).

    When there are more than ``max_components`` encoded points, a fixed random subset (from
    ``seed``) of that size is used, so the result is deterministic and the cost bounded.
    """
    z_mean = _as_matrix(z_mean, "z_mean")
    z_log_var = _as_matrix(z_log_var, "z_log_var", z_mean.shape[1])
    if z_log_var.shape != z_mean.shape:
        raise ValueError(f"z_log_var shape {z_log_var.shape} must match z_mean {z_mean.shape}")
    points = _as_matrix(points, "points", z_mean.shape[1])
    max_components = _as_int(max_components, "max_components", 1)
    if z_mean.shape[0] > max_components:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(z_mean.shape[0], max_components, replace=False))  # (M,)
        z_mean, z_log_var = z_mean[keep], z_log_var[keep]  # (M, d) each
    log_weights = np.full(z_mean.shape[0], -np.log(z_mean.shape[0]))  # (M,)
    return _mixture_log_density(points, log_weights, z_mean, z_log_var)


# ---------------------------------------------------------------------------- app helpers


def click_to_latent(
    proj: Projection,
    xy: np.ndarray,
    click: tuple[float, float],
    units: tuple[float, float],
    base: np.ndarray,
    z_mean: np.ndarray,
    visible: np.ndarray | None = None,
    radius_px: float = 6.0,
) -> tuple[int | None, np.ndarray]:
    """The latent point a click on the map means: ``(index or None, z (d,))``.

    A click within ``radius_px`` screen pixels of a (visible) encoded test point selects that
    point: its index and its ``z_mean``. Any other click decodes that exact map location,
    lifted into latent space through ``base`` (the current point; the part of it orthogonal
    to the map plane is kept). ``xy`` (n, 2) are the points' map coordinates, ``units`` the
    map units per screen pixel along x and y, ``visible`` an optional (n,) bool mask.
    """
    click_xy = np.asarray(click, dtype=np.float64).reshape(2)
    scale = np.maximum(np.asarray(units, dtype=np.float64).reshape(2), 1e-12)
    candidates = np.arange(len(xy)) if visible is None else np.flatnonzero(visible)
    if candidates.size:
        in_pixels = (np.asarray(xy, dtype=np.float64)[candidates] - click_xy) / scale  # (m, 2)
        idx, dist = nearest_neighbours(in_pixels, np.zeros(2), 1)
        if dist[0] <= radius_px:
            index = int(candidates[idx[0]])
            return index, np.asarray(z_mean[index], dtype=np.float64)
    return None, lift(proj, click_xy[None, :], base)[0]


def sample_prior(prior, d: int, n: int, seed: int) -> np.ndarray:
    """``n`` latent samples ``(n, d)`` from the prior: N(0, I), or a diagonal Gaussian mixture
    (an object with ``weights (K,)``, ``means (K, d)``, ``log_vars (K, d)``)."""
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n, d))  # (n, d)
    if prior is None:
        return eps
    weights = np.asarray(prior.weights, dtype=np.float64)
    component = rng.choice(len(weights), size=n, p=weights / weights.sum())  # (n,)
    means, log_vars = np.asarray(prior.means), np.asarray(prior.log_vars)
    return means[component] + np.exp(0.5 * log_vars[component]) * eps


def percentile_of(value: float, sample: np.ndarray) -> float:
    """Share of ``sample`` strictly below ``value`` (0 to 1): where an upload's -ELBO falls."""
    sample = np.asarray(sample, dtype=np.float64)
    return float(np.mean(sample < value)) if sample.size else float("nan")


def default_region(proj: Projection, half_width: float = 2.5) -> tuple[tuple[float, float], tuple[float, float]]:
    """Map limits of a square of side ``2 * half_width`` centred on the prior's mean (z = 0)."""
    cx, cy = project(proj, np.zeros(proj.mean.shape[0]))[0]
    return (cx - half_width, cx + half_width), (cy - half_width, cy + half_width)
