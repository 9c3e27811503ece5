"""Draw your own (issue 13, item 2): the drawing pad in headless Chromium, over the shipped bundle.

What a student relies on: drawing with the mouse held down (or a finger) puts ink on the pad;
while the stroke is still under way the browser's encoder runs and the ellipse q(z|x) moves on
the pad's map (seen in the component's hook *and* in the painted map pixels), the decode of mu
follows; a fast stroke has no gaps; Clear empties the pad; when the stroke ends the server gets
the drawing (and its own Keras encoder agrees with the browser's). Without a browser encoder the
pad still draws and still sends the stroke, and says that live encoding is off.

The page is harness/draw_app.py (only the pad), served by a real ``streamlit run`` from a
temporary folder with the runtime and the bundle's models in its static/. Screenshots go to
test-output/e2e/ (draw-*.png).

    .venv/bin/python -m pytest -q tests/e2e/test_draw.py
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.panels.draw_pad import KEY
from harness.browser import IDLE, ServerError, new_context
from harness.draw_site import build_site, serve_site
from tests.e2e.conftest import OUTPUT, TIMEOUT_MS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.usefixtures("chromium_path"),  # skips, or fails under CI, without Chromium: tests/needs.py
]

WIDE_BUNDLE = "fashion-mnist-16d"  # shipped beside the default: the map is a projection of 16 dimensions
ROOT = f".st-key-{KEY}"
PAD = f"{ROOT} canvas.draw-pad"
MAP = f"{ROOT} canvas.draw-map"
DECODED = f"{ROOT} canvas.draw-decoded"
STATUS = f"{ROOT} .draw-status"
CLEAR = f"{ROOT} button.draw-clear"
BRUSH = f"{ROOT} .draw-brush input"
INK = (17, 17, 17)  # the ellipse's centre dot on the map (draw.js INK)

# What the hook shows (window.vaeTestHooks.draw; its "pad" is the component itself and stays in the page).
HOOK = """() => { const s = window.vaeTestHooks.draw; if (!s) return null;
  const { pad, ...rest } = s; return { ...rest, encodeMs: s.encodeMs.slice() }; }"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, artifacts_root, chromium_path):
    """The harness served from a folder whose static/ holds the runtime and the bundles' models."""
    from app.resources import DEFAULT_BUNDLE

    root = tmp_path_factory.mktemp("draw-site")
    urls = build_site(root, artifacts_root, (DEFAULT_BUNDLE, WIDE_BUNDLE))
    for bundle, published in urls.items():
        assert published.get("encoder") and published.get("decoder"), f"{bundle} has no browser models"
    try:
        with serve_site(root, artifacts_root, OUTPUT / "draw-server.log") as url:
            yield url
    except ServerError as e:
        pytest.fail(str(e))


