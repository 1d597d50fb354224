"""Real models over the epochs: learning-rate schedules and the range test, the overfitting lab with its cures,
and polynomial regression with the bias–variance picture."""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import streamlit as st

from core.jobs import JobSnapshot, JobState
from core.labs import craft
from core.viz.craft import (
    bias_variance_figure,
    fit_curves,
    poly_figure,
    range_test_figure,
    schedules_figure,
    weight_histograms_figure,
)
from ui.display import chart
from ui.i18n import lang, t
from ui.jobs import live_panel
from ui.settings import Form

from . import common
from .common import titled

BATCHES = (8, 16, 32, 64, 128, 256)


def _model_size(f: Form) -> None:
    cols = st.columns(2)
    f.slider("width", where=cols[0])
    f.slider("depth", where=cols[1])


def _training(f: Form, *, epochs_max: int = 300) -> None:
    common.optimizer_select(f)
    common.rate_select(f)
    cols = st.columns(2)
    f.slider("epochs", where=cols[0], max_value=common.most(f, "epochs", epochs_max))
    f.select_slider("batch_size", where=cols[1], options=common.with_value(f, "batch_size", BATCHES))


# ---------------------------------------------------------------------------------------------- schedules
def schedules_settings(f: Form) -> None:
    f.select("schedule", format_func=lambda v: t(f"craft.schedules.{v}"))
    f.slider("warmup_pct", step=5, disabled=f.value("schedule") not in ("warmup", "onecycle"))
    _training(f, epochs_max=100)
    f.slider("subset", step=10)
    _model_size(f)
    st.markdown(t("craft.page.range_settings"))
    f.slider("steps", step=10, label=t("craft.page.range_steps"), help=t("craft.page.range_steps_help"))


@st.cache_data(show_spinner=False, max_entries=16)
def cached_schedules(config: craft.Config) -> craft.ScheduleView:
    return craft.run_schedule_curves(config)


def schedules_live(config: craft.Config) -> None:
    chart(schedules_figure(cached_schedules(config), highlight=config.schedule, lang=lang()),
          key="craft_schedules")
    st.markdown(t("craft.page.schedule_run", schedule=t(f"craft.schedules.{config.schedule}")))
    common.controls("schedules", config)
    live_panel(common.job_key("schedules"), functools.partial(_fit, tab="schedules", rate=True), every=1.0)
    st.divider()
    st.subheader(t("craft.page.range_title"), anchor=False)
    st.caption(t("craft.page.range_lede"))
    range_config = replace(config, experiment="range")
    common.controls("range", range_config, label=t("craft.page.run_range"))
    live_panel(common.job_key("range"), _range, every=0.5)


def _use_rate(rate: float) -> None:
    st.session_state[common.key("lr")] = min(craft.LEARNING_RATES,
                                             key=lambda g: abs(math.log10(g) - math.log10(rate)))


def _range(snap: JobSnapshot | None) -> None:
    view = common.view_of(snap, craft.RangeView)
    if view is None:
        st.caption(t("craft.page.range_empty"))
        return
    chart(range_test_figure(view, lang=lang()), key="craft_range")
    if math.isfinite(view.suggested):
        cols = st.columns([2, 1], vertical_alignment="center")
        cols[0].markdown(t("craft.page.range_suggested", lr=view.suggested, low=view.min_loss_lr))
        if not snap.state.active:
            cols[1].button(t("craft.page.use_rate"), key="craft_use_rate", on_click=_use_rate, args=(view.suggested,),
                           icon=":material/check:", width="stretch")


# ---------------------------------------------------------------------------------------------- overfitting
def overfit_settings(f: Form) -> None:
    f.slider("subset", step=10)
    _model_size(f)
    _training(f)
    st.markdown(t("craft.page.cures"))
    f.slider("dropout", step=0.05)
    f.select_slider("l2", format_func=lambda v: f"{v:g}")
    f.toggle("augment")
    f.toggle("batch_norm")
    common.optional_int(f, "patience", toggle_label=t("craft.page.early_stopping"), fallback=10)


