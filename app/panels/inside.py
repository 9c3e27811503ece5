"""Inside the VAE: one image's trip through the model, every step with its real numbers.

encoder -> (mu, sigma) -> z = mu + sigma * epsilon -> decoder -> the loss, split into its parts.
Each ``*_ui`` function draws one step; the lesson (``app.panels.lesson``) shows them one at a
time, and the explorer's "Inside the VAE" view shows them together. The model's own source for
the sampling layer and the loss is read from ``vae_core.model`` when the page runs.
"""

from __future__ import annotations

import functools
import inspect
import textwrap

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app.explorer import Explorer, Inside
from app.style import CLASS_COLORS, CURRENT_COLOR, UPLOAD_COLOR
from vae_core.images import image_strip, upscale

SAMPLES = 16  # draws of epsilon shown at once
SHOWN_DIMS = 8  # mu, sigma and KL listed for at most this many dimensions
MAP_POINTS = 3000  # test images drawn behind the ellipse (a sample keeps the small map light)
SAMPLE_COLOR = "#D62728"


def resample_key(scope: str) -> str:
    """The session key of a scope's epsilon seed (the lesson and the explorer view draw apart)."""
    return f"{scope}_eps_seed"


def seed_of(scope: str) -> int:
    return int(st.session_state.get(resample_key(scope), 0))


def _resample(scope: str) -> None:
    st.session_state[resample_key(scope)] = seed_of(scope) + 1


@functools.cache
def source_of(name: str) -> str:
    """The source code of a vae_core.model function or method, as it runs in this process."""
    from vae_core import model

    obj = model
    for part in name.split("."):
        obj = getattr(obj, part)
    return textwrap.dedent(inspect.getsource(obj))


def numbers(values: np.ndarray, digits: int = 2, limit: int = SHOWN_DIMS) -> str:
    """(a, b, ...) with a sign, cut after ``limit`` values."""
    shown = ", ".join(f"{v:+.{digits}f}" for v in np.asarray(values)[:limit])
    return f"({shown}{', ...' if len(values) > limit else ''})"


# --- the small map -----------------------------------------------------------------------------------


