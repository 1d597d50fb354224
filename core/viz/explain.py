"""Figures for the Explain page: the input next to every method's heatmap and overlay, class probabilities,
deletion curves, randomization (sanity-check) similarities, and feature / neuron importance for MLPs.

Pure functions: numpy arrays in, ``go.Figure`` out. Signed maps use a diverging RdBu scale centred at 0
(red = evidence for the class, blue = against); magnitudes use sequential scales.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import i18n

DIVERGING = "RdBu_r"  # red positive, blue negative
SEQUENTIAL = {"positive": "Reds", "negative": "Blues", "absolute": "Viridis"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79")


def _t(key: str, lang: str, **params: object) -> str:
    return i18n.text(f"explain.charts.{key}", lang, **params)


def normalise(values: np.ndarray, clip_percentile: float = 99.5) -> np.ndarray:
    """Scale a map to [-1, 1] by its ``clip_percentile``-th absolute value (a few outliers do not wash it out)."""
    values = np.asarray(values, dtype=np.float64)
    scale = np.percentile(np.abs(values), clip_percentile) if values.size else 0.0
    if not np.isfinite(scale) or scale <= 0:
        scale = float(np.abs(values).max()) or 1.0
    return np.clip(values / scale, -1, 1)


def colour_scale(sign: str, signed: bool = True) -> tuple[str, float, float]:
    """(colorscale, zmin, zmax) for maps after :func:`core.explain.apply_sign` with ``sign``."""
    if sign == "all" and signed:
        return DIVERGING, -1.0, 1.0
    return SEQUENTIAL.get(sign, "Reds"), 0.0, 1.0


def to_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3) values in 0..1 → (H, W, 3) uint8."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.transpose(1, 2, 0)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def overlay(image: np.ndarray, values: np.ndarray, *, signed: bool = True, strength: float = 0.85) -> np.ndarray:
    """The input in grey with the normalised map painted over it: red for positive, blue for negative,
    opacity proportional to the magnitude. Returns (H, W, 3) uint8."""
    grey = to_rgb(image).astype(np.float64).mean(axis=-1, keepdims=True) / 255.0
    base = 0.25 + 0.5 * grey  # keep the input visible but muted
    v = normalise(values)
    alpha = (np.abs(v) * strength)[..., None]
    red, blue = np.array([0.84, 0.10, 0.11]), np.array([0.13, 0.40, 0.67])
    colour = np.where(v[..., None] >= 0, red, blue) if signed else np.broadcast_to(red, (*v.shape, 3))
    out = base * (1 - alpha) + colour * alpha
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


def format_seconds(seconds: float, lang: str = "en") -> str:
    if seconds < 1:
        return _t("milliseconds", lang, value=seconds * 1000)
    return _t("seconds", lang, value=seconds)


def attribution_grid(image: np.ndarray, maps: Sequence[tuple[str, np.ndarray, float | None]], *, sign: str = "all",
                     signed: Sequence[bool] | None = None, overlays: bool = True, columns: int = 6,
                     cell_px: int = 150, lang: str = "en") -> go.Figure:
    """The input, then each method's heatmap side by side (titled with its time), and — with ``overlays`` — a
    second row per block with the map painted over the input.

    ``maps`` are ``(title, (H, W) map after the sign option, seconds or None)``; each map is normalised to its own
    99.5-th percentile magnitude so that all share one colour bar (relative attribution).
    """
    signed = list(signed) if signed is not None else [True] * len(maps)
    items: list[tuple[str, np.ndarray | None, float | None, bool]] = [("input", None, None, True)]
    items += [(t, m, s, sg) for (t, m, s), sg in zip(maps, signed, strict=True)]
    h, w = np.asarray(image).shape[:2]
    aspect = h / w  # wide inputs (spectrograms) get fewer, wider columns and flatter rows
    flat = aspect < 0.2  # a few rows over many steps (a sequence): stretched cells, or the rows would be hairlines
    cols = max(1, min(3 if flat else columns if aspect >= 0.6 else min(columns, 4), len(items)))
    blocks = math.ceil(len(items) / cols)
    row_px = int(min(cell_px, 900 / max(cols, 6 if aspect >= 0.6 else 4) * aspect)) if aspect < 1 else cell_px
    dy = 1.0
    if flat:
        row_px = int(min(cell_px, max(48, 14 * h)))
        dy = max(1.0, (row_px / h) / (900 / cols / w))  # pictures (input, overlays) stretched like the heatmaps
    kinds: list[str] = []  # one per subplot row: a block's maps, its overlays, a gap for the next block's titles
    for b in range(blocks):
        kinds += ["map"] + (["overlay"] if overlays else []) + (["gap"] if b < blocks - 1 else [])
    gap_px, spacing_px, top_px = 46, 6, 50
    heights = [gap_px if k == "gap" else row_px for k in kinds]
    height = sum(heights) + spacing_px * (len(kinds) - 1) + top_px + 10
    titles: list[str] = []
    shown_input = _t("input", lang)
    for b, kind in ((kinds[:i + 1].count("map") - 1, k) for i, k in enumerate(kinds)):
        chunk = items[b * cols:(b + 1) * cols] if kind == "map" else []
        titles += [(f"<b>{shown_input}</b>" if m is None
                    else f"<b>{t}</b>" + ("" if s is None else f"<br>{format_seconds(s, lang)}"))
                   for t, m, s, _ in chunk]
        titles += [""] * (cols - len(chunk))
    fig = make_subplots(rows=len(kinds), cols=cols, subplot_titles=titles, horizontal_spacing=0.015,
                        vertical_spacing=spacing_px / (height - top_px - 10) if len(kinds) > 1 else 0.0,
                        row_heights=heights)
    any_diverging = any(sign == "all" and sg for _, m, _, sg in items if m is not None)
    scale, zmin, zmax = colour_scale(sign, any_diverging)
    rgb = to_rgb(image)
    map_rows = [r + 1 for r, k in enumerate(kinds) if k == "map"]
    for i, (title, values, _, sg) in enumerate(items):
        block, col = divmod(i, cols)
        row = map_rows[block]
        if values is None:
            fig.add_trace(go.Image(z=rgb, dy=dy, hovertemplate=f"x %{{x}}, y %{{y}}<extra>{shown_input}</extra>"),
                          row=row, col=col + 1)
            continue
        v = normalise(values)
        if sign != "all" or not any_diverging:
            v = np.clip(v, 0, 1)
        fig.add_trace(go.Heatmap(z=v, coloraxis="coloraxis", customdata=values,
                                 hovertemplate=_t("map_hover", lang) + f"<extra>{title}</extra>"), row=row, col=col + 1)
        if overlays:
            fig.add_trace(go.Image(z=overlay(image, values, signed=sg and sign == "all"), dy=dy,
                                   hovertemplate=f"x %{{x}}, y %{{y}}<extra>{_t('overlay', lang, name=title)}</extra>"),
                          row=row + 1, col=col + 1)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, autorange="reversed",
                     constrain="domain")
    for r, kind in enumerate(kinds, start=1):  # square cells: each y axis follows its own x axis
        for c in range(1, cols + 1):
            idx = (r - 1) * cols + c
            if kind == "gap":
                fig.update_xaxes(visible=False, row=r, col=c)
                fig.update_yaxes(visible=False, row=r, col=c)
            elif not flat:
                fig.update_yaxes(scaleanchor=f"x{'' if idx == 1 else idx}", row=r, col=c)
    bar_title = _t("relative", lang, what=_t("attribution", lang) if any_diverging and sign == "all"
                   else _t(f"signs.{sign}", lang))
    fig.update_layout(coloraxis={"colorscale": scale, "cmin": zmin, "cmax": zmax,
                                 "colorbar": {"title": {"text": bar_title}, "len": min(1.0, 320 / height),
                                              "y": 1.0, "yanchor": "top", "thickness": 14}},
                      height=height, margin={"l": 10, "r": 10, "t": top_px, "b": 10})
    fig.update_annotations(font_size=12)
    return fig


def probability_bars(probs: np.ndarray, class_names: Sequence[str], *, target: int | None = None,
                     true_label: int | None = None, height: int = 260, lang: str = "en") -> go.Figure:
    """The model's class probabilities; the explained class highlighted, the true class marked."""
    probs = np.asarray(probs, dtype=np.float64)
    colours = ["#d62728" if i == target else "#9ecae1" for i in range(len(probs))]
    text = [f"{p:.0%}" + (" ✓" if i == true_label else "") for i, p in enumerate(probs)]
    fig = go.Figure(go.Bar(x=list(class_names), y=probs, marker_color=colours, text=text, textposition="outside",
                           hovertemplate=_t("probability_hover", lang) + "<extra></extra>"))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      title={"text": _t("probabilities", lang), "font": {"size": 13}})
    fig.update_yaxes(title_text=_t("probability", lang), range=[0, 1.15], tickformat=".0%")
    fig.update_xaxes(title_text=_t("class", lang), type="category")
    return fig


