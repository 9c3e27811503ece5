"""How a VAE works, in six steps a teacher can present: each a short paragraph beside the live
panel it talks about, sized for a 1280x720 screen. The step lives in the link (``?mode=learn&step=3``).

Every number on these steps comes from the loaded bundle at run time (``Explorer.trip``,
``Explorer.map_facts``); nothing is precomputed or copied into the text. The step, the image the
lesson follows and the drawing's use live in the view (``app.view``): buttons record events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import alt, session
from app.comparison import epochs_run, objective, read_manifests
from app.explorer import Explorer
from app.link import LESSON_STEPS
from app.panels import inside as parts
from app.panels.draw_pad import draw_pad
from app.style import class_chip
from app.text import escape_markdown, literal
from app.view import Chosen, Set, View
from vae_core.images import upscale

TITLE_STYLE = "margin: 0 0 0.3rem 0; font-size: 1.45rem;"
SPOTS = 8  # places decoded on each map in the last step
SPOT_PX = 46  # each of their decodes


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Markdown written here (never outside text); {placeholders} filled with live numbers


STEPS = (
    Step(
        "1 · The encoder: an image becomes mu and sigma",
        "The **encoder** is a neural network. It reads the {h} × {w} image ({values} values) and answers "
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
        "centre and keeps it wide. The map is their compromise.\n\n"
        "The *evidence* is how likely the model finds an image (log p(x)); the ELBO is a lower "
        "*bound* on it, so the −ELBO is at least the real surprise. **Why the decodes look blurry**: "
        "the picture is the decoder's *mean*, each pixel's probability of ink, which is the average "
        "of all the images that could have this code. Where the code cannot tell two details apart, "
        "the average is a soft grey between them. Drawing each pixel as ink or not at its probability "
        "gives a sharp but speckled *sample* (right).",
    ),
    Step(
        "4 · Draw your own",
        "Draw something like the {data} images, light on dark as they are. While you draw, the encoder "
        "runs in your browser: the ellipse (its belief about your drawing) moves on the map, and the image "
        "beside it is the decoder's picture of mu. When you lift the pen, the server scores the "
        "drawing below. A scribble unlike any of them lands somewhere odd, often with a wider cloud "
        "and a much higher −ELBO than the test images.",
    ),
    Step(
        "5 · Why the map looks like this",
        "Training never saw a label: the colours were added afterwards. Each dot is one test image's "
        "**mu**. Images that look alike get nearby codes, because nearby codes decode to similar "
        "pictures. **Overlaps**: classes that look alike, like {a} and {b} here, differ in details "
        "{d} numbers cannot keep, so they land on top of each other ({purity}). "
        "**Gaps**: places where few images were encoded. The KL term keeps them small, but the "
        "decoder was rarely asked about them, so what it draws there is a blend.",
    ),
    Step(
        "6 · What the KL term buys",
        "The same network trained three ways. A plain **autoencoder** has no KL term and no sigma: "
        "codes may spread anywhere, in any shape, with holes between them. The "
        "**VAE**'s KL term packs the codes into one round cloud (the prior), so almost any point decodes "
        "to something like the data and you can *sample* new images from N(0, I). A **β-VAE with "
        "β = 4** charges the KL four times: rounder, more crowded map, blurrier images; as β goes "
        "to 0 the price of the KL vanishes and the VAE becomes the autoencoder. (The autoencoder's "
        "KL in its model card is measured afterwards, reading its codes as very sure clouds: it was "
        "never trained with one.) The dashed "
        "circle holds 86% of N(0, I): the VAEs fill it, the autoencoder's codes ignore it (so you "
        "cannot sample from it). "
        "Under each map, its decodes at the eight numbered places (the same places relative to each "
        "map): in the autoencoder's holes nothing was ever encoded, so its pictures there are guesses.",
    ),
)
assert len(STEPS) == LESSON_STEPS


def nav_ui(view: View) -> None:
    """Back, the step numbers and Next, in one row."""
    n = view.step
    c1, c2, c3 = st.columns([2, 4, 2], vertical_alignment="center")
    c1.button(
        "Back",
        icon=":material/arrow_back:",
        disabled=n == 1,
        key="lesson_back",
        **session.on_click(Set("step", n - 1)),
    )
    with c2:
        st.segmented_control(
            "Step",
            list(range(1, LESSON_STEPS + 1)),
            label_visibility="collapsed",
            **session.bind("step", "lesson_step"),
        )
    c3.button(
        "Next",
        icon=":material/arrow_forward:",
        disabled=n == LESSON_STEPS,
        key="lesson_next",
        **session.on_click(Set("step", n + 1)),
    )


# --- the image the lesson follows ------------------------------------------------------------------


def _another_image(current: int, n_images: int) -> None:
    other = int(np.random.default_rng().integers(n_images - 1) + current + 1) % n_images
    session.record(Set("lesson_image", other), Set("lesson_source", "test"))


def lesson_input(explorer: Explorer, view: View) -> tuple[np.ndarray, str]:
    """The image steps 1 to 3 follow: a test image, or the last drawing; and a one-line picker."""
    n_images = len(explorer.bundle.labels)
    i = view.lesson_image if view.lesson_image is not None and view.lesson_image < n_images else None
    if i is None:  # the lesson's own choice, kept in the view (and the link)
        i = explorer.uncertain_image()
        session.apply(Set("lesson_image", i))
    drawing = st.session_state.get(session.DRAWING)
    source = "drawing" if view.lesson_source == "drawing" and drawing is not None else "test"
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="center")
    if source == "drawing":
        c1.markdown("Following **your drawing**")
        c3.button(
            "Back to test images", key="lesson_use_test", **session.on_click(Set("lesson_source", "test"))
        )
    else:
        chip = (
            class_chip(int(explorer.bundle.labels[i]), explorer.class_names)
            if explorer.bundle.data.labelled
            else ""
        )
        c1.markdown(f"Following **test image #{i}** {chip}", unsafe_allow_html=True)
        if drawing is not None:
            c3.button(
                "Use my drawing",
                key="lesson_use_drawing",
                **session.on_click(Set("lesson_source", "drawing")),
            )
    c2.button(
        "Another image",
        key="lesson_another",
        icon=":material/shuffle:",
        on_click=_another_image,
        args=(i, n_images),
    )
    if source == "drawing":
        return drawing, "Your drawing"
    return explorer.images[i] / 255.0, f"Test image #{i}"


# --- the steps -------------------------------------------------------------------------------------


def _text(explorer: Explorer, n: int) -> str:
    """The step's paragraph, with this bundle's own numbers and words."""
    data = explorer.bundle.data
    names = [
        escape_markdown(name, 60) for name in explorer.class_names
    ]  # from the manifest: shown as written
    h, w, c = data.image_shape
    fields = {"d": explorer.bundle.latent_dim, "h": h, "w": w, "values": f"{h * w * c:,}"}
    fields["data"] = escape_markdown(data.name, 60)
    fields.update(a="two classes", b="another", purity="")
    if n == 5 and data.labelled and len(names) > 1:
        facts = explorer.map_facts
        a, b = facts.classes
        worst, best = int(np.nanargmin(facts.purity)), int(np.nanargmax(facts.purity))
        fields.update(
            a=f"“{names[a]}”",
            b=f"“{names[b]}”",
            purity=f"of the 5 nearest neighbours of a “{names[worst]}” image on this map, "
            f"{facts.purity[worst]:.0%} are of its class; of a “{names[best]}” image's, "
            f"{facts.purity[best]:.0%}",
        )
    text = STEPS[n - 1].text.format(**fields)
    return text.replace(" ({purity})", "") if not fields["purity"] else text


def _step_input(explorer: Explorer, view: View, show_steps: Callable[[parts.Shown, str], None]) -> None:
    pixels, title = lesson_input(explorer, view)
    show_steps(parts.show(explorer, pixels, view.eps_seed), title)


def step_encoder(explorer: Explorer, view: View) -> None:
    def show(shown: parts.Shown, title: str) -> None:
        parts.encoder_ui(explorer, shown, title)
        parts.map_pair(explorer, shown, "lesson_map_1", height=250)

    _step_input(explorer, view, show)


def step_sampling(explorer: Explorer, view: View) -> None:
    def show(shown: parts.Shown, title: str) -> None:
        c1, c2 = st.columns([2, 3])
        with c1:
            fig = parts.inside_map(explorer, shown, samples=True, height=270, zoom=True, legend=False)
            parts.show_map(fig, "lesson_map_2")
        with c2:
            parts.code_ui(parts.SAMPLING_CODE, "The model's own sampling layer (vae_core/model.py):")
            parts.sampling_values_ui(shown)
        parts.sampling_ui(explorer, shown, view.eps_seed, view.widen, image_px=40)  # one row of 16

    _step_input(explorer, view, show)


def step_loss(explorer: Explorer, view: View) -> None:
    def show(shown: parts.Shown, title: str) -> None:
        c1, c2 = st.columns([2, 3])
        with c1:
            parts.loss_ui(explorer, shown)
        with c2:
            parts.code_ui(parts.LOSS_CODE, "The model's own loss terms (vae_core/model.py)", folded=True)
            parts.loss_values_ui(shown)

    _step_input(explorer, view, show)


def step_draw(explorer: Explorer, view: View) -> None:
    if explorer.bundle.data.image_shape[2] != 1:
        st.info(
            "The drawing pad draws in grey; this bundle's images are in colour, so there is nothing to draw "
            "here. Encode a picture under Explore → Encode an image instead.",
            icon=":material/palette:",
        )
        return
    drawing = draw_pad(explorer, key="lesson_draw")  # None while the pad is blank
    st.session_state[session.DRAWING] = drawing
    if drawing is None:
        st.caption("Draw on the pad; when you lift the pen, the server scores the drawing here.")
        return
    shown = parts.show(explorer, drawing, view.eps_seed)
    st.markdown(
        f"Your drawing: mu {parts.numbers(shown.trip.mu)}, sigma {parts.numbers(shown.trip.sigma)}; "
        f"−ELBO = {shown.trip.recon_nats:.1f} + {shown.trip.kl_nats:.1f} = "
        f"**{shown.trip.neg_elbo:.1f} nats**, "
        f"higher than {shown.share_below:.0%} of test images."
    )
    st.button(
        "Follow my drawing in steps 1 to 3",
        key="lesson_follow_drawing",
        **session.on_click(Set("lesson_source", "drawing"), Set("step", 1)),
    )


def _marked_map(explorer: Explorer, height: int) -> go.Figure:
    """The map with the widest gap and the closest pair of the two most confused classes marked."""
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
    xy = explorer.map.xy
    fig.add_trace(
        go.Scatter(
            x=xy[[i, j], 0],
            y=xy[[i, j], 1],
            mode="markers+text",
            text=[f"#{i}", f"#{j}"],
            # each label on its own outer side, so that two close diamonds never stack their labels
            textposition=["middle left", "middle right"]
            if xy[i, 0] <= xy[j, 0]
            else ["middle right", "middle left"],
            marker={"symbol": "diamond-open", "size": 12, "color": "#111111", "line": {"width": 2}},
            name="two images of different classes, encoded close",
            hoverinfo="name",
        )
    )
    fig.update_layout(showlegend=False)
    return fig


def step_map(explorer: Explorer) -> None:
    facts = explorer.map_facts
    c1, c2 = st.columns([3, 2])
    with c1:
        parts.show_map(_marked_map(explorer, 430), "lesson_map_5")
    with c2:
        st.markdown("**A gap** (the ring): the decoder's picture there")
        st.image(
            upscale(explorer.decode(facts.gap_z)[0], 84),
            output_format="PNG",
            alt=alt.decode_alt(explorer, facts.gap_z, "The decode in the gap"),
        )
        st.button(
            "Decode the gap in the explorer",
            key="lesson_gap",
            icon=":material/open_in_new:",
            **session.on_click(Chosen(tuple(map(float, facts.gap_z)), None, explore=True)),
        )
        if not explorer.bundle.data.labelled:
            return
        i, j = facts.pair
        st.markdown(
            f"**An overlap** (the diamonds): two test images of different classes, "
            f"{facts.pair_distance:.3f} apart on the map"
        )
        a, b = st.columns(2)
        for col, k in ((a, i), (b, j)):
            col.image(
                upscale(explorer.images[k], 84), output_format="PNG", alt=alt.test_image_alt(explorer, k)
            )
            col.markdown(
                class_chip(int(explorer.bundle.labels[k]), explorer.class_names), unsafe_allow_html=True
            )
            col.button(
                f"Open #{k}",
                key=f"lesson_pair_{k}",
                **session.on_click(Chosen(tuple(map(float, explorer.test_point(k))), k, explore=True)),
            )


def _family(names: list[str], current: str) -> list[str]:
    """The bundles of step 6: the current VAE, the autoencoder and the β = 4 model, when present."""
    wanted = [current, f"{current}-autoencoder", f"{current}-beta4"]
    return [n for n in wanted if n in names]


SPRITES_PAIR = ("sprites-vae", "sprites-beta16")  # the shipped bundles on make-sprites' data set


def sprites_paragraph(root: Path, names: list[str]) -> str | None:
    """What β buys where the factors are known, in the shipped sprites bundles' own numbers (None
    when they are not both installed and readable)."""
    if not all(n in names for n in SPRITES_PAIR):
        return None
    entries = read_manifests(root, list(SPRITES_PAIR))
    if not all(isinstance(m, dict) and m["metrics"].get("mig") is not None for _, m in entries):
        return None
    (vae, beta) = (m for _, m in entries)
    mv, mb = vae["metrics"], beta["metrics"]
    b = float(beta["config"].get("beta", 1.0))
    return (
        "**Does β buy disentanglement?** On clothes nobody knows the true factors, so it cannot be "
        "measured. On *sprites* it can: each image is a shape drawn from five known factors (shape, "
        "scale, rotation, x and y). The mutual information gap (MIG) says how cleanly each factor "
        f"sits in a latent dimension of its own (1 = perfectly): the VAE scores **{mv['mig']:.2f}**, the "
        f"β = {b:g} model **{mb['mig']:.2f}**, and pays for it in reconstruction: "
        f"{mv['test_recon_bce_nats']:.1f} against {mb['test_recon_bce_nats']:.1f} nats per image. "
        "Colour their maps by a factor (Map display) or compare them side by side:"
    )


def sprites_ui(root: Path, names: list[str], folded: bool = False) -> None:
    """The sprites paragraph and the button that opens the pair in Compare (when installed), in a
    closed expander when ``folded``."""
    sprites = sprites_paragraph(root, names)
    if not sprites:
        return
    box = st.expander("Does β buy disentanglement? Measured on sprites") if folded else st.container()
    with box:
        st.markdown(sprites)
        st.button(
            "Compare the sprites VAE with its β twin",
            key="lesson_sprites",
            icon=":material/category:",
            **session.on_click(
                Set("bundle", SPRITES_PAIR[0]), Set("vs", SPRITES_PAIR[1]), Set("mode", "compare")
            ),
        )


def step_kl(explorer: Explorer, root: Path, names: list[str], load: Callable[[Path], Explorer]) -> None:
    name = explorer.bundle.name
    family = _family(names, name)
    if len(family) < 2:
        st.info(
            "This step compares the model with an autoencoder and a β = 4 model of the same shape "
            f"(bundles named {literal(name + '-autoencoder')} and "
            f"{literal(name + '-beta4')}); they are not installed.",
            icon=":material/info:",
        )
        sprites_ui(root, names)
        return
    # The same eight places on every map, as fractions of its width and height: each model is
    # asked about its own space, holes included.
    fractions = np.random.default_rng(0).uniform(0.1, 0.9, (SPOTS, 2))
    cols = st.columns(len(family))
    for col, member in zip(cols, family, strict=True):
        other = explorer if member == name else load(root / member)
        xy = other.map.spots(fractions)
        with col:
            st.markdown(f"**{objective(other.bundle.config)}**")
            fig = parts.inside_map(other, None, height=205, legend=False)
            fig.add_trace(prior_circle(other))
            fig.add_trace(
                go.Scatter(
                    x=xy[:, 0],
                    y=xy[:, 1],
                    mode="markers+text",
                    text=[str(k + 1) for k in range(SPOTS)],
                    textposition="top center",
                    textfont={"size": 12, "color": "#111111"},
                    marker={"symbol": "x-thin", "size": 9, "color": "#111111", "line": {"width": 2}},
                    hoverinfo="skip",
                )
            )
            parts.show_map(fig, f"lesson_kl_{member}")
            spots = other.map.from_map(xy)
            st.image(  # numbered as the crosses; four to a row in a column a third of the panel
                [upscale(d, 56) for d in other.decode(spots)],
                caption=[str(k + 1) for k in range(SPOTS)],
                width=SPOT_PX,
                output_format="PNG",
                alt=[
                    alt.decode_alt(other, z, f"The {member} model's decode at cross {k + 1}")
                    for k, z in enumerate(spots)
                ],
            )
            m = other.bundle.metrics
            epochs = epochs_run(other.bundle.manifest)
            st.caption(
                f"−ELBO {m['test_neg_elbo_nats']:.1f} nats (recon {m['test_recon_bce_nats']:.1f} + KL "
                f"{m['test_kl_nats']:.1f}) · 5-NN {m['knn5_accuracy']:.2f}"
                + ("" if epochs is None else f" · {epochs} epochs")
            )
    st.button(
        "Compare any two models, with every metric",
        key="lesson_compare",
        icon=":material/compare:",
        **session.on_click(Set("mode", "compare")),
    )
    sprites_ui(root, names, folded=True)  # the step's own three models come first


def prior_circle(explorer: Explorer) -> go.Scatter:
    """The circle of radius 2 around the prior's centre on the map: 86% of N(0, I) in the map's plane."""
    centre = explorer.map.to_map(np.zeros(explorer.bundle.latent_dim))[0]
    angle = np.linspace(0, 2 * np.pi, 73)
    return go.Scatter(
        x=centre[0] + 2 * np.cos(angle),
        y=centre[1] + 2 * np.sin(angle),
        mode="lines",
        line={"color": "#111111", "width": 1.5, "dash": "dash"},
        hoverinfo="skip",
    )


def lesson_page(
    explorer: Explorer, view: View, root: Path, names: list[str], load: Callable[[Path], Explorer]
) -> None:
    """The lesson: the step's paragraph beside its live panel."""
    n = view.step
    # The drawing pad, its map and its decode need one row of about 700 px.
    text_col, panel_col = st.columns([3, 7] if n == 4 else [2, 3], gap="medium")
    with text_col:
        st.markdown(f"<h3 style='{TITLE_STYLE}'>{STEPS[n - 1].title}</h3>", unsafe_allow_html=True)
        st.markdown(_text(explorer, n))
    with panel_col:
        if n == 1:
            step_encoder(explorer, view)
        elif n == 2:
            step_sampling(explorer, view)
        elif n == 3:
            step_loss(explorer, view)
        elif n == 4:
            step_draw(explorer, view)
        elif n == 5:
            step_map(explorer)
        else:
            step_kl(explorer, root, names, load)
