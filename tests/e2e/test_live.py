"""Gestures as a person makes them, decoded in the browser (issue 11): a slider dragged with the
mouse held down, the pointer swept over the map, the current point's marker dragged; and the
fallback to server decoding when the browser runtime cannot be loaded.

Each test counts what was *painted* (the live panel's canvas, the hover preview), not what was
sent. Screenshots go to test-output/e2e/.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from harness.browser import SLIDER, new_context
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS, Explorer, parse_z

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("chromium_path"),  # skips, or fails under CI, without Chromium: tests/needs.py
]


def link_z(page) -> list[float]:
    """The current point as the page's link carries it (the server's view of the point)."""
    return [float(v) for v in link_point(page).split(",")]


def wait_live(explorer: Explorer) -> None:
    """Until the panel says it decodes in the browser."""
    explorer.page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '1'")


def link_point(page) -> str:
    """The link's point as written in the URL (the server's view of the point)."""
    return parse_qs(urlparse(page.url).query)["z"][0]


def wait_link_point_changes(page, before: str) -> None:
    """Until the link's point differs from ``before`` (read before the gesture): the server has
    applied the gesture's commit."""
    page.wait_for_function("(z0) => new URL(location.href).searchParams.get('z') !== z0", arg=before)


def slider_thumb(page, i: int) -> tuple[float, float, float]:
    """Screen position of slider i's thumb, and the track's width in pixels."""
    slider = page.locator(SLIDER.format(i))
    box = slider.bounding_box()
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    fraction = (float(slider.input_value()) - low) / (high - low)
    return box["x"] + 8 + fraction * (box["width"] - 16), box["y"] + box["height"] / 2, box["width"]


def test_dragging_a_slider_decodes_before_the_release(explorer):
    """The image follows a held drag: before the button is released it shows the point the slider is
    at, decoded in the browser. (How many frames a second it paints is bench/browser.py's business.)"""
    page = explorer.page
    wait_live(explorer)
    explorer.wait_idle()
    x, y, width = slider_thumb(page, 0)
    link_before = link_point(page)
    server_before = link_z(page)
    first = explorer.decoded()["src"]
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 11):  # ten moves, the button held down
        page.mouse.move(x - k * width / 25, y)
        page.wait_for_timeout(60)
    held_at = float(page.locator(SLIDER.format(0)).input_value())
    page.wait_for_function(
        r"""(v) => { const d = vaePage.decoded(); if (!d) return false;
                     const z = d.caption.match(/\(([^,]+)/);
                     return z && Math.abs(Number(z[1]) - v) < 0.006; }""",
        arg=held_at,
    )
    during = explorer.decoded()
    assert during["src"] != first, "the image did not change while the slider was held"
    assert link_z(page) == server_before  # the server has not been told yet
    explorer.screenshot("live-slider-drag")
    page.mouse.up()
    # After the release the server learns the point: the link and the neighbours follow.
    z = parse_z(during["caption"])
    wait_link_point_changes(page, link_before)
    explorer.wait_idle()
    assert link_z(page)[0] == pytest.approx(z[0], abs=0.006)
    assert link_z(page)[1] == pytest.approx(server_before[1], abs=1e-4)
    assert page.get_by_text("Class shares among the").is_visible()
    assert not explorer.errors


def test_the_plotly_internals_the_map_relies_on_are_there(explorer):
    """app/frontend/plotly_map.js is the one place reading Plotly's undocumented internals: a Plotly
    upgrade that moves one fails here, by name, instead of leaving clicks and markers subtly wrong."""
    assert explorer.page.evaluate("() => vaePage.missingPlotlyInternals()") == []


def test_sweeping_the_pointer_over_the_map_previews_what_is_there(explorer):
    page = explorer.page
    wait_live(explorer)
    x0, y0, w, h = page.evaluate("() => vaePage.plotBox()")
    main_before = explorer.decoded()["src"]
    previews = set()
    for k in range(12):
        page.mouse.move(x0 + w * (0.2 + 0.05 * k), y0 + h * (0.3 + 0.03 * k))
        page.wait_for_timeout(60)
        preview = page.evaluate("() => vaePage.hoverPreview()")
        if preview["shown"]:
            previews.add(preview["src"])
    page.wait_for_function("() => vaePage.hoverPreview().shown")  # the pointer rests: its spot is shown
    previews.add(page.evaluate("() => vaePage.hoverPreview()")["src"])
    assert len(previews) >= 2, "the preview did not follow the pointer"  # (its rate: bench/browser.py)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "live-hover.png"))  # (explorer.screenshot moves the pointer away)
    assert explorer.decoded()["src"] == main_before  # hovering changes nothing else
    # Near the top right, where the toolbar is: the preview stays below it (issue 27)
    page.mouse.move(x0 + w * 0.8, y0 + 12)
    page.wait_for_timeout(300)
    page.wait_for_function("() => vaePage.hoverPreview().shown")
    toolbar = page.locator(".modebar").bounding_box()
    preview = page.locator("canvas.vae-hover-preview").bounding_box()
    apart = (
        preview["y"] >= toolbar["y"] + toolbar["height"] - 1
        or preview["x"] + preview["width"] <= toolbar["x"]
        or preview["x"] >= toolbar["x"] + toolbar["width"]
    )
    assert apart, (preview, toolbar)
    page.mouse.move(2, 2)  # off the map: the preview goes away
    page.wait_for_function("() => !vaePage.hoverPreview().shown")
    assert not explorer.errors


