"""The third round of hostile and clumsy input (issue 28) against the CLI and the bundle readers.

Each case failed before: a user's folder deleted, a file read from outside, a hang, a traceback, a
bundle whose manifest lies. Now each is refused in one line that says what is there, and nothing
is changed.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import keras_networks, make_bundle
from vae_core.atomic import ReplaceError, check_replaceable, staged_folder
from vae_core.bundle import list_bundles, load_bundle
from vae_core.cli import main
from vae_core.config import VAEConfig
from vae_core.manifest import BundleError, read_manifest


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("artifacts") / "tiny-2d", test_images=True)


@pytest.fixture
def bundle(good, tmp_path):
    """A fresh copy of the good bundle, to damage in one way."""
    return shutil.copytree(good, tmp_path / "artifacts" / "tiny-2d")


def never_load_data(monkeypatch):
    import vae_core.data

    def never(*args, **kwargs):
        raise AssertionError("the dataset was loaded although the command should have stopped first")

    monkeypatch.setattr(vae_core.data, "load_fashion_mnist", never)


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --- 1, 12: no command replaces what is not a bundle, and says so before training -------------------


def test_train_refuses_to_replace_a_users_folder_and_touches_nothing(tmp_path, capsys, monkeypatch):
    never_load_data(monkeypatch)
    thesis = tmp_path / "mine"
    (thesis / "sub").mkdir(parents=True)
    (thesis / "thesis.txt").write_text("years of work")
    (thesis / "sub" / "data.csv").write_text("1,2,3")
    assert main(["train", "--epochs", "1", "--out", str(thesis)]) == 1
    err = one_line(capsys)
    assert "is not a bundle" in err and "thesis.txt" in err and "Nothing was changed" in err
    assert (thesis / "thesis.txt").read_text() == "years of work" and (thesis / "sub" / "data.csv").exists()


def test_train_refuses_the_artifacts_folder_itself(good, capsys, monkeypatch):
    never_load_data(monkeypatch)
    before = sorted(p.name for p in good.parent.iterdir())
    assert main(["train", "--out", str(good.parent)]) == 1
    assert "is not a bundle" in one_line(capsys)
    assert sorted(p.name for p in good.parent.iterdir()) == before


def test_train_refuses_a_file_as_out_and_leaves_it_where_it_was(tmp_path, capsys, monkeypatch):
    never_load_data(monkeypatch)
    notes = tmp_path / "notes.md"
    notes.write_text("mine")
    assert main(["train", "--out", str(notes)]) == 1
    assert "is a file, not a bundle folder" in one_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md"] and notes.read_text() == "mine"


def test_train_refuses_the_current_folder_before_training(tmp_path, capsys, monkeypatch):
    never_load_data(monkeypatch)
    (tmp_path / "README").write_text("a project")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--out", "."]) == 1
    assert "is not a bundle" in one_line(capsys)


def test_a_bundle_an_empty_folder_or_a_new_one_may_be_written(good, tmp_path):
    check_replaceable(good)
    (tmp_path / "empty").mkdir()
    check_replaceable(tmp_path / "empty")
    check_replaceable(tmp_path / "new" / "deeper")


def test_the_hints_never_suggest_training_over_a_users_folder(tmp_path, capsys):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0")
    assert main(["evaluate", str(tmp_path / "etc")]) == 1
    err = one_line(capsys)
    assert "train --out" not in err and "is not a bundle" in err


def test_export_onnx_of_an_artifacts_folder_does_not_suggest_replacing_it(good, capsys):
    assert main(["export-onnx", str(good.parent)]) == 1
    err = one_line(capsys)
    assert "train --out" not in err


# --- 2: links in a bundle are never followed when it is copied ---------------------------------------


def test_export_onnx_force_refuses_a_bundle_with_links_and_copies_nothing(bundle, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the bundle")
    (bundle / "README.txt").symlink_to(secret)
    (bundle / "certs").symlink_to(tmp_path, target_is_directory=True)
    assert main(["export-onnx", "--force", str(bundle)]) == 1
    err = one_line(capsys)
    assert "README.txt" in err and "certs" in err and "is not a bundle" in err
    assert (bundle / "README.txt").is_symlink()  # as it was
    assert not [p for p in bundle.parent.iterdir() if ".tmp-" in p.name]


def test_a_bundle_file_that_is_a_link_makes_it_no_bundle_to_replace(bundle, tmp_path):
    shutil.move(bundle / "history.json", tmp_path / "history.json")
    (bundle / "history.json").symlink_to(tmp_path / "history.json")
    with pytest.raises(ReplaceError, match="history.json"):
        check_replaceable(bundle)


# --- 3: an archive bomb is refused before Keras opens it ---------------------------------------------


def test_a_keras_zip_bomb_is_refused_before_keras_reads_it(bundle, monkeypatch):
    import keras

    def never(*args, **kwargs):
        raise AssertionError("Keras opened a zip bomb")

    monkeypatch.setattr(keras.saving, "load_model", never)
    with zipfile.ZipFile(bundle / "encoder.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("config.json", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(80):  # 80 MB of spaces: a few hundred kB compressed
                member.write(block)
    with pytest.raises(
        BundleError, match="encoder.keras could not be loaded.*compressed .* times|unpacks to"
    ):
        keras_networks(load_bundle(bundle))


# --- 4: one unreadable folder hides nothing else -------------------------------------------------------


def test_an_unreadable_folder_is_skipped_and_said(good, tmp_path, capsys, monkeypatch):
    root = tmp_path / "artifacts"
    shutil.copytree(good, root / "a-good")
    (root / "lost+found").mkdir(parents=True)
    (root / "lost+found" / "manifest.json").write_text("{}")
    real = os.listdir

    def listdir(path="."):
        if Path(path).name == "lost+found":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "listdir", listdir)
    skipped: list[str] = []
    assert [p.name for p in list_bundles(root, skipped)] == ["a-good"]
    assert skipped == ["lost+found: cannot be read (Permission denied)"]
    assert main(["list", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("a-good") and out[1] == "SKIPPED lost+found: cannot be read (Permission denied)"


# --- 8, 18: numbers a manifest cannot hold ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('"test_neg_elbo_nats": ' + "9" * 400, "400 digits is too long"),
        ('"test_neg_elbo_nats": NaN', "NaN is not a number JSON allows"),
        ('"test_neg_elbo_nats": Infinity', "Infinity is not a number JSON allows"),
        ('"test_neg_elbo_nats": 1e400', "too large for a number"),
        ('"test_neg_elbo_nats": 1e300', "should be at most"),
    ],
    ids=["400-digits", "nan", "infinity", "overflowing-float", "absurd"],
)
def test_numbers_no_measurement_has_are_refused_and_list_goes_on(good, tmp_path, capsys, raw, message):
    root = tmp_path / "artifacts"
    bad = shutil.copytree(good, root / "a-bad")
    shutil.copytree(good, root / "b-good")
    text = (bad / "manifest.json").read_text()
    field = '"test_neg_elbo_nats": ' + json.dumps(json.loads(text)["metrics"]["test_neg_elbo_nats"])
    (bad / "manifest.json").write_text(text.replace(field, raw))
    with pytest.raises(BundleError, match=message):
        read_manifest(bad)
    assert main(["list", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "BROKEN" in lines[0] and lines[1].startswith("b-good")


def test_a_config_with_infinity_is_refused(bundle):
    text = (bundle / "manifest.json").read_text().replace('"beta": 1.0', '"beta": Infinity')
    (bundle / "manifest.json").write_text(text)
    with pytest.raises(BundleError, match="Infinity is not a number"):
        read_manifest(bundle)


def test_latents_of_absurd_size_are_refused(bundle):
    with np.load(bundle / "latents.npz") as data:
        arrays = dict(data)
    arrays["z_log_var"] = np.full_like(arrays["z_log_var"], 1e30)
    np.savez(bundle / "latents.npz", **arrays)
    with pytest.raises(BundleError, match="absurd values"):
        load_bundle(bundle)


# --- 9: a prior that is no distribution ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "log_vars", "message"),
    [
        ([-1.0, 0.5, 1.5], 0.0, "non-negative numbers summing to 1"),
        ([0.2, 0.2, 0.2], 0.0, "summing to 1"),
        ([0.5, 0.25, 0.25], np.inf, "log-variances must be finite"),
    ],
)
def test_a_mixture_prior_that_is_no_distribution_is_refused(bundle, weights, log_vars, message):
    np.savez(
        bundle / "prior.npz",
        weights=np.array(weights),
        means=np.zeros((3, 2)),
        log_vars=np.full((3, 2), log_vars),
    )
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["prior"] = {"type": "gaussian_mixture", "file": "prior.npz", "components": 3}
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle)


# --- 10, 12, 19: only regular files are read ------------------------------------------------------------


def _within(seconds: float, work):
    """Run ``work`` in a thread; fail if it takes longer (a FIFO would block it for good)."""
    result: dict = {}

    def run():
        try:
            result["value"] = work()
        except BaseException as e:  # noqa: BLE001 - handed back to the test below
            result["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the reader hung"
    if "error" in result:
        raise result["error"]
    return result.get("value")


@pytest.mark.parametrize("name", ["manifest.json", "latents.npz"])
def test_a_fifo_in_a_bundle_is_refused_without_hanging(bundle, name):
    (bundle / name).unlink()
    os.mkfifo(bundle / name)
    with pytest.raises(BundleError, match="not a regular file"):
        _within(10, lambda: load_bundle(bundle))


def test_a_device_as_manifest_is_refused_unread(bundle, capsys):
    (bundle / "manifest.json").unlink()
    try:
        os.mknod(bundle / "manifest.json", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero's numbers
    except PermissionError:
        pytest.skip("creating a device node needs root")
    _within(10, lambda: main(["list", str(bundle.parent)]))
    assert "not a regular file" in capsys.readouterr().out


def test_a_loop_of_links_in_a_bundle_is_one_line(bundle, capsys):
    (bundle / "latents.npz").unlink()
    (bundle / "latents.npz").symlink_to(bundle / "latents.npz")
    with pytest.raises(BundleError, match="loop of symbolic links"):
        load_bundle(bundle)


def test_an_unreadable_model_is_not_called_truncated(bundle):
    (bundle / "encoder.keras").unlink()
    (bundle / "encoder.keras").mkdir()  # (as root, a folder is what no permission bit can make unreadable)
    with pytest.raises(BundleError) as err:
        keras_networks(load_bundle(bundle))
    assert "not a regular file" in str(err.value) and "zip" not in str(err.value)


def test_an_unreadable_browser_model_is_one_line_for_evaluate(tmp_path, capsys):
    path = make_bundle(tmp_path / "artifacts" / "b", browser_models=True)
    (path / "decoder.onnx").unlink()
    (path / "decoder.onnx").mkdir()
    assert main(["evaluate", str(path)]) == 1
    assert "decoder.onnx is missing or unreadable" in one_line(capsys)


# --- 12: a file system that refuses a write ---------------------------------------------------------------


def test_a_refused_write_is_one_line_and_leaves_the_bundle(bundle, capsys, monkeypatch):
    import vae_core.atomic

    def full(*args, **kwargs):
        raise OSError(27, "File too large", str(bundle.parent / ".tiny-2d.tmp"))

    monkeypatch.setattr(vae_core.atomic.tempfile, "mkdtemp", full)
    before = sorted(p.name for p in bundle.iterdir())
    assert main(["export-onnx", "--force", str(bundle)]) == 1
    err = one_line(capsys)
    assert "File too large" in err and "nothing was changed" in err
    assert sorted(p.name for p in bundle.iterdir()) == before


def test_export_test_images_refuses_a_file_as_out(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["export-test-images", "--out", str(tmp_path / "file")]) == 1
    assert "is a file" in one_line(capsys)


# --- 13, 15: values no run can use ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--learning-rate", "inf"], "learning_rate=inf is invalid: use a finite number"),
        (["--beta", "inf"], "beta=inf is invalid"),
        (["--beta", "nan"], "beta=nan is invalid"),
        (["--seed", "-1"], "seed=-1 is invalid"),
        (["--iw-samples", "20000"], "iw_samples=20000 is invalid: use an integer from 1 to 5000"),
    ],
)
def test_train_refuses_values_no_run_can_use(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *flags])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_evaluate_bounds_the_importance_samples(good, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", str(good), "--iw-samples", "20000"])
    assert exit_.value.code == 2 and "from 1 to 5000" in capsys.readouterr().err


# --- 14: a bundle never lies about the run that made it ---------------------------------------------------


def test_train_refuses_to_resume_another_configs_run(tmp_path, capsys, monkeypatch):
    never_load_data(monkeypatch)
    work = tmp_path / ".b.work"
    work.mkdir()
    (work / "config.json").write_text(json.dumps(VAEConfig(beta=1.0).to_dict()))
    (work / "history.jsonl").write_text(json.dumps({"epoch": 15, "loss": 250, "val_loss": 251}) + "\n")
    assert main(["train", "--beta", "4", "--out", str(tmp_path / "b")]) == 1
    err = one_line(capsys)
    assert "another config" in err and "beta: 1.0 there, 4.0 now" in err and "--fresh" in err


def test_a_work_folder_of_an_older_version_is_not_resumed_blindly(tmp_path, capsys, monkeypatch):
    never_load_data(monkeypatch)
    work = tmp_path / ".b.work"
    work.mkdir()
    (work / "best.weights.h5").write_bytes(b"weights of some run")
    assert main(["train", "--out", str(tmp_path / "b")]) == 1
    assert "did not record its config" in one_line(capsys)


# --- 21: names shown, never obeyed -----------------------------------------------------------------------


def test_list_shows_escape_sequences_in_names_instead_of_running_them(good, tmp_path, capsys):
    root = tmp_path / "artifacts"
    shutil.copytree(good, root / "evil\x1b]0;owned\x07\x1b[2J")
    assert main(["list", str(root)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "evil\\x1b]0;owned\\x07" in out


def test_a_hint_quotes_a_path_so_pasting_it_runs_nothing(tmp_path, capsys):
    name = tmp_path / "x$(touch PWNED)"
    assert main(["evaluate", str(name)]) == 1
    err = one_line(capsys)
    assert f"train --out '{name}'" in err


# --- 22: a killed writer's copies are cleaned up ---------------------------------------------------------


def test_stale_staging_copies_of_a_killed_writer_are_removed(bundle):
    stale = bundle.parent / f".{bundle.name}.tmp-999999999-abc"  # no such process
    (stale / "big").mkdir(parents=True)
    live = bundle.parent / f".{bundle.name}.tmp-{os.getpid()}-xyz"  # this process: a writer at work
    live.mkdir()
    with staged_folder(bundle) as tmp:
        for f in bundle.iterdir():
            shutil.copy(f, tmp / f.name)
    assert not stale.exists() and live.exists()
