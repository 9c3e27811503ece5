"""What each command of `python -m vae_core` does, once vae_core.cli has parsed its flags. The
heavy imports (TensorFlow, Keras) happen inside the commands that need them."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shlex
import shutil
from pathlib import Path

from .config import MAX_IW_SAMPLES, MAX_SIDE, MIN_SIDE, VAEConfig
from .data import DataError
from .progress import BatchProgress

log = logging.getLogger("vae_core")


def default_bundle_path(config: VAEConfig, data_name: str = "fashion-mnist") -> Path:
    suffix = "" if config.preset == "default" else f"-{config.preset}"
    slug = "".join(c if c.isalnum() else "-" for c in data_name.lower()).strip("-")[:60] or "data"
    return Path("artifacts") / f"{slug}-{config.latent_dim}d{suffix}"


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


FROM_DATA = ("image_shape", "n_train")  # config fields training_splits sets from the data


def work_dir_of(out: Path) -> Path:
    """Where training checkpoints a bundle's run (vae_core.workdir)."""
    return out.parent / f".{out.name}.work"


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
    from . import multi_worker
    from .atomic import check_replaceable
    from .bundle import TEST_IMAGES_FILE, save_test_images
    from .console import format_metrics
    from .data import to_float
    from .disentangle import disentanglement
    from .evaluate import evaluate, floor_nats
    from .export import export_bundle
    from .keras_models import KerasNetworks
    from .train import prior_of, train
    from .workdir import check_resumable

    if config.distribute == "multi-worker":
        multi_worker.cluster_task()  # TF_CONFIG: before reading the data
    if args.out is not None:  # before reading the data and hours of training, not after
        check_replaceable(args.out)
        if not args.fresh:
            check_resumable(work_dir_of(args.out), config, ignore=FROM_DATA)
    data = load_data(args, config.seed, progress)
    config, x_train, y_train, x_val = training_splits(data, config, args.n_train is not None)
    out = args.out or default_bundle_path(config, data.name if not data.is_fashion_mnist else "fashion-mnist")
    check_replaceable(out)
    work_dir = work_dir_of(out)
    writer = multi_worker.writes(config.distribute)  # the other workers only read
    if args.fresh and work_dir.exists() and writer:
        shutil.rmtree(work_dir)
    if writer or not args.fresh:
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
        config,
        x_train[: config.n_train],
        x_val,
        work_dir,
        progress=log.info,
        batch_progress=progress,
        resume=not args.fresh,
    )
    if not result.chief:
        log.info("this worker is done: the chief (worker 0) evaluates and writes %s", out)
        return
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
    if data.factors_test:
        metrics.update(disentanglement(z_mean, data.factors_test))
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
        test_factors=data.factors_test,
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
    from .bundle import bundle_factors, bundle_test_images, load_bundle
    from .console import format_metrics
    from .data import to_float
    from .disentangle import disentanglement
    from .evaluate import evaluate

    bundle = load_bundle(args.bundle)
    if (bundle.path / "encoder.keras").exists():
        from .keras_models import load_keras_networks

        networks = load_keras_networks(bundle.path, bundle.latent_dim, bundle.data.image_shape)
    else:  # an imported ONNX pair: the bundle holds no Keras models
        from .onnx_models import load_onnx_networks

        networks = load_onnx_networks(bundle)
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
    metrics, (z_mean, _) = evaluate(
        networks,
        to_float(test),
        test_labels if bundle.data.labelled else None,
        *knn,
        prior=bundle.prior,
        iw_samples=args.iw_samples,
        seed=bundle.config.seed,
        progress=progress,
    )
    factors = data.factors_test if args.data is not None or not bundle.data.own else bundle_factors(bundle)
    if factors:
        metrics.update(disentanglement(z_mean, factors))
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


def cmd_import(args: argparse.Namespace, argv: list[str], progress: BatchProgress | None) -> None:
    from .atomic import check_replaceable
    from .console import format_metrics
    from .import_bundle import import_models

    check_replaceable(args.out)  # before reading models and data
    if not 1 <= args.iw_samples <= MAX_IW_SAMPLES:
        raise DataError(f"--iw-samples must be from 1 to {MAX_IW_SAMPLES}")
    data = load_data(args, 0, progress)
    manifest = import_models(
        args.encoder,
        args.decoder,
        data,
        args.out,
        command="python -m vae_core " + shlex.join(argv),
        custom_objects_file=args.custom_objects,
        trust_code=args.trust_code,
        sigma=args.sigma_output,
        pixel_range=args.pixel_range,
        decoder_output=args.decoder_output,
        iw_samples=args.iw_samples,
        progress=progress,
    )
    print(
        format_metrics(
            manifest["metrics"], title=f"{args.out} (imported from {args.encoder.name}, {args.decoder.name})"
        )
    )


def _score(value) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def cmd_make_sprites(args: argparse.Namespace) -> None:
    from .sprites import Recipe, write_sprites

    if not MIN_SIDE <= args.size <= MAX_SIDE:
        raise DataError(f"--size must be from {MIN_SIDE} to {MAX_SIDE}, not {args.size}")
    if not (1 <= args.scales <= 64 and 1 <= args.rotations <= 360 and 1 <= args.positions <= args.size):
        raise DataError("--scales (1-64), --rotations (1-360) and --positions (1 to --size) are out of range")
    if args.out.exists() and not args.out.is_dir():
        raise DataError(f"{args.out} is a file: --out names the folder the data set goes into")
    recipe = Recipe(args.size, args.scales, args.rotations, args.positions, seed=args.seed, count=args.count)
    try:
        path = write_sprites(recipe, args.out)
    except ValueError as e:  # --count beyond the grid
        raise DataError(f"--count: {e}") from None
    print(
        f"wrote {path} and {args.out / 'recipe.json'}: train on it with "
        f"python -m vae_core train --data {path}"
    )


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
