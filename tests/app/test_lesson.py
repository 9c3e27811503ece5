"""The lesson and the "Inside the VAE" view, driven as Streamlit runs them (AppTest)."""

from __future__ import annotations

import re

import pytest

from app.link import LESSON_STEPS
from app.panels.inside import code_box
from tests.app.test_app import no_errors


def title(at) -> str:
    found = [m.value for m in at.markdown if re.search(r"<h3[^>]*>\d · ", m.value)]
    assert len(found) == 1, found
    return re.sub(r"<[^>]+>", "", found[0])


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def sample_line(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("Sample 1: mu"))


def test_next_and_back_walk_the_steps_and_the_link_follows(app_at):
    at = app_at("family", {"mode": "learn"}).run()
    no_errors(at)
    seen = []
    for n in range(1, LESSON_STEPS + 1):
        if n == 4:  # the drawing pad is a browser component: tests/e2e/test_draw.py draws on it
            button(at, "Next").click().run()
            continue
        no_errors(at)
        seen.append(title(at))
        assert title(at).startswith(f"{n} · ")
        assert at.query_params["step"] == str(n)
        if n < LESSON_STEPS:
            button(at, "Next").click().run()
    assert button(at, "Next").disabled
    button(at, "Back").click().run()
    assert title(at).startswith(f"{LESSON_STEPS - 1} · ")
    assert len(set(seen)) == LESSON_STEPS - 1


def test_clicking_the_selected_part_again_keeps_it(app_at):
    at = app_at("family", {"mode": "learn", "step": "2"}).run()
    modes = at.segmented_control(key="mode")
    assert modes.value == "learn"
    modes.set_value(None).run()  # what a click on the selected "Learn" sends
    no_errors(at)
    assert at.segmented_control(key="mode").value == "learn" and title(at).startswith("2 · ")
    at.segmented_control(key="mode").set_value("compare").run()
    at.segmented_control(key="mode").set_value(None).run()
    assert at.segmented_control(key="mode").value == "compare" and at.query_params["mode"] == "compare"


def test_a_link_opens_its_step_and_a_bad_step_says_so(app_at):
    at = app_at("family", {"mode": "learn", "step": "3"}).run()
    no_errors(at)
    assert title(at).startswith("3 · ")
    at = app_at("family", {"mode": "learn", "step": "9"}).run()
    assert title(at).startswith("1 · ")
    assert any("step" in w.value and "9" in w.value for w in at.warning)


def test_resample_draws_new_epsilons_and_keeps_mu(app_at):
    at = app_at("family", {"mode": "learn", "step": "2"}).run()
    before = sample_line(at)
    button(at, "Resample epsilon").click().run()
    after = sample_line(at)
    no_errors(at)
    mu = re.compile(r"mu (\([^)]*\))")
    eps = re.compile(r"epsilon (\([^)]*\))")
    assert mu.search(before).group(1) == mu.search(after).group(1)
    assert eps.search(before).group(1) != eps.search(after).group(1)


def test_the_loss_step_writes_out_this_images_elbo(app_at):
    at = app_at("family", {"mode": "learn", "step": "3", "i": "4"}).run()
    no_errors(at)
    line = next(m.value for m in at.markdown if "−ELBO = reconstruction + KL =" in m.value)
    recon, kl, total = (float(v) for v in re.findall(r"(\d+\.\d)", line))
    assert recon + kl == pytest.approx(total, abs=0.11)
    code = [h.proto.body for h in at.get("html") if 'class="model-code"' in h.proto.body]
    assert any("def bernoulli_nll" in c and "def kl_standard_normal_terms" in c for c in code)


def test_the_kl_step_shows_the_autoencoder_and_the_beta_model_beside_the_vae(app_at):
    at = app_at("family", {"mode": "learn", "step": "6", "bundle": "tiny-2d"}).run()
    no_errors(at)
    headings = [m.value for m in at.markdown]
    for kind in ("**VAE", "**autoencoder**", "**β-VAE (β=4)**"):  # (tiny-2d has a neighbour term)
        assert any(h.startswith(kind) for h in headings), kind


def test_the_kl_step_explains_itself_without_the_other_bundles(app_at):
    at = app_at("one", {"mode": "learn", "step": "6"}).run()
    no_errors(at)
    assert any("autoencoder" in i.value for i in at.info)


def test_inside_the_vae_view_follows_the_clicked_test_image(app_at):
    at = app_at("family", {"view": "inside", "i": "5", "bundle": "tiny-2d"}).run()
    no_errors(at)
    assert any(m.value.startswith("##### −ELBO = reconstruction + KL") for m in at.markdown)
    assert any(img.captions[0] == "Test image #5" for img in at.image)


