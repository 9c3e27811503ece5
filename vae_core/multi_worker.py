"""Training on several machines (``--distribute multi-worker``): tf.distribute's
MultiWorkerMirroredStrategy, with the cluster read from ``TF_CONFIG``.

Keras 3's ``Model.fit`` does not run under this strategy (keras-team/keras#20585), so ``fit`` here
is a plain loop over ``strategy.run(vae.train_step)`` that drives the same callbacks ``fit`` would
(KL warm-up, the epoch log, checkpoints, best weights), with the same logs. Every worker runs it;
the gradients of each step are summed across workers by the optimizer (as under
MirroredStrategy), and validation losses are summed across workers too, so every worker takes
the same early-stopping decision at the same epoch.

Only the chief writes the run's work folder (history, checkpoints, best weights). Each other worker
starts from a private copy of it and writes there, so a restarted cluster resumes from the chief's
last checkpoint on every worker: the work folder must be on storage every worker reads (one
machine, or a shared file system).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


class ClusterError(ValueError):
    """TF_CONFIG is missing or malformed; the message says what a worker needs."""


def cluster_task() -> tuple[int, bool]:
    """(how many workers, whether this one is the chief) from TF_CONFIG; ClusterError if it is unusable.

    The chief writes: the `chief` task, or worker 0 of a cluster without one."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ClusterError(
            '--distribute multi-worker needs TF_CONFIG, e.g. TF_CONFIG=\'{"cluster": {"worker": '
            '["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\' '
            "on the first machine and index 1 on the second "
            "(README: Training and evaluating, Several machines)"
        )
    try:
        spec = json.loads(raw)
        cluster, task = spec["cluster"], spec["task"]
        workers, chiefs = list(cluster.get("worker", [])), list(cluster.get("chief", []))
        kind, index = task["type"], int(task["index"])
        if kind not in ("worker", "chief") or not 0 <= index < len(workers if kind == "worker" else chiefs):
            raise ValueError
        if len(chiefs) > 1 or not all(isinstance(a, str) and ":" in a for a in workers + chiefs):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ClusterError(
            "TF_CONFIG must be JSON with cluster.worker (a list of host:port, and at most one "
            "cluster.chief) and task.type ('worker' or 'chief') with a task.index in that list"
        ) from None
    return len(workers) + len(chiefs), kind == "chief" or (index == 0 and not chiefs)


def is_chief() -> bool:
    """Whether this process writes the run's files (True outside a well-formed cluster)."""
    try:
        return cluster_task()[1]
    except ClusterError:
        return True


def writes(distribute: str) -> bool:
    """Whether this process writes the run's work folder and bundle: every process but a multi-worker
    run's non-chief workers."""
    return distribute != "multi-worker" or is_chief()


def strategy_from_env():
    """The strategy for this worker, from TF_CONFIG; created before any other TensorFlow work."""
    cluster_task()
    import tensorflow as tf

    communication = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING
    )
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=communication)


def worker_dir(work_dir: Path, resume: bool) -> Path:
    """A private copy of the chief's work folder for another worker: it restores from it, writes into it."""
    private = Path(tempfile.mkdtemp(prefix="vae-worker-"))
    if resume and work_dir.exists():
        shutil.copytree(work_dir, private, dirs_exist_ok=True)
    return private


def distribute(strategy, dataset):
    """``dataset`` (global batches) repeated and split across the workers, one batch per step."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.repeat().with_options(options))


def step_functions(vae, strategy):
    """One training step on the next global batch (its logs, averaged over the replicas), and one
    validation step (summed recon, KL and image count over the replicas)."""
    import tensorflow as tf

    @tf.function
    def train_step(iterator):
        logs = strategy.run(vae.train_step, args=(next(iterator),))
        return {k: strategy.reduce("MEAN", v, axis=None) for k, v in logs.items()}

    def sums(images):
        recon, kl = vae.per_image_losses(images, training=False)
        return tf.reduce_sum(recon), tf.reduce_sum(kl), tf.cast(tf.shape(recon)[0], tf.float32)

    @tf.function
    def val_step(iterator):
        return [strategy.reduce("SUM", v, axis=None) for v in strategy.run(sums, args=(next(iterator),))]

    return train_step, val_step


def fit(vae, strategy, train_ds, val_ds, *, epochs: int, callbacks: list) -> None:
    """What ``vae.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks)`` does,
    under a multi-worker strategy."""
    import keras

    steps, val_steps = int(train_ds.cardinality()), int(val_ds.cardinality())
    hooks = keras.callbacks.CallbackList(callbacks, model=vae)
    train_batches, val_batches = iter(distribute(strategy, train_ds)), iter(distribute(strategy, val_ds))
    train_step, val_step = step_functions(vae, strategy)
    with strategy.scope():
        if not vae.optimizer.built:
            vae.optimizer.build(vae.trainable_variables)
        vae.stop_training = False
        vae._initial_epoch = 0
        hooks.on_train_begin()  # the checkpoint callback restores here and sets _initial_epoch
        for epoch in range(vae._initial_epoch or 0, epochs):
            vae.reset_metrics()
            hooks.on_epoch_begin(epoch)
            logs = {}
            for step in range(steps):
                logs = {k: float(v) for k, v in train_step(train_batches).items()}
                hooks.on_train_batch_end(step, logs)
            hooks.on_test_begin()
            total = np.zeros(3)
            for step in range(val_steps):
                total += [float(v) for v in val_step(val_batches)]
                hooks.on_test_batch_end(step)
            recon, kl = total[0] / total[2], total[1] / total[2]
            val = {"val_loss": recon + vae.config.beta * kl, "val_recon": recon, "val_kl": kl}
            hooks.on_epoch_end(epoch, {**logs, **val})
            if vae.stop_training:
                break
        hooks.on_train_end()
