"""The deep reinforcement-learning lab: an agent that learns live in an editable gridworld or on gymnasium's
CartPole, with DQN (replay buffer, target network, ε schedule, double DQN) or a policy gradient with a learned
baseline (REINFORCE on whole episodes, A2C on n-step rollouts).

One ``train_step()`` is ``steps_per_tick`` environment steps (each followed by a DQN update, or an actor-critic
update at the end of a rollout). The page draws the :class:`View` of ``trainer.snapshot()``: the episode returns,
the latest episode for a replay, and for the gridworld the value function and the greedy policy next to the
optimal one from value iteration. Agents are saved with :func:`save_agent` (weights, optimizer, replay buffer and
settings in a ``torch.save`` file of tensors and plain values) and loaded back with :func:`load_agent`
(``weights_only=True``), then trained further with ``make_job(config, state=state)``.
"""

from __future__ import annotations

import functools
import io
import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from core.config import LabConfig, setting
from core.device import best_device
from core.envs.gridworld import (
    KINDS,
    MAX_SIZE,
    MIN_SIZE,
    Gridworld,
    default_layout,
    edit_layout,
    optimal_actions,
    parse_layout,
    resize_layout,
    value_iteration,
)
from core.errors import ConfigError, DataError
from core.explain import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term, text
from core.jobs import TrainingJob
from core.models.rl import (
    ActorCritic,
    ActorCriticAgent,
    DQNAgent,
    DQNSettings,
    PGSettings,
    PolicyLogits,
    QNetwork,
    ReplayBuffer,
    epsilon_at,
)

