"""Plotly figures for the sequence lab: forecasts over the truth, gate heatmaps (units × time), gradient flow
through time, race curves and text coloured by a hidden unit. Arrays in, ``go.Figure`` out."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import text
from core.inspect.gates import SIGMOID_GATES, TANH_STATES

CELL_COLORS = {"RNN": "#d62728", "LSTM": "#1f77b4", "GRU": "#2ca02c"}
SIGMOID_SCALE = "Viridis"  # gates live in (0, 1): sequential
DIVERGING_SCALE = "RdBu_r"  # signed values: blue < 0 < red, white at 0
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def color(cell: str) -> str:
    return CELL_COLORS.get(cell, "#7f7f7f")


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _t(key: str, lang: str, **params) -> str:
    return text(f"sequences.viz.{key}", lang, **params)


def gate_title(name: str, lang: str = "en") -> str:
    """"forget gate f", "遗忘门 f" …"""
    return text(f"sequences.gates.{name}", lang)


def char_label(ch: str) -> str:
    """A visible stand-in for whitespace characters."""
    return {"\n": "↵", " ": "␣"}.get(ch, ch)


# ----------------------------------------------------------------------------- task outputs
def forecast_figure(series: np.ndarray, split: int, origins: np.ndarray, horizon: int,
                    predictions: dict[str, np.ndarray], *, context: int = 60, mean: float = 0.0,
                    std: float = 1.0, height: int = 340, lang: str = "en") -> go.Figure:
    """The validation part of the series with each cell's forecasts drawn over it.

    Forecasts are tiled: from every ``horizon``-th origin the model's full ``horizon``-step forecast, so
    the dashed line is what it would have said, block by block, looking only at the past window.
    """
    fig = go.Figure()
    start = max(0, split - context)
    t = np.arange(start, len(series))
    fig.add_trace(go.Scatter(x=t, y=series[start:] * std + mean, name=_t("truth", lang), mode="lines",
                             line={"color": "#444", "width": 1.5}))
    fig.add_vrect(x0=start, x1=split, fillcolor="#999", opacity=0.12, line_width=0,
                  annotation_text=_t("training_data", lang), annotation_position="top left")
    tiles = np.arange(0, len(origins), horizon)
    for cell, pred in predictions.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for k in tiles:
            xs += [*range(int(origins[k]), int(origins[k]) + horizon), None]
            ys += [*(pred[k] * std + mean).tolist(), None]
        fig.add_trace(go.Scatter(x=xs, y=ys, name=_t("forecast", lang, cell=cell), mode="lines", connectgaps=False,
                                 line={"color": color(cell), "dash": "dash", "width": 2}))
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.2}, uirevision="forecast",
                      title={"text": _t("forecast_title", lang, horizon=horizon), "font": {"size": 14}})
    fig.update_xaxes(title_text=_t("time_step", lang))
    fig.update_yaxes(title_text=_t("value", lang))
    return fig


def adding_figure(y_true: np.ndarray, predictions: dict[str, np.ndarray], *, height: int = 340,
                  lang: str = "en") -> go.Figure:
    """Predicted against true sum on validation sequences; a model that remembers nothing answers ≈ 1."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 2], y=[0, 2], mode="lines", name=_t("perfect", lang),
                             line={"color": "#444", "dash": "dot"}))
    fig.add_trace(go.Scatter(x=[0, 2], y=[1, 1], mode="lines", name=_t("remembers_nothing", lang),
                             line={"color": "#999", "dash": "dash"}))
    for cell, pred in predictions.items():
        fig.add_trace(go.Scatter(x=y_true[:, 0], y=pred[:, 0], mode="markers", name=cell,
                                 marker={"color": color(cell), "size": 5, "opacity": 0.6}))
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.25}, uirevision="adding",
                      title={"text": _t("adding_title", lang), "font": {"size": 14}})
    fig.update_xaxes(title_text=_t("true_sum", lang), range=[0, 2])
    fig.update_yaxes(title_text=_t("predicted_sum", lang), range=[-0.1, 2.1])
    return fig


