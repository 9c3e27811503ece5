"""A tiny Streamlit site for the drawing pad's browser tests: the pad alone, and what the server got.

Renders only ``app.panels.draw_pad.draw_pad`` over a shipped bundle (``$VAE_ARTIFACTS`` or artifacts/;
``fashion-mnist-2d``, or ``?bundle=NAME``), then says as text what the server received: the
number of strokes, the ink, the ``on_stroke`` callbacks, and the server's own (Keras) encoding
of the drawing, so a test can compare it with the browser's. ``?encoder=off`` serves the pad as
for a bundle without a browser encoder.

tests/e2e/test_draw.py runs it from a temporary folder whose ``static/`` holds the vendored
runtime and the bundles' published models (Streamlit serves the script folder's static/).
"""

from __future__ import annotations

import copy
import dataclasses

import streamlit as st

from app.panels import draw_pad as draw
from app.resources import DEFAULT_BUNDLE, artifacts_root, bundle_names, bundle_version, load_explorer

RECEIVED_PREFIX = "received stroke"  # the tests find the server's answer by it
SERVER_MU_PREFIX = "server mu ="

st.set_page_config(page_title="Drawing pad", layout="wide")
names = bundle_names(artifacts_root())
name = st.query_params.get("bundle", DEFAULT_BUNDLE)
path = artifacts_root() / (name if name in names else DEFAULT_BUNDLE)
explorer = load_explorer(str(path), bundle_version(path))
if st.query_params.get("encoder") == "off":
    explorer = copy.copy(explorer)  # a shallow copy: the shared, cached Explorer stays as it is
    explorer.browser = dataclasses.replace(explorer.browser, encoder=None)


def on_stroke() -> None:
    """Counts the callbacks: the tests check that one ran per stroke, with the stroke already applied."""
    applied = draw.latest_drawing()
    st.session_state["callbacks"] = st.session_state.get("callbacks", 0) + 1
    st.session_state["callback_ink"] = 0.0 if applied is None else float(applied.sum())


# Unticked, the pad is not drawn at all (as on another step of a lesson); ticked again, it is a new
# component that must show the drawing the server kept.
if st.checkbox("Show the pad", value=True, key="show_pad"):
    pixels = draw.draw_pad(explorer, on_stroke=on_stroke)
else:
    pixels = draw.latest_drawing()
count = draw.strokes_received()
ink = 0.0 if pixels is None else float(pixels.sum())
st.text(f"{RECEIVED_PREFIX} {count} with ink sum {ink:.2f}" if count else "no stroke received yet")
st.text(
    f"callbacks {st.session_state.get('callbacks', 0)}, "
    f"the last saw ink sum {st.session_state.get('callback_ink', 0.0):.2f}"
)
if pixels is not None:
    z_mean, z_log_var = explorer.networks.encode(pixels[None])
    st.text(f"{SERVER_MU_PREFIX} " + ", ".join(f"{v:.4f}" for v in z_mean[0]))
