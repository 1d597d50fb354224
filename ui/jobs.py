"""Play / Pause / Step / Reset bound to a ``TrainingJob``, the live panel that polls it, and the
sidebar list of this session's jobs."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot, JobState, TrainingJob

from .session import manager, session_id

STATE_BADGE = {
    JobState.QUEUED: ":orange-badge[queued]",
    JobState.RUNNING: ":green-badge[running]",
    JobState.PAUSED: ":blue-badge[paused]",
    JobState.FINISHED: ":gray-badge[finished]",
    JobState.STOPPED: ":gray-badge[stopped]",
    JobState.FAILED: ":red-badge[failed]",
}


def current_job(key: str) -> TrainingJob | None:
    """The job this session keeps under ``key`` (one per lab), if any."""
    return st.session_state.get(key)


def _new_job(key: str, make_job: Callable[[], TrainingJob], *, paused: bool) -> TrainingJob | None:
    reset_job(key)
    try:
        job = make_job()
    except PlaygroundError as exc:
        st.session_state[f"{key}__error"] = str(exc)
        return None
    if paused:
        job.pause()
    st.session_state[key] = manager().submit(session_id(), job)
    return job


def reset_job(key: str) -> None:
    """Stop and forget this session's job under ``key``."""
    job = st.session_state.pop(key, None)
    st.session_state.pop(f"{key}__error", None)
    if job is not None:
        manager().discard(session_id(), job)


def _play(key: str, make_job: Callable[[], TrainingJob]) -> None:
    job = current_job(key)
    if job is None or not job.state.active:
        _new_job(key, make_job, paused=False)
    else:
        job.resume()


def _step(key: str, make_job: Callable[[], TrainingJob]) -> None:
    job = current_job(key)
    if job is None or not job.state.active:
        job = _new_job(key, make_job, paused=True)
    if job is not None:
        job.step_once()


def job_controls(key: str, make_job: Callable[[], TrainingJob], *, play_label: str = "Train") -> TrainingJob | None:
    """A row of Play / Pause / Step / Reset buttons driving the job kept under ``key``.

    ``make_job`` builds a fresh (unsubmitted) job from the page's current settings; it may raise
    a ``PlaygroundError`` whose message is shown instead of a traceback.
    """
    job = current_job(key)
    active = job is not None and job.state.active
    running = active and job.state in (JobState.RUNNING, JobState.QUEUED) and not job.pause_requested
    cols = st.columns(4)
    cols[0].button(play_label if not active else "Resume", icon=":material/play_arrow:", key=f"{key}__play",
                   on_click=_play, args=(key, make_job), disabled=running, type="primary", width="stretch")
    cols[1].button("Pause", icon=":material/pause:", key=f"{key}__pause", disabled=not running,
                   on_click=lambda: job.pause(), width="stretch")
    cols[2].button("Step", icon=":material/skip_next:", key=f"{key}__step", disabled=running,
                   on_click=_step, args=(key, make_job), width="stretch",
                   help="One optimisation step, then pause")
    cols[3].button("Reset", icon=":material/restart_alt:", key=f"{key}__reset", disabled=job is None,
                   on_click=reset_job, args=(key,), width="stretch")
    if error := st.session_state.get(f"{key}__error"):
        st.error(error, icon=":material/error:")
    return current_job(key)


def status_line(snap: JobSnapshot) -> None:
    """State badge, step, epoch, speed, and the job's error or queue position."""
    parts = [STATE_BADGE[snap.state], f"step **{snap.step:,}**"]
    if snap.epoch:
        parts.append(f"epoch **{snap.epoch:.1f}**")
    if snap.state == JobState.RUNNING and snap.steps_per_s:
        parts.append(f"{snap.steps_per_s:,.0f} steps/s")
    if snap.wall_s:
        parts.append(f"{snap.wall_s:.1f} s")
    st.markdown(" · ".join(parts))
    if snap.progress is not None and snap.state.active:
        st.progress(snap.progress)
    if snap.state == JobState.QUEUED and snap.queue_position:
        st.info(f"All training slots are busy: this run is number {snap.queue_position} in the queue and starts "
                "by itself when a slot frees up.", icon=":material/hourglass_top:")
    if snap.error and snap.state == JobState.FAILED:
        st.error(snap.error, icon=":material/error:")
    elif snap.error:
        st.warning(snap.error, icon=":material/info:")


SERVER_REDRAWS_PER_S = 4.0  # live panels of all visitors together redraw about this often at most


def live_panel(key: str, render: Callable[[JobSnapshot | None], None], *, every: float = 0.5) -> None:
    """Call ``render(snapshot)`` now and, while the job is active, again every ``every`` seconds.

    With many jobs running the interval stretches, so that drawing figures for everyone does not starve the
    training threads. Polling switches itself off when the job ends (one full rerun refreshes the buttons).
    """
    job = current_job(key)
    polling = job is not None and job.state.active
    interval = max(every, manager().running() / SERVER_REDRAWS_PER_S)

    @st.fragment(run_every=interval if polling else None)
    def _panel() -> None:
        job = current_job(key)
        snap = job.snapshot() if job is not None else None
        if snap is not None:
            status_line(snap)
        render(snap)
        if polling and (snap is None or not snap.state.active):
            st.rerun()

    _panel()


def sidebar_jobs() -> None:
    """This session's jobs with their state (and the keep-alive that tells idle jobs someone watches)."""
    jobs = manager().jobs(session_id())
    polling = any(job.state.active for job in jobs)

    @st.fragment(run_every=2.0 if polling else None)
    def _list() -> None:
        jobs = manager().jobs(session_id())
        if not jobs:
            st.caption("No training jobs yet.")
        for job in jobs:
            snap = job.snapshot()
            st.markdown(f"{STATE_BADGE[snap.state]} **{snap.name}** · step {snap.step:,}")
        if polling and not any(job.state.active for job in jobs):
            st.rerun()

    _list()
