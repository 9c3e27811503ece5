"""The drawing pad's test site: harness/draw_app.py served from a folder with the browser files.

Streamlit serves the files under the *script's* folder ``static/`` (app/static/ for the app), so
the harness runs from a temporary folder: ``draw_app.py`` (a copy) and ``static/`` holding a
copy of the vendored runtime, the app's browser modules and the bundles' models, published the
way the app publishes them (app.browser_assets). Copies, not symlinks: Streamlit's static route refuses
files whose real path is outside static/. Used by tests/e2e/test_draw.py and bench/browser_draw.py.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from harness.browser import REPO, serve_app

HARNESS = REPO / "harness" / "draw_app.py"
OPTIONS = ("server.enableStaticServing=true", "server.fileWatcherType=none")


def build_site(root: Path, artifacts: Path, bundles: tuple[str, ...]) -> dict[str, dict]:
    """Write the site into ``root``; return each present bundle's published model URLs."""
    from app.browser_assets import RUNTIME_DIR, STATIC_DIR, publish_bundle, publish_frontend

    static = Path(root) / "static"
    shutil.copytree(RUNTIME_DIR, static / RUNTIME_DIR.relative_to(STATIC_DIR))
    publish_frontend(static / "frontend")  # the app's browser modules, where its components import them
    urls = {
        name: publish_bundle(artifacts / name, static / "models")
        for name in bundles
        if (artifacts / name).is_dir()
    }
    shutil.copyfile(HARNESS, Path(root) / "draw_app.py")
    return urls


@contextlib.contextmanager
def serve_site(root: Path, artifacts: Path, log_path: Path):
    """`streamlit run draw_app.py` in ``root`` over ``artifacts``; yield its URL, then stop it."""
    with serve_app(artifacts, log_path, OPTIONS, script="draw_app.py", cwd=root) as server:
        yield server.url
