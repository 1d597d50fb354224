"""Algorithms side by side: the same environment, network and seed trained with DQN, REINFORCE with baseline
and A2C at once, their moving-average returns on one chart."""

from __future__ import annotations

import functools
import math

import streamlit as st

from core.jobs import JobState
from core.labs import rl
from core.viz.rl import compare_returns
from ui.display import chart
from ui.i18n import lang, t
from ui.jobs import badge, current_job, reset_job, start_job
from ui.live import live

from .controls import PAUSE_UNWATCHED_S, keep_off_shelf

PICK = "rl_race_algorithms"


def job_key(algorithm: str) -> str:
    return f"rl_race_{algorithm}"


def _make(config: rl.Config):
    job = rl.make_job(config)
    job.pause_unwatched_s = PAUSE_UNWATCHED_S
    return job


def _start(config: rl.Config, algorithms: tuple[str, ...]) -> None:
    _stop()
    for variant in rl.variants(config, algorithms):
        keep_off_shelf(start_job(job_key(variant.algorithm), functools.partial(_make, variant), lab="rl"))


def _stop() -> None:
    for algorithm in rl.ALGORITHMS:
        reset_job(job_key(algorithm))


def _jobs() -> list:
    return [job for a in rl.ALGORITHMS if (job := current_job(job_key(a))) is not None]


def _pause_all(pause: bool) -> None:
    for job in _jobs():
        if job.state.active and pause:
            job.pause()
        elif job.state.active:
            job.resume()


def race_view(config: rl.Config) -> None:
    st.session_state.setdefault(PICK, ["dqn", "a2c"])
    cols = st.columns([2.2, 1.3, 1, 1], vertical_alignment="bottom")
    chosen = cols[0].pills(t("rl.page.race_pick"), rl.ALGORITHMS, selection_mode="multi", key=PICK,
                           format_func=lambda a: t(f"rl.short.{a}"), help=t("rl.help.algorithm"))
    algorithms = tuple(a for a in rl.ALGORITHMS if a in (chosen or ()))
    jobs = _jobs()
    running = any(j.state in (JobState.RUNNING, JobState.QUEUED) and not j.pause_requested for j in jobs)
    cols[1].button(t("rl.page.race_start"), icon=":material/flag:", key="rl_race_go", type="primary",
                   on_click=_start, args=(config, algorithms), disabled=len(algorithms) < 2, width="stretch")
    paused = any(j.state == JobState.PAUSED for j in jobs)
    if running:
        cols[2].button(t("common.ui.pause"), icon=":material/pause:", key="rl_race_pause", on_click=_pause_all,
                       args=(True,), width="stretch")
    else:
        cols[2].button(t("common.ui.resume"), icon=":material/play_arrow:", key="rl_race_resume",
                       on_click=_pause_all, args=(False,), disabled=not paused, width="stretch")
    cols[3].button(t("common.ui.reset"), icon=":material/restart_alt:", key="rl_race_reset", on_click=_stop,
                   disabled=not jobs, width="stretch")
    if len(algorithms) < 2:
        st.caption(t("rl.page.race_two"))
    first = jobs[0].config if jobs and jobs[0].config is not None else config
    st.caption(t("rl.page.race_caption", env=t(f"rl.envs.{first.env}"), width=first.width, depth=first.depth,
                 seed=first.seed, steps=first.max_steps))

    def draw() -> bool:
        jobs = _jobs()
        if not jobs:
            st.info(t("rl.page.race_empty"), icon=":material/flag:")
            return False
        runs, cells = [], st.columns(len(jobs))
        for cell, job in zip(cells, jobs, strict=True):
            snap = job.snapshot()
            view = snap.view if isinstance(snap.view, rl.View) else None
            run = job.config
            name = t(f"rl.short.{run.algorithm}")
            if view is not None:
                runs.append((run.label(lang()), view.episode_numbers, view.returns_avg))
            avg = float(view.returns_avg[-1]) if view is not None and len(view.returns_avg) else math.nan
            cell.metric(name, f"{avg:.2f}" if math.isfinite(avg) else "–",
                        help=t("rl.page.race_metric_help", n=rl.AVERAGE_WINDOW))
            cell.markdown(f"{badge(snap.state)} " + t("rl.page.race_progress", episodes=view.episodes if view else 0,
                                                      steps=view.env_steps if view else 0))
        solved = rl.SOLVED_RETURN if jobs[0].config.env == "cartpole" else None
        chart(compare_returns(runs, solved=solved, lang=lang(), height=380), key="rl_race_chart")
        return any(j.state.active for j in jobs)

    live(draw, active=any(j.state.active for j in jobs), every=1.5)
