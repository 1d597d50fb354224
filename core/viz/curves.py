"""Training curves shared by every lab."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go

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
        with warnings.catch_warnings():  # an all-NaN block (a column recorded only every few steps) stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            col = head[:, -1] if key == "step" else np.nanmean(head, axis=1)
            if cut < len(arr):
                tail = arr[cut:]
                col = np.append(col, tail[-1] if key == "step" else np.nanmean(tail))
        history[key] = col.tolist()
    return replace(snap, history=history)


def training_curves(snap: JobSnapshot | None, *, metric: str = "accuracy", metric_label: str | None = None,
                    log_loss: bool = False, height: int = 300, val_name: str | None = None, lang: str = "en"
                    ) -> go.Figure:
    """Loss (train and validation) and, when recorded, a task metric against the step.

    Built from plain dicts (no per-property validation): pages redraw it live, and plotly's validation took
    most of the server's time per redraw.
    """
    metric_label = metric_label or text("common.curves.accuracy", lang)
    train, val = text("common.curves.train", lang), val_name or text("common.curves.validation", lang)
    has_metric = snap is not None and (metric in snap.history or f"val_{metric}" in snap.evals)
    data: list[dict] = []
    if snap is not None:
        series = [("loss", snap.history, train, TRAIN_COLOR, ""), ("val_loss", snap.evals, val, VAL_COLOR, "")]
        if has_metric:
            series += [(metric, snap.history, train, TRAIN_COLOR, "2"),
                       (f"val_{metric}", snap.evals, val, VAL_COLOR, "2")]
        for key, table, name, color, axis in series:
            if key in table:
                x, y = _finite(table["step"], table[key])
                data.append({"type": "scatter", "x": x, "y": [round(v, 6) for v in y], "name": name,
                             "mode": "lines", "line": {"color": color}, "legendgroup": name,
                             "showlegend": axis == "", "xaxis": f"x{axis}", "yaxis": f"y{axis}"})
    step = text("common.curves.step", lang)
    split = (0.0, 0.44) if has_metric else (0.0, 1.0)
    layout = {
        "height": height, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "uirevision": "curves",
        "legend": {"orientation": "h", "y": -0.25},
        "xaxis": {"domain": split, "title": {"text": step}, "anchor": "y"},
        "yaxis": {"title": {"text": text("common.curves.loss_axis", lang)}, "type": "log" if log_loss else "linear",
                  "anchor": "x"},
        "annotations": [_title(text("common.curves.loss", lang), sum(split) / 2)],
    }
    if has_metric:
        layout["xaxis2"] = {"domain": (0.56, 1.0), "title": {"text": step}, "anchor": "y2"}
        layout["yaxis2"] = {"title": {"text": metric_label.lower()}, "anchor": "x2"}
        layout["annotations"].append(_title(metric_label, 0.78))
    return fast_figure(data, layout)


def _title(label: str, x: float) -> dict:
    return {"text": label, "x": x, "y": 1.0, "xref": "paper", "yref": "paper", "xanchor": "center",
            "yanchor": "bottom", "showarrow": False, "font": {"size": 16}}


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts without plotly's per-property validation (10× faster for live views; the unit
    tests validate the same specs once)."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)
