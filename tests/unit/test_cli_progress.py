"""What `vae_core train` and `vae_core evaluate` show as they work: bars on a terminal, lines in a log.

The real command line in a subprocess, once with its output in a pipe (as in CI or `2> log`)
and once on a pseudo-terminal (as a person sees it). Fashion-MNIST is replaced by a small
random stand-in (300 training images, 10,000 for validation, 200 test images) so that a
whole train + evaluate + export takes seconds.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # two tiny trainings and two evaluations in subprocesses: about a minute

ROOT = Path(__file__).resolve().parents[2]
# The CLI as run by a user, with the dataset loader swapped for the random stand-in.
DRIVER = textwrap.dedent("""
    import sys
    import numpy as np
    import vae_core.data

    def stand_in(*args, **kwargs):
        rng = np.random.default_rng(0)
        images = lambda n: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = lambda n: (np.arange(n) % 10).astype(np.uint8)
        return vae_core.data.FashionMNIST(
            images(10_300), labels(10_300), images(200), labels(200), source="stand-in", digests={}
        )

    vae_core.data.load_fashion_mnist = stand_in
    from vae_core.cli import main
    sys.exit(main(sys.argv[1:]))
""")
TRAIN = [
    "train",
    "--preset",
    "keras-io",
    "--epochs",
    "2",
    "--n-train",
    "300",
    "--batch-size",
    "64",
    "--iw-samples",
    "2",
]
EPOCH_LINE = re.compile(r"^epoch +(\d+)/2  loss ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env(**extra) -> dict:
    overrides = ("TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR")  # rich's: the real terminal decides here
    env = {k: v for k, v in os.environ.items() if k not in overrides}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def run_in_pipe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_on_terminal(*args: str) -> tuple[int, str]:
    """Exit code and everything written to a pseudo-terminal (stdout and stderr both), escapes removed."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env=_env(TERM="xterm", COLUMNS="150", LINES="40"),
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return proc.wait(timeout=600), ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A bundle trained through the CLI with its output in a pipe; the result of that run rides along."""
    out = tmp_path_factory.mktemp("artifacts") / "tiny-2d"
    result = run_in_pipe(*TRAIN, "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    out.with_name("run.txt").write_text(result.stderr)
    return out


def test_train_in_a_pipe_logs_one_line_per_epoch_and_no_bars(trained):
    log = trained.with_name("run.txt").read_text()
    epochs = [int(m.group(1)) for line in log.splitlines() if (m := EPOCH_LINE.match(line))]
    assert epochs == [1, 2], log
    assert "\r" not in log and "\x1b" not in log, log  # no bar redrawn in place, no cursor movement
    assert "batches" not in log and "images/s" not in log, log


def test_train_on_a_terminal_shows_each_epoch_and_evaluation_progress(tmp_path):
    code, screen = run_on_terminal(*TRAIN, "--out", str(tmp_path / "tiny-2d"))
    assert code == 0, screen[-3000:]
    # within each epoch: batches done/total (300 images in batches of 64: 5), images/s, ETA
    for epoch in (1, 2):
        assert re.search(rf"epoch {epoch}/2 .*\b5/5 batches .*images/s .*ETA", screen), screen[-3000:]
        assert re.search(rf"epoch {epoch}/2 validating .*\b157/157 batches", screen), screen[-3000:]
    # then the evaluation's phases, and the epoch lines that a log keeps
    for phase in (
        "ELBO terms",
        "encoding the test images",
        "encoding 300 training images for 5-NN",
        "IWAE bound, k=2",
    ):
        assert phase in screen, screen[-3000:]
    assert sum(1 for line in screen.splitlines() if EPOCH_LINE.match(line.strip())) == 2, screen[-3000:]


def test_evaluate_in_a_pipe_prints_only_the_metrics(trained):
    result = run_in_pipe("evaluate", str(trained), "--iw-samples", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test -ELBO (nats)" in result.stdout
    assert "batches" not in result.stdout + result.stderr and "\x1b" not in result.stdout + result.stderr


def test_evaluate_on_a_terminal_shows_its_phases(trained):
    code, screen = run_on_terminal("evaluate", str(trained), "--iw-samples", "3")
    assert code == 0, screen[-3000:]
    assert re.search(r"ELBO terms .*\b1/1 batches", screen), screen[-3000:]
    assert re.search(r"IWAE bound, k=3 .*\b2/2 batches", screen), screen[-3000:]  # 200 images, 100 a batch
    assert re.search(r"encoding 10,300 training images for 5-NN .*\b11/11 batches", screen), screen[-3000:]
    assert "test -ELBO (nats)" in screen
