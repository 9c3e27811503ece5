"""What the compare view computes: one metrics row per bundle, and a point off the data.

Pure functions over manifests and latent arrays (no Streamlit, no model calls), so they are
unit-tested on tiny bundles; :func:`read_manifests` is the one that touches files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from app.explorer import ACTIVE_KL, Explorer
from vae_core import geometry
from vae_core.config import VAEConfig
from vae_core.disentangle import CLEAR_GAP
from vae_core.manifest import BundleError, read_manifest

GAP_GRID = 48  # candidate points per side when looking for a spot off the data
AUTOENCODER_NOTE = "KL as charged at σ = 0.001; true ELBO −∞"  # the table cell; the caption explains
AUTOENCODER_EXPLANATION = (
    "An autoencoder's KL is what the ELBO charges an encoder that answers a single point (sigma fixed "
    "at 0.001); for a true point the KL is infinite and the ELBO −∞, so its -ELBO and IWAE bound are "
    "not comparable with the VAEs'. Its reconstruction is."
)

# Column name -> what it means (the table's header tooltips).
COLUMNS = {
    "bundle": "The bundle's folder name.",
    "latent dim": "How many numbers the encoder squeezes an image into.",
    "objective": "What training minimised: the ELBO (VAE), the ELBO with the KL term weighted by β, "
    "or the reconstruction alone (autoencoder).",
    "epochs": "Passes over the training images (the best epoch's weights are kept).",
    "-ELBO": "Reconstruction + KL per test image, in nats; lower is better.",
    "above floor": "-ELBO minus the data set's floor, its test pixels' own entropy: "
    "what a model can still win.",
    "reconstruction": "How badly the decoder redraws a test image, in nats.",
    "KL": "How far the encoder's answer (mu, sigma) is from the prior N(0, I), in nats.",
    "IWAE bound": "A tighter estimate of -log p(x) from several samples per image, in nats.",
    "5-NN": "How often the 5 nearest training codes have the test image's class.",
    "active dims": f"Dimensions whose average KL exceeds {ACTIVE_KL} nats: the ones the model uses.",
    "MIG": "Disentanglement, for data with known factors (mutual information gap): 1 when each factor "
    "is carried by a latent dimension of its own, 0 when it is spread over several.",
    "factor dims": "For each known factor, the latent dimension that carries most of it.",
    "note": "",
}
FACTOR_COLUMNS = ("MIG", "factor dims")  # shown only when a bundle's data has known factors


def plain(text: str) -> str:
    """Outside text for a table cell: invisible and control characters written as escapes."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def objective(config: VAEConfig) -> str:
    """What a bundle was trained to minimise, in a few words: "VAE", "β-VAE (β=4)", "autoencoder"."""
    if config.deterministic:
        base = "autoencoder"
    elif config.beta == 1:
        base = "VAE"
    else:
        base = f"β-VAE (β={config.beta:g})"
    extras = []
    if config.likelihood != "bernoulli":
        extras.append(f"{config.likelihood} likelihood")
    if config.prior_components:
        extras.append(f"mixture prior of {config.prior_components}")
    if config.vamp_components:
        extras.append(f"VampPrior of {config.vamp_components}")
    if config.train_samples > 1:
        extras.append(f"IWAE k={config.train_samples}")
    if config.neighbour_weight:
        extras.append(f"neighbour term {config.neighbour_weight:g}")
    if config.free_bits:
        extras.append(f"free bits {config.free_bits:g}")
    return base + (f", {', '.join(extras)}" if extras else "")


