"""Issue 12 in the real page: every panel agrees on the current point, and the page presents well.

Each test reproduces one thing a student, a lecturer at a projector or a phone user ran into.
Screenshots land in test-output/e2e/ (``present-*.png`` for the layouts).

    .venv/bin/pytest -q tests/e2e/test_present.py
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy as np
import pytest

from app.panels.views import VIEW_LABELS
from harness.browser import MAP, OVERLAY, SLIDER, new_context
from tests.e2e.conftest import TIMEOUT_MS, Explorer, numbered_images, parse_z
from tests.e2e.test_browser import assert_no_errors, click_empty_spot_and_check, pick_empty_spot, pick_point

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("chromium_path"),  # skips, or fails under CI, without Chromium: tests/needs.py
]

PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


def open_page(
    browser, url: str, name: str, viewport: dict | None = None, query: str = "", phone: bool = False
) -> Explorer:
    """A fresh session at ``viewport`` (a touch phone with ``phone``), loaded and idle."""
    if phone:
        context = browser.new_context(viewport=viewport, is_mobile=True, has_touch=True)
        context.set_default_timeout(TIMEOUT_MS)
        from harness.browser import PAGE_JS

        context.add_init_script(PAGE_JS)
    else:
        context = new_context(browser, TIMEOUT_MS, viewport=viewport)
    app = Explorer(context.new_page(), name)
    app.page.goto(url + query, timeout=TIMEOUT_MS)
    app.wait_ready()
    return app


def selected_index(explorer) -> int | None:
    """The test image the page says is selected ("... test image #N"), or None."""
    import re

    markdown = explorer.page.get_by_test_id("stMarkdownContainer")
    text = markdown.filter(has_text="test image #").all_inner_texts()
    found = [re.search(r"test image #(\d+)", t) for t in text]
    found = [int(m.group(1)) for m in found if m]
    return found[0] if found else None


def click_a_point(explorer, class_name: str = "Sneaker") -> int:
    """Click a clearly separate point of ``class_name``; wait for it to be decoded. Its test index."""
    points = explorer.map_points()
    i = pick_point(points, class_name)
    before = explorer.decoded()
    explorer.click(points["px"][i], points["py"][i])
    explorer.wait_decoded_change(before["src"])
    index = points["index"][i]
    explorer.page.get_by_text(f"test image #{index}").first.wait_for()
    return index


def open_map_display(page):
    page.get_by_role("button", name="Map display").click()
    return page.get_by_test_id("stPopoverBody")


def show_map(page) -> None:
    """Scroll the map back into view (a control below it scrolled the page)."""
    page.locator(".st-key-latent_map_box").evaluate("(e) => e.scrollIntoView({block: 'center'})")


def close_popover(explorer) -> None:
    explorer.page.keyboard.press("Escape")
    explorer.page.mouse.click(5, 5)
    explorer.wait_idle()


# -- 1. the map display options keep the overlay and the clicks ----------------------------------------


def test_map_display_change_keeps_the_cross_the_path_and_clicks(explorer):
    page = explorer.page
    page.wait_for_selector(f'{OVERLAY} g[data-layer="path"] circle', state="attached")
    body = open_map_display(page)
    body.get_by_text("Point size = encoder uncertainty").click()
    explorer.wait_idle()
    close_popover(explorer)
    # The rebuilt chart gets the cross and the A->B path back ...
    page.wait_for_selector(f'{OVERLAY} g[data-layer="current"] circle', state="attached", timeout=15_000)
    page.wait_for_selector(f'{OVERLAY} g[data-layer="path"] circle', state="attached", timeout=15_000)
    # ... and a click on empty space still decodes that spot.
    click_empty_spot_and_check(explorer)
    explorer.screenshot()
    assert_no_errors(explorer)


# -- 2. interpolation to "the current point" follows the point ----------------------------------------


def wait_path_end_at(explorer, x: float, y: float) -> None:
    """Wait until the path's "B" marker is drawn at screen position (x, y) (within 2 px)."""
    explorer.page.wait_for_function(
        """([x, y]) => { const t = [...document.querySelectorAll('svg.vae-overlay g[data-layer="path"] text')]
                       .find((e) => e.textContent === 'B');
                       if (!t) return false;
                       const svg = t.ownerSVGElement.getBoundingClientRect();
                       const bx = svg.left + Number(t.dataset.x), by = svg.top + Number(t.dataset.y);
                       return Math.hypot(bx - x, by - y) < 2; }""",
        arg=[x, y],
        timeout=15_000,
    )


