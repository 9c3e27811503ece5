"""The real page in headless Chromium: what a person sees when they use the explorer.

One `streamlit run` server for the session, a fresh browser context (a fresh Streamlit
session) per test; see conftest.py. Each test saves a screenshot to test-output/e2e/.
``VAE_UPDATE_SCREENSHOT=1`` also writes the README's docs/screenshot.png (first screen after
clicking a point), on the default bundle only.

    .venv/bin/pytest -q tests/e2e/test_browser.py
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
import pytest

from harness.browser import MAP, SLIDER, SLIDER_VALUE
from tests.e2e.conftest import REPO, parse_z

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("chromium_path"),  # skips, or fails under CI, without Chromium: tests/needs.py
]

# What the legend must say, in order (the Fashion-MNIST classes, DESIGN.md).
CLASS_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
DOCS_SCREENSHOT = REPO / "docs" / "screenshot.png"


def _nearest_gap(px: np.ndarray, py: np.ndarray, qx: np.ndarray, qy: np.ndarray, k: int) -> np.ndarray:
    """Distance in screen pixels from each query point to its k-th nearest map point."""
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(np.c_[px, py]).query(np.c_[qx, qy], k=k)
    return dist if k == 1 else dist[:, k - 1]


def pick_point(points: dict, class_name: str, min_gap_px: float = 4.0, margin_px: float = 40.0) -> int:
    """A point of ``class_name`` near its class's middle with no other point within min_gap_px
    (so a click on it can only mean that point). Returns its position in the points lists."""
    px, py = np.asarray(points["px"]), np.asarray(points["py"])
    names = np.asarray(points["names"])
    x0, y0, w, h = points["box"]
    gap = _nearest_gap(px, py, px, py, k=2)  # k=1 is the point itself
    inside = (
        (px > x0 + margin_px) & (px < x0 + w - margin_px) & (py > y0 + margin_px) & (py < y0 + h - margin_px)
    )
    ours = names == class_name
    candidates = np.flatnonzero(ours & inside & (gap >= min_gap_px))
    assert candidates.size, f"no clickable {class_name} point on the map"
    middle = np.array([np.median(px[ours]), np.median(py[ours])])
    dist = np.hypot(px[candidates] - middle[0], py[candidates] - middle[1])
    return int(candidates[np.argmin(dist)])


def pick_empty_spot(points: dict, clearance_px: float = 30.0, margin_px: float = 40.0) -> tuple[float, float]:
    """A screen position inside the plot with no map point within clearance_px (nearest the middle)."""
    px, py = np.asarray(points["px"]), np.asarray(points["py"])
    x0, y0, w, h = points["box"]
    gx, gy = np.meshgrid(
        np.arange(x0 + margin_px, x0 + w - margin_px, 6.0), np.arange(y0 + margin_px, y0 + h - margin_px, 6.0)
    )
    gx, gy = gx.ravel(), gy.ravel()
    clear = _nearest_gap(px, py, gx, gy, k=1)
    ok = np.flatnonzero(clear >= clearance_px)
    if not ok.size:  # a crowded map: the emptiest spot, still far beyond the 6 px pick radius
        ok = np.array([int(np.argmax(clear))])
        assert clear[ok[0]] >= 15, "no empty space on the map to click"
    centre = np.hypot(gx[ok] - (x0 + w / 2), gy[ok] - (y0 + h / 2))
    best = ok[np.argmin(centre)]
    return float(gx[best]), float(gy[best])


def assert_no_errors(explorer) -> None:
    page = explorer.page
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id(
        "stException"
    ).all_inner_texts()
    errors = page.get_by_test_id("stAlertContentError").all_inner_texts()
    assert not errors, errors
    assert not explorer.errors, explorer.errors  # uncaught JavaScript errors


def test_page_shows_the_map_with_the_ten_classes(explorer):
    page = explorer.page
    assert page.title() == "VAE latent explorer"
    assert page.get_by_role("heading", name="Fashion-MNIST latent space explorer").is_visible()
    legend = page.locator(".st-key-latent_map_box .legendtext").all_text_contents()
    assert legend == CLASS_NAMES
    points = explorer.map_points()
    assert len(points["index"]) == 10_000  # every encoded test image is on the map
    assert sorted(set(points["names"])) == sorted(CLASS_NAMES)
    assert page.locator(".st-key-latent_map_box canvas").count() > 0  # drawn with WebGL
    metrics = page.get_by_test_id("stMetricLabel").all_inner_texts()
    assert any("Test -ELBO" in m for m in metrics), metrics
    assert explorer.decoded()["caption"].startswith("z = (")
    assert explorer.marker("current") is not None  # the current point is marked on the map
    explorer.screenshot()
    assert_no_errors(explorer)


def test_the_map_is_redrawn_in_place_once_per_new_figure(explorer):
    """One plot element for as long as the map is shown (app/frontend/figure.js): a display option
    or another bundle draws the map once, on the same element (st.plotly_chart mounted a new chart
    for each and drew it twice), with the same WebGL canvases (Plotly did not start the plot over),
    and a display option keeps the person's zoom."""
    page = explorer.page
    ranges = f"() => ['xaxis', 'yaxis'].flatMap((a) => document.querySelector('{MAP}')._fullLayout[a].range)"
    whole = page.evaluate(ranges)
    box = page.locator(f"{MAP} .nsewdrag").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x, y)  # zoom in: a box dragged with the mouse held down
    page.mouse.down()
    page.mouse.move(x + 120, y + 90, steps=8)
    page.mouse.up()
    page.wait_for_function(
        f"(w) => {{ const r = ({ranges})(); return r[1] - r[0] < (w[1] - w[0]) / 2; }}", arg=whole
    )
    zoomed = page.evaluate(ranges)
    page.evaluate(
        f"() => {{ window.__map = document.querySelector('{MAP}');"
        " window.__canvases = [...window.__map.querySelectorAll('canvas')]; }"
    )
    same_canvases = (
        f"() => {{ const now = [...document.querySelector('{MAP}').querySelectorAll('canvas')];"
        " return now.length > 0 && now.length === window.__canvases.length"
        " && now.every((c) => window.__canvases.includes(c)); }"
    )
    draws = page.evaluate("() => vaeTestHooks.figures.latent_map.draws")
    page.get_by_role("button", name="Map display").click()
    page.get_by_test_id("stPopoverBody").get_by_text("Point size = encoder uncertainty", exact=True).click()
    page.wait_for_function("(n) => vaeTestHooks.figures.latent_map.draws > n", arg=draws)
    explorer.wait_idle()
    page.wait_for_timeout(500)
    assert page.evaluate(f"() => window.__map === document.querySelector('{MAP}')")  # the same element
    assert page.evaluate("() => vaeTestHooks.figures.latent_map.draws") == draws + 1  # drawn once
    assert page.evaluate(same_canvases)  # in place: no new WebGL contexts
    assert page.evaluate(ranges) == pytest.approx(zoomed)  # the zoom kept
    sizes = page.evaluate(f"() => new Set(document.querySelector('{MAP}')._fullData[0].marker.size).size")
    assert sizes > 1  # the points are sized by the encoder's uncertainty
    if page.locator(".st-key-bundle").count():
        page.keyboard.press("Escape")
        page.mouse.click(5, 5)
        explorer.wait_idle()
        page.locator(".st-key-bundle").get_by_role("combobox").click()
        page.get_by_role("option", name=re.compile(r"(^|· )fashion-mnist-16d$")).click()
        page.wait_for_function("(n) => vaeTestHooks.figures.latent_map.draws > n", arg=draws + 1)
        explorer.wait_ready()
        page.wait_for_timeout(500)
        assert page.evaluate(f"() => window.__map === document.querySelector('{MAP}')")
        assert page.evaluate("() => vaeTestHooks.figures.latent_map.draws") == draws + 2
        assert page.evaluate(same_canvases)
        assert page.evaluate(ranges) != pytest.approx(zoomed)  # another map: shown whole
        assert page.locator(f"{MAP} .legendtext").all_text_contents() == CLASS_NAMES
        assert page.locator(f"{MAP} .ytitle").text_content() == "PC 2"  # the 16-D model's plane
    explorer.screenshot()
    assert_no_errors(explorer)