def output_bars(values: np.ndarray, names: Sequence[str], *, target: int | None = None,
                true_values: np.ndarray | None = None, height: int = 260, lang: str = "en") -> go.Figure:
    """A regression model's outputs (the explained one highlighted), with the true values of a test example."""
    values = np.asarray(values, dtype=np.float64)
    colours = ["#d62728" if i == target else "#9ecae1" for i in range(len(values))]
    fig = go.Figure(go.Bar(x=list(names), y=values, marker_color=colours, name=_t("model_output", lang),
                           text=[f"{v:.3g}" for v in values], textposition="outside",
                           hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    if true_values is not None and len(true_values) == len(values):
        fig.add_trace(go.Scatter(x=list(names), y=np.asarray(true_values, dtype=np.float64), mode="markers",
                                 name=_t("true_value", lang), marker={"symbol": "line-ew-open", "size": 28,
                                                                      "color": "#111", "line": {"width": 3}},
                                 hovertemplate="%{x}: %{y:.4g}<extra>" + _t("true_value", lang) + "</extra>"))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title={"text": _t("outputs", lang), "font": {"size": 13}},
                      legend={"orientation": "h", "y": -0.25})
    fig.update_yaxes(title_text=_t("value", lang))
    fig.update_xaxes(type="category")
    return fig


def deletion_figure(curves: dict[str, tuple[np.ndarray, np.ndarray, float]],
                    reference: tuple[np.ndarray, np.ndarray, float] | None = None, *,
                    class_name: str = "", measure: str = "probability", unit: str = "pixels", height: int = 340,
                    lang: str = "en") -> go.Figure:
    """Probability of the explained class (``measure="output"``: the share of a regression output's change still
    left) as the most-attributed pixels are replaced by the baseline, one line per method (legend shows the area
    under the curve: lower = more faithful); ``unit`` names what is removed ("pixels" or "cells")."""
    fig = go.Figure()
    hover = _t(f"deletion_hover_{measure}", lang)
    for i, (name, (fr, probs, auc)) in enumerate(sorted(curves.items(), key=lambda kv: kv[1][2])):
        fig.add_trace(go.Scatter(x=fr, y=probs, mode="lines", name=_t("auc", lang, name=name, auc=auc),
                                 line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                                 hovertemplate=hover + "<extra>" + name + "</extra>"))
    if reference is not None:
        fr, probs, auc = reference
        fig.add_trace(go.Scatter(x=fr, y=probs, mode="lines", name=_t("auc", lang, name=_t("random", lang), auc=auc),
                                 line={"color": "#444", "dash": "dash", "width": 2}))
    title = _t(f"deletion_{measure}", lang, name=class_name) if class_name else _t("deletion", lang)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": title, "font": {"size": 13}}, legend={"font": {"size": 11}})
    fig.update_xaxes(title_text=_t(f"removed_{unit}", lang), tickformat=".0%", range=[0, 1])
    if measure == "probability":
        fig.update_yaxes(title_text=_t("class_probability", lang), range=[0, 1.05], tickformat=".0%")
    else:
        fig.update_yaxes(title_text=_t("change_left", lang), tickformat=".0%")
    return fig


def randomization_bars(similarity: dict[str, float], *, height: int | None = None, lang: str = "en") -> go.Figure:
    """Spearman rank correlation between each method's map on the trained model and on a randomized copy:
    near 1 means the map does not depend on what the model learned."""
    names = sorted(similarity, key=lambda k: similarity[k])
    values = [similarity[n] for n in names]
    colours = ["#d62728" if v >= 0.5 else "#ff7f0e" if v >= 0.2 else "#2ca02c" for v in values]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=colours,
                           text=[f"{v:.2f}" for v in values], textposition="outside",
                           hovertemplate="%{y}: ρ = %{x:.3f}<extra></extra>"))
    fig.add_vline(x=0.5, line_dash="dot", line_color="#888")
    fig.update_layout(height=height or 90 + 32 * len(names), margin={"l": 10, "r": 30, "t": 40, "b": 10},
                      title={"text": _t("sanity", lang), "font": {"size": 13}})
    fig.update_xaxes(title_text=_t("spearman", lang), range=[min(-0.2, min(values, default=0)) - 0.05, 1.15])
    return fig


