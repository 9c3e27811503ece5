"""Loading bundles (cached once per process) and the data derived from them.

Everything here is computed once per bundle and shared by all sessions: the map projection,
the map coordinates of the 10,000 test points, slider ranges, class centroids, principal
directions and the test images. Geometry comes from ``vae_core.latent`` only.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st

from vae_core import latent

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS_ENV = "VAE_ARTIFACTS"
DEFAULT_BUNDLE = "fashion-mnist-2d"
MAX_DIM_SLIDERS = 16  # one slider per dimension up to this latent_dim
PRINCIPAL_SLIDERS = 8  # beyond it: sliders along this many principal directions
TRAIN_COMMAND = "python -m vae_core train --latent-dim 2"
TEST_IMAGES_COMMAND = "python -m vae_core export-test-images --out {root}"


def artifacts_root() -> Path:
    """The folder holding bundles: $VAE_ARTIFACTS, else artifacts/ at the repository root."""
    env = os.environ.get(ARTIFACTS_ENV, "").strip()
    return Path(env).expanduser() if env else REPO_ROOT / "artifacts"


def default_bundle_name(names: list[str]) -> str:
    """The bundle the app opens first: fashion-mnist-2d when present, else the first by name."""
    return DEFAULT_BUNDLE if DEFAULT_BUNDLE in names else names[0]


@dataclass(eq=False)
class Explorer:
    """A loaded bundle plus everything the panels derive from it (read-only, shared)."""

    bundle: object  # vae_core.bundle.Bundle
    images: np.ndarray  # (n, 28, 28) uint8 test images, same order as bundle.labels
    projection: latent.Projection
    xy: np.ndarray  # (n, 2) map coordinates of bundle.z_mean
    limits: tuple[tuple[float, float], tuple[float, float]]  # map axis ranges
    lo: np.ndarray  # (d,) slider ranges: mean -/+ 4 std of z_mean
    hi: np.ndarray  # (d,)
    centroids: np.ndarray  # (10, d) class centroids of z_mean
    pc_mean: np.ndarray  # (d,) for principal-direction sliders
    pc_directions: np.ndarray  # (k, d)
    pc_std: np.ndarray  # (k,)
    cache: dict = field(default_factory=dict)  # lazily computed extras (e.g. test -ELBO sample)

    @property
    def d(self) -> int:
        return self.bundle.latent_dim

    @property
    def name(self) -> str:
        return self.bundle.name

    def decode(self, z: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 decodes of latent points z (n, d): the bundle's compiled path."""
        return self.bundle.decode(np.asarray(z, dtype=np.float32).reshape(-1, self.d))

    def to_map(self, z: np.ndarray) -> np.ndarray:
        """Map coordinates (n, 2) of latent points (n, d) or one point (d,)."""
        return latent.project(self.projection, z)


@st.cache_resource(show_spinner="Loading the model bundle...", max_entries=4)
def load_explorer(path: str, stamp: float) -> Explorer:
    """Load and validate a bundle and derive the shared data. Raises BundleError.

    ``stamp`` (the manifest's modification time) makes a re-exported bundle load afresh.
    """
    from vae_core.bundle import BundleError, load_bundle, load_test_images

    bundle = load_bundle(path)
    root = Path(path).parent
    try:
        images, labels = load_test_images(root)
    except BundleError as e:
        raise BundleError(f"{e} Create it with `{TEST_IMAGES_COMMAND.format(root=root)}`.") from None
    if not np.array_equal(labels, bundle.labels):
        raise BundleError(
            f"The test images in {root} do not match the bundle {bundle.name} (labels differ). "
            f"Re-create them with `{TEST_IMAGES_COMMAND.format(root=root)}`."
        )
    projection = latent.fit_projection(bundle.z_mean)
    xy = latent.project(projection, bundle.z_mean)
    lo, hi = latent.slider_ranges(bundle.z_mean, n_std=4.0)
    k = min(PRINCIPAL_SLIDERS, bundle.latent_dim)
    pc_mean, pc_directions, pc_std = latent.principal_directions(bundle.z_mean, k)
    # TensorFlow and the model leave ~370k long-lived Python objects. Streamlit runs a full
    # gc.collect() after every rerun (runner.postScriptGC), which scanned them all: ~130 ms
    # per slider move, holding the lock that serves the new image. Freezing moves everything
    # alive now out of the collector's reach; later garbage is still collected.
    gc.freeze()
    return Explorer(
        bundle=bundle,
        images=images,
        projection=projection,
        xy=xy,
        limits=latent.map_limits(xy),
        lo=lo,
        hi=hi,
        centroids=latent.class_centroids(bundle.z_mean, bundle.labels),
        pc_mean=pc_mean,
        pc_directions=pc_directions,
        pc_std=pc_std,
    )


def manifest_stamp(path: Path) -> float:
    """Modification time of a bundle's manifest (0 when unreadable: load_bundle reports why)."""
    try:
        return (path / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0
