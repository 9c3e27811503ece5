"""Decode latency on the server: ONNX Runtime (what the app serves with) against Keras (what it
served with before), on one bundle's decoder, in the same run.

    python bench/decode.py [--bundle artifacts/fashion-mnist-2d] [--repeats 200]
                           [--out bench/results/decode.json]

Prints p50/p95 milliseconds for 1 point (a click), 32 and 900 points (the 30x30 decoded grid):
ONNX Runtime with 1 and 2 intra-op threads (the app uses min(2, cores), no spinning), Keras's
traced decode (the app's old path), eager model(z) and model.predict; the decoder's FLOPs per
point, the achieved GFLOP/s, and the same as a fraction of this CPU's float32 matmul rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def decoder_flops(decoder) -> int:
    """Multiply-adds x 2 of the Dense/Conv layers for one latent point (activations ignored)."""
    flops = 0
    for layer in decoder.layers:
        kind = layer.__class__.__name__
        if kind == "Dense":
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif kind in ("Conv2D", "Conv2DTranspose"):
            kh, kw = layer.kernel_size
            cin = layer.input.shape[-1]
            # a transposed conv touches every input pixel once per kernel tap
            h, w = layer.input.shape[1:3] if kind == "Conv2DTranspose" else layer.output.shape[1:3]
            flops += 2 * h * w * kh * kw * cin * layer.filters
    return int(flops)


def matmul_gflops(size: int = 1024, repeats: int = 20) -> float:
    import tensorflow as tf

    a = tf.random.normal((size, size))
    tf.linalg.matmul(a, a)  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        c = tf.linalg.matmul(a, a)
    c.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def timings(fn, z: np.ndarray, repeats: int) -> np.ndarray:
    for _ in range(3):
        fn(z)  # trace / warm up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(z)
        out.append(time.perf_counter() - start)
    return np.array(out) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", type=Path, default=Path("artifacts/fashion-mnist-2d"))
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench/results/decode.json"))
    args = parser.parse_args()

    from vae_core.bundle import load_bundle
    from vae_core.keras_models import load_keras_networks
    from vae_core.onnx_models import load_onnx_networks

    bundle = load_bundle(args.bundle)
    keras_nets = load_keras_networks(bundle.path, bundle.latent_dim, bundle.data.image_shape)
    decoder = keras_nets.decoder
    onnx_1, onnx_2 = (load_onnx_networks(bundle, threads=t) for t in (1, 2))
    paths = {
        "ONNX Runtime, 2 threads": onnx_2.decode,
        "ONNX Runtime, 1 thread": onnx_1.decode,
        "Keras tf.function (old)": keras_nets.decode,
        "eager model(z)": lambda z: decoder(z, training=False).numpy(),
        "model.predict": lambda z: decoder.predict(z, verbose=0),
    }
    flops = decoder_flops(decoder)
    peak = matmul_gflops()
    rng = np.random.default_rng(0)
    rows = []
    for n in (1, 32, 900):
        z = rng.standard_normal((n, bundle.latent_dim)).astype(np.float32)
        for name, fn in paths.items():
            repeats = args.repeats if name != "model.predict" else max(20, args.repeats // 10)
            ms = timings(fn, z, repeats)
            p50 = float(np.percentile(ms, 50))
            gflops = flops * n / (p50 / 1000) / 1e9
            rows.append(
                {
                    "points": n,
                    "path": name,
                    "p50_ms": p50,
                    "p95_ms": float(np.percentile(ms, 95)),
                    "gflops": gflops,
                    "fraction_of_matmul_peak": gflops / peak,
                }
            )

    print(
        f"decoder of {args.bundle}: {decoder.count_params():,} parameters, {flops / 1e6:.1f} MFLOP per point"
    )
    print(f"this CPU ({os.cpu_count()} cores): float32 matmul {peak:.1f} GFLOP/s\n")
    print(f"{'points':>6}  {'path':24} {'p50 ms':>9} {'p95 ms':>9} {'GFLOP/s':>9} {'of peak':>8}")
    for r in rows:
        print(
            f"{r['points']:>6}  {r['path']:24} {r['p50_ms']:9.3f} {r['p95_ms']:9.3f} {r['gflops']:9.2f} "
            f"{r['fraction_of_matmul_peak']:8.1%}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "bundle": str(args.bundle),
                "flops_per_point": flops,
                "matmul_gflops": peak,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
