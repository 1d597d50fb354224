"""Plotly figures for the attention lab: the mask, attention weights and pre-softmax scores per layer and head,
the model's answers, positional encodings, the token-embedding plane, the next-token distribution, each head's
pattern and the race against an LSTM. Arrays (or the lab's view dataclasses) in, ``go.Figure`` out; every text
comes from the catalogue (``attention.figures.*``) in the language ``lang``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import text

WEIGHT_SCALE = "Blues"  # attention weights live in [0, 1]
SCORE_SCALE = "RdBu_r"  # signed scores: blue < 0 < red
MODEL_COLORS = {"transformer": "#1f77b4", "LSTM": "#d62728"}
PATTERN_COLORS = ("#2ca02c", "#ff7f0e", "#9467bd")
_MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}


def _t(key: str, lang: str, **params: object) -> str:
    return text(f"attention.figures.{key}", lang, **params)


def _token_axis(tokens: Sequence[str]) -> dict:
    """A numeric axis labelled with tokens (a categorical one would merge repeated tokens)."""
    return {"tickmode": "array", "tickvals": list(range(len(tokens))), "ticktext": list(tokens), "tickangle": 0}


def _pair_hover(lang: str) -> str:
    return f"{_t('query_word', lang)} %{{customdata[0]}} → {_t('key_word', lang)} %{{customdata[1]}}"


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


# ----------------------------------------------------------------------------- attention itself
def mask_figure(mask: np.ndarray, tokens: Sequence[str], *, lang: str = "en", height: int = 340) -> go.Figure:
    """Which key each query may attend to: all of them (bidirectional) or the lower triangle (causal)."""
    causal = not bool(np.asarray(mask).all())
    allowed, blocked = _t("allowed", lang), _t("blocked", lang)
    words = np.where(mask, allowed, blocked)
    fig = go.Figure(go.Heatmap(z=np.asarray(mask, dtype=float), zmin=0, zmax=1, showscale=False,
                               colorscale=[[0, "#eeeeee"], [1, "#1f77b4"]], xgap=1, ygap=1, customdata=words,
                               hovertemplate=f"{_t('query_word', lang)} %{{y}} → {_t('key_word', lang)} %{{x}}: "
                                             "%{customdata}<extra></extra>"))
    fig.update_xaxes(title_text=_t("key", lang), side="top", **_token_axis(tokens))
    fig.update_yaxes(title_text=_t("query", lang), autorange="reversed", **_token_axis(tokens))
    fig.update_layout(title=_t("mask_causal" if causal else "mask_full", lang), height=height, margin=_MARGIN)
    return fig


def attention_heatmaps(weights: np.ndarray, tokens: Sequence[str], *, mask: np.ndarray | None = None,
                       kind: str = "weights", lang: str = "en", layers: Sequence[int] | None = None,
                       cell_px: int = 240) -> go.Figure:
    """A grid of heatmaps, one row per layer and one column per head; row = query, column = key.

    ``kind="weights"``: softmax weights (0 … 1, each row sums to 1). ``kind="scores"``: Q·Kᵀ/√d before the
    softmax on a diverging scale; positions the mask blocks are left blank.
    """
    weights = np.asarray(weights, dtype=float)
    n_layers, n_heads = weights.shape[:2]
    layers = list(layers) if layers is not None else list(range(n_layers))
    titles = [_t("head_title", lang, layer=layer + 1, head=h + 1) for layer in layers for h in range(n_heads)]
    fig = make_subplots(rows=len(layers), cols=n_heads, subplot_titles=titles, horizontal_spacing=0.04,
                        vertical_spacing=0.12 / max(1, len(layers)) + 0.04)
    if kind == "scores":
        values = np.where(mask, weights, np.nan) if mask is not None else weights
        bound = float(np.nanmax(np.abs(values[layers]))) if np.isfinite(values[layers]).any() else 1.0
        scale = {"colorscale": SCORE_SCALE, "zmin": -bound, "zmax": bound, "zmid": 0.0}
        bar_title = _t("score", lang)
        hover = _pair_hover(lang) + f"<br>{bar_title} %{{z:.2f}}"
    else:
        values = weights
        scale = {"colorscale": WEIGHT_SCALE, "zmin": 0.0, "zmax": 1.0}
        bar_title = _t("weight", lang)
        hover = _pair_hover(lang) + f"<br>{bar_title} %{{z:.3f}}"
    n = weights.shape[-1]
    keys = np.broadcast_to(np.asarray(tokens, dtype=object)[None, :], (n, n))
    queries = np.broadcast_to(np.asarray(tokens, dtype=object)[:, None], (n, n))
    custom = np.stack([queries, keys], axis=-1)
    for r, layer in enumerate(layers):
        for h in range(n_heads):
            fig.add_trace(go.Heatmap(z=values[layer, h], customdata=custom, showscale=r == 0 and h == n_heads - 1,
                                     colorbar={"title": {"text": bar_title}, "len": 0.6}, **scale,
                                     hovertemplate=hover + "<extra></extra>"), row=r + 1, col=h + 1)
    fig.update_xaxes(**_token_axis(tokens), side="top")
    fig.update_yaxes(**_token_axis(tokens), autorange="reversed")
    fig.update_xaxes(title_text=_t("key", lang), row=len(layers), col=1, side="bottom")
    fig.update_yaxes(title_text=_t("query", lang), col=1)
    fig.update_layout(title=_t("scores_title" if kind == "scores" else "weights_title", lang),
                      height=min(1600, 80 + cell_px * len(layers)), margin={**_MARGIN, "t": 80})
    return fig


def answer_figure(tokens: Sequence[str], targets: Sequence[str], predictions: Sequence[str],
                  confidence: np.ndarray, *, lang: str = "en", height: int = 220) -> go.Figure:
    """Input, expected output and the model's answer per position, coloured by the model's confidence."""
    n = len(tokens)
    rows = [_t("row_input", lang), _t("row_target", lang), _t("row_prediction", lang)]
    z = np.full((3, n), np.nan)
    z[2] = np.asarray(confidence, dtype=float)
    labels = np.array([list(tokens), list(targets), list(predictions)], dtype=object)
    right = [t == "" or t == p for t, p in zip(targets, predictions, strict=True)]
    shown = labels.copy()
    shown[2] = [p if ok else f"<b>{p}</b>✗" for p, ok in zip(predictions, right, strict=True)]
    fig = go.Figure(go.Heatmap(z=z, x=list(range(n)), y=rows, zmin=0, zmax=1, colorscale="Greens",
                               colorbar={"title": {"text": _t("confidence", lang)}, "len": 0.8},
                               text=shown, texttemplate="%{text}", hoverinfo="skip", xgap=2, ygap=2))
    fig.update_xaxes(title_text=_t("position", lang), tickmode="array", tickvals=list(range(n)),
                     ticktext=[str(i + 1) for i in range(n)])
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=_t("answers_title", lang), height=height, margin=_MARGIN)
    return fig


def patterns_figure(patterns: np.ndarray, *, lang: str = "en", height: int = 300) -> go.Figure:
    """Each head's mean attention on the query itself, the previous token and the mirrored position."""
    patterns = np.asarray(patterns, dtype=float)
    n_layers, n_heads, _ = patterns.shape
    names = [_t("head_short", lang, layer=i + 1, head=h + 1) for i in range(n_layers) for h in range(n_heads)]
    fig = go.Figure()
    for k, (key, color) in enumerate(zip(("self", "previous", "mirror"), PATTERN_COLORS, strict=True)):
        fig.add_trace(go.Bar(x=names, y=patterns[:, :, k].ravel(), name=text(f"attention.patterns.{key}", lang),
                             marker_color=color))
    fig.update_yaxes(title_text=_t("mean_weight", lang), range=[0, 1])
    fig.update_layout(title=_t("patterns_title", lang), barmode="group", height=height, margin=_MARGIN,
                      legend={"orientation": "h", "y": -0.2})
    return fig