def as_28(pixels: np.ndarray) -> np.ndarray:
    """A picture of a 28 x 28 image shown at a whole multiple of its size, back at 28 x 28."""
    h, w = pixels.shape
    return pixels[h // 56 :: h // 28, w // 56 :: w // 28][:28, :28]


def test_interpolation_to_the_current_point_follows_clicks_and_sliders(explorer):
    page = explorer.page
    page.locator(".st-key-ip_b_kind").get_by_text("The current point").click()
    explorer.wait_idle()
    page.get_by_text("to current point (right)").wait_for()
    show_map(page)
    sx, sy = pick_empty_spot(explorer.map_points())
    before = explorer.decoded()
    explorer.click(sx, sy)
    explorer.wait_decoded_change(before["src"])
    wait_path_end_at(explorer, sx, sy)  # the path ends at the new point
    # The strip's last frame is the decoded image at the current point.
    last = (
        page.get_by_test_id("stImage")
        .filter(has=page.get_by_test_id("stImageCaption").get_by_text("1.00", exact=True))
        .locator("img")
        .last
    )
    decoded = explorer.decoded()
    frame, image = (as_28(explorer.image_pixels(src)) for src in (last.get_attribute("src"), decoded["src"]))
    assert np.abs(frame - image).mean() < 2.0
    # A slider move is followed too.
    slider = page.locator(SLIDER.format(0))
    slider.focus()
    page.keyboard.press("PageUp")
    moved = explorer.wait_decoded_change(decoded["src"])
    wait_path_end_at(explorer, *explorer.to_screen(*parse_z(moved["caption"])))
    explorer.screenshot()
    assert_no_errors(explorer)


# -- 3. a double-click clears the box shading and keeps the point --------------------------------------


def box_shading(page) -> int:
    """How many box selections the map shows."""
    return page.evaluate(f"() => (document.querySelector('{MAP}').layout.selections || []).length")


def test_double_click_to_clear_the_box_keeps_the_point_and_the_clicked_image(explorer):
    page = explorer.page
    index = click_a_point(explorer)
    z_before = parse_z(explorer.decoded()["caption"])
    # Draw a box with the box-select tool: the grid view opens over it.
    page.locator(f"{MAP} .modebar-btn[data-val='select']").first.click()
    x0, y0, w, h = explorer.map_points()["box"]
    page.mouse.move(x0 + w * 0.6, y0 + h * 0.15)
    page.mouse.down()
    page.mouse.move(x0 + w * 0.75, y0 + h * 0.25, steps=8)
    page.mouse.move(x0 + w * 0.85, y0 + h * 0.35, steps=8)
    page.mouse.up()
    page.get_by_text("Double-click the map to clear its selection shading").wait_for()
    explorer.wait_idle()
    assert box_shading(page) > 0
    page.mouse.dblclick(x0 + w * 0.72, y0 + h * 0.3)
    page.wait_for_timeout(1500)
    explorer.wait_idle()
    page.wait_for_timeout(1000)
    explorer.wait_idle()
    assert box_shading(page) == 0  # the shading is gone
    assert parse_z(explorer.decoded()["caption"]) == pytest.approx(z_before, abs=1e-9)  # the point stayed
    assert selected_index(explorer) == index  # and so did the clicked image
    explorer.screenshot()
    assert_no_errors(explorer)


# -- 4. the selected test image survives a bundle switch -----------------------------------------------


def choose_bundle(explorer, name: str) -> None:
    page = explorer.page
    page.locator(".st-key-bundle").get_by_role("combobox").click()
    # "fashion-mnist-16d", or "Fashion-MNIST · fashion-mnist-16d" when bundles of several data sets ship
    page.get_by_role("option", name=re.compile(rf"(^|· ){re.escape(name)}$")).click()
    page.wait_for_function(f"() => document.querySelector('{MAP}') && vaePage.decodedSrc() !== ''")
    explorer.wait_ready()


def test_switching_bundles_keeps_the_selected_test_image(explorer):
    page = explorer.page
    if page.locator(".st-key-bundle").count() == 0:
        pytest.skip("needs two bundles (the shipped 2-D and 16-D)")
    index = click_a_point(explorer)
    assert index != 0
    choose_bundle(explorer, "fashion-mnist-16d")
    page.get_by_text(f"test image #{index}").first.wait_for()
    assert selected_index(explorer) == index
    choose_bundle(explorer, "fashion-mnist-2d")
    page.get_by_text(f"test image #{index}").first.wait_for()
    assert selected_index(explorer) == index
    assert "i=" + str(index) in page.url
    assert_no_errors(explorer)


# -- nothing from outside --------------------------------------------------------------------------------


def test_the_page_makes_no_request_to_another_host(browser, app_url):
    context = new_context(browser, TIMEOUT_MS)
    own = urlsplit(app_url).netloc
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    context.route(lambda url: urlsplit(url).netloc not in (own, "") and not url.startswith("data:"), refuse)
    page = context.new_page()
    app = Explorer(page, "no_outside_requests")
    try:
        page.goto(app_url, timeout=TIMEOUT_MS)
        app.wait_ready()
        page.wait_for_timeout(1500)  # late requests (icons, fonts)
        page.get_by_role("button", name="Map display").click()  # its icon
        app.wait_idle()
        assert outside == [], outside
    finally:
        context.close()


# -- presenting: the wheel, labels, sizes, layouts ----------------------------------------------------------


def scroll_top(page) -> float:
    """How far Streamlit's own scrolling container (the page) is scrolled."""
    return page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop")


def test_the_mouse_wheel_over_the_map_scrolls_the_page_and_does_not_zoom(explorer):
    page = explorer.page
    ranges = (
        f"() => {{ const a = document.querySelector('{MAP}')._fullLayout;"
        " return [a.xaxis.range, a.yaxis.range]; }"
    )
    before = page.evaluate(ranges)
    x0, y0, w, h = explorer.map_points()["box"]
    page.mouse.move(x0 + w / 2, y0 + h / 2)
    start = scroll_top(page)
    page.mouse.wheel(0, 300)
    page.wait_for_function(f"() => document.querySelector('[data-testid=stMain]').scrollTop > {start + 100}")
    assert page.evaluate(ranges) == before  # no zoom


def test_a_swipe_over_the_map_on_a_phone_scrolls_the_page_and_does_not_zoom(browser, app_url):
    app = open_page(browser, app_url, "phone_swipe", PHONE, phone=True)
    try:
        page = app.page
        ranges = (
            f"() => {{ const a = document.querySelector('{MAP}')._fullLayout;"
            " return [a.xaxis.range, a.yaxis.range]; }"
        )
        page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")
        before = page.evaluate(ranges)
        x0, y0, w, h = page.evaluate("() => vaePage.plotBox()")
        cdp = page.context.new_cdp_session(page)
        x, y = x0 + w / 2, y0 + h * 0.8  # a finger swiping up over the map's middle
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for i in range(1, 11):
            cdp.send(
                "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - 20 * i}]}
            )
            page.wait_for_timeout(16)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.wait_for_function("() => document.querySelector('[data-testid=stMain]').scrollTop > 50")
        assert page.evaluate(ranges) == before  # no zoom
    finally:
        page.context.close()


def test_the_b_label_is_drawn_above_every_path_dot(explorer):
    page = explorer.page
    page.wait_for_selector(f'{OVERLAY} g[data-layer="path"] text', state="attached")
    order = page.evaluate("""() => [...document.querySelectorAll('svg.vae-overlay g[data-layer=path]')]
                               .flatMap((g) => [...g.children])
                               .map((e) => e.tagName === 'text' ? e.textContent : e.tagName)""")
    last_dot = max(i for i, tag in enumerate(order) if tag == "circle")
    assert order.index("A") > last_dot and order.index("B") > last_dot, order


def frame_boxes(page) -> list[dict]:
    """Screen boxes of the interpolation strip's frames."""
    return page.evaluate("""() => [...document.querySelectorAll('.st-key-ip_strip [data-testid=stImage] img')]
                              .map((i) => { const r = i.getBoundingClientRect();
                                            return {x: r.left, y: r.top, w: r.width, h: r.height}; })""")


def test_the_interpolation_strip_shows_all_32_steps_in_rows_without_scrolling(browser, app_url):
    """Past what one row holds, frames wrap to further rows, in order: none hides behind a scroll
    (a keyboard could not reach it), and each stays big enough to see the garment."""
    app = open_page(browser, app_url, "strip_rows", query="?steps=32")
    try:
        app.wait_images_loaded("0.00")
        frames = frame_boxes(app.page)
        strip = app.page.locator(".st-key-ip_strip")
        box = strip.bounding_box()
        assert len(frames) == 32
        assert min(f["w"] for f in frames) >= 56
        assert all(box["x"] - 1 <= f["x"] and f["x"] + f["w"] <= box["x"] + box["width"] + 1 for f in frames)
        order = [(round(f["y"]), f["x"]) for f in frames]
        assert order == sorted(order) and len({y for y, _ in order}) > 1  # rows, read left to right
        assert strip.evaluate(
            "(e) => e.querySelector('[data-testid=stImage]').scrollWidth <= e.clientWidth + 1"
        )
        strip.scroll_into_view_if_needed()
        app.screenshot()
        assert_no_errors(app)
    finally:
        app.page.context.close()


def test_the_interpolation_strip_shows_every_frame_at_the_default_steps(browser, app_url):
    """Ten frames at 1280 px: the last one (the named end B) is inside the strip, not behind a scroll."""
    app = open_page(browser, app_url, "strip_ten", query="?view=interpolate")
    try:
        app.wait_images_loaded("0.00")
        frames = frame_boxes(app.page)
        strip = app.page.locator(".st-key-ip_strip").bounding_box()
        assert len(frames) == 10
        assert frames[-1]["x"] + frames[-1]["w"] <= strip["x"] + strip["width"] + 1, (frames[-1], strip)
        assert min(f["w"] for f in frames) >= 56
        assert_no_errors(app)
    finally:
        app.page.context.close()


def test_inside_the_vae_in_the_compact_layout_shows_every_part_whole(browser, app_url):
    """At a projector in the compact layout the view is a third of the screen: the samples are
    numbered images big enough to see, the mu/sigma table shows all its columns without a scroll,
    and the close-up's title is inside its map."""
    app = open_page(browser, app_url, "inside_compact", PROJECTOR, "?view=inside&i=0&layout=compact")
    try:
        page = app.page
        page.locator(".st-key-resample_eps").wait_for()
        app.wait_idle()
        page.wait_for_function("() => [...document.querySelectorAll('img')].every((i) => i.complete)")
        samples = numbered_images(page, 16)
        column = page.locator(".st-key-resample_eps").evaluate(
            "(e) => e.closest('[data-testid=stColumn]').getBoundingClientRect().right"
        )
        assert [s["name"] for s in samples] == [str(k) for k in range(1, 17)]
        assert min(s["w"] for s in samples) >= 40 and max(s["right"] for s in samples) <= column + 1
        table = page.get_by_test_id("stTable").first
        assert table.evaluate(
            "(e) => [...e.querySelectorAll('*')].every((c) => c.scrollWidth <= c.clientWidth + 1 "
            "|| getComputedStyle(c).overflowX === 'visible')"
        ), "the mu/sigma table scrolls sideways"
        zoom = page.locator(".st-key-inside_map_zoom .js-plotly-plot")
        title, plot = zoom.locator(".gtitle").bounding_box(), zoom.bounding_box()
        assert plot["x"] <= title["x"] and title["x"] + title["width"] <= plot["x"] + plot["width"]
        page.locator(".st-key-resample_eps").scroll_into_view_if_needed()
        app.screenshot()
        assert_no_errors(app)
    finally:
        page.context.close()


def test_the_prior_grid_keeps_its_size_as_n_grows(browser, app_url):
    widths = {}
    for n in (4, 12):
        app = open_page(browser, app_url, f"prior_grid_{n}", query=f"?view=prior&samples={n}")
        try:
            caption = f"{n * n} prior samples, seed 0"
            app.wait_images_loaded(caption)
            widths[n] = app.image(caption).locator("img").bounding_box()["width"]
        finally:
            app.page.context.close()
    assert widths[12] >= 400 and abs(widths[12] - widths[4]) <= 2, widths


def test_the_16d_page_has_the_view_right_under_the_map(browser, app_url):
    app = open_page(browser, app_url, "present-16d", query="?bundle=fashion-mnist-16d")
    try:
        page = app.page
        if page.get_by_text("This model has 16 latent dimensions").count() == 0:
            pytest.skip("no fashion-mnist-16d bundle here")
        map_bottom = page.locator(".st-key-latent_map_box").bounding_box()
        views = page.get_by_role("radio", name="Decoded grid").bounding_box()
        gap = views["y"] - (map_bottom["y"] + map_bottom["height"])
        assert 0 <= gap < 150, gap
        app.screenshot()
        assert_no_errors(app)
    finally:
        page.context.close()


def on_screen(box: dict | None, viewport: dict) -> bool:
    """The whole box is inside the viewport (no scrolling needed to see it)."""
    if not box:
        return False
    right, bottom = box["x"] + box["width"], box["y"] + box["height"]
    inside = box["x"] >= 0 and box["y"] >= 0
    return inside and right <= viewport["width"] + 1 and bottom <= viewport["height"] + 1


def test_a_projector_sees_map_decoded_image_and_view_result_at_once(browser, app_url):
    app = open_page(browser, app_url, "present-projector-1280x720", PROJECTOR, query="?layout=compact")
    try:
        page = app.page
        app.wait_images_loaded("0.00")
        x0, y0, w, h = page.evaluate("() => vaePage.plotBox()")
        assert on_screen({"x": x0, "y": y0, "width": w, "height": h}, PROJECTOR) and w >= 380 and h >= 380
        decoded = page.evaluate("() => vaePage.decodedImage().getBoundingClientRect().toJSON()")
        assert on_screen(decoded, PROJECTOR), decoded
        strip = page.locator(".st-key-ip_strip").bounding_box()
        assert on_screen(strip, PROJECTOR), strip
        app.screenshot()
        page.get_by_role("radio", name="Grid", exact=True).click()
        caption = page.get_by_text("15 x 15 decodes", exact=False)
        caption.wait_for()
        app.wait_idle()
        grid = page.get_by_test_id("stImage").filter(has_text="15 x 15 decodes").locator("img")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stImage]')].some((e) =>"
            " e.innerText.includes('15 x 15 decodes') && e.querySelector('img').complete)"
        )
        assert on_screen(grid.bounding_box(), PROJECTOR), grid.bounding_box()
        app.screenshot("present-projector-1280x720-grid")
        assert_no_errors(app)
    finally:
        page.context.close()


