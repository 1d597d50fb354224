"""Deep reinforcement learning: the networks (a Q-network, an actor-critic) and the algorithms that train them
(DQN with a replay buffer, a target network, an ε schedule and double DQN; REINFORCE with a learned baseline;
advantage actor-critic with generalized advantage estimation).

Observations are float vectors; a discrete observation (a gridworld cell number) is one-hot encoded inside the
network, so the replay buffer stays one number per state.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.models import MODELS
from core.training import gradient_norm


# ---------------------------------------------------------------------------------------------- networks
class OneHot(nn.Module):
    """A cell number (B, 1) → its one-hot vector (B, n)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.one_hot(x.reshape(-1).long(), self.n).float()


def mlp(n_in: int, n_out: int, width: int, depth: int) -> nn.Sequential:
    """``depth`` hidden ReLU layers of ``width`` neurons (depth 0: a linear map)."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), nn.ReLU()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def encoder(obs_dim: int, n_states: int | None) -> tuple[nn.Module, int]:
    """The input layer: one-hot for ``n_states`` discrete states, else the identity on ``obs_dim`` numbers."""
    if n_states:
        return OneHot(n_states), n_states
    return nn.Identity(), obs_dim


class QNetwork(nn.Module):
    """Q(s, ·): one output per action."""

    def __init__(self, obs_dim: int, n_actions: int, width: int = 64, depth: int = 2,
                 n_states: int | None = None) -> None:
        super().__init__()
        self.encode, n_in = encoder(obs_dim, n_states)
        self.body = mlp(n_in, n_actions, width, depth)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(self.encode(obs))


class ActorCritic(nn.Module):
    """A policy π(·|s) (logits) and a state value V(s), as two separate networks on the same input."""

    def __init__(self, obs_dim: int, n_actions: int, width: int = 64, depth: int = 2,
                 n_states: int | None = None) -> None:
        super().__init__()
        self.encode, n_in = encoder(obs_dim, n_states)
        self.actor = mlp(n_in, n_actions, width, depth)
        self.critic = mlp(n_in, 1, width, depth)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.encode(obs)
        return self.actor(x), self.critic(x).squeeze(-1)


class PolicyLogits(nn.Module):
    """The actor of an :class:`ActorCritic` alone: state → action logits (what an attribution explains)."""

    def __init__(self, net: ActorCritic) -> None:
        super().__init__()
        self.encode, self.actor = net.encode, net.actor

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.actor(self.encode(obs))


MODELS.register("q_network", family="rl", description="Q-network: state in, one value per action out (DQN).")(
    QNetwork)
MODELS.register("actor_critic", family="rl",
                description="Actor-critic: a policy network and a value network (REINFORCE with baseline, A2C).")(
    ActorCritic)


# ---------------------------------------------------------------------------------------------- targets
def epsilon_at(step: int, start: float, end: float, decay_steps: int) -> float:
    """Linear ε schedule: ``start`` at step 0, ``end`` from ``decay_steps`` on."""
    if decay_steps <= 0:
        return end
    return start + (end - start) * min(1.0, step / decay_steps)


def bellman_targets(rewards: torch.Tensor, terminated: torch.Tensor, gamma: float, next_q_target: torch.Tensor,
                    next_q_online: torch.Tensor | None = None) -> torch.Tensor:
    """r + γ (1 − done) Q_target(s', a*): a* = argmax Q_target (DQN) or argmax Q_online (double DQN)."""
    if next_q_online is None:
        best = next_q_target.max(dim=1).values
    else:
        best = next_q_target.gather(1, next_q_online.argmax(dim=1, keepdim=True)).squeeze(1)
    return rewards + gamma * (1.0 - terminated.float()) * best


def discounted_returns(rewards: Sequence[float] | np.ndarray, gamma: float, bootstrap: float = 0.0) -> np.ndarray:
    """G_t = r_t + γ r_{t+1} + … (+ γ^{T−t} ``bootstrap``), for one episode or a cut-off piece of one."""
    out = np.empty(len(rewards), dtype=np.float64)
    g = float(bootstrap)
    for t in range(len(rewards) - 1, -1, -1):
        g = float(rewards[t]) + gamma * g
        out[t] = g
    return out


def gae(rewards: np.ndarray, values: np.ndarray, terminated: np.ndarray, last_value: float, gamma: float,
        lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimates and the critic's targets (advantage + value) over a rollout.

    ``terminated[t]`` ends the episode after step t (no bootstrap from the next state); a rollout that was cut
    by a time limit or by its length bootstraps from ``values[t + 1]`` / ``last_value``. λ = 1 gives the n-step
    advantage G_t − V(s_t), λ = 0 the one-step TD error.
    """
    n = len(rewards)
    adv = np.zeros(n, dtype=np.float64)
    next_value, running = float(last_value), 0.0
    for t in range(n - 1, -1, -1):
        alive = 0.0 if terminated[t] else 1.0
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + np.asarray(values, dtype=np.float64)


# ---------------------------------------------------------------------------------------------- replay
class ReplayBuffer:
    """A ring buffer of transitions (s, a, r, s', terminated) in numpy arrays; uniform sampling."""

    FIELDS = ("obs", "action", "reward", "next_obs", "terminated")

    def __init__(self, capacity: int, obs_dim: int) -> None:
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.action = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=bool)
        self.size = 0
        self.pos = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, terminated: bool) -> None:
        i = self.pos
        self.obs[i], self.action[i], self.reward[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """``batch`` transitions drawn uniformly with replacement."""
        idx = rng.integers(0, self.size, size=batch)
        return {name: torch.from_numpy(getattr(self, name)[idx]) for name in self.FIELDS}

    def ordered(self) -> dict[str, np.ndarray]:
        """The stored transitions, oldest first."""
        if self.size < self.capacity:
            order = np.arange(self.size)
        else:
            order = (np.arange(self.capacity) + self.pos) % self.capacity
        return {name: getattr(self, name)[order] for name in self.FIELDS}

    def keep(self, mask: np.ndarray) -> None:
        """Drop the transitions (in :meth:`ordered` order) where ``mask`` is False."""
        data = {k: v[mask] for k, v in self.ordered().items()}
        self.size = self.pos = 0
        self.extend(data)

    def extend(self, data: dict[str, np.ndarray]) -> None:
        """Append transitions given oldest first (the newest ``capacity`` are kept)."""
        n = len(data["action"])
        start = max(0, n - self.capacity)
        for name in self.FIELDS:
            values = np.asarray(data[name])[start:]
            target = getattr(self, name)
            idx = (self.pos + np.arange(len(values))) % self.capacity
            target[idx] = values.reshape((len(values), *target.shape[1:]))
        self.pos = (self.pos + n - start) % self.capacity
        self.size = min(self.size + n - start, self.capacity)


# ---------------------------------------------------------------------------------------------- agents
@dataclass
class DQNSettings:
    gamma: float = 0.99
    lr: float = 1e-3
    batch_size: int = 64
    target_update: int = 500  # gradient steps between copies of the online network into the target network
    double: bool = True
    clip_norm: float = 10.0


def _adam(params, lr: float) -> torch.optim.Optimizer:
    try:  # the fused CPU kernel is a third faster on these small networks
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr)


class DQNAgent:
    """DQN (Mnih et al. 2015): ε-greedy acting, Huber loss on Bellman targets from a periodically copied target
    network, optionally double DQN (van Hasselt et al. 2016: the online network picks a*, the target scores it)."""

    def __init__(self, q: QNetwork, settings: DQNSettings, device: torch.device) -> None:
        self.q = q.to(device)
        self.target = _clone(q).to(device)
        self.settings = settings
        self.device = device
        self.optimizer = _adam(self.q.parameters(), settings.lr)
        self.updates = 0

    def set_lr(self, lr: float) -> None:
        self.settings.lr = lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    @torch.no_grad()
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        return self.q(x.reshape(-1, x.shape[-1] if x.ndim else 1)).cpu().numpy()

    def act(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator, n_actions: int) -> int:
        if rng.random() < epsilon:
            return int(rng.integers(n_actions))
        return int(self.q_values(obs)[0].argmax())

    def learn(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One gradient step on a replay batch; copies into the target network every ``target_update`` steps."""
        s = self.settings
        b = {k: v.to(self.device) for k, v in batch.items()}
        n = len(b["action"])
        if s.double:  # one forward pass of the online network over s and s'
            q_all = self.q(torch.cat([b["obs"], b["next_obs"]]))
            q_all, next_online = q_all[:n], q_all[n:].detach()
        else:
            q_all, next_online = self.q(b["obs"]), None
        q = q_all.gather(1, b["action"].unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            target = bellman_targets(b["reward"], b["terminated"], s.gamma, self.target(b["next_obs"]), next_online)
        loss = F.smooth_l1_loss(q, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = gradient_norm(list(self.q.parameters()), s.clip_norm)
        self.optimizer.step()
        self.updates += 1
        if self.updates % s.target_update == 0:
            self.target.load_state_dict(self.q.state_dict())
        return {"loss": loss.item(), "grad_norm": norm.item(), "q_mean": q.detach().mean().item()}


@dataclass
class PGSettings:
    gamma: float = 0.99
    lr: float = 1e-3
    lam: float = 1.0  # GAE λ; 1 with whole episodes is REINFORCE with a baseline
    entropy: float = 0.01
    value_coef: float = 0.5
    clip_norm: float = 1.0
    normalize: bool = True  # scale the advantages of a batch to mean 0, standard deviation 1


class ActorCriticAgent:
    """Policy gradient with a learned baseline: REINFORCE (whole episodes, Monte-Carlo returns) or A2C
    (n-step rollouts, bootstrapped GAE advantages); the loss is −log π(a|s)·A − β·entropy + c·(V − target)²."""

    def __init__(self, net: ActorCritic, settings: PGSettings, device: torch.device) -> None:
        self.net = net.to(device)
        self.settings = settings
        self.device = device
        self.optimizer = _adam(self.net.parameters(), settings.lr)
        self.updates = 0

    def set_lr(self, lr: float) -> None:
        self.settings.lr = lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    @torch.no_grad()
    def evaluate(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Action probabilities (B, A) and values (B,) of a batch of observations."""
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        logits, value = self.net(x.reshape(-1, x.shape[-1] if x.ndim else 1))
        return torch.softmax(logits, dim=-1).cpu().numpy(), value.cpu().numpy()

    def act(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[int, float]:
        """A sampled action and V(s)."""
        probs, value = self.evaluate(obs)
        p = probs[0].astype(np.float64)
        return int(rng.choice(len(p), p=p / p.sum())), float(value[0])

    def learn(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, values: np.ndarray,
              terminated: np.ndarray, last_value: float) -> dict[str, float]:
        """One gradient step on a rollout (a whole episode for REINFORCE, ``n_steps`` for A2C)."""
        s = self.settings
        adv, targets = gae(rewards, values, terminated, last_value, s.gamma, s.lam)
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        a = torch.as_tensor(actions, dtype=torch.long, device=self.device)
        adv_t = torch.as_tensor(adv, dtype=torch.float32, device=self.device)
        if s.normalize and len(adv_t) > 1:
            adv_t = (adv_t - adv_t.mean()) / (adv_t.std() + 1e-8)
        target_t = torch.as_tensor(targets, dtype=torch.float32, device=self.device)
        logits, value = self.net(x)
        logp = torch.log_softmax(logits, dim=-1)
        entropy = -(logp.exp() * logp).sum(-1).mean()
        policy_loss = -(logp.gather(1, a.unsqueeze(1)).squeeze(1) * adv_t).mean()
        value_loss = F.mse_loss(value, target_t)
        loss = policy_loss + s.value_coef * value_loss - s.entropy * entropy
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = gradient_norm(list(self.net.parameters()), s.clip_norm)
        self.optimizer.step()
        self.updates += 1
        return {"loss": loss.item(), "policy_loss": policy_loss.item(), "value_loss": value_loss.item(),
                "entropy": entropy.item(), "grad_norm": norm.item()}


def _clone(net: nn.Module) -> nn.Module:
    """A frozen copy (the target network)."""
    clone = copy.deepcopy(net)
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone
