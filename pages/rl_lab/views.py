"""The RL lab's live views, drawn inside the live panels: the numbers, the return curve, ε and loss; the
gridworld's value map with the greedy policy (click a cell to change it); CartPole drawn from its state, the pole
angle and the policy map; and the replay of one episode (outside the live panel, so the animation keeps playing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.jobs import JobSnapshot, JobState
from core.labs import rl
from core.viz.curves import thin
from core.viz.rl import (
    cart_policy_map,
    cartpole_figure,
    cartpole_replay,
    epsilon_loss,
    grid_replay,
    pole_angle_trace,
    value_map,
    view_returns,
)
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import current_job
from ui.settings import Form

from . import grid
from .controls import JOB, PAUSE_SOLVED, fresh_view

MAP_HEIGHT = 470
SOLVED_FOR = "rl_solved_for"  # the run paused because it solved CartPole (it is not paused again)
REPLAY = "rl_replay"


@st.cache_data(show_spinner=False, max_entries=16)
def initial_view(config: rl.Config) -> rl.View:
    """The untrained agent exactly as Train starts it."""
    return rl.initial_view(config)


def run_view(snap: JobSnapshot | None, config: rl.Config) -> rl.View:
    """The run's latest view (or the one read after a change), else the untrained agent of the page's settings."""
    view = fresh_view(snap) or (snap.view if snap is not None else None)
    if isinstance(view, rl.View) and view.env == config.env and (
            view.grid is None or view.grid.layout == config.grid_layout):
        return view
    return initial_view(config)


def current_snapshot() -> JobSnapshot | None:
    job = current_job(JOB)
    return job.snapshot() if job is not None else None


# ---------------------------------------------------------------------------------------------- numbers, curves
def metrics(view: rl.View, config: rl.Config, snap: JobSnapshot | None) -> None:
    cols = st.columns([1, 1.25, 0.85, 1.15])
    cols[0].metric(t("rl.page.m_episodes"), f"{view.episodes:,}",
                   help=t("rl.page.m_episodes_help", steps=view.env_steps, updates=view.updates))
    avg = float(view.returns_avg[-1]) if len(view.returns_avg) else math.nan
    cols[1].metric(t("rl.page.m_average"), f"{avg:.2f}" if math.isfinite(avg) else "–",
                   help=t("rl.page.m_average_help", n=rl.AVERAGE_WINDOW, best=view.best_avg)
                   if math.isfinite(view.best_avg) else None)
    if math.isfinite(view.epsilon):
        cols[2].metric(t("rl.metrics.epsilon"), f"{view.epsilon:.3f}", help=t("rl.help.epsilon"))
    else:
        cols[2].metric(t("rl.page.m_updates"), f"{view.updates:,}", help=t("rl.page.m_updates_help"))
    if view.grid is not None and config.slip > 0:  # with slip, "optimal" hides how much a mistake costs
        cols[3].metric(t("rl.page.m_regret"), f"{view.grid.regret:.3f}", help=t("rl.page.m_regret_help"))
    elif view.grid is not None:
        cols[3].metric(t("rl.page.m_optimal"), f"{view.grid.match:.0%}", help=t("rl.page.m_optimal_help"))
    else:
        greedy = snap.evals.get("greedy_return", []) if snap is not None else []
        cols[3].metric(t("rl.page.m_greedy"), f"{greedy[-1]:.0f}" if greedy else "–", help=t("rl.page.m_greedy_help"))


def curves_panel(snap: JobSnapshot | None, config: rl.Config) -> None:
    """The numbers, the return per episode (raw and averaged), ε and the loss."""
    view = run_view(snap, config)
    pause_if_solved(snap, view, config)
    metrics(view, config, snap)
    if snap is None or view.episodes == 0:
        st.info(t("rl.page.press_train") if snap is None else t("rl.page.first_episode"),
                icon=":material/play_circle:")
        return
    chart(view_returns(view, lang=lang(), height=290), key="rl_returns")
    history = thin(snap, 400).history
    if history.get("env_steps"):
        chart(epsilon_loss(history["env_steps"], history.get("epsilon"), history.get("loss"), lang=lang(),
                           log_loss=view.algorithm == "dqn", height=230), key="rl_signals")
    if not config.learning:
        st.caption(t("rl.page.not_learning"))


def pause_if_solved(snap: JobSnapshot | None, view: rl.View, config: rl.Config) -> None:
    """CartPole solved (average ≥ 195 over 100 episodes): pause, so that DQN does not unlearn it."""
    if snap is None or view.env != "cartpole":
        return
    solved = view.episodes >= rl.AVERAGE_WINDOW and float(view.returns_avg[-1]) >= rl.SOLVED_RETURN
    if (solved and st.session_state.get(PAUSE_SOLVED) and snap.state == JobState.RUNNING and config.learning
            and st.session_state.get(SOLVED_FOR) != snap.job_id):
        job = current_job(JOB)
        if job is not None:
            job.pause()
            st.session_state[SOLVED_FOR] = snap.job_id
            st.toast(t("rl.page.solved_toast", episodes=view.episodes), icon=":material/emoji_events:")
    if st.session_state.get(SOLVED_FOR) == snap.job_id and snap.state == JobState.PAUSED:
        st.success(t("rl.page.solved", episodes=view.episodes, target=rl.SOLVED_RETURN), icon=":material/emoji_events:")


# ---------------------------------------------------------------------------------------------- gridworld
def grid_panel(snap: JobSnapshot | None, config: rl.Config, f: Form) -> None:
    """The value map with the greedy policy and the latest episode's path; in edit mode a click paints a cell."""
    view = run_view(snap, config)
    if view.grid is None:
        return
    editing = grid.editing()
    if editing:
        view = grid.held(view, snap.job_id if snap is not None else None, config)
    optimal = bool(st.session_state.get(grid.MAP))
    fig = value_map(view.grid, episode=None if optimal else view.latest, optimal=optimal,
                    probabilities=view.algorithm != "dqn", lang=lang(), height=MAP_HEIGHT)
    if not editing:
        chart(fig, key="rl_value_map")
    else:
        values = view.grid.optimal_values if optimal else view.grid.values
        trace = grid.clickable(fig, values)
        state = chart(fig, key=grid.chart_key(), on_select="rerun", selection_mode="points")
        cell = grid.clicked(state, trace, len(values))
        if cell is not None:
            grid.edit(f, config, *cell)
            st.rerun()  # the new layout goes into the address bar, the map shows the changed world
    if optimal:
        st.caption(t("rl.page.optimal_caption", gamma=config.gamma))
    else:
        st.caption(t("rl.page.map_caption", match=view.grid.match, regret=view.grid.regret))


