"""How long each click takes until the page has answered (issue 27: every click under a second).

    .venv/bin/python bench/clicks.py [--repeat 3] [--compare runner.postScriptGC=true]
    git worktree add /tmp/before <commit> && .venv/bin/python bench/clicks.py --before /tmp/before
    .venv/bin/python bench/clicks.py --fresh  # every round on a server of its own: first visits

One `streamlit run` on the shipped bundles (and, with --compare, a second one with that
Streamlit setting; with --before, first one of another checkout: each measured in the same run),
one headless Chromium at 1280x800. A tour of the page (``TOUR``: the views, an upload followed
inside the VAE, the map's display options, another bundle and back, the lesson's steps, Compare
and back) is taken --repeat times, each on a fresh page. Each gesture is timed from the click
(or the file given to the uploader) to the page's last change (a MutationObserver on the whole
document), taken once the page has not changed for 400 ms and Streamlit is idle; what leads to
it (opening a select box's list, scrolling to the control) is not timed. The median of the
rounds is reported, slowest first, and each gesture's slowest round: the first round is the
server's first visit of each bundle (loading it), which the median leaves out. Prints a table;
writes bench/results/clicks.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import statistics
from pathlib import Path

import numpy as np
from common import CHROMIUM, CHROMIUM_ARGS, IDLE, MAP, new_context, serve_app
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 180_000
OTHER_BUNDLE, BACK = "fashion-mnist-16d", "fashion-mnist-2d"  # shipped bundles: away and back


def _upload_png() -> bytes:
    """A light shape on black, 64 x 64 (the app scales it to the bundle's images)."""
    pixels = np.zeros((64, 64), np.uint8)
    pixels[12:52, 20:44] = 220
    pixels[12:24, 8:56] = 220
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


# Each step readies the page (untimed) and returns the gesture to time.
def clicking(role: str, name: str):
    def ready(page):
        target = page.get_by_role(role, name=name, exact=True)
        target.scroll_into_view_if_needed()
        return target.click

    return ready


def toggling(label: str):
    """A toggle in the open popover (Map display)."""

    def ready(page):
        return page.get_by_test_id("stPopoverBody").get_by_text(label, exact=True).click

    return ready


def choosing(key: str, option: str):
    """An option of the select box ``key``: its list is opened first (untimed)."""

    def ready(page):
        page.locator(f".st-key-{key}").get_by_role("combobox").click()
        target = page.get_by_role("option", name=re.compile(rf"(^|· ){re.escape(option)}$"))
        target.wait_for()
        return target.click

    return ready


def uploading(png: bytes):
    def ready(page):
        files = page.get_by_test_id("stFileUploader").locator("input[type=file]")
        return lambda: files.set_input_files({"name": "shape.png", "mimeType": "image/png", "buffer": png})

    return ready


def closing_the_popover_then(step):
    def ready(page):
        page.keyboard.press("Escape")
        page.mouse.click(5, 5)
        page.wait_for_selector(IDLE, state="attached")
        return step(page)

    return ready


# (what a person does, how); in this order, each round.
TOUR = [
    ("view: Decoded grid", clicking("radio", "Decoded grid")),
    ("view: Prior samples", clicking("radio", "Prior samples")),
    ("view: Inside the VAE", clicking("radio", "Inside the VAE")),
    ("view: Interpolate", clicking("radio", "Interpolate")),
    ("view: Encode an image", clicking("radio", "Encode an image")),
    ("Encode: upload an image", uploading(_upload_png())),
    ("Encode: Follow it inside the VAE", clicking("button", "Follow it inside the VAE")),
    ("Map display (open)", clicking("button", "Map display")),
    ("Map display: point size on", toggling("Point size = encoder uncertainty")),
    (
        "Map display: aggregate background",
        choosing("map_background", "Where the data is (aggregate posterior)"),
    ),
    ("Map display: no background", choosing("map_background", "No background")),
    ("Map display: point size off", toggling("Point size = encoder uncertainty")),
    (f"bundle: {OTHER_BUNDLE}", closing_the_popover_then(choosing("bundle", OTHER_BUNDLE))),
    (f"bundle: back to {BACK}", choosing("bundle", BACK)),
    ("page: Learn", clicking("radio", "Learn")),
    ("Learn: step 2", clicking("radio", "2")),
    ("Learn: step 3", clicking("radio", "3")),
    ("Learn: step 4", clicking("radio", "4")),
    ("Learn: step 5", clicking("radio", "5")),
    ("Learn: step 6", clicking("radio", "6")),
    ("page: Compare", clicking("radio", "Compare")),
    ("page: Explore", clicking("radio", "Explore")),
]


# The page's time of its last change (any node, attribute or text), kept by an observer.
WATCH = """
window.__lastChange = performance.now();
new MutationObserver(() => { window.__lastChange = performance.now(); })
  .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"""
QUIET = f"""([since, quietMs]) => document.querySelector('{IDLE}') !== null
  && window.__lastChange >= since && performance.now() - window.__lastChange > quietMs"""


def answered(page, since: float) -> float:
    """Seconds from ``since`` (page time) to the page's last change once it has been quiet for
    400 ms with Streamlit idle."""
    page.wait_for_function(QUIET, arg=[since, 400], timeout=TIMEOUT_MS, polling=50)
    return (page.evaluate("() => window.__lastChange") - since) / 1000


def measure(browser, url: str, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {what: [] for what, _ in TOUR}
    for _ in range(repeat):
        context = new_context(
            browser, TIMEOUT_MS, viewport={"width": 1280, "height": 800}, init_scripts=(WATCH,)
        )
        page = context.new_page()
        page.goto(url, timeout=TIMEOUT_MS)
        page.wait_for_selector(f"{MAP} .legendtext", state="attached")
        answered(page, 0.0)
        for what, ready in TOUR:
            gesture = ready(page)
            page.wait_for_timeout(300)
            since = page.evaluate("() => performance.now()")
            gesture()
            times[what].append(answered(page, since))
        context.close()
    return times


def rounds(browser, checkout: Path, options, log: Path, repeat: int, fresh: bool) -> dict[str, list[float]]:
    """``repeat`` rounds of the tour on one server of ``checkout`` or, when ``fresh``, each on its own."""
    times: dict[str, list[float]] = {}
    for _ in range(repeat if fresh else 1):
        with serve_app(REPO / "artifacts", log, options, cwd=checkout, import_root=checkout) as server:
            for what, seconds in measure(browser, server.url, 1 if fresh else repeat).items():
                times.setdefault(what, []).extend(seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--compare", action="append", default=[], help="a Streamlit setting for a second server"
    )
    parser.add_argument("--before", type=Path, help="another checkout to measure first, in the same run")
    parser.add_argument(
        "--fresh", action="store_true", help="each round on a server of its own: every round a first visit"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "clicks.json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    # label -> (checkout, Streamlit settings)
    runs = {"before": (args.before.resolve(), ())} if args.before else {}
    runs["after" if args.before else "as shipped"] = (REPO, ())
    if args.compare:
        runs[" ".join(args.compare)] = (REPO, tuple(args.compare))
    results, slowest = {}, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for label, (checkout, options) in runs.items():
            log = REPO / "test-output" / "bench" / f"clicks-{len(results)}.log"
            times = rounds(browser, checkout, options, log, args.repeat, args.fresh)
            results[label] = {what: round(statistics.median(v), 3) for what, v in times.items()}
            slowest[label] = {what: round(max(v), 3) for what, v in times.items()}
        browser.close()
    labels = list(results)
    order = sorted(results[labels[0]], key=lambda w: -results[labels[0]][w])
    print(
        f"click -> page idle, median of {args.repeat} (s){', each on its own server' if args.fresh else ''}; "
        f"{os.cpu_count()} cores, "
        f"load before {load_before[0]:.1f}"
    )
    heads = [f"{label:>12}" for label in labels] + [f"{'slowest, ' + label:>20}" for label in labels]
    print(f"{'click':36}" + "".join(heads))
    for what in order:
        print(
            f"{what:36}"
            + "".join(f"{results[label][what]:>12.2f}" for label in labels)
            + "".join(f"{slowest[label][what]:>20.2f}" for label in labels)
        )
    for label in labels:
        over = [w for w in order if results[label][w] > 1.0]
        once = [w for w in order if slowest[label][w] > 1.0 >= results[label][w]]
        print(
            f"over 1 s, {label}: {len(over)} of {len(order)}; in the slowest round only:",
            ", ".join(once) or "none",
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "results": results,
        "slowest": slowest,
        "checkouts": {label: str(checkout) for label, (checkout, _) in runs.items()},
        "repeat": args.repeat,
        "fresh": args.fresh,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    args.out.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
