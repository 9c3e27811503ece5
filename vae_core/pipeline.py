"""The tf.data pipelines that feed training: batches of images, or of (anchor, neighbour) pairs
for the neighbour term. Images come as uint8 (scaled a batch at a time) or float32."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf


def make_dataset(images: np.ndarray, batch_size: int, *, shuffle: bool, seed: int) -> tf.data.Dataset:
    """A tf.data pipeline of float32 image batches in [0, 1] (no labels) from ``(N, H, W, C)``
    images, uint8 (scaled per batch: a quarter of the memory) or float32.

    Shuffling, when on, covers the whole set and differs each epoch, reproducibly from ``seed``; it
    shuffles indices, so no second copy of the images is held.
    """
    if images.ndim != 4 or images.dtype not in (np.float32, np.uint8):
        raise ValueError(f"expected uint8 or float32 images (N, H, W, C), got {images.dtype} {images.shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    import tensorflow as tf  # lazy: importing TensorFlow takes seconds

    pixels = tf.constant(images)
    dataset = tf.data.Dataset.range(len(images))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda rows: _unit(tf.gather(pixels, rows)))
    return dataset.prefetch(tf.data.AUTOTUNE)


def _unit(batch):
    """float32 in [0, 1] from a batch of uint8 (as to_float computes it) or float32 images."""
    import tensorflow as tf

    if batch.dtype == tf.uint8:
        return tf.cast(batch, tf.float32) * np.float32(1.0 / 255.0)
    return batch


def pixel_neighbours(images: np.ndarray, k: int, *, dims: int = 50) -> np.ndarray:
    """The ``k`` nearest other images of each image, by Euclidean distance after PCA to ``dims``.

    ``images`` is ``(N, H, W[, C])``; returns int32 ``(N, k)`` indices, nearest first.
    PCA keeps the search cheap (~10 s for 50,000 images on 2 cores) and drops pixel noise.
    """
    from scipy.spatial import cKDTree  # as in vae_core.evaluate

    n = len(images)
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and {n - 1} (the number of images - 1), got {k}")
    flat = np.asarray(images, dtype=np.float32).reshape(n, -1)
    centred = flat - flat.mean(axis=0)
    # Principal axes from at most ~10,000 evenly spaced rows keep the SVD to a few seconds.
    _, _, axes = np.linalg.svd(centred[:: max(1, n // 10_000)], full_matrices=False)
    points = centred @ axes[: min(dims, axes.shape[0])].T  # (N, dims)
    _, nearest = cKDTree(points).query(points, k=k + 1, workers=-1)  # (N, k + 1), nearest first
    is_self = nearest == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), k] = True  # an exact duplicate pushed the image itself out
    return nearest[~is_self].reshape(n, k).astype(np.int32)


def make_pair_dataset(
    images: np.ndarray, neighbours: np.ndarray, batch_size: int, *, seed: int
) -> tf.data.Dataset:
    """Batches of ``(anchors, partners)``, each ``(batch_size // 2, 28, 28, 1)``.

    Each partner is a random one of its anchor's ``neighbours`` (an ``(N, k)`` index array).
    An epoch takes a fresh random half of the images as anchors, so it costs as many images
    as an epoch of :func:`make_dataset`.
    """
    if len(neighbours) != len(images):
        raise ValueError(f"neighbours has {len(neighbours)} rows but there are {len(images)} images")
    half = batch_size // 2
    if half < 1:
        raise ValueError(f"batch_size must be at least 2 for image pairs, got {batch_size}")
    import tensorflow as tf  # lazy: importing TensorFlow takes seconds

    pixels = tf.constant(images)
    table = tf.constant(neighbours, dtype=tf.int32)
    k = neighbours.shape[1]

    def pair(index):
        index = tf.cast(index, tf.int32)
        partner = table[index, tf.random.uniform((), 0, k, dtype=tf.int32, seed=seed)]
        return _unit(pixels[index]), _unit(pixels[partner])

    steps = max(1, len(images) // batch_size)
    dataset = tf.data.Dataset.range(len(images)).shuffle(
        len(images), seed=seed, reshuffle_each_iteration=True
    )
    dataset = dataset.map(pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(half, drop_remainder=True).take(steps).prefetch(tf.data.AUTOTUNE)