ENVS = ("gridworld", "cartpole")
ALGORITHMS = ("dqn", "reinforce", "a2c")
LEARNING_RATES = (0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
SPEEDS = {"fastest": 0.0, "fast": 0.002, "medium": 0.02, "slow": 0.1}  # seconds slept per tick
AVERAGE_WINDOW = 100  # episodes in the moving average (CartPole counts as solved at 195 over 100 episodes)
SOLVED_RETURN = 195.0
MAX_CURVE = 2000  # episodes sent to the page; longer histories are thinned evenly
CARTPOLE_LIMIT = 500  # CartPole-v1's time limit
CART_MAP_SIZE = 41  # the policy map over pole angle × angular velocity
EVAL_EVERY = 100  # ticks between evaluations
SNAPSHOT_EVERY = 2  # ticks between views
AGENT_FORMAT, AGENT_VERSION = "deep-learning-playground/rl-agent", 1
MAX_AGENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Config(LabConfig):
    """One experiment of the RL lab: the environment, the algorithm and its settings, training."""

    LAB: ClassVar[str] = "rl"

    env: str = setting("gridworld", key="env", choices=ENVS)
    # gridworld
    size: int = setting(8, key="n", low=MIN_SIZE, high=MAX_SIZE)
    layout: str = setting("", key="grid", max_len=MAX_SIZE * (MAX_SIZE + 1), rebuild=False)  # "": the default
    goal_reward: float = setting(1.0, key="rgoal", low=-10.0, high=10.0, digits=3, rebuild=False)
    trap_reward: float = setting(-1.0, key="rtrap", low=-10.0, high=10.0, digits=3, rebuild=False)
    step_reward: float = setting(-0.01, key="rstep", low=-10.0, high=10.0, digits=3, rebuild=False)
    slip: float = setting(0.0, key="slip", low=0.0, high=0.9, digits=2, rebuild=False)
    episode_limit: int = setting(100, key="limit", low=10, high=1000, rebuild=False)
    random_start: bool = setting(True, key="rstart", rebuild=False)
    # algorithm
    algorithm: str = setting("dqn", key="algo", choices=ALGORITHMS)
    width: int = setting(64, key="width", low=4, high=256)
    depth: int = setting(2, key="depth", low=0, high=4)
    gamma: float = setting(0.99, key="gamma", low=0.5, high=0.999, digits=3, rebuild=False)
    lr: float = setting(0.001, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES,
                        rebuild=False)
    # DQN
    buffer_size: int = setting(50_000, key="buffer", low=100, high=200_000)
    batch_size: int = setting(128, key="batch", low=8, high=512, rebuild=False)
    learn_start: int = setting(1000, key="warmup", low=0, high=100_000, rebuild=False)
    train_every: int = setting(4, key="every", low=1, high=64, rebuild=False)
    target_update: int = setting(100, key="target", low=1, high=10_000, rebuild=False)
    double_dqn: bool = setting(True, key="double", rebuild=False)
    eps_start: float = setting(1.0, key="eps0", low=0.0, high=1.0, digits=3, rebuild=False)
    eps_end: float = setting(0.02, key="eps1", low=0.0, high=1.0, digits=3, rebuild=False)
    eps_decay: int = setting(8000, key="decay", low=0, high=1_000_000, rebuild=False)
    # policy gradient
    n_steps: int = setting(32, key="nsteps", low=1, high=2000, rebuild=False)  # A2C rollout length
    gae_lambda: float = setting(0.95, key="lam", low=0.0, high=1.0, digits=3, rebuild=False)  # A2C
    entropy: float = setting(0.01, key="entropy", low=0.0, high=1.0, digits=4, rebuild=False)
    # training
    learning: bool = setting(True, key="learn", rebuild=False)  # off: act greedily, no updates (watch it)
    steps_per_tick: int = setting(10, key="tick", low=1, high=1000, rebuild=False)
    max_steps: int = setting(200_000, key="steps", low=100, high=5_000_000, rebuild=False)
    seed: int = setting(0, key="seed", low=0, high=999_999)

    def check(self) -> None:
        if self.eps_end > self.eps_start:
            raise ConfigError("rl.errors.eps_order", start=self.eps_start, end=self.eps_end)
        if self.batch_size > self.buffer_size:
            raise ConfigError("rl.errors.batch_buffer", batch=self.batch_size, buffer=self.buffer_size)
        if self.learn_start > self.buffer_size:
            raise ConfigError("rl.errors.warmup_buffer", warmup=self.learn_start, buffer=self.buffer_size)
        if self.env == "gridworld" and self.layout:
            cells = parse_layout(self.layout)
            if len(cells) != self.size:
                raise ConfigError("rl.errors.layout_mismatch", rows=len(cells), size=self.size)

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """A layout from the URL that cannot be used falls back to the default; its row count sets the size."""
        layout = values.get("layout") or ""
        if not layout:
            return
        try:
            cells = parse_layout(layout)
        except ConfigError as exc:
            warnings.append(Message("rl.url.layout", reason=exc))
            values["layout"] = ""
            return
        if len(cells) != values["size"]:
            warnings.append(Message("rl.url.size", size=len(cells)))
            values["size"] = len(cells)

    @property
    def grid_layout(self) -> str:
        """The gridworld's layout string (the default one for ``size`` when ``layout`` is empty)."""
        return self.layout or default_layout(self.size)

    @property
    def is_dqn(self) -> bool:
        return self.algorithm == "dqn"

    def label(self, lang: str = "en") -> str:
        """A short legend, e.g. ``DQN · 64×2 · seed 0``."""
        return text("rl.label", lang, algorithm=Term(f"rl.short.{self.algorithm}"), width=self.width,
                    depth=self.depth, seed=self.seed)


# Preset key → experiment; names and descriptions live in the catalogue (rl.presets.<key>).
PRESETS: dict[str, Config] = {
    "grid_dqn": Config(),
    "grid_a2c": Config(algorithm="a2c", n_steps=16),
    "grid_slippery": Config(slip=0.2),
    "grid_cliff": Config(size=6, layout="......-......-......-......-......-sttttg", random_start=False,
                         step_reward=-0.01, slip=0.0),
    "cartpole_dqn": Config(env="cartpole"),
    "cartpole_a2c": Config(env="cartpole", algorithm="a2c"),
    "cartpole_reinforce": Config(env="cartpole", algorithm="reinforce"),
}


# ---------------------------------------------------------------------------------------------- views
@dataclass
class Episode:
    """One episode for a replay: ``states`` are (row, col) cells in the gridworld, (x, ẋ, θ, θ̇) on CartPole."""

    env: str
    number: int  # 1 = the first episode
    states: np.ndarray  # (T + 1, 2) int16 or (T + 1, 4) float32, the start included
    actions: np.ndarray  # (T,) int8
    rewards: np.ndarray  # (T,) float32
    total: float  # the undiscounted return
    terminated: bool  # reached a goal / trap / fell, as opposed to hitting the time limit

    @property
    def length(self) -> int:
        return len(self.actions)


@dataclass
class GridMap:
    """The gridworld as the agent sees it now, next to the optimal solution from value iteration."""

    layout: str
    values: np.ndarray  # (n, n) float32: max Q (DQN) or the critic's V (policy gradient); NaN on walls
    action_values: np.ndarray  # (n, n, 4) float32: Q(s, a) (DQN) or π(a|s) (policy gradient)
    policy: np.ndarray  # (n, n) int8 greedy action 0 up, 1 right, 2 down, 3 left; -1 on walls, goals, traps
    optimal_values: np.ndarray  # (n, n) float32 V* (NaN on walls)
    optimal: np.ndarray  # (n, n, 4) bool: the optimal actions (several when tied)
    match: float  # fraction of decision cells whose greedy action is optimal
    regret: float  # mean over decision cells of V*(s) − Q*(s, greedy action): what the mistakes cost


@dataclass
class CartMap:
    """The policy over pole angle θ × angular velocity θ̇ (cart at rest in the middle)."""

    theta: np.ndarray  # (m,) radians
    omega: np.ndarray  # (m,) radians per second
    push_right: np.ndarray  # (m, m) float32 [omega, theta]: π(right) or 1 where Q(right) > Q(left)
    value: np.ndarray  # (m, m) float32: max Q or V


@dataclass
class View:
    """What the page draws besides the job's step curves (ε, loss)."""

    env: str
    algorithm: str
    env_steps: int
    episodes: int
    updates: int
    epsilon: float  # NaN for the policy-gradient algorithms
    episode_numbers: np.ndarray  # (k,) int32, thinned evenly to at most MAX_CURVE
    returns: np.ndarray  # (k,) float32
    returns_avg: np.ndarray  # (k,) float32 moving average over AVERAGE_WINDOW episodes
    best_avg: float  # best moving average so far (NaN before the first episode)
    latest: Episode | None
    grid: GridMap | None = None
    cart: CartMap | None = None


@dataclass
class AgentState:
    """What :func:`load_agent` read: tensors and plain numbers only (picklable for a job in another process)."""

    networks: dict[str, dict[str, torch.Tensor]]
    optimizer: dict[str, Any]
    buffer: dict[str, torch.Tensor] = field(default_factory=dict)
    env_steps: int = 0
    learning_steps: int = 0
    updates: int = 0
    returns: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.float64))
    lengths: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.int64))