def test_dragging_the_marker_moves_the_point_all_the_way(explorer):
    page = explorer.page
    wait_live(explorer)
    explorer.wait_idle()
    start = explorer.marker("current")
    x0, y0, w, h = page.evaluate("() => vaePage.plotBox()")
    target = (x0 + w * 0.75, y0 + h * 0.25)
    painted_before = page.evaluate("() => vaePage.paints().painted")
    page.mouse.move(*start)
    page.mouse.down()
    for k in range(1, 16):
        page.mouse.move(
            start[0] + (target[0] - start[0]) * k / 15, start[1] + (target[1] - start[1]) * k / 15
        )
        page.wait_for_timeout(40)
    page.wait_for_function("(n) => vaePage.paints().painted > n", arg=painted_before)  # decoded, still held
    assert explorer.marker("current") == pytest.approx(list(target), abs=2.0)  # the marker came along
    page.mouse.up()
    at = explorer.to_data(*target)
    page.wait_for_function(
        "(x) => Math.abs(Number(new URL(location.href).searchParams.get('z').split(',')[0]) - x) < 0.01",
        arg=at["x"],
    )
    explorer.wait_idle()
    assert link_z(page) == pytest.approx([at["x"], at["y"]], abs=0.005 + 1.5 * max(at["ux"], at["uy"]))
    assert parse_z(explorer.decoded()["caption"]) == pytest.approx(
        [at["x"], at["y"]], abs=0.01 + 1.5 * at["ux"]
    )
    explorer.screenshot("live-marker-drag")
    assert not explorer.errors


def test_without_the_browser_runtime_the_app_decodes_on_the_server(browser, app_url):
    context = new_context(browser, TIMEOUT_MS)
    context.route("**/onnxruntime-web-*/**", lambda route: route.abort())  # the runtime cannot load
    page = context.new_page()
    app = Explorer(page, "live-fallback")
    try:
        page.goto(app_url)
        app.wait_ready()
        page.wait_for_function("() => vaePage.liveStatus() && vaePage.liveStatus().live === '0'")
        assert "decoded on the server" in page.evaluate("() => vaePage.liveStatus().text")
        # A slider still decodes, on release (a key press is a press and a release).
        before = app.decoded()
        page.locator(SLIDER.format(1)).focus()
        page.keyboard.press("PageUp")
        after = app.wait_decoded_change(before["src"])
        assert parse_z(after["caption"])[1] > parse_z(before["caption"])[1]
        # A click still decodes that spot.
        spots = page.evaluate("() => vaePage.emptySpots(20, 24)")
        assert spots, "no empty space on the map"
        app.click(*spots[len(spots) // 2])
        app.wait_decoded_change(after["src"])
        app.screenshot()
        assert not app.errors, app.errors
    finally:
        context.close()


def test_in_16d_dragging_the_marker_keeps_the_point_off_the_map_plane(browser, app_url):
    """With more than 2 dimensions, a marker drag moves the point within the map's (PCA) plane and
    keeps its other 14 components, as a click does."""
    import numpy as np

    from harness.browser import REPO
    from vae_core.geometry import fit_projection

    with np.load(REPO / "artifacts" / "fashion-mnist-16d" / "latents.npz") as latents:
        projection = fit_projection(latents["z_mean"])
    context = new_context(browser, TIMEOUT_MS)
    page = context.new_page()
    app = Explorer(page, "live-16d-marker-drag")
    try:
        page.goto(f"{app_url}/?bundle=fashion-mnist-16d&i=7")
        app.wait_ready()
        wait_live(app)
        link_before = link_point(page)
        before = np.asarray(link_z(page))
        start = app.marker("current")
        page.mouse.move(*start)
        page.mouse.down()
        for k in range(1, 11):
            page.mouse.move(start[0] + 12 * k, start[1] - 8 * k)
            page.wait_for_timeout(40)
        page.mouse.up()
        wait_link_point_changes(page, link_before)
        app.wait_idle()
        after = np.asarray(link_z(page))
        moved = after - before
        in_plane = moved @ projection.components.T @ projection.components
        assert np.linalg.norm(in_plane) > 0.1  # it moved on the map
        assert np.abs(moved - in_plane).max() < 0.002  # and nowhere else (the link rounds to 4 decimals)
        app.screenshot()
        assert not app.errors, app.errors
    finally:
        context.close()


def test_a_finger_drags_the_marker_on_a_phone(browser, app_url):
    """Touch devices: no hover, but a finger on the cross drags it (and not the page)."""
    phone = {"width": 390, "height": 844}
    context = new_context(browser, TIMEOUT_MS, viewport=phone, has_touch=True, is_mobile=True)
    page = context.new_page()
    app = Explorer(page, "live-finger-drag")
    try:
        page.goto(app_url)
        app.wait_ready()
        wait_live(app)
        page.locator(".st-key-latent_map_box").scroll_into_view_if_needed()
        start = app.marker("current")
        link_before = link_point(page)
        before = link_z(page)
        scroll_before = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollTop ?? 0")
        cdp = context.new_cdp_session(page)

        def touch(kind: str, x: float, y: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", *start)
        for k in range(1, 11):
            touch("touchMove", start[0] + 6 * k, start[1] - 5 * k)
            page.wait_for_timeout(40)
        touch("touchEnd", start[0] + 60, start[1] - 50)
        wait_link_point_changes(page, link_before)
        app.wait_idle()
        assert link_z(page) != before  # the point moved with the finger
        assert app.marker("current") == pytest.approx([start[0] + 60, start[1] - 50], abs=3.0)
        scroll_after = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollTop ?? 0")
        assert scroll_after == scroll_before  # and the page did not scroll under it
        assert not app.errors, app.errors
    finally:
        context.close()