def race_curves(history: dict[str, list[float]], evals: dict[str, list[float]], cells: Sequence[str], *,
                baseline: float | None = None, baseline_label: str = "", diverged: dict[str, int] | None = None,
                log_y: bool = True, height: int = 340, lang: str = "en") -> go.Figure:
    """Training (solid) and validation (dotted, markers) loss of every cell on one chart."""
    fig = go.Figure()
    shown: list[float] = [baseline] if baseline is not None and math.isfinite(baseline) and baseline > 0 else []
    for cell in cells:
        if f"loss/{cell}" in history:
            x, y = _finite(history["step"], history[f"loss/{cell}"])
            shown += y
            fig.add_trace(go.Scatter(x=x, y=y, name=_t("cell_train", lang, cell=cell), mode="lines", legendgroup=cell,
                                     line={"color": color(cell), "width": 1.5}))
        if f"val_loss/{cell}" in evals:
            x, y = _finite(evals["step"], evals[f"val_loss/{cell}"])
            shown += y
            fig.add_trace(go.Scatter(x=x, y=y, name=_t("cell_validation", lang, cell=cell), mode="lines+markers",
                                     legendgroup=cell,
                                     line={"color": color(cell), "dash": "dot"}, marker={"size": 4}))
    for cell, step in (diverged or {}).items():
        fig.add_vline(x=step, line={"color": color(cell), "dash": "dash"},
                      annotation_text=_t("diverged", lang, cell=cell), annotation_position="top")
    if baseline is not None and math.isfinite(baseline) and baseline > 0:
        fig.add_hline(y=baseline, line={"color": "#777", "dash": "dash"}, annotation_text=baseline_label,
                      annotation_position="bottom right")
    fig.update_xaxes(title_text=_t("step", lang))
    fig.update_yaxes(title_text=_t("loss_log" if log_y else "loss", lang), type="log" if log_y else "linear")
    positive = [v for v in shown if v > 0]
    if log_y and positive:  # a tight explicit range: autorange pads log axes by decades
        low, high = math.log10(min(positive)) - 0.1, math.log10(max(positive)) + 0.1
        fig.update_yaxes(range=[low, high], dtick="D2" if high - low < 2.5 else None)
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.25}, uirevision="race")
    return fig


# ----------------------------------------------------------------------------- gates
def _colors_for(name: str, values: np.ndarray) -> dict:
    if name in SIGMOID_GATES:
        return {"colorscale": SIGMOID_SCALE, "zmin": 0.0, "zmax": 1.0}
    if name in TANH_STATES:
        return {"colorscale": DIVERGING_SCALE, "zmin": -1.0, "zmax": 1.0, "zmid": 0.0}
    bound = float(np.nanmax(np.abs(values))) if values.size else 1.0
    return {"colorscale": DIVERGING_SCALE, "zmin": -max(bound, 1e-6), "zmax": max(bound, 1e-6), "zmid": 0.0}


def gate_heatmaps(states: dict[str, np.ndarray], names: Sequence[str], *, x_labels: Sequence[str] | None = None,
                  input_values: np.ndarray | None = None, input_label: str = "input",
                  markers: Sequence[int] = (), title: str = "", lang: str = "en") -> go.Figure:
    """One heatmap (units × time) per gate or state in ``names``; ``states[name]`` is (T, H).

    Sigmoid gates (i, f, o, r, z) use a sequential 0..1 scale; tanh quantities (g, n, h) a diverging −1..1
    scale; the LSTM cell state c a diverging scale symmetric around 0. ``input_values`` (T,) adds a line
    row on top; ``markers`` draws vertical lines at those steps through every row.
    """
    rows = list(names)
    steps, units = states[rows[0]].shape
    has_input = input_values is not None
    n_rows = len(rows) + has_input
    unit_px = int(min(260, max(90, units * 4)))
    heights = ([70] if has_input else []) + [unit_px] * len(rows)
    titles = ([input_label] if has_input else []) + [gate_title(n, lang) for n in rows]
    fig = make_subplots(rows=n_rows, cols=1, shared_xaxes=True, vertical_spacing=min(0.06, 0.25 / n_rows),
                        row_heights=heights, subplot_titles=titles)
    t = np.arange(steps)
    if has_input:
        fig.add_trace(go.Scatter(x=t, y=input_values, mode="lines+markers", line={"color": "#444"},
                                 marker={"size": 3}, showlegend=False, name=input_label), row=1, col=1)
    bars_shown: set[str] = set()
    unit, step, value = _t("unit", lang), _t("step", lang), _t("value", lang)
    for k, name in enumerate(rows):
        row = k + 1 + has_input
        z = states[name].T
        scale = _colors_for(name, z)
        kind = "sigmoid" if name in SIGMOID_GATES else ("tanh" if name in TANH_STATES else name)
        domain = fig.layout[f"yaxis{'' if row == 1 else row}"].domain
        show_bar = kind not in bars_shown
        bars_shown.add(kind)
        bar_title = _t(f"bar_{kind}", lang) if kind in ("sigmoid", "tanh") else name
        fig.add_trace(go.Heatmap(
            z=z, x=t, y=np.arange(units), showscale=show_bar, **scale,
            colorbar={"title": {"text": bar_title, "side": "right"}, "len": (domain[1] - domain[0]) * 1.0,
                      "y": (domain[0] + domain[1]) / 2, "thickness": 12, "x": 1.01},
            hovertemplate=f"{name}: {unit} %{{y}}, {step} %{{x}}<br>{value} %{{z:.3f}}<extra></extra>"), row=row,
            col=1)
        fig.update_yaxes(title_text=_t("unit", lang), row=row, col=1, autorange="reversed")
    for m in markers:
        fig.add_vline(x=m, line={"color": "#ff7f0e", "width": 1.5, "dash": "dot"})
    if x_labels is not None and steps <= 160:
        fig.update_xaxes(tickmode="array", tickvals=list(t), ticktext=[char_label(c) for c in x_labels],
                         tickangle=0, tickfont={"size": 10}, showticklabels=True)
    fig.update_xaxes(title_text=_t("time_step" if x_labels is None else "input_character", lang), row=n_rows, col=1)
    fig.update_layout(height=int(sum(heights) + 60 * n_rows + 60), margin={"l": 10, "r": 70, "t": 50, "b": 10},
                      title={"text": title, "font": {"size": 14}}, uirevision="gates")
    return fig


