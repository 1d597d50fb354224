"""The visitor's own table: a CSV upload (or a sample), its columns, the label and features chosen, then the same
live views as the other parts: curves, the decision boundary over two numeric features, the confusion matrix
(any number of classes) or predicted against true values."""

from __future__ import annotations

import functools
import io
import math

import pandas as pd
import streamlit as st
from sklearn.datasets import load_iris

from core.data.tabular import Table, TabularData
from core.errors import PlaygroundError
from core.jobs import JobSnapshot, JobState
from core.labs import craft
from core.viz.craft import boundary_figure, confusion_figure, fit_curves, regression_figure
from ui import tables
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import current_job, live_panel
from ui.settings import Form
from ui.tables import TableSlots, TableTexts

from . import common
from .common import titled

FILE, TABLE, ERROR, PREPARED, TESTED = (f"craft_csv{s}" for s in ("_file", "_table", "_error", "_prepared",
                                                                   "_tested"))
SLOTS = TableSlots(file=FILE, table=TABLE, error=ERROR, label="label", features="features")
BATCHES = (8, 16, 32, 64, 128, 256, 512)


@st.cache_data(show_spinner=False)
def sample_csv() -> bytes:
    """scikit-learn's iris flowers as a CSV: four measurements, three species."""
    bunch = load_iris(as_frame=True)
    frame = bunch.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = [bunch.target_names[i] for i in frame.pop("target")]
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode()


def _load(f: Form, name: str, data: bytes) -> None:
    """Read a table and start from its last column as the label and every other column as a feature."""
    st.session_state.pop(PREPARED, None)
    tables.load(f, SLOTS, name, data)


def _uploaded(f: Form) -> None:
    file = st.session_state.get(FILE)
    if file is None:
        st.session_state.pop(TABLE, None)
        st.session_state.pop(ERROR, None)
        return
    _load(f, file.name, file.getvalue())


def current_table() -> Table | None:
    return tables.current_table(SLOTS)


# ---------------------------------------------------------------------------------------------- settings
def _sample_button(f: Form) -> None:
    st.button(t("craft.page.use_sample"), key="craft_csv_sample", icon=":material/local_florist:",
              on_click=_load, args=(f, "iris.csv", sample_csv()), help=t("craft.page.sample_help"))


def settings(f: Form) -> None:
    texts = TableTexts(upload=t("craft.page.upload"), upload_help=t("craft.page.upload_help"),
                       not_in_link=t("craft.page.upload_not_in_link"),
                       not_in_link_help=t("craft.page.upload_not_in_link_help"),
                       label_help=t("craft.page.label_help"), features_help=t("craft.page.features_help"),
                       features_placeholder=t("craft.page.features_placeholder"))
    if tables.table_controls(f, SLOTS, texts, on_upload=_uploaded, args=(f,),
                             after_upload=functools.partial(_sample_button, f)) is None:
        return
    f.pills("task", format_func=lambda v: t(f"craft.tasks.{v}"), help=t("craft.page.task_help"), wrap=True)
    f.toggle("standardize")
    cols = st.columns(2)
    f.slider("val_pct", where=cols[0], step=5)
    f.slider("test_pct", where=cols[1], step=5)
    cols = st.columns(2)
    f.slider("width", where=cols[0])
    f.slider("depth", where=cols[1])
    common.optimizer_select(f)
    common.rate_select(f)
    cols = st.columns(2)
    f.slider("epochs", where=cols[0], max_value=common.most(f, "epochs", 500))
    f.select_slider("batch_size", where=cols[1], options=common.with_value(f, "batch_size", BATCHES))
    f.slider("dropout", step=0.05)
    f.select_slider("l2", format_func=lambda v: f"{v:g}")
    common.optional_int(f, "patience", toggle_label=t("craft.page.early_stopping"), fallback=10)


# ---------------------------------------------------------------------------------------------- data
def prepared(config: craft.Config, table: Table) -> TabularData:
    """The model inputs for the chosen columns (kept for this visit while the choices stay the same)."""
    stamp = (id(table), config.label, config.features, config.task, config.val_pct, config.test_pct,
             config.standardize, config.seed)
    held = st.session_state.get(PREPARED)
    if held is not None and held[0] == stamp:
        return held[1]
    data = craft.table_data(config, table)
    st.session_state[PREPARED] = (stamp, data)
    return data


