"""The RL lab's core: Bellman targets, returns and advantages by hand, replay sampling, the ε schedule, gridworld
dynamics with slip and value iteration, agent save/load (malicious files refused), short runs that learn, the
URL round trip and errors with catalogue keys."""

from __future__ import annotations

import functools
import io
import os
import pickle
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core.envs.gridworld import (
    Gridworld,
    default_layout,
    edit_layout,
    optimal_actions,
    parse_layout,
    resize_layout,
    value_iteration,
)
from core.errors import ConfigError, DataError
from core.i18n import Term, catalogue, placeholders, text
from core.labs import rl
from core.models.rl import (
    ActorCritic,
    ActorCriticAgent,
    DQNAgent,
    DQNSettings,
    PGSettings,
    QNetwork,
    ReplayBuffer,
    bellman_targets,
    discounted_returns,
    epsilon_at,
    gae,
)
from core.viz import rl as viz

torch.set_num_threads(1)
CPU = torch.device("cpu")


# ---------------------------------------------------------------------------------------------- targets by hand
def test_bellman_targets_dqn_and_double_dqn_by_hand():
    rewards = torch.tensor([1.0, 0.0, -1.0])
    terminated = torch.tensor([False, True, False])
    next_target = torch.tensor([[1.0, 5.0], [3.0, 2.0], [0.5, -2.0]])
    next_online = torch.tensor([[2.0, 1.0], [0.0, 4.0], [-1.0, 3.0]])
    # DQN: r + γ max_a Q_target(s', a) — 1 + 0.5·5, 0 (terminal), −1 + 0.5·0.5
    assert bellman_targets(rewards, terminated, 0.5, next_target).tolist() == [3.5, 0.0, -0.75]
    # double DQN: a* = argmax Q_online = (0, 1, 1), scored by Q_target — 1 + 0.5·1, 0, −1 + 0.5·(−2)
    assert bellman_targets(rewards, terminated, 0.5, next_target, next_online).tolist() == [1.5, 0.0, -2.0]


def test_discounted_returns_by_hand():
    assert discounted_returns([1.0, 1.0, 1.0], 0.9) == pytest.approx([2.71, 1.9, 1.0])
    assert discounted_returns([0.0, 0.0, 1.0], 0.5) == pytest.approx([0.25, 0.5, 1.0])
    assert discounted_returns([1.0, 2.0], 0.5, bootstrap=4.0) == pytest.approx([1 + 0.5 * (2 + 0.5 * 4), 2 + 2.0])


def test_advantages_by_hand():
    rewards, values = np.array([1.0, 1.0, 1.0]), np.array([0.5, 0.4, 0.3])
    done = np.array([False, False, True])
    adv, targets = gae(rewards, values, done, last_value=99.0, gamma=0.9, lam=1.0)  # terminal: no bootstrap
    assert adv == pytest.approx([2.71 - 0.5, 1.9 - 0.4, 1.0 - 0.3])
    assert targets == pytest.approx([2.71, 1.9, 1.0])
    adv0, _ = gae(rewards, values, done, last_value=99.0, gamma=0.9, lam=0.0)  # one-step TD errors
    assert adv0 == pytest.approx([1 + 0.9 * 0.4 - 0.5, 1 + 0.9 * 0.3 - 0.4, 1 - 0.3])
    cut = np.array([False, False, False])  # a rollout cut short bootstraps from the critic
    adv_cut, _ = gae(rewards, values, cut, last_value=2.0, gamma=0.9, lam=1.0)
    g2 = 1 + 0.9 * 2.0
    g1 = 1 + 0.9 * g2
    assert adv_cut == pytest.approx([1 + 0.9 * g1 - 0.5, g1 - 0.4, g2 - 0.3])
    half, _ = gae(rewards, values, done, last_value=0.0, gamma=0.9, lam=0.5)
    d = [1 + 0.9 * 0.4 - 0.5, 1 + 0.9 * 0.3 - 0.4, 1 - 0.3]
    a2 = d[2]
    a1 = d[1] + 0.45 * a2
    assert half == pytest.approx([d[0] + 0.45 * a1, a1, a2])


