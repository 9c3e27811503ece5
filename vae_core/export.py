"""Writing a bundle: the networks, their ONNX copies, the encoded test set and the manifest,
atomically (into a staged folder, then renamed; see ``vae_core.atomic``). ``write_bundle`` writes
what every bundle holds around the networks, without TensorFlow; ``export_bundle`` gives it Keras
networks (vae_core.import_bundle gives it imported ONNX graphs)."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .atomic import staged_folder
from .bundle import save_bundle_test_images
from .config import VAEConfig
from .density import Prior
from .manifest import build_manifest


def describe(model) -> dict:
    """The manifest's description of a Keras network: its parameter count and layers."""
    return {
        "parameters": int(model.count_params()),
        "layers": [f"{layer.__class__.__name__}:{layer.name}" for layer in model.layers],
    }


def library_versions() -> dict:
    import keras
    import tensorflow as tf

    return {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def write_bundle(
    out_dir: str | Path,
    *,
    write_networks: Callable[[Path], tuple[dict, dict | None, dict]],
    config: VAEConfig,
    z_mean: np.ndarray,
    z_log_var: np.ndarray,
    labels: np.ndarray,
    history: list[dict],
    metrics: dict,
    prior: Prior | None = None,
    extra: dict | None = None,
    test_images: np.ndarray | None = None,
    test_factors: dict[str, np.ndarray] | None = None,
    verify=None,
) -> Path:
    """Write a bundle atomically: into a staged folder beside ``out_dir``, then renamed.

    ``write_networks(folder)`` writes the encoder and decoder there and returns the manifest's
    ``architecture``, its ``onnx`` entry (None without ONNX models) and its library ``versions``.
    An export killed at any point leaves the previous bundle (if any) intact and loadable; a folder
    that is not a bundle is never replaced (``vae_core.atomic.check_replaceable``).
    ``test_images`` (uint8 (n, H, W, C), in the latents' order) go into the bundle: a data set other
    than Fashion-MNIST (schema 3, with ``extra["data"]`` its data block) carries the images it shows,
    and ``test_factors`` (name -> (n,) values) their known factors, if its data has any.
    ``verify(folder)``, when given, checks the written bundle before it lands (an error keeps it out).
    """
    out = Path(out_dir)
    with staged_folder(out) as tmp:
        architecture, onnx, versions = write_networks(tmp)
        np.savez_compressed(
            tmp / "latents.npz",
            z_mean=z_mean.astype(np.float32),
            z_log_var=z_log_var.astype(np.float32),
            labels=labels.astype(np.uint8),
        )
        if test_images is not None:
            save_bundle_test_images(tmp, test_images, labels.astype(np.uint8), test_factors)
        prior_entry = {"type": "standard_normal"}
        if prior is not None:
            np.savez(tmp / "prior.npz", weights=prior.weights, means=prior.means, log_vars=prior.log_vars)
            prior_entry = {"type": "gaussian_mixture", "file": "prior.npz", "components": len(prior.weights)}
        (tmp / "history.json").write_text(json.dumps(history, indent=1))
        manifest = build_manifest(
            out.name,
            config,
            metrics=metrics,
            architecture=architecture,
            prior=prior_entry,
            onnx=onnx,
            versions=versions,
            **(extra or {}),
        )
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if verify is not None:
            verify(tmp)
    return out


def export_bundle(
    out_dir: str | Path,
    *,
    encoder,
    decoder,
    config: VAEConfig,
    z_mean: np.ndarray,
    browser_models: bool = True,
    probe_images: np.ndarray | None = None,
    **bundle,
) -> Path:
    """``write_bundle`` with Keras networks (``encoder``, ``decoder``): saved as .keras, and with
    ``browser_models`` (the default) also exported to ONNX; tests that never decode with ONNX turn it
    off to save the export's seconds. ``probe_images`` (test images, (n, H, W, C) float32 in [0, 1])
    are what the light encoder for the browser is measured on. ``bundle``: write_bundle's others."""
    from .browser_models import export_browser_models
    from .model import architecture_notes

    def keras_networks(tmp: Path) -> tuple[dict, dict | None, dict]:
        encoder.save(tmp / "encoder.keras")
        decoder.save(tmp / "decoder.keras")
        onnx = export_browser_models(tmp, encoder, decoder, z_mean, probe_images) if browser_models else None
        architecture = {
            "preset": config.preset,
            **architecture_notes(config),
            "encoder": describe(encoder),
            "decoder": describe(decoder),
        }
        return architecture, onnx, library_versions()

    return write_bundle(out_dir, write_networks=keras_networks, config=config, z_mean=z_mean, **bundle)
