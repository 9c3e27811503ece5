"""`python -m vae_core train|evaluate|list|export-test-images|export-onnx`: the one place parsing flags."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from .config import MAX_IW_SAMPLES, PRESETS, ConfigError, VAEConfig, preset_config
from .data import DataError
from .progress import BatchProgress

log = logging.getLogger("vae_core")

# CLI flag -> VAEConfig field, for every field a user may set.
CONFIG_FLAGS = {
    "latent_dim": int,
    "likelihood": str,
    "beta": float,
    "prior_components": int,
    "vamp_components": int,
    "width": int,
    "epochs": int,
    "batch_size": int,
    "learning_rate": float,
    "kl_warmup_epochs": int,
    "free_bits": float,
    "train_samples": int,
    "patience": int,
    "seed": int,
    "n_train": int,
    "iw_samples": int,
    "distribute": str,
    "neighbour_weight": float,
    "neighbour_k": int,
    "neighbour_scale": float,
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `vae-core train: error: ...` and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> Parser:
    parser = Parser(prog="vae-core", description="Train, evaluate and export Fashion-MNIST VAE bundles.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    train = sub.add_parser("train", help="train a VAE and export a bundle")
    train.add_argument(
        "--preset", choices=PRESETS, default="default", help="architecture (default: %(default)s)"
    )
    defaults = preset_config("default")
    for field, kind in CONFIG_FLAGS.items():
        train.add_argument(
            "--" + field.replace("_", "-"),
            type=kind,
            default=None,
            help=f"(default: the preset's, {getattr(defaults, field)!r} for 'default')",
        )
    train.add_argument(
        "--deterministic",
        action="store_const",
        const=True,
        help="train a plain autoencoder: z = z_mean, no sampling (needs --beta 0)",
    )
    train.add_argument(
        "--out", type=Path, help="bundle folder (default: artifacts/fashion-mnist-<dim>d[-preset])"
    )
    train.add_argument(
        "--data",
        type=Path,
        help="your own images: a folder (one subfolder per class, or none; optionally train/ and test/), "
        "an .npz (x_train, x_test[, y_train, y_test, class_names]) or a folder of IDX files "
        "(default: Fashion-MNIST)",
    )
    train.add_argument("--image-size", metavar="H[xW]", help="resize every image (Pillow, Lanczos), 8 to 64")
    train.add_argument(
        "--channels", type=int, choices=(1, 3), help="1: grey, 3: RGB (default: as the images)"
    )
    train.add_argument(
        "--test-share", type=float, default=0.1, help="share held out as the test split when there is none"
    )
    train.add_argument("--data-dir", type=Path, help="folder with the four Fashion-MNIST .gz files")
    train.add_argument(
        "--fresh", action="store_true", help="discard an interrupted run's checkpoints and start over"
    )

    evaluate = sub.add_parser("evaluate", help="print a bundle's test-set metrics")
    evaluate.add_argument("bundle", type=Path, help="bundle folder, e.g. artifacts/fashion-mnist-2d")
    evaluate.add_argument(
        "--iw-samples",
        type=int,
        default=64,
        help=f"importance samples k of the IWAE bound (1 to {MAX_IW_SAMPLES})",
    )
    evaluate.add_argument("--data-dir", type=Path, help="folder with the four Fashion-MNIST .gz files")
    evaluate.add_argument(
        "--data", type=Path, help="the data set a bundle of your own images was trained on (for 5-NN)"
    )

    listing = sub.add_parser("list", help="list the bundles under a folder")
    listing.add_argument("root", type=Path, nargs="?", default=Path("artifacts"))

    images = sub.add_parser(
        "export-test-images", help="store the test images for the app (no dataset needed then)"
    )
    images.add_argument("--out", type=Path, default=Path("artifacts"))
    images.add_argument("--data-dir", type=Path)

    onnx = sub.add_parser("export-onnx", help="add browser models (ONNX) to bundles, without retraining")
    onnx.add_argument(
        "bundles",
        type=Path,
        nargs="+",
        metavar="BUNDLE",
        help="bundle folder(s), e.g. artifacts/fashion-mnist-2d",
    )
    onnx.add_argument("--force", action="store_true", help="re-export even if its browser models verify")
    return parser


def config_from_args(args: argparse.Namespace) -> VAEConfig:
    fields = [*CONFIG_FLAGS, "deterministic"]
    overrides = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    return preset_config(args.preset, **overrides)


def default_bundle_path(config: VAEConfig, data_name: str = "fashion-mnist") -> Path:
    suffix = "" if config.preset == "default" else f"-{config.preset}"
    slug = "".join(c if c.isalnum() else "-" for c in data_name.lower()).strip("-")[:60] or "data"
    return Path("artifacts") / f"{slug}-{config.latent_dim}d{suffix}"


TRAINING_MODULES = {"tensorflow", "keras", "tf2onnx"}  # requirements-train.txt, not requirements.txt


def training_missing(command: str, module: str | None) -> str:
    return (
        f"vae-core {command}: error: this needs TensorFlow and Keras ({module} is not installed), which the "
        "serving install (requirements.txt) leaves out: run `make train-deps` "
        "(or `pip install -r requirements-train.txt`)"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        try:
            config = config_from_args(args)
        except ConfigError as e:
            parser.exit(2, f"vae-core train: error: {e}\n")
    elif args.command == "evaluate" and not 1 <= args.iw_samples <= MAX_IW_SAMPLES:
        parser.exit(2, f"vae-core evaluate: error: --iw-samples must be from 1 to {MAX_IW_SAMPLES}\n")
    if args.command in ("train", "evaluate"):
        try:
            with _quiet_native_stderr():
                from . import keras_models  # noqa: F401  (TensorFlow loads here, after the flags were checked)
        except ModuleNotFoundError as e:
            print(training_missing(args.command, e.name), file=sys.stderr)
            return 1
    from .atomic import ReplaceError
    from .console import command_output, terminal_text
    from .manifest import BundleError
    from .workdir import ResumeError

    # Progress bars for the long commands, and only where a person watches a terminal.
    with command_output(bars=args.command in ("train", "evaluate")) as progress:
        try:
            if args.command == "train":
                cmd_train(config, args, argv, progress)
            elif args.command == "evaluate":
                cmd_evaluate(args, progress)
            elif args.command == "list":
                cmd_list(args.root)
            elif args.command == "export-onnx":
                cmd_export_onnx(args)
            else:
                cmd_export_test_images(args)
        except (DataError, BundleError, ReplaceError, ResumeError) as e:
            print(f"vae-core {args.command}: error: {terminal_text(str(e), 4000)}", file=sys.stderr)
            return 1
        except ModuleNotFoundError as e:  # export-onnx of a bundle without ONNX models, on the serving set
            if e.name not in TRAINING_MODULES:
                raise
            print(training_missing(args.command, e.name), file=sys.stderr)
            return 1
        except OSError as e:  # a read-only folder, a full disk, a file-size limit, ...
            where = terminal_text(f": {e.filename}" if e.filename else "")
            print(
                f"vae-core {args.command}: error: {terminal_text(e.strerror or str(e))}{where} "
                "(nothing was changed; free the space or choose a folder you can write)",
                file=sys.stderr,
            )
            return 1
    return 0


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence file descriptor 2 while TensorFlow's C++ libraries load.

    They log through absl before TF_CPP_MIN_LOG_LEVEL applies ("oneDNN custom operations are
    on", twice), so a one-line CLI error came after four lines of noise. What was written is
    replayed if the import fails, so a broken installation still explains itself.
    """
    if "tensorflow" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def load_data(args: argparse.Namespace, seed: int, progress: BatchProgress | None):
    """The data set the flags name (vae_core.datasets): --data, else Fashion-MNIST (--data-dir)."""
    from .datasets import load_images, parse_size

    if getattr(args, "data", None) is not None and args.data_dir is not None:
        raise DataError("give --data (your own images) or --data-dir (the Fashion-MNIST files), not both")
    return load_images(
        args.data,
        image_size=parse_size(args.image_size) if getattr(args, "image_size", None) else None,
        channels=getattr(args, "channels", None),
        test_share=getattr(args, "test_share", 0.1),
        seed=seed,
        progress=progress,
        fashion_mnist_dir=args.data_dir,
    )


