"""The network builder's live views: the network diagram, the output (decision surface and numbers), the loss
curves, the compare strip of recent runs and the downloads."""

from __future__ import annotations

import io

import streamlit as st
import torch

from core.data.planar import PlanarData
from core.data.tabular import TabularData
from core.inspect.planar import NetworkView
from core.jobs import JobSnapshot, JobState
from core.labs import planar
from core.viz.curves import thin, training_curves
from core.viz.planar import compare_runs, decision_surface, network_diagram, weight_legend
from ui.display import chart, palette, projector
from ui.i18n import lang, t
from ui.jobs import current_job

from . import table
from .controls import JOB

MAX_RUNS = 5


@st.cache_data(max_entries=32, show_spinner=False)
def cached_data(query: tuple) -> PlanarData:
    return planar.make_data(planar.Config.from_query(dict(query))[0])


@st.cache_data(max_entries=32, show_spinner=False)
def cached_initial_view(query: tuple) -> planar.View:
    return planar.initial_view(planar.Config.from_query(dict(query))[0])


def query_key(config: planar.Config) -> tuple:
    return tuple(sorted(config.to_query().items()))


def run_config(snap: JobSnapshot | None, config: planar.Config) -> planar.Config:
    return st.session_state.get("nb_job_config", config) if snap is not None else config


def pick_view(snap: JobSnapshot | None, config: planar.Config, data: PlanarData | TabularData | None = None
              ) -> planar.View:
    """The freshest picture of the network: the untrained preview, the job's latest view, or — once paused or
    finished — one taken right now between two steps, so it matches the step count."""
    if snap is None or snap.view is None:
        if isinstance(data, TabularData):
            return table.initial_view(config, data)
        return cached_initial_view(query_key(config))
    view = snap.view
    if snap.state == JobState.RUNNING or view.step == snap.step:
        return view
    fresh = st.session_state.get("nb_fresh")
    if fresh is not None and fresh[0] == snap.job_id and fresh[1].step == snap.step:
        return fresh[1]
    try:
        view = current_job(JOB).inspect(planar.fresh_view, timeout=2)
    except (TimeoutError, RuntimeError, AttributeError):
        return view
    st.session_state["nb_fresh"] = (snap.job_id, view)
    return view


def render_network(snap: JobSnapshot | None, config: planar.Config, data: PlanarData | TabularData | None = None
                   ) -> None:
    view = pick_view(snap, config, data)
    chart(network_diagram(view, run_config(snap, config).activation, lang=lang(), palette=palette()), key="nb_diagram")
    st.caption(weight_legend(lang()))


def _numbers(snap: JobSnapshot | None, view: NetworkView) -> None:
    m = view.metrics
    top = st.columns(2)
    top[0].metric(t("planar.page.epoch"), f"{snap.epoch:,.1f}" if snap else "0")
    top[1].metric(t("planar.page.step"), f"{snap.step:,}" if snap else "0")
    losses = st.columns(2)
    losses[0].metric(t("planar.page.train_loss"), f"{m['train_loss']:.4f}")
    losses[1].metric(t("planar.page.test_loss"), f"{m['test_loss']:.4f}")
    if view.problem == "classification":
        accs = st.columns(2)
        accs[0].metric(t("planar.page.train_accuracy"), f"{m['train_accuracy']:.1%}")
        accs[1].metric(t("planar.page.test_accuracy"), f"{m['test_accuracy']:.1%}")


