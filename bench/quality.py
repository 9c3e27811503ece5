"""Quality and training speed of the presets, trained in one run on the same data.

    python bench/quality.py --epochs 10                  # same number of epochs for every preset
    python bench/quality.py --budget-minutes 7           # same wall-clock budget for every preset
    python bench/quality.py --quick                      # smoke run: 5,000 images, 2 epochs
    python bench/quality.py --presets default keras-io --epochs 10 --set prior_components=10

Each preset trains with its reference settings (batch size, likelihood, β) and latent_dim 2,
early stopping off (patience = epochs), then is scored on the test set with the metrics of
shared/DESIGN.md. Prints a table and writes bench/results/quality-<mode>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras


class TimeBudget(keras.callbacks.Callback):
    """Stops training (mid-epoch if need be) once `seconds` of training have passed."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True


def parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = json.loads(value) if value[:1].isdigit() or value[:1] in "-[{" else value
    return out


def run_preset(preset, args, data, overrides) -> dict:
    from vae_core.config import preset_config
    from vae_core.evaluate import evaluate
    from vae_core.train import prior_of, train

    x_train, y_train, x_val, x_test, y_test = data
    epochs = args.epochs if args.budget_minutes is None else 1000
    config = preset_config(
        preset,
        latent_dim=2,
        epochs=epochs,
        patience=epochs,
        n_train=args.n_train,
        iw_samples=args.iw_samples,
        **(overrides if preset == "default" else {}),
    )
    callbacks = (TimeBudget(args.budget_minutes * 60),) if args.budget_minutes is not None else ()
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        result = train(
            config,
            x_train[: args.n_train],
            x_val,
            work,
            callbacks=callbacks,
            progress=lambda m: print(f"  [{preset}] {m}", flush=True),
        )
        seconds = time.perf_counter() - start
    metrics, _ = evaluate(
        result.vae.encoder,
        result.vae.decoder,
        x_test,
        y_test,
        x_train,
        y_train,
        prior=prior_of(result.vae),
        iw_samples=args.iw_samples,
        seed=config.seed,
    )
    epochs_run = len(result.history)
    return {
        "preset": preset,
        "config": config.to_dict(),
        "epochs": epochs_run,
        "best_epoch": result.best_epoch,
        "train_seconds": seconds,
        "seconds_per_epoch": sum(r["seconds"] for r in result.history) / epochs_run,
        "images_per_second": args.n_train * epochs_run / sum(r["seconds"] for r in result.history),
        "parameters": result.vae.encoder.count_params() + result.vae.decoder.count_params(),
        **{
            k: metrics[k]
            for k in (
                "test_neg_elbo_nats",
                "test_recon_bce_nats",
                "test_kl_nats",
                "test_iw_nll_nats",
                "knn5_accuracy",
                "test_recon_mse",
            )
        },
    }


def table(rows: list[dict]) -> str:
    head = (
        "| preset | epochs | test -ELBO | IWAE NLL | 5-NN acc | recon MSE | s/epoch | img/s | total s "
        "| params |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [
        f"| {r['preset']} | {r['epochs']} | {r['test_neg_elbo_nats']:.1f} | {r['test_iw_nll_nats']:.1f} | "
        f"{r['knn5_accuracy']:.3f} | {r['test_recon_mse']:.4f} | {r['seconds_per_epoch']:.1f} | "
        f"{r['images_per_second']:.0f} | {r['train_seconds']:.0f} | {r['parameters']:,} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["keras-io", "beta-vae-seed", "default"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--budget-minutes", type=float, help="train each preset for this long instead")
    parser.add_argument("--n-train", type=int, default=50_000)
    parser.add_argument("--iw-samples", type=int, default=16)
    parser.add_argument(
        "--set", nargs="*", default=[], help="overrides of the default preset, e.g. prior_components=10"
    )
    parser.add_argument("--quick", action="store_true", help="5,000 images, 2 epochs: a smoke run")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.n_train, args.epochs, args.iw_samples = 5000, 2, 4
    mode = (
        f"budget-{args.budget_minutes:g}min" if args.budget_minutes is not None else f"epochs-{args.epochs}"
    )
    out = args.out or Path(f"bench/results/quality-{mode}{'-quick' if args.quick else ''}.json")

    from vae_core.data import load_fashion_mnist, split_validation, to_float

    fm = load_fashion_mnist()
    x_tr, y_tr, x_val, _ = split_validation(fm.x_train, fm.y_train)
    data = (to_float(x_tr), y_tr, to_float(x_val), to_float(fm.x_test), fm.y_test)
    rows = []
    for preset in args.presets:
        print(f"== {preset} ({mode})", flush=True)
        rows.append(run_preset(preset, args, data, parse_overrides(args.set)))
        print(table(rows[-1:]), flush=True)
    print(f"\n{mode}, {args.n_train} training images, {platform.machine()} with {os.cpu_count()} cores\n")
    print(table(rows))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "mode": mode,
                "argv": sys.argv,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
