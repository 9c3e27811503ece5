"""Inside the VAE: one image's trip through the model, every step with its real numbers.

encoder -> (mu, sigma) -> z = mu + sigma * epsilon -> decoder -> the loss, split into its parts.
Each ``*_ui`` function draws one step; the lesson (``app.panels.lesson``) shows them one at a
time, and the explorer's "Inside the VAE" view shows them together. The model's own source for
the sampling layer and the loss is read from ``vae_core/model.py`` (the file, not the module:
showing it does not load TensorFlow).
"""

from __future__ import annotations

import ast
import functools
import html
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import alt, components, session
from app.explorer import Explorer
from app.figures import MapStyle, figure_spec, map_figure, points_picture
from app.style import CURRENT_COLOR, UPLOAD_COLOR
from app.view import Set
from vae_core.evaluate import ImageTrip
from vae_core.images import bernoulli_sample, upscale

SAMPLES = 16  # draws of epsilon shown at once
SAMPLE_PX = 56  # each sample's decode (the lesson's one row of 16 takes 40)
SHOWN_DIMS = 8  # mu, sigma and KL listed for at most this many dimensions
MAP_POINTS = 3000  # test images drawn behind the ellipse (a sample keeps the small map light)
SAMPLE_COLOR = "#D62728"
MODEL_SOURCE = Path(__file__).resolve().parents[2] / "vae_core" / "model.py"
SMALL_MAP = MapStyle(sample=MAP_POINTS, marker_size=3, opacity=0.45, hover=False, legend=False, small=True)


@dataclass(frozen=True)
class Shown:
    """An image's trip, with where it lies on the map and how it ranks among the test images."""

    trip: ImageTrip
    xy: np.ndarray  # (2,) mu on the map
    ellipse: np.ndarray  # (m, 2) the 2-sigma ellipse of q(z|x) on the map
    z_xy: np.ndarray  # (s, 2) the samples on the map
    share_below: float  # share of reference test images with a lower -ELBO


def show(explorer: Explorer, pixels: np.ndarray, seed: int, samples: int = SAMPLES) -> Shown:
    """Encode, sample, decode and score ``pixels``, and place it all on the map."""
    trip = explorer.trip(pixels, samples, seed)
    return Shown(
        trip,
        explorer.map.to_map(trip.mu)[0],
        explorer.map.ellipse(trip.mu, trip.log_var),
        explorer.map.to_map(trip.z),
        explorer.share_below(trip.neg_elbo),
    )


@functools.cache
def source_of(name: str) -> str:
    """The source of a function or method of vae_core/model.py ("Sampling.call", "bernoulli_nll")."""
    text = MODEL_SOURCE.read_text(encoding="utf-8")
    nodes = ast.parse(text).body
    for part in name.split("."):
        node = next(n for n in nodes if getattr(n, "name", None) == part)
        nodes = getattr(node, "body", [])
    return textwrap.dedent(ast.get_source_segment(text, node, padded=True))


def numbers(values: np.ndarray, digits: int = 2, limit: int = SHOWN_DIMS) -> str:
    """(a, b, ...) with a sign, cut after ``limit`` values."""
    shown = ", ".join(f"{v:+.{digits}f}" for v in np.asarray(values)[:limit])
    return f"({shown}{', ...' if len(values) > limit else ''})"


# --- the small map -----------------------------------------------------------------------------------


