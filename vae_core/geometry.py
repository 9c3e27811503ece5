"""Latent geometry for the explorer: the map projection, grids, limits, slider ranges,
interpolation, neighbours, posterior ellipses and what a click on the map means.

Pure numpy (plus scipy's k-d tree for gaps and overlaps); no TensorFlow, so it imports
fast and is unit-tested on tiny synthetic arrays. Latents are float arrays ``(N, d)`` with
``d = latent_dim`` (1 to 256).

The map is a 2-D view of the latent space given by a :class:`Projection`:

* ``d == 2``: the identity, so the map shows true latent coordinates;
* ``d > 2``: the first two principal components of the encoded points;
* ``d == 1``: the single dimension on x, and y is always 0.

``project`` takes latents to map coordinates and ``lift`` takes map coordinates back to a
latent point (keeping a base point's component orthogonal to the map plane).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .arrays import as_int, as_labels, as_limits, as_matrix, as_vector

MIN_STEPS, MAX_STEPS = 2, 32  # interpolation frames
MAX_GRID = 90  # points per side of a grid over the map (the density background uses 90)
SLIDER_STD = 4.0  # sliders span the mean -/+ this many standard deviations of the encoded test set


# --- interpolation --------------------------------------------------------------------------------


def interpolate(a: object, b: object, steps: int, path: str = "linear") -> np.ndarray:
    """Points from ``a`` to ``b`` inclusive: ``(steps, d)``; row 0 is ``a``, row -1 is ``b``.

    ``path="linear"`` moves on the straight segment. ``path="spherical"`` is slerp about the
    origin (White 2016, "Sampling generative networks"), which keeps the norm of
    equal-norm endpoints, as typical samples of N(0, I) have. Slerp falls back to linear
    when either endpoint is ~zero or the two are (anti)parallel, where its great circle is
    undefined.
    """
    a = as_vector(a, "a")
    b = as_vector(b, "b", a.shape[0])
    steps = as_int(steps, "steps", MIN_STEPS, MAX_STEPS)
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
    z = as_matrix(z)
    n_classes = as_int(n_classes, "n_classes", 1)
    labels = as_labels(labels, z.shape[0], n_classes)
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
    z = as_matrix(z)
    query = as_vector(query, "query", z.shape[1])
    k = min(as_int(k, "k", 1), z.shape[0])
    dist = np.sqrt(np.sum((z - query) ** 2, axis=1))  # (N,)
    idx = np.argpartition(dist, k - 1)[:k] if k < dist.shape[0] else np.arange(dist.shape[0])
    idx = idx[np.lexsort((idx, dist[idx]))]  # (k,) by distance, then index
    return idx, dist[idx]


def class_shares(labels: object, n_classes: int = 10) -> np.ndarray:
    """Fraction of points in each class: ``(n_classes,)``, summing to 1."""
    n_classes = as_int(n_classes, "n_classes", 1)
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {arr.shape}")
    labels = as_labels(arr, arr.shape[0], n_classes)
    return np.bincount(labels, minlength=n_classes) / labels.shape[0]


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
    z = as_matrix(z)
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
    z = as_matrix(np.atleast_2d(np.asarray(z, dtype=np.float64)), "z", proj.mean.shape[0])
    return (z - proj.mean) @ proj.components.T


def lift(proj: Projection, xy: object, base: object = None) -> np.ndarray:
    """Latent points ``(N, d)`` that sit at map coordinates ``xy`` ``(N, 2)``.

    Each is ``base`` (default ``proj.mean``; ``(d,)`` or ``(N, d)``) with its component along
    the two map directions replaced by ``xy``, so ``project(proj, lift(proj, xy, base)) == xy``
    and the part of ``base`` orthogonal to the map is kept. For d == 2 this is the identity;
    for d == 1 the y coordinate is ignored.
    """
    d = proj.mean.shape[0]
    xy = as_matrix(np.atleast_2d(np.asarray(xy, dtype=np.float64)), "xy", 2)
    base = proj.mean if base is None else np.asarray(base, dtype=np.float64)
    base = as_matrix(np.atleast_2d(base), "base", d)  # (1 or N, d)
    if base.shape[0] not in (1, xy.shape[0]):
        raise ValueError(f"base must have 1 or {xy.shape[0]} rows, got {base.shape[0]}")
    current = (base - proj.mean) @ proj.components.T  # (1 or N, 2)
    return base + (xy - current) @ proj.components  # (N, d)


# --- grids and limits -----------------------------------------------------------------------------


def grid(x_lim: object, y_lim: object, n: int) -> np.ndarray:
    """``(n*n, 2)`` evenly spaced map points in image order, limits included.

    Row 0 of the image is the top (largest y); columns run left to right (increasing x);
    point ``r * n + c`` is row r, column c. n == 1 is the centre. Used for the decoded
    manifold and, reshaped to ``(n, n)``, for the density background.
    """
    (x0, x1), (y0, y1) = as_limits(x_lim, "x_lim"), as_limits(y_lim, "y_lim")
    n = as_int(n, "n", 1, MAX_GRID)
    if n == 1:
        return np.array([[(x0 + x1) / 2.0, (y0 + y1) / 2.0]])
    xs = np.linspace(x0, x1, n)  # (n,) left to right
    ys = np.linspace(y1, y0, n)  # (n,) top to bottom
    gx, gy = np.meshgrid(xs, ys)  # (n, n) each, indexed [row, col]
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def map_limits(
    xy: object, pad: float = 0.05, quantile: float = 0.001
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits ``((xmin, xmax), (ymin, ymax))`` for map points ``xy`` ``(N, 2)``.

    Robust to outliers: spans the ``quantile`` to ``1 - quantile`` range of each axis, widened
    by ``pad`` times that span on each side. A flat axis gets a span of 1 around its value.
    """
    xy = as_matrix(xy, "xy", 2)
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"quantile must be in [0, 0.5), got {quantile}")
    if not 0.0 <= pad < 10.0:
        raise ValueError(f"pad must be in [0, 10), got {pad}")
    low = np.quantile(xy, quantile, axis=0)  # (2,)
    high = np.quantile(xy, 1.0 - quantile, axis=0)  # (2,)
    span = high - low
    flat = span <= 1e-12
    low, high = np.where(flat, low - 0.5, low), np.where(flat, high + 0.5, high)
    span = np.where(flat, 1.0, span)
    low, high = low - pad * span, high + pad * span
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


