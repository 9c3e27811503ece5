"""`python -m vae_core train|evaluate|list|export-test-images|export-onnx`: the one place parsing flags."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from . import commands
from .config import MAX_IW_SAMPLES, PRESETS, ConfigError, VAEConfig, preset_config
from .data import DataError

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
        "an .npz (x_train, x_test[, y_train, y_test, class_names, y_<factor>_train/_test]) or a folder "
        "of IDX files (default: Fashion-MNIST)",
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

    sprites = sub.add_parser(
        "make-sprites", help="write a dSprites-style data set with known factors (an .npz train --data reads)"
    )
    sprites.add_argument(
        "--out", type=Path, default=Path("data/sprites"), help="folder (default data/sprites)"
    )
    sprites.add_argument("--size", type=int, default=32, help="image side in pixels, 8-64 (dSprites: 64)")
    sprites.add_argument("--scales", type=int, default=6, help="scale values (default 6)")
    sprites.add_argument("--rotations", type=int, default=10, help="angles over a full turn (dSprites: 40)")
    sprites.add_argument("--positions", type=int, default=16, help="x and y values each (dSprites: 32)")
    sprites.add_argument("--count", type=int, help="draw this many combinations (default: all of them)")
    sprites.add_argument("--seed", type=int, default=0, help="seeds the test split and --count's draw")

    onnx = sub.add_parser("export-onnx", help="add browser models (ONNX) to bundles, without retraining")
    onnx.add_argument(
        "bundles",
        type=Path,
        nargs="+",
        metavar="BUNDLE",
        help="bundle folder(s), e.g. artifacts/fashion-mnist-2d",
    )
    onnx.add_argument("--force", action="store_true", help="re-export even if its browser models verify")

    imports = sub.add_parser(
        "import", help="make a bundle of a VAE you trained yourself (.keras, .h5 or .onnx)"
    )
    imports.add_argument("--encoder", type=Path, required=True, help="the encoder: .keras, .h5 or .onnx")
    imports.add_argument("--decoder", type=Path, required=True, help="the decoder, in the same format")
    imports.add_argument("--out", type=Path, required=True, help="the bundle folder, e.g. artifacts/my-vae")
    add_data_arguments(imports)
    imports.add_argument(
        "--sigma-output", choices=("log_var", "std"), help="what the encoder's second output is"
    )
    imports.add_argument("--decoder-output", choices=("probs", "logits"), help="what the decoder outputs")
    imports.add_argument(
        "--pixel-range",
        choices=("unit", "signed", "byte"),
        help="the models' pixels: [0, 1], [-1, 1] or [0, 255]",
    )
    imports.add_argument(
        "--custom-objects",
        type=Path,
        metavar="MODULE.py",
        help="a file defining your own layer classes (it runs)",
    )
    imports.add_argument(
        "--trust-code",
        action="store_true",
        help="load with Keras's safe mode off (Lambda layers run; recorded)",
    )
    imports.add_argument("--iw-samples", type=int, default=16, help="importance samples of the IWAE metric")
    return parser


def add_data_arguments(command: argparse.ArgumentParser) -> None:
    """--data and its shape flags, as train and import take them."""
    command.add_argument(
        "--data",
        type=Path,
        help="your own images: a folder (one subfolder per class, or none; optionally train/ and test/), "
        "an .npz (x_train, x_test[, y_train, y_test, class_names, y_<factor>_train/_test]) or a folder "
        "of IDX files (default: Fashion-MNIST)",
    )
    command.add_argument(
        "--image-size", metavar="H[xW]", help="resize every image (Pillow, Lanczos), 8 to 64"
    )
    command.add_argument(
        "--channels", type=int, choices=(1, 3), help="1: grey, 3: RGB (default: as the images)"
    )
    command.add_argument(
        "--test-share", type=float, default=0.1, help="share held out as the test split when there is none"
    )
    command.add_argument("--data-dir", type=Path, help="folder with the four Fashion-MNIST .gz files")


def config_from_args(args: argparse.Namespace) -> VAEConfig:
    fields = [*CONFIG_FLAGS, "deterministic"]
    overrides = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    return preset_config(args.preset, **overrides)


TRAINING_MODULES = {"tensorflow", "keras", "tf2onnx", "h5py"}  # requirements-train.txt, not requirements.txt


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
    from .multi_worker import ClusterError
    from .workdir import ResumeError

    # Progress bars for the long commands, and only where a person watches a terminal.
    with command_output(bars=args.command in ("train", "evaluate", "import")) as progress:
        try:
            if args.command == "train":
                commands.cmd_train(config, args, argv, progress)
            elif args.command == "evaluate":
                commands.cmd_evaluate(args, progress)
            elif args.command == "list":
                commands.cmd_list(args.root)
            elif args.command == "export-onnx":
                commands.cmd_export_onnx(args)
            elif args.command == "make-sprites":
                commands.cmd_make_sprites(args)
            elif args.command == "import":
                commands.cmd_import(args, argv, progress)
            else:
                commands.cmd_export_test_images(args)
        except (DataError, BundleError, ReplaceError, ResumeError, ClusterError) as e:
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
