"""The app's browser components (streamlit.components.v2), each backed by an ES module.

Streamlit runs a component's JavaScript from a blob: URL, so the component's own code is one line
that imports its module from the app's static route, where ``app.browser_assets.publish_frontend``
put the app's modules (``app/frontend/*.js``, importing each other by relative URL), and calls
its ``mount``. Every component on the page shares the modules' state: one runtime, one overlay.

* ``live_point``: the current point's decoded image, sliders and marker (``live.js``);
* ``map_overlay``: one named layer drawn over the map (``overlay.js``; app/overlay.py);
* ``map_picker``: hover and click on a map drawn as a picture (``picker.js``; app/panels/compare.py);
* ``draw_pad``: the drawing pad (``draw.js``; app/panels/draw_pad.py);
* ``traversals``: the latent traversals (``traversals.js``; app/panels/traversals.py);
* ``plotly_figure``: a Plotly figure redrawn in place (``figure.js``): the explorer's map
  (app/panels/map.py) and the small maps (app/panels/inside.py). Its plot lives in the page's own
  DOM (no shadow root): Plotly's styles are the page's, and the overlay and the live point find the
  map's plot element there.
"""

from __future__ import annotations

import functools
import json

import streamlit as st

from app.browser_assets import FRONTEND_DIR, publish_frontend, streamlit_plotly_url

# The component's JavaScript: its module, imported once per page, mounted on every update.
STUB = """const module = import(new URL({url}, document.baseURI).href);
export default async function (component) {{
  return (await module).mount(component);
}}
"""


@functools.cache
def _frontend_url() -> str:
    return publish_frontend()


@functools.cache
def component(name: str, module: str, css: str | None = None, isolate_styles: bool = True):
    """The mounting command of component ``name`` running ``app/frontend/<module>``."""
    js = STUB.format(url=json.dumps(_frontend_url() + module))
    style = (FRONTEND_DIR / css).read_text(encoding="utf-8") if css else None
    return st.components.v2.component(name, html="", css=style, js=js, isolate_styles=isolate_styles)


def live_point():
    return component("vae_live_point", "live.js", "live.css")


def map_overlay():
    return component("vae_map_overlay", "overlay.js")


def map_picker():
    return component("vae_map_picker", "picker.js")


def draw_pad():
    return component("vae_draw_pad", "draw.js", "draw.css")


def traversals():
    return component("vae_traversals", "traversals.js", "traversals.css")


def plotly_figure():
    return component("vae_plotly_figure", "figure.js", "figure.css", isolate_styles=False)


def show_figure(key: str, spec: dict, config: dict, height: int | str, **callbacks) -> None:
    """Draw a figure spec (app.figures.figure_spec) with Plotly's ``config``, in a box ``height``
    pixels tall (or "stretch"): a new spec under the same ``key`` redraws it in place."""
    data = {**spec, "config": config, "plotly": streamlit_plotly_url(), "name": key}
    plotly_figure()(key=key, data=data, height=height, **callbacks)
