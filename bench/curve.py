"""Epochs vs test -ELBO and 5-NN for one training run, then that run exported as a bundle.

    python bench/curve.py --every 5 -- --epochs 40 --out artifacts/fashion-mnist-2d
    python bench/curve.py --every 5 -- --preset conv --latent-dim 16 --free-bits 0.25 --out /tmp/fb

Everything after ``--`` is a `python -m vae_core train` command line. The run trains in the
folder that command uses for its checkpoints, with one extra callback: every ``--every`` epochs
(and after the last) it scores the test set (-ELBO, one posterior sample per image, and 5-NN of
z_mean fitted on the 50,000 training images). Then the same train command runs, finds the
finished training and exports the bundle, so the manifest's command rebuilds it from scratch.
``--fresh`` starts over here (the export then runs without it); without it an interrupted run
resumes from its last checkpoint, keeping the rows it had scored.
The test set only reports here; it never chooses the epoch (validation does, as always).

Prints a table and writes bench/results/curve-<bundle name>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


class Curve(keras.callbacks.Callback):
    """Scores the test set every ``every`` epochs (and after the last) into ``rows``."""

    def __init__(self, every, epochs, x_test, y_test, x_train, y_train, on_row):
        super().__init__()
        self.every, self.epochs, self.on_row = every, epochs, on_row
        self.x_test, self.y_test, self.x_train, self.y_train = x_test, y_test, x_train, y_train

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self.epochs and not self.model.stop_training:
            return
        from vae_core.evaluate import elbo_terms, encode_all, knn_accuracy
        from vae_core.keras_models import KerasNetworks
        from vae_core.train import prior_of

        start = time.perf_counter()
        vae = self.model
        networks = KerasNetworks(vae.encoder, vae.decoder)
        # the KL to the run's own prior (a learned one included), as the bundle's metrics have it
        recon, kl = elbo_terms(networks, self.x_test, prior_of(vae), seed=0)
        z_test, _ = encode_all(networks, self.x_test)
        z_train, _ = encode_all(networks, self.x_train)
        row = {
            "epoch": done,
            "test_neg_elbo_nats": float(np.mean(recon + kl)),
            "test_kl_nats": float(np.mean(kl)),
            "knn5_accuracy": knn_accuracy(z_train, self.y_train, z_test, self.y_test),
            "val_loss": float((logs or {}).get("val_loss", float("nan"))),
            "scoring_s": round(time.perf_counter() - start, 1),
        }
        self.on_row(row)


def earlier_rows(results: Path, config, work_dir: Path) -> list[dict]:
    """The rows an interrupted run of the same config scored before its last checkpoint."""
    from vae_core.config import VAEConfig
    from vae_core.train import read_history

    if not results.exists() or not work_dir.exists():
        return []
    saved = json.loads(results.read_text())
    done = len(read_history(work_dir))
    if VAEConfig.from_dict(saved.get("config", {})) != config:  # fields added since have defaults
        return []
    return [row for row in saved["rows"] if row["epoch"] <= done]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=5, help="score the test set every N epochs")
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then `vae_core train` flags")
    args = parser.parse_args()
    train_args = [a for a in args.train_args if a != "--"]

    from vae_core import cli
    from vae_core.data import to_float
    from vae_core.evaluate import floor_nats
    from vae_core.train import train

    parsed = cli.build_parser().parse_args(["train", *train_args])
    config = cli.config_from_args(parsed)
    out = parsed.out or cli.default_bundle_path(config)
    work_dir = out.parent / f".{out.name}.work"
    results = RESULTS / f"curve-{out.name}.json"
    RESULTS.mkdir(exist_ok=True)
    if parsed.fresh:  # here, once: the export below must find this run, not start another
        shutil.rmtree(work_dir, ignore_errors=True)
        train_args = [a for a in train_args if a != "--fresh"]
    rows = earlier_rows(results, config, work_dir)  # an interrupted run resumes with its curve
    data, x_train, y_train, x_val = cli._load_splits(parsed.data_dir)
    x_test = to_float(data.x_test)
    floor = floor_nats(data.x_test)  # the test images' own pixel entropy (shared/DESIGN.md, "Metrics")

    def on_row(row: dict) -> None:
        rows.append(row)
        print(
            f"epoch {row['epoch']:>3}: test -ELBO {row['test_neg_elbo_nats']:.2f} "
            f"({row['test_neg_elbo_nats'] - floor:.1f} above the floor), KL {row['test_kl_nats']:.2f}, "
            f"5-NN {row['knn5_accuracy']:.3f}",
            flush=True,
        )
        results.write_text(
            json.dumps({"command": train_args, "config": config.to_dict(), "rows": rows}, indent=1)
        )

    curve = Curve(args.every, config.epochs, x_test, data.y_test, x_train, y_train, on_row)
    train(config, x_train[: config.n_train], x_val, work_dir, callbacks=(curve,))
    print("\n| epoch | test -ELBO | above the floor | KL | 5-NN | val -ELBO |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['epoch']} | {r['test_neg_elbo_nats']:.1f} | {r['test_neg_elbo_nats'] - floor:.1f} | "
            f"{r['test_kl_nats']:.2f} | {r['knn5_accuracy']:.3f} | {r['val_loss']:.1f} |"
        )
    print(f"\nwrote {results}; exporting the bundle with the train command ...", flush=True)
    return cli.main(["train", *train_args])


if __name__ == "__main__":
    sys.exit(main())
