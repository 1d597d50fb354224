"""The network builder's data source "Your CSV": upload a table, choose the label and the input columns, train the
same network on it. The table stays in this session (never in the link); the plane is spanned by two of its numeric
columns, and classification with any number of classes shows a confusion matrix of the test rows."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.planar import problem_of
from core.data.tabular import Table, TabularData, prepare
from core.errors import PlaygroundError
from core.inspect.planar import NetworkView, plane_points
from core.labs import planar
from core.viz.planar import confusion_matrix, decision_surface
from ui import tables
from ui.display import chart, palette
from ui.i18n import lang, show, t
from ui.jobs import reset_job
from ui.settings import Form
from ui.tables import TableSlots, TableTexts

FILE, TABLE, ERROR, PREPARED, PREVIEW = (f"nb_csv{s}" for s in ("_file", "_table", "_error", "_prepared", "_preview"))
SLOTS = TableSlots(file=FILE, table=TABLE, error=ERROR, label="csv_label", features="csv_features")


def is_table(config: planar.Config) -> bool:
    return config.source == "csv"


def _source_changed(f: Form) -> None:
    """Back to a generated set: the problem type is that set's again."""
    if f.value("source") != "csv":
        st.session_state[f.key("problem")] = problem_of(f.value("dataset"))


def source_switch(f: Form) -> None:
    f.pills("source", on_change=_source_changed, args=(f,), wrap=True, label_visibility="collapsed")


def current_table() -> Table | None:
    return tables.current_table(SLOTS)


def _uploaded(f: Form, job_key: str) -> None:
    """A new table: its last column as the label, every other column as an input, the task it looks like."""
    state = st.session_state
    for name in (TABLE, ERROR, PREPARED, PREVIEW):
        state.pop(name, None)
    reset_job(job_key)
    file = state.get(FILE)
    if file is None:
        return
    table = tables.load(f, SLOTS, file.name, file.getvalue())
    if table is None:
        return
    try:
        task = prepare(table, table.names[-1]).task
    except PlaygroundError:  # the last column cannot be the label: the visitor picks another
        task = "classification"
    state[f.key("problem")] = task


def controls(f: Form, job_key: str) -> None:
    """Upload, label and input columns, task, training share (in the data column of the page)."""
    texts = TableTexts(upload=t("planar.page.csv_upload"), upload_help=t("planar.page.csv_upload_help"),
                       not_in_link=t("planar.page.csv_not_in_link"),
                       not_in_link_help=t("planar.page.csv_not_in_link_help"), label_help=f.help("csv_label"),
                       features_help=f.help("csv_features"), features_placeholder=t("planar.page.csv_all_columns"))
    if tables.table_controls(f, SLOTS, texts, on_upload=_uploaded, args=(f, job_key)) is None:
        return
    f.pills("problem", wrap=True)
    f.slider("train_pct", step=10)
    f.slider("batch_size")
    f.number("seed")


def prepared(config: planar.Config) -> TabularData | None:
    """The table as the network's inputs (kept while the choices stay the same); None, with the reason shown,
    when it cannot be used yet."""
    table = current_table()
    if table is None:
        st.info(t("planar.page.csv_first"), icon=":material/upload_file:")
        return None
    stamp = (id(table), config.csv_label, config.csv_features, config.problem, config.train_pct, config.seed)
    held = st.session_state.get(PREPARED)
    if held is not None and held[0] == stamp:
        return held[1]
    try:
        data = planar.table_data(config, table)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return None
    st.session_state[PREPARED] = (stamp, data)
    return data


def initial_view(config: planar.Config, data: TabularData) -> NetworkView:
    """The untrained network on the table, as Play will start it (kept while nothing changes)."""
    stamp = (id(data), config.structure())
    held = st.session_state.get(PREVIEW)
    if held is None or held[0] != stamp:
        held = st.session_state[PREVIEW] = (stamp, planar.initial_view(config, data))
    return held[1]


def points(data: TabularData, test: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Training (or test) rows on the plane's two columns, with their class (or target in the label's units)."""
    x, y = (data.x_test, data.y_test) if test else (data.x_train, data.y_train)
    return plane_points(data, x), data.target(y) if data.task == "regression" else y.numpy().reshape(-1)


def summary(data: TabularData) -> None:
    sizes = data.split_sizes()
    kind = (t("planar.page.csv_classes", n=data.n_classes, names=", ".join(data.class_names[:8]))
            if data.task == "classification" else t("planar.page.csv_regression", label=data.label))
    st.caption(t("planar.page.csv_summary", kind=kind, inputs=data.n_inputs, train=sizes["train"],
                 test=sizes["test"]))
    if data.missing or data.dropped:
        filled = ", ".join(f"{k} ({v})" for k, v in data.missing.items())
        st.caption(t("planar.page.csv_missing", filled=filled or "–", dropped=data.dropped))


def render_output(view: NetworkView, config: planar.Config, data: TabularData) -> None:
    """The decision surface when two numeric columns are the only inputs, the test rows' confusion matrix for a
    classification (any number of classes)."""
    summary(data)
    if view.axis_names and view.exact_plane:
        test = points(data, test=True) if config.show_test else None
        chart(decision_surface(view, points(data), test, discretize=config.discretize, height=330, colorbar_on=False,
                               lang=lang(), palette=palette()), key="nb_surface")
        if view.confidence is not None:
            st.caption(t("planar.page.csv_surface_classes"))
        else:
            kind = "classification" if view.problem == "classification" else "regression"
            st.caption(t("planar.page.surface_caption", scale=t(f"planar.page.scale_{kind}")))
    else:
        st.caption(t("planar.page.csv_no_plane"))
    if view.confusion is not None:
        chart(confusion_matrix(view, lang=lang()), key="nb_confusion")
