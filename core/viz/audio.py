"""Plotly figures for sound: waveform, spectrograms (time in s, frequency in Hz, dB colour bars), MFCCs,
class probabilities, confusion matrices, the CNN-vs-LSTM race and attribution maps over time and frequency.
Every text comes from the catalogue (``audio.viz.*``) in the language ``lang``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import text
from core.jobs import JobSnapshot

# Magma, except its first stop #000004: Streamlit's Plotly theme treats #000001–#00000x as placeholders for
# theme colours and would paint the quietest cells pink.
SPECTRO_SCALE = [[i / 9, c] for i, c in enumerate(["#05020f", "#180f3d", "#440f76", "#721f81", "#9e2f7f", "#cd4071",
                                                     "#f1605d", "#fd9668", "#feca8d", "#fcfdbf"])]
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
RACE_COLORS = {"cnn": "#1f77b4", "lstm": "#d62728", "gru": "#2ca02c", "taught": "#9467bd"}  # taught: your voice


def _t(name: str, lang: str, **params: object) -> str:
    return text(f"audio.viz.{name}", lang, **params)


def _hz(f: float) -> str:
    return f"{f / 1000:.1f}k" if f >= 1000 else f"{f:.0f}"


def _envelope(wave: np.ndarray, sr: int, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max envelope so long clips stay light; exact samples for short ones."""
    n = len(wave)
    t = np.arange(n) / sr
    if n <= max_points:
        return t, wave
    k = math.ceil(n / (max_points // 2))
    m = n // k
    blocks = wave[: m * k].reshape(m, k)
    tt = t[: m * k : k]
    y = np.empty(2 * m, dtype=wave.dtype)
    y[0::2], y[1::2] = blocks.min(1), blocks.max(1)
    return np.repeat(tt, 2), y


def waveform_figure(wave: np.ndarray, sr: int, *, title: str | None = None, height: int = 220,
                    color: str = "#1f77b4", max_points: int = 6000, lang: str = "en") -> go.Figure:
    """Amplitude against time (s)."""
    t, y = _envelope(np.asarray(wave, dtype=np.float32), sr, max_points)
    fig = go.Figure(go.Scatter(x=t, y=y, mode="lines", line={"width": 1, "color": color},
                               name=_t("amplitude", lang), hovertemplate="%{x:.3f} s<br>%{y:.3f}<extra></extra>"))
    peak = max(1e-3, float(np.abs(wave).max()) if len(wave) else 1.0)
    fig.update_layout(title=title or _t("waveform", lang), height=height, margin=MARGIN, showlegend=False,
                      xaxis={"title": _t("time", lang), "range": [0, len(wave) / sr]},
                      yaxis={"title": _t("amplitude", lang), "range": [-1.05 * peak, 1.05 * peak],
                             "zeroline": True})
    return fig


MAX_CELLS = 250_000  # heatmap cells sent to the browser; longer analyses are averaged over neighbouring frames


def _thin(values: np.ndarray, times: np.ndarray, max_cells: int = MAX_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """Average groups of neighbouring frames so rows × frames stays under ``max_cells`` (display only)."""
    rows, frames = values.shape
    k = math.ceil(rows * frames / max_cells)
    if k <= 1:
        return values, times
    m = frames // k
    return values[:, : m * k].reshape(rows, m, k).mean(axis=2), times[: m * k].reshape(m, k).mean(axis=1)


def _mel_ticks(freqs: np.ndarray, count: int = 7) -> tuple[list[int], list[str]]:
    idx = np.unique(np.linspace(0, len(freqs) - 1, count).round().astype(int))
    return idx.tolist(), [_hz(freqs[i]) for i in idx]


def spectrogram_figure(values: np.ndarray, times: np.ndarray, freqs: np.ndarray, *, title: str,
                       mel: bool = False, height: int = 300, zmin: float | None = None,
                       colorbar_title: str = "dB", lang: str = "en") -> go.Figure:
    """A time–frequency heatmap in dB. Linear-frequency rows (STFT) sit at their Hz; mel bands are drawn
    evenly (as the network sees them) with the y axis labelled by each band's centre frequency in Hz."""
    values, times = _thin(np.asarray(values), np.asarray(times))
    if mel:
        y = np.arange(len(freqs))
        tickvals, ticktext = _mel_ticks(freqs)
        yaxis = {"title": _t("frequency_mel", lang), "tickvals": tickvals, "ticktext": ticktext}
        custom = np.repeat(np.asarray(freqs)[:, None], values.shape[1], axis=1)
        hover = f"%{{x:.2f}} s<br>%{{customdata:.0f}} Hz ({_t('band', lang)} %{{y}})<br>%{{z:.1f}} dB<extra></extra>"
    else:
        y = freqs
        yaxis = {"title": _t("frequency", lang)}
        custom = None
        hover = "%{x:.2f} s<br>%{y:.0f} Hz<br>%{z:.1f} dB<extra></extra>"
    fig = go.Figure(go.Heatmap(z=values, x=times, y=y, customdata=custom, colorscale=SPECTRO_SCALE,
                               zmin=zmin if zmin is not None else float(values.min()), zmax=float(values.max()),
                               colorbar={"title": {"text": colorbar_title}, "thickness": 12},
                               hovertemplate=hover))
    fig.update_layout(title=title, height=height, margin=MARGIN, xaxis={"title": _t("time", lang)}, yaxis=yaxis)
    return fig


def _robust_limit(values: np.ndarray, q: float = 99.0) -> float:
    return max(1e-6, float(np.percentile(np.abs(values), q))) if values.size else 1.0


def mfcc_figure(values: np.ndarray, times: np.ndarray, n_mfcc: int, deltas: int, *, height: int = 480,
                title: str | None = None, lang: str = "en") -> go.Figure:
    """MFCCs (and Δ, ΔΔ) as diverging heatmaps centred at 0, one panel each with its own colour range.
    The range ignores c0 (overall loudness, far larger than the rest), which saturates."""
    names = [_t("mfcc", lang), _t("delta", lang), _t("delta2", lang)][: 1 + deltas]
    coefficient = _t("coefficient", lang)
    values, times = _thin(np.asarray(values), np.asarray(times))
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.12 if deltas else 0.05,
                        subplot_titles=names)
    panel_h = 1 / len(names)
    for i, name in enumerate(names):
        block = values[i * n_mfcc: (i + 1) * n_mfcc]
        lim = _robust_limit(block[1:] if len(block) > 1 else block)
        fig.add_trace(go.Heatmap(z=block, x=times, y=np.arange(n_mfcc), colorscale="RdBu", reversescale=True,
                                 zmid=0, zmin=-lim, zmax=lim, name=name,
                                 colorbar={"thickness": 10, "len": panel_h * 0.85,
                                           "y": 1 - panel_h * (i + 0.5), "title": {"text": "dB" if i == 0 else ""}},
                                 hovertemplate=f"%{{x:.2f}} s<br>{coefficient} %{{y}}<br>%{{z:.1f}}<extra>{name}"
                                               "</extra>"),
                      row=i + 1, col=1)
        fig.update_yaxes(title_text=coefficient, row=i + 1, col=1)
    fig.update_xaxes(title_text=_t("time", lang), row=len(names), col=1)
    fig.update_layout(title=title or _t("mfcc", lang), height=height if deltas else max(240, height // 2),
                      margin=MARGIN)
    fig.update_annotations(font_size=12)
    return fig


def probability_figure(probs: dict[str, np.ndarray], labels: Sequence[str], *, kinds: dict[str, str] | None = None,
                       height: int = 280, lang: str = "en") -> go.Figure:
    """Class probabilities of one or more models (``kinds``: name → "cnn" / "lstm" / "gru" / "taught" for the
    colours), grouped bars per digit."""
    fig = go.Figure()
    for name, p in probs.items():
        kind = (kinds or {}).get(name, "cnn")
        fig.add_trace(go.Bar(x=list(labels), y=p, name=name, marker_color=RACE_COLORS[kind],
                             text=[f"{v:.0%}" if v >= 0.05 else "" for v in p], textposition="outside",
                             textfont={"size": 10}, cliponaxis=False,
                             hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>"))
    fig.update_layout(barmode="group", height=height, margin=MARGIN, yaxis={"title": _t("probability", lang),
                      "range": [0, 1.12], "tickformat": ".0%"}, xaxis={"title": _t("digit", lang)},
                      legend={"orientation": "h", "y": 1.12}, title=_t("probabilities", lang))
    return fig


def confusion_figure(confusion: np.ndarray, labels: Sequence[str], *, title: str | None = None,
                     height: int = 360, lang: str = "en") -> go.Figure:
    """Counts with true digit down and predicted digit across; the diagonal is right."""
    hover = _t("confusion_hover", lang, said="%{y}", heard="%{x}", n="%{z}")
    fig = go.Figure(go.Heatmap(z=confusion, x=list(labels), y=list(labels), colorscale="Blues", showscale=False,
                               text=confusion, texttemplate="%{text}", hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(title=title or _t("confusion", lang), height=height, margin=MARGIN,
                      xaxis={"title": _t("predicted", lang), "side": "bottom"},
                      yaxis={"title": _t("true", lang), "autorange": "reversed"})
    return fig


def voice_accuracy_figure(per_model: dict[str, dict[str, float]], *, kinds: dict[str, str] | None = None,
                          recording: dict[str, dict[str, float]] | None = None, height: int = 260,
                          lang: str = "en") -> go.Figure:
    """Test accuracy per unseen voice, one bar group per model (``kinds``: name → model kind, for the colours);
    with ``recording``, each model's accuracy on the recording-like versions as a hatched bar beside it."""
    fig = go.Figure()
    for name, per_voice in per_model.items():
        color = RACE_COLORS[(kinds or {}).get(name, "cnn")]
        rows = [(per_voice, "", None)]
        if recording and name in recording:
            rows = [(per_voice, _t("clean", lang), None), (recording[name], _t("recording", lang), "/")]
        for values, what, pattern in rows:
            label = f"{name} · {what}" if what else name
            fig.add_trace(go.Bar(x=list(values), y=list(values.values()), name=label,
                                 marker={"color": color if pattern is None else "white", "line": {"color": color,
                                                                                                  "width": 1},
                                         "pattern": {"shape": pattern or "", "fgcolor": color}},
                                 hovertemplate="%{x}: %{y:.0%}<extra>" + label + "</extra>"))
    fig.update_layout(barmode="group", title=_t("per_voice", lang), height=height + (60 if recording else 0),
                      margin=MARGIN, yaxis={"title": _t("accuracy", lang), "range": [0, 1.05], "tickformat": ".0%"},
                      legend={"orientation": "h", "y": -0.2 if recording else 1.15})
    return fig


def _eval_seconds(snap: JobSnapshot) -> tuple[list[float], list[float]]:
    """(wall seconds, validation accuracy) at every evaluation, seconds interpolated from the step history."""
    steps, acc = snap.evals.get("step", []), snap.evals.get("val_accuracy", [])
    hist_steps, wall = snap.history.get("step", []), snap.history.get("wall_s", [])
    xs = np.interp(steps, [0.0, *hist_steps], [0.0, *wall]) if hist_steps else np.zeros(len(steps))
    return list(xs), list(acc)


def race_figure(snaps: dict[str, tuple[str, JobSnapshot | None]], *, target: float | None = 0.9,
                height: int = 300, lang: str = "en") -> go.Figure:
    """Validation accuracy (unseen voices) against seconds of training, one line per model."""
    fig = go.Figure()
    for name, (kind, snap) in snaps.items():
        if snap is None:
            continue
        x, y = _eval_seconds(snap)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, line={"color": RACE_COLORS[kind]},
                                 hovertemplate="%{x:.1f} s: %{y:.1%}<extra>" + name + "</extra>"))
    if target:
        fig.add_hline(y=target, line_dash="dot", line_color="gray", annotation_text=f"{target:.0%}",
                      annotation_position="bottom right")
    fig.update_layout(title=_t("race", lang), height=height, margin=MARGIN,
                      xaxis={"title": _t("training_time", lang), "rangemode": "tozero"},
                      yaxis={"title": _t("accuracy", lang), "range": [0, 1.02], "tickformat": ".0%"},
                      legend={"orientation": "h", "y": -0.25}, uirevision="race")
    return fig


def attribution_figure(inputs: np.ndarray, attribution: np.ndarray, times: np.ndarray, *,
                       freqs: np.ndarray | None = None, row_labels: Sequence[str] | None = None,
                       title: str | None = None, input_title: str | None = None,
                       height: int = 520, lang: str = "en") -> go.Figure:
    """The model's input, the attribution over it (red: pushed towards the class, blue: against it), and how much
    each moment mattered (sum of |attribution| per frame)."""
    has_freq = freqs is not None
    rows = np.arange(inputs.shape[0])
    row = _t("row", lang)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.4, 0.4, 0.2],
                        subplot_titles=(input_title or _t("input", lang), _t("attribution", lang),
                                        _t("importance", lang)))
    in_lim = _robust_limit(inputs[1:] if len(inputs) > 1 else inputs)  # MFCC: c0 (loudness) would swamp the rest
    fig.add_trace(go.Heatmap(z=inputs, x=times, y=rows, colorscale=SPECTRO_SCALE if has_freq else "RdBu",
                             reversescale=not has_freq, zmid=None if has_freq else 0,
                             zmin=None if has_freq else -in_lim, zmax=None if has_freq else in_lim,
                             colorbar={"thickness": 10, "len": 0.36, "y": 0.81, "title": {"text": "dB" if has_freq
                                                                                           else ""}},
                             hovertemplate=f"%{{x:.2f}} s · {row} %{{y}}<br>%{{z:.2f}}<extra></extra>"), row=1, col=1)
    lim = _robust_limit(attribution, 99.5)
    fig.add_trace(go.Heatmap(z=attribution, x=times, y=rows, colorscale="RdBu", reversescale=True, zmid=0,
                             zmin=-lim, zmax=lim, colorbar={"thickness": 10, "len": 0.36, "y": 0.39,
                                                            "title": {"text": _t("attr", lang)}},
                             hovertemplate=f"%{{x:.2f}} s · {row} %{{y}}<br>%{{z:.3g}}<extra></extra>"), row=2, col=1)
    profile = np.abs(attribution).sum(axis=0)
    fig.add_trace(go.Scatter(x=times, y=profile, mode="lines", fill="tozeroy", line={"color": "#444"},
                             showlegend=False, hovertemplate="%{x:.2f} s: %{y:.3g}<extra></extra>"), row=3, col=1)
    for r in (1, 2):
        if has_freq:
            tickvals, ticktext = _mel_ticks(freqs, 5)
            fig.update_yaxes(title_text=_t("hz_mel", lang), tickvals=tickvals, ticktext=ticktext, row=r, col=1)
        elif row_labels:
            step = max(1, len(row_labels) // 6)
            fig.update_yaxes(title_text=_t("feature", lang), tickvals=rows[::step].tolist(),
                             ticktext=list(row_labels)[::step], row=r, col=1)
    fig.update_yaxes(title_text=_t("abs_attr", lang), row=3, col=1)
    fig.update_xaxes(title_text=_t("time", lang), row=3, col=1)
    fig.update_layout(title=title or _t("drove", lang), height=height, margin=MARGIN)
    fig.update_annotations(font_size=12)
    return fig