def test_the_map_has_a_full_screen_button(explorer):
    page = explorer.page
    page.locator(f"{MAP} .modebar-btn[data-title^='Full screen']").click()
    page.wait_for_function(
        "() => document.fullscreenElement && document.fullscreenElement.matches('.vae-figure')"
    )
    page.wait_for_function(f"() => document.querySelector('{MAP}')._fullLayout.width > innerWidth - 60")
    assert page.locator(f"{MAP} .legendtext").count() == len(CLASS_NAMES)
    explorer.screenshot()
    page.locator(f"{MAP} .modebar-btn[data-title^='Full screen']").click()  # again: back to the page
    page.wait_for_function("() => !document.fullscreenElement")
    page.wait_for_function(f"() => document.querySelector('{MAP}')._fullLayout.width < innerWidth * 0.7")
    assert_no_errors(explorer)


def test_clicking_a_point_shows_its_real_image_and_decodes_it(explorer):
    page = explorer.page
    points = explorer.map_points()
    i = pick_point(points, "Sneaker")
    index, x, y = points["index"][i], points["xs"][i], points["ys"][i]
    sx, sy = points["px"][i], points["py"][i]
    before = explorer.decoded()
    real_before = explorer.image("Real image").locator("img").get_attribute("src")

    page.mouse.move(sx, sy)  # hovering names the point's class and number
    page.locator(".hoverlayer .hovertext").filter(has_text=f"#{index} · Sneaker").wait_for()
    explorer.click(sx, sy)
    after = explorer.wait_decoded_change(before["src"])

    page.get_by_text(f"Clicked test image #{index}").wait_for()
    heading = page.get_by_test_id("stMarkdownContainer").filter(has_text=f"Clicked test image #{index}")
    assert heading.locator(".class-chip").inner_text() == "Sneaker"
    explorer.wait_images_loaded("Real image", f"Reconstruction of #{index}")
    real = explorer.image("Real image").locator("img")
    assert real.is_visible() and real.get_attribute("src") != real_before
    assert explorer.image(f"Reconstruction of #{index}").locator("img").is_visible()
    assert parse_z(after["caption"]) == pytest.approx([x, y], abs=0.006)  # decoded at its z_mean
    assert explorer.marker("current", near=(sx, sy)) == pytest.approx(
        [sx, sy], abs=2.0
    )  # the cross moved there
    explorer.screenshot()
    # The default bundle is open: its name in the bundle selector (or caption, if it is alone).
    shipped = page.get_by_text("fashion-mnist-2d", exact=True).count() > 0
    if os.environ.get("VAE_UPDATE_SCREENSHOT") == "1" and shipped:  # the README's picture
        explorer.screenshot(path=DOCS_SCREENSHOT)
    assert_no_errors(explorer)


