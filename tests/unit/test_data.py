"""Tests for vae_core.data: IDX validation, source order, arrays and the tf.data pipeline."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests import needs
from vae_core import data
from vae_core.data import (
    CLASS_NAMES,
    FILES,
    DataError,
    find_data_dir,
    load_fashion_mnist,
    read_idx_images,
    read_idx_labels,
    split_validation,
    to_float,
)
from vae_core.pipeline import make_dataset, make_pair_dataset, pixel_neighbours

# --------------------------------------------------------------------------- tiny IDX writer


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Raw (uncompressed) IDX bytes for a uint8 array: magic, big-endian dims, body."""
    if magic is None:
        magic = 0x00000800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path: Path, raw: bytes) -> Path:
    """Write ``raw`` gzip-compressed to ``path``."""
    path.write_bytes(gzip.compress(raw))
    return path


def tiny_images(n: int = 5) -> np.ndarray:
    """n distinct 28x28 uint8 images."""
    return (np.arange(n * 28 * 28) % 256).astype(np.uint8).reshape(n, 28, 28)


def tiny_labels(n: int = 5) -> np.ndarray:
    """n labels in [0, 10)."""
    return (np.arange(n) % 10).astype(np.uint8)


def write_dataset(directory: Path, n_train: int = 5, n_test: int = 3) -> Path:
    """A complete, tiny Fashion-MNIST-shaped directory of the four .gz files."""
    directory.mkdir(parents=True, exist_ok=True)
    write_gz(directory / "train-images-idx3-ubyte.gz", idx_bytes(tiny_images(n_train)))
    write_gz(directory / "train-labels-idx1-ubyte.gz", idx_bytes(tiny_labels(n_train)))
    write_gz(directory / "t10k-images-idx3-ubyte.gz", idx_bytes(tiny_images(n_test)))
    write_gz(directory / "t10k-labels-idx1-ubyte.gz", idx_bytes(tiny_labels(n_test)))
    return directory


@pytest.fixture
def no_default_sources(monkeypatch, tmp_path):
    """Hide the Debian directory, the Keras cache and $FASHION_MNIST_DIR."""
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-home"))


# --------------------------------------------------------------------------- reading IDX files


def test_round_trip_images_and_labels(tmp_path):
    images, labels = tiny_images(), tiny_labels()
    x = read_idx_images(write_gz(tmp_path / "i.gz", idx_bytes(images)))
    y = read_idx_labels(write_gz(tmp_path / "l.gz", idx_bytes(labels)))
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28)
    assert y.dtype == np.uint8 and y.shape == (5,)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_matching_sha256_is_accepted(tmp_path):
    raw = idx_bytes(tiny_labels())
    path = write_gz(tmp_path / "l.gz", raw)
    y = read_idx_labels(path, expected_sha256=hashlib.sha256(raw).hexdigest())
    assert len(y) == 5


def test_missing_file_names_path_and_fix(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with pytest.raises(DataError) as err:
        read_idx_images(path)
    message = str(err.value)
    assert str(path) in message and "not found" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_truncated_gzip_is_reported(tmp_path):
    compressed = gzip.compress(idx_bytes(tiny_images()))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataError, match="truncated") as err:
        read_idx_images(path)
    assert str(path) in str(err.value)