def render_output(snap: JobSnapshot | None, config: planar.Config, data: PlanarData | TabularData) -> None:
    view = pick_view(snap, config, data)
    m = view.metrics
    if snap is None:
        st.caption(t("planar.page.untrained"))
    if not projector():
        _numbers(snap, view)
    if isinstance(data, TabularData):
        table.render_output(view, config, data)
        return
    test = (data.test_xy, data.test_y) if config.show_test else None
    chart(decision_surface(view, (data.train_xy, data.train_y), test, discretize=config.discretize,
                           height=290 if projector() else 330, colorbar_on=False, lang=lang(), palette=palette()),
          key="nb_surface")
    if projector():  # the numbers under the surface: the surface stays on the first screen
        row = st.columns(3)
        row[0].metric(t("planar.page.step"), f"{snap.step:,}" if snap else "0")
        row[1].metric(t("planar.page.test_loss"), f"{m['test_loss']:.3f}")
        if view.problem == "classification":
            row[2].metric(t("planar.page.test_accuracy"), f"{m['test_accuracy']:.1%}")
    kind = "classification" if view.problem == "classification" else "regression"
    scale = t(f"planar.page.scale_{kind}")
    st.caption(t("planar.page.surface_caption", scale=scale))


def remember_run(snap: JobSnapshot, config: planar.Config) -> list[dict]:
    """Keep the test-loss curve of this and the previous few runs for the compare strip."""
    runs: dict[int, dict] = st.session_state.setdefault("nb_runs", {})
    if snap.evals.get("step") and snap.step > 0:
        spe = snap.step / snap.epoch if snap.epoch else config.steps_per_epoch
        runs[snap.job_id] = {"run": snap.job_id, "label": config.label(),
                             "epoch": [s / spe for s in snap.evals["step"]],
                             "test_loss": list(snap.evals.get("val_loss", [])),
                             "train_loss": list(snap.evals.get("train_loss", []))}
        for old in sorted(runs)[:-MAX_RUNS]:
            del runs[old]
    return remembered_runs()


def remembered_runs() -> list[dict]:
    """The remembered runs, oldest first."""
    runs = st.session_state.get("nb_runs", {})
    return [runs[k] for k in sorted(runs)]


def model_bytes(state_dict: dict, config: planar.Config) -> bytes:
    """``torch.save`` of the state_dict plus the model card (plain types: loads with ``weights_only=True``)."""
    buf = io.BytesIO()
    torch.save({"state_dict": state_dict, "config": config.to_query(), "card": config.card()}, buf)
    return buf.getvalue()


def downloads(snap: JobSnapshot | None, state_dict: dict | None, config: planar.Config) -> None:
    cols = st.columns([1, 1, 2])
    if snap is None or state_dict is None:
        cols[0].caption(t("planar.page.train_to_download"))
        return
    cols[0].download_button(t("planar.page.download_model"), model_bytes(state_dict, config),
                            file_name="network_builder.pt", mime="application/octet-stream", on_click="ignore",
                            icon=":material/download:", key="nb_dl_model", width="stretch")
    cols[1].download_button(t("planar.page.download_csv"), snap.to_csv(), file_name="network_builder_metrics.csv",
                            mime="text/csv", on_click="ignore", icon=":material/download:", key="nb_dl_csv",
                            width="stretch")
    cols[2].caption(t("planar.page.download_help"))


def render_history(snap: JobSnapshot | None, config: planar.Config,
                   data: PlanarData | TabularData | None = None) -> None:
    curves_col, compare_col = st.columns(2, gap="medium")
    with curves_col:
        st.markdown(t("planar.page.curves_title"))
        if snap is None:
            st.caption(t("planar.page.curves_empty"))
        else:
            chart(training_curves(thin(snap), height=260, val_name=t("planar.page.test"), lang=lang()), key="nb_curves")
    with compare_col:
        runs = remember_run(snap, run_config(snap, config)) if snap is not None else remembered_runs()
        st.markdown(t("planar.page.compare_title", n=MAX_RUNS))
        if runs:
            chart(compare_runs(runs, lang=lang()), key="nb_compare")
        else:
            st.caption(t("planar.page.compare_empty"))
    if snap is not None and snap.state == JobState.RUNNING:
        st.caption(t("planar.page.pause_to_download"))
    else:
        downloads(snap, pick_view(snap, config, data).state_dict if snap is not None else None,
                  run_config(snap, config))