def overfit_live(config: craft.Config) -> None:
    common.controls("overfit", config)
    live_panel(common.job_key("overfit"), functools.partial(_fit, tab="overfit"), every=1.0)


def _gap_metrics(view: craft.FitView, classification: bool) -> None:
    cols = st.columns(4)
    last = len(view.epoch) - 1
    cols[0].metric(t("craft.page.train_loss"), common.number(view.train_loss[last]))
    cols[1].metric(t("craft.page.val_loss"), common.number(view.val_loss[last]))
    cols[2].metric(t("craft.page.gap"), common.number(view.gap_loss), help=t("craft.page.gap_help"))
    if classification:
        cols[3].metric(t("craft.page.val_accuracy"), f"{view.val_accuracy[last]:.1%}",
                       delta=t("craft.page.gap_accuracy", gap=view.gap_accuracy), delta_color="off",
                       help=t("craft.page.gap_accuracy_help"))
    else:
        cols[3].metric(t("craft.page.best_epoch"), f"{view.best_epoch:g}" if view.best_epoch >= 0 else "–")


def _fit(snap: JobSnapshot | None, tab: str, rate: bool = False) -> None:
    view = common.view_of(snap, (craft.FitView, craft.PolyView))
    if view is None:
        st.caption(t("craft.page.press_train"))
        return
    fit = view.fit if isinstance(view, craft.PolyView) else view
    if not len(fit.epoch):
        st.caption(t("craft.page.first_epoch"))
        return
    classification = isinstance(view, craft.FitView)
    _gap_metrics(fit, classification)
    if fit.stopped:
        st.success(t("craft.page.stopped_early", epoch=fit.best_epoch, loss=fit.best_val_loss),
                   icon=":material/restore:")
    if isinstance(view, craft.PolyView):
        cols = st.columns(2)
        chart(poly_figure(view, lang=lang()), key=f"craft_{tab}_poly", where=cols[0])
        chart(titled(fit_curves(fit, lang=lang()), "loss"), key=f"craft_{tab}_loss", where=cols[1])
    else:
        cols = st.columns(2)
        chart(titled(fit_curves(fit, lang=lang()), "loss"), key=f"craft_{tab}_loss", where=cols[0])
        accuracy = titled(fit_curves(fit, metric="accuracy", lang=lang()), "accuracy")
        chart(accuracy, key=f"craft_{tab}_acc", where=cols[1])
    if rate:
        st.caption(t("craft.page.rate_now", lr=fit.lr))
    chart(weight_histograms_figure(fit, lang=lang()), key=f"craft_{tab}_weights")
    if snap.state == JobState.FINISHED and not fit.stopped:
        st.caption(t("craft.page.finished_note"))


# ---------------------------------------------------------------------------------------------- polynomial
def poly_settings(f: Form) -> None:
    f.slider("degree")
    cols = st.columns(2)
    f.slider("points", where=cols[0], max_value=common.most(f, "points", 100))
    f.slider("noise", where=cols[1], step=0.05)
    common.optimizer_select(f)
    common.rate_select(f)
    cols = st.columns(2)
    f.slider("epochs", where=cols[0], max_value=common.most(f, "epochs", 2000))
    f.slider("batch_size", where=cols[1], max_value=common.most(f, "batch_size", 100))
    st.markdown(t("craft.page.cures"))
    f.select_slider("l2", format_func=lambda v: f"{v:g}")
    f.toggle("augment", help=t("craft.page.poly_augment_help"))
    common.optional_int(f, "patience", toggle_label=t("craft.page.early_stopping"), fallback=50)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_bias_variance(config: craft.Config) -> craft.BiasVarianceView:
    return craft.bias_variance(config)


def poly_live(config: craft.Config) -> None:
    common.controls("poly", config)
    live_panel(common.job_key("poly"), functools.partial(_fit, tab="poly"), every=1.0)
    st.divider()
    st.subheader(t("craft.page.bias_variance_title"), anchor=False)
    st.caption(t("craft.page.bias_variance_lede"))
    chart(bias_variance_figure(cached_bias_variance(replace(config, degree=3)), lang=lang()),
          key="craft_bias_variance")