def test_not_gzip_at_all_is_reported(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(idx_bytes(tiny_images()))  # uncompressed
    with pytest.raises(DataError, match="not a readable gzip file") as err:
        read_idx_images(path)
    assert str(path) in str(err.value)


def test_wrong_magic_number_is_reported(tmp_path):
    path = write_gz(tmp_path / "labels-as-images.gz", idx_bytes(tiny_labels()))
    with pytest.raises(DataError) as err:
        read_idx_images(path)
    message = str(err.value)
    assert str(path) in message
    assert "wrong magic number 0x00000801" in message and "0x00000803" in message


def test_wrong_image_dimensions_are_reported(tmp_path):
    path = write_gz(tmp_path / "small.gz", idx_bytes(np.zeros((5, 27, 28), np.uint8)))
    with pytest.raises(DataError, match="27x28, expected 28x28") as err:
        read_idx_images(path)
    assert str(path) in str(err.value)


def test_short_body_is_reported(tmp_path):
    raw = idx_bytes(tiny_images())
    path = write_gz(tmp_path / "short.gz", raw[:-100])
    with pytest.raises(DataError, match="truncated: header says 5 images") as err:
        read_idx_images(path)
    assert str(path) in str(err.value)


def test_trailing_bytes_are_reported(tmp_path):
    path = write_gz(tmp_path / "long.gz", idx_bytes(tiny_labels()) + b"\x00")
    with pytest.raises(DataError, match="trailing bytes") as err:
        read_idx_labels(path)
    assert str(path) in str(err.value)


def test_label_out_of_range_is_reported(tmp_path):
    labels = tiny_labels()
    labels[3] = 10
    path = write_gz(tmp_path / "l.gz", idx_bytes(labels))
    with pytest.raises(DataError, match="label 10 at index 3 is out of range") as err:
        read_idx_labels(path)
    assert str(path) in str(err.value)


def test_decompression_bomb_header_is_refused_before_reading(tmp_path):
    header = (0x803).to_bytes(4, "big") + (10**9).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    path = write_gz(tmp_path / "bomb.gz", header + bytes(28 * 28))  # body far shorter than claimed
    with pytest.raises(DataError, match="1,000,000,000 images") as err:
        read_idx_images(path)
    message = str(err.value)
    assert str(path) in message and "refusing" in message


def test_sha256_mismatch_is_reported(tmp_path):
    path = write_gz(tmp_path / "l.gz", idx_bytes(tiny_labels()))
    with pytest.raises(DataError, match="SHA-256") as err:
        read_idx_labels(path, expected_sha256="0" * 64)
    assert str(path) in str(err.value) and "0" * 64 in str(err.value)


# --------------------------------------------------------------------------- finding and loading


def test_load_from_explicit_dir(tmp_path):
    directory = write_dataset(tmp_path / "fm")
    ds = load_fashion_mnist(directory, verify_digests=False, allow_download=False)
    assert ds.x_train.shape == (5, 28, 28) and ds.y_train.shape == (5,)
    assert ds.x_test.shape == (3, 28, 28) and ds.y_test.shape == (3,)
    assert ds.source == str(directory)
    raw = idx_bytes(tiny_labels(3))
    assert ds.digests["t10k-labels-idx1-ubyte.gz"] == hashlib.sha256(raw).hexdigest()
    assert set(ds.digests) == set(FILES)


def test_label_image_count_mismatch_names_both_files(tmp_path):
    directory = write_dataset(tmp_path / "fm")
    write_gz(directory / "train-labels-idx1-ubyte.gz", idx_bytes(tiny_labels(4)))
    with pytest.raises(DataError) as err:
        load_fashion_mnist(directory, verify_digests=False, allow_download=False)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz holds 5 images" in message
    assert "train-labels-idx1-ubyte.gz holds 4 labels" in message


def test_counts_that_disagree_are_reported_before_digests(tmp_path):
    """A label file of the wrong length also has the wrong digest: the count says more."""
    directory = write_dataset(tmp_path / "fm")
    write_gz(directory / "train-labels-idx1-ubyte.gz", idx_bytes(tiny_labels(4)))
    with pytest.raises(DataError) as err:
        load_fashion_mnist(directory, verify_digests=True, allow_download=False)
    assert "holds 5 images but" in str(err.value) and "SHA-256" not in str(err.value)


def test_digest_verification_rejects_non_canonical_files(tmp_path):
    directory = write_dataset(tmp_path / "fm")
    with pytest.raises(DataError, match="SHA-256") as err:
        load_fashion_mnist(directory, verify_digests=True, allow_download=False)
    assert str(directory) in str(err.value)


def test_explicit_empty_dir_raises_without_fallback(tmp_path):
    with pytest.raises(DataError) as err:
        load_fashion_mnist(tmp_path, allow_download=False)
    message = str(err.value)
    assert str(tmp_path) in message and "train-images-idx3-ubyte.gz" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_env_var_is_honoured(tmp_path, monkeypatch):
    directory = write_dataset(tmp_path / "from-env")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(directory))
    assert find_data_dir(allow_download=False) == directory
    ds = load_fashion_mnist(verify_digests=False, allow_download=False)
    assert ds.source == str(directory)


def test_env_var_pointing_nowhere_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nope"))
    with pytest.raises(DataError, match="FASHION_MNIST_DIR.*no such directory"):
        find_data_dir(allow_download=False)


def test_nothing_found_lists_every_place_tried(tmp_path, no_default_sources):
    with pytest.raises(DataError) as err:
        find_data_dir(allow_download=False)
    message = str(err.value)
    assert str(tmp_path / "no-debian") in message
    assert str(tmp_path / "no-keras-home" / "datasets" / "fashion-mnist") in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_keras_cache_is_used_when_debian_dir_is_absent(tmp_path, no_default_sources):
    cache = write_dataset(tmp_path / "no-keras-home" / "datasets" / "fashion-mnist")
    assert find_data_dir(allow_download=False) == cache


def test_failed_download_becomes_data_error(tmp_path, no_default_sources, monkeypatch):
    def offline() -> None:
        raise OSError("no internet")

    monkeypatch.setattr(data, "_download_to_keras_cache", offline)
    with pytest.raises(DataError, match="failed: no internet"):
        find_data_dir(allow_download=True)


# --------------------------------------------------------------------------- arrays and pipeline


def test_class_names():
    assert len(CLASS_NAMES) == 10
    assert CLASS_NAMES[0] == "T-shirt/top" and CLASS_NAMES[9] == "Ankle boot"