def moving_average(values: np.ndarray, window: int = AVERAGE_WINDOW) -> np.ndarray:
    """The mean of the last ``window`` values at each point (fewer at the start)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (csum[idx] - csum[lo]) / (idx - lo)


# ---------------------------------------------------------------------------------------------- environments
def make_env(config: Config) -> gym.Env:
    """The environment of ``config``: the gridworld, or gymnasium's CartPole-v1 (no renderer)."""
    if config.env == "gridworld":
        return Gridworld(config.grid_layout, goal_reward=config.goal_reward, trap_reward=config.trap_reward,
                         step_reward=config.step_reward, slip=config.slip, max_steps=config.episode_limit,
                         random_start=config.random_start)
    return gym.make("CartPole-v1", max_episode_steps=CARTPOLE_LIMIT, disable_env_checker=True)


# ---------------------------------------------------------------------------------------------- the trainer
class RLTrainer:
    """The agent, its environment and the bookkeeping of episodes (see the module docstring)."""

    steps_per_epoch = 0

    def __init__(self, config: Config, state: AgentState | None = None) -> None:
        config.validate()
        self.config = config
        self.device = best_device()
        self.env = make_env(config)
        self.grid: Gridworld | None = self.env if isinstance(self.env, Gridworld) else None
        self.n_actions = int(self.env.action_space.n)
        n_states = self.grid.n_states if self.grid is not None else None
        obs_dim = 1 if self.grid is not None else int(self.env.observation_space.shape[0])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            if config.is_dqn:
                net = QNetwork(obs_dim, self.n_actions, config.width, config.depth, n_states)
                self.agent: DQNAgent | ActorCriticAgent = DQNAgent(net, self._dqn_settings(), self.device)
            else:
                net = ActorCritic(obs_dim, self.n_actions, config.width, config.depth, n_states)
                self.agent = ActorCriticAgent(net, self._pg_settings(), self.device)
        self.buffer = ReplayBuffer(config.buffer_size, obs_dim) if config.is_dqn else None
        self.env_steps = 0  # every step taken
        self.learning_steps = 0  # the steps taken while learning: they drive ε and the budget
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.latest: Episode | None = None
        self._losses: list[dict[str, float]] = []
        self._rollout: list[tuple[np.ndarray, int, float, float]] = []
        if state is not None:
            self._restore(state)
        self.rng = np.random.default_rng([config.seed, len(self.returns)])
        self._plan()
        self._new_episode(seed=config.seed + len(self.returns))

    # ------------------------------------------------------------------ settings
    def _dqn_settings(self) -> DQNSettings:
        c = self.config
        return DQNSettings(gamma=c.gamma, lr=c.lr, batch_size=c.batch_size, target_update=c.target_update,
                           double=c.double_dqn)

    def _pg_settings(self) -> PGSettings:
        c = self.config
        return PGSettings(gamma=c.gamma, lr=c.lr, lam=1.0 if c.algorithm == "reinforce" else c.gae_lambda,
                          entropy=c.entropy)

    def set_live(self, config: Config) -> None:
        """Apply the settings that need no new network (learning rate, ε, rewards, layout …) between steps."""
        config.validate()
        if config.structure() != self.config.structure():
            raise ConfigError("rl.errors.needs_rebuild")
        old, self.config = self.config, config
        self.agent.settings = self._dqn_settings() if config.is_dqn else self._pg_settings()
        self.agent.set_lr(config.lr)
        if self.grid is None:
            return
        g = self.grid
        g.goal_reward, g.trap_reward, g.step_reward = config.goal_reward, config.trap_reward, config.step_reward
        g.slip, g.max_steps, g.random_start = config.slip, config.episode_limit, config.random_start
        if config.grid_layout != old.grid_layout:
            self._change_layout(config.grid_layout)
        else:
            self._relabel_buffer()
            self._plan()

    @property
    def epsilon(self) -> float:
        c = self.config
        if not c.is_dqn:
            return math.nan
        return epsilon_at(self.learning_steps, c.eps_start, c.eps_end, c.eps_decay) if c.learning else 0.0

    @property
    def updates(self) -> int:
        return self.agent.updates

    @property
    def done(self) -> bool:
        return self.learning_steps >= self.config.max_steps

    # ------------------------------------------------------------------ stepping
    def _x(self, obs: Any) -> np.ndarray:
        return np.asarray(obs, dtype=np.float32).reshape(-1)

    def _state_of(self, obs: Any) -> np.ndarray:
        if self.grid is not None:
            return np.array(self.grid.position(int(obs)), dtype=np.int16)
        return np.asarray(obs, dtype=np.float32)

    def _new_episode(self, seed: int | None = None) -> None:
        obs, _ = self.env.reset(seed=seed)
        self._obs = obs
        self._trace = [self._state_of(obs)]
        self._actions: list[int] = []
        self._rewards: list[float] = []
        self._rollout = []

    def _end_episode(self, terminated: bool) -> float:
        total = float(np.sum(self._rewards))
        self.returns.append(total)
        self.lengths.append(len(self._actions))
        self.latest = Episode(self.config.env, len(self.returns), np.stack(self._trace),
                              np.asarray(self._actions, dtype=np.int8), np.asarray(self._rewards, dtype=np.float32),
                              total, terminated)
        self._new_episode()
        return total

    def train_step(self) -> dict[str, float]:
        """``steps_per_tick`` environment steps with their updates; the numbers of this tick."""
        self._losses = []
        ended: list[float] = []
        for _ in range(self.config.steps_per_tick):
            if self.done:
                break
            total = self._env_step()
            if total is not None:
                ended.append(total)
        out: dict[str, float] = {"env_steps": float(self.env_steps), "episodes": float(len(self.returns)),
                                 "lr": self.config.lr, "learning": float(self.config.learning)}
        if self.config.is_dqn:
            out["epsilon"] = self.epsilon
        if self._losses:
            for key in self._losses[0]:
                out[key] = float(np.mean([d[key] for d in self._losses]))
        if ended:
            out["return"] = ended[-1]
            out["length"] = float(self.lengths[-1])
            window = self.returns[-AVERAGE_WINDOW:]
            out["return_avg"] = float(np.mean(window))
        return out

    def _env_step(self) -> float | None:
        """One environment step (and its update); the episode's return when it ended."""
        x = self._x(self._obs)
        learning = self.config.learning
        if self.config.is_dqn:
            action = self.agent.act(x, self.epsilon, self.rng, self.n_actions)
            value = 0.0
        elif learning:
            action, value = self.agent.act(x, self.rng)
        else:
            action, value = int(self.agent.evaluate(x)[0][0].argmax()), 0.0
        obs, reward, terminated, truncated, _ = self.env.step(action)
        self.env_steps += 1
        self.learning_steps += learning
        self._trace.append(self._state_of(obs))
        self._actions.append(action)
        self._rewards.append(float(reward))
        if not learning:
            self._rollout = []
        elif self.config.is_dqn:
            self.buffer.add(x, action, reward, self._x(obs), terminated)
            c = self.config
            if len(self.buffer) >= max(c.batch_size, c.learn_start) and self.env_steps % c.train_every == 0:
                self._losses.append(self.agent.learn(self.buffer.sample(c.batch_size, self.rng)))
        else:
            self._rollout.append((x, action, float(reward), value))
            full = self.config.algorithm == "a2c" and len(self._rollout) >= self.config.n_steps
            if full or terminated or truncated:
                last = 0.0 if terminated else float(self.agent.evaluate(self._x(obs))[1][0])
                self._learn_rollout(terminated, last)
        self._obs = obs
        if terminated or truncated:
            return self._end_episode(terminated)
        return None

    def _learn_rollout(self, terminated: bool, last_value: float) -> None:
        obs = np.stack([r[0] for r in self._rollout])
        actions = np.array([r[1] for r in self._rollout])
        rewards = np.array([r[2] for r in self._rollout])
        values = np.array([r[3] for r in self._rollout])
        done = np.zeros(len(rewards), dtype=bool)
        done[-1] = terminated
        self._losses.append(self.agent.learn(obs, actions, rewards, values, done, last_value))
        self._rollout = []

    # ------------------------------------------------------------------ gridworld planning and edits
    def _plan(self) -> None:
        if self.grid is None:
            return
        self.optimal_v, self.optimal_q = value_iteration(self.grid, self.config.gamma)
        self.optimal_mask = optimal_actions(self.optimal_q, self.grid.decision_states)

    def _relabel_buffer(self) -> None:
        """Rewards and episode ends of stored transitions follow the cell entered: recompute them."""
        if self.buffer is None or not len(self.buffer):
            return
        data = self.buffer.ordered()
        nxt = data["next_obs"][:, 0].astype(np.int64)
        data["reward"] = self.grid.rewards()[nxt].astype(np.float32)
        data["terminated"] = self.grid.terminal[nxt]
        self.buffer.size = self.buffer.pos = 0
        self.buffer.extend(data)

    def _change_layout(self, layout: str) -> None:
        """A new layout of the same size: forget transitions whose dynamics changed, replan, restart the episode."""
        g = self.grid
        before = g.cells.copy()
        g.set_layout(layout)
        if g.size != len(before):
            raise ConfigError("rl.errors.layout_mismatch", rows=g.size, size=len(before))
        self.config = replace(self.config, layout=g.layout)
        changed = np.argwhere(before != g.cells)
        if self.buffer is not None and len(self.buffer) and len(changed):
            data = self.buffer.ordered()
            s = data["obs"][:, 0].astype(np.int64)
            nxt = data["next_obs"][:, 0].astype(np.int64)
            rows, cols = np.divmod(s, g.size)
            near = np.zeros(len(s), dtype=bool)
            for r, c in changed:
                near |= (np.abs(rows - r) + np.abs(cols - c) <= 1) | (nxt == r * g.size + c)
            self.buffer.keep(~near)
        self._relabel_buffer()
        self._plan()
        self._new_episode()

    # ------------------------------------------------------------------ views
    def evaluate(self) -> dict[str, float]:
        """Gridworld: the share of cells where the greedy action is optimal; CartPole: one greedy episode."""
        if self.grid is not None:
            m = grid_map(self)
            decide = self.grid.decision_states.reshape(m.values.shape)
            err = np.abs(m.values - m.optimal_values)[decide]
            return {"optimal_match": m.match, "regret": m.regret, "value_error": float(err.mean()) if err.size else 0.0}
        return {"greedy_return": greedy_episode(self).total}

    def snapshot(self) -> View:
        returns = np.asarray(self.returns, dtype=np.float64)
        avg = moving_average(returns)
        idx = np.arange(len(returns))
        if len(idx) > MAX_CURVE:
            idx = np.unique(np.linspace(0, len(returns) - 1, MAX_CURVE).round().astype(np.int64))
        return View(env=self.config.env, algorithm=self.config.algorithm, env_steps=self.env_steps,
                    episodes=len(self.returns), updates=self.updates, epsilon=self.epsilon,
                    episode_numbers=(idx + 1).astype(np.int32), returns=returns[idx].astype(np.float32),
                    returns_avg=avg[idx].astype(np.float32),
                    best_avg=float(avg[AVERAGE_WINDOW - 1:].max()) if len(avg) >= AVERAGE_WINDOW
                    else (float(avg.max()) if len(avg) else math.nan),
                    latest=self.latest, grid=grid_map(self) if self.grid is not None else None,
                    cart=cart_map(self) if self.grid is None else None)

    # ------------------------------------------------------------------ save / restore
    def networks(self) -> dict[str, torch.nn.Module]:
        if isinstance(self.agent, DQNAgent):
            return {"q": self.agent.q, "target": self.agent.target}
        return {"net": self.agent.net}

    def _restore(self, state: AgentState) -> None:
        nets = self.networks()
        if set(state.networks) != set(nets):
            raise DataError("rl.errors.agent_mismatch", detail=", ".join(sorted(state.networks)))
        try:
            for name, net in nets.items():
                net.load_state_dict(state.networks[name])
            self.agent.optimizer.load_state_dict(state.optimizer)
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise DataError("rl.errors.agent_mismatch", detail=str(exc)[:200]) from None
        for param, slots in self.agent.optimizer.state.items():  # moments shaped like their weights
            for name, value in slots.items():
                if isinstance(value, torch.Tensor) and value.ndim and value.shape != param.shape:
                    raise DataError("rl.errors.agent_mismatch", detail=f"optimizer {name} {tuple(value.shape)}")
                if isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all():
                    raise DataError("rl.errors.agent_values")
        self.agent.set_lr(self.config.lr)
        self.agent.updates = int(state.updates)
        self.env_steps = int(state.env_steps)
        self.learning_steps = int(state.learning_steps)
        self.returns = [float(v) for v in state.returns.tolist()]
        self.lengths = [int(v) for v in state.lengths.tolist()]
        if self.buffer is not None and state.buffer:
            self.buffer.extend({k: v.numpy() for k, v in state.buffer.items()})