def click_empty_spot_and_check(explorer) -> None:
    """Click an empty spot of the map: that exact spot is decoded and the cross moves there."""
    sx, sy = pick_empty_spot(explorer.map_points())
    at = explorer.to_data(sx, sy)
    before = explorer.decoded()

    explorer.click(sx, sy)
    after = explorer.wait_decoded_change(before["src"])

    tolerance = 0.005 + 1.5 * max(at["ux"], at["uy"])  # 2 decimals shown, sub-pixel click
    assert parse_z(after["caption"]) == pytest.approx([at["x"], at["y"]], abs=tolerance)
    assert explorer.marker("current", near=(sx, sy)) == pytest.approx([sx, sy], abs=2.0)


def test_clicking_empty_space_decodes_that_location(explorer):
    page = explorer.page
    click_empty_spot_and_check(explorer)
    # Not a test image any more: the panel asks for a click on a point instead.
    page.get_by_text("Click a point on the map to see its real image").wait_for()
    assert explorer.image("Real image").count() == 0
    explorer.screenshot()
    assert_no_errors(explorer)


def test_moving_a_slider_with_the_keyboard_changes_the_decoded_image(explorer):
    page = explorer.page
    slider = page.locator(SLIDER.format(0))
    first = explorer.decoded()
    start = float(slider.input_value())
    step = float(slider.get_attribute("step"))

    slider.focus()
    page.keyboard.press("ArrowRight")  # one step
    after = explorer.wait_decoded_change(first["src"])
    z = parse_z(after["caption"])
    assert z[0] == pytest.approx(start + step, abs=0.006)
    assert z[1] == pytest.approx(parse_z(first["caption"])[1], abs=1e-9)  # the other dimension stays

    page.keyboard.press("PageUp")  # a tenth of the range: a clearly different garment
    moved = explorer.wait_decoded_change(after["src"])
    z = parse_z(moved["caption"])
    assert z[0] > start + 5 * step
    assert page.locator(SLIDER_VALUE.format(0)).inner_text() == f"{z[0]:.2f}"
    difference = np.abs(explorer.image_pixels(moved["src"]) - explorer.image_pixels(first["src"])).mean()
    assert difference > 1.0, f"the decoded image barely changed (mean |diff| {difference:.2f} grey levels)"
    # The current point on the map follows the slider.
    target = explorer.to_screen(*z)
    assert explorer.marker("current", near=target) == pytest.approx(target, abs=2.0)
    explorer.screenshot()
    assert_no_errors(explorer)


