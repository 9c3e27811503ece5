"""`python -m vae_core import`: from the user's encoder and decoder files to a bundle (see
vae_core.importer for what is detected, vae_core.adapters and vae_core.onnx_adapt for how the
models are given this project's conventions). Nothing is written unless every check passes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .atomic import sha256_file
from .config import IMPORTED, VAEConfig
from .data import to_float
from .datasets import ImageSet
from .evaluate import evaluate, floor_nats
from .importer import (
    PROBES,
    Conventions,
    ImportProblem,
    Source,
    check_close,
    custom_objects_from,
    detect,
    load_keras_source,
    probe_points,
    source_means,
    source_posterior,
)


def load_source(path: Path, custom_objects: dict, trust_code: bool) -> Source:
    path = Path(path)
    if not path.is_file():
        raise ImportProblem(f"{path}: no such file")
    if path.suffix.lower() == ".onnx":
        from .onnx_adapt import load_onnx_source

        return load_onnx_source(path)
    if path.suffix.lower() not in (".keras", ".h5", ".hdf5"):
        raise ImportProblem(f"{path}: give a .keras, .h5 or .onnx file")
    return load_keras_source(path, custom_objects, trust_code)


def import_models(
    encoder_file: Path,
    decoder_file: Path,
    data: ImageSet,
    out: Path,
    *,
    command: str,
    custom_objects_file: Path | None = None,
    trust_code: bool = False,
    sigma: str | None = None,
    pixel_range: str | None = None,
    decoder_output: str | None = None,
    iw_samples: int = 16,
    progress=None,
    report=print,
) -> dict:
    """Import, check, evaluate and write the bundle ``out``; return its manifest."""
    custom = custom_objects_from(custom_objects_file)
    encoder, decoder = (load_source(f, custom, trust_code) for f in (encoder_file, decoder_file))
    shape = data.image_shape
    rng = np.random.default_rng(0)
    probes01 = to_float(
        data.x_test[rng.choice(len(data.x_test), min(PROBES, len(data.x_test)), replace=False)]
    )
    conv = detect(
        encoder, decoder, probes01, sigma=sigma, pixel_range=pixel_range, decoder_output=decoder_output
    )
    for key, entry in conv.as_manifest().items():
        report(f"{key}: {entry['value']} ({entry['how']})")
    want_mean, want_log_var = source_posterior(encoder, conv, probes01)
    points = probe_points(want_mean, rng)
    want_means = source_means(decoder, conv, points, shape)
    if encoder.kind == "keras" and decoder.kind == "keras":
        networks, write = _keras(
            encoder, decoder, conv, shape, probes01, points, (want_mean, want_log_var, want_means)
        )
    elif encoder.kind == "onnx" and decoder.kind == "onnx":
        networks, write = _onnx(
            encoder, decoder, conv, shape, probes01, points, (want_mean, want_log_var, want_means)
        )
    else:
        raise ImportProblem("give both models in one format: two Keras files or two ONNX files")
    metrics, (z_mean, z_log_var) = evaluate(
        networks,
        to_float(data.x_test),
        data.y_test if data.labelled else None,
        data.x_train[:50_000] if data.labelled else None,
        data.y_train[:50_000] if data.labelled else None,
        iw_samples=iw_samples,
        seed=0,
        progress=progress,
    )
    metrics["likelihood_note"] = (
        "Bernoulli -ELBO on [0, 1] pixels, as for every bundle here, whatever loss the model was trained with"
    )
    config = VAEConfig(preset=IMPORTED, latent_dim=conv.latent_dim, image_shape=shape, epochs=1)
    imported = {
        "encoder": {"file": Path(encoder_file).name, "sha256": sha256_file(Path(encoder_file))},
        "decoder": {"file": Path(decoder_file).name, "sha256": sha256_file(Path(decoder_file))},
        "format": encoder.kind,
        "conventions": conv.as_manifest(),
        "trust_code": trust_code,
        **(
            {"custom_objects": {"file": custom_objects_file.name, "sha256": sha256_file(custom_objects_file)}}
            if custom_objects_file
            else {}
        ),
    }
    own = not data.is_fashion_mnist
    block = (
        data.data_block(floor_nats(data.x_test)) if own else {"source": data.source, "sha256": data.digests}
    )
    extra = {"data": block, "imported": imported, "command": command}
    return write(out, config, metrics, z_mean, z_log_var, data, extra, own)


def _check(encoder_what: str, decoder_what: str, networks, probes01, points, want) -> None:
    """The networks (vae_core.evaluate.Networks) give the source's z_mean, z_log_var and images
    (``want``) on the probe images and points; ImportProblem names the first that does not."""
    mean, log_var = networks.encode(probes01)
    check_close(f"{encoder_what} z_mean", mean, want[0])
    check_close(f"{encoder_what} z_log_var", log_var, want[1])
    check_close(f"{decoder_what} images", networks.decode(points), want[2])


def _keras(encoder, decoder, conv: Conventions, shape, probes01, points, want):
    from .adapters import wrap_decoder, wrap_encoder
    from .keras_models import KerasNetworks

    try:
        enc, dec = wrap_encoder(encoder.model, conv, shape), wrap_decoder(decoder.model, conv, shape)
    except ValueError as e:
        raise ImportProblem(str(e)) from None
    networks = KerasNetworks(enc, dec)
    _check("the adapted encoder's", "the adapted decoder's", networks, probes01, points, want)

    def write(out, config, metrics, z_mean, z_log_var, data, extra, own):
        from .export import export_bundle

        def verify(folder: Path) -> None:  # the ONNX the server and the browser run, before the bundle lands
            from .manifest import browser_models_of
            from .onnx_models import OnnxNetworks

            models = browser_models_of(folder, json.loads((folder / "manifest.json").read_text()))
            served = OnnxNetworks(models["encoder"], models["decoder"], conv.latent_dim, shape, 1)
            _check("the ONNX export's", "the ONNX export's", served, probes01, points, want)

        export_bundle(
            out,
            encoder=enc,
            decoder=dec,
            config=config,
            z_mean=z_mean,
            z_log_var=z_log_var,
            labels=data.y_test,
            history=[],
            metrics=metrics,
            probe_images=to_float(data.x_test),
            test_images=data.x_test if own else None,
            extra=extra,
            verify=verify,
        )
        return json.loads((Path(out) / "manifest.json").read_text())

    return networks, write


def _onnx(encoder, decoder, conv: Conventions, shape, probes01, points, want):
    import onnx

    from .onnx_adapt import adapt_decoder, adapt_encoder
    from .onnx_models import OnnxNetworks

    enc, dec = adapt_encoder(encoder, conv, shape), adapt_decoder(decoder, conv, shape)
    networks = OnnxNetworks.of_graphs(enc, dec, conv.latent_dim, shape)
    _check("the adapted encoder's", "the adapted decoder's", networks, probes01, points, want)

    def write(out, config, metrics, z_mean, z_log_var, data, extra, own):
        from .export import write_bundle
        from .light_models import export_light_models

        def onnx_networks(tmp: Path) -> tuple[dict, dict, dict]:
            entry = {}
            for part, model in (("encoder", enc), ("decoder", dec)):
                file = tmp / f"{part}.onnx"
                onnx.save(model, str(file))
                entry[part] = {
                    "file": file.name,
                    "sha256": sha256_file(file),
                    "inputs": ["images" if part == "encoder" else "z"],
                    "outputs": ["z_mean", "z_log_var"] if part == "encoder" else ["means"],
                }
            opset = max(o.version for o in enc.opset_import if o.domain in ("", "ai.onnx"))
            entry["exporter"] = {"imported": "onnx", "onnx": onnx.__version__, "opset": opset}
            entry["light"] = export_light_models(tmp, entry, z_mean, to_float(data.x_test), report=print)
            architecture = {"preset": IMPORTED, "encoder": {"format": "onnx"}, "decoder": {"format": "onnx"}}
            return architecture, entry, {"onnx": onnx.__version__}

        write_bundle(
            out,
            write_networks=onnx_networks,
            config=config,
            z_mean=z_mean,
            z_log_var=z_log_var,
            labels=data.y_test,
            history=[],
            metrics=metrics,
            test_images=data.x_test if own else None,
            extra=extra,
        )
        return json.loads((Path(out) / "manifest.json").read_text())

    return networks, write
