"""A throwaway Streamlit site for the in-browser decoder: the app's runtime and module, a test page.

Used by tests/e2e/test_live_decoder.py and bench/browser_decode.py. The site lives in a temporary
folder (nothing here ships in app/static): ``app.py`` (a two-line Streamlit app that mounts an
``st.components.v2`` component running ``app/frontend/live_decoder.js``) and ``static/`` with a
copy of the vendored runtime, the module, the given ONNX models and ``page.html``, a bare page
that imports the module. It is served by a real ``streamlit run`` with static serving on, so the
files reach Chromium with the same headers (MIME types, ETag, Last-Modified) as in the app.
Copies, not symlinks: Streamlit's static route refuses files whose real path is outside static/.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from tests.e2e.page import REPO, serve_app

# The bare page: the module, a canvas, nothing else. ``window.live`` is the module; the runtime
# and models are resolved against the site root (the page itself is at app/static/page.html).
PAGE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>live decoder</title></head>
<body>
<canvas id="decoded" width="28" height="28"></canvas>
<script type="module">
  window.pageStart = performance.now();
  const live = await import("./live_decoder.js");
  window.live = live;
  window.siteRoot = new URL("../../", location.href).href;
  window.moduleLoaded = performance.now();
</script>
</body></html>
"""

# The proof that st.components.v2 JavaScript can use the module: app.browser_assets.live_decoder_js()
# goes in front of this, so both are one ES module (loaded by Streamlit from a blob: URL).
COMPONENT_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let canvas = parentElement.querySelector("canvas");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.className = "live-proof";
    parentElement.appendChild(canvas);
  }
  createDecoder(data.model)
    .then((decoder) => decoder.decode(data.z))
    .then((pixels) => {
      paint(canvas, pixels, 140);
      window.liveProof = Array.from(pixels);
      setStateValue("decoded", { n: pixels.length, max: Math.max(...pixels) });
    })
    .catch((e) => setStateValue("decoded", { error: String(e) }));
}
"""

APP_PY = """import json, sys
import streamlit as st
sys.path.insert(0, {repo!r})
from app.browser_assets import live_decoder_js

proof = st.components.v2.component("live_decoder_proof", js=live_decoder_js() + {component_js!r})
result = proof(key="proof", data={{"model": {model!r}, "z": {z!r}}},
               on_decoded_change=lambda: None)
st.text("decoded in the browser: " + json.dumps(result.decoded))
"""


def build_site(root: Path, models: dict[str, Path], proof_z: list[float] | None = None) -> dict[str, str]:
    """Write the site into ``root``; return each of ``models`` (name -> .onnx file) as its URL path.

    Models are published the way the app publishes them (app.browser_assets.publish_model). The
    component proof in app.py decodes ``proof_z`` with the model named "decoder".
    """
    from app.browser_assets import LIVE_DECODER_JS, RUNTIME_DIR, STATIC_DIR, publish_model, sha256_file

    static = root / "static"
    shutil.copytree(RUNTIME_DIR, static / RUNTIME_DIR.relative_to(STATIC_DIR))
    urls = {name: publish_model(path, sha256_file(path), static / "models") for name, path in models.items()}
    shutil.copyfile(LIVE_DECODER_JS, static / "live_decoder.js")
    (static / "page.html").write_text(PAGE_HTML, encoding="utf-8")
    z = list(proof_z or [0.0, 0.0])
    app = APP_PY.format(repo=str(REPO), component_js=COMPONENT_JS, z=z, model=urls.get("decoder", ""))
    (root / "app.py").write_text(app, encoding="utf-8")
    return urls


@contextlib.contextmanager
def serve_site(root: Path, log_path: Path):
    """`streamlit run app.py` in ``root`` with static serving on; yield its URL, then stop it."""
    options = ("server.enableStaticServing=true", "server.fileWatcherType=none")
    with serve_app(None, log_path, options, script="app.py", cwd=root) as server:
        yield server.url
