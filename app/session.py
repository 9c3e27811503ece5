"""The explorer's session state: every key in one place, and the one module that writes each.

Widget keys (sliders, toggles, ...) are written by Streamlit for the panel that draws the
widget; the panel module is their owner and nothing else writes them.
"""

from __future__ import annotations

# written by app.panels.decoder.set_point (the current point and where it came from)
POINT = "point"  # the current latent point: a list of latent_dim floats
SELECTED = "selected"  # the test image the point came from (int), or None
# written by app.streamlit_app
URL_STATE = "url_state"  # the link's state (app.state.ViewState), parsed once per session
URL_NOTICES = "url_notices"  # notices about ignored link values (list of str)
BUNDLE = "bundle"  # the bundle selector's widget key (the bundle's folder name)
BUNDLE_LOADED = "bundle_loaded"  # the bundle whose point is set: a change resets the point
VIEW = "view"  # the view selector's widget key (one of app.state.VIEWS)
MODE = "mode"  # the page's part: the mode selector's widget key (one of app.state.MODES)
SHOWN_MODE = "shown_mode"  # the part the last run showed: a click on the selected part keeps it
# written by app.panels.lesson
STEP = "lesson_step"  # the lesson's step, 1 to app.state.LESSON_STEPS
LESSON_IMAGE = "lesson_image"  # the lesson's test image (int)
LESSON_SOURCE = "lesson_source"  # "test" or "drawing": the image the lesson follows
DRAWING = "drawing"  # the last drawing sent by the pad: (28, 28) float array, or None
# written by app.panels.upload ("Follow it inside the VAE") and the Inside view's source radio
UPLOADED = "uploaded"  # (pixels (28, 28), title) of the image encoded last, or absent
INSIDE_SOURCE = "inside_source"  # the Inside view's image: "test", "upload" or "drawing"
COMPACT = "compact"  # the compact layout switch's widget key (bool)
LINK_APPLIED = "link_applied"  # the link's view settings were handed to the panels (once per session)
MAP_LINK = "map_link"  # the map's display options as link fields (app.panels.map.link_fields)
PAGE_RUN = "page_run"  # True while the whole page runs (False during a fragment's own rerun)
# written by app.panels.interpolation
FOLLOWED_POINT = "followed_point"  # the current point the shown interpolation ends at, or None
# written by app.panels.manifold.use_box (called when a box is drawn on the map)
REGION = "region"  # the box [[x0, x1], [y0, y1]] the decoded grid covers
REGION_SOURCE = "region_source"  # the decoded grid's region radio: "prior" or "box"

# Reset when another bundle is opened (besides the decoder's slider widgets).
PER_BUNDLE = (POINT, SELECTED, REGION, REGION_SOURCE)
