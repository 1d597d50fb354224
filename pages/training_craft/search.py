"""Hyperparameter search with optuna (TPE) against random and grid search on the same budget: every trial is a job
of this visitor in the job manager (so capacity, queues and sessions hold), bad trials are pruned, the trial table
and optuna's own plots follow the search live."""

from __future__ import annotations

import functools
import math

import optuna
import streamlit as st

from core.errors import PlaygroundError
from core.i18n import Message, Term
from core.jobs import TrainingJob
from core.labs import craft
from core.viz.craft import optuna_importance, optuna_parallel, search_progress, trial_table
from ui.display import chart
from ui.i18n import lang, show, t
from ui.live import live as live_view
from ui.session import manager, session_id
from ui.settings import Form

from . import common

SEARCH, JOBS, STOPPED, PAST, ERROR = (f"craft_search{s}" for s in ("", "_jobs", "_stopped", "_past", "_error"))
IMPORTANCE = "craft_search_importance"  # ((study id, finished trials, language), figure or None)
PARALLEL = (1, 2, 3)  # trials trained at once


def settings(f: Form) -> None:
    f.pills("method", format_func=lambda v: t(f"craft.methods.{v}"), wrap=True)
    f.slider("budget", max_value=common.most(f, "budget", 100))
    f.toggle("prune", help=t("craft.page.prune_help"))
    st.segmented_control(t("craft.page.parallel"), PARALLEL, key="craft_parallel", default=2, required=True,
                         help=t("craft.page.parallel_help"))
    st.markdown(t("craft.page.search_space"))
    cols = st.columns(2)
    f.slider("epochs", where=cols[0], max_value=common.most(f, "epochs", 20))
    f.slider("subset", where=cols[1], step=10)


# ---------------------------------------------------------------------------------------------- driving the search
def _submit(search: craft.Search, config: craft.Config) -> TrainingJob:
    """One trial as a job of this visitor (queued behind the others when the server is busy)."""
    job = craft.make_job(config)
    job.name = Message("craft.page.trial_job", n=search.asked, method=Term(f"craft.methods.{search.method}"))
    job = manager().submit(session_id(), job)
    st.session_state[JOBS].append(job)
    return job


def _forget_ended(search: craft.Search) -> None:
    """Ended trials leave the job list (their score is in the study)."""
    running = {id(r.job) for r in search.running.values()}
    for job in list(st.session_state.get(JOBS, [])):
        if id(job) not in running and not job.state.active:
            manager().discard(session_id(), job)
            st.session_state[JOBS].remove(job)


def _start(config: craft.Config) -> None:
    _stop()
    state = st.session_state
    state.pop(ERROR, None)
    try:
        state[SEARCH] = craft.Search(config)
    except PlaygroundError as exc:
        state[ERROR] = exc.as_message()
        return
    state[JOBS], state[STOPPED] = [], False


def _stop() -> None:
    search = st.session_state.get(SEARCH)
    if search is not None and not search.done:
        search.stop()
        st.session_state[STOPPED] = True
    for job in st.session_state.pop(JOBS, []):
        manager().discard(session_id(), job)
    st.session_state[JOBS] = []


def running() -> bool:
    search = st.session_state.get(SEARCH)
    return search is not None and not search.done and not st.session_state.get(STOPPED)


# ---------------------------------------------------------------------------------------------- the page part
def live(config: craft.Config) -> None:
    active = running()
    cols = st.columns([2.6, 1, 2.6], vertical_alignment="center")
    cols[0].button(t("craft.page.start_search", method=t(f"craft.methods.{config.method}"), n=config.budget),
                   key="craft_search_start", on_click=_start, args=(config,), disabled=active, type="primary",
                   icon=":material/play_arrow:", width="stretch")
    cols[1].button(t("craft.page.stop_search"), key="craft_search_stop", on_click=_stop, disabled=not active,
                   icon=":material/stop:", width="stretch")
    cols[2].caption(t("craft.page.search_jobs"))
    if error := st.session_state.get(ERROR):
        st.error(show(error), icon=":material/error:")
    live_view(functools.partial(_draw, parallel=st.session_state.get("craft_parallel") or 2), active=active,
              every=1.0)