def _background(explorer: Explorer) -> list[go.Scattergl]:
    rng = np.random.default_rng(0)
    rows = rng.choice(explorer.n_images, min(MAP_POINTS, explorer.n_images), replace=False)
    traces = []
    for c, name in enumerate(explorer.class_names):
        idx = rows[explorer.labels[rows] == c]
        traces.append(
            go.Scattergl(
                x=explorer.xy[idx, 0],
                y=explorer.xy[idx, 1],
                mode="markers",
                name=name,
                marker={"color": CLASS_COLORS[c], "size": 3, "opacity": 0.45},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return traces


def close_up(explorer: Explorer, inside: Inside) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis ranges around mu wide enough to show the ellipse well (at least a tenth of the map)."""
    (x0, x1), (y0, y1) = explorer.limits
    reach = float(np.max(np.abs(inside.ellipse - inside.xy)))  # the ellipse's half-width (2 sigma)
    if len(inside.z_xy):
        reach = max(reach, float(np.max(np.abs(inside.z_xy - inside.xy))))
    half = max(1.25 * reach, 0.03 * max(x1 - x0, y1 - y0))
    return (inside.xy[0] - half, inside.xy[0] + half), (inside.xy[1] - half, inside.xy[1] + half)


def inside_map(
    explorer: Explorer,
    inside: Inside | None,
    samples: bool = False,
    height: int = 300,
    zoom: bool = False,
    legend: bool = True,
) -> go.Figure:
    """The test set's map with this image's q(z|x) ellipse, its mu and (optionally) the samples;
    with ``zoom``, a close-up around mu."""
    fig = go.Figure(_background(explorer))
    if inside is not None:
        fig.add_trace(
            go.Scatter(
                x=inside.ellipse[:, 0],
                y=inside.ellipse[:, 1],
                mode="lines",
                line={"color": CURRENT_COLOR, "width": 2},
                fill="toself",
                fillcolor="rgba(17,17,17,0.08)",
                name="q(z|x): the encoder's belief",
                hoverinfo="name",
            )
        )
        if samples:
            fig.add_trace(
                go.Scatter(
                    x=inside.z_xy[:, 0],
                    y=inside.z_xy[:, 1],
                    mode="markers",
                    text=[str(i + 1) for i in range(len(inside.z_xy))],
                    marker={"color": SAMPLE_COLOR, "size": 6, "opacity": 0.85},
                    name="z = mu + sigma * epsilon",
                    hovertemplate="sample %{text}<extra></extra>",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=[inside.xy[0]],
                y=[inside.xy[1]],
                mode="markers+text",
                text=["mu"],
                textposition="middle right",
                marker={"color": UPLOAD_COLOR, "size": 11, "symbol": "x", "line": {"width": 1}},
                name="mu",
                hoverinfo="name",
            )
        )
    (x0, x1), (y0, y1) = close_up(explorer, inside) if zoom and inside is not None else explorer.limits
    fig.update_layout(
        height=height,
        margin={"l": 4, "r": 4, "t": 22 if zoom else 4, "b": 4},
        title={"text": "close-up around mu", "font": {"size": 12}, "x": 0.02, "y": 0.99} if zoom else None,
        xaxis={"range": [x0, x1], "zeroline": False, "constrain": "domain"},
        yaxis={"range": [y0, y1], "scaleanchor": "x", "zeroline": False, "constrain": "domain"},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0.0, "font": {"size": 11}},
        plot_bgcolor="white",
        dragmode=False,
    )
    return fig


def map_pair(explorer: Explorer, inside: Inside, key: str, samples: bool = False, height: int = 260) -> None:
    """The whole map and a close-up around mu, side by side (a confident ellipse is tiny on the whole)."""
    c1, c2 = st.columns(2)
    with c1:
        show_map(inside_map(explorer, inside, samples, height, legend=False), f"{key}_whole")
    with c2:
        show_map(inside_map(explorer, inside, samples, height, zoom=True, legend=False), f"{key}_zoom")
    st.caption(
        "Black ellipse: q(z|x), the encoder's belief (2 sigma); blue x: mu"
        + ("; red dots: the samples z = mu + sigma × epsilon." if samples else ".")
    )


def show_map(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displayModeBar": False, "scrollZoom": False})


# --- the steps -------------------------------------------------------------------------------------


def encoder_ui(explorer: Explorer, inside: Inside, title: str) -> None:
    """The input and what the encoder answers: mu and sigma per dimension."""
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    c1.image(upscale(inside.pixels, 112), caption=title, output_format="PNG")
    dims = min(explorer.d, SHOWN_DIMS)
    c2.dataframe(
        {
            "dimension": [f"z{j + 1}" for j in range(dims)],
            "mu (centre)": np.round(inside.mu[:dims], 3),
            "sigma (spread)": np.round(inside.sigma[:dims], 3),
        },
        hide_index=True,
        height=38 + 35 * dims if dims <= 4 else 180,
    )
    if explorer.d > SHOWN_DIMS:
        c2.caption(f"The first {SHOWN_DIMS} of {explorer.d} dimensions.")
    if explorer.config.deterministic:
        st.caption(
            "This bundle is a plain autoencoder: its sigma is fixed at 0.001,"
            " so its belief is a single point."
        )


def sampling_ui(explorer: Explorer, inside: Inside, scope: str) -> None:
    """Sixteen draws z = mu + sigma * epsilon, their decodes, and a button for fresh epsilons."""
    st.image(
        image_strip(inside.sample_decodes, scale=2, gap=2),
        caption=f"What the decoder makes of samples 1 to {len(inside.z)} (left to right)",
        output_format="PNG",
    )
    st.markdown(
        f"Sample 1: mu {numbers(inside.mu)} + sigma {numbers(inside.sigma)} × "
        f"**epsilon {numbers(inside.eps[0])}** = **z {numbers(inside.z[0])}**"
    )
    st.button(
        "Resample epsilon",
        key=f"{scope}_resample",
        icon=":material/casino:",
        on_click=_resample,
        args=(scope,),
        help="Draw 16 new epsilons: mu and sigma stay, the samples move.",
    )


def loss_ui(explorer: Explorer, inside: Inside) -> None:
    """Input beside reconstruction, and this image's -ELBO written out with its numbers."""
    c1, c2 = st.columns(2)
    c1.image(upscale(inside.pixels, 112), caption="Input x", output_format="PNG", width=112)
    c2.image(
        upscale(inside.reconstruction, 112), caption="Decoder's image of mu", output_format="PNG", width=112
    )
    st.markdown(
        f"##### −ELBO = reconstruction + KL = {inside.recon_nats:.1f} + {inside.kl_nats:.1f} "
        f"= {inside.neg_elbo:.1f} nats"
    )
    parts = [
        f"Reconstruction: −log p(x | z) at sample 1, summed over the 784 pixels. No decoder can go "
        f"below this image's own floor of {inside.floor_nats:.1f} nats: its grey pixels are uncertain "
        "by themselves (binary entropy)."
    ]
    if inside.kl_per_dim is not None:
        terms = " + ".join(f"{v:.2f}" for v in inside.kl_per_dim[:SHOWN_DIMS])
        more = " + ..." if explorer.d > SHOWN_DIMS else ""
        parts.append(f"KL to the prior N(0, I), one term per dimension: {terms}{more}.")
    else:
        parts.append("KL to the prior, estimated at sample 1 (a mixture prior has no per-dimension terms).")
    parts.append(
        f"{inside.share_below:.0%} of test images have a lower −ELBO (the model explains them better)."
    )
    st.caption(" ".join(parts))


def code_ui(names: tuple[str, ...], note: str, height: int = 260) -> None:
    """The model's own source for ``names`` (from vae_core.model), with a line on the live values."""
    st.caption(note)
    st.code("\n\n".join(source_of(n) for n in names), language="python", height=height, wrap_lines=True)


def sampling_values_ui(inside: Inside) -> None:
    """What ``Sampling.call`` computed for this image's first sample."""
    st.caption(
        f"For this image: z_mean = {numbers(inside.mu)}, exp(0.5 × z_log_var) = sigma = "
        f"{numbers(inside.sigma)}, eps = {numbers(inside.eps[0])} → returns {numbers(inside.z[0])}."
    )


def loss_values_ui(inside: Inside) -> None:
    """What the two loss functions returned for this image."""
    kl = "" if inside.kl_per_dim is None else f"kl_standard_normal_terms → {numbers(inside.kl_per_dim)}; "
    st.caption(
        f"For this image: bernoulli_nll(x, decoder logits at sample 1) → {inside.recon_nats:.2f} nats; "
        f"{kl}their sum, the KL → {inside.kl_nats:.2f} nats."
    )


SAMPLING_CODE = ("Sampling.call",)
LOSS_CODE = ("bernoulli_nll", "kl_standard_normal_terms")


def inside_view(explorer: Explorer, pixels: np.ndarray, title: str, scope: str) -> None:
    """The whole trip on one screen (the explorer's view): map, encoder, samples, loss and code."""
    inside = explorer.inside(pixels, SAMPLES, seed_of(scope))
    left, right = st.columns([1, 1])
    with left:
        map_pair(explorer, inside, f"{scope}_map", samples=True, height=230)
        encoder_ui(explorer, inside, title)
    with right:
        sampling_ui(explorer, inside, scope)
        loss_ui(explorer, inside)
    with st.expander("The model's code for these numbers", icon=":material/code:"):
        c1, c2 = st.columns(2)
        with c1:
            code_ui(SAMPLING_CODE, "Sampling: the layer that turned mu and sigma into the dots.")
            sampling_values_ui(inside)
        with c2:
            code_ui(LOSS_CODE, "The loss: the two parts added up above.")
            loss_values_ui(inside)
