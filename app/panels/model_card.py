"""Model card: test metrics, loss curves, KL per latent dimension, how the bundle was made."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app.explorer import ACTIVE_KL, Explorer
from app.glossary import explain
from app.text import escape_markdown, literal
from vae_core.disentangle import clearly_carried

OPEN_KEY = "model_card_open"  # the expander's state: open or not
HEADLINE = (
    (
        "test_neg_elbo_nats",
        "Test -ELBO",
        "{:.1f} nats",
        "Negative ELBO per test image (lower is better). " + explain("−ELBO (negative evidence lower bound)"),
    ),
    (
        "knn5_accuracy",
        "5-NN accuracy",
        "{:.1%}",
        "How well 5 nearest neighbours in the latent space predict the class. " + explain("5-NN accuracy"),
    ),
    (
        "test_kl_nats",
        "KL to the prior",
        "{:.1f} nats",
        "Average KL(q(z|x) || p(z)) per test image. " + explain("KL (Kullback-Leibler divergence)"),
    ),
    (
        "test_recon_bce_nats",
        "Reconstruction",
        "{:.1f} nats",
        "Average Bernoulli reconstruction error per test image. "
        + explain("Bernoulli, binary cross-entropy"),
    ),
)


# Every metric the evaluator writes: readable name, unit, how to show the value, what it means.
METRICS = {
    "test_neg_elbo_nats": (
        "Test -ELBO",
        "nats per image",
        "{:.1f}",
        "Reconstruction error plus KL on the test images; lower is better.",
    ),
    "test_recon_bce_nats": (
        "Reconstruction error",
        "nats per image",
        "{:.1f}",
        "Summed binary cross-entropy of the decoded pixels; never below the data set's floor, its "
        "pixels' own entropy.",
    ),
    "test_kl_nats": (
        "KL to the prior",
        "nats per image",
        "{:.2f}",
        "How much information the code carries beyond the prior, KL(q(z|x) || p(z)).",
    ),
    "test_iw_nll_nats": (
        "Importance-weighted NLL",
        "nats per image",
        "{:.1f}",
        "A tighter estimate of -log p(x) than the ELBO; lower is better.",
    ),
    "iw_samples": (
        "Samples for that estimate",
        "samples per image",
        "{:d}",
        "Posterior samples averaged in the importance-weighted estimate.",
    ),
    "knn5_accuracy": (
        "5-NN accuracy",
        "share of test images",
        "{:.1%}",
        "How often the 5 nearest training codes have the image's class: how well classes separate.",
    ),
    "test_recon_mse": (
        "Reconstruction MSE",
        "per pixel, pixels in [0, 1]",
        "{:.4f}",
        "Mean squared difference between a test image and its reconstruction.",
    ),
    "mig": (
        "Disentanglement (MIG)",
        "0 to 1",
        "{:.3f}",
        "Mutual information gap, over the data's known factors: how much more of each factor the latent "
        "dimension that carries it most holds than the next one (1: each factor in a dimension of its own).",
    ),
    "aggregate_posterior_kl_to_standard_normal": (
        "Data spread vs prior",
        "nats",
        "{:.3f}",
        "KL from all test codes together to N(0, I): 0 means prior samples land where the data is.",
    ),
}


def metric_rows(metrics: dict) -> list[dict]:
    """The numeric metrics as table rows: readable name, value, unit, meaning (unknown keys by name)."""
    rows = []
    for key, value in metrics.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        # st.table renders cells as Markdown: a manifest's own metric name is escaped to show as written.
        name, unit, fmt, meaning = METRICS.get(
            key, (escape_markdown(key.replace("_", " ")), "", "{:.4g}", "")
        )
        try:
            shown = fmt.format(value)
        except ValueError:  # e.g. an integer format for a float
            shown = f"{value:.4g}"
        rows.append({"metric": name, "value": shown, "unit": unit, "meaning": meaning})
    return rows


def metrics_row(explorer: Explorer) -> None:
    """The headline metrics as st.metric tiles."""
    m = explorer.bundle.metrics
    cols = st.columns(len(HEADLINE) + 1)
    cols[0].metric("Latent dimensions", explorer.bundle.latent_dim)
    for col, (key, label, fmt, help_text) in zip(cols[1:], HEADLINE, strict=True):
        value = m.get(key)
        col.metric(label, fmt.format(value) if isinstance(value, (int, float)) else "n/a", help=help_text)


def history_figure(history: list[dict]) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, subplot_titles=("Loss (-ELBO)", "Reconstruction", "KL"))
    epochs = [row.get("epoch") for row in history]
    for col, key in enumerate(("loss", "recon", "kl"), start=1):
        for prefix, dash, name in (("", "solid", "training"), ("val_", "dash", "validation")):
            values = [row.get(prefix + key) for row in history]
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=values,
                    mode="lines+markers",
                    name=name,
                    line={"dash": dash, "color": "#4E79A7" if not prefix else "#F28E2B"},
                    showlegend=col == 1,
                    legendgroup=name,
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=300, margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return fig


def factor_rows(metrics: dict) -> list[dict]:
    """Per known factor: the latent dimension that carries it most, its share and its gap (MIG's terms)."""
    factors = (metrics.get("disentanglement") or {}).get("factors") or {}
    return [
        {
            "factor": escape_markdown(name),
            "carried most by": f"z{f['dim'] + 1}",
            "share of the factor": f"{f['share']:.0%}",
            "gap to the next dimension": f"{f['gap']:.2f}",
        }
        for name, f in factors.items()
    ]


def dimension_names(latent_dim: int, metrics: dict) -> list[str]:
    """z1, z2, ...; a dimension that carries a known factor most is named after it too, e.g. "z3 (x)"."""
    names = [f"z{i + 1}" for i in range(latent_dim)]
    carried = clearly_carried(metrics)  # dimensions beyond latent_dim (a damaged manifest) name nothing
    return [f"{n} ({', '.join(carried[i])})" if i in carried else n for i, n in enumerate(names)]


def kl_figure(kl: list[float], names: list[str] | None = None) -> go.Figure:
    kl = np.asarray(kl, dtype=np.float64)
    colors = ["#4E79A7" if v >= ACTIVE_KL else "#BAB0AC" for v in kl]
    names = names or [f"z{i + 1}" for i in range(len(kl))]
    fig = go.Figure(go.Bar(x=names, y=kl, marker_color=colors))
    fig.update_layout(height=260, margin={"l": 40, "r": 10, "t": 10, "b": 40}, yaxis_title="nats")
    return fig


def model_card_ui(explorer: Explorer) -> None:
    bundle = explorer.bundle
    m, manifest = bundle.metrics, bundle.manifest
    # Its charts, code and table are sent only once it is opened: a closed card would otherwise
    # make every first visit download Streamlit's table and syntax-highlighting code (~2 MB).
    with st.expander("Model card: training history and test metrics", key=OPEN_KEY, on_change="rerun"):
        cfg = bundle.config
        training = manifest.get("training", {})
        named = manifest.get("name")
        also = f" (its manifest calls it {literal(named)})" if named != bundle.name else ""
        imported = manifest.get("imported") if isinstance(manifest.get("imported"), dict) else None
        data = (
            f"{literal(bundle.name)}{also} — data {literal(bundle.data.name)} "
            f"({' × '.join(map(str, bundle.data.image_shape))}, floor {explorer.floor_nats:.1f} nats), "
        )
        if imported:
            _imported_ui(data, imported, cfg.latent_dim, manifest)
        else:
            st.markdown(
                data + f"preset `{cfg.preset}`, latent_dim {cfg.latent_dim}, "
                f"{cfg.likelihood} likelihood, "
                f"β = {cfg.beta:g}, prior {manifest.get('prior', {}).get('type', 'standard_normal')}; "
                f"{training.get('epochs_run', '?')} epochs in {training.get('seconds', '?')} s; "
                f"created {literal(manifest.get('created', '?'))}."
            )
        if cfg.neighbour_weight:
            st.markdown(
                f"Trained with a **neighbour term** (weight {cfg.neighbour_weight:g}): besides the ELBO, "
                "each "
                f"training image's `z_mean` is pulled towards one of its {cfg.neighbour_k} nearest images in "
                "pixel space and pushed away from the rest of its batch (a contrastive t-SNE loss). It "
                "separates the classes on the map; the metrics below are the plain ELBO without it."
            )
        if not st.session_state.get(OPEN_KEY):
            return
        if manifest.get("command"):
            st.code(manifest["command"], language="bash")
        if bundle.history:
            st.plotly_chart(history_figure(bundle.history), key="mc_history")
        elif imported:
            st.caption(
                "No training history: this model was trained outside the explorer. The metrics below were "
                "computed on import, the same way as for every bundle (Bernoulli -ELBO on [0, 1] pixels, "
                "whatever loss it was trained with)."
            )
            _conventions_table(imported)
        import pandas as pd

        rows = metric_rows(m)  # every meaning readable at once; names from the manifest escaped
        if rows:
            st.table(pd.DataFrame(rows).set_index("metric"))
        kl = m.get("kl_per_dimension")
        if kl:
            active = int(np.sum(np.asarray(kl) >= ACTIVE_KL))
            st.markdown(
                f"**KL per latent dimension:** {active} of {len(kl)} dimensions are active "
                f"(average KL ≥ {ACTIVE_KL} nats); grey bars are unused dimensions."
            )
            st.plotly_chart(kl_figure(kl, dimension_names(len(kl), m)), key="mc_kl")
        factors = factor_rows(m)
        if factors:
            st.markdown(
                f"**Known factors:** this data set was generated from known factors, so how well the model "
                f"separated them can be measured (MIG {m['mig']:.3f}). For each factor, the latent dimension "
                "that carries most of its information, as a share of the factor's entropy, and how far ahead "
                "of the next dimension it is:"
            )
            st.table(pd.DataFrame(factors).set_index("factor"))


def _imported_ui(data: str, imported: dict, latent_dim: int, manifest: dict) -> None:
    """The card's first line for a model made elsewhere (python -m vae_core import)."""
    parts = [imported.get(part) for part in ("encoder", "decoder")]
    files = " and ".join(literal(str(p.get("file", "?") if isinstance(p, dict) else "?")) for p in parts)
    trust = " Loaded with Keras's safe mode off (--trust-code)." if imported.get("trust_code") else ""
    st.markdown(
        data + f"imported from {files} ({literal(str(imported.get('format', '?')))}), latent_dim "
        f"{latent_dim}; created {literal(manifest.get('created', '?'))}.{trust}"
    )


def _conventions_table(imported: dict) -> None:
    """How the imported models read and write, and how each was decided (text, never Markdown)."""
    import pandas as pd

    conventions = imported.get("conventions")
    rows = [
        {"convention": str(k), "value": str(v.get("value")), "how": str(v.get("how", ""))}
        for k, v in (conventions.items() if isinstance(conventions, dict) else [])
        if isinstance(v, dict)
    ]
    if rows:
        st.table(pd.DataFrame(rows).set_index("convention"))