def _draw(parallel: int) -> bool:
    search: craft.Search | None = st.session_state.get(SEARCH)
    if search is None:
        st.caption(t("craft.page.search_empty"))
        return False
    active = running()
    if active:
        search.pump(functools.partial(_submit, search), parallel)
        _forget_ended(search)
    view = search.view()
    if search.done:
        st.session_state.setdefault(PAST, {})[search.method] = view
    _summary(search, view, active)
    views = [v for m, v in st.session_state.get(PAST, {}).items() if m != search.method and v.budget == view.budget]
    chart(search_progress([*views, view], lang=lang()), key="craft_search_progress")
    trials = trial_table(view, lang=lang())
    trials.iloc[:, 0] += 1  # trials counted from 1, as in the chart and the job list
    st.dataframe(trials, hide_index=True, height=260, key="craft_trials")
    finished = sum(s == "complete" for s in view.state)
    if finished:
        cols = st.columns([1.5, 1])
        chart(_in_words(optuna_parallel(search.study, lang=lang())), key="craft_parallel_fig", where=cols[0])
        importance = _importance(search, finished)
        if importance is not None:
            chart(importance, key="craft_importance_fig", where=cols[1])
        else:
            cols[1].caption(t("craft.page.importance_wait"))
    return running()


def _summary(search: craft.Search, view: craft.SearchView, active: bool) -> None:
    done = [s for s in view.state if s != "running"]
    pruned = sum(s == "pruned" for s in view.state)
    cols = st.columns(4)
    cols[0].metric(t("craft.page.trials_done"), f"{len(done)} / {view.budget}")
    cols[1].metric(t("craft.page.trials_pruned"), str(pruned))
    best = view.best_value
    cols[2].metric(t("craft.page.best_score"), f"{best:.1%}" if math.isfinite(best) else "–",
                   help=t("craft.page.best_score_help"))
    cols[3].metric(t("craft.page.best_trial"), str(view.best_number + 1) if view.best_number >= 0 else "–")
    if view.best_number >= 0:
        params = search.study.trials[view.best_number].params
        shown = ", ".join(f"{t(f'craft.viz.param_{k}')} {v:.3g}" if isinstance(v, float) else
                          f"{t(f'craft.viz.param_{k}')} {v}" for k, v in params.items())
        st.caption(t("craft.page.best_params", params=shown))
    if not active and st.session_state.get(STOPPED):
        st.caption(t("craft.page.search_stopped"))
    past = st.session_state.get(PAST, {})
    if len(past) > 1:
        st.caption(t("craft.page.compare", results=" · ".join(
            f"{t(f'craft.methods.{m}')} {v.best_value:.1%} ({v.budget})" for m, v in past.items()
            if math.isfinite(v.best_value))))


def _importance(search: craft.Search, finished: int):
    """optuna's importance plot, computed again only when another trial has finished (fANOVA takes a moment)."""
    cached = st.session_state.get(IMPORTANCE)
    stamp = (id(search.study), finished, lang())
    if cached is not None and cached[0] == stamp:
        return cached[1]
    figure = None
    if finished >= 2:
        try:
            figure = _in_words(optuna_importance(search.study, lang=lang()))
        except (ValueError, RuntimeError, ZeroDivisionError, optuna.exceptions.OptunaError):
            figure = None
    st.session_state[IMPORTANCE] = (stamp, figure)
    return figure


def _name(text: str) -> str:
    """optuna's name for a hyperparameter or the score, in the visitor's language."""
    if text in craft.PARAMS:
        return t(f"craft.viz.param_{text}")
    return t("craft.viz.score") if text == "Objective Value" else text


def _in_words(fig):
    """optuna's own figures name the axes after the code (``batch_size``, "Objective Value"): use the page's words."""
    axis = fig.layout.xaxis
    if axis.ticktext:
        axis.ticktext = [_name(x) for x in axis.ticktext]
    for trace in fig.data:
        colorbar = getattr(getattr(trace, "marker", None), "colorbar", None)
        if colorbar is not None and colorbar.title.text:
            colorbar.title.text = _name(colorbar.title.text)
        if getattr(trace, "orientation", None) == "h" and trace.y is not None:
            trace.y = [_name(y) for y in trace.y]
    if fig.layout.yaxis.title.text == "Hyperparameter":
        fig.layout.yaxis.title.text = t("craft.page.hyperparameter")
    return fig
