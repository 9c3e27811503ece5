"""Quality metrics of a VAE, and how one image scores (definitions in shared/DESIGN.md).

Pure numpy over any pair of networks that follow :class:`Networks` (Keras ones in training and
evaluation, ONNX Runtime ones in the app), so the numbers mean the same wherever they are
computed. The ELBO's terms are written here in numpy, as ``vae_core.model`` writes them in
``keras.ops`` for training (tests/unit/test_evaluate.py checks they agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import expit, logsumexp

from .arrays import as_int, as_matrix
from .config import MAX_IW_SAMPLES
from .density import LOG_2PI, Prior, prior_log_density
from .progress import BatchProgress, n_batches, tracked


class Networks(Protocol):
    """An encoder and a decoder, as numpy functions. Images are float32 (n, H, W, C) in [0, 1]."""

    latent_dim: int
    image_shape: tuple[int, int, int]

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(z_mean, z_log_var), each (n, latent_dim)."""

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        """The decoder's logits (n, H, W, C) at latent points (n, latent_dim)."""


# ---------------------------------------------------------------------------- the ELBO's terms


def bernoulli_nll(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Summed binary cross-entropy per image, in nats, from logits: (n,) for (n, H, W, C)."""
    x, logits = np.asarray(x, np.float64), np.asarray(logits, np.float64)
    per_pixel = np.logaddexp(0.0, logits) - x * logits  # softplus(l) - x l, stable for any l
    return per_pixel.reshape(len(per_pixel), -1).sum(axis=1)


def kl_standard_normal_terms(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    """Analytic KL(q(z_j|x) || N(0, 1)) of each dimension of each image: (n, d)."""
    z_mean, z_log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
    return -0.5 * (1.0 + z_log_var - z_mean**2 - np.exp(z_log_var))


def gaussian_log_density(z: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """log N(z; mean, diag(exp(log_var))), summed over the last axis."""
    z, mean, log_var = (np.asarray(a, np.float64) for a in (z, mean, log_var))
    return -0.5 * np.sum(LOG_2PI + log_var + (z - mean) ** 2 / np.exp(log_var), axis=-1)


def pixel_entropy(pixels: np.ndarray) -> np.ndarray:
    """Summed binary entropy (nats) of each image (n, ...) of values in [0, 1]: the lowest summed
    BCE any decoder can reach on it. Its mean over a test set is the data set's floor."""
    p = np.clip(np.asarray(pixels, dtype=np.float64), 1e-12, 1 - 1e-12)
    h = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    return h.reshape(len(h), -1).sum(axis=1)


def floor_nats(images_uint8: np.ndarray, batch: int = 1000) -> float:
    """The data set's floor: mean binary entropy of the test images (uint8 (n, ...)), in nats."""
    total = sum(
        float(pixel_entropy(images_uint8[i : i + batch] / 255.0).sum())
        for i in range(0, len(images_uint8), batch)
    )
    return total / max(1, len(images_uint8))


# Pixel values encoded or decoded at once (1,000 Fashion-MNIST images): the networks' activations
# grow with them. At 64x64 colour, evaluation took 2.3 GB with batches of 500 images and 6,400 IWAE
# decodes' worth of values, 0.9 GB with this (an untrained default-preset model, 450 test images).
BATCH_VALUES = 1000 * 784
IW_VALUES = BATCH_VALUES  # decoded at once by iw_nll, its k samples of each image counted


def unit_images(images: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] from uint8 images (as vae_core.data.to_float computes it), else as given."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) * np.float32(1.0 / 255.0)
    return images


def _fitting(size: int, images: np.ndarray) -> int:
    """At most ``size`` images, and about BATCH_VALUES pixel values."""
    return max(1, min(size, BATCH_VALUES // max(1, int(np.prod(images.shape[1:])))))


def _batches(n: int, size: int, progress: BatchProgress | None = None, task: str = ""):
    slices = (slice(start, min(n, start + size)) for start in range(0, n, size))
    return tracked(slices, progress, task, n_batches(n, size), size)


def _kl(z, z_mean, z_log_var, prior: Prior | None) -> np.ndarray:
    """KL(q(z|x) || p(z)) per image: analytic under N(0, I), else one-sample Monte Carlo at z."""
    if prior is None:
        return kl_standard_normal_terms(z_mean, z_log_var).sum(axis=1)
    return gaussian_log_density(z, z_mean, z_log_var) - prior_log_density(z, prior)


def elbo_terms(
    networks: Networks,
    images: np.ndarray,
    prior: Prior | None = None,
    seed: int = 0,
    batch_size: int = 500,
    *,
    progress: BatchProgress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image Bernoulli reconstruction NLL and KL (nats), one posterior sample each."""
    rng = np.random.default_rng(seed)
    recon, kl = [], []
    for sl in _batches(len(images), _fitting(batch_size, images), progress, "ELBO terms"):
        x = images[sl]
        z_mean, z_log_var = networks.encode(x)
        eps = rng.standard_normal(z_mean.shape).astype(np.float32)
        z = z_mean + np.exp(0.5 * z_log_var) * eps
        recon.append(bernoulli_nll(x, networks.decode_logits(z.astype(np.float32))))
        kl.append(_kl(z, z_mean, z_log_var, prior))
    return np.concatenate(recon), np.concatenate(kl)


def iw_nll(
    networks: Networks,
    images: np.ndarray,
    k: int = 64,
    prior: Prior | None = None,
    seed: int = 0,
    batch_size: int = 100,
    *,
    progress: BatchProgress | None = None,
) -> np.ndarray:
    """Importance-weighted upper bound on -log p(x) with k samples (Burda et al. 2016). (n,)

    The images are taken in batches small enough that k * batch decodes hold about IW_VALUES
    pixel values, so memory grows neither with k (at most MAX_IW_SAMPLES) nor with the image size."""
    k = as_int(k, "k (importance samples)", 1, MAX_IW_SAMPLES)
    per_image = int(np.prod(images.shape[1:]))
    batch_size = max(1, min(batch_size, IW_VALUES // (per_image * k)))
    rng = np.random.default_rng(seed)
    out = []
    for sl in _batches(len(images), batch_size, progress, f"IWAE bound, k={k}"):
        x = images[sl]  # (b, H, W, C)
        z_mean, z_log_var = networks.encode(x)
        b, d = z_mean.shape
        eps = rng.standard_normal((k, b, d)).astype(np.float32)
        z = (z_mean + np.exp(0.5 * z_log_var) * eps).reshape(k * b, d)  # sample-major
        x_rep = np.broadcast_to(x, (k, *x.shape)).reshape(k * b, *x.shape[1:])
        log_px_z = -bernoulli_nll(x_rep, networks.decode_logits(z.astype(np.float32))).reshape(k, b)
        log_pz = prior_log_density(z, prior).reshape(k, b)
        log_qz = gaussian_log_density(z.reshape(k, b, d), z_mean, z_log_var)  # (k, b)
        out.append(-(logsumexp(log_px_z + log_pz - log_qz, axis=0) - np.log(k)))
    return np.concatenate(out)


# ---------------------------------------------------------------------------- one image


@dataclass(frozen=True)
class ImageTrip:
    """One image's trip through the VAE, with the numbers of every step ("Inside the VAE").

    The reconstruction term is scored at the first sample, ``z[0] = mu + sigma * eps[0]``: the
    same draw :func:`elbo_terms` makes with this seed, so the parts add up to its -ELBO.
    """

    pixels: np.ndarray  # (H, W, C) the input, in [0, 1]
    mu: np.ndarray  # (d,) the encoder's centre for this image (z_mean)
    log_var: np.ndarray  # (d,) its log-variance
    eps: np.ndarray  # (s, d) standard-normal draws
    z: np.ndarray  # (s, d) samples mu + sigma * eps
    sample_decodes: np.ndarray  # (s, H, W, C) the decoder's image of each sample
    reconstruction: np.ndarray  # (H, W, C) the decoder's image of mu
    recon_nats: float  # -log p(x | z[0]): summed binary cross-entropy over the pixels
    kl_nats: float  # KL(q(z|x) || p(z))
    kl_per_dim: np.ndarray | None  # (d,) its analytic terms under N(0, I); None for a mixture prior
    floor_nats: float  # the input's own binary entropy: no reconstruction term can go below it

    @property
    def sigma(self) -> np.ndarray:
        return np.exp(0.5 * self.log_var)

    @property
    def neg_elbo(self) -> float:
        return self.recon_nats + self.kl_nats

    @property
    def mse(self) -> float:
        """Per-pixel squared error of the reconstruction (the decode of mu)."""
        return float(np.mean((self.reconstruction - self.pixels) ** 2))


def image_trip(
    networks: Networks, pixels: np.ndarray, prior: Prior | None = None, samples: int = 16, seed: int = 0
) -> ImageTrip:
    """Encode one image (H, W, C) in [0, 1] once, draw ``samples`` epsilons, decode mu and the
    samples in one call, and score the image's -ELBO with the first sample."""
    x = np.asarray(pixels, dtype=np.float32).reshape(1, *networks.image_shape)
    mu, log_var = (np.asarray(a[0], dtype=np.float64) for a in networks.encode(x))
    eps = np.random.default_rng(seed).standard_normal((samples, len(mu))).astype(np.float32)
    z = mu + np.exp(0.5 * log_var) * eps.astype(np.float64)  # (s, d)
    logits = networks.decode_logits(np.vstack([mu[None], z]).astype(np.float32))  # mu, then the samples
    means = expit(np.asarray(logits, dtype=np.float64)).astype(np.float32)
    return ImageTrip(
        pixels=x[0],
        mu=mu,
        log_var=log_var,
        eps=eps.astype(np.float64),
        z=z,
        sample_decodes=means[1:],
        reconstruction=means[0],
        recon_nats=float(bernoulli_nll(x, logits[1:2])[0]),
        kl_nats=float(_kl(z[:1], mu[None], log_var[None], prior)[0]),
        kl_per_dim=None if prior is not None else kl_standard_normal_terms(mu, log_var),
        floor_nats=float(pixel_entropy(x)[0]),
    )


# ---------------------------------------------------------------------------- the latent codes


def aggregate_posterior_gap(z_mean: np.ndarray, z_log_var: np.ndarray) -> float:
    """KL(N(m, S) || N(0, I)) for the Gaussian moment-matched to the aggregate posterior.

    0 means the encoded data, as a whole, is spread exactly like the standard normal prior;
    large values mean decodes of prior samples often land where no data was encoded.
    """
    mean = z_mean.mean(axis=0)
    # total covariance = covariance of the means + average posterior variance
    cov = np.atleast_2d(np.cov(z_mean, rowvar=False)) + np.diag(np.exp(z_log_var).mean(axis=0))
    d = len(mean)
    _, logdet = np.linalg.slogdet(cov)
    return float(0.5 * (np.trace(cov) + mean @ mean - d - logdet))


def kl_per_dimension(
    z_mean: np.ndarray, z_log_var: np.ndarray, prior: Prior | None = None, *, nodes: int = 16
) -> np.ndarray:
    """Average KL(q(z_j|x) || p(z_j)) of each latent dimension j: near 0 means it is unused.

    Under N(0, I) these are the analytic terms of the KL, and they sum to it. Under a mixture
    prior, p(z_j) is the mixture's marginal in dimension j, and the expectation over q is taken
    by Gauss-Hermite quadrature with ``nodes`` points. Those terms need not sum to the KL (a
    mixture does not factorise over dimensions), but each is 0 exactly when the dimension's
    posterior is the prior's marginal for every image: when it carries no information.
    """
    if prior is None:
        return kl_standard_normal_terms(z_mean, z_log_var).mean(axis=0)
    mu, log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)  # (n, d)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)  # E_N(0,1)[f] = sum(w * f(x)) / sum(w)
    w = w / w.sum()
    points = mu[..., None] + np.exp(0.5 * log_var)[..., None] * x  # (n, d, nodes): q's quadrature points
    means, log_vars = np.asarray(prior.means), np.asarray(prior.log_vars)
    expected_log_p = np.stack(
        [
            prior_log_density(  # the prior's marginal in dimension j, a 1-D mixture
                points[:, j].reshape(-1, 1), Prior(prior.weights, means[:, [j]], log_vars[:, [j]])
            ).reshape(len(mu), nodes)
            @ w
            for j in range(mu.shape[1])
        ],
        axis=1,
    )  # (n, d)
    entropy = 0.5 * (LOG_2PI + 1.0 + log_var)  # of q(z_j|x)
    return (-entropy - expected_log_p).mean(axis=0)


def knn_accuracy(
    train_z: object, train_labels: object, test_z: object, test_labels: object, k: int = 5
) -> float:
    """Accuracy of a k-nearest-neighbour classifier (Euclidean) fitted on ``train_z``.

    Each test point takes the majority label of its ``k`` nearest training points; a tie is
    broken by the nearest neighbour whose label is among the tied classes.
    """
    train_z = as_matrix(train_z, "train_z")
    test_z = as_matrix(test_z, "test_z", train_z.shape[1])
    k = min(as_int(k, "k", 1), train_z.shape[0])
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
    z = as_matrix(z)
    return {"min": z.min(axis=0), "max": z.max(axis=0), "mean": z.mean(axis=0), "std": z.std(axis=0)}


def percentile_of(value: float, sample: np.ndarray) -> float:
    """Share of ``sample`` strictly below ``value`` (0 to 1): where one image's -ELBO falls."""
    sample = np.asarray(sample, dtype=np.float64)
    return float(np.mean(sample < value)) if sample.size else float("nan")


def encode_all(
    networks: Networks, images: np.ndarray, batch_size: int = 1000, *, progress=None, task: str = "encoding"
) -> tuple[np.ndarray, np.ndarray]:
    """z_mean, z_log_var (n, latent_dim) float32 of images (n, H, W, C): float32 in [0, 1], or uint8
    (scaled a batch at a time, so a large training set is never held as floats)."""
    parts = [
        networks.encode(unit_images(images[sl]))
        for sl in _batches(len(images), _fitting(batch_size, images), progress, task)
    ]
    z_mean, z_log_var = (np.concatenate([p[i] for p in parts]).astype(np.float32) for i in (0, 1))
    return z_mean, z_log_var


def evaluate(
    networks: Networks,
    test_images: np.ndarray,  # (n, H, W, C) float32 in [0, 1]
    test_labels: np.ndarray | None,  # None (an unlabelled set, or no training images): no 5-NN
    knn_images: np.ndarray | None,  # training images for the 5-NN classifier, float32
    knn_labels: np.ndarray | None,
    *,
    prior: Prior | None = None,
    iw_samples: int = 64,
    seed: int = 0,
    progress: BatchProgress | None = None,  # told about each phase's batches (vae_core.progress)
) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
    """All test-set metrics, plus the test latents (z_mean, z_log_var) computed on the way."""
    recon, kl = elbo_terms(networks, test_images, prior, seed, progress=progress)
    z_mean, z_log_var = encode_all(networks, test_images, progress=progress, task="encoding the test images")
    knn = None
    if test_labels is not None and knn_images is not None and knn_labels is not None:
        train_z, _ = encode_all(
            networks,
            knn_images,
            progress=progress,
            task=f"encoding {len(knn_images):,} training images for 5-NN",
        )
        knn = knn_accuracy(train_z, knn_labels, z_mean, test_labels, k=5)
    squared = [
        float(np.sum((expit(networks.decode_logits(z_mean[sl])) - test_images[sl]) ** 2))
        for sl in _batches(len(z_mean), _fitting(1000, test_images), progress, "reconstructions")
    ]
    stats = latent_stats(z_mean)
    metrics = {
        "test_neg_elbo_nats": float(np.mean(recon + kl)),
        "test_recon_bce_nats": float(np.mean(recon)),
        "test_kl_nats": float(np.mean(kl)),
        "kl_estimator": "analytic" if prior is None else "monte_carlo_1_sample",
        "test_iw_nll_nats": float(
            np.mean(iw_nll(networks, test_images, iw_samples, prior, seed, progress=progress))
        ),
        "iw_samples": iw_samples,
        "knn5_accuracy": knn,
        "test_recon_mse": sum(squared) / test_images.size,
        "aggregate_posterior_kl_to_standard_normal": aggregate_posterior_gap(z_mean, z_log_var),
        "kl_per_dimension": kl_per_dimension(z_mean, z_log_var, prior).tolist(),
        "latent_stats": {k: np.asarray(v).tolist() for k, v in stats.items()},
    }
    return metrics, (z_mean, z_log_var)
