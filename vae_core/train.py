"""train(config, x_train, x_val, work_dir) -> a trained VAE and its per-epoch history.

Training survives interruption: every completed epoch is backed up in `work_dir`
(weights and optimizer state, history and best weights), so running the same
command again continues from the last completed epoch.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from . import multi_worker
from .atomic import write_atomically
from .config import VAEConfig
from .density import Prior
from .model import VAE, build_vae
from .pipeline import make_dataset, make_pair_dataset, pixel_neighbours
from .progress import BatchProgress
from .workdir import CONFIG_FILE, HISTORY_FILE, check_resumable, read_history

log = logging.getLogger(__name__)

BEST_WEIGHTS = "best.weights.h5"


@dataclass
class TrainResult:
    vae: VAE
    history: list[dict]  # one row per completed epoch: losses, val losses, seconds
    best_epoch: int  # 1-based epoch whose weights the model holds
    seconds: float  # wall time of all epochs, including those of interrupted runs
    chief: bool = True  # False on a multi-worker run's other workers: the chief writes the bundle


class KLWarmup(keras.callbacks.Callback):
    """Ramps the KL weight linearly from beta/warmup to beta over the first `warmup` epochs."""

    def __init__(self, beta: float, warmup: int):
        super().__init__()
        self.beta, self.warmup = beta, warmup

    def on_epoch_begin(self, epoch, logs=None):
        weight = self.beta * min(1.0, (epoch + 1) / self.warmup) if self.warmup else self.beta
        self.model.kl_weight.assign(weight)


class ReportBatches(keras.callbacks.Callback):
    """Reports each epoch's training batches, then its validation batches, to a BatchProgress.

    Listed first: each epoch's bars end before EpochLog writes the epoch's line.
    """

    def __init__(self, progress: BatchProgress, epochs: int, steps: int, val_steps: int, batch_size: int):
        super().__init__()
        self.progress, self.epochs, self.steps, self.val_steps = progress, epochs, steps, val_steps
        self.batch_size = batch_size

    def on_epoch_begin(self, epoch, logs=None):
        self.task = f"epoch {epoch + 1}/{self.epochs}"
        self.progress(self.task, 0, self.steps, self.batch_size)

    def on_train_batch_end(self, batch, logs=None):
        self.progress(self.task, batch + 1, self.steps, self.batch_size)

    def on_test_begin(self, logs=None):
        self.progress(f"{self.task} validating", 0, self.val_steps, self.batch_size)

    def on_test_batch_end(self, batch, logs=None):
        self.progress(f"{self.task} validating", batch + 1, self.val_steps, self.batch_size)


class EpochLog(keras.callbacks.Callback):
    """Appends each epoch to history.jsonl, stops early, and reports progress with an ETA.

    Runs before Checkpoint at epoch end: if a run is killed between the two, the
    resumed run repeats that epoch and its history row is replaced, never lost.
    """

    def __init__(self, work_dir: Path, config: VAEConfig, progress: Callable[[str], None]):
        super().__init__()
        self.work_dir, self.config, self.progress = Path(work_dir), config, progress
        self.rows: list[dict] | None = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.rows is None:  # first epoch of this run: `epoch` epochs are already done
            self.rows = [r for r in read_history(self.work_dir) if r["epoch"] <= epoch]
            if epoch:
                self.progress(f"resuming after epoch {epoch} from {self.work_dir}")
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["seconds"] = time.perf_counter() - self.started
        self.rows.append(row)
        with open(self.work_dir / HISTORY_FILE, "a") as f:
            f.write(json.dumps(row) + "\n")
        # `or`: another callback (a time budget, say) may have asked to stop already.
        self.model.stop_training = self.model.stop_training or is_finished(self.rows, self.config)
        mean_s = float(np.mean([r["seconds"] for r in self.rows]))
        eta = mean_s * (self.config.epochs - row["epoch"])
        self.progress(
            f"epoch {row['epoch']:>3}/{self.config.epochs}  loss {row['loss']:.2f}  "
            f"recon {row['recon']:.2f}  kl {row['kl']:.2f}  val_loss {row['val_loss']:.2f}  "
            f"{row['seconds']:.0f}s"
            + (f"  ETA <= {eta / 60:.1f} min" if eta else "")
            + ("  (early stop)" if self.model.stop_training and eta else "")
        )


def load_all_weights(model: keras.Model, path: Path) -> None:
    """Loads a weights file saved during training, the optimizer's state included.

    The optimizer is built first: an unbuilt one would skip its saved variables, with a warning.
    """
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(path)


class Checkpoint(keras.callbacks.Callback):
    """Saves weights and optimizer state after every epoch; restores them when training starts.

    Like keras.callbacks.BackupAndRestore, but a kill in the middle of a save never leaves an
    unreadable checkpoint: each epoch gets a new file and a small JSON pointer is replaced
    atomically once the file is complete.
    """

    def __init__(self, work_dir: Path):
        super().__init__()
        self.dir = Path(work_dir) / "checkpoint"
        self.pointer = self.dir / "latest.json"

    def on_train_begin(self, logs=None):
        if not self.pointer.exists():
            return
        latest = json.loads(self.pointer.read_text())
        load_all_weights(self.model, self.dir / latest["file"])
        self.model._initial_epoch = latest["epoch"]  # fit() starts from here

    def on_epoch_end(self, epoch, logs=None):
        self.dir.mkdir(exist_ok=True)
        name = f"epoch-{epoch + 1}.weights.h5"
        self.model.save_weights(self.dir / name)
        write_atomically(self.pointer, lambda p: p.write_text(json.dumps({"epoch": epoch + 1, "file": name})))
        for old in self.dir.glob("epoch-*.weights.h5"):
            if old.name != name:
                old.unlink()


class BestWeights(keras.callbacks.Callback):
    """Saves the weights of the best validation epoch so far; restores them when training ends."""

    def __init__(self, work_dir: Path):
        super().__init__()
        self.path = Path(work_dir) / BEST_WEIGHTS

    def on_epoch_end(self, epoch, logs=None):
        rows = read_history(self.path.parent)
        if min(rows, key=lambda r: r["val_loss"])["epoch"] == epoch + 1:
            write_atomically(self.path, lambda p: self.model.save_weights(p))

    def on_train_end(self, logs=None):
        if self.path.exists():
            self.model.load_weights(self.path)


def is_finished(rows: list[dict], config: VAEConfig) -> bool:
    """True when all epochs ran or validation loss has not improved for `patience` epochs."""
    if not rows:
        return False
    best = min(rows, key=lambda r: r["val_loss"])
    return rows[-1]["epoch"] >= config.epochs or rows[-1]["epoch"] - best["epoch"] >= config.patience


def _optimizer(config: VAEConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr = config.learning_rate
    if config.preset in ("default", "conv"):  # cosine decay to 10%: a free ~1-2 nats on the ELBO
        lr = keras.optimizers.schedules.CosineDecay(lr, config.epochs * steps_per_epoch, alpha=0.1)
    return keras.optimizers.Adam(lr)


def _strategy(config: VAEConfig):
    import tensorflow as tf

    if config.distribute == "multi-worker":
        strategy = multi_worker.strategy_from_env()
        log.info("training as one of %d workers", strategy.num_replicas_in_sync)
        return strategy
    if config.distribute == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
        log.info("training on %d replicas", strategy.num_replicas_in_sync)
        return strategy
    return tf.distribute.get_strategy()  # the default, single-device strategy


def train(
    config: VAEConfig,
    x_train: np.ndarray,  # (n, H, W, C) uint8, or float32 in [0, 1]
    x_val: np.ndarray,  # (n_val, H, W, C) likewise
    work_dir: str | Path,
    *,
    progress: Callable[[str], None] = log.info,  # one line per epoch (and per notable event)
    batch_progress: BatchProgress | None = None,  # within each epoch: see vae_core.progress
    callbacks: tuple[keras.callbacks.Callback, ...] = (),  # extra ones, after ours
    resume: bool = True,  # False: a multi-worker run's other worker ignores the chief's old checkpoints
) -> TrainResult:
    """Train (or resume training) a VAE; returns the model holding its best validation weights."""
    work_dir, chief = Path(work_dir), multi_worker.writes(config.distribute)
    if resume or chief:
        check_resumable(work_dir, config)
    strategy = _strategy(config)  # first: a multi-worker strategy must precede other TensorFlow work
    if not chief:  # only the chief writes the work folder
        work_dir = multi_worker.worker_dir(work_dir, resume)
    work_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(work_dir / CONFIG_FILE, lambda p: p.write_text(json.dumps(config.to_dict(), indent=1)))
    keras.utils.set_random_seed(config.seed)
    if config.neighbour_weight:
        start = time.perf_counter()
        neighbours = pixel_neighbours(x_train, config.neighbour_k)
        progress(
            f"found the {config.neighbour_k} nearest neighbours of {len(x_train):,} training images "
            f"in {time.perf_counter() - start:.0f} s"
        )
        train_ds = make_pair_dataset(x_train, neighbours, config.batch_size, seed=config.seed)
    else:
        train_ds = make_dataset(x_train, config.batch_size, shuffle=True, seed=config.seed)
    val_ds = make_dataset(x_val, config.batch_size, shuffle=False, seed=config.seed)
    steps = int(train_ds.cardinality())  # batches per epoch, for the learning-rate schedule
    with strategy.scope():
        vae = build_vae(config)
        vae.compile(optimizer=_optimizer(config, steps))
    done = read_history(work_dir)
    if is_finished(done, config) and (work_dir / BEST_WEIGHTS).exists():
        # A finished run killed later (e.g. during export): reuse its best weights.
        progress(f"training in {work_dir} already finished after epoch {done[-1]['epoch']}")
        load_all_weights(vae, work_dir / BEST_WEIGHTS)
    else:
        reporting = (
            []
            if batch_progress is None
            else [
                ReportBatches(
                    batch_progress, config.epochs, steps, int(val_ds.cardinality()), config.batch_size
                )
            ]
        )
        all_callbacks = [
            *reporting,
            KLWarmup(config.beta, config.kl_warmup_epochs),
            EpochLog(work_dir, config, progress),  # before the checkpoint: see EpochLog
            Checkpoint(work_dir),
            BestWeights(work_dir),
            *callbacks,
        ]
        if config.distribute == "multi-worker":  # Keras 3's fit does not run there
            multi_worker.fit(vae, strategy, train_ds, val_ds, epochs=config.epochs, callbacks=all_callbacks)
        else:  # shuffle=False: train_ds shuffles itself (seeded), fit's own flag would only warn.
            vae.fit(
                train_ds,
                validation_data=val_ds,
                epochs=config.epochs,
                callbacks=all_callbacks,
                shuffle=False,
                verbose=0,
            )
    history = read_history(work_dir)
    best = min(history, key=lambda r: r["val_loss"])
    if not chief:
        shutil.rmtree(work_dir, ignore_errors=True)
    return TrainResult(vae, history, best["epoch"], sum(r["seconds"] for r in history), chief)


def prior_of(vae: VAE) -> Prior | None:
    """The trained prior as numpy arrays (None for the fixed N(0, I) prior)."""
    if vae.pseudo_logits is not None:  # a VampPrior is the uniform mixture of these posteriors
        means, log_vars = (keras.ops.convert_to_numpy(t).astype(np.float64) for t in vae.pseudo_posteriors())
        return Prior(np.full(len(means), 1.0 / len(means)), means, log_vars)
    if vae.prior is None:
        return None
    logits = keras.ops.convert_to_numpy(vae.prior.weight_logits).astype(np.float64)
    weights = np.exp(logits - logits.max())
    return Prior(
        weights / weights.sum(),
        keras.ops.convert_to_numpy(vae.prior.means).astype(np.float64),
        keras.ops.convert_to_numpy(vae.prior.log_vars).astype(np.float64),
    )