def close_up(explorer: Explorer, shown: Shown) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis ranges around mu wide enough to show the ellipse well (at least a tenth of the map)."""
    (x0, x1), (y0, y1) = explorer.map.limits
    reach = float(np.max(np.abs(shown.ellipse - shown.xy)))  # the ellipse's half-width (2 sigma)
    if len(shown.z_xy):
        reach = max(reach, float(np.max(np.abs(shown.z_xy - shown.xy))))
    half = max(1.25 * reach, 0.03 * max(x1 - x0, y1 - y0))
    return (shown.xy[0] - half, shown.xy[0] + half), (shown.xy[1] - half, shown.xy[1] + half)


def inside_map(
    explorer: Explorer,
    shown: Shown | None,
    samples: bool = False,
    height: int = 300,
    zoom: bool = False,
    legend: bool = True,
) -> go.Figure:
    """The test set's map with this image's q(z|x) ellipse, its mu and (optionally) the samples;
    with ``zoom``, a close-up around mu."""
    style = replace(SMALL_MAP, height=height)
    fig = go.Figure(map_figure(explorer, explorer.bundle.name, style))  # a copy, to add traces to
    if shown is not None:
        fig.add_trace(
            go.Scatter(
                x=shown.ellipse[:, 0],
                y=shown.ellipse[:, 1],
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
                    x=shown.z_xy[:, 0],
                    y=shown.z_xy[:, 1],
                    mode="markers",
                    text=[str(i + 1) for i in range(len(shown.z_xy))],
                    marker={"color": SAMPLE_COLOR, "size": 6, "opacity": 0.85},
                    name="z = mu + sigma * epsilon",
                    hovertemplate="sample %{text}<extra></extra>",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=[shown.xy[0]],
                y=[shown.xy[1]],
                mode="markers+text",
                text=["mu"],
                textposition="middle right",
                marker={"color": UPLOAD_COLOR, "size": 11, "symbol": "x", "line": {"width": 1}},
                name="mu",
                hoverinfo="name",
            )
        )
    if zoom and shown is not None:
        (x0, x1), (y0, y1) = close_up(explorer, shown)
        fig.update_layout(
            images=[points_picture(explorer, style, (x0, x1), (y0, y1))],  # the close-up's own, sharp
            margin={"t": 22},
            title={
                "text": "<b>close-up around mu</b>",
                "font": {"size": 12, "color": "#31333F"},
                "x": 0.02,
                "y": 0.99,
            },
            xaxis={"range": [x0, x1]},
            yaxis={"range": [y0, y1]},
        )
    fig.update_layout(
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0.0, "font": {"size": 11}},
    )
    return fig


def map_pair(
    explorer: Explorer,
    shown: Shown,
    key: str,
    samples: bool = False,
    height: int = 260,
    stacked: bool = False,
) -> None:
    """The whole map and a close-up around mu, side by side (a confident ellipse is tiny on the whole),
    or one under the other when ``stacked`` (a narrow column)."""
    c1, c2 = (st.container(), st.container()) if stacked else st.columns(2)
    with c1:
        show_map(inside_map(explorer, shown, samples, height, legend=False), f"{key}_whole")
    with c2:
        show_map(inside_map(explorer, shown, samples, height, zoom=True, legend=False), f"{key}_zoom")
    st.caption(
        "Black ellipse: q(z|x), the encoder's belief (2 sigma); blue x: mu"
        + ("; red dots: the samples z = mu + sigma × epsilon." if samples else ".")
    )


# The small maps' look: the page's font, on the page's background (as Streamlit's chart theme draws them).
SMALL_MAP_LOOK = {
    "font": {"family": '"Source Sans", "Source Sans Pro", sans-serif', "size": 12, "color": "#5c5e6a"},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "hoverlabel": {"font": {"family": '"Source Sans", "Source Sans Pro", sans-serif'}},
    "xaxis": {"automargin": True},  # room for the tick labels under the small margins
    "yaxis": {"automargin": True},
}
SMALL_MAP_CONFIG = {"displayModeBar": False, "scrollZoom": False}


def show_map(fig: go.Figure, key: str) -> None:
    """A small map, drawn by the page (app/frontend/figure.js): the next figure under the same key
    (another image, another bundle) redraws it in place."""
    fig.update_layout(SMALL_MAP_LOOK)
    components.show_figure(key, figure_spec(fig), SMALL_MAP_CONFIG, int(fig.layout.height or 300))


# --- the steps -------------------------------------------------------------------------------------


def encoder_ui(explorer: Explorer, shown: Shown, title: str, stacked: bool = False) -> None:
    """The input and what the encoder answers: mu and sigma per dimension (beside the input, or
    under it when ``stacked``: a narrow column)."""
    c1, c2 = (st.container(), st.container()) if stacked else st.columns([1, 2], vertical_alignment="center")
    c1.image(upscale(shown.trip.pixels, 112), caption=title, output_format="PNG", alt=f"The input: {title}")
    dims = min(explorer.bundle.latent_dim, SHOWN_DIMS)
    c2.table(  # a plain table: st.dataframe's grid took 0.3 s more of a click to draw (bench/clicks.py)
        {
            "dimension": [f"z{j + 1}" for j in range(dims)],
            "mu (centre)": [f"{v:.3f}" for v in shown.trip.mu[:dims]],
            "sigma (spread)": [f"{v:.3f}" for v in shown.trip.sigma[:dims]],
        },
        hide_index=True,
    )
    if explorer.bundle.latent_dim > SHOWN_DIMS:
        c2.caption(f"The first {SHOWN_DIMS} of {explorer.bundle.latent_dim} dimensions.")
    if explorer.bundle.config.deterministic:
        st.caption(
            "This bundle is a plain autoencoder: its sigma is fixed at 0.001,"
            " so its belief is a single point."
        )


def widened(sigma: np.ndarray, spread: float) -> int | None:
    """How many times wider sigma must be for its samples to visibly differ: about half the codes'
    spread over the map (3 to 30 times); None when sigma is that wide already."""
    ratio = float(np.mean(sigma)) / spread
    if ratio >= 0.5:
        return None
    return int(np.clip(round(0.5 / ratio), 3, 30))


def sampling_ui(
    explorer: Explorer, shown: Shown, seed: int, widen: bool = False, image_px: int = SAMPLE_PX
) -> None:
    """Sixteen draws z = mu + sigma * epsilon, their decodes (``image_px`` wide each), and a button
    for fresh epsilons. When sigma is too small for the draws to differ, the caption says why, and
    a switch (``widen``, the view's) redraws the same epsilons with a wider sigma to show what
    epsilon does."""
    trip = shown.trip
    spread = float(np.mean(explorer.bundle.z_mean.std(axis=0)))  # how far the codes spread per dimension
    k = widened(trip.sigma, spread)
    decodes, zs = trip.sample_decodes, trip.z
    caption = f"What the decoder makes of samples 1 to {len(trip.z)}, numbered as the red dots on the map"
    if k is not None:
        st.toggle(
            f"They look alike: widen sigma × {k}",
            help=f"To see what epsilon does. This image's sigma ({np.mean(trip.sigma):.2f} on average) "
            f"is small beside how far the test images' codes spread ({spread:.2f}): the encoder is "
            f"sure, so every draw lands near mu. Switched on, the same epsilons are drawn as a {k}× "
            "less sure encoder would.",
            **session.bind("widen", "widen_sigma"),
        )
        if widen:
            zs = trip.mu + k * trip.sigma * trip.eps
            decodes = explorer.decode(zs)
            caption = f"z = mu + {k} × sigma × epsilon: the same epsilons, sigma {k}× wider (not the model)"
    st.image(  # one image per sample, numbered as the map's dots are; the row wraps on a narrow column
        [upscale(d, image_px) for d in decodes],
        caption=[str(n + 1) for n in range(len(decodes))],
        width=image_px,
        output_format="PNG",
        alt=[f"Decode of sample {n + 1}: {alt.looks_like(explorer, z)}" for n, z in enumerate(zs)],
    )
    st.caption(caption)
    st.markdown(
        f"Sample 1: mu {numbers(trip.mu)} + sigma {numbers(trip.sigma)} × "
        f"**epsilon {numbers(trip.eps[0])}** = **z {numbers(trip.z[0])}**"
    )
    st.button(
        "Resample epsilon",
        key="resample_eps",
        icon=":material/casino:",
        help=f"Draw {SAMPLES} new epsilons: mu and sigma stay, the samples move.",
        **session.on_click(Set("eps_seed", seed + 1)),
    )


def loss_ui(explorer: Explorer, shown: Shown) -> None:
    """Input beside the decoder's mean and a sample drawn from it, and this image's -ELBO written
    out with its numbers."""
    size = 80
    shown_images = (
        (shown.trip.pixels, "Input x", "The input x"),
        (shown.trip.reconstruction, "Decoded mu", "The decoder's mean at mu: a soft, blurry average"),
        (
            bernoulli_sample(shown.trip.reconstruction),
            "A sample of it",
            "One Bernoulli sample of that mean: sharp, speckled pixels",
        ),
    )
    for col, (pixels, caption, text) in zip(st.columns(3), shown_images, strict=True):
        col.image(upscale(pixels, size), caption=caption, output_format="PNG", width=size, alt=text)
    st.markdown(
        f"##### −ELBO = reconstruction + KL = {shown.trip.recon_nats:.1f} + {shown.trip.kl_nats:.1f} "
        f"= {shown.trip.neg_elbo:.1f} nats"
    )
    parts = [
        "Reconstruction: −log p(x | z) at sample 1, summed over the "
        f"{shown.trip.pixels.size:,} pixel values. No decoder can go "
        f"below this image's own floor of {shown.trip.floor_nats:.1f} nats: its grey pixels are uncertain "
        "by themselves (binary entropy)."
    ]
    if shown.trip.kl_per_dim is not None:
        terms = " + ".join(f"{v:.2f}" for v in shown.trip.kl_per_dim[:SHOWN_DIMS])
        more = " + ..." if explorer.bundle.latent_dim > SHOWN_DIMS else ""
        parts.append(f"KL to the prior N(0, I), one term per dimension: {terms}{more}.")
    else:
        parts.append("KL to the prior, estimated at sample 1 (a mixture prior has no per-dimension terms).")
    parts.append(
        f"{shown.share_below:.0%} of test images have a lower −ELBO (the model explains them better)."
    )
    st.caption(" ".join(parts))


def code_ui(names: tuple[str, ...], note: str, folded: bool = False) -> None:
    """The model's own source for ``names`` (from vae_core.model) under ``note``; ``folded``: in a
    closed expander named ``note``. Never in a box that scrolls (a keyboard could not scroll it).

    Plain text (``code_box``), not ``st.code``: the page's first ``st.code`` loads and starts
    Streamlit's syntax highlighter, half a second of the browser's time (bench/clicks.py)."""
    code = "\n\n".join(source_of(n) for n in names)
    if folded:
        with st.expander(note, icon=":material/code:"):
            st.html(code_box(code))
        return
    st.caption(note)
    st.html(code_box(code))


def code_box(code: str) -> str:
    """``code`` as literal text in a wrapped, monospace box (PAGE_CSS's .model-code)."""
    return f'<pre class="model-code"><code>{html.escape(code)}</code></pre>'


def sampling_values_ui(shown: Shown) -> None:
    """What ``Sampling.call`` computed for this image's first sample."""
    st.caption(
        f"For this image: z_mean = {numbers(shown.trip.mu)}, exp(0.5 × z_log_var) = sigma = "
        f"{numbers(shown.trip.sigma)}, eps = {numbers(shown.trip.eps[0])} → "
        f"returns {numbers(shown.trip.z[0])}."
    )


def loss_values_ui(shown: Shown) -> None:
    """What the two loss functions returned for this image."""
    kl = (
        ""
        if shown.trip.kl_per_dim is None
        else f"kl_standard_normal_terms → {numbers(shown.trip.kl_per_dim)}; "
    )
    st.caption(
        f"For this image: bernoulli_nll(x, decoder logits at sample 1) → {shown.trip.recon_nats:.2f} nats; "
        f"{kl}their sum, the KL → {shown.trip.kl_nats:.2f} nats."
    )


SAMPLING_CODE = ("Sampling.call",)
LOSS_CODE = ("bernoulli_nll", "kl_standard_normal_terms")


def inside_view(
    explorer: Explorer, pixels: np.ndarray, title: str, seed: int, widen: bool = False, compact: bool = False
) -> None:
    """The whole trip (the explorer's view), one step under the other: map, encoder, samples, loss
    and code. ``compact``: a narrow column, where the two maps stack too."""
    shown = show(explorer, pixels, seed)
    map_pair(explorer, shown, "inside_map", samples=True, height=230 if compact else 260, stacked=compact)
    encoder_ui(explorer, shown, title, stacked=compact)
    sampling_ui(explorer, shown, seed, widen)
    loss_ui(explorer, shown)
    with st.expander("The model's code for these numbers", icon=":material/code:"):
        code_ui(SAMPLING_CODE, "Sampling: the layer that turned mu and sigma into the dots.")
        sampling_values_ui(shown)
        code_ui(LOSS_CODE, "The loss: the two parts added up above.")
        loss_values_ui(shown)
