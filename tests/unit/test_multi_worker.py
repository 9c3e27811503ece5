"""--distribute multi-worker: TF_CONFIG checks, and two worker processes on localhost against one."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vae_core.multi_worker import ClusterError, cluster_task, is_chief

# One worker of a run (or the single process, without TF_CONFIG): trains 2 epochs on fixed
# images, optionally crashing after epoch `crash` (its checkpoint written), and prints what it saw.
WORKER = textwrap.dedent(
    """
    import json, sys, keras, numpy as np
    from vae_core.config import VAEConfig
    from vae_core.train import train
    mode, work_dir, crash = sys.argv[1], sys.argv[2], int(sys.argv[3])

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == crash:
                raise SystemExit(3)

    images = np.random.default_rng(0).random((512, 28, 28, 1), dtype=np.float32)
    config = VAEConfig(epochs=2, width=16, batch_size=64, n_train=512, distribute=mode)
    lines = []
    result = train(config, images, images[:128], work_dir, progress=lines.append, callbacks=(Crash(),))
    print(json.dumps({"val_loss": [r["val_loss"] for r in result.history], "chief": result.chief,
                      "resumed": any("resuming" in line for line in lines)}))
    """
)

# One plain-SGD step on one global batch of 256 (Adam would hide a wrong gradient scale): the
# weight update, as the multi-worker loop's own step function makes it.
ONE_STEP = textwrap.dedent(
    """
    import sys, keras, numpy as np, tensorflow as tf
    from vae_core import multi_worker
    from vae_core.config import VAEConfig
    from vae_core.model import build_vae
    from vae_core.pipeline import make_dataset
    mode, out = sys.argv[1], sys.argv[2]
    strategy = multi_worker.strategy_from_env() if mode == "multi-worker" else tf.distribute.get_strategy()
    images = np.random.default_rng(0).random((256, 28, 28, 1), dtype=np.float32)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        vae = build_vae(VAEConfig(width=16, batch_size=256))
        vae.compile(optimizer=keras.optimizers.SGD(0.01))
        vae.optimizer.build(vae.trainable_variables)
    before = [w.numpy().copy() for w in vae.trainable_weights]
    step, _ = multi_worker.step_functions(vae, strategy)
    step(iter(multi_worker.distribute(strategy, make_dataset(images, 256, shuffle=False, seed=0))))
    np.save(out, np.concatenate([(w.numpy() - b).ravel() for w, b in zip(vae.trainable_weights, before)]))
    """
)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_config(ports, index):
    return json.dumps(
        {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
    )


def run_workers(script, args_of, n=2, timeout=300):
    """Runs `script` as n workers of one localhost cluster; their outputs (stdout) and exit codes."""
    ports = free_ports(n)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args_of(i)],
            env={**os.environ, "TF_CONFIG": tf_config(ports, i), "CUDA_VISIBLE_DEVICES": ""},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    results = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        results.append((p.returncode, out, err))
    return results


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "needs TF_CONFIG"),
        ("not json", "must be JSON"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', "task.index"),
        ('{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}', "host:port"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "task.type"),
    ],
)
def test_a_missing_or_malformed_tf_config_says_what_a_worker_needs(monkeypatch, value, message):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ClusterError, match=message):
        cluster_task()


def test_worker_zero_writes_unless_the_cluster_names_a_chief(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2], 0))
    assert cluster_task() == (2, True) and is_chief()
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2], 1))
    assert cluster_task() == (2, False) and not is_chief()
    spec = {"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(spec))
    assert cluster_task() == (2, False)


def test_the_cli_refuses_multi_worker_without_tf_config_before_reading_data(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    run = subprocess.run(
        [sys.executable, "-m", "vae_core", "train", "--distribute", "multi-worker", "--epochs", "1"]
        + ["--data", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1
    assert "needs TF_CONFIG" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_two_workers_on_localhost_train_as_one_process_does_and_resume_from_the_chiefs_checkpoint(tmp_path):
    single = subprocess.run(
        [sys.executable, "-c", WORKER, "none", str(tmp_path / "single"), "0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr[-2000:]
    alone = last_json(single.stdout)

    work = tmp_path / "cluster"  # every worker's --out, as on a shared file system
    both = run_workers(WORKER, lambda i: ["multi-worker", str(work), "0"])
    assert [code for code, _, _ in both] == [0, 0], both[1][2][-2000:] + both[0][2][-2000:]
    chief, other = (last_json(out) for _, out, _ in both)
    assert (chief["chief"], other["chief"]) == (True, False)
    # Every step's gradient was summed across the workers: both hold the same model.
    assert chief["val_loss"] == pytest.approx(other["val_loss"], rel=1e-6)
    # Same data, seed and global batches as the single process: equal up to the sampling noise.
    np.testing.assert_allclose(chief["val_loss"], alone["val_loss"], rtol=0.03)
    # Only the chief wrote the work folder.
    rows = [json.loads(line) for line in (work / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert (work / "checkpoint" / "latest.json").exists()

    # A cluster killed after epoch 1 resumes there on every worker, the next time it starts.
    again = tmp_path / "crashed"
    crashed = run_workers(WORKER, lambda i: ["multi-worker", str(again), "1"])
    assert [code for code, _, _ in crashed] == [3, 3], crashed[0][2][-2000:]
    assert json.loads((again / "checkpoint" / "latest.json").read_text())["epoch"] == 1
    resumed = run_workers(WORKER, lambda i: ["multi-worker", str(again), "0"])
    assert [code for code, _, _ in resumed] == [0, 0], resumed[0][2][-2000:]
    for _, out, _ in resumed:
        result = last_json(out)
        assert result["resumed"]
        assert result["val_loss"][0] == pytest.approx(chief["val_loss"][0], rel=1e-6)  # the same epoch 1
        np.testing.assert_allclose(result["val_loss"], chief["val_loss"], rtol=0.03)


@pytest.mark.slow
def test_one_multi_worker_step_updates_the_weights_as_one_process_does(tmp_path):
    single = subprocess.run(
        [sys.executable, "-c", ONE_STEP, "none", str(tmp_path / "none.npy")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr[-2000:]
    both = run_workers(ONE_STEP, lambda i: ["multi-worker", str(tmp_path / f"worker{i}.npy")])
    assert [code for code, _, _ in both] == [0, 0], both[0][2][-2000:]
    n, w0, w1 = (np.load(tmp_path / f) for f in ("none.npy", "worker0.npy", "worker1.npy"))
    np.testing.assert_allclose(w0, w1, atol=1e-6)  # the workers applied the same summed update
    # The updates differ only by each worker's own sampling noise; a per-worker loss left
    # unscaled would double the update (norm ratio 2), an unsummed one would halve it.
    assert np.linalg.norm(w0) / np.linalg.norm(n) == pytest.approx(1.0, abs=0.15)
    assert w0 @ n / np.linalg.norm(w0) / np.linalg.norm(n) > 0.7