# ----------------------------------------------------------------------------- gradients
def grad_flow_figure(init: dict[str, np.ndarray], now: dict[str, np.ndarray] | None = None, step: int = 0, *,
                     title: str = "", height: int = 340, lang: str = "en") -> go.Figure:
    """‖∂L/∂h_t‖ against t on a log scale: each cell at initialisation (dashed) and at ``step`` (solid).

    A curve that falls off to the left means the error at the end barely reaches early steps (vanishing);
    one that rises to the left means it is amplified on the way back (exploding).
    """
    fig = go.Figure()
    curves = [(cell, True, norms) for cell, norms in init.items()]
    curves += [(cell, False, norms) for cell, norms in (now or {}).items()]
    for cell, at_init, norms in curves:
        label = _t("grad_init", lang, cell=cell) if at_init else _t("grad_now", lang, cell=cell, step=step)
        t = np.arange(1, len(norms) + 1)
        y = np.where(norms > 0, norms, np.nan)
        fig.add_trace(go.Scatter(x=t, y=y, name=label, mode="lines", line={"color": color(cell),
                                 "dash": "dash" if at_init else "solid", "width": 1.5 if at_init else 2.5},
                                 hovertemplate="t=%{x}<br>‖∂L/∂h_t‖=%{y:.3e}<extra>" + label + "</extra>"))
    fig.update_xaxes(title_text=_t("grad_t", lang))
    fig.update_yaxes(title_text=_t("grad_axis", lang), type="log", exponentformat="power")
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.25}, uirevision="gradflow",
                      title={"text": title, "font": {"size": 14}})
    return fig


def grad_norm_steps(history: dict[str, list[float]], cells: Sequence[str], *, clip_norm: float | None = None,
                    previous: dict[str, tuple[list[float], list[float]]] | None = None, previous_label: str = "",
                    height: int = 340, lang: str = "en") -> go.Figure:
    """Global gradient norm per step (before clipping) for each cell and the clipping threshold (updates use
    min(norm, max-norm)); ``previous`` overlays another run's curves (cell → (steps, norms)), drawn faint."""
    fig = go.Figure()
    previous_label = previous_label or _t("previous_run", lang)
    for k, (cell, (x, y)) in enumerate((previous or {}).items()):
        x, y = _finite(x, y)
        fig.add_trace(go.Scatter(x=x, y=y, name=previous_label, mode="lines", opacity=0.35,
                                 legendgroup="previous", showlegend=k == 0, line={"color": color(cell), "width": 1},
                                 hovertemplate=f"{cell}, {previous_label}: %{{y:.3g}}<extra></extra>"))
    for cell in cells:
        key = f"grad_norm/{cell}"
        if key in history:
            x, y = _finite(history["step"], history[key])
            fig.add_trace(go.Scatter(x=x, y=y, name=cell, mode="lines", line={"color": color(cell), "width": 1.5}))
    if clip_norm:
        fig.add_hline(y=clip_norm, line={"color": "#000", "dash": "dash"},
                      annotation_text=_t("max_norm", lang, value=clip_norm), annotation_position="top right")
    fig.update_xaxes(title_text=_t("step", lang))
    fig.update_yaxes(title_text=_t("grad_norm_axis", lang), type="log", exponentformat="power")
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.25}, uirevision="gradsteps",
                      showlegend=True, title={"text": _t("grad_steps_title", lang), "font": {"size": 14}})
    return fig


