"""Densities over the latent space: the prior (N(0, I) or a Gaussian mixture), the aggregate
posterior of the encoded data, and sampling from the prior.

Pure numpy and scipy; no TensorFlow. Points are float arrays ``(N, d)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .arrays import as_int, as_matrix, as_vector

LOG_2PI = float(np.log(2.0 * np.pi))
_CHUNK_ENTRIES = 2_000_000  # max (points x components) entries held at once in a density


@dataclass(frozen=True)
class Prior:
    """A diagonal Gaussian mixture prior; ``None`` stands for N(0, I) wherever a Prior is taken."""

    weights: np.ndarray  # (K,) summing to 1
    means: np.ndarray  # (K, latent_dim)
    log_vars: np.ndarray  # (K, latent_dim)


def check_prior(prior: Prior, max_abs_log_var: float = 60.0) -> str | None:
    """Why a mixture prior read from a file is unusable (None when fine): weights non-negative and
    summing to 1, means and log-variances finite and of one shape."""
    weights, means, log_vars = (
        np.asarray(a, dtype=np.float64) for a in (prior.weights, prior.means, prior.log_vars)
    )
    if weights.ndim != 1 or means.shape != log_vars.shape or means.shape[:1] != weights.shape:
        shapes = f"weights {weights.shape}, means {means.shape}, log_vars {log_vars.shape}"
        return f"the mixture's shapes disagree: {shapes}"
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or abs(weights.sum() - 1.0) > 1e-4:
        return "the mixture weights must be non-negative numbers summing to 1"
    if not np.all(np.isfinite(means)):
        return "the mixture means hold NaN or infinite values"
    if not np.all(np.abs(log_vars) <= max_abs_log_var):
        return f"the mixture log-variances must be finite and within ±{max_abs_log_var:g}"
    return None


def standard_normal_log_density(points: np.ndarray) -> np.ndarray:
    """log N(points; 0, I): ``(N,)`` for points ``(N, d)``."""
    points = np.asarray(points, dtype=np.float64)
    return -0.5 * np.sum(LOG_2PI + points**2, axis=1)


def _mixture_log_density(
    points: np.ndarray, log_weights: np.ndarray, means: np.ndarray, log_vars: np.ndarray
) -> np.ndarray:
    """log sum_k w_k N(points; means_k, diag(exp(log_vars_k))): ``(N,)``, in bounded chunks."""
    inv_var = np.exp(-log_vars)  # (K, d)
    # Per component: log w - 0.5 * (d log 2pi + sum log var + sum mean^2 / var)
    const = log_weights - 0.5 * (
        means.shape[1] * LOG_2PI + log_vars.sum(axis=1) + np.sum(means**2 * inv_var, axis=1)
    )  # (K,)
    mean_over_var = means * inv_var  # (K, d)
    chunk = max(1, _CHUNK_ENTRIES // means.shape[0])
    out = np.empty(points.shape[0])
    for start in range(0, points.shape[0], chunk):
        x = points[start : start + chunk]  # (n, d)
        quad = -0.5 * (x**2 @ inv_var.T) + x @ mean_over_var.T  # (n, K)
        out[start : start + chunk] = logsumexp(quad + const, axis=1)
    return out


def prior_log_density(points: object, prior: Prior | None = None) -> np.ndarray:
    """Log density ``(N,)`` of the prior at ``points`` ``(N, d)``: N(0, I) when ``prior`` is None,
    else its mixture of diagonal Gaussians (weights are normalised to sum to 1)."""
    points = as_matrix(points, "points")
    if prior is None:
        return standard_normal_log_density(points)
    means = as_matrix(prior.means, "means", points.shape[1])
    log_vars = as_matrix(prior.log_vars, "log_vars", points.shape[1])
    weights = as_vector(prior.weights, "weights", means.shape[0])
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
    blur: float = 0.0,
) -> np.ndarray:
    """Log density ``(N,)`` at ``points`` of the aggregate posterior (1/M) sum_i N(z_mean_i, var_i).

    When there are more than ``max_components`` encoded points, a fixed random subset (from
    ``seed``) of that size is used, so the result is deterministic and the cost bounded.
    ``blur`` (a standard deviation, >= 0) widens every component by that much: the density seen
    through a Gaussian of that width, e.g. one cell of the grid it is drawn on, so that posteriors
    narrower than a cell do not show as specks and streaks.
    """
    z_mean = as_matrix(z_mean, "z_mean")
    z_log_var = as_matrix(z_log_var, "z_log_var", z_mean.shape[1])
    if z_log_var.shape != z_mean.shape:
        raise ValueError(f"z_log_var shape {z_log_var.shape} must match z_mean {z_mean.shape}")
    points = as_matrix(points, "points", z_mean.shape[1])
    max_components = as_int(max_components, "max_components", 1)
    if z_mean.shape[0] > max_components:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(z_mean.shape[0], max_components, replace=False))  # (M,)
        z_mean, z_log_var = z_mean[keep], z_log_var[keep]  # (M, d) each
    if not (np.isfinite(blur) and blur >= 0):
        raise ValueError(f"blur must be a finite number >= 0, got {blur!r}")
    if blur > 0:
        z_log_var = np.logaddexp(z_log_var, 2.0 * np.log(blur))  # var + blur^2
    log_weights = np.full(z_mean.shape[0], -np.log(z_mean.shape[0]))  # (M,)
    return _mixture_log_density(points, log_weights, z_mean, z_log_var)


def highest_density_share(log_density: object) -> np.ndarray:
    """For each cell of an equal-area grid of log densities: the share of the grid's mass that lies
    in cells at least as dense (0 at the densest cell, 1 at the emptiest). Cells whose value is at
    most 0.5 form the densest region holding half the mass, at most 0.9 the one holding 90%, and so
    on: contours a reader can name, unlike raw log densities."""
    logp = np.asarray(log_density, dtype=np.float64)
    if logp.size == 0 or not np.all(np.isfinite(logp) | (logp == -np.inf)) or np.all(logp == -np.inf):
        raise ValueError("log_density must be a non-empty grid of finite values (or -inf)")
    flat = logp.ravel()
    order = np.argsort(-flat, kind="stable")  # densest first
    mass = np.exp(flat[order] - flat[order[0]])
    share = np.empty_like(flat)
    share[order] = np.cumsum(mass) / mass.sum()
    return share.reshape(logp.shape)


def sample_prior(prior: Prior | None, d: int, n: int, seed: int) -> np.ndarray:
    """``n`` latent samples ``(n, d)`` from the prior: N(0, I) when ``prior`` is None."""
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n, d))  # (n, d)
    if prior is None:
        return eps
    weights = np.asarray(prior.weights, dtype=np.float64)
    component = rng.choice(len(weights), size=n, p=weights / weights.sum())  # (n,)
    means, log_vars = np.asarray(prior.means), np.asarray(prior.log_vars)
    return means[component] + np.exp(0.5 * log_vars[component]) * eps
