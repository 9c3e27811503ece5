"""How far decodes are from anything real, on and off the data (issue 27: make "off the data" visible).

    .venv/bin/python bench/off_data.py [--bundles fashion-mnist-2d fashion-mnist-2d-autoencoder ...]

For each shipped bundle: decodes at its test images' codes (on the data), at the widest gap of its
map, and at points 2, 4 and 8 spreads out from the codes' mean along the map's first direction;
for each, the root-mean-square pixel difference to the nearest real test image, over the same for
the model's own reconstructions (Explorer.off_data: what the explorer shows). Prints a table;
writes bench/results/off_data.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.resources import bundle_version, load_explorer  # noqa: E402
from bench.common import machine  # noqa: E402

DEFAULT = ["fashion-mnist-2d", "fashion-mnist-2d-autoencoder", "fashion-mnist-2d-beta4", "fashion-mnist-16d"]


def places(explorer) -> dict[str, np.ndarray]:
    """Named latent points: on the data, in the map's widest gap, and further and further out."""
    z = explorer.bundle.z_mean.astype(np.float64)
    mean, spread = z.mean(axis=0), z.std(axis=0)
    direction = explorer.map.projection.components[0]  # the map's x axis in latent space
    out = {"test image #1's code": z[1], "widest gap of the map": np.asarray(explorer.map_facts.gap_z)}
    for k in (2, 4, 8):
        out[f"{k} spreads out"] = mean + k * float(np.linalg.norm(spread)) * direction
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", nargs="+", default=DEFAULT)
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    for name in args.bundles:
        path = REPO / "artifacts" / name
        explorer = load_explorer(str(path), bundle_version(path))
        for place, z in places(explorer).items():
            index, rms, ratio = explorer.off_data(explorer.decode(z)[0])
            rows.append(
                {
                    "bundle": name,
                    "place": place,
                    "nearest": index,
                    "rms": round(rms, 4),
                    "typical": round(explorer.reconstruction_rms, 4),
                    "ratio": round(ratio, 2),
                }
            )
    print("| bundle | where | nearest real image | RMS apart | a reconstruction's | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['bundle']} | {r['place']} | #{r['nearest']} | {r['rms']:.3f} | {r['typical']:.3f} | "
            f"{r['ratio']:.2f}x |"
        )
    out = REPO / "bench" / "results" / "off_data.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**machine(load_before), "results": rows}, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
