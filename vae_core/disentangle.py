"""How disentangled a latent space is, for data with known generating factors.

The mutual information gap (MIG; Chen, Li, Grosse and Duvenaud 2018, "Isolating Sources of
Disentanglement in VAEs"): for each factor v_k, the mutual information I(z_j; v_k) of every latent
dimension with it; the gap between the largest and the second largest, divided by the factor's
entropy H(v_k) (so 1 when one dimension carries all of the factor and no other any of it, 0 when
two carry it equally); MIG is the mean gap over the factors. As in disentanglement_lib (Locatello
et al. 2019), the encoder's means are discretised into ``bins`` equal-width bins per dimension and
the information is that of the discrete joint histogram, in nats.
"""

from __future__ import annotations

import numpy as np

BINS = 20
CLEAR_GAP = 0.1  # a factor "sits in" its top dimension when that one leads the next by this much


def discretise(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Each column's values as bin indices 0..bins-1 over its own range (equal widths)."""
    values = np.asarray(values, dtype=np.float64)
    lo, hi = values.min(axis=0), values.max(axis=0)
    width = np.where(hi > lo, (hi - lo) / bins, 1.0)
    return np.clip(((values - lo) / width).astype(np.int64), 0, bins - 1)


def codes(factor: np.ndarray) -> np.ndarray:
    """A factor's values (numbers or names, on a grid) as integer codes 0..n-1."""
    return np.unique(np.asarray(factor), return_inverse=True)[1].ravel()


def entropy(a: np.ndarray) -> float:
    p = np.bincount(a) / len(a)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats of two integer-coded variables, from their joint histogram."""
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1)
    joint /= len(a)
    pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def mig(z_mean: np.ndarray, factors: dict[str, np.ndarray], bins: int = BINS) -> dict:
    """The MIG of latent means ``(N, D)`` for named factor columns ``(N,)``, with, per factor, the
    dimension that carries it most (0-based), its share of the factor's entropy, and the gap."""
    z = discretise(z_mean, bins)
    per_factor = {}
    for name, values in factors.items():
        v = codes(values)
        h = entropy(v)
        if h == 0:
            continue  # a constant factor: nothing to carry
        mi = np.array([mutual_information(z[:, j], v) for j in range(z.shape[1])]) / h
        top = np.argsort(mi)[::-1]
        second = mi[top[1]] if len(mi) > 1 else 0.0
        per_factor[name] = {
            "dim": int(top[0]),
            "share": round(float(mi[top[0]]), 4),
            "gap": round(float(mi[top[0]] - second), 4),
            "shares": [round(float(m), 4) for m in mi],
        }
    gaps = [f["gap"] for f in per_factor.values()]
    return {"mig": round(float(np.mean(gaps)), 4) if gaps else None, "bins": bins, "factors": per_factor}


def clearly_carried(metrics: dict) -> dict[int, list[str]]:
    """From a manifest's metrics: latent dimension -> the known factors it clearly carries (those whose
    top dimension it is, CLEAR_GAP ahead of the next); empty without factors."""
    carried: dict[int, list[str]] = {}
    for name, f in ((metrics.get("disentanglement") or {}).get("factors") or {}).items():
        if f["gap"] >= CLEAR_GAP:
            carried.setdefault(int(f["dim"]), []).append(name)
    return carried


def disentanglement(z_mean: np.ndarray, factors: dict[str, np.ndarray]) -> dict:
    """The manifest's metrics for a data set with known factors: ``mig`` and, per factor, its dimension."""
    result = mig(z_mean, factors)
    return {"mig": result["mig"], "disentanglement": {"bins": result["bins"], "factors": result["factors"]}}
