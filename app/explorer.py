"""The app's one door to vae_core: a loaded bundle and the answers the panels need.

Panels never reach into the bundle or compute latent geometry themselves: they ask an
:class:`Explorer` and render what it returns, so a request goes down once and comes back.
(From vae_core they import only the pixel-rendering helpers of ``vae_core.images``: upscale,
PNG, GIF, strips and grids.)
An Explorer is built once per bundle (``app.resources.load_explorer``) and shared by every
session; after loading it only reads, except :meth:`Explorer.reference_neg_elbo`, which is
computed on first use (under a lock) and then kept.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_core import geometry
from vae_core.bundle import Bundle, BundleError, load_bundle, load_test_images
from vae_core.config import VAEConfig
from vae_core.data import CLASS_NAMES
from vae_core.density import aggregate_posterior_log_density, prior_log_density, sample_prior
from vae_core.evaluate import kl_per_dimension, percentile_of
from vae_core.images import ImageError, PreparedImage, prepare_upload

__all__ = [
    "BrowserDecoder",
    "BrowserEncoder",
    "EncodedImage",
    "Explorer",
    "ImageError",
    "Inside",
    "Interpolation",
    "PointView",
    "open_explorer",
]

ACTIVE_KL = 0.1  # nats: a latent dimension with less average KL carries (almost) no information
PRINCIPAL_AXES = 8  # beyond MAX_DIM_SLIDERS dimensions: sliders along this many principal directions
REFERENCE_IMAGES = 1000  # test images whose -ELBO forms the reference an encoded image is compared with
TEST_IMAGES_COMMAND = "python -m vae_core export-test-images --out {root}"


@dataclass(frozen=True)
class PointView:
    """Everything the panels show about the current point."""

    z: np.ndarray  # (d,) the point
    xy: np.ndarray  # (2,) its map coordinates
    image: np.ndarray  # (28, 28) float32 decoded Bernoulli means
    index: int | None  # the test image it came from, if any
    reconstruction: np.ndarray | None  # (28, 28) that image's decode (at its z_mean)
    ellipse: np.ndarray | None  # (n, 2) that image's posterior ellipse on the map
    neighbours: np.ndarray  # (k,) indices of the nearest test images in latent space
    distances: np.ndarray  # (k,) their latent distances
    shares: np.ndarray  # (10,) class shares among them
    left_selected: float = 0.0  # latent distance from the selected image's z_mean (0: still on it)


@dataclass(frozen=True)
class BrowserDecoder:
    """The bundle's decoder as the browser loads it (app.browser_assets publishes it)."""

    url: str  # the published .onnx, relative to the app's base URL
    input: str  # its tensor names, from the bundle's manifest
    output: str


@dataclass(frozen=True)
class BrowserEncoder:
    """The bundle's encoder as the browser loads it (the drawing pad encodes while you draw)."""

    url: str  # the published .onnx, relative to the app's base URL
    input: str  # its tensor names, from the bundle's manifest
    outputs: tuple[str, str]  # (z_mean, z_log_var)


@dataclass(frozen=True)
class Interpolation:
    z: np.ndarray  # (steps, d) points from A to B
    xy: np.ndarray  # (steps, 2) their map coordinates
    frames: np.ndarray  # (steps, 28, 28) float32 decodes


@dataclass(frozen=True)
class EncodedImage:
    """An image run through the encoder and scored: where it lands and how typical it is."""

    z_mean: np.ndarray  # (d,)
    z_std: np.ndarray  # (d,) posterior standard deviation
    xy: np.ndarray  # (2,) map coordinates of z_mean
    ellipse: np.ndarray  # (n, 2) posterior ellipse on the map
    reconstruction: np.ndarray  # (28, 28) decode of z_mean
    recon_nats: float  # Bernoulli reconstruction NLL, one posterior sample
    kl_nats: float  # KL(q(z|x) || p(z))
    share_below: float  # share of reference test images with a lower -ELBO
    mse: float  # per-pixel squared error of the reconstruction

    @property
    def neg_elbo(self) -> float:
        return self.recon_nats + self.kl_nats


