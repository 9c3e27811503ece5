"""The app's one door to vae_core: a loaded bundle and the answers the panels need.

Panels never reach into vae_core's modelling code themselves: they ask an :class:`Explorer` and
render what it returns, so a request goes down once and comes back. What the bundle is (its name,
its manifest, its data set) they read from ``explorer.bundle``; what the map is (projection,
limits, sliders, ellipses) from ``explorer.map`` (a ``vae_core.latent_map.LatentMap``).

An Explorer is built once per bundle (``app.resources.load_explorer``) and shared by every
session; after loading it only reads, except :meth:`Explorer.reference_neg_elbo`,
:attr:`Explorer.map_facts` and :attr:`Explorer.reconstruction_rms`, computed once and then kept
(on first use, or the first two beforehand: :meth:`Explorer.warm_in_background`).
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from vae_core import geometry
from vae_core.bundle import Bundle, bundle_factors
from vae_core.density import aggregate_posterior_log_density, prior_log_density, sample_prior
from vae_core.evaluate import ImageTrip, Networks, elbo_terms, floor_nats, image_trip, percentile_of
from vae_core.latent_map import LatentMap, MapFacts, class_centroids

log = logging.getLogger(__name__)

ACTIVE_KL = 0.1  # nats: a latent dimension with less average KL carries (almost) no information
REFERENCE_IMAGES = 1000  # test images whose -ELBO forms the reference an encoded image is compared with
BACKGROUND_GRID = 90  # cells per side of the map's density background
OFF_DATA_REFERENCE = 200  # test images whose reconstructions say how near real data a decode usually is


@dataclass(frozen=True)
class BrowserModels:
    """Where the browser fetches the bundle's ONNX models (app.browser_assets publishes them)."""

    decoder: dict | None  # {"url", "input", "output"}; None: decoded on the server only
    encoder: dict | None  # {"url", "input", "outputs": [z_mean, z_log_var]}; None: encoded on the server
    note: str | None = None  # why the browser gets no model although the bundle has one


@dataclass(frozen=True)
class PointView:
    """What the panels show about the current point, besides its decode."""

    xy: np.ndarray  # (2,) its map coordinates
    index: int | None  # the test image it came from, if any
    reconstruction: np.ndarray | None  # (H, W, C) that image's decode (at its z_mean)
    ellipse: np.ndarray | None  # (m, 2) that image's posterior ellipse on the map
    neighbours: np.ndarray  # (k,) indices of the nearest test images in latent space
    distances: np.ndarray  # (k,) their latent distances
    shares: np.ndarray  # (n_classes,) class shares among them
    left_selected: float = 0.0  # latent distance from the selected image's z_mean (0: still on it)


@dataclass(frozen=True)
class Interpolation:
    z: np.ndarray  # (steps, d) points from A to B
    xy: np.ndarray  # (steps, 2) their map coordinates
    frames: np.ndarray  # (steps, H, W, C) float32 decodes


