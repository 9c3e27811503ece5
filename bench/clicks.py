"""How long each click takes until the page has answered (issue 27: every click under a second).

    .venv/bin/python bench/clicks.py [--repeat 3] [--compare runner.postScriptGC=true]
    git worktree add /tmp/before <commit> && .venv/bin/python bench/clicks.py --before /tmp/before

One `streamlit run` on the shipped bundles (and, with --compare, a second one with that
Streamlit setting; with --before, first one of another checkout: each measured in the same run),
one headless Chromium at 1280x800. Each click is
timed from the click to the page's last change (a MutationObserver on the whole document), taken
once the page has not changed for 400 ms and Streamlit is idle; the median of --repeat rounds is
reported, slowest first. Prints a table; writes bench/results/clicks.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from pathlib import Path

from common import CHROMIUM, CHROMIUM_ARGS, IDLE, MAP, new_context, serve_app

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 180_000

# (what a person does, the role and name of what they click); in this order, each round.
CLICKS = [
    ("view: Decoded grid", "radio", "Decoded grid"),
    ("view: Prior samples", "radio", "Prior samples"),
    ("view: Encode an image", "radio", "Encode an image"),
    ("view: Inside the VAE", "radio", "Inside the VAE"),
    ("view: Interpolate", "radio", "Interpolate"),
    ("page: Learn", "radio", "Learn"),
    ("Learn: step 2", "radio", "2"),
    ("Learn: step 3", "radio", "3"),
    ("Learn: step 4", "radio", "4"),
    ("Learn: step 5", "radio", "5"),
    ("Learn: step 6", "radio", "6"),
    ("page: Compare", "radio", "Compare"),
    ("page: Explore", "radio", "Explore"),
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
    times: dict[str, list[float]] = {what: [] for what, _, _ in CLICKS}
    for _ in range(repeat):
        context = new_context(
            browser, TIMEOUT_MS, viewport={"width": 1280, "height": 800}, init_scripts=(WATCH,)
        )
        page = context.new_page()
        page.goto(url, timeout=TIMEOUT_MS)
        page.wait_for_selector(f"{MAP} .legendtext", state="attached")
        answered(page, 0.0)
        for what, role, name in CLICKS:
            target = page.get_by_role(role, name=name, exact=True)
            target.scroll_into_view_if_needed()
            page.wait_for_timeout(200)
            since = page.evaluate("() => performance.now()")
            target.click()
            times[what].append(answered(page, since))
        context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--compare", action="append", default=[], help="a Streamlit setting for a second server"
    )
    parser.add_argument("--before", type=Path, help="another checkout to measure first, in the same run")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "clicks.json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    # label -> (checkout, Streamlit settings)
    runs = {"before": (args.before.resolve(), ())} if args.before else {}
    runs["after" if args.before else "as shipped"] = (REPO, ())
    if args.compare:
        runs[" ".join(args.compare)] = (REPO, tuple(args.compare))
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for label, (checkout, options) in runs.items():
            log = REPO / "test-output" / "bench" / f"clicks-{len(results)}.log"
            with serve_app(REPO / "artifacts", log, options, cwd=checkout, import_root=checkout) as server:
                times = measure(browser, server.url, args.repeat)
            results[label] = {what: round(statistics.median(v), 3) for what, v in times.items()}
        browser.close()
    labels = list(results)
    order = sorted(results[labels[0]], key=lambda w: -results[labels[0]][w])
    print(
        f"click -> page idle, median of {args.repeat} (s); {os.cpu_count()} cores, "
        f"load before {load_before[0]:.1f}"
    )
    print(f"{'click':26}" + "".join(f"{label:>28}" for label in labels))
    for what in order:
        print(f"{what:26}" + "".join(f"{results[label][what]:>28.2f}" for label in labels))
    for label in labels:
        over = [w for w in order if results[label][w] > 1.0]
        print(f"over 1 s, {label}: {len(over)} of {len(order)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "results": results,
        "checkouts": {label: str(checkout) for label, (checkout, _) in runs.items()},
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    args.out.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
