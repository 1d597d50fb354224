"""Play / Pause / Step / Reset bound to a lab's job, the live panel that follows it, and the sidebar list of this
session's jobs. Every job started here is put on the session's model shelf."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot, JobState, TrainingJob

from .i18n import show, t
from .live import live
from .session import manager, session_id, shelf
from .shelf import lab_title

BADGE_COLOUR = {JobState.QUEUED: "orange", JobState.RUNNING: "green", JobState.PAUSED: "blue",
                JobState.FINISHED: "gray", JobState.STOPPED: "gray", JobState.FAILED: "red"}


def badge(state: JobState) -> str:
    return f":{BADGE_COLOUR[state]}-badge[{t(f'common.state.{state.value}')}]"


def current_job(key: str) -> TrainingJob | None:
    """The job this session keeps under ``key`` (one per lab), if any."""
    return st.session_state.get(key)


def start_job(key: str, make_job: Callable[[], TrainingJob], lab: str, *, paused: bool = False) -> TrainingJob | None:
    """Replace the job under ``key`` by a fresh one from ``make_job`` (its error shown instead, if it cannot be
    made) and put it on the shelf."""
    reset_job(key)
    try:
        job = make_job()
    except PlaygroundError as exc:
        st.session_state[f"{key}__error"] = exc.as_message()
        return None
    if paused:
        job.pause()
    job = st.session_state[key] = manager().submit(session_id(), job)
    shelf().track(job, lab)
    return job


def reset_job(key: str) -> None:
    """Stop and forget this session's job under ``key`` (the shelf keeps a copy of what it learned)."""
    job = st.session_state.pop(key, None)
    st.session_state.pop(f"{key}__error", None)
    if job is not None:
        shelf().release(job)
        manager().discard(session_id(), job)


def _play(key: str, make_job: Callable[[], TrainingJob], lab: str) -> None:
    job = current_job(key)
    if job is None or not job.state.active:
        start_job(key, make_job, lab)
    else:
        job.resume()


def _step(key: str, make_job: Callable[[], TrainingJob], lab: str) -> None:
    job = current_job(key)
    if job is None or not job.state.active:
        job = start_job(key, make_job, lab, paused=True)
    if job is not None:
        job.step_once()


def job_controls(key: str, make_job: Callable[[], TrainingJob], *, lab: str, play_label: str | None = None,
                 where=st, compact: bool = False) -> TrainingJob | None:
    """A row of Play / Pause / Step / Reset buttons driving the job kept under ``key`` (``compact``: only Play
    keeps its label, the others are icons with their name as a tooltip).

    ``make_job`` builds a fresh (unsubmitted) job from the page's current settings; it may raise a
    ``PlaygroundError``, whose message is shown instead of a traceback.
    """
    job = current_job(key)
    active = job is not None and job.state.active
    running = active and job.state in (JobState.RUNNING, JobState.QUEUED) and not job.pause_requested
    cols = where.columns([2.2, 1, 1, 1] if compact else 4, gap="small")
    pause, step, reset = t("common.ui.pause"), t("common.ui.step"), t("common.ui.reset")
    cols[0].button(t("common.ui.resume") if active else (play_label or t("common.ui.train")),
                   icon=":material/play_arrow:", key=f"{key}__play", on_click=_play, args=(key, make_job, lab),
                   disabled=running, type="primary", width="stretch")
    cols[1].button("" if compact else pause, icon=":material/pause:", key=f"{key}__pause", disabled=not running,
                   on_click=lambda: job.pause(), width="stretch", help=pause if compact else None)
    cols[2].button("" if compact else step, icon=":material/skip_next:", key=f"{key}__step", disabled=running,
                   on_click=_step, args=(key, make_job, lab), width="stretch",
                   help=f"{step}: {t('common.ui.step_help')}" if compact else t("common.ui.step_help"))
    cols[3].button("" if compact else reset, icon=":material/restart_alt:", key=f"{key}__reset",
                   disabled=job is None, on_click=reset_job, args=(key,), width="stretch",
                   help=reset if compact else None)
    if error := st.session_state.get(f"{key}__error"):
        where.error(show(error), icon=":material/error:")
    return current_job(key)


def status_line(snap: JobSnapshot) -> None:
    """State badge, step, epoch, speed, and the job's error or queue position."""
    parts = [badge(snap.state), t("common.ui.status_step", step=snap.step)]
    if snap.epoch:
        parts.append(t("common.ui.status_epoch", epoch=snap.epoch))
    if snap.state == JobState.RUNNING and snap.steps_per_s:
        parts.append(t("common.ui.status_speed", rate=snap.steps_per_s))
    if snap.wall_s:
        parts.append(t("common.ui.status_time", seconds=snap.wall_s))
    st.markdown(" · ".join(parts))
    if snap.progress is not None and snap.state.active:
        st.progress(snap.progress)
    if snap.state == JobState.QUEUED and snap.queue_position:
        st.info(t("common.ui.queued", position=snap.queue_position), icon=":material/hourglass_top:")
    if snap.idle_paused and snap.state == JobState.PAUSED:
        st.info(t("common.jobs.idle_pause"), icon=":material/bedtime:")
    if snap.error and snap.state == JobState.FAILED:
        st.error(show(snap.error), icon=":material/error:")
    elif snap.error:
        st.warning(show(snap.error), icon=":material/info:")


def live_panel(key: str, render: Callable[[JobSnapshot | None], None], *, every: float = 0.5,
               status: bool = True) -> None:
    """``render(snapshot or None)`` now and, while the job is active, again every ``every`` seconds (through the
    one polling primitive, so it slows down when many jobs run). ``status``: a status line above it."""
    job = current_job(key)

    def draw() -> bool:
        job = current_job(key)
        snap = job.snapshot() if job is not None else None
        if snap is not None and status:
            status_line(snap)
        render(snap)
        return snap is not None and snap.state.active

    live(draw, active=job is not None and job.state.active, every=every)


def sidebar_jobs() -> None:
    """This session's jobs with their state (it also tells idle jobs that their visitor is still here)."""
    jobs = manager().jobs(session_id())

    def draw() -> bool:
        jobs = manager().jobs(session_id())
        if not jobs:
            st.caption(t("common.ui.no_jobs"))
        snaps = [job.snapshot(page=False) for job in jobs]
        for snap in snaps:
            entry = shelf().get(snap.job_id)
            st.markdown(t("common.ui.job_row", badge=badge(snap.state), name=show(snap.name), step=snap.step,
                          lab=lab_title(entry.lab) if entry is not None else ""))
        return any(s.state.active for s in snaps)

    live(draw, active=any(job.state.active for job in jobs), every=2.0)


def inspect_job(key: str, fn: Callable[..., Any], *args: Any, timeout: float = 10) -> Any:
    """``job.inspect(fn, *args)`` on this session's job ``key``, with a failure shown as a message (None when there
    is no job or it could not answer yet)."""
    job = current_job(key)
    if job is None:
        return None
    try:
        return job.inspect(fn, *args, timeout=timeout)
    except PlaygroundError as exc:
        st.warning(show(exc), icon=":material/info:")
    except (RuntimeError, TimeoutError) as exc:
        st.info(t("common.ui.not_yet", reason=show(exc.args[0] if exc.args else "")), icon=":material/hourglass_top:")
    return None