def test_a_phone_shows_the_map_first_and_the_decoded_image_under_it(browser, app_url):
    app = open_page(browser, app_url, "present-phone-390x844", PHONE, phone=True)
    try:
        page = app.page
        page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")
        x0, y0, w, h = page.evaluate("() => vaePage.plotBox()")
        # The whole map on the first screen (under the title and the page's parts), not a tall strip.
        assert y0 + h < PHONE["height"] - 100 and h <= 1.2 * w, (x0, y0, w, h)
        decoded = page.evaluate("() => vaePage.decodedImage().getBoundingClientRect().toJSON()")
        assert decoded["y"] - (y0 + h) < 250, decoded  # right under the map
        app.screenshot()
        views = page.locator(".st-key-view_box [data-testid=stButtonGroup]").first
        views.scroll_into_view_if_needed()
        buttons = [b.bounding_box() for b in views.get_by_role("radio").all()]
        assert len(buttons) == len(VIEW_LABELS)  # every view, in one row on the phone
        assert max(b["y"] for b in buttons) - min(b["y"] for b in buttons) < 1  # on one line
        assert on_screen(views.bounding_box(), PHONE)
        app.screenshot("present-phone-390x844-views")
        assert_no_errors(app)
    finally:
        page.context.close()


# Every chart that appears from now on, with the keyed containers it sits in (innermost first).
WATCH_NEW_CHARTS = """() => {
  const seen = new WeakSet(document.querySelectorAll('.js-plotly-plot'));
  window.vaeNewCharts = [];
  setInterval(() => {
    for (const chart of document.querySelectorAll('.js-plotly-plot')) {
      if (seen.has(chart)) continue;
      seen.add(chart);
      const keys = [];
      for (let e = chart; e; e = e.parentElement) {
        const key = [...e.classList].find((c) => c.startsWith('st-key-'));
        if (key) keys.push(key.slice('st-key-'.length));
      }
      window.vaeNewCharts.push(keys);
    }
  }, 10);
}"""