# ---------------------------------------------------------------------------------------------- lab face
def make_trainer(config: Config, state: AgentState | None = None) -> RLTrainer:
    """A trainer for ``config``, starting fresh or from a loaded agent's ``state``."""
    return RLTrainer(config, state)


def make_job(config: Config, *, state: AgentState | None = None, speed: str = "fastest",
             total_steps: int | None = None) -> TrainingJob:
    """A job that trains until ``config.max_steps`` environment steps (or ``total_steps`` ticks), from scratch or
    from a loaded agent."""
    config.validate()
    if speed not in SPEEDS:
        raise ConfigError("rl.errors.speed", value=speed, choices=", ".join(SPEEDS))
    return TrainingJob(functools.partial(make_trainer, config, state),
                       name=Message("rl.job", algorithm=Term(f"rl.algorithms.{config.algorithm}"),
                                    env=Term(f"rl.envs.{config.env}")),
                       total_steps=total_steps, eval_every=EVAL_EVERY, snapshot_every=SNAPSHOT_EVERY,
                       seed=config.seed, step_delay_s=SPEEDS[speed])


def variants(config: Config, algorithms: tuple[str, ...] = ("dqn", "a2c")) -> list[Config]:
    """The same experiment (environment, network, seed) with each algorithm: the races of the comparison chart."""
    return [replace(config, algorithm=a) for a in algorithms]


