"""Plotly figures for the compression lab: accuracy against sparsity, per-layer sparsity, the quantization table,
the two distilled students' curves and soft targets, few-shot accuracy against k, and the export checks.

Arrays and the lab's views in, ``go.Figure`` out; every text comes from the ``compress`` catalogue in ``lang``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.compress.export import ExportCheck
from core.compress.prune import SweepResult
from core.compress.quantize import QuantTable
from core.compress.transfer import FewShotView
from core.i18n import text
from core.labs.compress import DistillView, PruneView

COLORS = {"magnitude": "#1f77b4", "channel": "#d62728", "global": "#2ca02c",
          "frozen": "#1f77b4", "finetune": "#2ca02c", "scratch": "#7f7f7f", "rotation": "#9467bd",
          "kd": "#2ca02c", "plain": "#7f7f7f", "teacher": "#ff7f0e", "teacher_soft": "#ffbb78"}
ONNX_TOLERANCE = 1e-4


def _t(key: str, lang: str, **params: object) -> str:
    return text(f"compress.{key}", lang, **params)


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0.01, "font": {"size": 14}}, height=height,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.2})
    return fig


def _as_percent(metric: str, values: np.ndarray) -> np.ndarray:
    return values * 100 if metric == "accuracy" else values


def _metric_axis(metric: str, lang: str) -> str:
    return _t(f"metrics.{metric}", lang) + (" (%)" if metric == "accuracy" else "")


def sparsity_figure(result: SweepResult, lang: str = "en", current: float | None = None,
                    height: int = 340) -> go.Figure:
    """Test score against the measured sparsity for each pruning method, with the unpruned model's level."""
    fig = go.Figure()
    for i, method in enumerate(result.methods):
        fig.add_trace(go.Scatter(
            x=result.sparsity[i] * 100, y=_as_percent(result.metric, result.scores[i]), mode="lines+markers",
            name=_t(f"prune_methods.{method}", lang), line={"color": COLORS.get(method)},
            customdata=result.sparse_bytes[i] / 1024,
            hovertemplate=f"{_t('charts.sparsity_axis', lang)}: %{{x:.1f}}<br>{_metric_axis(result.metric, lang)}: "
                          f"%{{y:.2f}}<br>{_t('charts.sparse_size', lang)}: %{{customdata:,.1f}} KB<extra></extra>"))
    dense = float(_as_percent(result.metric, np.array(result.dense_score)))
    fig.add_hline(y=dense, line_dash="dot", line_color="black",
                  annotation_text=_t("charts.unpruned", lang, value=dense), annotation_position="bottom left")
    if current is not None:
        fig.add_vline(x=current * 100, line_dash="dash", line_color="#999")
    fig.update_xaxes(title_text=_t("charts.sparsity_axis", lang), range=[-2, 100])
    fig.update_yaxes(title_text=_metric_axis(result.metric, lang))
    return _layout(fig, _t("charts.sparsity_title", lang), height)


def layer_sparsity_figure(view: PruneView, lang: str = "en", height: int | None = None) -> go.Figure:
    """One bar per pruned weight tensor: the share of its weights that are zero."""
    names = list(view.layer_names)[::-1]
    fractions = (np.asarray(view.layer_sparsity) * 100)[::-1]
    sizes = np.asarray(view.layer_sizes)[::-1]
    fig = go.Figure(go.Bar(x=fractions, y=names, orientation="h", marker_color=COLORS.get(view.method),
                           customdata=sizes, text=[f"{f:.0f} %" for f in fractions], textposition="auto",
                           hovertemplate=f"%{{y}}<br>{_t('charts.zeros_axis', lang)}: %{{x:.1f}}<br>"
                                         f"{_t('charts.weights', lang)}: %{{customdata:,}}<extra></extra>"))
    fig.update_xaxes(title_text=_t("charts.zeros_axis", lang), range=[0, 100])
    return _layout(fig, _t("charts.layers_title", lang, sparsity=view.sparsity * 100), height or 90 + 28 * len(names))


def prune_scores_figure(view: PruneView, lang: str = "en", height: int = 260) -> go.Figure:
    """The score of the shelf model, right after pruning and after fine-tuning so far."""
    labels = [_t("charts.before_pruning", lang), _t("charts.after_pruning", lang),
              _t("charts.after_finetuning", lang, step=view.step)]
    values = _as_percent(view.metric, np.array([view.dense_score, view.pruned_score, view.score]))
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=["#aaa", COLORS["channel"], COLORS["finetune"]],
                           text=[f"{v:.1f}" for v in values], textposition="auto"))
    fig.update_yaxes(title_text=_metric_axis(view.metric, lang))
    return _layout(fig, _t("charts.prune_scores_title", lang, dense=view.dense_bytes / 1024,
                           sparse=view.sparse_bytes / 1024), height)


def quantization_figure(table: QuantTable, lang: str = "en", height: int = 200) -> go.Figure:
    """The table: size on disk, CPU latency (both also as ratios against float32) and the test score."""
    kb = table.bytes / 1024
    cells = [[_t(f"variants.{v}", lang) for v in table.variants], [f"{b:,.1f}" for b in kb],
             [f"{r:.2f}×" for r in table.size_ratio], [f"{t * 1000:.2f}" for t in table.latency_s],
             [f"{s:.2f}×" for s in table.speedup],
             [f"{v:.2f}" for v in _as_percent(table.metric, table.scores)],
             [f"{d:+.2f}" if i else "–" for i, d in enumerate(-table.drop_points)]]
    header = [_t(f"charts.q_{c}", lang, batch=table.batch, metric=_t(f"metrics.{table.metric}", lang))
              for c in ("variant", "size", "smaller", "latency", "faster", "score", "change")]
    fig = go.Figure(go.Table(header={"values": header, "align": "left", "fill_color": "#eef"},
                             cells={"values": cells, "align": "left"}))
    return _layout(fig, _t("charts.quant_title", lang, engine=table.engine), height)