def cascading_figure(results: dict[str, tuple[list[str], list[float]]], *, height: int = 340,
                     lang: str = "en") -> go.Figure:
    """Cascading randomization: similarity as layers are randomized from the output down."""
    fig = go.Figure()
    lowest = min((min(c) for _, c in results.values() if c), default=0.0)
    for i, (name, (steps, corrs)) in enumerate(results.items()):
        fig.add_trace(go.Scatter(x=[_t("trained", lang), *steps], y=[1.0, *corrs], mode="lines+markers", name=name,
                                 line={"color": PALETTE[i % len(PALETTE)]}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": _t("cascading", lang), "font": {"size": 13}})
    fig.update_xaxes(title_text=_t("cascading_axis", lang), type="category")
    fig.update_yaxes(title_text=_t("rho_trained", lang), range=[min(-0.3, lowest - 0.05), 1.05])
    return fig


def feature_importance_bars(names: Sequence[str], mean_abs: np.ndarray, mean_signed: np.ndarray, *,
                            height: int = 300, lang: str = "en") -> go.Figure:
    """Mean |IG| per input feature, with the mean signed attribution alongside."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(names), y=mean_abs, name=_t("mean_abs", lang), marker_color="#636efa"))
    fig.add_trace(go.Bar(x=list(names), y=mean_signed, name=_t("mean_signed", lang), marker_color="#ef553b"))
    fig.update_layout(barmode="group", height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": _t("feature_importance", lang), "font": {"size": 13}},
                      legend={"orientation": "h", "y": -0.25})
    fig.update_yaxes(title_text=_t("output_units", lang))
    return fig


def neuron_importance_figure(layers: Sequence[tuple[str, np.ndarray]], *, height: int = 300,
                             lang: str = "en") -> go.Figure:
    """One heat row per hidden layer: each neuron's mean |conductance|."""
    width = max((len(v) for _, v in layers), default=1)
    z = np.full((len(layers), width), np.nan)
    for i, (_, values) in enumerate(layers):
        z[i, :len(values)] = values
    fig = go.Figure(go.Heatmap(z=z, x=[_t("neuron", lang, n=j + 1) for j in range(width)], y=[n for n, _ in layers],
                               colorscale="Viridis", colorbar={"title": {"text": _t("conductance_bar", lang)}},
                               texttemplate="%{z:.2f}",
                               hovertemplate="%{y}, %{x}<br>" + _t("conductance_hover", lang) + "<extra></extra>"))
    fig.update_layout(height=max(160, 60 + 50 * len(layers)) if height is None else height,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": _t("neuron_importance", lang), "font": {"size": 13}})
    fig.update_yaxes(autorange="reversed")
    return fig


def point_attribution_bars(names: Sequence[str], per_method: dict[str, np.ndarray], *,
                           height: int = 300, lang: str = "en") -> go.Figure:
    """One example's attribution per input feature, one bar group per feature and one colour per method."""
    fig = go.Figure()
    for i, (method, values) in enumerate(per_method.items()):
        fig.add_trace(go.Bar(x=list(names), y=np.asarray(values, dtype=float), name=method,
                             marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate="%{x}: %{y:.3g}<extra>" + method + "</extra>"))
    fig.add_hline(y=0, line_color="#888")
    fig.update_layout(barmode="group", height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": _t("point", lang), "font": {"size": 13}},
                      legend={"orientation": "h", "y": -0.25})
    fig.update_yaxes(title_text=_t("output_units", lang))
    return fig