def open_pad(browser, url: str, query: str = "", **options):
    context = new_context(browser, TIMEOUT_MS, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/{query}")
    page.wait_for_selector(PAD)
    page.locator(ROOT).scroll_into_view_if_needed()
    return context, page, errors


@pytest.fixture
def pad(browser, site):
    """A fresh session with the pad live: the encoder loaded and the blank pad encoded once."""
    context, page, errors = open_pad(browser, site)
    wait_live(page)
    yield page
    assert not errors, errors
    context.close()


def hook(page) -> dict:
    return page.evaluate(HOOK)


def wait_live(page) -> None:
    page.wait_for_function("() => window.vaeTestHooks?.draw?.live === 'on'")
    wait_encoded(page)


def wait_encoded(page) -> dict:
    """Until the newest drawing's encoding is shown (and its decode painted); the hook then."""
    page.wait_for_function(
        "() => { const s = window.vaeTestHooks.draw;"
        " return s.encoded === s.requests && s.encodes > 0 && s.decodes > 0; }"
    )
    page.wait_for_function("(n) => window.vaeTestHooks.draw.decodes >= n", arg=hook(page)["decodes"])
    return hook(page)


def canvas_pixels(page, selector: str) -> np.ndarray:
    """A canvas's pixels as the page shows them: (h, w, 4) uint8."""
    found = page.locator(selector).evaluate(
        "(c) => ({ w: c.width, h: c.height,"
        " data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) })"
    )
    return np.asarray(found["data"], dtype=np.uint8).reshape(found["h"], found["w"], 4)


def box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def server_text(page) -> str:
    return page.get_by_test_id("stText").first.inner_text()


def wait_server(page, prefix: str) -> str:
    """Until the harness shows a line starting with ``prefix``; that line."""
    line = page.get_by_test_id("stText").filter(has_text=prefix).first
    line.wait_for()
    return line.inner_text()


def at_pad(page, u: float, v: float) -> tuple[float, float]:
    """Screen position of a point of the pad, u and v in [0, 1] from its top left corner."""
    b = box(page, PAD)
    return b["x"] + u * b["width"], b["y"] + v * b["height"]


# A T-shirt-like path on the pad: across the shoulders, down the body, a second pass down.
PATH = [
    (0.25, 0.25),
    (0.75, 0.25),
    (0.65, 0.3),
    (0.65, 0.8),
    (0.35, 0.8),
    (0.35, 0.3),
    (0.5, 0.3),
    (0.5, 0.8),
]


def path_points(steps_per_leg: int) -> list[tuple[float, float]]:
    points = []
    for (u0, v0), (u1, v1) in zip(PATH, PATH[1:], strict=False):
        points += [
            (u0 + (u1 - u0) * k / steps_per_leg, v0 + (v1 - v0) * k / steps_per_leg)
            for k in range(1, steps_per_leg + 1)
        ]
    return points


def is_ink(rgba: np.ndarray) -> bool:
    return bool(np.abs(rgba[:3].astype(int) - np.array(INK)).max() <= 12)


def dark_near(map_rgba: np.ndarray, x_px: float, y_px: float, dpr: float) -> bool:
    """Whether the map shows the ellipse's dark centre dot at CSS position (x_px, y_px)."""
    x, y = round(x_px * dpr), round(y_px * dpr)
    patch = map_rgba[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 4)
    return sum(is_ink(p) for p in patch) >= 5


def test_drawing_with_the_mouse_moves_the_ellipse_while_the_stroke_is_under_way(pad):
    page = pad
    before = wait_encoded(page)
    decoded_before = canvas_pixels(page, DECODED)
    assert server_text(page) == "no stroke received yet"
    points = path_points(6)
    page.mouse.move(*at_pad(page, *PATH[0]))
    page.mouse.down()
    during = []
    for k, (u, v) in enumerate(points):
        page.mouse.move(*at_pad(page, u, v))
        page.wait_for_timeout(30)
        if k == len(points) // 2:
            OUTPUT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUTPUT / "draw-mid-stroke.png"))
        during.append(hook(page)["encodes"])
    # Encoded while the button is still down: many times, not once at the end.
    assert during[-1] - before["encodes"] >= 5, (
        f"only {during[-1] - before['encodes']} encodes during the stroke"
    )
    assert during[len(during) // 2] > before["encodes"], "nothing was encoded in the first half of the stroke"
    assert server_text(page) == "no stroke received yet"  # the server hears of it only at the end
    page.mouse.up()

    after = wait_encoded(page)
    moved = math.hypot(
        after["ellipse"]["px"] - before["ellipse"]["px"], after["ellipse"]["py"] - before["ellipse"]["py"]
    )
    assert moved > 10, f"the ellipse's centre moved only {moved:.1f} px"
    # The painted map agrees with the hook: the dark centre dot is where the hook says, and has left
    # where it was.
    map_rgba = canvas_pixels(page, MAP)
    assert dark_near(map_rgba, after["ellipse"]["px"], after["ellipse"]["py"], after["dpr"])
    assert not dark_near(map_rgba, before["ellipse"]["px"], before["ellipse"]["py"], after["dpr"])
    decoded_after = canvas_pixels(page, DECODED)
    assert np.abs(decoded_after[..., 0].astype(int) - decoded_before[..., 0]).mean() > 5, (
        "the decode of mu did not change"
    )

    # The server got the drawing: the same ink, and its own (Keras) encoder puts it where the browser did.
    pad_ink = canvas_pixels(page, PAD)[..., 0].astype(float).sum() / 255
    text = wait_server(page, "received stroke 1 with ink sum")
    ink = float(text.split("ink sum")[1].split()[0])
    assert ink > 20 and ink == pytest.approx(pad_ink, abs=1.0)
    assert wait_server(page, "callbacks") == f"callbacks 1, the last saw ink sum {ink:.2f}"
    server_mu = [float(v) for v in wait_server(page, "server mu =").split("server mu =")[1].split(",")]
    assert server_mu == pytest.approx(after["mu"], abs=0.02)
    # mu and sigma are written out beside the decode.
    numbers = page.locator(f"{ROOT} .draw-numbers tbody").inner_text()
    assert f"{after['mu'][0]:+.2f}" in numbers and f"{after['sigma'][1]:.3f}" in numbers


def draw_path(page, steps_per_leg: int) -> None:
    page.mouse.move(*at_pad(page, *PATH[0]))
    page.mouse.down()
    for u, v in path_points(steps_per_leg):
        page.mouse.move(*at_pad(page, u, v))
    page.mouse.up()


def assert_ellipse_is_the_projected_contour(page, q: dict) -> None:
    """The hook's ellipse (centre, semi-axes, angle) is vae_core.geometry.posterior_ellipse's polygon."""
    from vae_core import geometry

    proj = page.locator(ROOT).evaluate("() => window.vaeTestHooks.draw.pad.data.projection")
    projection = geometry.Projection(np.asarray(proj["mean"]), np.asarray(proj["components"]), np.zeros(2))
    polygon = geometry.posterior_ellipse(projection, q["mu"], q["logVar"])  # (49, 2) map units
    e = q["ellipse"]
    c, s = math.cos(e["angle"]), math.sin(e["angle"])
    dx, dy = polygon[:, 0] - e["cx"], polygon[:, 1] - e["cy"]
    radius = ((c * dx + s * dy) / e["rx"]) ** 2 + ((-s * dx + c * dy) / e["ry"]) ** 2  # 1 on the contour
    assert radius == pytest.approx(np.ones(len(polygon)), abs=1e-3)


def test_the_ellipse_is_the_projected_2_sigma_contour_of_q(pad):
    draw_path(pad, 3)
    assert_ellipse_is_the_projected_contour(pad, wait_encoded(pad))


def test_a_16_dimensional_model_projects_its_ellipse_onto_the_map(browser, site, artifacts_root):
    if not (artifacts_root / WIDE_BUNDLE).is_dir():
        pytest.skip(f"no {WIDE_BUNDLE} bundle in {artifacts_root}")
    context, page, errors = open_pad(browser, site, query=f"?bundle={WIDE_BUNDLE}")
    wait_live(page)
    before = wait_encoded(page)
    draw_path(page, 3)
    q = wait_encoded(page)
    assert len(q["mu"]) == len(q["sigma"]) == 16
    assert (q["ellipse"]["cx"], q["ellipse"]["cy"]) != pytest.approx(
        (before["ellipse"]["cx"], before["ellipse"]["cy"]), abs=1e-3
    )
    assert abs(math.sin(2 * q["ellipse"]["angle"])) > 1e-3  # a tilted ellipse: the angle's sign matters
    assert_ellipse_is_the_projected_contour(page, q)
    server_mu = [float(v) for v in wait_server(page, "server mu =").split("=")[1].split(",")]
    assert server_mu == pytest.approx(q["mu"], abs=0.02)
    assert "12 more dimensions" in page.locator(f"{ROOT} .draw-numbers tbody").inner_text()
    page.screenshot(path=str(OUTPUT / "draw-16d.png"))
    assert not errors, errors
    context.close()


def test_a_fast_stroke_leaves_no_gaps(pad):
    page = pad
    page.locator(BRUSH).fill("1")
    page.mouse.move(*at_pad(page, 0.1, 0.5))
    page.mouse.down()
    page.mouse.move(*at_pad(page, 0.9, 0.5))  # one jump across the pad: a single pointer event
    page.mouse.up()
    row = canvas_pixels(page, PAD)[14, :, 0]  # the pad's canvas is 28 x 28
    inked = np.flatnonzero(row > 128)
    assert len(inked) >= 20 and inked.max() - inked.min() + 1 == len(inked), f"gaps in the stroke: {row}"


# A pen stroke of 50 moves dispatched in one task of the page: all of them arrive before the
# first encode can finish, as when the pen outruns the encoder.
BURST_JS = """(pad) => {
  const r = pad.getBoundingClientRect();
  const event = (type, u, v) => new PointerEvent(type, {
    bubbles: true, cancelable: true, pointerId: 7, pointerType: "pen", isPrimary: true,
    button: type === "pointermove" ? -1 : 0, buttons: type === "pointerup" ? 0 : 1,
    clientX: r.left + u * r.width, clientY: r.top + v * r.height });
  pad.dispatchEvent(event("pointerdown", 0.2, 0.2));
  for (let k = 1; k <= 50; k++) pad.dispatchEvent(event("pointermove", 0.2 + 0.012 * k, 0.2 + 0.012 * k));
  pad.dispatchEvent(event("pointerup", 0.8, 0.8));
}"""


def test_a_pen_faster_than_the_encoder_never_queues_stale_drawings(pad):
    page = pad
    before = wait_encoded(page)
    page.locator(PAD).evaluate(BURST_JS)
    after = wait_encoded(page)
    assert after["requests"] - before["requests"] == 51  # the pen down and each of its 50 moves
    assert after["encodes"] - before["encodes"] <= 3, "stale drawings were encoded one after another"
    # The encoding shown is the finished drawing's: the server's Keras encoder agrees.
    wait_server(page, "received stroke 1 with ink sum")
    server_mu = [float(v) for v in wait_server(page, "server mu =").split("=")[1].split(",")]
    assert server_mu == pytest.approx(after["mu"], abs=0.02)


def test_clear_empties_the_pad_and_tells_the_server(pad):
    page = pad
    blank = wait_encoded(page)
    page.mouse.move(*at_pad(page, 0.3, 0.3))
    page.mouse.down()
    for u, v in path_points(2):
        page.mouse.move(*at_pad(page, u, v))
    page.mouse.up()
    wait_server(page, "received stroke 1 with ink sum")
    drawn = wait_encoded(page)
    assert canvas_pixels(page, PAD)[..., 0].max() == 255
    page.locator(CLEAR).click()
    assert canvas_pixels(page, PAD)[..., :3].max() == 0  # every pixel black again
    assert wait_server(page, "received stroke 2") == "received stroke 2 with ink sum 0.00"
    cleared = wait_encoded(page)
    assert drawn["mu"] != pytest.approx(blank["mu"], abs=1e-3)
    assert cleared["mu"] == pytest.approx(blank["mu"], abs=1e-4)  # the blank pad's encoding again
    page.wait_for_selector(IDLE, state="attached")  # the run that got stroke 2 has drawn all it draws
    assert page.get_by_text("server mu =").count() == 0  # a blank pad is no drawing to score


def test_a_pad_drawn_anew_shows_the_drawing_the_server_kept(pad):
    """As on a lesson's Back and Next: the pad leaves the page and comes back as a new component."""
    page = pad
    draw_path(page, 3)
    wait_server(page, "received stroke 1 with ink sum")
    drawn = canvas_pixels(page, PAD)
    mu = wait_encoded(page)["mu"]
    show = page.get_by_test_id("stCheckbox").filter(has_text="Show the pad")
    show.click()
    page.locator(PAD).wait_for(state="detached")
    show.click()
    page.locator(PAD).wait_for()
    page.wait_for_function(
        "(n) => window.vaeTestHooks.draw.encodes > 0 && window.vaeTestHooks.draw.requests > 0"
    )
    again = canvas_pixels(page, PAD)
    assert np.abs(again[..., 0].astype(int) - drawn[..., 0]).max() <= 1  # (kept to 3 decimals)
    assert wait_encoded(page)["mu"] == pytest.approx(mu, abs=1e-3)  # and its encoding is shown again


def test_a_finger_draws_on_the_pad_instead_of_scrolling(browser, site):
    """Real touch input (Chromium's touch emulation through the DevTools protocol): a pad without
    ``touch-action: none`` would pan the page and cancel the stroke after its first moves."""
    context, page, errors = open_pad(
        browser,
        site,
        has_touch=True,
        is_mobile=True,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
    )
    wait_live(page)
    before = wait_encoded(page)
    cdp = context.new_cdp_session(page)

    def touch(kind: str, u: float, v: float) -> None:
        x, y = at_pad(page, u, v)
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    scroll_before = page.evaluate(
        "() => [window.scrollY, document.querySelector('[data-testid=stMain]')?.scrollTop]"
    )
    touch("touchStart", *PATH[0])
    points = path_points(5)
    for u, v in points:
        touch("touchMove", u, v)
        page.wait_for_timeout(20)
    mid = hook(page)
    touch("touchEnd", *points[-1])
    assert mid["encodes"] - before["encodes"] >= 3, "the finger's stroke was not encoded while it moved"
    text = wait_server(page, "received stroke 1 with ink sum")
    assert float(text.split("ink sum")[1].split()[0]) > 20  # the whole path, not a cancelled start
    after = wait_encoded(page)
    assert (after["ellipse"]["cx"], after["ellipse"]["cy"]) != pytest.approx(
        (before["ellipse"]["cx"], before["ellipse"]["cy"]), abs=1e-3
    )
    assert (
        page.evaluate("() => [window.scrollY, document.querySelector('[data-testid=stMain]')?.scrollTop]")
        == scroll_before
    )
    page.screenshot(path=str(OUTPUT / "draw-phone.png"))
    assert not errors, errors
    context.close()


def test_without_a_browser_encoder_the_pad_still_draws_and_sends(browser, site):
    context, page, errors = open_pad(browser, site, query="?encoder=off")
    page.wait_for_function("() => window.vaeTestHooks?.draw?.live === 'off'")
    assert "Live encoding is off" in page.locator(STATUS).inner_text()
    page.mouse.move(*at_pad(page, 0.3, 0.3))
    page.mouse.down()
    for u, v in path_points(3):
        page.mouse.move(*at_pad(page, u, v))
    page.mouse.up()
    text = wait_server(page, "received stroke 1 with ink sum")
    assert float(text.split("ink sum")[1].split()[0]) > 20
    assert canvas_pixels(page, PAD)[..., 0].max() == 255
    assert hook(page)["encodes"] == 0 and hook(page)["ellipse"] is None
    assert not page.locator(MAP).is_visible()  # no map without an ellipse to put on it
    page.screenshot(path=str(OUTPUT / "draw-no-encoder.png"))
    wait_server(page, "server mu =")  # the server encodes it instead
    assert not errors, errors
    context.close()


def test_when_the_runtime_cannot_load_the_pad_says_so_and_still_sends(browser, site):
    context = new_context(browser, TIMEOUT_MS)
    context.route("**/*.onnx*", lambda route: route.abort())  # e.g. a proxy that blocks the model
    page = context.new_page()
    page.goto(site)
    page.wait_for_selector(PAD)
    page.wait_for_function("() => window.vaeTestHooks?.draw?.live === 'off'")
    assert "Live encoding is unavailable here" in page.locator(STATUS).inner_text()
    page.mouse.move(*at_pad(page, 0.4, 0.4))
    page.mouse.down()
    page.mouse.move(*at_pad(page, 0.6, 0.6), steps=5)
    page.mouse.up()
    wait_server(page, "received stroke 1 with ink sum")
    context.close()