# ----------------------------------------------------------------------------- what the tokens become
def positions_figure(positions: np.ndarray, *, kind: str = "learned", lang: str = "en",
                     height: int = 340) -> go.Figure:
    """The positional encodings (position × dimension) and how alike two positions' encodings are (cosine)."""
    pe = np.asarray(positions, dtype=float)
    unit = pe / np.maximum(np.linalg.norm(pe, axis=1, keepdims=True), 1e-9)
    bound = float(np.abs(pe).max()) or 1.0
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.1,
                        subplot_titles=(_t("positions_values", lang), _t("positions_similarity", lang)))
    fig.add_trace(go.Heatmap(z=pe, colorscale=SCORE_SCALE, zmin=-bound, zmax=bound, colorbar={"x": 0.55, "len": 0.8},
                             hovertemplate=f"{_t('position', lang)} %{{y}}, {_t('dimension', lang)} %{{x}}: "
                                           "%{z:.2f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=unit @ unit.T, colorscale=SCORE_SCALE, zmin=-1, zmax=1, colorbar={"len": 0.8},
                             hovertemplate=f"{_t('position', lang)} %{{y}} · %{{x}}: %{{z:.2f}}<extra></extra>"),
                  row=1, col=2)
    fig.update_xaxes(title_text=_t("dimension", lang), row=1, col=1)
    fig.update_xaxes(title_text=_t("position", lang), row=1, col=2)
    fig.update_yaxes(title_text=_t("position", lang), autorange="reversed")
    fig.update_layout(title=_t(f"positions_{kind}", lang), height=height, margin={**_MARGIN, "t": 70})
    return fig