def initial_view(config: Config) -> View:
    """The untrained agent exactly as Play starts it (same seed), for the preview."""
    return make_trainer(config).snapshot()


def current_view(trainer: RLTrainer) -> View:
    """The view right now (a paused page asks for it)."""
    return trainer.snapshot()


def set_live(trainer: RLTrainer, config: Config) -> None:
    """Apply the settings that keep the network (``rebuild=False`` fields) to the running agent."""
    trainer.set_live(config)


# ---------------------------------------------------------------------------------------------- inspections
def _require_grid(trainer: RLTrainer) -> Gridworld:
    if trainer.grid is None:
        raise ConfigError("rl.errors.grid_only")
    return trainer.grid


def set_cell(trainer: RLTrainer, row: int, col: int, kind: str) -> str:
    """Make cell (row, col) ``kind`` (empty, wall, trap, goal, start) while the agent learns; the new layout.

    Transitions next to the cell are dropped from the replay buffer (their dynamics changed), the optimal policy
    is planned again and the current episode restarts.
    """
    g = _require_grid(trainer)
    layout = edit_layout(g.layout, row, col, kind)
    trainer._change_layout(layout)
    return trainer.grid.layout


def grid_map(trainer: RLTrainer) -> GridMap:
    """Values, action values and the greedy policy of every cell, with value iteration's optimal ones."""
    g = _require_grid(trainer)
    n, states = g.size, np.arange(g.n_states, dtype=np.float32)[:, None]
    if isinstance(trainer.agent, DQNAgent):
        av = trainer.agent.q_values(states)
        values = av.max(axis=1)
    else:
        av, values = trainer.agent.evaluate(states)
    decide = g.decision_states
    policy = np.where(decide, av.argmax(axis=1), -1)
    cells, chosen = np.flatnonzero(decide), policy[decide]
    match = float(trainer.optimal_mask[cells, chosen].mean()) if len(cells) else 1.0
    regret = float((trainer.optimal_v[cells] - trainer.optimal_q[cells, chosen]).mean()) if len(cells) else 0.0
    values = np.where(g.walls, np.nan, np.where(g.terminal, 0.0, values))
    optimal_values = np.where(g.walls, np.nan, trainer.optimal_v)
    return GridMap(layout=g.layout, values=values.reshape(n, n).astype(np.float32),
                   action_values=av.reshape(n, n, -1).astype(np.float32),
                   policy=policy.reshape(n, n).astype(np.int8),
                   optimal_values=optimal_values.reshape(n, n).astype(np.float32),
                   optimal=trainer.optimal_mask.reshape(n, n, -1), match=match, regret=regret)


