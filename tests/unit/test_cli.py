import pytest

from tests.conftest import FAKE_METRICS, make_bundle
from vae_core.cli import build_parser, main
from vae_core.console import format_metrics


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--epochs", "-1"], "epochs=-1 is invalid"),
        (["train", "--latent-dim", "0"], "latent_dim=0 is invalid"),
        (["train", "--preset", "nope"], "invalid choice: 'nope'"),
        (["train", "--beta", "abc"], "invalid float value: 'abc'"),
        (["evaluate", "x", "--iw-samples", "0"], "--iw-samples must be from 1 to 5000"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_flags_give_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert message in err and err.count("\n") == 1


def test_evaluate_of_a_missing_bundle_is_one_clear_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert "No bundle folder" in err and "python -m vae_core train" in err and "Traceback" not in err


def test_list_shows_bundles_and_flags_broken_ones(tmp_path, capsys):
    make_bundle(tmp_path / "good")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{")
    assert main(["list", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "-ELBO  300.00" in out
    assert "bad" in out and "BROKEN" in out


def test_train_flags_reach_the_config():
    from vae_core.cli import config_from_args

    args = build_parser().parse_args(
        ["train", "--preset", "beta-vae-seed", "--latent-dim", "16", "--epochs", "3"]
    )
    config = config_from_args(args)
    assert (config.preset, config.latent_dim, config.epochs, config.beta) == ("beta-vae-seed", 16, 3, 0.001)


def test_metrics_table_names_every_metric():
    table = format_metrics(
        {**FAKE_METRICS, "latent_stats": {k: [0.0, 1.0] for k in ("min", "max", "mean", "std")}}
    )
    assert "test -ELBO (nats)" in table and "300.0000" in table and "5-NN accuracy" in table
    assert len([line for line in table.splitlines() if line.strip().startswith(("0 ", "1 "))]) == 2


def test_the_autoencoder_and_free_bits_flags_reach_the_config():
    from vae_core.cli import build_parser, config_from_args

    config = config_from_args(build_parser().parse_args(["train", "--deterministic", "--beta", "0"]))
    assert config.deterministic and config.beta == 0.0
    config = config_from_args(build_parser().parse_args(["train", "--free-bits", "0.25"]))
    assert config.free_bits == 0.25 and not config.deterministic


def test_the_iwae_and_vamp_prior_flags_reach_the_config():
    from vae_core.cli import build_parser, config_from_args

    args = ["train", "--train-samples", "5", "--vamp-components", "100"]
    config = config_from_args(build_parser().parse_args(args))
    assert (config.train_samples, config.vamp_components) == (5, 100)
