"""Training on your own images: speed and memory for a 64x64 RGB set of 20,000 images (issue 23).

    python bench/own_data.py [--images 20000] [--size 64] [--epochs 1] [--preset default]
                             [--out bench/results/own_data.json]

Makes the set (coloured shapes in three class folders, harness/image_sets.py), then runs
`python -m vae_core train --data ...` in a child process and reports: seconds to read the
folder, seconds per epoch, training images per second, and the child's peak RSS (getrusage).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.image_sets import coloured_shapes  # noqa: E402


def _run_sampled(command: list[str]):
    """Run the training command, sampling its RSS twice a second beside its log: (process, log
    lines, the last log line before the highest sample and that sample in MB)."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    peak = {"mb": 0.0, "after": ""}
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            mb = int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1]) / 1024
        except (OSError, StopIteration):
            mb = 0.0
        if mb > peak["mb"]:
            peak = {"mb": round(mb), "after": lines[-1].strip()[:160] if lines else ""}
        time.sleep(0.5)
    reader.join(timeout=10)
    return process, lines, peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "own_data.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        coloured_shapes(root / "shapes", per_class=args.images // 3, size=args.size)
        made_s = time.perf_counter() - start
        data, out = str(root / "shapes"), str(root / "artifacts" / "bench")
        command = [sys.executable, "-m", "vae_core", "train", "--data", data, "--preset", args.preset]
        command += ["--epochs", str(args.epochs), "--iw-samples", "4", "--out", out]
        start = time.perf_counter()
        run, lines, peak = _run_sampled(command)
        total_s = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        log = "".join(lines)
        if run.returncode:
            raise SystemExit(f"training failed:\n{log[-3000:]}")
        seconds = [float(s) for s in re.findall(r"epoch\s+\d+/\d+ .*?(\d+)s", log)]
        trained = int(re.search(r"on (\d+) images of", log).group(1))
        per_epoch = sum(seconds) / len(seconds)
        manifest = json.loads((root / "artifacts" / "bench" / "manifest.json").read_text())
    result = {
        "images": args.images,
        "image_shape": manifest["data"]["image_shape"],
        "preset": args.preset,
        "parameters": {k: manifest["architecture"][k]["parameters"] for k in ("encoder", "decoder")},
        "make_set_s": round(made_s, 1),
        "train_command_s": round(total_s, 1),
        "seconds_per_epoch": per_epoch,
        "training_images": trained,
        "images_per_second": trained / per_epoch,
        "peak_rss_mb": round(peak_mb),
        "peak_during": peak,  # the log line printed last before the highest RSS sample
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