def training_splits(data, config: VAEConfig, n_train_given: bool):
    """(config for this data, training images, their labels, validation images), uint8. Fashion-MNIST
    validates on its last 10,000 training images, as always; other sets on their last tenth (up to
    10,000) and train on all the rest unless --n-train says otherwise."""
    from .data import split_validation

    n = len(data.x_train)
    n_val = 10_000 if data.is_fashion_mnist else min(10_000, max(1, n // 10))
    x_train, y_train, x_val, _ = split_validation(data.x_train, data.y_train, n_val)
    n_train = config.n_train if n_train_given or data.is_fashion_mnist else min(len(x_train), 200_000)
    config = dataclasses.replace(config, image_shape=data.image_shape, n_train=n_train)
    return config, x_train, y_train, x_val


def cmd_train(
    config: VAEConfig, args: argparse.Namespace, argv: list[str], progress: BatchProgress | None
) -> None:
    from .atomic import check_replaceable
    from .bundle import TEST_IMAGES_FILE, save_test_images
    from .console import format_metrics
    from .data import to_float
    from .evaluate import evaluate, floor_nats
    from .export import export_bundle
    from .keras_models import KerasNetworks
    from .train import prior_of, train
    from .workdir import check_resumable

    if args.out is not None:
        check_replaceable(args.out)  # before reading the data and hours of training, not after
    data = load_data(args, config.seed, progress)
    config, x_train, y_train, x_val = training_splits(data, config, args.n_train is not None)
    out = args.out or default_bundle_path(config, data.name if not data.is_fashion_mnist else "fashion-mnist")
    check_replaceable(out)
    work_dir = out.parent / f".{out.name}.work"
    if args.fresh and work_dir.exists():
        shutil.rmtree(work_dir)
    check_resumable(work_dir, config)
    h, w, c = config.image_shape
    log.info(
        "training %s (latent_dim %d) on %d images of %s (%dx%dx%d), validating on %d; checkpoints in %s",
        config.preset,
        config.latent_dim,
        min(config.n_train, len(x_train)),
        data.name,
        h,
        w,
        c,
        len(x_val),
        work_dir,
    )
    for note in data.notes:
        log.info("data: %s", note)
    result = train(
        config, x_train[: config.n_train], x_val, work_dir, progress=log.info, batch_progress=progress
    )
    log.info("evaluating on the test set ...")
    prior = prior_of(result.vae)
    x_test = to_float(data.x_test)
    metrics, (z_mean, z_log_var) = evaluate(
        KerasNetworks(result.vae.encoder, result.vae.decoder),
        x_test,
        data.y_test if data.labelled else None,
        x_train[:50_000] if data.labelled else None,
        y_train[:50_000] if data.labelled else None,
        prior=prior,
        iw_samples=config.iw_samples,
        seed=config.seed,
        progress=progress,
    )
    training = {
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "seconds": round(result.seconds, 1),
        "seconds_per_epoch": round(result.seconds / len(result.history), 1),
        "machine": f"{os.cpu_count()} CPU cores",
    }
    own = not data.is_fashion_mnist
    block = (
        data.data_block(floor_nats(data.x_test)) if own else {"source": data.source, "sha256": data.digests}
    )
    export_bundle(
        out,
        encoder=result.vae.encoder,
        decoder=result.vae.decoder,
        config=config,
        z_mean=z_mean,
        z_log_var=z_log_var,
        labels=data.y_test,
        history=result.history,
        metrics=metrics,
        prior=prior,
        probe_images=x_test,
        test_images=data.x_test if own else None,
        extra={
            "data": block,
            "training": training,
            "command": "python -m vae_core " + shlex.join(argv),
        },
    )
    if not own and not (out.parent / TEST_IMAGES_FILE).exists():
        save_test_images(out.parent, data.x_test[..., 0], data.y_test)
    shutil.rmtree(work_dir, ignore_errors=True)
    print(format_metrics(metrics, title=f"{out} (trained {training['seconds'] / 60:.1f} min)"))


def cmd_evaluate(args: argparse.Namespace, progress: BatchProgress | None) -> None:
    from .bundle import bundle_test_images, load_bundle
    from .console import format_metrics
    from .data import to_float
    from .evaluate import evaluate
    from .keras_models import load_keras_networks

    bundle = load_bundle(args.bundle)
    networks = load_keras_networks(bundle.path, bundle.latent_dim, bundle.data.image_shape)
    if bundle.data.own and args.data is None:  # its own test images; 5-NN needs the training images
        test, test_labels, knn = bundle_test_images(bundle), bundle.labels, (None, None)
        if bundle.data.labelled:
            print("(5-NN needs the training images: pass --data with the data set it was trained on)")
    else:
        try:
            data = load_data(args, bundle.config.seed, progress)
        except DataError as e:
            raise DataError(f"{e} (evaluate needs the training images for the 5-NN metric.)") from None
        if data.image_shape != bundle.data.image_shape:
            raise DataError(
                f"the data set's images are {data.image_shape}, the bundle's {bundle.data.image_shape}: "
                "pass the --data it was trained on"
            )
        test, test_labels = data.x_test, data.y_test
        knn = (data.x_train[:50_000], data.y_train[:50_000]) if data.labelled else (None, None)
    metrics, _ = evaluate(
        networks,
        to_float(test),
        test_labels if bundle.data.labelled else None,
        *knn,
        prior=bundle.prior,
        iw_samples=args.iw_samples,
        seed=bundle.config.seed,
        progress=progress,
    )
    print(
        format_metrics(
            metrics, title=f"{bundle.path} ({bundle.config.preset}, latent_dim {bundle.latent_dim})"
        )
    )
    stored = bundle.metrics.get("test_neg_elbo_nats")
    if stored is not None:
        print(
            f"\nmanifest's test -ELBO: {stored:.2f} nats (differences come from the single posterior sample)"
        )


def cmd_list(root: Path) -> None:
    from .bundle import list_bundles
    from .console import terminal_text
    from .manifest import BundleError, read_manifest

    skipped: list[str] = []
    paths = list_bundles(root, skipped)
    if not paths and not skipped:
        print(f"no bundles under {terminal_text(str(root))}/ (train one with `python -m vae_core train`)")
    for path in paths:
        name = terminal_text(path.name, 60)  # a folder name may hold escape sequences: shown, not obeyed
        try:
            m = read_manifest(path)
            browser = "browser models" if m.get("onnx") else "server decoding only"
            print(
                f"{name:32} latent_dim {m['latent_dim']:>3}  "
                f"-ELBO {m['metrics']['test_neg_elbo_nats']:7.2f}  "
                f"5-NN {_score(m['metrics']['knn5_accuracy'])}  "
                f"{terminal_text(m['config']['preset'], 20):8} {browser}"
            )
        except BundleError as e:
            print(f"{name:32} BROKEN: {terminal_text(str(e), 2000)}")
    for line in skipped:
        print(f"SKIPPED {terminal_text(line, 300)}")


def _score(value) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def cmd_export_test_images(args: argparse.Namespace) -> None:
    from .bundle import save_test_images
    from .data import load_fashion_mnist

    if args.out.exists() and not args.out.is_dir():
        raise DataError(f"{args.out} is a file: --out names the artifacts folder the test images go into")
    data = load_fashion_mnist(args.data_dir)
    print(f"wrote {save_test_images(args.out, data.x_test, data.y_test)}")


def cmd_export_onnx(args: argparse.Namespace) -> None:
    from .browser_models import add_browser_models
    from .files import size_of

    for path in args.bundles:
        command = "python -m vae_core export-onnx " + shlex.join([str(path)])
        written = add_browser_models(path, command=command, force=args.force, report=print)
        if not written:
            print(f"{path}: browser models present and verified")
            continue
        sizes = ", ".join(f"{name} ({size_of(path / name) / 1e6:.1f} MB)" for name in written)
        print(f"{path}: wrote {sizes}")
