"""Quality metrics of a trained encoder/decoder pair (definitions in shared/DESIGN.md)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from scipy.spatial import cKDTree
from scipy.special import logsumexp

from .arrays import as_int, as_matrix
from .density import LOG_2PI, Prior, prior_log_density
from .model import (
    bernoulli_nll,
    gaussian_log_density,
    kl_standard_normal,
    kl_standard_normal_terms,
    logits_model,
)
from .progress import BatchProgress, n_batches, tracked


def encode(
    encoder: keras.Model,
    images: np.ndarray,
    batch_size: int = 1000,
    *,
    progress: BatchProgress | None = None,
    task: str = "encoding",
) -> tuple[np.ndarray, np.ndarray]:
    """z_mean, z_log_var (n, latent_dim) of images (n, 28, 28, 1) float32 in [0, 1]."""
    callbacks = [] if progress is None else [_report_predict_batches(progress, task, len(images), batch_size)]
    z_mean, z_log_var = encoder.predict(images, batch_size=batch_size, verbose=0, callbacks=callbacks)
    return z_mean.astype(np.float32), z_log_var.astype(np.float32)


def _batches(n: int, size: int, progress: BatchProgress | None = None, task: str = ""):
    slices = (slice(start, min(n, start + size)) for start in range(0, n, size))
    return tracked(slices, progress, task, n_batches(n, size), size)


def _report_predict_batches(progress: BatchProgress, task: str, n: int, batch_size: int):
    """A Keras callback that tells `progress` about each batch of a predict() call."""
    total = n_batches(n, batch_size)
    return keras.callbacks.LambdaCallback(
        on_predict_begin=lambda logs: progress(task, 0, total, batch_size),
        on_predict_batch_end=lambda batch, logs: progress(task, batch + 1, total, batch_size),
    )


def elbo_terms(
    encoder,
    decoder,
    images: np.ndarray,
    prior: Prior | None = None,
    seed: int = 0,
    batch_size: int = 500,
    *,
    logits_of: keras.Model | None = None,
    progress: BatchProgress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image Bernoulli reconstruction NLL and KL (nats), one posterior sample each.

    ``logits_of`` is ``logits_model(decoder)``; pass it when scoring repeatedly (it is a new
    keras.Model each time it is built).
    """
    rng = np.random.default_rng(seed)
    logits_of = logits_of or logits_model(decoder)
    recon, kl = [], []
    for sl in _batches(len(images), batch_size, progress, "ELBO terms"):
        x = images[sl]
        z_mean, z_log_var = (np.asarray(t) for t in encoder(x, training=False))
        z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape).astype(np.float32)
        recon.append(np.asarray(_recon_nll(logits_of, decoder, x, z)))
        if prior is None:
            kl.append(np.asarray(kl_standard_normal(z_mean, z_log_var)))
        else:  # Monte Carlo: log q(z|x) - log p(z)
            kl.append(np.asarray(gaussian_log_density(z, z_mean, z_log_var)) - prior_log_density(z, prior))
    return np.concatenate(recon), np.concatenate(kl)


def _recon_nll(logits_of, decoder, x, z):
    out = logits_of(z, training=False)
    if logits_of is decoder:  # an outside decoder without a "logits" layer: clip probabilities
        p = ops.clip(out, 1e-7, 1 - 1e-7)
        return -ops.sum(x * ops.log(p) + (1 - x) * ops.log(1 - p), axis=(1, 2, 3))
    return bernoulli_nll(x, out)


def iw_nll(
    encoder,
    decoder,
    images: np.ndarray,
    k: int = 64,
    prior: Prior | None = None,
    seed: int = 0,
    batch_size: int = 100,
    *,
    progress: BatchProgress | None = None,
) -> np.ndarray:
    """Importance-weighted upper bound on -log p(x) with k samples (Burda et al. 2016). (n,)"""
    rng = np.random.default_rng(seed)
    logits_of = logits_model(decoder)
    out = []
    for sl in _batches(len(images), batch_size, progress, f"IWAE bound, k={k}"):
        x = images[sl]  # (b, 28, 28, 1)
        z_mean, z_log_var = (np.asarray(t) for t in encoder(x, training=False))
        b, d = z_mean.shape
        eps = rng.standard_normal((k, b, d)).astype(np.float32)
        z = (z_mean + np.exp(0.5 * z_log_var) * eps).reshape(k * b, d)  # sample-major
        x_rep = np.broadcast_to(x, (k, *x.shape)).reshape(k * b, *x.shape[1:])
        log_px_z = -np.asarray(_recon_nll(logits_of, decoder, x_rep, z)).reshape(k, b)
        log_pz = prior_log_density(z, prior).reshape(k, b)
        log_qz = np.asarray(gaussian_log_density(z.reshape(k, b, d), z_mean, z_log_var))  # (k, b)
        out.append(-(logsumexp(log_px_z + log_pz - log_qz, axis=0) - np.log(k)))
    return np.concatenate(out)


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
        return np.asarray(kl_standard_normal_terms(z_mean, z_log_var)).mean(axis=0)
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


def evaluate(
    encoder,
    decoder,
    test_images: np.ndarray,  # (10000, 28, 28, 1) float32
    test_labels: np.ndarray,
    knn_images: np.ndarray,  # the first 50,000 training images, float32
    knn_labels: np.ndarray,
    *,
    prior: Prior | None = None,
    iw_samples: int = 64,
    seed: int = 0,
    progress: BatchProgress | None = None,  # told about each phase's batches (vae_core.progress)
) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
    """All test-set metrics, plus the test latents (z_mean, z_log_var) computed on the way."""
    recon, kl = elbo_terms(encoder, decoder, test_images, prior, seed, progress=progress)
    z_mean, z_log_var = encode(encoder, test_images, progress=progress, task="encoding the test images")
    train_z, _ = encode(
        encoder, knn_images, progress=progress, task=f"encoding {len(knn_images):,} training images for 5-NN"
    )
    reconstruction = np.concatenate(
        [
            np.asarray(decoder(z_mean[sl], training=False))
            for sl in _batches(len(z_mean), 1000, progress, "reconstructions")
        ]
    )
    stats = latent_stats(z_mean)
    metrics = {
        "test_neg_elbo_nats": float(np.mean(recon + kl)),
        "test_recon_bce_nats": float(np.mean(recon)),
        "test_kl_nats": float(np.mean(kl)),
        "kl_estimator": "analytic" if prior is None else "monte_carlo_1_sample",
        "test_iw_nll_nats": float(
            np.mean(iw_nll(encoder, decoder, test_images, iw_samples, prior, seed, progress=progress))
        ),
        "iw_samples": iw_samples,
        "knn5_accuracy": knn_accuracy(train_z, knn_labels, z_mean, test_labels, k=5),
        "test_recon_mse": float(np.mean((reconstruction - test_images) ** 2)),
        "aggregate_posterior_kl_to_standard_normal": aggregate_posterior_gap(z_mean, z_log_var),
        "kl_per_dimension": kl_per_dimension(z_mean, z_log_var, prior).tolist(),
        "latent_stats": {k: np.asarray(v).tolist() for k, v in stats.items()},
    }
    return metrics, (z_mean, z_log_var)