def _number(metrics: dict, key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def active_dims(metrics: dict, latent_dim: int) -> str:
    """Active dimensions as "a of d": those with average KL of at least ACTIVE_KL (as Explorer.inactive_dims);
    "?" when the manifest has no KL per dimension."""
    kl = metrics.get("kl_per_dimension")
    if not isinstance(kl, list) or len(kl) != latent_dim:
        return "?"
    return f"{int(np.sum(np.asarray(kl, dtype=np.float64) >= ACTIVE_KL))} of {latent_dim}"


def factor_dims(metrics: dict) -> str:
    """ "x z3, y z1; shape, rotation: spread": each known factor that one latent dimension clearly
    carries (a lead of CLEAR_GAP over the next), then those none does ("" without factors)."""
    factors = (metrics.get("disentanglement") or {}).get("factors") or {}
    clear = [f"{name} z{f['dim'] + 1}" for name, f in factors.items() if f["gap"] >= CLEAR_GAP]
    spread = [name for name, f in factors.items() if f["gap"] < CLEAR_GAP]
    return ", ".join(clear) + (f"{'; ' if clear else ''}{', '.join(spread)}: spread" if spread else "")


def epochs_run(manifest: dict) -> int | None:
    """How many epochs the bundle trained, or None when its manifest does not say."""
    value = (manifest.get("training") or {}).get("epochs_run")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def metrics_row(name: str, manifest: dict, floor: float | None = None) -> dict:
    """One row of the metrics table from a (validated) manifest; ``floor`` is its data set's floor in nats."""
    metrics = manifest["metrics"]
    config = VAEConfig.from_dict(manifest["config"])
    neg_elbo = _number(metrics, "test_neg_elbo_nats")
    return {
        "bundle": plain(name),
        "latent dim": int(manifest["latent_dim"]),
        "objective": objective(config),
        "epochs": epochs_run(manifest),
        "-ELBO": neg_elbo,
        "above floor": None if neg_elbo is None or floor is None else neg_elbo - floor,
        "reconstruction": _number(metrics, "test_recon_bce_nats"),
        "KL": _number(metrics, "test_kl_nats"),
        "IWAE bound": _number(metrics, "test_iw_nll_nats"),
        "5-NN": _number(metrics, "knn5_accuracy"),
        "active dims": active_dims(metrics, int(manifest["latent_dim"])),
        "MIG": _number(metrics, "mig"),
        "factor dims": factor_dims(metrics),
        "note": AUTOENCODER_NOTE if config.deterministic else "",
    }


def broken_row(name: str, problem: str) -> dict:
    """A row for a bundle whose manifest cannot be read: the name and why, no numbers."""
    row = dict.fromkeys(COLUMNS)
    row.update(bundle=plain(name), objective="?", note=f"Cannot be read: {plain(problem)}")
    return row


def metrics_table(entries: list[tuple[str, dict | str]], floor_of=lambda name: None) -> list[dict]:
    """Rows for (name, manifest or the reason it cannot be read), in the given order; ``floor_of(name)``
    gives a bundle's floor (None: unknown, no "above floor")."""
    return [
        metrics_row(name, entry, floor_of(name)) if isinstance(entry, dict) else broken_row(name, entry)
        for name, entry in entries
    ]


def read_manifests(root: Path, names: list[str], shown=str) -> list[tuple[str, dict | str]]:
    """Each bundle's validated manifest, or why it cannot be read (passed through ``shown``, e.g.
    app.text.public_message, so a visitor never sees a server path)."""
    out: list[tuple[str, dict | str]] = []
    for name in names:
        try:
            out.append((name, read_manifest(root / name)))
        except BundleError as e:
            out.append((name, shown(e)))
    return out


# -- a point off the data ------------------------------------------------------------------------


def typical_spacing(z_mean: np.ndarray) -> float:
    """The median distance from a code (n, d) to its nearest other code: how far apart neighbours are."""
    z = np.asarray(z_mean, dtype=np.float64)
    if len(z) < 2:
        return 1.0
    distances, _ = cKDTree(z).query(z, k=2)  # (n, 2): itself, then its nearest neighbour
    value = float(np.median(distances[:, 1]))
    return value if value > 1e-12 else 1.0


@dataclass(frozen=True)
class Gap:
    z: np.ndarray  # (d,) the point
    distances: tuple[float, ...]  # to the nearest code of each cloud
    scores: tuple[float, ...]  # those distances in units of each cloud's typical spacing


def off_data_point(
    projection: geometry.Projection,
    box: tuple[tuple[float, float], tuple[float, float]],
    clouds: list[np.ndarray],
    target: int = 0,
    n: int = GAP_GRID,
) -> Gap:
    """The spot of the map plane ``box`` (map coordinates of ``projection``) farthest from the codes
    of ``clouds[target]``: the deepest hole in that model's map.

    ``clouds`` are the codes (n_i, d) of every model compared (the same d). Candidates on an n x n
    grid are kept inside every cloud's 0.5-99.5% range, so the spot is a hole among the target's
    data that lies where every compared model has data around it, not the empty space outside them.
    Distances to each cloud's nearest code are also given in units of how far apart that cloud's
    neighbours usually are (:func:`typical_spacing`), since the models' scales differ.
    """
    if not 0 <= target < len(clouds):
        raise ValueError(f"target must name one of the {len(clouds)} clouds, got {target}")
    candidates = geometry.lift(projection, geometry.grid(box[0], box[1], n))  # (n*n, d)
    inside = np.ones(len(candidates), dtype=bool)
    for z in clouds:
        low, high = np.quantile(z, 0.005, axis=0), np.quantile(z, 0.995, axis=0)
        inside &= np.all((candidates >= low) & (candidates <= high), axis=1)
    if inside.any():
        candidates = candidates[inside]
    distances = np.stack([cKDTree(z).query(candidates, k=1)[0] for z in clouds])  # (clouds, m)
    scores = distances / np.array([typical_spacing(z) for z in clouds])[:, None]
    best = int(np.argmax(scores[target]))
    return Gap(candidates[best], tuple(map(float, distances[:, best])), tuple(map(float, scores[:, best])))


def plane_point(projection: geometry.Projection, xy: tuple[float, float]) -> np.ndarray:
    """The latent point (d,) at map coordinates ``xy`` (for d > 2: on the map plane through the data mean)."""
    return geometry.lift(projection, np.asarray(xy, dtype=np.float64).reshape(1, 2))[0]


# -- the same questions asked of loaded models (app.explorer.Explorer) ---------------------------------


def gap_on_map(left: Explorer, other: Explorer | None = None, in_other: bool = False) -> tuple[float, float]:
    """Map coordinates on the left map of the deepest hole in the left model's map (or, with
    ``in_other``, in the other model's: of the same latent dim), within both models' data ranges;
    rounded for the number inputs."""
    clouds = [left.bundle.z_mean] + ([] if other is None else [other.bundle.z_mean])
    target = 1 if in_other and other is not None else 0
    x, y = left.map.to_map(off_data_point(left.map.projection, left.map.limits, clouds, target).z)[0]
    return round(float(x), 3), round(float(y), 3)


def spacing_of(explorer: Explorer) -> float:
    """How far apart neighbouring test codes of a model usually are (see :func:`typical_spacing`)."""
    return typical_spacing(explorer.bundle.z_mean)
