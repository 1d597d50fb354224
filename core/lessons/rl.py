"""Lessons of the RL lab."""

from __future__ import annotations

from core.envs.gridworld import default_layout
from core.jobs import JobSnapshot
from core.labs.rl import AVERAGE_WINDOW, SOLVED_RETURN, Config

from . import Challenge, Lesson, Step

DEFAULT_SIZE = Config().size


def optimal_default_grid(config: Config, snap: JobSnapshot) -> bool:
    """On the default 8 × 8 grid without slip, the greedy action is optimal in every cell (the run's own map, so
    a grid edited while learning does not count)."""
    view = snap.view
    return (config.env == "gridworld" and config.slip == 0.0 and view is not None and view.grid is not None
            and view.grid.layout == default_layout(DEFAULT_SIZE) and view.grid.match >= 1.0)


def cartpole_balanced(config: Config, snap: JobSnapshot) -> bool:
    """CartPole solved: the average return over the last 100 episodes is at least 195."""
    view = snap.view
    return (config.env == "cartpole" and view is not None and view.episodes >= AVERAGE_WINDOW
            and float(view.returns_avg[-1]) >= SOLVED_RETURN)


GRID = {"env": "gridworld", "size": DEFAULT_SIZE, "layout": "", "slip": 0.0}
LESSONS = (
    Lesson("rl", "first", steps=(
        Step("watch", {**GRID, "algorithm": "dqn", "gamma": 0.99, "learning": True}),
        Step("edit"),
        Step("slip", {"env": "gridworld", "slip": 0.2}),
        Step("gamma", {"env": "gridworld", "gamma": 0.8}),
        Step("cartpole", {"env": "cartpole", "algorithm": "dqn", "gamma": 0.99, "learning": True}),
        Step("race", {"env": "cartpole"}),
    ), challenges=(
        Challenge("optimal", optimal_default_grid, {**GRID, "algorithm": "dqn", "gamma": 0.99}),
        Challenge("balance", cartpole_balanced, {"env": "cartpole", "algorithm": "dqn", "gamma": 0.99}),
    )),
)