# ----------------------------------------------------------------------------- LSTMVis-style text
def _rgb(color_string: str) -> tuple[int, int, int]:
    nums = color_string[color_string.index("(") + 1:color_string.index(")")].split(",")
    return tuple(int(round(float(v))) for v in nums[:3])  # type: ignore[return-value]


def value_colors(values: np.ndarray, *, symmetric: bool = True) -> list[tuple[int, int, int]]:
    """RGB colours for ``values``: diverging RdBu (white at 0, ±max|v|) or sequential Viridis on 0..1."""
    values = np.nan_to_num(np.asarray(values, dtype=float))
    if symmetric:
        bound = float(np.abs(values).max()) or 1.0
        positions = np.clip(values / bound * 0.5 + 0.5, 0, 1)
        scale = plotly.colors.get_colorscale(DIVERGING_SCALE)
    else:
        positions = np.clip(values, 0, 1)
        scale = plotly.colors.get_colorscale(SIGMOID_SCALE)
    return [_rgb(c) for c in plotly.colors.sample_colorscale(scale, positions.tolist())]


def colored_text_html(chars: Sequence[str], values: np.ndarray, *, span: tuple[int, int] | None = None,
                      symmetric: bool = True) -> str:
    """LSTMVis-style: the text as HTML, each character's background coloured by its activation.

    Characters are HTML-escaped (pasted text is untrusted); the tooltip shows position and value;
    ``span`` [start, end) is outlined.
    """
    parts = ['<div style="font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 17px; '
             'line-height: 2.0; word-break: break-all; white-space: normal;">']
    for k, (ch, rgb) in enumerate(zip(chars, value_colors(values, symmetric=symmetric), strict=True)):
        luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
        fg = "#000" if luminance > 140 else "#fff"
        outline = "outline: 2px solid #000; outline-offset: -1px;" if span and span[0] <= k < span[1] else ""
        shown = {"\n": "↵", " ": "&nbsp;"}.get(ch, html.escape(ch))
        parts.append(f'<span title="#{k} {html.escape(repr(ch))}: {float(values[k]):.3f}" style="background: '
                     f'rgb{rgb}; color: {fg}; padding: 2px 1px; {outline}">{shown}</span>')
        if ch == "\n":
            parts.append("<br>")
    parts.append("</div>")
    return "".join(parts)


def units_heatmap(activations: np.ndarray, units: Sequence[int], chars: Sequence[str], *,
                  span: tuple[int, int] | None = None, symmetric: bool = True, height: int = 300,
                  lang: str = "en") -> go.Figure:
    """Selected units (rows) over the text (columns): LSTMVis's overview of the units that fire on a span."""
    z = activations[:, list(units)].T
    bound = float(np.abs(z).max()) or 1.0
    scale = ({"colorscale": DIVERGING_SCALE, "zmin": -bound, "zmax": bound, "zmid": 0.0} if symmetric
             else {"colorscale": SIGMOID_SCALE, "zmin": 0.0, "zmax": 1.0})
    labels = [char_label(c) for c in chars]
    fig = go.Figure(go.Heatmap(z=z, x=np.arange(len(chars)), y=[_t("unit_n", lang, n=u) for u in units],
                               customdata=np.tile(np.array(labels, dtype=object), (len(units), 1)),
                               colorbar={"thickness": 12},
                               hovertemplate="%{y} · '%{customdata}' (#%{x}): %{z:.3f}<extra></extra>",
                               **scale))
    if span is not None:
        fig.add_vrect(x0=span[0] - 0.5, x1=span[1] - 0.5, line={"color": "#000", "width": 2})
    if len(chars) <= 120:
        fig.update_xaxes(tickmode="array", tickvals=list(range(len(chars))), ticktext=labels, tickangle=0,
                         tickfont={"size": 10})
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=height, margin=_MARGIN, title={"text": _t("units_title", lang), "font": {"size": 14}})
    return fig


def span_units_figure(top: Sequence[tuple[int, float]], *, height: int = 280, lang: str = "en") -> go.Figure:
    """Bar chart of the units that react most to a selected span (score = mean on span − mean elsewhere)."""
    units = [_t("unit_n", lang, n=u) for u, _ in top]
    scores = [s for _, s in top]
    fig = go.Figure(go.Bar(x=scores, y=units, orientation="h",
                           marker={"color": ["#d62728" if s > 0 else "#1f77b4" for s in scores]},
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=_t("span_axis", lang))
    fig.update_layout(height=height, margin=_MARGIN, title={"text": _t("span_title", lang), "font": {"size": 14}})
    return fig