class Explorer:
    """A loaded bundle, its networks and test images, and the data every panel derives from them."""

    def __init__(self, bundle: Bundle, networks: Networks, images: np.ndarray, browser: BrowserModels):
        self.bundle = bundle
        self.networks = networks
        self.images = images  # (n, H, W, C) uint8 test images, in the bundle's latents order
        self.browser = browser
        self.map = LatentMap.of(bundle.z_mean)
        self.class_names = bundle.data.class_names  # index = class label
        self.centroids = class_centroids(bundle.z_mean, bundle.labels, len(self.class_names))  # (C, d)
        self.posterior_std = np.exp(0.5 * bundle.z_log_var).mean(axis=1)  # (n,) mean posterior std
        self.floor_nats = bundle.data.floor_nats or floor_nats(images)
        self.factors = bundle_factors(bundle)  # name -> (n,) values of the test images' known factors
        self._reference: np.ndarray | None = None
        self._densities: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._warming: threading.Thread | None = None

    # -- the bundle's facts that the panels compute with ------------------------------------------
    @functools.cached_property
    def inactive_dims(self) -> list[int]:
        """Latent dimensions the model does not use (average KL below ACTIVE_KL nats)."""
        kl = self.bundle.metrics.get("kl_per_dimension")
        if kl is None or len(kl) != self.bundle.latent_dim:
            return []
        return [int(i) for i in np.flatnonzero(np.asarray(kl, dtype=np.float64) < ACTIVE_KL)]

    def prior_description(self) -> str:
        prior = self.bundle.prior
        return "N(0, I)" if prior is None else f"a mixture of {len(prior.weights)} Gaussians"

    def test_point(self, index: int) -> np.ndarray:
        """z_mean (d,) of a test image."""
        return self.bundle.z_mean[index].astype(np.float64)

    def test_sigma(self, index: int) -> np.ndarray:
        """The encoder's spread (d,) for a test image: exp(z_log_var / 2)."""
        return np.exp(0.5 * self.bundle.z_log_var[index].astype(np.float64))

    def label_name(self, index: int) -> str:
        return self.class_names[int(self.bundle.labels[index])]

    def uncertain_image(self, quantile: float = 0.8) -> int:
        """The first test image whose encoder spread is at least the ``quantile`` of all: a good
        first example, since its samples visibly differ."""
        return int(np.argmax(self.posterior_std >= np.quantile(self.posterior_std, quantile)))

    # -- points -----------------------------------------------------------------------------------
    def decode(self, z: np.ndarray) -> np.ndarray:
        """(n, H, W, C) decodes (Bernoulli means) of latent points (n, d), or of one point (d,)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.bundle.latent_dim)
        return expit(self.networks.decode_logits(z)).astype(np.float32)

    def point_view(self, z: np.ndarray, index: int | None, k: int) -> PointView:
        """Map position, the selected image's reconstruction and ellipse, and the k nearest test images."""
        z = np.asarray(z, dtype=np.float64)
        idx, dist = geometry.nearest_neighbours(self.bundle.z_mean, z, k)
        shares = geometry.class_shares(self.bundle.labels[idx], len(self.class_names))
        xy = self.map.to_map(z)[0]
        if index is None:
            return PointView(xy, None, None, None, idx, dist, shares)
        reconstruction = self.decode(self.test_point(index))[0]
        ellipse = self.map.ellipse(self.bundle.z_mean[index], self.bundle.z_log_var[index])
        left = float(np.linalg.norm(z - self.test_point(index)))
        left = left if left > 1e-4 else 0.0  # the link rounds a point to 4 decimals
        return PointView(xy, index, reconstruction, ellipse, idx, dist, shares, left)

    def click(self, at: tuple[float, float], units: tuple[float, float], base: np.ndarray, hidden: set[str]):
        """What a click at map coordinates ``at`` means: (test image or None, latent point). Images
        of the classes ``hidden`` (by name, as the legend hides them) cannot be picked."""
        shown = [c for c, name in enumerate(self.class_names) if name not in hidden]
        return self.map.click(at, units, base, np.isin(self.bundle.labels, shown))

    # -- views ------------------------------------------------------------------------------------
    def interpolation(self, a: np.ndarray, b: np.ndarray, steps: int, path: str) -> Interpolation:
        z = geometry.interpolate(a, b, steps, path)
        return Interpolation(z, self.map.to_map(z), self.decode(z))

    def grid_decodes(self, region, n: int) -> np.ndarray:
        """(n*n, H, W, C) decodes of an n x n grid over region ((x0, x1), (y0, y1)) of the map."""
        return self.decode(self.map.grid_points(region, n))

    def prior_decodes(self, n: int, seed: int) -> np.ndarray:
        """(n, H, W, C) decodes of n samples from the prior."""
        return self.decode(sample_prior(self.bundle.prior, self.bundle.latent_dim, n, seed))

    def density_background(
        self, kind: str, n: int = BACKGROUND_GRID
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log density of the prior or of the aggregate posterior ("prior" | "aggregate") on an
        n x n grid over the map: xs (n,) left to right, ys (n,) top to bottom, log p (n, n). Kept:
        the aggregate one takes 0.5-0.6 s (10,000 Gaussians at each of 8,100 points)."""
        key = (kind, n)
        if key not in self._densities:
            self._densities[key] = self._density(kind, n)
        return self._densities[key]

    def _density(self, kind: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.map.limits
        points = self.map.grid_points(self.map.limits, n)  # image order
        if kind == "prior":
            logp = prior_log_density(points, self.bundle.prior)
        else:
            cell = 2 * min(abs(x1 - x0), abs(y1 - y0)) / n  # two grid cells: no specks finer than that
            logp = aggregate_posterior_log_density(
                points, self.bundle.z_mean, self.bundle.z_log_var, blur=cell
            )
        return np.linspace(x0, x1, n), np.linspace(y1, y0, n), logp.reshape(n, n)

    # -- one image --------------------------------------------------------------------------------
    def trip(self, pixels: np.ndarray, samples: int = 16, seed: int = 0) -> ImageTrip:
        """Encode (once), sample, decode and score one image (H, W, C) in [0, 1], keeping every number."""
        return image_trip(self.networks, pixels, self.bundle.prior, samples, seed)

    def warm(self) -> None:
        """Compute now what is otherwise computed on first use: the references an image's -ELBO and a
        decode's distance from the data are compared with, and the map's aggregate posterior
        background (the map's facts take milliseconds)."""
        self.reference_neg_elbo()
        _ = self.reconstruction_rms
        self.density_background("aggregate")

    def warm_in_background(self) -> threading.Thread:
        """Start :meth:`warm` in a thread of its own, once, so that no click waits for it (the 2-D
        default's first "Inside the VAE" waited 1.2 s for its reference, bench/clicks.py). Returns
        that thread (join it to wait until the explorer is warm)."""
        with self._lock:
            if self._warming is None:
                self._warming = threading.Thread(target=self._warm, name="warm-explorer", daemon=True)
                self._warming.start()
            return self._warming

    def _warm(self) -> None:
        try:
            self.warm()
        except Exception:  # the first use computes it again, and says there what went wrong
            log.exception("bundle %s: computing its references failed", self.bundle.name)

    def share_below(self, neg_elbo: float) -> float:
        """Share of the reference test images the model explains better (lower -ELBO) than ``neg_elbo``."""
        return percentile_of(neg_elbo, self.reference_neg_elbo())

    def reference_neg_elbo(self) -> np.ndarray:
        """-ELBO (nats) of the first REFERENCE_IMAGES test images: computed once, on first use."""
        with self._lock:
            if self._reference is None:
                x = self.images[:REFERENCE_IMAGES].astype(np.float32) / 255.0
                recon, kl = elbo_terms(self.networks, x, self.bundle.prior)
                self._reference = recon + kl
            return self._reference

    # -- how far from anything real ---------------------------------------------------------------
    def nearest_real(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For decodes ``pixels`` (m, H, W, C) in [0, 1]: the nearest test image of each in pixel space
        (m,), and their root-mean-square difference per pixel value (m,), 0 to 1."""
        flat = self.images.reshape(len(self.images), -1)  # (n, P) uint8
        x = np.asarray(pixels, dtype=np.float32).reshape(len(pixels), -1) * 255.0  # (m, P)
        cross = x @ flat.T.astype(np.float32)  # (m, n)
        sq = self._image_norms[None, :] - 2.0 * cross + np.sum(x * x, axis=1)[:, None]  # in 255ths²
        i = np.argmin(sq, axis=1)  # (m,)
        return i, np.sqrt(np.maximum(sq[np.arange(len(x)), i], 0.0) / x.shape[1]) / 255.0

    @functools.cached_property
    def _image_norms(self) -> np.ndarray:
        flat = self.images.reshape(len(self.images), -1).astype(np.float64)
        return np.einsum("ij,ij->i", flat, flat)

    @functools.cached_property
    def reconstruction_rms(self) -> float:
        """How far an ordinary decode is from the nearest real image: the median, over the first
        OFF_DATA_REFERENCE test images' reconstructions (decodes at z_mean), of that distance."""
        k = min(OFF_DATA_REFERENCE, len(self.images))
        return float(np.median(self.nearest_real(self.decode(self.bundle.z_mean[:k]))[1]))

    def off_data(self, decoded: np.ndarray) -> tuple[int, float, float]:
        """How far a decode (H, W, C) is from anything real: (the nearest test image in pixels, their
        RMS difference, that over an ordinary reconstruction's: about 1 or less on the data)."""
        i, rms = self.nearest_real(decoded[None])
        return int(i[0]), float(rms[0]), float(rms[0]) / max(self.reconstruction_rms, 1e-6)

    @functools.cached_property
    def map_facts(self) -> MapFacts:
        """The widest gap, the two classes the map confuses most and each class's neighbour purity."""
        return self.map.facts(self.bundle.labels, len(self.class_names))
