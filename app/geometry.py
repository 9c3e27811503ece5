"""Pure helpers the app needs that vae_core.latent does not have yet (candidates to move there).

No Streamlit, no TensorFlow: plain numpy on top of ``vae_core.latent``, unit-tested in
tests/app/test_geometry.py.
"""

from __future__ import annotations

import numpy as np

from vae_core import latent


def click_to_latent(
    proj: latent.Projection,
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
        idx, dist = latent.nearest_neighbours(in_pixels, np.zeros(2), 1)
        if dist[0] <= radius_px:
            index = int(candidates[idx[0]])
            return index, np.asarray(z_mean[index], dtype=np.float64)
    return None, latent.lift(proj, click_xy[None, :], base)[0]


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


def default_region(proj: latent.Projection, half_width: float = 2.5) -> tuple[tuple[float, float], tuple[float, float]]:
    """Map limits of a square of side ``2 * half_width`` centred on the prior's mean (z = 0)."""
    cx, cy = latent.project(proj, np.zeros(proj.mean.shape[0]))[0]
    return (cx - half_width, cx + half_width), (cy - half_width, cy + half_width)
