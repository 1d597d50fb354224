"""What the generative lab's views share: the view to draw (the untrained preview, the run's latest, or one taken
right now between two steps), inspections remembered per view, and small number panels."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import streamlit as st

from core.jobs import JobSnapshot, JobState
from core.labs import generative
from ui.i18n import show
from ui.jobs import current_job

from .controls import FRESH, JOB, set_fresh

MEMO = "gen_memo"  # (job key, question, view) -> an inspection's answer
MEMO_SIZE = 32


def query_key(config: generative.Config) -> tuple:
    return tuple(sorted(config.to_query().items()))


@st.cache_data(max_entries=24, show_spinner=False)
def cached_initial_view(query: tuple) -> generative.View:
    return generative.initial_view(generative.Config.from_query(dict(query))[0])


def pick_view(snap: JobSnapshot | None, config: generative.Config) -> generative.View:
    """The freshest picture of the models: the untrained preview, the run's latest view, or — while paused —
    the one a half step left or one taken right now, so it matches the step count."""
    if snap is None or snap.view is None:
        return cached_initial_view(query_key(config))
    if snap.state == JobState.RUNNING:
        return snap.view
    fresh = _fresh(snap)
    if fresh is not None:
        return fresh[1]
    if snap.view.step == snap.step or not snap.state.active:
        return snap.view
    try:
        view = current_job(JOB).inspect(generative.fresh_view, timeout=2)
    except (TimeoutError, RuntimeError, AttributeError):
        return snap.view
    set_fresh(snap.job_id, view)
    return view


def _fresh(snap: JobSnapshot) -> tuple | None:
    """The view taken between two steps, when it is the one to show (paused at its step)."""
    fresh = st.session_state.get(FRESH)
    if (fresh is not None and snap.state != JobState.RUNNING and fresh[0] == snap.job_id
            and fresh[1].step == snap.step):
        return fresh
    return None


def view_key(snap: JobSnapshot | None) -> tuple:
    """Which view an inspection's answer belongs to (it is asked again only when the view changes)."""
    if snap is None:
        return (0, -1)
    fresh = _fresh(snap)
    if fresh is not None:
        return (snap.job_id, "fresh", fresh[2])
    return (snap.job_id, snap.view_step)


def remembered(snap: JobSnapshot | None, what: tuple, fn: Callable[..., Any], *args: Any,
               key: str = JOB) -> Any | None:
    """``job.inspect(fn, *args)`` for the view on show, asked once per view; None (and the reason shown) when
    there is no trained model to ask or it cannot answer now."""
    job = current_job(key)
    if job is None or snap is None:
        return None
    memo: dict = st.session_state.setdefault(MEMO, {})
    tag = (key, what, view_key(snap))
    if tag in memo:
        return memo[tag]
    try:
        value = job.inspect(fn, *args, timeout=5)
    except (TimeoutError, RuntimeError) as exc:
        st.caption(show(exc))
        return None
    except Exception as exc:  # noqa: BLE001 - a PlaygroundError (bad argument): its message, not a traceback
        st.warning(show(exc), icon=":material/info:")
        return None
    for old in [k for k in memo if k[:2] == tag[:2]]:
        del memo[old]  # one answer per question: the latest view's
    while len(memo) >= MEMO_SIZE:
        del memo[next(iter(memo))]
    memo[tag] = value
    return value


def number(value: float, fmt: str = "{:.3f}") -> str:
    return "–" if value is None or not math.isfinite(value) else fmt.format(value)


def last(table: dict[str, list[float]], key: str) -> float:
    for value in reversed(table.get(key, [])):
        if value == value:
            return float(value)
    return math.nan
