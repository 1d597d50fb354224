"""Training curves shared by every lab."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import text
from core.jobs import JobSnapshot

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def thin(snap: JobSnapshot, max_points: int = 300) -> JobSnapshot:
    """A copy of ``snap`` whose per-step history is averaged down to at most ``max_points`` rows (the last step
    kept), so a curve stays smooth and cheap to draw however long training runs."""
    n = len(snap.history.get("step", []))
    if n <= max_points:
        return snap
    size = -(-n // max_points)
    history = {}
    for key, values in snap.history.items():
        arr = np.asarray(values, dtype=float)
        cut = len(arr) - len(arr) % size
        head = arr[:cut].reshape(-1, size)
        with np.errstate(all="ignore"):
            col = head[:, -1] if key == "step" else np.nanmean(head, axis=1)
            if cut < len(arr):
                tail = arr[cut:]
                col = np.append(col, tail[-1] if key == "step" else np.nanmean(tail))
        history[key] = col.tolist()
    return replace(snap, history=history)


def training_curves(snap: JobSnapshot | None, *, metric: str = "accuracy", metric_label: str | None = None,
                    log_loss: bool = False, height: int = 300, val_name: str | None = None, lang: str = "en"
                    ) -> go.Figure:
    """Loss (train and validation) and, when recorded, a task metric against the step."""
    metric_label = metric_label or text("common.curves.accuracy", lang)
    train, val = text("common.curves.train", lang), val_name or text("common.curves.validation", lang)
    has_metric = snap is not None and (metric in snap.history or f"val_{metric}" in snap.evals)
    fig = make_subplots(rows=1, cols=2 if has_metric else 1,
                        subplot_titles=(text("common.curves.loss", lang), metric_label)[: 1 + has_metric],
                        horizontal_spacing=0.12)
    if snap is not None:
        series = [("loss", snap.history, train, TRAIN_COLOR, 1), ("val_loss", snap.evals, val, VAL_COLOR, 1)]
        if has_metric:
            series += [(metric, snap.history, train, TRAIN_COLOR, 2),
                       (f"val_{metric}", snap.evals, val, VAL_COLOR, 2)]
        for key, table, name, color, col in series:
            if key in table:
                x, y = _finite(table["step"], table[key])
                fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line={"color": color},
                                         legendgroup=name, showlegend=col == 1), row=1, col=col)
    fig.update_xaxes(title_text=text("common.curves.step", lang))
    fig.update_yaxes(title_text=text("common.curves.loss_axis", lang), type="log" if log_loss else "linear", row=1,
                     col=1)
    if has_metric:
        fig.update_yaxes(title_text=metric_label.lower(), row=1, col=2)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.25}, uirevision="curves")
    return fig