@dataclass(frozen=True)
class Inside:
    """One image's trip through the VAE, with the numbers of every step ("Inside the VAE").

    The reconstruction term is scored at the first sample, ``z[0] = mu + sigma * eps[0]``: the
    same draw ``vae_core.evaluate.elbo_terms`` makes with this seed, so the parts add up to its -ELBO.
    """

    pixels: np.ndarray  # (28, 28) the input, in [0, 1]
    mu: np.ndarray  # (d,) the encoder's centre for this image (z_mean)
    sigma: np.ndarray  # (d,) its spread: exp(z_log_var / 2)
    xy: np.ndarray  # (2,) mu on the map
    ellipse: np.ndarray  # (n, 2) the 2-sigma ellipse of q(z|x) on the map
    eps: np.ndarray  # (s, d) standard-normal draws
    z: np.ndarray  # (s, d) samples mu + sigma * eps
    z_xy: np.ndarray  # (s, 2) the samples on the map
    sample_decodes: np.ndarray  # (s, 28, 28) the decoder's image of each sample
    reconstruction: np.ndarray  # (28, 28) the decoder's image of mu
    recon_nats: float  # -log p(x | z[0]): summed binary cross-entropy over the 784 pixels
    kl_nats: float  # KL(q(z|x) || p(z))
    kl_per_dim: np.ndarray | None  # (d,) its analytic terms under N(0, I); None for a mixture prior
    floor_nats: float  # the input's own binary entropy: no reconstruction term can go below it
    share_below: float  # share of reference test images with a lower -ELBO

    @property
    def neg_elbo(self) -> float:
        return self.recon_nats + self.kl_nats


@dataclass(frozen=True)
class MapFacts:
    """What the map's shape teaches, measured on this bundle's encoded test set."""

    gap_z: np.ndarray  # (d,) the latent point at the widest hole among the classes
    gap_xy: np.ndarray  # (2,) that hole on the map
    gap_distance: float  # map distance from the hole to the nearest encoded test image
    pair: tuple[int, int]  # a T-shirt/top and a Shirt encoded closest to each other (test indices)
    pair_distance: float
    purity: np.ndarray  # (10,) per class: share of a point's 5 nearest neighbours of its own class