# ---------------------------------------------------------------------------------------------- CartPole
def cart_panel(snap: JobSnapshot | None, config: rl.Config) -> None:
    """The cart where the latest episode ended, its pole angle over the episode, the policy map."""
    view = run_view(snap, config)
    episode = view.latest
    if episode is None:
        chart(cartpole_figure(np.zeros(4, dtype=np.float32), lang=lang(), height=220), key="rl_cart")
    else:
        title = t("rl.page.cart_last", number=episode.number, steps=episode.length,
                  angle=math.degrees(float(episode.states[-1][2])))
        chart(cartpole_figure(episode.states[-1], lang=lang(), height=220, title=title), key="rl_cart")
        chart(pole_angle_trace(episode, lang=lang(), height=220), key="rl_angle")
    if view.cart is not None:
        chart(cart_policy_map(view.cart, lang=lang(), height=300), key="rl_policy")
        st.caption(t("rl.page.policy_caption"))


# ---------------------------------------------------------------------------------------------- replay
@dataclass
class Replay:
    """The episode being replayed (kept, so the animation is not redrawn while the agent learns on)."""

    job_id: int
    episode: rl.Episode
    grid: rl.GridMap | None
    greedy: bool


def _newest(job, snap: JobSnapshot, config: rl.Config) -> Replay | None:
    view = run_view(snap, config)
    if view.latest is None:
        return None
    return Replay(snap.job_id, view.latest, view.grid, greedy=False)


def _greedy(job, snap: JobSnapshot) -> Replay | None:
    try:
        episode = job.inspect(rl.greedy_episode, timeout=15)
        grid_map = job.inspect(rl.grid_map, timeout=15) if episode.env == "gridworld" else None
    except (RuntimeError, TimeoutError) as exc:
        st.info(show(exc.args[0] if exc.args else ""), icon=":material/hourglass_top:")
        return None
    return Replay(snap.job_id, episode, grid_map, greedy=True)


def replay_view(config: rl.Config) -> None:
    """One episode played back step by step (Play / Pause, a step slider)."""
    job = current_job(JOB)
    snap = job.snapshot() if job is not None else None
    if snap is None:
        st.info(t("rl.page.replay_empty"), icon=":material/play_circle:")
        return
    stored: Replay | None = st.session_state.get(REPLAY)
    cols = st.columns([1.4, 1.6, 3], vertical_alignment="center")
    if cols[0].button(t("rl.page.replay_newest"), icon=":material/refresh:", key="rl_replay_newest",
                      help=t("rl.page.replay_newest_help"), width="stretch"):
        stored = _newest(job, snap, config)
    if cols[1].button(t("rl.page.replay_greedy"), icon=":material/route:", key="rl_replay_greedy",
                      help=t("rl.page.replay_greedy_help"), width="stretch"):
        stored = _greedy(job, snap) or stored
    if stored is None or stored.job_id != snap.job_id:
        stored = _newest(job, snap, config)
    st.session_state[REPLAY] = stored
    if stored is None:
        cols[2].caption(t("rl.page.first_episode"))
        return
    episode = stored.episode
    cols[2].caption(t("rl.page.replay_greedy_caption", steps=episode.length, total=episode.total) if stored.greedy
                    else t("rl.page.replay_caption", number=episode.number, steps=episode.length, total=episode.total))
    title = t("rl.page.greedy_title", steps=episode.length, total=episode.total) if stored.greedy else None
    if episode.env == "gridworld" and stored.grid is not None:
        fig = grid_replay(stored.grid, episode, lang=lang(), height=MAP_HEIGHT + 40)
        if title:
            fig.update_layout(title=title)
        left, right = st.columns([1.3, 1])
        with left:
            chart(fig, key="rl_replay_grid")
        with right:
            _episode_table(episode)
    else:
        fig = cartpole_replay(episode, lang=lang(), height=320)
        if title:
            fig.update_layout(title=title)
        left, right = st.columns(2)
        with left:
            chart(fig, key="rl_replay_cart")
        with right:
            chart(pole_angle_trace(episode, lang=lang(), height=320), key="rl_replay_angle")


def _episode_table(episode: rl.Episode) -> None:
    """The moves of a gridworld episode: where the agent was, what it chose, what it got."""
    names = (t("rl.actions.up"), t("rl.actions.right"), t("rl.actions.down"), t("rl.actions.left"))
    rows = [{t("rl.page.col_step"): i, t("rl.page.col_cell"): f"({r}, {c})", t("rl.page.col_action"): names[a],
             t("rl.page.col_reward"): float(w)}
            for i, ((r, c), a, w) in enumerate(zip(episode.states[:-1].tolist(), episode.actions.tolist(),
                                                   episode.rewards.tolist(), strict=True))]
    st.dataframe(rows, hide_index=True, height=MAP_HEIGHT, key="rl_replay_moves")
