"""The real command line on the real dataset: train, get killed, resume, export, evaluate."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import needs
from vae_core.bundle import load_bundle

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _dataset():
    needs.fashion_mnist()  # skips, or fails under CI, without the files


def vae_core(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "vae_core", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def test_train_killed_with_sigkill_resumes_exports_and_evaluates(tmp_path):
    out = tmp_path / "artifacts" / "cli-2d"
    args = [
        "train",
        "--preset",
        "keras-io",
        "--epochs",
        "3",
        "--n-train",
        "4096",
        "--iw-samples",
        "2",
        "--out",
        str(out),
    ]
    work = out.parent / ".cli-2d.work"
    first = vae_core(*args)
    deadline = time.time() + 240
    while (
        not (work / "checkpoint" / "latest.json").exists() and time.time() < deadline and first.poll() is None
    ):
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)  # as soon as epoch 1 was checkpointed
    first.wait()
    history = work / "history.jsonl"
    assert not out.exists()
    done_before_kill = len(history.read_text().splitlines())
    assert done_before_kill >= 1

    second = vae_core(*args)
    log, _ = second.communicate(timeout=400)
    assert second.returncode == 0, log[-3000:]
    assert "resuming after epoch" in log
    assert "test -ELBO (nats)" in log
    bundle = load_bundle(out)
    assert [row["epoch"] for row in bundle.history] == [1, 2, 3]  # no epoch lost or repeated
    assert bundle.manifest["command"].startswith("python -m vae_core train --preset keras-io")
    assert (out.parent / "fashion-mnist-test.npz").exists()
    assert not (out.parent / ".cli-2d.work").exists()

    evaluate = vae_core("evaluate", str(out), "--iw-samples", "2")
    table, _ = evaluate.communicate(timeout=300)
    assert evaluate.returncode == 0, table[-3000:]
    for row in (
        "test -ELBO (nats)",
        "IWAE NLL bound, k=2",
        "5-NN accuracy",
        "reconstruction MSE",
        "aggregate posterior",
    ):
        assert row in table
    stored = json.loads((out / "manifest.json").read_text())["metrics"]
    assert 0.1 < stored["knn5_accuracy"] <= 1.0
