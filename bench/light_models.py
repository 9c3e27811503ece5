"""Light browser models: bytes against error, for every way of storing the weights (issue 25).

    python bench/light_models.py [--artifacts artifacts] [--out bench/results/light_models.json]

For each bundle with ONNX models: the float32 model, every large weight tensor in float16, every
one in int8, and the copy vae_core.light_models chose (the bundle's own `*.light.onnx`); each
with its size, its gzip size (what a visitor downloads), the largest pixel error against the
float32 decoder on 256 test codes and on 256 points spread over the box the codes span (probes
other than the export's), the encoder's largest mu error in map units on 256 test images, and
ONNX Runtime's time for one decode (1 thread, p50 of 200).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

from vae_core import light_models  # noqa: E402
from vae_core.bundle import list_bundles, load_bundle, load_test_images  # noqa: E402
from vae_core.geometry import fit_projection  # noqa: E402


def run(model, inputs: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: inputs.astype(np.float32)})[0]


def decode_ms(model, d: int, repeats: int = 200) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    z = {session.get_inputs()[0].name: np.zeros((1, d), np.float32)}
    for _ in range(10):
        session.run(None, z)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, z)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "light_models.json")
    args = parser.parse_args()
    images, _ = load_test_images(args.artifacts)
    rows = []
    for path in list_bundles(args.artifacts):
        bundle = load_bundle(path)
        if not bundle.browser_models:
            continue
        rng = np.random.default_rng(7)
        z = bundle.z_mean
        data = z[rng.choice(len(z), 256, replace=False)]
        box = rng.uniform(z.min(0), z.max(0), (256, z.shape[1])).astype(np.float32)
        picked = images[rng.choice(len(images), 256, replace=False)][..., None].astype(np.float32) / 255
        components = fit_projection(z.astype(np.float64)).components
        full = {part: onnx.load(str(bundle.browser_models[part].file)) for part in ("decoder", "encoder")}
        reference = {"data": run(full["decoder"], data), "box": run(full["decoder"], box)}
        mu = run(full["encoder"], picked)
        for way in ("float32", "float16", "int8", "chosen"):
            models = {}
            for part, model in full.items():
                if way == "float32":
                    models[part] = model
                elif way == "chosen":
                    light = bundle.browser_models[part].light
                    models[part] = onnx.load(str(light.file)) if light else model
                else:
                    models[part] = light_models.lighten(model, {n: way for n in light_models.weights(model)})
            decoder_bytes = models["decoder"].SerializeToString()
            moved = (run(models["encoder"], picked) - mu) @ components.T
            rows.append(
                {
                    "bundle": bundle.name,
                    "weights": way,
                    "decoder_mb": len(decoder_bytes) / 1e6,
                    "decoder_gzip_mb": len(gzip.compress(decoder_bytes, 6)) / 1e6,
                    "encoder_mb": len(models["encoder"].SerializeToString()) / 1e6,
                    "pixel_error_data": float(np.abs(run(models["decoder"], data) - reference["data"]).max()),
                    "pixel_error_box": float(np.abs(run(models["decoder"], box) - reference["box"]).max()),
                    "mu_error_map_units": float(np.linalg.norm(moved, axis=1).max()),
                    "decode_ms": decode_ms(models["decoder"], bundle.latent_dim),
                }
            )
    header = (
        f"{'bundle':30} {'weights':8} {'decoder MB':>10} {'gzip MB':>8} {'encoder MB':>10} "
        f"{'px err data':>11} {'px err box':>10} {'mu err':>7} {'decode ms':>9}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['bundle']:30} {r['weights']:8} {r['decoder_mb']:10.2f} {r['decoder_gzip_mb']:8.2f} "
            f"{r['encoder_mb']:10.2f} {r['pixel_error_data']:11.4f} {r['pixel_error_box']:10.4f} "
            f"{r['mu_error_map_units']:7.4f} {r['decode_ms']:9.2f}"
        )
    tolerance = (
        f"pixels {light_models.DECODER_TOLERANCE:.4f} (2/255), mu {light_models.ENCODER_TOLERANCE} map units"
    )
    print(f"\ntolerances: {tolerance}; a copy is chosen within {light_models.MARGIN:g} of them on its probes")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"tolerances": tolerance, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