def greedy_policy(trainer: RLTrainer) -> np.ndarray:
    """(n, n) greedy action of every gridworld cell (0 up, 1 right, 2 down, 3 left; -1 where none is chosen)."""
    return grid_map(trainer).policy


def optimal_policy(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Value iteration on ``config``'s gridworld: V* as (n, n) and the optimal actions as (n, n, 4) booleans."""
    env = make_env(config)
    if not isinstance(env, Gridworld):
        raise ConfigError("rl.errors.grid_only")
    v, q = value_iteration(env, config.gamma)
    n = env.size
    return v.reshape(n, n), optimal_actions(q, env.decision_states).reshape(n, n, 4)


def cart_map(trainer: RLTrainer, size: int = CART_MAP_SIZE) -> CartMap:
    """CartPole's policy over pole angle × angular velocity, the cart at rest in the middle."""
    if trainer.grid is not None:
        raise ConfigError("rl.errors.cartpole_only")
    theta = np.linspace(-0.21, 0.21, size, dtype=np.float32)  # the episode ends beyond ±12°
    omega = np.linspace(-2.0, 2.0, size, dtype=np.float32)
    w, t = np.meshgrid(omega, theta, indexing="ij")
    states = np.stack([np.zeros_like(t), np.zeros_like(t), t, w], axis=-1).reshape(-1, 4)
    if isinstance(trainer.agent, DQNAgent):
        q = trainer.agent.q_values(states)
        right, value = (q[:, 1] > q[:, 0]).astype(np.float32), q.max(axis=1)
    else:
        probs, value = trainer.agent.evaluate(states)
        right = probs[:, 1]
    return CartMap(theta, omega, right.reshape(size, size).astype(np.float32),
                   value.reshape(size, size).astype(np.float32))


def latest_episode(trainer: RLTrainer) -> Episode | None:
    """The last finished training episode (exploration included), for the replay."""
    return trainer.latest


def greedy_episode(trainer: RLTrainer, max_steps: int | None = None) -> Episode:
    """One episode of the greedy policy (no exploration, no learning) on a copy of the environment: from the
    start cell in the gridworld, from a fixed seeded start on CartPole."""
    config = trainer.config
    env = make_env(replace(config, random_start=False))
    obs, _ = env.reset(seed=config.seed + 1_000_003)
    states, actions, rewards, terminated = [trainer._state_of(obs)], [], [], False
    limit = max_steps or (config.episode_limit if trainer.grid is not None else CARTPOLE_LIMIT)
    for _ in range(limit):
        x = trainer._x(obs)
        if isinstance(trainer.agent, DQNAgent):
            action = int(trainer.agent.q_values(x)[0].argmax())
        else:
            action = int(trainer.agent.evaluate(x)[0][0].argmax())
        obs, reward, terminated, truncated, _ = env.step(action)
        states.append(trainer._state_of(obs))
        actions.append(action)
        rewards.append(float(reward))
        if terminated or truncated:
            break
    return Episode(config.env, 0, np.stack(states), np.asarray(actions, dtype=np.int8),
                   np.asarray(rewards, dtype=np.float32), float(np.sum(rewards)), bool(terminated))


def explainable(trainer: RLTrainer) -> Explainable:
    """CartPole's policy as a two-class model over the state (x, ẋ, θ, θ̇): the Q-network (DQN) or the actor
    (policy gradient), with the states of the latest and of a greedy episode labelled by the agent's own choice.
    The gridworld's network reads a one-hot cell number: nothing there to attribute."""
    if trainer.grid is not None:
        raise ConfigError("rl.errors.cartpole_only")
    if isinstance(trainer.agent, DQNAgent):
        model = private_copy(trainer.agent.q)
    else:
        model = PolicyLogits(private_copy(trainer.agent.net)).eval()
    episodes = [greedy_episode(trainer)] + ([trainer.latest] if trainer.latest is not None else [])
    x = torch.from_numpy(np.concatenate([e.states[:-1] for e in episodes]).astype(np.float32))
    with torch.no_grad():
        y = model(x).argmax(dim=1)
    lo, hi = x.min(0).values.numpy(), x.max(0).values.numpy()
    spec = InputSpec(shape=(4,), class_names=[Term("rl.actions.push_left"), Term("rl.actions.push_right")],
                     low=tuple(lo.tolist()), high=tuple(np.maximum(hi, lo + 1e-3).tolist()), black=(0.0,) * 4,
                     mean=x.mean(0).numpy(), feature_names=["x", "ẋ", "θ", "θ̇"])
    avg = float(np.mean(trainer.returns[-AVERAGE_WINDOW:])) if trainer.returns else 0.0
    card = {**trainer.config.card(), "model": {"kind": "q_network" if trainer.config.is_dqn else "actor_critic",
                                               "width": trainer.config.width, "depth": trainer.config.depth},
            "metrics": {"return_avg": avg, "episodes": len(trainer.returns)}, "step": trainer.env_steps}
    description = Message("rl.describe", algorithm=Term(f"rl.algorithms.{trainer.config.algorithm}"),
                          env=Term(f"rl.envs.{trainer.config.env}"), steps=trainer.env_steps,
                          episodes=len(trainer.returns))
    return Explainable("rl", "features", model, spec, x, y, description, x_train=x, card=card)


# ---------------------------------------------------------------------------------------------- save / load
def save_agent(trainer: RLTrainer) -> bytes:
    """The agent as a file: settings (the shareable query), weights, optimizer state, replay buffer, counters."""
    payload: dict[str, Any] = {
        "format": AGENT_FORMAT,
        "version": AGENT_VERSION,
        "query": trainer.config.to_query(),
        "networks": {name: {k: v.detach().cpu() for k, v in net.state_dict().items()}
                     for name, net in trainer.networks().items()},
        "optimizer": _cpu(trainer.agent.optimizer.state_dict()),
        "buffer": ({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in trainer.buffer.ordered().items()}
                   if trainer.buffer is not None else {}),
        "counters": {"env_steps": trainer.env_steps, "learning_steps": trainer.learning_steps,
                     "updates": trainer.updates},
        "returns": torch.tensor(trainer.returns, dtype=torch.float64),
        "lengths": torch.tensor(trainer.lengths, dtype=torch.int64),
    }
    out = io.BytesIO()
    torch.save(payload, out)
    return out.getvalue()


def _cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cpu(v) for v in value)
    return value


