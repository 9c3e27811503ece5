"""The CLI with doctored bundles and data (issue 15): one line per problem, nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_bundle
from vae_core.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Three bundles; the middle one has a metric that is a string."""
    root = tmp_path_factory.mktemp("artifacts")
    good = make_bundle(root / "a-good")
    import shutil

    shutil.copytree(good, root / "b-bad")
    shutil.copytree(good, root / "c-good")
    manifest = json.loads((root / "b-bad" / "manifest.json").read_text())
    manifest["metrics"]["test_neg_elbo_nats"] = "abc"
    (root / "b-bad" / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_list_reports_a_bad_bundle_in_one_line_and_lists_the_others(root, capsys):
    assert main(["list", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["a-good", "b-bad", "c-good"]
    assert "BROKEN" in lines[1] and "metrics.test_neg_elbo_nats should be a number, not 'abc'" in lines[1]
    assert "-ELBO  300.00" in lines[2]


def test_evaluate_refuses_a_bad_bundle_before_loading_the_dataset(root, capsys, monkeypatch):
    import vae_core.data

    def never(*args, **kwargs):
        raise AssertionError("the dataset was loaded for a bundle that cannot be evaluated")

    monkeypatch.setattr(vae_core.data, "load_fashion_mnist", never)
    assert main(["evaluate", str(root / "b-bad")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "metrics.test_neg_elbo_nats should be a number" in err


@pytest.mark.slow
def test_the_cli_prints_only_its_one_line_error(root):
    """No TensorFlow/absl start-up lines before the message (a real process: they come from C++)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "KERAS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "vae_core", "evaluate", str(root / "b-bad")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("vae-core evaluate: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["train", "--epochs", "1"], ["export-onnx", "--force"]])
def test_without_the_training_set_a_command_that_needs_it_says_how_to_install_it(command, root, tmp_path):
    """The serving install (requirements.txt) has no TensorFlow: train and a full ONNX export say
    what to install, in one line; list still works."""
    target = ["--out", str(tmp_path / "new")] if command[0] == "train" else [str(root / "a-good")]
    blocked = "import sys; sys.modules.update(keras=None, tensorflow=None, tf2onnx=None); "
    run = f"{blocked}from vae_core.cli import main; sys.exit(main({[*command, *target]!r}))"
    result = subprocess.run(
        [sys.executable, "-c", run], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "make train-deps" in result.stderr
    assert "requirements-train.txt" in result.stderr and "Traceback" not in result.stderr
    listed = f"{blocked}from vae_core.cli import main; sys.exit(main(['list', {str(root)!r}]))"
    assert (
        subprocess.run([sys.executable, "-c", listed], capture_output=True, cwd=REPO, timeout=120).returncode
        == 0
    )
