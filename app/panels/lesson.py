"""How a VAE works, in six steps a teacher can present: each a short paragraph beside the live
panel it talks about, sized for a 1280x720 screen. The step lives in the link (``?mode=learn&step=3``).

Every number on these steps comes from the loaded bundle at run time (``Explorer.inside``,
``Explorer.map_facts``); nothing is precomputed or copied into the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import session
from app.comparison import epochs_run, objective
from app.explorer import Explorer, Inside
from app.panels import inside as parts
from app.state import LESSON_STEPS
from app.style import class_chip
from app.text import literal
from vae_core.images import image_strip, upscale

TITLE_STYLE = "margin: 0 0 0.3rem 0; font-size: 1.45rem;"
SPOTS = 8  # places decoded on each map in the last step


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Markdown written here (never outside text); {placeholders} filled with live numbers


STEPS = (
    Step(
        "1 · The encoder: an image becomes mu and sigma",
        "The **encoder** is a neural network. It reads the 28 × 28 image (784 grey values) and answers "
        "with two short lists, one number per latent dimension (this model has {d}):\n\n"
        "- **mu**, the centre: where on the map it thinks the image belongs;\n"
        "- **sigma**, the spread: how unsure it is about that place.\n\n"
        "Together they describe a cloud of likely places, written **q(z|x)**: *the encoder's belief "
        "about the code z, given the image x*. The ellipse on the map holds the middle 86% of that "
        "cloud (2 sigma each way). Try another image: a typical one gets a small, confident cloud.",
    ),
    Step(
        "2 · Sampling: z = mu + sigma × epsilon",
        "The decoder needs one point, not a cloud, so the VAE draws one: it takes **epsilon**, random "
        "numbers from a standard normal N(0, 1) (mostly between −2 and 2), and computes "
        "**z = mu + sigma × epsilon**. Each red dot is one draw; the strip shows what the decoder makes "
        "of each. Why not draw z directly? With the randomness kept in epsilon, z is a plain formula "
        "of mu and sigma, so training can tell how the loss changes when the encoder moves them "
        "(the *reparameterisation trick*). Press **Resample epsilon**: mu and sigma stay, the dots move.",
    ),
    Step(
        "3 · The decoder and the loss: reconstruction + KL",
        "The **decoder** is the second network: it turns a point z back into an image, a probability "
        "of ink for each pixel. Training lowers the **−ELBO** (the negative *evidence lower bound*), "
        "in nats (units of surprise), averaged over all training images. It has two parts:\n\n"
        "- **reconstruction**: how surprised the decoder is by the real pixels, given z;\n"
        "- **KL**: how far the encoder's cloud is from the **prior** N(0, I), one round cloud at the "
        "centre of the map. Being very sure (small sigma) or far from the centre (large mu) costs nats.\n\n"
        "The first part wants precise, spread-out codes; the KL term pulls every cloud towards the "
        "centre and keeps it wide. The map is their compromise.",
    ),
    Step(
        "4 · Draw your own",
        "Draw a garment, light on dark, as in the training images. While you draw, the encoder runs in "
        "your browser: the ellipse (its belief about your drawing) moves on the map, and the image "
        "beside it is the decoder's picture of mu. When you lift the pen, the server scores the "
        "drawing below. A scribble unlike any garment lands somewhere odd, often with a wider cloud "
        "and a much higher −ELBO than the test images.",
    ),
    Step(
        "5 · Why the map looks like this",
        "Training never saw a label: the colours were added afterwards. Each dot is one test image's "
        "**mu**. Images that look alike get nearby codes, because nearby codes decode to similar "
        "pictures. **Overlaps**: T-shirts, shirts, pullovers and coats share an outline and differ in "
        "details two numbers cannot keep, so they land on top of each other ({purity}). "
        "**Gaps**: places where few images were encoded. The KL term keeps them small, but the "
        "decoder was rarely asked about them, so what it draws there is a blend.",
    ),
    Step(
        "6 · What the KL term buys",
        "The same network trained three ways. A plain **autoencoder** has no KL term and no sigma: "
        "codes may spread anywhere, in any shape, with holes between them. The "
        "**VAE**'s KL term packs the codes into one round cloud (the prior), so almost any point decodes "
        "to a garment and you can *sample* new images from N(0, I). A **β-VAE with β = 4** charges the "
        "KL four times: rounder, more crowded map, blurrier images. The dashed circle holds 86% of "
        "N(0, I): the VAEs fill it, the autoencoder's codes ignore it (so you cannot sample from it). "
        "Under each map, its decodes at the eight numbered places (the same places relative to each "
        "map): in the autoencoder's holes nothing was ever encoded, so its pictures there are guesses.",
    ),
)
assert len(STEPS) == LESSON_STEPS


def step() -> int:
    return int(st.session_state.get(session.STEP, 1))


def go_to(n: int) -> None:
    st.session_state[session.STEP] = max(1, min(LESSON_STEPS, n))


def restore(step_from_link: int | None) -> None:
    if step_from_link is not None:
        st.session_state[session.STEP] = step_from_link


def link_fields() -> dict:
    fields = {"step": step()}
    if st.session_state.get(session.LESSON_SOURCE) != "drawing":
        fields["index"] = st.session_state.get(session.LESSON_IMAGE)
    return fields


def nav_ui() -> None:
    """Back, the step numbers and Next, in one row."""
    n = step()
    c1, c2, c3 = st.columns([2, 4, 2], vertical_alignment="center")
    c1.button(
        "Back",
        icon=":material/arrow_back:",
        disabled=n == 1,
        on_click=go_to,
        args=(n - 1,),
        key="lesson_back",
    )
    with c2:
        picked = st.segmented_control(
            "Step",
            list(range(1, LESSON_STEPS + 1)),
            default=n,
            key=f"lesson_pick_{n}",  # a new widget per step, so Back/Next show the new step
            label_visibility="collapsed",
        )
        if picked is not None and picked != n:
            go_to(picked)
            st.rerun()
    c3.button(
        "Next",
        icon=":material/arrow_forward:",
        disabled=n == LESSON_STEPS,
        on_click=go_to,
        args=(n + 1,),
        key="lesson_next",
    )


# --- the image the lesson follows ------------------------------------------------------------------


def _another_image(n_images: int) -> None:
    current = int(st.session_state.get(session.LESSON_IMAGE, 0))
    st.session_state[session.LESSON_IMAGE] = (
        int(np.random.default_rng().integers(n_images - 1) + current + 1) % n_images
    )
    st.session_state[session.LESSON_SOURCE] = "test"


def _use(source: str) -> None:
    st.session_state[session.LESSON_SOURCE] = source


def lesson_input(explorer: Explorer) -> tuple[np.ndarray, str]:
    """The image steps 1 to 3 follow: a test image, or the last drawing; and a one-line picker."""
    st.session_state.setdefault(session.LESSON_IMAGE, explorer.uncertain_image())
    drawing = st.session_state.get(session.DRAWING)
    source = st.session_state.get(session.LESSON_SOURCE, "test")
    if source == "drawing" and drawing is None:
        source = "test"
    i = int(st.session_state[session.LESSON_IMAGE])
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="center")
    if source == "drawing":
        c1.markdown("Following **your drawing**")
        c3.button("Back to test images", key="lesson_use_test", on_click=_use, args=("test",))
    else:
        label = int(explorer.labels[i])
        c1.markdown(f"Following **test image #{i}** {class_chip(label)}", unsafe_allow_html=True)
        if drawing is not None:
            c3.button("Use my drawing", key="lesson_use_drawing", on_click=_use, args=("drawing",))
    c2.button(
        "Another image",
        key="lesson_another",
        icon=":material/shuffle:",
        on_click=_another_image,
        args=(explorer.n_images,),
    )
    if source == "drawing":
        return drawing, "Your drawing"
    return explorer.images[i] / 255.0, f"Test image #{i}"


# --- the steps -------------------------------------------------------------------------------------


def _text(explorer: Explorer, n: int) -> str:
    facts = explorer.map_facts if n == 5 else None
    purity = ""
    if facts is not None:
        name = explorer.class_names
        shirt, trouser = name.index("Shirt"), name.index("Trouser")
        purity = (
            f"of a shirt's 5 nearest neighbours on this map, {facts.purity[shirt]:.0%} are shirts; "
            f"of a trouser's, {facts.purity[trouser]:.0%} are trousers"
        )
    return STEPS[n - 1].text.format(d=explorer.d, purity=purity)


def _step_input(explorer: Explorer, inside_steps: Callable[[Inside, str], None]) -> None:
    pixels, title = lesson_input(explorer)
    inside_steps(explorer.inside(pixels, parts.SAMPLES, parts.seed_of("lesson")), title)


def step_encoder(explorer: Explorer) -> None:
    def show(inside: Inside, title: str) -> None:
        parts.encoder_ui(explorer, inside, title)
        parts.map_pair(explorer, inside, "lesson_map_1", height=250)

    _step_input(explorer, show)


def step_sampling(explorer: Explorer) -> None:
    def show(inside: Inside, title: str) -> None:
        c1, c2 = st.columns([2, 3])
        with c1:
            fig = parts.inside_map(explorer, inside, samples=True, height=270, zoom=True, legend=False)
            parts.show_map(fig, "lesson_map_2")
        with c2:
            parts.code_ui(parts.SAMPLING_CODE, "The model's own sampling layer (vae_core/model.py):", 230)
            parts.sampling_values_ui(inside)
        parts.sampling_ui(explorer, inside, "lesson")

    _step_input(explorer, show)


def step_loss(explorer: Explorer) -> None:
    def show(inside: Inside, title: str) -> None:
        c1, c2 = st.columns([2, 3])
        with c1:
            parts.loss_ui(explorer, inside)
        with c2:
            parts.code_ui(parts.LOSS_CODE, "The model's own loss terms (vae_core/model.py):", 330)
            parts.loss_values_ui(inside)

    _step_input(explorer, show)


def step_draw(explorer: Explorer) -> None:
    from app.draw import draw_pad

    drawing = draw_pad(explorer, key="lesson_draw")  # None while the pad is blank
    st.session_state[session.DRAWING] = drawing
    if drawing is None:
        st.caption("Draw on the pad; when you lift the pen, the server scores the drawing here.")
        return
    inside = explorer.inside(drawing, parts.SAMPLES, parts.seed_of("lesson"))
    st.markdown(
        f"Your drawing: mu {parts.numbers(inside.mu)}, sigma {parts.numbers(inside.sigma)}; "
        f"−ELBO = {inside.recon_nats:.1f} + {inside.kl_nats:.1f} = **{inside.neg_elbo:.1f} nats**, "
        f"higher than {inside.share_below:.0%} of test images."
    )
    st.button("Follow my drawing in steps 1 to 3", key="lesson_follow_drawing", on_click=_follow_drawing)


def _follow_drawing() -> None:
    st.session_state[session.LESSON_SOURCE] = "drawing"
    go_to(1)


def _marked_map(explorer: Explorer, height: int) -> go.Figure:
    """The map with the widest gap and the closest T-shirt/Shirt pair marked."""
    facts = explorer.map_facts
    fig = parts.inside_map(explorer, None, height=height)
    i, j = facts.pair
    fig.add_trace(
        go.Scatter(
            x=[facts.gap_xy[0]],
            y=[facts.gap_xy[1]],
            mode="markers+text",
            text=["gap"],
            textposition="top center",
            marker={"symbol": "circle-open", "size": 18, "color": "#111111", "line": {"width": 2}},
            name="the widest gap",
            hoverinfo="name",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=explorer.xy[[i, j], 0],
            y=explorer.xy[[i, j], 1],
            mode="markers+text",
            text=[f"#{i}", f"#{j}"],
            textposition=["middle left", "middle right"],
            marker={"symbol": "diamond-open", "size": 12, "color": "#111111", "line": {"width": 2}},
            name="a T-shirt and a shirt, encoded close",
            hoverinfo="name",
        )
    )
    fig.update_layout(showlegend=False)
    return fig


def step_map(explorer: Explorer, on_explore: Callable[[np.ndarray, int | None], None]) -> None:
    facts = explorer.map_facts
    c1, c2 = st.columns([3, 2])
    with c1:
        parts.show_map(_marked_map(explorer, 430), "lesson_map_5")
    with c2:
        st.markdown("**A gap** (the ring): the decoder's picture there")
        st.image(upscale(explorer.decode(facts.gap_z)[0], 84), output_format="PNG")
        st.button(
            "Decode the gap in the explorer",
            key="lesson_gap",
            on_click=on_explore,
            args=(facts.gap_z, None),
            icon=":material/open_in_new:",
        )
        i, j = facts.pair
        st.markdown(
            f"**An overlap** (the diamonds): two test images of different classes, "
            f"{facts.pair_distance:.3f} apart on the map"
        )
        a, b = st.columns(2)
        for col, k in ((a, i), (b, j)):
            col.image(upscale(explorer.images[k], 84), output_format="PNG")
            col.markdown(class_chip(int(explorer.labels[k])), unsafe_allow_html=True)
            col.button(
                f"Open #{k}",
                key=f"lesson_pair_{k}",
                on_click=on_explore,
                args=(explorer.test_point(k), k),
            )


def _family(names: list[str], current: str) -> list[str]:
    """The bundles of step 6: the current VAE, the autoencoder and the β = 4 model, when present."""
    wanted = [current, f"{current}-autoencoder", f"{current}-beta4"]
    return [n for n in wanted if n in names]


def _open_compare() -> None:
    st.session_state[session.MODE] = "compare"


def step_kl(explorer: Explorer, root: Path, names: list[str], load: Callable[[Path], Explorer]) -> None:
    family = _family(names, explorer.name)
    if len(family) < 2:
        st.info(
            "This step compares the model with an autoencoder and a β = 4 model of the same shape "
            f"(bundles named {literal(explorer.name + '-autoencoder')} and "
            f"{literal(explorer.name + '-beta4')}); they are not installed.",
            icon=":material/info:",
        )
        return
    # The same eight places on every map, as fractions of its width and height: each model is
    # asked about its own space, holes included.
    fractions = np.random.default_rng(0).uniform(0.1, 0.9, (SPOTS, 2))
    cols = st.columns(len(family))
    for col, name in zip(cols, family, strict=True):
        other = explorer if name == explorer.name else load(root / name)
        xy = other.spots(fractions)
        with col:
            st.markdown(f"**{objective(other.config)}**")
            fig = parts.inside_map(other, None, height=230, legend=False)
            fig.add_trace(prior_circle(other))
            fig.add_trace(
                go.Scatter(
                    x=xy[:, 0],
                    y=xy[:, 1],
                    mode="markers+text",
                    text=[str(k + 1) for k in range(SPOTS)],
                    textposition="top center",
                    textfont={"size": 10},
                    marker={"symbol": "x-thin", "size": 9, "color": "#111111", "line": {"width": 2}},
                    hoverinfo="skip",
                )
            )
            parts.show_map(fig, f"lesson_kl_{name}")
            st.image(image_strip(other.decode(other.from_map(xy)), scale=2, gap=2), output_format="PNG")
            m = other.metrics
            epochs = epochs_run(other.manifest)
            st.caption(
                f"−ELBO {m['test_neg_elbo_nats']:.1f} nats (recon {m['test_recon_bce_nats']:.1f} + KL "
                f"{m['test_kl_nats']:.1f}) · 5-NN {m['knn5_accuracy']:.2f}"
                + ("" if epochs is None else f" · {epochs} epochs")
            )
    st.button(
        "Compare any two models, with every metric",
        key="lesson_compare",
        icon=":material/compare:",
        on_click=_open_compare,
    )


def prior_circle(explorer: Explorer) -> go.Scatter:
    """The circle of radius 2 around the prior's centre on the map: 86% of N(0, I) in the map's plane."""
    centre = explorer.to_map(np.zeros(explorer.d))[0]
    angle = np.linspace(0, 2 * np.pi, 73)
    return go.Scatter(
        x=centre[0] + 2 * np.cos(angle),
        y=centre[1] + 2 * np.sin(angle),
        mode="lines",
        line={"color": "#111111", "width": 1.5, "dash": "dash"},
        hoverinfo="skip",
    )


def lesson_page(
    explorer: Explorer,
    root: Path,
    names: list[str],
    load: Callable[[Path], Explorer],
    on_explore: Callable[[np.ndarray, int | None], None],
) -> None:
    """The lesson: navigation, then the step's paragraph beside its live panel."""
    n = step()
    # The drawing pad, its map and its decode need one row of about 700 px.
    text_col, panel_col = st.columns([3, 7] if n == 4 else [2, 3], gap="medium")
    with text_col:
        st.markdown(f"<h3 style='{TITLE_STYLE}'>{STEPS[n - 1].title}</h3>", unsafe_allow_html=True)
        st.markdown(_text(explorer, n))
    with panel_col:
        if n == 1:
            step_encoder(explorer)
        elif n == 2:
            step_sampling(explorer)
        elif n == 3:
            step_loss(explorer)
        elif n == 4:
            step_draw(explorer)
        elif n == 5:
            step_map(explorer, on_explore)
        else:
            step_kl(explorer, root, names, load)