def distillation_figure(evals: Mapping[str, Sequence[float]], teacher_accuracy: float, lang: str = "en",
                        height: int = 320) -> go.Figure:
    """Test accuracy of the two students against the step (``job.snapshot().evals``), the teacher as a line."""
    fig = go.Figure()
    steps = list(evals.get("step", []))
    for name in ("kd", "plain"):
        ys = [v * 100 if v is not None and math.isfinite(v) else None for v in evals.get(f"val_accuracy_{name}", [])]
        if ys:
            fig.add_trace(go.Scatter(x=steps[:len(ys)], y=ys, mode="lines", name=_t(f"students.{name}", lang),
                                     line={"color": COLORS[name]}))
    if math.isfinite(teacher_accuracy):
        fig.add_hline(y=teacher_accuracy * 100, line_dash="dot", line_color=COLORS["teacher"],
                      annotation_text=_t("charts.teacher_line", lang, value=teacher_accuracy * 100),
                      annotation_position="bottom right")
    fig.update_xaxes(title_text=_t("charts.step_axis", lang))
    fig.update_yaxes(title_text=_metric_axis("accuracy", lang))
    return _layout(fig, _t("charts.distill_title", lang), height)


def soft_targets_figure(view: DistillView, lang: str = "en", height: int = 300) -> go.Figure:
    """One test example: the teacher's probabilities at T = 1 and at T (the soft targets), and both students'."""
    names = list(view.class_names) or [str(i) for i in range(len(view.teacher_probs))]
    series = [("teacher", view.teacher_probs, _t("charts.teacher_probs", lang)),
              ("teacher_soft", view.teacher_soft, _t("charts.teacher_soft", lang, t=view.temperature)),
              ("kd", view.kd_probs, _t("students.kd", lang)), ("plain", view.plain_probs, _t("students.plain", lang))]
    fig = go.Figure([go.Bar(x=names, y=values, name=label, marker_color=COLORS[key]) for key, values, label in series])
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=_t("charts.class_axis", lang), type="category")
    fig.update_yaxes(title_text=_t("charts.probability_axis", lang), range=[0, 1])
    label = names[view.example_label] if 0 <= view.example_label < len(names) else str(view.example_label)
    return _layout(fig, _t("charts.soft_title", lang, label=label), height)


def fewshot_figure(view: FewShotView, lang: str = "en", height: int = 360) -> go.Figure:
    """Accuracy on the new classes against k (examples per class), one line per method, ± one standard deviation
    over the repeats, with chance level."""
    fig = go.Figure()
    mean, std = view.mean * 100, view.std * 100
    for i, method in enumerate(view.methods):
        if np.isnan(mean[i]).all():
            continue
        fig.add_trace(go.Scatter(x=view.shots, y=mean[i], error_y={"type": "data", "array": std[i], "visible": True},
                                 mode="lines+markers", name=_t(f"fewshot_methods.{method}", lang),
                                 line={"color": COLORS.get(method)}))
    fig.add_hline(y=view.chance * 100, line_dash="dot", line_color="#999",
                  annotation_text=_t("charts.chance", lang), annotation_position="bottom right")
    fig.update_xaxes(title_text=_t("charts.shots_axis", lang), type="log", tickvals=list(view.shots))
    fig.update_yaxes(title_text=_metric_axis("accuracy", lang), range=[0, 101])
    title = _t("charts.fewshot_title", lang, done=view.runs_done, total=view.runs_total,
               phase=_t(f"phases.{view.phase}", lang))
    return _layout(fig, title, height)


def export_figure(checks: Sequence[ExportCheck], lang: str = "en", height: int = 180) -> go.Figure:
    """Each export format: file size and the largest difference of its outputs from PyTorch's."""
    ok, bad = _t("charts.equal", lang), _t("charts.different", lang)
    cells = [[_t(f"formats.{c.format}", lang) for c in checks], [f"{c.bytes / 1024:,.1f}" for c in checks],
             [f"{c.max_abs_diff:.2e}" for c in checks],
             [ok if c.max_abs_diff <= ONNX_TOLERANCE else bad for c in checks]]
    header = [_t(f"charts.e_{c}", lang, n=checks[0].n_inputs if checks else 0, tol=ONNX_TOLERANCE)
              for c in ("format", "size", "diff", "verdict")]
    fig = go.Figure(go.Table(header={"values": header, "align": "left", "fill_color": "#eef"},
                             cells={"values": cells, "align": "left"}))
    return _layout(fig, _t("charts.export_title", lang), height)


def quantization_bars(table: QuantTable, lang: str = "en", height: int = 280) -> go.Figure:
    """Size on disk and latency of each variant side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_t("charts.q_size", lang), _t("charts.q_latency", lang,
                                                                                       batch=table.batch)))
    labels = [_t(f"variants.{v}", lang) for v in table.variants]
    fig.add_trace(go.Bar(x=labels, y=table.bytes / 1024, marker_color="#1f77b4", showlegend=False), row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=table.latency_s * 1000, marker_color="#ff7f0e", showlegend=False), row=1, col=2)
    return _layout(fig, _t("charts.quant_title", lang, engine=table.engine), height)