# --- sliders --------------------------------------------------------------------------------------


def slider_ranges(z: object, n_std: float = SLIDER_STD) -> tuple[np.ndarray, np.ndarray]:
    """Slider bounds ``low, high`` ``(d,)`` = mean -/+ ``n_std`` * std of each dimension of ``z``.

    A constant dimension gets std 1, so its slider still has a usable range.
    """
    z = as_matrix(z)
    if not (np.isfinite(n_std) and n_std > 0):
        raise ValueError(f"n_std must be positive, got {n_std}")
    mean, std = z.mean(axis=0), z.std(axis=0)  # (d,), (d,)
    std = np.where(std > 1e-12, std, 1.0)
    return mean - n_std * std, mean + n_std * std


def clip_to_ranges(z: object, low: object, high: object) -> np.ndarray:
    """``z`` (``(d,)`` or ``(N, d)``) clipped into ``[low, high]`` per dimension."""
    arr = np.asarray(z, dtype=np.float64)
    d = arr.shape[-1] if arr.ndim else 0
    low, high = as_vector(low, "low", d), as_vector(high, "high", d)
    if np.any(low > high):
        raise ValueError("low must not exceed high in any dimension")
    return np.clip(arr, low, high)


def principal_directions(z: object, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean ``(d,)``, top-``k`` principal directions ``(k, d)`` and the std along each ``(k,)``.

    For models with many latent dimensions: k sliders along these directions move through
    the bulk of the latent distribution.
    """
    z = as_matrix(z)
    k = as_int(k, "k", 1, z.shape[1])
    mean, vt, var = _pca(z)
    return mean, vt[:k].copy(), np.sqrt(var[:k])


def principal_coeffs(mean: object, components: object, point: object) -> np.ndarray:
    """Coefficients ``(k,)`` of ``point`` ``(d,)`` along orthonormal ``components`` ``(k, d)``
    about ``mean``: ``point = mean + coeffs @ components`` for points in their span.
    """
    components = as_matrix(components, "components")
    mean = as_vector(mean, "mean", components.shape[1])
    point = as_vector(point, "point", components.shape[1])
    return components @ (point - mean)


# --- uncertainty ----------------------------------------------------------------------------------


def posterior_ellipse(
    proj: Projection, z_mean: object, z_log_var: object, n_std: float = 2.0, n_points: int = 48
) -> np.ndarray:
    """Closed polygon ``(n_points + 1, 2)`` in map coordinates: the ``n_std`` contour of the
    projected posterior N(z_mean, diag(exp(z_log_var))); the last point repeats the first.
    """
    d = proj.mean.shape[0]
    z_mean = as_vector(z_mean, "z_mean", d)
    var = np.exp(as_vector(z_log_var, "z_log_var", d))  # (d,)
    n_points = as_int(n_points, "n_points", 3, 10_000)
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


# --- the map's pointer ----------------------------------------------------------------------------


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


def default_region(
    proj: Projection, half_width: float = 2.5
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Map limits of a square of side ``2 * half_width`` centred on the prior's mean (z = 0)."""
    cx, cy = project(proj, np.zeros(proj.mean.shape[0]))[0]
    return (cx - half_width, cx + half_width), (cy - half_width, cy + half_width)


# --- what the map's shape teaches: gaps and overlaps ----------------------------------------------


def widest_gap(xy: object, n: int = 60, bulk: float = 0.8) -> tuple[np.ndarray, float]:
    """The spot of the map ``(2,)`` farthest from every encoded point, and that distance.

    Only spots inside the data's bulk count (no farther from the points' mean than ``bulk`` of
    the points are), so the answer is a hole among the classes, not the empty space around them.
    """
    xy = as_matrix(xy, "xy", 2)
    n = as_int(n, "n", 2, MAX_GRID)
    if not 0 < bulk <= 1:
        raise ValueError(f"bulk must be in (0, 1], got {bulk}")
    centre = xy.mean(axis=0)
    radius = np.quantile(np.linalg.norm(xy - centre, axis=1), bulk)
    low, high = centre - radius, centre + radius
    candidates = grid((low[0], high[0]), (low[1], high[1]), n)  # (n * n, 2)
    candidates = candidates[np.linalg.norm(candidates - centre, axis=1) <= radius]
    dist, _ = cKDTree(xy).query(candidates)
    best = int(np.argmax(dist))
    return candidates[best], float(dist[best])


def closest_pair(z: object, labels: object, a: int, b: int) -> tuple[int, int, float]:
    """The two points of classes ``a`` and ``b`` nearest each other: (row of a, row of b, distance)."""
    z = as_matrix(z)
    labels = np.asarray(labels)
    rows_a, rows_b = np.flatnonzero(labels == a), np.flatnonzero(labels == b)
    if rows_a.size == 0 or rows_b.size == 0:
        raise ValueError(f"classes {a} and {b} both need points, got {rows_a.size} and {rows_b.size}")
    dist, nearest = cKDTree(z[rows_b]).query(z[rows_a])  # for each point of a, its nearest b
    i = int(np.argmin(dist))
    return int(rows_a[i]), int(rows_b[nearest[i]]), float(dist[i])


def most_confused_classes(z: object, labels: object, n_classes: int, k: int = 5) -> tuple[int, int]:
    """The two classes whose points most often have each other among their ``k`` nearest
    neighbours (counted both ways, relative to the smaller class): where the map overlaps most."""
    z = as_matrix(z)
    labels = as_labels(np.asarray(labels), z.shape[0], n_classes)
    if len(np.unique(labels)) < 2:
        raise ValueError("the points need at least two classes to have a confused pair")
    k = min(as_int(k, "k", 1), z.shape[0] - 1)
    _, nn = cKDTree(z).query(z, k=k + 1)
    pairs = np.zeros((n_classes, n_classes))
    np.add.at(pairs, (np.repeat(labels, k), labels[np.asarray(nn)[:, 1:]].ravel()), 1.0)
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    mutual = (pairs + pairs.T) / np.maximum(np.minimum.outer(counts, counts), 1.0)
    np.fill_diagonal(mutual, -1.0)
    a, b = np.unravel_index(int(np.argmax(mutual)), mutual.shape)
    return (int(min(a, b)), int(max(a, b)))


def neighbour_purity(z: object, labels: object, k: int = 5, n_classes: int = 10) -> np.ndarray:
    """For each class ``(n_classes,)``: the share of its points' ``k`` nearest neighbours (not
    counting the point itself) that belong to the same class (NaN for an empty class)."""
    z = as_matrix(z)
    labels = as_labels(np.asarray(labels), z.shape[0], n_classes)
    k = min(as_int(k, "k", 1), z.shape[0] - 1)
    _, nn = cKDTree(z).query(z, k=k + 1)
    same = (labels[np.asarray(nn)[:, 1:]] == labels[:, None]).mean(axis=1)  # (N,)
    counts = np.bincount(labels, minlength=n_classes)
    sums = np.bincount(labels, weights=same, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


TRAVERSAL_STEPS = 7
TRAVERSAL_SPAN = 3.0  # each row runs from -3 to +3 of its dimension's spread over the data


def traversal_order(kl: object) -> np.ndarray:
    """The dimensions in the traversals' row order: by average KL, largest first (ties by index)."""
    kl = np.asarray(kl, dtype=np.float64).ravel()
    return np.lexsort((np.arange(len(kl)), -kl))


def traversal_points(
    z: object, spread: object, kl: object, steps: int = TRAVERSAL_STEPS, span: float = TRAVERSAL_SPAN
) -> tuple[np.ndarray, np.ndarray]:
    """The latent traversals of a point: for each dimension j (a row), ``steps`` points that keep
    every other coordinate of ``z`` and set z_j to z_j + t * spread_j for t from -span to +span.
    Rows are sorted by the dimension's average KL, largest first (ties by index).
    Returns (points (d, steps, d), the dimension of each row (d,))."""
    z = np.asarray(z, dtype=np.float64).ravel()
    spread, kl = np.asarray(spread, dtype=np.float64).ravel(), np.asarray(kl, dtype=np.float64).ravel()
    d = len(z)
    if spread.shape != (d,) or kl.shape != (d,):
        raise ValueError(f"z, spread and kl must each have {d} values")
    order = traversal_order(kl)
    offsets = np.linspace(-span, span, steps)
    points = np.repeat(z[None, None, :], steps, axis=1).repeat(d, axis=0)  # (d, steps, d)
    for row, j in enumerate(order):
        points[row, :, j] = z[j] + offsets * spread[j]
    return points, order