def load_agent(data: bytes) -> tuple[Config, AgentState]:
    """Read a file from :func:`save_agent` safely (tensors and plain values only) and check that it fits.

    Anything else — a pickle with code in it, a truncated or foreign file, weights that do not match the
    settings, a replay buffer with impossible values — raises ``DataError`` with a message for the visitor.
    """
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise DataError("rl.errors.agent_empty")
    if len(data) > MAX_AGENT_BYTES:
        raise DataError("rl.errors.agent_too_large", mb=MAX_AGENT_BYTES / 2**20, size=len(data) / 2**20)
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols: the error below says it all
            warnings.simplefilter("ignore")
            raw = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except Exception:  # any failure to read an untrusted file (foreign pickle, truncated zip …) is a refusal
        raise DataError("rl.errors.agent_unreadable") from None
    if not isinstance(raw, dict) or raw.get("format") != AGENT_FORMAT:
        raise DataError("rl.errors.agent_format")
    if raw.get("version") != AGENT_VERSION:
        raise DataError("rl.errors.agent_version", version=str(raw.get("version")), supported=AGENT_VERSION)
    query, networks, counters = raw.get("query"), raw.get("networks"), raw.get("counters")
    if not (isinstance(query, dict) and isinstance(networks, dict) and isinstance(counters, dict)
            and isinstance(raw.get("optimizer"), dict) and isinstance(raw.get("buffer"), dict)):
        raise DataError("rl.errors.agent_format")
    config, repairs = Config.from_query({str(k): str(v) for k, v in query.items()})
    if repairs:
        raise DataError("rl.errors.agent_settings", reason=repairs[0])
    state = AgentState(networks=networks, optimizer=raw["optimizer"], buffer=raw["buffer"],
                       env_steps=_count(counters.get("env_steps")),
                       learning_steps=_count(counters.get("learning_steps")), updates=_count(counters.get("updates")),
                       returns=_vector(raw.get("returns"), torch.float64),
                       lengths=_vector(raw.get("lengths"), torch.int64))
    _check_state(config, state)
    return config, state


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        raise DataError("rl.errors.agent_format")
    return value


