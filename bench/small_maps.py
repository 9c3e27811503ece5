"""What a small map costs the browser: its points as one picture (as shipped) against the same points
as WebGL traces (as they were drawn before), in headless Chromium.

    .venv/bin/python bench/small_maps.py [--bundle fashion-mnist-2d] [--repeat 8]

The figures are the app's own (``app.panels.inside.inside_map``: Inside's whole map and its
close-up around test image #0, 260 px tall, 320 px wide). The WebGL one is the same figure with
the picture replaced by one ``scattergl`` trace per class of the same sampled points, colours,
sizes and opacity. Each is drawn with the plotly.js that plotly.py ships (``Plotly.newPlot`` into
a fresh div, until the next frame), --repeat times after one uncounted draw; the median is
reported with the figure's JSON size. Prints a table; writes bench/results/small_maps.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CHROMIUM, CHROMIUM_ARGS, machine  # noqa: E402  bench/common.py

DRAW = """async ([spec, repeat]) => {
  const times = [];
  for (let i = 0; i <= repeat; i++) {
    const div = document.createElement('div');
    div.style.width = '320px';
    document.body.appendChild(div);
    const fig = JSON.parse(spec);
    const t0 = performance.now();
    await Plotly.newPlot(div, fig.data, fig.layout, { displayModeBar: false });
    await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
    if (i > 0) times.push(performance.now() - t0);
    Plotly.purge(div);
    div.remove();
  }
  return times;
}"""


def figures(bundle: Path) -> dict[str, str]:
    """Each small map as shipped (a picture) and as WebGL traces, as Plotly JSON."""
    import numpy as np
    import plotly.graph_objects as go

    from app.figures import class_points, map_rows
    from app.panels import inside
    from app.resources import open_explorer

    explorer = open_explorer(bundle, publish=False)
    shown = inside.show(explorer, explorer.images[0].astype(np.float32) / 255.0, seed=0)
    style, xy = inside.SMALL_MAP, explorer.map.xy
    classes = class_points(explorer, style, map_rows(explorer, style))
    out = {}
    for name, zoom in (("whole map", False), ("close-up", True)):
        picture = inside.inside_map(explorer, shown, samples=True, height=260, zoom=zoom, legend=False)
        webgl = go.Figure(picture)
        webgl.layout.images = ()
        for _, idx, colour in classes:
            trace = go.Scattergl(
                x=xy[idx, 0].astype(np.float32),
                y=xy[idx, 1].astype(np.float32),
                mode="markers",
                marker={"color": colour, "size": style.marker_size, "opacity": style.opacity},
                hoverinfo="skip",
                showlegend=False,
            )
            webgl.add_trace(trace)
        webgl.data = webgl.data[-len(classes) :] + webgl.data[: -len(classes)]  # the points below
        out[f"{name}, picture"] = picture.to_json()
        out[f"{name}, WebGL"] = webgl.to_json()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", default="fashion-mnist-2d")
    parser.add_argument("--repeat", type=int, default=8)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "small_maps.json")
    args = parser.parse_args()
    import plotly
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    specs = figures(REPO / "artifacts" / args.bundle)
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    results = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = Path(tmp) / "page.html"
        page_path.write_text(f"<html><body><script src='{plotly_js.as_uri()}'></script></body></html>")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(page_path.as_uri())
        page.wait_for_function("() => window.Plotly !== undefined")
        for name, spec in specs.items():
            times = page.evaluate(DRAW, [spec, args.repeat])
            results[name] = {
                "draw_ms": round(statistics.median(times), 1),
                "json_kb": round(len(spec) / 1024, 1),
            }
        browser.close()
    print(f"{'small map (' + args.bundle + ')':36}{'draw, median (ms)':>20}{'JSON (KB)':>12}")
    for name, r in results.items():
        print(f"{name:36}{r['draw_ms']:>20.1f}{r['json_kb']:>12.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"bundle": args.bundle, "repeat": args.repeat, "results": results, **machine(load_before)}
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