def test_split_validation_takes_the_last_n():
    x, y = np.arange(10) * 10, np.arange(10)
    x_train, y_train, x_val, y_val = split_validation(x, y, n_val=3)
    np.testing.assert_array_equal(x_train, x[:7])
    np.testing.assert_array_equal(y_train, y[:7])
    np.testing.assert_array_equal(x_val, [70, 80, 90])
    np.testing.assert_array_equal(y_val, [7, 8, 9])


@pytest.mark.parametrize("n_val", [0, 10, 11])
def test_split_validation_rejects_bad_sizes(n_val):
    with pytest.raises(ValueError, match="n_val"):
        split_validation(np.zeros(10), np.zeros(10), n_val=n_val)


def test_to_float_range_shape_dtype():
    images = np.array([[[0] * 28] * 28, [[255] * 28] * 28], dtype=np.uint8)
    out = to_float(images)
    assert out.dtype == np.float32 and out.shape == (2, 28, 28, 1)
    assert out[0].max() == 0.0 and out[1].min() == 1.0


def test_to_float_rejects_non_uint8():
    with pytest.raises(ValueError, match="uint8"):
        to_float(np.zeros((2, 28, 28), np.float32))


def test_make_dataset_batches_images_only():
    images = to_float(tiny_images(5))
    batches = list(make_dataset(images, 2, shuffle=False, seed=0).as_numpy_iterator())
    assert [b.shape for b in batches] == [(2, 28, 28, 1), (2, 28, 28, 1), (1, 28, 28, 1)]
    np.testing.assert_array_equal(np.concatenate(batches), images)
    shuffled = np.concatenate(list(make_dataset(images, 2, shuffle=True, seed=1)))
    assert sorted(shuffled.sum(axis=(1, 2, 3))) == sorted(images.sum(axis=(1, 2, 3)))


def clustered_images(per_cluster: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Three clusters of noisy uint8 images around different patterns, and each image's cluster."""
    rng = np.random.default_rng(0)
    centres = rng.integers(0, 256, (3, 28, 28))
    images = np.concatenate([np.clip(c + rng.normal(0, 8, (per_cluster, 28, 28)), 0, 255) for c in centres])
    return images.astype(np.uint8), np.repeat(np.arange(3), per_cluster)


def test_pixel_neighbours_stay_in_their_cluster_nearest_first():
    images, cluster = clustered_images()
    neighbours = pixel_neighbours(images, 4)
    assert neighbours.shape == (18, 4) and neighbours.dtype == np.int32
    assert (cluster[neighbours] == cluster[:, None]).all()
    assert (neighbours != np.arange(18)[:, None]).all()
    flat = images.reshape(18, -1).astype(np.float64)
    dist = np.linalg.norm(flat[neighbours] - flat[:, None], axis=-1)
    assert (np.diff(dist, axis=1) >= -1e-4 * dist[:, 1:]).all()  # 18 images: PCA keeps all distances


def test_pixel_neighbours_never_list_the_image_itself_among_duplicates():
    # 3 images, 6 copies each: the 4 nearest of an image may all be copies, the image not among them
    images = np.repeat(clustered_images()[0][:3], 6, axis=0)
    neighbours = pixel_neighbours(images, 3)
    assert (neighbours != np.arange(18)[:, None]).all()
    assert (neighbours // 6 == np.arange(18)[:, None] // 6).all()  # 3 of its copies


@pytest.mark.parametrize("k", [0, 18])
def test_pixel_neighbours_rejects_impossible_k(k):
    with pytest.raises(ValueError, match="between 1 and 17"):
        pixel_neighbours(clustered_images()[0], k)


def test_make_pair_dataset_pairs_each_anchor_with_one_of_its_neighbours():
    images, _ = clustered_images()
    floats = to_float(images)
    neighbours = pixel_neighbours(images, 2)
    batches = list(make_pair_dataset(floats, neighbours, 4, seed=0).as_numpy_iterator())
    assert len(batches) == 18 // 4  # 4 images a batch: an epoch costs what one of make_dataset does
    flat = floats.reshape(18, -1)
    for anchors, partners in batches:
        assert anchors.shape == partners.shape == (2, 28, 28, 1)
        for a, p in zip(anchors, partners, strict=True):
            i = int(np.argmin(np.abs(flat - a.reshape(-1)).sum(axis=1)))
            j = int(np.argmin(np.abs(flat - p.reshape(-1)).sum(axis=1)))
            assert j in neighbours[i]


# --------------------------------------------------------------------------- the real dataset


def test_real_debian_files_load_with_digests(monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    ds = load_fashion_mnist(needs.debian_dataset(), verify_digests=True, allow_download=False)
    assert ds.x_train.shape == (60000, 28, 28) and ds.y_train.shape == (60000,)
    assert ds.x_test.shape == (10000, 28, 28) and ds.y_test.shape == (10000,)
    assert set(np.unique(ds.y_train)) == set(range(10))
    assert set(np.unique(ds.y_test)) == set(range(10))
    assert ds.digests == {name: spec.sha256 for name, spec in FILES.items()}