def _vector(value: Any, dtype: torch.dtype) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.ndim != 1 or value.dtype != dtype:
        raise DataError("rl.errors.agent_format")
    if dtype.is_floating_point and not torch.isfinite(value).all():
        raise DataError("rl.errors.agent_values")
    return value


def _check_state(config: Config, state: AgentState) -> None:
    """Weights finite and of the right shapes, a replay buffer of possible transitions (else ``DataError``)."""
    for net in state.networks.values():
        if not isinstance(net, dict) or not all(isinstance(t, torch.Tensor) for t in net.values()):
            raise DataError("rl.errors.agent_format")
        if not all(torch.isfinite(t).all() for t in net.values() if t.is_floating_point()):
            raise DataError("rl.errors.agent_values")
    if len(state.returns) != len(state.lengths):
        raise DataError("rl.errors.agent_format")
    env = make_env(config)
    grid = env if isinstance(env, Gridworld) else None
    if config.is_dqn:
        _check_buffer(config, state.buffer, 1 if grid else int(env.observation_space.shape[0]),
                      int(env.action_space.n), grid.n_states if grid else None)
    elif state.buffer:
        raise DataError("rl.errors.agent_format")
    try:
        make_trainer(config, state)
    except ConfigError as exc:
        raise DataError("rl.errors.agent_settings", reason=exc) from None


def _check_buffer(config: Config, buffer: dict, obs_dim: int, n_actions: int, n_states: int | None) -> None:
    if not buffer:
        return
    if set(buffer) != set(ReplayBuffer.FIELDS) or not all(isinstance(v, torch.Tensor) for v in buffer.values()):
        raise DataError("rl.errors.agent_buffer")
    n = len(buffer["action"])
    shapes = {"obs": (n, obs_dim), "next_obs": (n, obs_dim), "action": (n,), "reward": (n,), "terminated": (n,)}
    dtypes = {"obs": torch.float32, "next_obs": torch.float32, "action": torch.int64, "reward": torch.float32,
              "terminated": torch.bool}
    if n > config.buffer_size or any(tuple(buffer[k].shape) != s or buffer[k].dtype != dtypes[k]
                                     for k, s in shapes.items()):
        raise DataError("rl.errors.agent_buffer")
    if n == 0:
        return
    finite = all(torch.isfinite(buffer[k]).all() for k in ("obs", "next_obs", "reward"))
    actions_ok = bool(((buffer["action"] >= 0) & (buffer["action"] < n_actions)).all())
    states_ok = True
    if n_states is not None:
        cells = torch.cat([buffer["obs"], buffer["next_obs"]]).reshape(-1)
        states_ok = bool(((cells >= 0) & (cells < n_states) & (cells == cells.round())).all())
    if not (finite and actions_ok and states_ok):
        raise DataError("rl.errors.agent_buffer")


def cell_kinds() -> tuple[str, ...]:
    """The kinds :func:`set_cell` accepts (catalogue: ``rl.cells.<kind>``)."""
    return tuple(KINDS)


__all__ = ["ALGORITHMS", "ENVS", "PRESETS", "AgentState", "CartMap", "Config", "Episode", "GridMap", "RLTrainer",
           "View", "cart_map", "cell_kinds", "current_view", "default_layout", "explainable", "greedy_episode",
           "greedy_policy", "grid_map", "initial_view", "latest_episode", "load_agent", "make_env", "make_job",
           "make_trainer", "moving_average", "optimal_policy", "resize_layout", "save_agent", "set_cell", "set_live",
           "variants"]