def test_epsilon_schedule():
    assert epsilon_at(0, 1.0, 0.1, 100) == 1.0
    assert epsilon_at(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert epsilon_at(100, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert epsilon_at(10_000, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert epsilon_at(5, 0.5, 0.2, 0) == 0.2
    trainer = rl.make_trainer(rl.Config(eps_start=0.8, eps_end=0.2, eps_decay=300, learn_start=10_000,
                                        steps_per_tick=100))
    seen = [trainer.train_step()["epsilon"] for _ in range(4)]
    assert seen == pytest.approx([0.6, 0.4, 0.2, 0.2])


# ---------------------------------------------------------------------------------------------- replay
def test_replay_buffer_ring_and_sampling():
    buf = ReplayBuffer(5, obs_dim=2)
    for i in range(8):
        buf.add(np.array([i, -i]), i % 3, float(i), np.array([i + 1, 0]), i == 7)
    assert len(buf) == 5
    ordered = buf.ordered()
    assert ordered["reward"].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]  # oldest first, the first three overwritten
    assert ordered["terminated"].tolist() == [False, False, False, False, True]
    batch = buf.sample(4000, np.random.default_rng(0))
    rewards = batch["reward"].numpy()
    assert set(rewards.tolist()) == {3.0, 4.0, 5.0, 6.0, 7.0}
    counts = np.bincount(rewards.astype(int), minlength=8)[3:]
    assert counts.min() > 700  # uniform: 800 each
    assert torch.equal(batch["obs"][:, 0], batch["reward"])  # the fields of one transition stay together
    assert torch.equal(batch["next_obs"][:, 0], batch["reward"] + 1)
    assert batch["action"].dtype == torch.int64 and batch["terminated"].dtype == torch.bool
    buf.keep(ordered["reward"] % 2 == 1)
    assert buf.ordered()["reward"].tolist() == [3.0, 5.0, 7.0]
    buf.add(np.zeros(2), 0, 8.0, np.zeros(2), False)
    assert buf.ordered()["reward"].tolist() == [3.0, 5.0, 7.0, 8.0]


def test_dqn_update_fits_the_bellman_target():
    torch.manual_seed(0)
    agent = DQNAgent(QNetwork(1, 4, 16, 1, n_states=3), DQNSettings(gamma=0.9, lr=0.01, target_update=10**6,
                                                                     double=False), CPU)
    batch = {"obs": torch.tensor([[0.0], [1.0]]), "action": torch.tensor([1, 2]), "reward": torch.tensor([1.0, 0.0]),
             "next_obs": torch.tensor([[2.0], [2.0]]), "terminated": torch.tensor([True, True])}
    first = agent.learn(batch)["loss"]
    for _ in range(300):
        last = agent.learn(batch)["loss"]
    assert last < first / 100
    q = agent.q_values(np.array([[0.0], [1.0]]))
    assert q[0, 1] == pytest.approx(1.0, abs=0.05) and q[1, 2] == pytest.approx(0.0, abs=0.05)


def test_policy_gradient_raises_the_probability_of_a_better_action():
    torch.manual_seed(0)
    agent = ActorCriticAgent(ActorCritic(1, 2, 8, 1, n_states=2), PGSettings(lr=0.01, entropy=0.0, normalize=False),
                             CPU)
    before = agent.evaluate(np.array([[0.0]]))[0][0, 1]
    for _ in range(50):  # action 1 earns +1, action 0 earns −1
        agent.learn(np.array([[0.0], [0.0]]), np.array([1, 0]), np.array([1.0, -1.0]), np.array([0.0, 0.0]),
                    np.array([True, True]), 0.0)
    assert agent.evaluate(np.array([[0.0]]))[0][0, 1] > max(0.9, before)


# ---------------------------------------------------------------------------------------------- gridworld
def test_gridworld_moves_walls_edges_and_episode_ends():
    env = Gridworld("s.w-...-t.g", step_reward=-0.1, goal_reward=2.0, trap_reward=-3.0, max_steps=5,
                    random_start=False)
    obs, info = env.reset(seed=0)
    assert obs == 0 and info["pos"] == (0, 0)
    assert env.step(0)[:4] == (0, -0.1, False, False)  # up: the edge, stays
    assert env.step(1)[0] == 1  # right
    assert env.step(1)[0] == 1  # into the wall: stays
    obs, reward, terminated, truncated, _ = env.step(2)  # down to (1, 1)
    assert (obs, reward, terminated) == (4, -0.1, False)
    obs, reward, terminated, truncated, _ = env.step(2)  # down to (2, 1): 5 steps, the time limit
    assert (obs, terminated, truncated) == (7, False, True)
    env.reset()
    for a in (2, 2):
        obs, reward, terminated, _, _ = env.step(a)
    assert (obs, reward, terminated) == (6, -3.0, True)  # the trap
    env.reset()
    for a in (2, 1, 1, 2):
        obs, reward, terminated, _, _ = env.step(a)
    assert (obs, reward, terminated) == (8, 2.0, True)  # the goal


def test_gridworld_slip_goes_sideways_with_the_right_frequency():
    env = Gridworld("...-.s.-..g", slip=0.4, random_start=False, max_steps=10**6)
    env.reset(seed=1)
    landed = {}
    for _ in range(6000):
        env.pos = env.start
        obs, *_ = env.step(0)  # up from the centre
        landed[env.position(obs)] = landed.get(env.position(obs), 0) + 1
    assert set(landed) == {(0, 1), (1, 0), (1, 2)}  # never backwards
    assert landed[(0, 1)] / 6000 == pytest.approx(0.6, abs=0.03)
    assert landed[(1, 0)] / 6000 == pytest.approx(0.2, abs=0.03)
    assert landed[(1, 2)] / 6000 == pytest.approx(0.2, abs=0.03)
    p = env.transitions()
    assert np.allclose(p.sum(axis=2), 1.0)
    assert p[4, 0, 1] == pytest.approx(0.6) and p[4, 0, 3] == pytest.approx(0.2) and p[4, 0, 5] == pytest.approx(0.2)
    assert p[0, 0, 0] == pytest.approx(0.6 + 0.2)  # up from the corner: the edge (0.6) and the left edge (0.2)


def test_value_iteration_by_hand():
    env = Gridworld("s.g-...-...", step_reward=-0.1, goal_reward=1.0)
    v, q = value_iteration(env, gamma=0.5)
    v = v.reshape(3, 3)
    assert v[0, 1] == pytest.approx(1.0)  # one step right to the goal
    assert v[0, 0] == pytest.approx(-0.1 + 0.5 * 1.0)
    assert v[1, 2] == pytest.approx(1.0)
    assert v[2, 0] == pytest.approx(-0.1 + 0.5 * (-0.1 + 0.5 * (-0.1 + 0.5 * 1.0)))
    best = optimal_actions(q, env.decision_states).reshape(3, 3, 4)
    assert best[0, 0].tolist() == [False, True, False, False]  # right
    assert best[1, 1].tolist() == [True, True, False, False]  # up or right: a tie, both optimal
    slippery = Gridworld("s.g-...-...", step_reward=-0.1, slip=0.5)
    vs, _ = value_iteration(slippery, gamma=0.5)
    assert vs[1] == pytest.approx(0.5 * 1.0 + 0.25 * (-0.1 + 0.5 * vs[1]) + 0.25 * (-0.1 + 0.5 * vs[4]))


def test_layout_strings_and_edits():
    layout = default_layout(8)
    cells = parse_layout(layout)
    assert cells.shape == (8, 8) and cells[0, 0] == "s" and cells[7, 7] == "g"
    assert len(layout) <= 8 * 9 and re.fullmatch(r"[.wtgs-]+", layout)  # URL-safe characters only
    assert parse_layout(resize_layout(layout, 5)).shape == (5, 5)
    assert parse_layout(resize_layout(layout, 10)).shape == (10, 10)
    moved = edit_layout(layout, 3, 3, "start")
    assert parse_layout(moved)[3, 3] == "s" and parse_layout(moved)[0, 0] == "."
    for bad, key in (("s..-..-..g", "layout_shape"), ("s.x-...-..g", "layout_chars"), ("s..-...-...", "layout_goal"),
                     ("s.s-...-..g", "layout_start"), ("s.w-.ww-w.g", "layout_unreachable"),
                     ("sg", "layout_size"), ("", "layout_empty")):
        with pytest.raises(ConfigError) as err:
            parse_layout(bad)
        assert err.value.key == f"rl.errors.{key}"
    with pytest.raises(ConfigError, match="start"):
        edit_layout(layout, 0, 0, "wall")
    with pytest.raises(ConfigError) as err:
        edit_layout(layout, 8, 0, "wall")
    assert err.value.key == "rl.errors.cell_outside"
    with pytest.raises(ConfigError) as err:
        edit_layout(layout, 1, 1, "lava")
    assert err.value.key == "rl.errors.cell_kind"


# ---------------------------------------------------------------------------------------------- the lab
def test_short_gridworld_run_learns_the_optimal_policy():
    trainer = rl.make_trainer(rl.Config())
    first = trainer.evaluate()["optimal_match"]
    while trainer.env_steps < 10_000:
        trainer.train_step()
    returns = np.array(trainer.returns)
    assert returns[-50:].mean() > returns[:50].mean() + 0.5  # mostly traps and time-outs at first, goals later
    scores = trainer.evaluate()
    assert scores["optimal_match"] >= 0.95 > first and 0 <= scores["regret"] < 0.01
    view = trainer.snapshot()
    assert view.grid.match >= 0.95
    assert view.episodes == len(returns) and view.returns_avg[-1] == pytest.approx(returns[-100:].mean(), abs=1e-5)
    episode = rl.greedy_episode(trainer)
    assert episode.terminated and episode.total > 0.8  # walks from the start to the goal
    assert tuple(episode.states[0]) == (0, 0) and tuple(episode.states[-1]) == (7, 7)


def test_editing_a_cell_live_replans_and_forgets_stale_transitions():
    trainer = rl.make_trainer(rl.Config(steps_per_tick=200))
    for _ in range(5):
        trainer.train_step()
    data = trainer.buffer.ordered()
    near = (data["obs"][:, 0] == 8 * 1 + 0) | (data["next_obs"][:, 0] == 8)  # cell (1, 0) and around
    assert near.any()
    layout = rl.set_cell(trainer, 1, 0, "wall")
    assert parse_layout(layout)[1, 0] == "w" and trainer.config.layout == layout
    after = trainer.buffer.ordered()
    assert not (after["next_obs"][:, 0] == 8).any() and not (after["obs"][:, 0] == 8).any()
    assert not (after["obs"][:, 0] == 0).any()  # its neighbour (0, 0) may have bumped or entered: forgotten
    assert rl.grid_map(trainer).policy[1, 0] == -1
    trainer.train_step()  # keeps learning on the new grid
    # a reward change relabels the stored transitions exactly (the reward is the entered cell's)
    trainer.set_live(replace(trainer.config, goal_reward=5.0))
    data = trainer.buffer.ordered()
    goal_hits = data["next_obs"][:, 0] == 63
    assert np.all(data["reward"][goal_hits] == 5.0) and np.all(data["reward"][~goal_hits] != 5.0)
    with pytest.raises(ConfigError) as err:
        trainer.set_live(replace(trainer.config, width=32))
    assert err.value.key == "rl.errors.needs_rebuild"
    cart = rl.make_trainer(rl.Config(env="cartpole"))
    with pytest.raises(ConfigError) as err:
        rl.set_cell(cart, 0, 0, "wall")
    assert err.value.key == "rl.errors.grid_only"


def test_learning_off_acts_greedily_without_updates():
    for algorithm in ("dqn", "reinforce"):
        trainer = rl.make_trainer(rl.Config(algorithm=algorithm, steps_per_tick=300))
        for _ in range(5):
            trainer.train_step()
        weights = {k: v.clone() for net in trainer.networks().values() for k, v in net.state_dict().items()}
        stored = len(trainer.buffer) if trainer.buffer is not None else 0
        learned, updates = trainer.learning_steps, trainer.updates
        trainer.set_live(replace(trainer.config, learning=False))
        finished = len(trainer.returns)
        out = trainer.train_step()
        assert len(trainer.returns) >= finished + 2  # the latest episode began after the switch
        assert out["learning"] == 0.0 and "loss" not in out
        assert trainer.env_steps == learned + 300 and trainer.learning_steps == learned
        assert trainer.updates == updates and (trainer.buffer is None or len(trainer.buffer) == stored)
        after = {k: v for net in trainer.networks().values() for k, v in net.state_dict().items()}
        assert all(torch.equal(weights[k], after[k]) for k in weights)
        policy = rl.greedy_policy(trainer)
        for s, a, _ in zip(trainer.latest.states[:-1], trainer.latest.actions, range(50), strict=False):
            assert policy[tuple(s)] == a  # every move is the greedy one
        if algorithm == "dqn":
            assert trainer.epsilon == 0.0
        trainer.set_live(replace(trainer.config, learning=True))
        trainer.train_step()
        assert trainer.learning_steps == learned + 300


def test_save_load_round_trip_continues_training():
    trainer = rl.make_trainer(rl.Config(steps_per_tick=100))
    for _ in range(20):
        trainer.train_step()
    rl.set_cell(trainer, 5, 1, "trap")
    data = rl.save_agent(trainer)
    config, state = rl.load_agent(data)
    assert config == trainer.config and parse_layout(config.layout)[5, 1] == "t"
    clone = rl.make_trainer(config, state)
    assert clone.env_steps == trainer.env_steps and clone.returns == trainer.returns
    assert clone.updates == trainer.updates and clone.epsilon == trainer.epsilon
    assert clone.learning_steps == trainer.learning_steps
    for name, net in trainer.networks().items():
        for (k, a), b in zip(net.state_dict().items(), clone.networks()[name].state_dict().values(), strict=True):
            assert torch.equal(a, b), (name, k)
    for k, v in trainer.buffer.ordered().items():
        assert np.array_equal(v, clone.buffer.ordered()[k]), k
    assert np.array_equal(rl.greedy_policy(clone), rl.greedy_policy(trainer))
    assert pickle.loads(pickle.dumps(state)).env_steps == state.env_steps  # travels to a worker process
    job = rl.make_job(config, state=state, total_steps=5)
    job.start()
    assert job.join(30)
    assert job.error is None and job.step == 5 and job.trainer.env_steps == trainer.env_steps + 500
    pg = rl.make_trainer(rl.Config(env="cartpole", algorithm="a2c"))
    for _ in range(30):
        pg.train_step()
    pg_config, pg_state = rl.load_agent(rl.save_agent(pg))
    assert pg_config.algorithm == "a2c" and rl.make_trainer(pg_config, pg_state).returns == pg.returns


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/rl_agent_exploit_ran",))


def test_malicious_and_garbage_agent_files_are_refused(tmp_path):
    marker = Path("/tmp/rl_agent_exploit_ran")
    marker.unlink(missing_ok=True)
    buf = io.BytesIO()
    torch.save({"format": rl.AGENT_FORMAT, "payload": _Exploit()}, buf)
    with pytest.raises(DataError) as err:
        rl.load_agent(buf.getvalue())
    assert err.value.key == "rl.errors.agent_unreadable" and "never code" in str(err.value)
    with pytest.raises(DataError):
        rl.load_agent(pickle.dumps(_Exploit()))
    assert not marker.exists()
    for junk, key in ((b"", "agent_empty"), (b"\x00garbage" * 50, "agent_unreadable"),
                      (b"PK\x03\x04broken zip", "agent_unreadable")):
        with pytest.raises(DataError) as err:
            rl.load_agent(junk)
        assert err.value.key == f"rl.errors.{key}"
    buf = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, buf)
    with pytest.raises(DataError) as err:
        rl.load_agent(buf.getvalue())
    assert err.value.key == "rl.errors.agent_format"

    trainer = rl.make_trainer(rl.Config(steps_per_tick=100))
    for _ in range(12):
        trainer.train_step()
    good = torch.load(io.BytesIO(rl.save_agent(trainer)), weights_only=True)

    def tampered(change) -> bytes:
        raw = torch.load(io.BytesIO(rl.save_agent(trainer)), weights_only=True)
        change(raw)
        out = io.BytesIO()
        torch.save(raw, out)
        return out.getvalue()

    cases = {
        "agent_mismatch": lambda r: r["networks"]["q"].update({"body.0.weight": torch.zeros(3, 3)}),
        "agent_values": lambda r: r["networks"]["q"]["body.0.weight"].fill_(float("nan")),
        "agent_buffer": lambda r: r["buffer"]["action"].fill_(7),
        "agent_settings": lambda r: r["query"].update({"lr": "banana"}),
        "agent_version": lambda r: r.update({"version": 99}),
        "agent_format": lambda r: r["counters"].update({"env_steps": -5}),
    }
    for key, change in cases.items():
        with pytest.raises(DataError) as err:
            rl.load_agent(tampered(change))
        assert err.value.key == f"rl.errors.{key}", key
    moments = tampered(lambda r: r["optimizer"]["state"][0].update({"exp_avg": torch.zeros(2)}))
    with pytest.raises(DataError) as err:
        rl.load_agent(moments)
    assert err.value.key == "rl.errors.agent_mismatch"
    cells = tampered(lambda r: r["buffer"]["obs"].fill_(64.0))  # a cell number outside the 8 × 8 grid
    with pytest.raises(DataError, match="impossible"):
        rl.load_agent(cells)
    assert good["format"] == rl.AGENT_FORMAT


def test_config_url_round_trip_and_repairs():
    config = rl.Config(env="gridworld", size=6, layout=resize_layout(default_layout(8), 6), slip=0.15,
                       algorithm="a2c", width=32, depth=1, gamma=0.95, lr=0.003, n_steps=16, gae_lambda=0.9,
                       entropy=0.02, random_start=False, seed=7)
    back, warnings = rl.Config.from_query(config.to_query())
    assert back == config and warnings == []
    for preset in rl.PRESETS.values():
        assert rl.Config.from_query(preset.validate().to_query()) == (preset, [])
    bad, warnings = rl.Config.from_query({"grid": "s.x-...-..g"})
    assert bad.layout == "" and [w.key for w in warnings] == ["rl.url.layout"]
    sized, warnings = rl.Config.from_query({"grid": "s..-...-..g", "n": "8"})
    assert sized.size == 3 and [w.key for w in warnings] == ["rl.url.size"]
    clamped, warnings = rl.Config.from_query({"slip": "5", "algo": "ppo"})
    assert clamped.slip == 0.9 and clamped.algorithm == "dqn" and len(warnings) == 2


def test_bad_values_raise_config_errors_with_catalogue_keys():
    keys = catalogue("en")
    cases = [
        (dict(eps_start=0.1, eps_end=0.5), "rl.errors.eps_order"),
        (dict(batch_size=256, buffer_size=100), "rl.errors.batch_buffer"),
        (dict(learn_start=5000, buffer_size=1000), "rl.errors.warmup_buffer"),
        (dict(size=5, layout=default_layout(6)), "rl.errors.layout_mismatch"),
        (dict(layout="s.q-...-..g", size=3), "rl.errors.layout_chars"),
        (dict(gamma=1.5), "common.config.range"),
        (dict(env="mujoco"), "common.config.choice"),
        (dict(width=2.5), "common.config.integer"),
    ]
    for values, key in cases:
        with pytest.raises(ConfigError) as err:
            rl.make_job(rl.Config(**values))
        assert err.value.key == key and key in keys
        assert "rl.errors" not in str(err.value)  # a sentence, not a bare key
    with pytest.raises(ConfigError) as err:
        rl.make_job(rl.Config(), speed="warp")
    assert err.value.key == "rl.errors.speed"


def test_catalogues_cover_every_key_in_both_languages():
    en = {k: v for k, v in catalogue("en").items() if k.startswith("rl.")}
    zh = {k: v for k, v in catalogue("zh").items() if k.startswith("rl.")}
    assert set(en) == set(zh)
    assert all(placeholders(en[k]) == placeholders(zh[k]) for k in en)
    root = Path(__file__).resolve().parents[1]
    used = set()
    for path in ("core/labs/rl.py", "core/envs/gridworld.py", "core/viz/rl.py"):
        used |= set(re.findall(r"\"(rl\.[a-z_]+\.[a-z_]+)\"", (root / path).read_text()))
    used |= {f"rl.figures.{k}" for k in re.findall(r"_t\(\"([a-z_]+)\"", (root / "core/viz/rl.py").read_text())}
    used |= {f"rl.fields.{f.name}" for f in rl.Config.declared()}
    used |= {f"rl.presets.{k}" for k in rl.PRESETS} | {f"rl.algorithms.{a}" for a in rl.ALGORITHMS}
    used |= {f"rl.envs.{e}" for e in rl.ENVS} | {f"rl.cells.{c}" for c in rl.cell_kinds()}
    used |= {f"rl.short.{a}" for a in rl.ALGORITHMS} | {"rl.label", "rl.job", "rl.describe"}
    assert used - set(en) == set()
    # a job's name says what trains where (the sidebar and the shelf show its lab beside it)
    name = {"algorithm": Term("rl.algorithms.dqn"), "env": Term("rl.envs.gridworld")}
    assert text("rl.job", "zh", **name).endswith("网格世界") and "Gridworld" in text("rl.job", "en", **name)
    assert "智能体" in zh["rl.errors.agent_format"]
    assert "价值函数" not in en["rl.help.value_map"] and "价值" in zh["rl.help.value_map"]


def test_job_runs_the_lab_and_views_draw():
    factory = functools.partial(rl.make_trainer, rl.Config(env="cartpole"), None)
    assert pickle.loads(pickle.dumps(factory)).args[0].env == "cartpole"
    job = rl.make_job(rl.Config(env="cartpole", steps_per_tick=50), total_steps=40)
    job.start()
    assert job.join(60) and job.error is None
    snap = job.snapshot()
    view = snap.view
    assert isinstance(view, rl.View) and view.env_steps == 2000 and view.episodes == len(view.returns) > 10
    assert "epsilon" in snap.history and "return" in snap.history and "loss" in snap.history
    assert len(pickle.dumps(view)) < 1_000_000
    latest = view.latest
    assert latest.states.shape == (latest.length + 1, 4) and latest.total == latest.length  # +1 per step
    replay = viz.cartpole_replay(latest, lang="zh")
    assert len(replay.frames) == min(latest.length + 1, viz.MAX_FRAMES) and "播放" in str(replay.layout.updatemenus)
    pole = replay.frames[-1].data[1]
    theta = latest.states[int(replay.frames[-1].name), 2]
    assert pole.x[1] - pole.x[0] == pytest.approx(np.sin(theta) * viz.POLE_LEN, abs=1e-6)
    viz.pole_angle_trace(latest).to_json()
    viz.cart_policy_map(view.cart).to_json()
    signals = viz.epsilon_loss(snap.history["env_steps"], snap.history["epsilon"], snap.history["loss"], lang="zh")
    assert "探索率" in signals.to_json()
    curve = viz.view_returns(view)
    assert list(curve.data[1].y) == pytest.approx(list(view.returns_avg))

    grid = rl.make_trainer(rl.Config(steps_per_tick=500))
    for _ in range(6):
        grid.train_step()
    gview = grid.snapshot()
    fig = viz.value_map(gview.grid, episode=gview.latest)
    arrows = sum(len([x for x in tr.x if x is not None]) // 2 for tr in fig.data if tr.type == "scatter"
                 and tr.name in ("greedy policy", "not optimal"))
    assert arrows == int((gview.grid.policy >= 0).sum())  # one arrow per decision cell
    viz.value_map(gview.grid, optimal=True, lang="zh").to_json()
    viz.value_map(gview.grid, probabilities=True).to_json()
    assert len(viz.grid_replay(gview.grid, gview.latest).frames) == min(gview.latest.length + 1, viz.MAX_FRAMES)
    runs = [(c.label(), gview.episode_numbers, gview.returns_avg) for c in rl.variants(rl.Config())]
    assert len(viz.compare_returns(runs).data) == 2


def test_cartpole_policy_is_explainable():
    for algorithm in ("dqn", "a2c"):
        trainer = rl.make_trainer(rl.Config(env="cartpole", algorithm=algorithm, steps_per_tick=200))
        for _ in range(6):
            trainer.train_step()
        ex = rl.explainable(trainer)
        assert ex.kind == "features" and ex.spec.shape == (4,) and len(ex.class_names) == 2
        assert ex.x_test.shape[1] == 4 and len(ex.y_test) == len(ex.x_test) > 5
        with torch.no_grad():
            agrees = ex.model(ex.x_test).argmax(1)
        x = torch.from_numpy(ex.x_test.numpy())
        if algorithm == "dqn":
            assert torch.equal(agrees, torch.from_numpy(trainer.agent.q_values(x.numpy()).argmax(1)))
        else:
            assert torch.equal(agrees, torch.from_numpy(trainer.agent.evaluate(x.numpy())[0].argmax(1)))
        assert all(p.data_ptr() != q.data_ptr() for p in ex.model.parameters()
                   for net in trainer.networks().values() for q in net.parameters())  # a private copy
        assert "CartPole" in ex.description.text()
    with pytest.raises(ConfigError) as err:
        rl.explainable(rl.make_trainer(rl.Config()))
    assert err.value.key == "rl.errors.cartpole_only"


@pytest.mark.slow
def test_policy_gradient_balances_cartpole():
    trainer = rl.make_trainer(rl.Config(env="cartpole", algorithm="reinforce", steps_per_tick=500))
    start = time.process_time()
    while time.process_time() - start < 60 and not (len(trainer.returns) >= 100
                                                    and np.mean(trainer.returns[-100:]) >= 195):
        trainer.train_step()
    assert np.mean(trainer.returns[-100:]) >= 195
