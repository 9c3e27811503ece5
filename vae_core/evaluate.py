"""Quality metrics of a trained encoder/decoder pair (definitions in shared/DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from . import latent
from .model import LOG_2PI, bernoulli_nll, gaussian_log_density, kl_standard_normal, logits_model
from .progress import BatchProgress, n_batches, tracked

import keras  # noqa: E402  (model.py selected the backend)
from keras import ops  # noqa: E402


@dataclass(frozen=True)
class Prior:
    """A diagonal Gaussian mixture prior; `None` stands for N(0, I) wherever a Prior is taken."""

    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, latent_dim)
    log_vars: np.ndarray  # (K, latent_dim)

    def log_density(self, z: np.ndarray) -> np.ndarray:  # (n, d) -> (n,)
        return latent.prior_log_density(z, self.weights, self.means, self.log_vars)


def prior_log_density(z: np.ndarray, prior: Prior | None) -> np.ndarray:
    if prior is None:
        return -0.5 * np.sum(LOG_2PI + z**2, axis=1)
    return prior.log_density(z)


def encode(
    encoder: keras.Model, images: np.ndarray, batch_size: int = 1000, *,
    progress: BatchProgress | None = None, task: str = "encoding",
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
    encoder, decoder, images: np.ndarray, prior: Prior | None = None, seed: int = 0, batch_size: int = 500,
    *, progress: BatchProgress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image Bernoulli reconstruction NLL and KL (nats), one posterior sample each."""
    rng = np.random.default_rng(seed)
    logits_of = logits_model(decoder)
    recon, kl = [], []
    for sl in _batches(len(images), batch_size, progress, "ELBO terms"):
        x = images[sl]
        z_mean, z_log_var = (np.asarray(t) for t in encoder(x, training=False))
        z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape).astype(np.float32)
        recon.append(np.asarray(_recon_nll(logits_of, decoder, x, z)))
        if prior is None:
            kl.append(np.asarray(kl_standard_normal(z_mean, z_log_var)))
        else:  # Monte Carlo: log q(z|x) - log p(z)
            kl.append(np.asarray(gaussian_log_density(z, z_mean, z_log_var)) - prior.log_density(z))
    return np.concatenate(recon), np.concatenate(kl)


def _recon_nll(logits_of, decoder, x, z):
    out = logits_of(z, training=False)
    if logits_of is decoder:  # an outside decoder without a "logits" layer: clip probabilities
        p = ops.clip(out, 1e-7, 1 - 1e-7)
        return -ops.sum(x * ops.log(p) + (1 - x) * ops.log(1 - p), axis=(1, 2, 3))
    return bernoulli_nll(x, out)


def iw_nll(
    encoder, decoder, images: np.ndarray, k: int = 64, prior: Prior | None = None, seed: int = 0,
    batch_size: int = 100, *, progress: BatchProgress | None = None,
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


def kl_per_dimension(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    """Average KL(q(z_j|x) || N(0, 1)) of each latent dimension: near 0 means the dimension is unused."""
    return (-0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var))).mean(axis=0)


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
    train_z, _ = encode(encoder, knn_images, progress=progress,
                        task=f"encoding {len(knn_images):,} training images for 5-NN")
    reconstruction = np.concatenate(
        [np.asarray(decoder(z_mean[sl], training=False))
         for sl in _batches(len(z_mean), 1000, progress, "reconstructions")]
    )
    stats = latent.latent_stats(z_mean)
    metrics = {
        "test_neg_elbo_nats": float(np.mean(recon + kl)),
        "test_recon_bce_nats": float(np.mean(recon)),
        "test_kl_nats": float(np.mean(kl)),
        "kl_estimator": "analytic" if prior is None else "monte_carlo_1_sample",
        "test_iw_nll_nats": float(np.mean(iw_nll(encoder, decoder, test_images, iw_samples, prior, seed,
                                                 progress=progress))),
        "iw_samples": iw_samples,
        "knn5_accuracy": float(latent.knn_accuracy(train_z, knn_labels, z_mean, test_labels, k=5)),
        "test_recon_mse": float(np.mean((reconstruction - test_images) ** 2)),
        "aggregate_posterior_kl_to_standard_normal": aggregate_posterior_gap(z_mean, z_log_var),
        "kl_per_dimension": kl_per_dimension(z_mean, z_log_var).tolist(),
        "latent_stats": {k: np.asarray(v).tolist() for k, v in stats.items()},
    }
    return metrics, (z_mean, z_log_var)