def embedding_figure(points: np.ndarray, labels: Sequence[str], variance: np.ndarray, *, lang: str = "en",
                     height: int = 380) -> go.Figure:
    """Token embeddings on their first two principal components, each drawn as its token."""
    points = np.asarray(points, dtype=float)
    fig = go.Figure(go.Scatter(x=points[:, 0], y=points[:, 1], mode="text+markers", text=list(labels),
                               textposition="top center", marker={"size": 5, "color": "#1f77b4", "opacity": 0.5},
                               hovertemplate="%{text}<extra></extra>"))
    fig.update_xaxes(title_text=_t("component", lang, n=1, share=float(variance[0])), zeroline=False)
    fig.update_yaxes(title_text=_t("component", lang, n=2, share=float(variance[1])), zeroline=False)
    fig.update_layout(title=_t("embedding_title", lang), height=height, margin=_MARGIN)
    return fig


def next_token_figure(labels: Sequence[str], raw: np.ndarray, final: np.ndarray, kept: np.ndarray, *,
                      chosen: int = -1, lang: str = "en", height: int = 320) -> go.Figure:
    """The most likely next characters: the model's probabilities, and what sampling draws from after
    temperature, top-k and top-p (dropped candidates greyed out; the drawn one outlined)."""
    x = list(range(len(labels)))
    colors = ["#1f77b4" if k else "#cccccc" for k in kept]
    lines = [3 if i == chosen else 0 for i in x]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=np.asarray(raw, dtype=float), name=_t("raw_probs", lang),
                         marker={"color": "rgba(0,0,0,0)", "line": {"color": "#555", "width": 1}}))
    fig.add_trace(go.Bar(x=x, y=np.asarray(final, dtype=float), name=_t("final_probs", lang),
                         marker={"color": colors, "line": {"color": "#d62728", "width": lines}}))
    fig.update_xaxes(title_text=_t("candidate", lang), **_token_axis(labels))
    fig.update_yaxes(title_text=_t("probability", lang), rangemode="tozero")
    fig.update_layout(title=_t("next_title", lang), barmode="overlay", height=height, margin=_MARGIN,
                      legend={"orientation": "h", "y": -0.25})
    return fig


def fill_in_figure(candidates: Sequence[Sequence[str]], probs: np.ndarray, *, lang: str = "en",
                   height: int = 280) -> go.Figure:
    """The masked LM's most likely characters for each blank, one panel per blank."""
    n = len(candidates)
    fig = make_subplots(rows=1, cols=max(1, n), subplot_titles=[_t("blank_title", lang, n=i + 1) for i in range(n)])
    for i, (labels, p) in enumerate(zip(candidates, np.asarray(probs, dtype=float), strict=True)):
        fig.add_trace(go.Bar(x=list(range(len(labels))), y=p, marker_color="#1f77b4", showlegend=False,
                             hovertemplate="%{y:.1%}<extra></extra>"), row=1, col=i + 1)
        fig.update_xaxes(_token_axis(labels), row=1, col=i + 1)
    fig.update_yaxes(title_text=_t("probability", lang), col=1, rangemode="tozero")
    fig.update_layout(title=_t("fill_title", lang), height=height, margin={**_MARGIN, "t": 70})
    return fig


# ----------------------------------------------------------------------------- training
def race_figure(history: dict[str, list[float]], evals: dict[str, list[float]], *, baseline: float | None = None,
                lang: str = "en", height: int = 320) -> go.Figure:
    """Loss and token accuracy of the transformer and (when it races) the LSTM on one chart, train dotted,
    validation solid; ``baseline`` is the loss of a context-free guess (unigram entropy or log vocabulary)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_t("loss", lang), _t("accuracy", lang)),
                        horizontal_spacing=0.12)
    for model, suffix in (("transformer", ""), ("LSTM", "/LSTM")):
        name = _t(f"model_{model.lower()}", lang)
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for table, key, dash, what in ((history, f"{metric}{suffix}", "dot", "train"),
                                           (evals, f"val_{metric}{suffix}", "solid", "validation")):
                if key in table and "step" in table:
                    x, y = _finite(table["step"], table[key])
                    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_t(f"curve_{what}", lang, model=name),
                                             line={"color": MODEL_COLORS[model], "dash": dash},
                                             legendgroup=f"{model}{what}", showlegend=col == 1), row=1, col=col)
    if baseline is not None:
        fig.add_hline(y=baseline, line={"color": "#888", "dash": "dash"}, row=1, col=1,
                      annotation_text=_t("baseline", lang, value=baseline), annotation_position="top right")
    fig.update_xaxes(title_text=_t("step", lang))
    fig.update_yaxes(title_text=_t("loss_axis", lang), row=1, col=1)
    fig.update_yaxes(title_text=_t("accuracy_axis", lang), range=[0, 1.02], row=1, col=2)
    fig.update_layout(title=_t("race_title", lang), height=height, margin={**_MARGIN, "t": 70},
                      legend={"orientation": "h", "y": -0.25}, uirevision="race")
    return fig
