"""The RL lab's settings (bound to ``rl.Config`` through a ``Form``): environment, algorithm and network on the
page, each part's details in a fold; the presets, the speed, the Learning switch; keeping a running agent in step
with the settings (live ones are handed to it, the others build a new agent)."""

from __future__ import annotations

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot, JobState, TrainingJob
from core.labs import rl
from ui.i18n import show, t
from ui.jobs import current_job, reset_job
from ui.session import shelf
from ui.settings import Form

PREFIX = "rl"
JOB = "rl_job"
STARTED = "rl_job_config"  # the settings the current run trains with (live changes applied)
SPEED = "rl_speed"
PAUSE_SOLVED = "rl_pause_solved"
FRESH = "rl_fresh"  # (job id, step, View) read right after a change to a run that is not stepping
PAUSE_UNWATCHED_S = 60.0  # a run whose page is closed pauses itself after this long
TICKS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
BUFFERS = (1_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000)
BATCHES = (16, 32, 64, 128, 256, 512)


def form() -> Form[rl.Config]:
    return Form(rl.Config, PREFIX)


def with_value(f: Form, name: str, options: tuple) -> list:
    """A select slider's options, with the value itself when a link asks for another one."""
    return sorted({*options, f.value(name)})


# ---------------------------------------------------------------------------------------------- jobs
def new_job(config: rl.Config, state: rl.AgentState | None = None) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown (or a loaded agent), at the chosen speed."""
    job = rl.make_job(config, state=state, speed=st.session_state.get(SPEED, "fastest"))
    job.pause_unwatched_s = PAUSE_UNWATCHED_S
    st.session_state[STARTED] = config
    return job


def run_config(config: rl.Config, key: str = JOB) -> rl.Config:
    """The settings of the current run (the page's when there is none)."""
    return st.session_state.get(STARTED, config) if current_job(key) is not None else config


def keep_off_shelf(job: TrainingJob | None) -> None:
    """A gridworld agent reads a one-hot cell number: there is nothing for the Explain page to attribute, and
    ``rl.explainable`` refuses it, so its run leaves the model shelf (CartPole agents stay on it)."""
    if job is None or job.config is None or job.config.env != "gridworld":
        return
    entry = shelf().get(job.id)
    if entry is not None and entry.job is not None:
        entry.job, entry.step = None, 0


def follow_settings(config: rl.Config) -> None:
    """Keep the running agent in step: the settings that need no new network (rewards, layout, slip, γ, learning
    rate, ε, Learning …) are applied between two steps; the others build a new agent (the old one stops)."""
    job, started = current_job(JOB), st.session_state.get(STARTED)
    keep_off_shelf(job)
    if job is None or started is None:
        return
    if started.structure() != config.structure():
        reset_job(JOB)
        st.session_state.pop(STARTED, None)
        st.toast(t("rl.page.rebuilt"), icon=":material/refresh:")
        return
    if config == started or not job.state.active:
        return
    try:
        job.inspect(rl.set_live, config, timeout=5)
    except PlaygroundError as exc:
        st.warning(show(exc), icon=":material/info:")
        return
    except (RuntimeError, TimeoutError):  # not built yet, or busy: tried again on the next run of the page
        return
    st.session_state[STARTED] = config
    if job.state == JobState.PAUSED:
        remember_fresh(job)


def remember_fresh(job: TrainingJob) -> None:
    """The run's view right now (a paused run makes no new view until it steps again)."""
    try:
        st.session_state[FRESH] = (job.id, job.snapshot().step, job.inspect(rl.current_view, timeout=10))
    except (RuntimeError, TimeoutError, PlaygroundError):
        st.session_state.pop(FRESH, None)


def fresh_view(snap: JobSnapshot | None) -> rl.View | None:
    """The view read after a change, while the run has not made a newer one."""
    fresh = st.session_state.get(FRESH)
    if snap is None or fresh is None or fresh[0] != snap.job_id or snap.view_step > fresh[1]:
        return None
    return fresh[2]


# ---------------------------------------------------------------------------------------------- presets
def _apply_preset(f: Form) -> None:
    name = st.session_state.get(f"{PREFIX}_preset")
    if name in rl.PRESETS:
        f.apply(rl.PRESETS[name])


def preset_picker(f: Form, where=st) -> None:
    where.selectbox(t("rl.page.preset"), list(rl.PRESETS), index=None, key=f"{PREFIX}_preset",
                    on_change=_apply_preset, args=(f,), format_func=lambda k: t(f"rl.presets.{k}"),
                    placeholder=t("rl.page.preset_placeholder"), help=t("rl.page.preset_help"))


# ---------------------------------------------------------------------------------------------- settings
def _size_changed(f: Form) -> None:
    """A new size keeps the visitor's own layout (cropped or padded); the default grid follows the size."""
    layout = f.value("layout")
    if layout:
        st.session_state[f.key("layout")] = rl.resize_layout(layout, f.value("size"))


def main_settings(f: Form) -> None:
    """Environment, algorithm, preset; the network and the learning rate."""
    top = st.columns([1.1, 1.5, 1.3], vertical_alignment="bottom")
    f.segmented("env", where=top[0], format_func=lambda v: t(f"rl.envs.{v}"))
    f.segmented("algorithm", where=top[1], format_func=lambda v: t(f"rl.short.{v}"))
    preset_picker(f, where=top[2])
    cols = st.columns(5, vertical_alignment="bottom")
    f.slider("width", where=cols[0])
    f.slider("depth", where=cols[1])
    f.slider("gamma", where=cols[2], step=0.001, format="%.3f")
    f.select_slider("lr", where=cols[3])
    f.number("seed", where=cols[4])


def detail_settings(f: Form) -> None:
    """The environment's, the algorithm's and the training's details, each in a fold."""
    env, algo, run = st.columns(3)
    if f.value("env") == "gridworld":
        with env.expander(t("rl.page.grid_settings"), icon=":material/grid_on:"):
            f.slider("size", on_change=_size_changed, args=(f,))
            f.slider("slip", step=0.05)
            cols = st.columns(3)
            f.number("goal_reward", where=cols[0], step=0.1, format="%.2f")
            f.number("trap_reward", where=cols[1], step=0.1, format="%.2f")
            f.number("step_reward", where=cols[2], step=0.01, format="%.2f")
            f.number("episode_limit", step=10)
            f.toggle("random_start")
    else:
        with env.expander(t("rl.page.cart_settings"), icon=":material/swap_horiz:"):
            st.markdown(t("rl.help.env"))
    if f.value("algorithm") == "dqn":
        with algo.expander(t("rl.page.dqn_settings"), icon=":material/memory:"):
            f.toggle("double_dqn")
            cols = st.columns(2)
            f.select_slider("buffer_size", where=cols[0], options=with_value(f, "buffer_size", BUFFERS),
                            help=t("rl.help.buffer"))
            f.select_slider("batch_size", where=cols[1], options=with_value(f, "batch_size", BATCHES))
            cols = st.columns(3)
            f.number("learn_start", where=cols[0], step=100)
            f.number("train_every", where=cols[1])
            f.number("target_update", where=cols[2], step=10)
            cols = st.columns(3)
            f.number("eps_start", where=cols[0], step=0.05, format="%.2f", help=t("rl.help.epsilon"))
            f.number("eps_end", where=cols[1], step=0.01, format="%.2f", help=t("rl.help.epsilon"))
            f.number("eps_decay", where=cols[2], step=1000, help=t("rl.help.epsilon"))
    else:
        with algo.expander(t("rl.page.pg_settings"), icon=":material/trending_up:"):
            if f.value("algorithm") == "a2c":
                cols = st.columns(2)
                f.number("n_steps", where=cols[0], step=8)
                f.slider("gae_lambda", where=cols[1], step=0.01)
            else:
                st.caption(t("rl.page.reinforce_note"))
            f.slider("entropy", step=0.005, format="%.3f")
    with run.expander(t("rl.page.run_settings"), icon=":material/speed:"):
        f.select_slider("steps_per_tick", options=with_value(f, "steps_per_tick", TICKS),
                        help=t("rl.page.tick_help"))
        f.number("max_steps", step=10_000)


# ---------------------------------------------------------------------------------------------- the bar
def _set_speed() -> None:
    job = current_job(JOB)
    if job is not None:
        job.step_delay_s = rl.SPEEDS[st.session_state[SPEED]]


def speed_control(where=st) -> None:
    st.session_state.setdefault(SPEED, "fastest")
    where.segmented_control(t("rl.page.speed"), list(rl.SPEEDS), key=SPEED, on_change=_set_speed, required=True,
                            format_func=lambda s: t(f"rl.speeds.{s}"), help=t("rl.page.speed_help"),
                            label_visibility="collapsed")


def learning_switch(f: Form, where=st) -> None:
    f.toggle("learning", where=where, label=t("rl.page.learning"), help=t("rl.page.learning_help"))


def pause_when_solved(where=st) -> None:
    st.session_state.setdefault(PAUSE_SOLVED, True)
    where.toggle(t("rl.page.pause_solved"), key=PAUSE_SOLVED,
                 help=t("rl.page.pause_solved_help", target=rl.SOLVED_RETURN, n=rl.AVERAGE_WINDOW))