def test_back_to_explore_from_compare_keeps_the_explorers_map_and_draws_no_chart_again(browser, app_url):
    """Off Explore the explorer stays on the page, hidden: coming back from Compare shows the same map
    element where it was, and draws no chart at all (before: the explorer's map was drawn anew, and
    before that Compare's two maps too, greyed, under it)."""
    app = open_page(browser, app_url, "compare_and_back", PROJECTOR)
    try:
        page = app.page
        app.wait_ready()
        page.evaluate(f"() => {{ window.vaeFirstMap = document.querySelector('{MAP}'); }}")
        where = page.locator(MAP).bounding_box()
        page.get_by_role("radio", name="Compare", exact=True).click()
        page.locator(".st-key-cmp_map_right .js-plotly-plot").wait_for()
        app.wait_idle()
        assert not page.locator(MAP).is_visible()  # hidden, not gone
        assert page.evaluate(f"() => document.querySelector('{MAP}') === window.vaeFirstMap")
        page.evaluate(WATCH_NEW_CHARTS)
        page.get_by_role("radio", name="Explore", exact=True).click()
        app.wait_ready()
        page.wait_for_timeout(300)  # the watch polls every 10 ms
        assert page.evaluate("() => window.vaeNewCharts") == []
        assert page.evaluate(f"() => document.querySelector('{MAP}') === window.vaeFirstMap")
        assert page.locator(MAP).is_visible() and page.locator(MAP).bounding_box() == where
        assert not page.locator(".st-key-cmp_map_right").count()  # Compare is gone
    finally:
        page.context.close()


