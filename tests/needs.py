"""What the whole suite needs from the machine, and the one rule for when a piece is missing.

Debian's ``chromium`` (browser tests), Debian's ``dataset-fashion-mnist`` (real-data tests) and
the ``playwright`` package (requirements-dev.txt). ``make test`` installs the Debian packages
before running the tests (scripts/system-deps). A test that still finds one missing is skipped
with the command that installs it, except under CI (``CI=true``), where it fails: a green CI
run means every browser and real-data test ran. Every such test goes through :func:`missing`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import NoReturn

import pytest

from harness.browser import CHROMIUM

# Where dataset-fashion-mnist puts the files; scripts/system-deps reads the same two variables.
DEBIAN_DATASET = Path(os.environ.get("VAE_DEBIAN_DATASET", "/usr/share/datasets/fashion-mnist"))
INSTALL = (
    "apt-get update && apt-get install -y --no-install-recommends "
    "dataset-fashion-mnist chromium fonts-liberation"
)


def on_ci() -> bool:
    """CI=true (or 1, yes), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(what: str, fix: str = f"as root: {INSTALL}") -> NoReturn:
    """Skip the calling test (or fixture's tests) because `what` is missing, or fail it under CI."""
    message = f"{what}; to run this test: {fix}"
    if on_ci():
        pytest.fail(
            f"{message} (CI=true: a test that cannot run fails instead of being skipped)", pytrace=False
        )
    pytest.skip(message)


def chromium() -> Path:
    """Debian's Chromium for Playwright, with the playwright package to drive it."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} not found (Debian's chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing("the playwright package is not installed", "make test (it installs requirements-dev.txt)")
    return CHROMIUM


def debian_dataset() -> Path:
    """The folder of Debian's dataset-fashion-mnist package."""
    if not DEBIAN_DATASET.is_dir():
        missing(f"{DEBIAN_DATASET} not found (Debian's dataset-fashion-mnist)")
    return DEBIAN_DATASET


def fashion_mnist() -> None:
    """Fashion-MNIST where the command line finds it without downloading: FASHION_MNIST_DIR or Debian's."""
    if not os.environ.get("FASHION_MNIST_DIR"):
        debian_dataset()
