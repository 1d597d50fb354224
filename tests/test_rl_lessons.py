"""The RL lab's lesson: its challenges pass on runs that meet them and fail on runs that do not (too early, an
edited or slippery grid, the wrong environment); every step's settings are valid experiments."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.envs.gridworld import default_layout
from core.labs import rl
from core.lessons import lessons_for
from tests.runs import finished

pytestmark = pytest.mark.usefixtures("one_thread")


def _run(config: rl.Config):
    """A real run to ``config.max_steps`` environment steps: the job's settings and its last snapshot."""
    return finished(rl.make_job(config), 180)


def lesson():
    return lessons_for("rl")[0]


def test_the_lesson_is_found_and_its_steps_set_up_valid_experiments():
    first = lesson()
    assert first.lab == "rl" and [c.key for c in first.challenges] == ["optimal", "balance"]
    envs = [replace(rl.Config(), **step.settings).validate().env for step in first.steps]
    assert envs[0] == "gridworld" and "cartpole" in envs
    for challenge in first.challenges:
        replace(rl.Config(), **challenge.settings).validate()
    assert first.passed(None, None) == []


def test_the_optimal_grid_challenge_needs_every_cell_optimal_on_the_default_grid():
    config, snap = _run(rl.Config(max_steps=10_000))  # the lesson's hint: DQN gets there in about 10,000 steps
    assert snap.view.grid.match == 1.0
    assert "optimal" in lesson().passed(config, snap)
    early_config, early = _run(rl.Config(max_steps=1_500))  # ε still high, values barely spread
    assert early.view.grid.match < 1.0 and "optimal" not in lesson().passed(early_config, early)
    # the same optimal map on another grid, or with slip, does not count
    edited = replace(snap.view, grid=replace(snap.view.grid, layout=default_layout(8).replace("w", ".", 1)))
    assert "optimal" not in lesson().passed(config, replace(snap, view=edited))
    assert "optimal" not in lesson().passed(replace(config, slip=0.2), snap)
    assert "balance" not in lesson().passed(config, snap)  # a gridworld run never balances a pole


def test_the_balance_challenge_needs_an_average_of_195_over_100_episodes_on_cartpole():
    config, snap = _run(rl.Config(env="cartpole", max_steps=3_000, learn_start=500))
    view = snap.view
    assert view.episodes >= 1 and "balance" not in lesson().passed(config, snap)  # a few hundred steps: falls fast
    # the record of a solved agent on the same run (training to 195 takes a minute or two of CPU)
    solved = np.full(rl.AVERAGE_WINDOW, 200.0, dtype=np.float32)
    record = replace(view, episodes=rl.AVERAGE_WINDOW, returns=solved, returns_avg=rl.moving_average(solved),
                     episode_numbers=np.arange(1, rl.AVERAGE_WINDOW + 1, dtype=np.int32))
    assert "balance" in lesson().passed(config, replace(snap, view=record))
    short = replace(record, episodes=rl.AVERAGE_WINDOW - 1)  # 99 episodes are not an average over 100
    assert "balance" not in lesson().passed(config, replace(snap, view=short))
    almost = replace(record, returns_avg=np.full(rl.AVERAGE_WINDOW, 194.0, dtype=np.float32))
    assert "balance" not in lesson().passed(config, replace(snap, view=almost))
    assert "balance" not in lesson().passed(replace(config, env="gridworld"), replace(snap, view=record))
