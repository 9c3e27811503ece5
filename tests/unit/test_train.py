import json
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest

from vae_core.config import VAEConfig
from vae_core.train import read_history, train

TINY = dict(width=16, batch_size=64, n_train=256, iw_samples=2)


class Crash(Exception):
    pass


class CrashAfterEpoch(keras.callbacks.Callback):
    """Stands in for a killed process: raises after the epoch's checkpoint was written."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise Crash


def test_one_epoch_on_a_few_hundred_images_lowers_the_loss(images, tmp_path):
    messages = []
    result = train(VAEConfig(epochs=2, **TINY), images, images[:64], tmp_path, progress=messages.append)
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert result.history[1]["loss"] < result.history[0]["loss"]
    assert {"loss", "recon", "kl", "val_loss", "val_recon", "val_kl", "seconds"} <= set(result.history[0])
    assert any("epoch   2/2" in m for m in messages)


def test_the_neighbour_term_trains_on_image_pairs(images, tmp_path):
    messages = []
    result = train(
        VAEConfig(epochs=1, neighbour_weight=1.0, neighbour_k=3, **TINY),
        images,
        images[:64],
        tmp_path,
        progress=messages.append,
    )
    row = result.history[0]
    assert np.isfinite(row["neighbour"]) and "val_neighbour" not in row
    assert any("nearest neighbours of 256 training images" in m for m in messages)


def test_interrupted_training_resumes_without_losing_epochs(images, tmp_path):
    config = VAEConfig(epochs=3, **TINY)
    with pytest.raises(Crash):
        train(config, images, images[:64], tmp_path, callbacks=(CrashAfterEpoch(2),))
    assert [r["epoch"] for r in read_history(tmp_path)] == [1, 2]
    # as if a later save had been killed half-way: a partial file the pointer never named
    (tmp_path / "checkpoint" / "epoch-3.weights.h5").write_bytes(b"\x89HDF partial")
    messages = []
    result = train(config, images, images[:64], tmp_path, progress=messages.append)
    assert [r["epoch"] for r in result.history] == [1, 2, 3]
    assert any("resuming after epoch 2" in m for m in messages)
    assert sum("epoch " in m and "/3" in m for m in messages) == 1  # only epoch 3 ran again
    # Same as an uninterrupted run up to one documented nondeterminism: after a restart the
    # data are shuffled in another order, so the weights differ slightly, the losses barely.
    straight = train(config, images, images[:64], tmp_path / "straight")
    assert result.history[1]["val_loss"] == pytest.approx(straight.history[1]["val_loss"], rel=1e-6)
    assert result.history[2]["val_loss"] == pytest.approx(straight.history[2]["val_loss"], rel=0.02)


def test_a_finished_run_is_not_trained_again(images, tmp_path):
    config = VAEConfig(epochs=1, **TINY)
    first = train(config, images, images[:64], tmp_path)
    messages = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Keras's "Skipping variable loading for optimizer"
        again = train(config, images, images[:64], tmp_path, progress=messages.append)
    assert any("already finished" in m for m in messages)
    z = np.zeros((1, 2), np.float32)
    np.testing.assert_array_equal(np.asarray(first.vae.decoder(z)), np.asarray(again.vae.decoder(z)))


def test_early_stopping_keeps_the_best_weights(images, tmp_path):
    # learning rate so high that validation loss gets worse after the first epochs
    config = VAEConfig(epochs=6, patience=1, learning_rate=0.5, **TINY)
    result = train(config, images, images[:64], tmp_path)
    best = min(result.history, key=lambda r: r["val_loss"])
    assert result.best_epoch == best["epoch"]
    assert len(result.history) <= 6


MIRRORED = textwrap.dedent(
    """
    import json, sys, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from vae_core.config import VAEConfig
    from vae_core.train import train
    images = np.random.default_rng(0).random((512, 28, 28, 1), dtype=np.float32)
    out = {}
    for mode in ("none", "mirrored"):
        config = VAEConfig(epochs=2, width=16, batch_size=64, n_train=512, distribute=mode)
        result = train(config, images, images[:128], sys.argv[1] + "/" + mode)
        out[mode] = [r["val_loss"] for r in result.history]
    # One plain-SGD step (Adam would hide a wrong gradient scale): compare the weight updates.
    import keras
    from vae_core.pipeline import make_dataset
    from vae_core.model import build_vae
    config = VAEConfig(width=16, batch_size=256)
    batch = make_dataset(images[:256], 256, shuffle=False, seed=0)
    deltas = {}
    strategies = (("none", tf.distribute.get_strategy()), ("mirrored", tf.distribute.MirroredStrategy()))
    for mode, strategy in strategies:
        keras.utils.set_random_seed(0)
        with strategy.scope():
            vae = build_vae(config)
            vae.compile(optimizer=keras.optimizers.SGD(0.01))
        before = [w.numpy().copy() for w in vae.trainable_weights]
        vae.fit(batch, epochs=1, verbose=0)
        weights = zip(vae.trainable_weights, before, strict=True)
        deltas[mode] = np.concatenate([(w.numpy() - b).ravel() for w, b in weights])
        out["replicas"] = strategy.num_replicas_in_sync
    m, n = deltas["mirrored"], deltas["none"]
    out["norm_ratio"] = float(np.linalg.norm(m) / np.linalg.norm(n))
    out["cosine"] = float(m @ n / np.linalg.norm(m) / np.linalg.norm(n))
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_mirrored_training_on_two_logical_cpus_matches_single_device(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", MIRRORED, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    # Same data, seed and global batch: the losses agree up to the sampling noise.
    np.testing.assert_allclose(out["mirrored"], out["none"], rtol=0.03)
    # The updates differ only by the replicas' own sampling noise; a per-replica loss left
    # unscaled would double the update (norm ratio 2).
    assert out["norm_ratio"] == pytest.approx(1.0, abs=0.15)
    assert out["cosine"] > 0.7


class StopAfterFirstBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.model.stop_training = True


def test_a_stop_asked_by_another_callback_is_kept(images, tmp_path):
    result = train(
        VAEConfig(epochs=5, **TINY), images, images[:64], tmp_path, callbacks=(StopAfterFirstBatch(),)
    )
    assert len(result.history) == 1


def test_batch_progress_reports_every_training_and_validation_batch_of_each_epoch(images, tmp_path):
    calls = []
    train(
        VAEConfig(epochs=2, **TINY),
        images,
        images[:64],
        tmp_path,
        progress=calls.append,
        batch_progress=lambda *step: calls.append(step),
    )
    for epoch in (1, 2):
        task = f"epoch {epoch}/2"
        # 256 images in batches of 64: 4 steps, announced at 0; then 1 validation batch; then the epoch's line
        steps = [(task, done, 4, 64) for done in range(5)]
        validation = [(f"{task} validating", 0, 1, 64), (f"{task} validating", 1, 1, 64)]
        start = calls.index(steps[0])
        assert calls[start : start + 7] == steps + validation
        assert calls[start + 7].startswith(f"epoch   {epoch}/2  loss")


def test_an_iwae_run_with_a_vamp_prior_trains_and_keeps_its_pseudo_images(images, tmp_path):
    from vae_core.model import build_vae
    from vae_core.train import prior_of

    config = VAEConfig(epochs=1, train_samples=2, vamp_components=4, **TINY)
    first = train(config, images, images[:64], tmp_path)
    row = first.history[0]
    assert all(np.isfinite(row[name]) for name in ("loss", "recon", "kl", "val_loss"))
    trained = np.asarray(first.vae.pseudo_logits)
    assert not np.allclose(trained, np.asarray(build_vae(config).pseudo_logits))  # they learned
    again = train(config, images, images[:64], tmp_path, progress=lambda m: None)  # loads the best weights
    np.testing.assert_array_equal(np.asarray(again.vae.pseudo_logits), trained)
    assert prior_of(again.vae).means.shape == (4, 2)
