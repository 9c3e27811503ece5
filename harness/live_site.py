"""A throwaway Streamlit site for the in-browser decoder: the app's runtime and module, a test page.

Used by tests/e2e/test_live_decoder.py and bench/browser_decode.py. The site lives in a temporary
folder (nothing here ships in app/static): ``app.py`` (a small Streamlit app that mounts an
``st.components.v2`` component importing the app's ``decoder.js``, as the app's components do) and
``static/`` with a copy of the vendored runtime, the app's browser modules (published as the app
publishes them), the given ONNX models and ``page.html``, a bare page that imports the module. It
is served by a real ``streamlit run`` with static serving on, so the files reach Chromium with
the same headers (MIME types, ETag, Last-Modified) as in the app. Copies, not symlinks:
Streamlit's static route refuses files whose real path is outside static/.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from harness.browser import REPO, serve_app

# The bare page: the module, a canvas, nothing else. ``window.live`` is the module, ``window.runtime``
# the runtime's folder; both and the models are resolved against the site root (``window.siteRoot``;
# the page itself is at app/static/page.html).
PAGE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>live decoder</title></head>
<body>
<canvas id="decoded" width="28" height="28"></canvas>
<script type="module">
  window.pageStart = performance.now();
  const live = await import("./frontend/__VERSION__/decoder.js");
  window.live = live;
  window.runtime = "__RUNTIME__";
  window.siteRoot = new URL("../../", location.href).href;
  window.moduleLoaded = performance.now();
</script>
</body></html>
"""

# The proof that a component's JavaScript (run by Streamlit from a blob: URL) can import the module
# from the static route, as app/components.py's components do.
COMPONENT_JS = """
const module = import(new URL(__MODULE__, document.baseURI).href);
export default async function (component) {
  const { createDecoder, paint } = await module;
  const { data, parentElement, setStateValue } = component;
  let canvas = parentElement.querySelector("canvas");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.className = "live-proof";
    parentElement.appendChild(canvas);
  }
  createDecoder({ url: data.model }, data.runtime)
    .then((decoder) => decoder.decode(data.z))
    .then((pixels) => {
      paint(canvas, pixels, [28, 28, 1], 140);
      window.liveProof = Array.from(pixels);
      setStateValue("decoded", { n: pixels.length, max: Math.max(...pixels) });
    })
    .catch((e) => setStateValue("decoded", { error: String(e) }));
}
"""

APP_PY = """import json, sys
import streamlit as st
sys.path.insert(0, {repo!r})

proof = st.components.v2.component("live_decoder_proof", js={component_js!r})
result = proof(key="proof", data={{"model": {model!r}, "z": {z!r}, "runtime": {runtime!r}}},
               on_decoded_change=lambda: None)
st.text("decoded in the browser: " + json.dumps(result.decoded))
"""


def build_site(root: Path, models: dict[str, Path], proof_z: list[float] | None = None) -> dict[str, str]:
    """Write the site into ``root``; return each of ``models`` (name -> .onnx file) as its URL path.

    Models are published the way the app publishes them (app.browser_assets.publish_model). The
    component proof in app.py decodes ``proof_z`` with the model named "decoder".
    """
    import json

    from app.browser_assets import RUNTIME_DIR, RUNTIME_URL, STATIC_DIR, publish_frontend, publish_model
    from vae_core.atomic import sha256_file
    from vae_core.manifest import BrowserModel

    static = root / "static"
    shutil.copytree(RUNTIME_DIR, static / RUNTIME_DIR.relative_to(STATIC_DIR))
    urls = {
        name: publish_model(BrowserModel(path, sha256_file(path), (), ()), static / "models")
        for name, path in models.items()
    }
    frontend = publish_frontend(static / "frontend")  # app/static/frontend/<version>/
    page = PAGE_HTML.replace("__VERSION__", frontend.rstrip("/").rsplit("/", 1)[1]).replace(
        "__RUNTIME__", RUNTIME_URL
    )
    (static / "page.html").write_text(page, encoding="utf-8")
    z = list(proof_z or [0.0, 0.0])
    component_js = COMPONENT_JS.replace("__MODULE__", json.dumps(frontend + "decoder.js"))
    app = APP_PY.format(
        repo=str(REPO), component_js=component_js, z=z, model=urls.get("decoder", ""), runtime=RUNTIME_URL
    )
    (root / "app.py").write_text(app, encoding="utf-8")
    return urls


@contextlib.contextmanager
def serve_site(root: Path, log_path: Path):
    """`streamlit run app.py` in ``root`` with static serving on; yield its URL, then stop it."""
    options = ("server.enableStaticServing=true", "server.fileWatcherType=none")
    with serve_app(None, log_path, options, script="app.py", cwd=root) as server:
        yield server.url
