"""Make the model smaller: pruning (the accuracy-vs-sparsity curve, what pruning alone does right now, and a
live fine-tuning job with the mask held) and post-training int8 quantization (size, CPU latency, accuracy)."""

from __future__ import annotations

import functools
import math

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot
from core.labs import compress
from core.viz import compress as viz
from core.viz.curves import thin, training_curves
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import job_controls, live_panel
from ui.settings import Form

from .common import JOBS, forget, kb, memo, new_job, settled, training_settings
from .source import Chosen


def _points(metric: str, value: float) -> float:
    return value * 100 if metric == "accuracy" else value


def _score_text(metric: str, value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return t("compress.page.percent", value=value * 100) if metric == "accuracy" else f"{value:.4f}"


# ---------------------------------------------------------------------------------------------- pruning
def _preview(view: compress.PruneView) -> None:
    """What pruning alone does at the chosen sparsity: the score and the real size on disk."""
    cols = st.columns(2)
    change = _points(view.metric, view.pruned_score) - _points(view.metric, view.dense_score)
    cols[0].metric(t(f"compress.metrics.{view.metric}"), _score_text(view.metric, view.pruned_score),
                   delta=t("compress.page.points", value=change) if math.isfinite(change) else None,
                   delta_color="normal" if view.metric == "accuracy" else "inverse",
                   help=t("compress.page.preview_score_help"))
    cols[1].metric(t("compress.page.size_on_disk"), kb(view.sparse_bytes),
                   delta=t("compress.page.times_smaller", ratio=view.dense_bytes / max(view.sparse_bytes, 1)),
                   delta_color="off", help=t("compress.page.sparse_help", dense=kb(view.dense_bytes)))
    height = min(420, 90 + 24 * len(view.layer_names))
    chart(viz.layer_sparsity_figure(view, lang(), height=height), key="cmp_layers_preview")


def _finetune_view(snap: JobSnapshot | None) -> None:
    view = snap.view if snap is not None else None
    if not isinstance(view, compress.PruneView):
        st.caption(t("compress.page.finetune_waiting") if snap is not None else t("compress.page.finetune_idle"))
        return
    st.caption(t("compress.page.finetune_run", method=t(f"compress.prune_methods.{view.method}"),
                 target=view.target * 100, sparsity=view.sparsity * 100))
    left, right = st.columns([2, 3])
    chart(viz.prune_scores_figure(view, lang()), key="cmp_prune_scores", where=left)
    metric = "accuracy" if view.metric == "accuracy" else "mse"
    curves = training_curves(thin(snap), metric=metric, metric_label=t(f"compress.metrics.{metric}"), height=260,
                             lang=lang())
    chart(curves, key="cmp_prune_curves", where=right)


def pruning(f: Form, chosen: Chosen) -> None:
    st.caption(t("compress.page.prune_intro"))
    cols = st.columns([3, 2], vertical_alignment="bottom")
    f.segmented("prune_method", where=cols[0], format_func=lambda m: t(f"compress.prune_methods.{m}"))
    f.slider("sparsity", where=cols[1], step=0.05, format="percent")
    config = settled(f)
    if config is None:
        return
    model = chosen.model
    if len(model.x_test) == 0:
        st.info(t("compress.page.no_test_info"), icon=":material/dataset:")
    try:
        result = memo("sweep", chosen.token, compress.sweep, model)
        view = memo("prune_preview", (*chosen.token, config.prune_method, config.sparsity), compress.pruned_view,
                    model, config.prune_method, config.sparsity)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return
    left, right = st.columns([3, 2], gap="medium")
    chart(viz.sparsity_figure(result, lang(), current=view.sparsity), key="cmp_sweep", where=left)
    with right:
        _preview(view)

    st.subheader(t("compress.page.finetune_title"), anchor=False)
    st.caption(t("compress.page.finetune_intro"))
    if not chosen.trainable:
        st.info(t("compress.page.needs_train_data"), icon=":material/dataset:")
        return
    training_settings(f)
    config = settled(f)
    if config is None:
        return
    job_controls(JOBS["finetune"], functools.partial(new_job, config, model), lab="compress",
                 play_label=t("compress.page.finetune_play"))
    live_panel(JOBS["finetune"], _finetune_view, every=1.0)


# ---------------------------------------------------------------------------------------------- quantization
def _remeasure() -> None:
    forget("quant")


def quantization(f: Form, chosen: Chosen) -> None:
    if settled(f) is None:
        return
    st.caption(t("compress.page.quant_intro"))
    if len(chosen.model.x_test) == 0:
        st.info(t("compress.page.no_test_info"), icon=":material/dataset:")
    try:
        with st.spinner(t("compress.page.measuring")):
            table = memo("quant", chosen.token, compress.quantization, chosen.model)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return
    best = min(range(1, len(table.variants)), key=lambda i: table.bytes[i], default=None)
    if best is not None:
        row = table.row(table.variants[best])
        st.markdown(t("compress.page.best_variant", variant=t(f"compress.variants.{table.variants[best]}")))
        cols = st.columns(3)
        cols[0].metric(t("compress.page.size_on_disk"), kb(row["bytes"]),
                       delta=t("compress.page.times_smaller", ratio=row["size_ratio"]), delta_color="off")
        cols[1].metric(t("compress.page.latency"), t("compress.page.ms", value=row["latency_s"] * 1000),
                       delta=t("compress.page.times_faster", ratio=row["speedup"]), delta_color="off",
                       help=t("compress.page.latency_help", batch=table.batch))
        change = -row["drop_points"]
        cols[2].metric(t(f"compress.metrics.{table.metric}"), _score_text(table.metric, row["score"]),
                       delta=t("compress.page.points", value=change) if abs(change) >= 0.05 else None,
                       delta_color="normal" if table.metric == "accuracy" else "inverse",
                       help=t("compress.page.score_help", reference=_score_text(table.metric, table.scores[0])))
    chart(viz.quantization_figure(table, lang(), height=110 + 22 * len(table.variants)), key="cmp_quant_table")
    bars = viz.quantization_bars(table, lang()).update_layout(title_text="", margin_t=30)  # the table has the title
    chart(bars, key="cmp_quant_bars")
    if "static_int8" not in table.variants:
        st.caption(t("compress.page.no_static"))
    cols = st.columns([4, 1], vertical_alignment="center")
    cols[0].caption(t("compress.page.quant_note"))
    cols[1].button(t("compress.page.remeasure"), icon=":material/timer:", key="cmp_remeasure", on_click=_remeasure,
                   width="stretch")