# The WebGL canvas's pixels per CSS pixel (of the map's points): what Plotly drew.
GL_RATIO = f"""() => {{
  const canvas = document.querySelector('{MAP} canvas.gl-canvas-context');
  return canvas && canvas.clientWidth ? canvas.width / canvas.clientWidth : null;
}}"""


@pytest.mark.parametrize("scale", [1, 2])
def test_the_maps_webgl_draws_as_many_pixels_as_the_screen_has(browser, app_url, scale):
    """Plotly draws WebGL at twice the screen's pixels unless told otherwise: four times the pixels a
    1x screen shows, for nothing (the 10,000-point map drew in 0.36 s where 0.22 s does).
    A 2x screen keeps its sharp dots."""
    context = new_context(browser, TIMEOUT_MS, viewport=PROJECTOR, device_scale_factor=scale)
    app = Explorer(context.new_page(), f"gl_ratio_{scale}")
    try:
        app.page.goto(app_url, timeout=TIMEOUT_MS)
        app.wait_ready()
        body = open_map_display(app.page)
        body.get_by_text("Point size = encoder uncertainty").click()  # the map is drawn again
        app.wait_idle()
        app.page.wait_for_function(f"() => ({GL_RATIO})() === {scale}", timeout=15_000)
        assert_no_errors(app)
    finally:
        context.close()