def _columns(table: Table) -> pd.DataFrame:
    return pd.DataFrame({
        t("craft.page.col_column"): [c.name for c in table.columns],
        t("craft.page.col_kind"): [t(f"craft.page.kind_{c.kind}") for c in table.columns],
        t("craft.page.col_missing"): [c.missing for c in table.columns],
        t("craft.page.col_distinct"): [c.distinct for c in table.columns],
    })


def live(config: craft.Config) -> None:
    table = current_table()
    if table is None:
        st.info(t("craft.page.csv_empty"), icon=":material/upload_file:")
        return
    name = st.session_state[TABLE][0]
    st.markdown(t("craft.page.table_summary", name=name, rows=table.n_rows, columns=len(table.columns)))
    with st.expander(t("craft.page.columns_title"), expanded=False):
        st.dataframe(_columns(table), hide_index=True, key="craft_columns")
    try:
        data = prepared(config, table)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return
    _data_notes(data)
    common.controls("csv", config, data=data)
    live_panel(common.job_key("csv"), functools.partial(_render, data=data), every=1.0)


def _data_notes(data: TabularData) -> None:
    sizes = data.split_sizes()
    kind = (t("craft.page.classes", n=data.n_classes, names=", ".join(data.class_names[:8]))
            if data.task == "classification" else t("craft.page.regression_target", label=data.label))
    st.caption(t("craft.page.data_summary", kind=kind, inputs=data.n_inputs, train=sizes["train"],
                 val=sizes["validation"], test=sizes["test"]))
    if data.missing or data.dropped:
        filled = ", ".join(f"{k} ({v})" for k, v in data.missing.items())
        st.caption(t("craft.page.missing_note", filled=filled or "–", dropped=data.dropped))
    if len(data.features) != 2 or any(f not in data.ranges for f in data.features):
        st.caption(t("craft.page.boundary_hint"))


def _render(snap: JobSnapshot | None, data: TabularData) -> None:
    view = common.view_of(snap, craft.TableView)
    if view is None:
        st.caption(t("craft.page.press_train"))
        return
    fit = view.fit
    classification = view.task == "classification"
    if len(fit.epoch):
        last = len(fit.epoch) - 1
        cols = st.columns(4)
        cols[0].metric(t("craft.page.train_loss"), common.number(fit.train_loss[last]))
        cols[1].metric(t("craft.page.val_loss"), common.number(fit.val_loss[last]))
        if classification:
            cols[2].metric(t("craft.page.val_accuracy"), f"{fit.val_accuracy[last]:.1%}")
        else:
            cols[2].metric(t("craft.page.r2"), common.number(view.r2, 3), help=t("craft.page.r2_help"))
        cols[3].metric(t("craft.page.gap"), common.number(fit.gap_loss), help=t("craft.page.gap_help"))
    if fit.stopped:
        st.success(t("craft.page.stopped_early", epoch=fit.best_epoch, loss=fit.best_val_loss),
                   icon=":material/restore:")
    _test_numbers(snap, classification)
    left, right = st.columns(2)
    if view.boundary_features:
        chart(boundary_figure(view, lang=lang()), key="craft_boundary", where=left)
        where = right
    else:
        where = left
    if classification:
        chart(confusion_figure(view, lang=lang()), key="craft_confusion", where=where)
    else:
        chart(regression_figure(view, lang=lang()), key="craft_regression", where=where)
    if len(fit.epoch):
        cols = st.columns(2)
        chart(titled(fit_curves(fit, lang=lang()), "loss"), key="craft_csv_loss", where=cols[0])
        if classification:
            accuracy = titled(fit_curves(fit, metric="accuracy", lang=lang()), "accuracy")
            chart(accuracy, key="craft_csv_acc", where=cols[1])


def _test_numbers(snap: JobSnapshot, classification: bool) -> None:
    """The held-out test rows, measured once when the run has ended."""
    if snap.state not in (JobState.FINISHED, JobState.STOPPED):
        return
    held = st.session_state.get(TESTED)
    if held is None or held[0] != snap.job_id:
        job = current_job(common.job_key("csv"))
        numbers = common.inspect("csv", craft.test_metrics) if job is not None else None
        if numbers is None:
            return
        held = st.session_state[TESTED] = (snap.job_id, numbers)
    numbers = held[1]
    if classification:
        st.markdown(t("craft.page.test_accuracy", accuracy=numbers["test_accuracy"], loss=numbers["test_loss"]))
    elif math.isfinite(numbers["test_loss"]):
        st.markdown(t("craft.page.test_loss", loss=numbers["test_loss"]))