class Explorer:
    """A loaded bundle plus the data every panel derives from it."""

    class_names = CLASS_NAMES  # index = class label

    def __init__(
        self,
        bundle: Bundle,
        images: np.ndarray,
        browser_decoder: BrowserDecoder | None = None,
        browser_encoder: BrowserEncoder | None = None,
    ):
        self.bundle = bundle
        self.browser_decoder = browser_decoder  # None: decoded on the server only
        self.browser_encoder = browser_encoder  # None: drawings are encoded on the server only
        self.images = images  # (n, 28, 28) uint8 test images, in the bundle's latents order
        self.projection = geometry.fit_projection(bundle.z_mean)
        self.xy = geometry.project(self.projection, bundle.z_mean)  # (n, 2) map coordinates
        self.limits = geometry.map_limits(self.xy)
        self.slider_min, self.slider_max = geometry.slider_ranges(bundle.z_mean)  # (d,) each
        self.centroids = geometry.class_centroids(bundle.z_mean, bundle.labels)  # (10, d)
        k = min(PRINCIPAL_AXES, bundle.latent_dim)
        self.pc_mean, self.pc_directions, pc_std = geometry.principal_directions(bundle.z_mean, k)
        self.pc_limit = geometry.SLIDER_STD * pc_std  # (k,) principal sliders span -/+ this
        self.posterior_std = np.exp(0.5 * bundle.z_log_var).mean(axis=1)  # (n,) mean posterior std
        self._reference: np.ndarray | None = None
        self._reference_lock = threading.Lock()

    # -- what the bundle is --------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def d(self) -> int:
        return self.bundle.latent_dim

    @property
    def labels(self) -> np.ndarray:
        return self.bundle.labels

    @property
    def z_mean(self) -> np.ndarray:
        """(n, d) the encoded test set's centres, in test-set order."""
        return self.bundle.z_mean

    @property
    def path(self) -> Path:
        return self.bundle.path

    def test_sigma(self, index: int) -> np.ndarray:
        """The encoder's spread (d,) for a test image: exp(z_log_var / 2)."""
        return np.exp(0.5 * self.bundle.z_log_var[index].astype(np.float64))

    @property
    def n_images(self) -> int:
        return len(self.bundle.labels)

    @property
    def metrics(self) -> dict:
        return self.bundle.metrics

    @property
    def manifest(self) -> dict:
        return self.bundle.manifest

    @property
    def config(self) -> VAEConfig:
        return self.bundle.config

    @property
    def history(self) -> list[dict]:
        return self.bundle.history

    @property
    def prior_description(self) -> str:
        prior = self.bundle.prior
        return "N(0, I)" if prior is None else f"a mixture of {len(prior.weights)} Gaussians"

    @property
    def kl_per_dimension(self) -> np.ndarray | None:
        kl = self.bundle.metrics.get("kl_per_dimension")
        return None if kl is None else np.asarray(kl, dtype=np.float64)

    @property
    def inactive_dims(self) -> list[int]:
        """Latent dimensions the model does not use (average KL below ACTIVE_KL nats)."""
        kl = self.kl_per_dimension
        return [] if kl is None or len(kl) != self.d else [int(i) for i in np.flatnonzero(kl < ACTIVE_KL)]

    def uncertain_image(self, quantile: float = 0.8) -> int:
        """The first test image whose encoder spread is at least the ``quantile`` of all: a good
        first example, since its samples visibly differ."""
        return int(np.argmax(self.posterior_std >= np.quantile(self.posterior_std, quantile)))

    def label_name(self, index: int) -> str:
        return CLASS_NAMES[int(self.bundle.labels[index])]

    # -- points ----------------------------------------------------------------------------------
    def decode(self, z: np.ndarray) -> np.ndarray:
        """(n, 28, 28) decodes of latent points (n, d), or of one point (d,)."""
        return self.bundle.decode(z)

    def to_map(self, z: np.ndarray) -> np.ndarray:
        """Map coordinates (n, 2) of latent points (n, d) or of one point (d,)."""
        return geometry.project(self.projection, z)

    def from_map(self, xy: np.ndarray) -> np.ndarray:
        """Latent points (n, d) at map coordinates (n, 2) (for d > 2 on the plane through the mean)."""
        return geometry.lift(self.projection, np.atleast_2d(xy))

    def spots(self, fractions: np.ndarray) -> np.ndarray:
        """Map coordinates (n, 2) of places given as fractions (n, 2) of the map's width and height."""
        (x0, x1), (y0, y1) = self.limits
        f = np.asarray(fractions, dtype=np.float64)
        return np.stack([x0 + f[:, 0] * (x1 - x0), y0 + f[:, 1] * (y1 - y0)], axis=1)

    def test_point(self, index: int) -> np.ndarray:
        """z_mean (d,) of a test image."""
        return self.bundle.z_mean[index].astype(np.float64)

    def point_view(self, z: np.ndarray, index: int | None, k: int) -> PointView:
        """The decoded image, map position, ellipse and k nearest test images of the point z."""
        z = np.asarray(z, dtype=np.float64)
        idx, dist = geometry.nearest_neighbours(self.bundle.z_mean, z, k)
        shares = geometry.class_shares(self.bundle.labels[idx], len(CLASS_NAMES))
        if index is None:
            return PointView(z, self.to_map(z)[0], self.decode(z)[0], None, None, None, idx, dist, shares)
        image, reconstruction = self.decode(np.stack([z, self.test_point(index)]))  # one decoder call
        ellipse = geometry.posterior_ellipse(
            self.projection, self.bundle.z_mean[index], self.bundle.z_log_var[index]
        )
        left = float(np.linalg.norm(z - self.test_point(index)))
        left = left if left > 1e-4 else 0.0  # the link rounds a point to 4 decimals
        return PointView(z, self.to_map(z)[0], image, index, reconstruction, ellipse, idx, dist, shares, left)

    def click(
        self,
        at: tuple[float, float],
        units: tuple[float, float],
        base: np.ndarray,
        visible_classes: list[int],
    ) -> tuple[int | None, np.ndarray]:
        """What a click at map coordinates ``at`` means: (test image or None, latent point).

        ``units`` are map units per screen pixel; only points of ``visible_classes`` can be picked.
        """
        visible = np.isin(self.bundle.labels, visible_classes)
        return geometry.click_to_latent(
            self.projection, self.xy, at, units, base, self.bundle.z_mean, visible
        )

    def slider_values(self, z: np.ndarray) -> np.ndarray:
        """The point's coordinates (d,) clipped into the sliders' ranges."""
        return geometry.clip_to_ranges(z, self.slider_min, self.slider_max)

    def principal_values(self, z: np.ndarray) -> np.ndarray:
        """The point's coordinates (k,) along the principal directions, clipped to their sliders."""
        coeffs = geometry.principal_coeffs(self.pc_mean, self.pc_directions, z)
        return np.clip(coeffs, -self.pc_limit, self.pc_limit)

    def along_principal(self, z: np.ndarray, j: int, value: float) -> np.ndarray:
        """z moved along principal direction j only, so that its coordinate there is ``value``."""
        coeff = geometry.principal_coeffs(self.pc_mean, self.pc_directions, z)[j]
        return np.asarray(z, dtype=np.float64) + (value - coeff) * self.pc_directions[j]

    # -- views -----------------------------------------------------------------------------------
    def interpolation(self, a: np.ndarray, b: np.ndarray, steps: int, path: str) -> Interpolation:
        z = geometry.interpolate(a, b, steps, path)
        return Interpolation(z, self.to_map(z), self.decode(z))

    def default_region(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """A square of side 5 around the prior's mean, on the map."""
        return geometry.default_region(self.projection)

    def grid_decodes(self, region, n: int) -> np.ndarray:
        """(n*n, 28, 28) decodes of an n x n grid over region ((x0, x1), (y0, y1)) of the map, in
        image order; for d > 2 on the map plane through the data mean."""
        return self.decode(geometry.lift(self.projection, geometry.grid(region[0], region[1], n)))

    def prior_decodes(self, n: int, seed: int) -> np.ndarray:
        """(n, 28, 28) decodes of n samples from the prior."""
        return self.decode(sample_prior(self.bundle.prior, self.d, n, seed))

    def density_background(self, kind: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log density of the prior or of the aggregate posterior ("prior" | "aggregate") on an
        n x n grid over the map: xs (n,) left to right, ys (n,) top to bottom, log p (n, n)."""
        (x0, x1), (y0, y1) = self.limits
        points = geometry.lift(self.projection, geometry.grid((x0, x1), (y0, y1), n))  # image order
        if kind == "prior":
            logp = prior_log_density(points, self.bundle.prior)
        else:
            logp = aggregate_posterior_log_density(points, self.bundle.z_mean, self.bundle.z_log_var)
        return np.linspace(x0, x1, n), np.linspace(y1, y0, n), logp.reshape(n, n)

    # -- encoding an image -------------------------------------------------------------------------
    @staticmethod
    def prepare_upload(data: bytes) -> PreparedImage:
        """An uploaded file in the training format (raises ImageError saying what is wrong)."""
        return prepare_upload(data)

    def encode(self, pixels: np.ndarray) -> EncodedImage:
        """Encode and score one image (28, 28) float in [0, 1]: the summary of :meth:`inside`."""
        trip = self.inside(pixels, samples=1)
        return EncodedImage(
            z_mean=trip.mu,
            z_std=trip.sigma,
            xy=trip.xy,
            ellipse=trip.ellipse,
            reconstruction=trip.reconstruction,
            recon_nats=trip.recon_nats,
            kl_nats=trip.kl_nats,
            share_below=trip.share_below,
            mse=float(np.mean((trip.reconstruction - pixels) ** 2)),
        )

    def inside(self, pixels: np.ndarray, samples: int = 16, seed: int = 0) -> Inside:
        """Encode, sample, decode and score one image (28, 28) in [0, 1], keeping every number."""
        pixels = np.asarray(pixels, dtype=np.float64).reshape(28, 28)
        mu, log_var = (a[0] for a in self.bundle.encode(pixels))
        sigma = np.exp(0.5 * log_var)
        # The stream elbo_terms draws from with this seed: its first row is the scored sample.
        eps = np.random.default_rng(seed).standard_normal((samples, self.d)).astype(np.float32)
        z = mu + sigma * eps.astype(np.float64)
        decodes = self.decode(np.vstack([mu[None], z]))  # one decoder call: mu, then the samples
        recon_nats, kl_nats = (float(a[0]) for a in self.bundle.elbo_parts(pixels, seed=seed))
        kl_per_dim = None if self.bundle.prior is not None else kl_per_dimension(mu[None], log_var[None])
        return Inside(
            pixels=pixels.astype(np.float32),
            mu=mu,
            sigma=sigma,
            xy=self.to_map(mu)[0],
            ellipse=geometry.posterior_ellipse(self.projection, mu, log_var),
            eps=eps.astype(np.float64),
            z=z,
            z_xy=self.to_map(z),
            sample_decodes=decodes[1:],
            reconstruction=decodes[0],
            recon_nats=recon_nats,
            kl_nats=kl_nats,
            kl_per_dim=kl_per_dim,
            floor_nats=pixel_entropy(pixels),
            share_below=percentile_of(recon_nats + kl_nats, self.reference_neg_elbo()),
        )

    @functools.cached_property
    def map_facts(self) -> MapFacts:
        """The widest gap, the closest T-shirt/Shirt pair and each class's neighbour purity."""
        gap_xy, gap_distance = geometry.widest_gap(self.xy)
        t_shirt, shirt = CLASS_NAMES.index("T-shirt/top"), CLASS_NAMES.index("Shirt")
        i, j, pair_distance = geometry.closest_pair(self.xy, self.labels, t_shirt, shirt)
        return MapFacts(
            gap_z=geometry.lift(self.projection, gap_xy[None])[0],
            gap_xy=gap_xy,
            gap_distance=gap_distance,
            pair=(i, j),
            pair_distance=pair_distance,
            purity=geometry.neighbour_purity(self.xy, self.labels),
        )

    def reference_neg_elbo(self) -> np.ndarray:
        """-ELBO (nats) of the first REFERENCE_IMAGES test images: computed once, on first use."""
        with self._reference_lock:
            if self._reference is None:
                recon, kl = self.bundle.elbo_parts(self.images[:REFERENCE_IMAGES] / 255.0)
                self._reference = recon + kl
            return self._reference


def pixel_entropy(pixels: np.ndarray) -> float:
    """Summed binary entropy (nats) of grey pixels in [0, 1]: the lowest summed BCE any decoder can
    reach on them (DESIGN.md's 189.9-nat floor is its mean over the test set)."""
    p = np.clip(np.asarray(pixels, dtype=np.float64), 1e-12, 1 - 1e-12)
    return float(-np.sum(p * np.log(p) + (1 - p) * np.log(1 - p)))


def open_explorer(
    path: Path,
    publish: Callable[[Bundle], BrowserDecoder | None] | None = None,
    publish_encoder: Callable[[Bundle], BrowserEncoder | None] | None = None,
) -> Explorer:
    """Load a bundle and the shared test images beside it. Raises BundleError saying how to fix it.

    ``publish`` makes the bundle's browser decoder reachable by the browser (None: server decoding);
    ``publish_encoder`` the same for its encoder (the drawing pad's live encoding).
    """
    bundle = load_bundle(path)
    root = path.parent
    try:
        images, labels = load_test_images(root)
    except BundleError as e:
        raise BundleError(f"{e} Create it with `{TEST_IMAGES_COMMAND.format(root=root)}`.") from None
    if not np.array_equal(labels, bundle.labels):
        raise BundleError(
            f"The test images in {root} do not match the bundle {bundle.name} (labels differ). "
            f"Re-create them with `{TEST_IMAGES_COMMAND.format(root=root)}`."
        )
    return Explorer(
        bundle,
        images,
        publish(bundle) if publish else None,
        publish_encoder(bundle) if publish_encoder else None,
    )