def test_interpolation_shows_one_frame_per_step(explorer):
    page = explorer.page
    frames = page.get_by_test_id("stImage").filter(
        has=page.get_by_test_id("stImageCaption").get_by_text("0.00", exact=True)
    )
    frames.wait_for()
    assert frames.locator("img").count() == 10  # the default
    steps = page.locator(".st-key-ip_steps input[type=range]")
    steps.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=stImage]')].some((e) =>
             e.querySelectorAll('img').length === 7 && e.innerText.trim().startsWith('0.00'))"""
    )
    explorer.wait_idle()

    assert frames.locator("img").count() == 7
    captions = frames.get_by_test_id("stImageCaption").all_inner_texts()
    assert captions == [f"{t:.2f}" for t in np.linspace(0, 1, 7)]
    explorer.wait_images_loaded("0.00")  # every frame shows a picture
    page.get_by_text("7 frames from T-shirt/top centroid (left) to Ankle boot centroid (right)").wait_for()
    # The path is drawn on the map: A, B and the 5 steps between them.
    page.wait_for_function(
        """() => document.querySelectorAll('svg.vae-overlay g[data-layer="path"] circle').length === 7"""
    )
    frames.scroll_into_view_if_needed()
    explorer.screenshot()
    assert_no_errors(explorer)


def _garment_png() -> bytes:
    """A dark pair of trousers on white paper, 300 x 400 (the app inverts a light background)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (300, 400), 245)
    draw = ImageDraw.Draw(image)
    draw.rectangle((90, 40, 210, 110), fill=40)  # waistband and hips
    draw.polygon([(90, 100), (148, 100), (140, 370), (95, 370)], fill=40)  # left leg
    draw.polygon([(152, 100), (210, 100), (205, 370), (160, 370)], fill=40)  # right leg
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_uploading_an_image_shows_its_reconstruction(explorer):
    page = explorer.page
    explorer.upload("trousers.png", _garment_png())
    seen = explorer.image("As the model sees it (28 x 28)")
    recon = explorer.image("Reconstruction")
    recon.wait_for()
    explorer.wait_idle()

    explorer.wait_images_loaded("As the model sees it (28 x 28)", "Reconstruction")
    assert seen.locator("img").is_visible() and recon.locator("img").is_visible()
    # The model sees a light garment on black (the background was inverted), like its training data.
    pixels = explorer.image_pixels(seen.locator("img").get_attribute("src"))
    assert pixels[:5].mean() < 40 and pixels.max() > 150
    assert page.get_by_test_id("stMetricLabel").filter(has_text="-ELBO (nats)").is_visible()
    # Where it lands: a labelled marker with its uncertainty ellipse on the map.
    upload = page.locator('svg.vae-overlay g[data-layer="upload"]')
    upload.locator("text", has_text="trousers.png").wait_for(state="attached")
    assert upload.locator("polygon").count() == 1
    recon.scroll_into_view_if_needed()
    explorer.screenshot()
    page.locator(".st-key-latent_map_box").evaluate("(e) => e.scrollIntoView({block: 'center'})")
    explorer.screenshot(f"{explorer.name}-map")  # where the upload landed
    assert_no_errors(explorer)