def test_an_encoded_image_can_be_followed_inside_the_vae(app_at):
    at = app_at("family", {"view": "encode", "bundle": "tiny-2d"}).run()
    at.radio(key="enc_source").set_value("test").run()
    at.number_input(key="enc_index").set_value(9).run()
    button(at, "Follow it inside the VAE").click().run()
    no_errors(at)
    assert any(img.captions[0] == "Test image #9" for img in at.image)
    assert any(m.value.startswith("##### −ELBO = reconstruction + KL") for m in at.markdown)


def test_the_compare_part_of_the_page_keeps_its_bundles_in_the_link(app_at):
    at = app_at("family", {"mode": "compare", "bundle": "tiny-2d", "vs": "tiny-2d-beta4", "i": "3"}).run()
    no_errors(at)
    assert at.selectbox(key="cmp_left").value == "tiny-2d"
    assert at.selectbox(key="cmp_right").value == "tiny-2d-beta4"
    assert len(at.get("plotly_chart")) == 2
    assert at.query_params["vs"] == "tiny-2d-beta4" and at.query_params["i"] == "3"
    assert len(at.query_params["cz"].split(",")) == 2
    at.selectbox(key="cmp_right").set_value("tiny-2d-autoencoder").run()
    assert at.query_params["vs"] == "tiny-2d-autoencoder"


def test_step_6_says_what_beta_buys_on_sprites_and_opens_the_pair_in_compare(roots, tmp_path, monkeypatch):
    import shutil

    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP
    from tests.conftest import make_bundle

    root = tmp_path / "artifacts"
    shutil.copytree(roots["family"], root)
    shapes = {"name": "sprites", "class_names": ["square", "ellipse", "heart"]}
    for name, beta, mig, recon in (("sprites-vae", 1.0, 0.2, 32.6), ("sprites-beta16", 16.0, 0.3, 81.9)):
        make_bundle(
            root / name,
            3,
            n=30,
            beta=beta,
            image_shape=(16, 16, 1),
            data=shapes,
            metrics={"mig": mig, "test_recon_bce_nats": recon},
            browser_models=True,
        )
    monkeypatch.setenv("VAE_ARTIFACTS", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"mode": "learn", "step": "6", "bundle": "tiny-2d"})
    at.run()
    assert not at.exception and not at.error
    (text,) = [m.value for m in at.markdown if "Does β buy disentanglement" in m.value]
    assert "**0.20**" in text and "β = 16 model **0.30**" in text and "32.6 against 81.9" in text
    at.button(key="lesson_sprites").click().run()
    assert not at.exception
    link = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert (link["mode"], link["bundle"], link["vs"]) == ("compare", "sprites-vae", "sprites-beta16")
    assert not at.warning  # nothing from the last bundle is blamed on the link


def test_step_2_shows_what_epsilon_does_when_sigma_is_too_small_to_see(monkeypatch):
    import numpy as np

    from app.panels.inside import widened

    assert widened(np.array([0.05, 0.05]), 1.0) == 10  # half the spread: 10x
    assert widened(np.array([0.001]), 1.0) == 30 and widened(np.array([0.4]), 1.0) == 3  # bounded
    assert widened(np.array([0.6]), 1.0) is None  # wide enough already
    # The shipped 2-D model is sure of its images (sigma ~0.05): the tiny untrained ones are not.
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    monkeypatch.setenv("VAE_ARTIFACTS", str(Path(__file__).resolve().parents[2] / "artifacts"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"mode": "learn", "step": "2", "bundle": "fashion-mnist-2d"})
    at.run()
    no_errors(at)

    def decodes():  # the samples' decodes, numbered 1 to 16 as the map's dots, and what they say
        (images,) = [i for i in at.image if list(i.captions) == [str(n) for n in range(1, 17)]]
        return str(images.value), [
            c.value for c in at.caption if "sigma" in c.value or "samples 1" in c.value
        ]

    strip, said = decodes()
    assert any("samples 1 to 16, numbered as the red dots" in c for c in said)
    switch = at.toggle(key="widen_sigma")
    assert switch.label.startswith("They look alike: widen sigma × ") and switch.value is False
    assert "sigma (0.0" in switch.help and "small beside how far" in switch.help
    switch.set_value(True).run()
    no_errors(at)
    wide, said = decodes()
    assert any("× sigma × epsilon" in c and "not the model" in c for c in said) and wide != strip


def test_the_models_code_is_shown_as_literal_text():
    box = code_box('if a < b and c > d: s = "<b>&amp;</b>"')
    assert box.startswith('<pre class="model-code"><code>') and "<b>" not in box
    assert "a &lt; b and c &gt; d" in box and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in box
