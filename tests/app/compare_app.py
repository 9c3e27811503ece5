"""A test harness: the compare view alone, over $VAE_ARTIFACTS (AppTest and the browser test run it).

VAE_ARTIFACTS=artifacts streamlit run tests/app/compare_app.py
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # `streamlit run` puts this folder on sys.path, not the repo root
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from app.panels.compare import compare_ui  # noqa: E402
from app.resources import artifacts_root, bundle_names  # noqa: E402
from app.style import PAGE_CSS  # noqa: E402

st.set_page_config(page_title="Compare models", layout="wide", initial_sidebar_state="collapsed")
st.markdown(PAGE_CSS, unsafe_allow_html=True)
root = artifacts_root()
compare_ui(root, bundle_names(root))
