"""An editable gridworld (REINFORCEjs-style) as a ``gymnasium.Env``, and value iteration for its optimal policy.

The layout is a compact string that fits in a URL: rows joined by ``-``, one character per cell —
``.`` empty, ``w`` wall, ``t`` trap, ``g`` goal, ``s`` start — e.g. ``"s..-.w.-..g"``. Entering a goal or a trap
ends the episode with its reward; every other move (a bump into a wall or the edge included) earns the step
reward. With probability ``slip`` the agent slides to one of the two directions perpendicular to the one it chose.
The observation is the cell number ``row * size + col``; actions are 0 up, 1 right, 2 down, 3 left.
"""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np

from core.errors import ConfigError

EMPTY, WALL, TRAP, GOAL, START = ".", "w", "t", "g", "s"
KINDS: dict[str, str] = {"empty": EMPTY, "wall": WALL, "trap": TRAP, "goal": GOAL, "start": START}
ROW_SEP = "-"
MIN_SIZE, MAX_SIZE = 3, 12
MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # up, right, down, left
ACTIONS = ("up", "right", "down", "left")
PERPENDICULAR = ((1, 3), (0, 2), (1, 3), (0, 2))


# ---------------------------------------------------------------------------------------------- layouts
def parse_layout(layout: str) -> np.ndarray:
    """The cells of a layout string as a (size, size) array of one-character strings, checked."""
    if not isinstance(layout, str) or not layout:
        raise ConfigError("rl.errors.layout_empty")
    rows = layout.split(ROW_SEP)
    size = len(rows)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ConfigError("rl.errors.layout_size", low=MIN_SIZE, high=MAX_SIZE, value=size)
    if any(len(row) != size for row in rows):
        raise ConfigError("rl.errors.layout_shape", size=size, lengths=", ".join(str(len(r)) for r in rows))
    bad = sorted(set(layout) - set(KINDS.values()) - {ROW_SEP})
    if bad:
        raise ConfigError("rl.errors.layout_chars", chars=" ".join(bad))
    cells = np.array([list(row) for row in rows])
    starts = int((cells == START).sum())
    if starts != 1:
        raise ConfigError("rl.errors.layout_start", count=starts)
    if not (cells == GOAL).any():
        raise ConfigError("rl.errors.layout_goal")
    if not _goal_reachable(cells):
        raise ConfigError("rl.errors.layout_unreachable")
    return cells


def format_layout(cells: np.ndarray) -> str:
    return ROW_SEP.join("".join(row) for row in cells)


def _goal_reachable(cells: np.ndarray) -> bool:
    size = len(cells)
    start = tuple(np.argwhere(cells == START)[0])
    seen, todo = {start}, deque([start])
    while todo:
        r, c = todo.popleft()
        if cells[r, c] == GOAL:
            return True
        if cells[r, c] == TRAP:
            continue
        for dr, dc in MOVES:
            nxt = (r + dr, c + dc)
            if 0 <= nxt[0] < size and 0 <= nxt[1] < size and nxt not in seen and cells[nxt] != WALL:
                seen.add(nxt)
                todo.append(nxt)
    return False


def default_layout(size: int = 8) -> str:
    """A maze-like default for ``size``: start top left, goal bottom right, two walls with a gap, four traps."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ConfigError("rl.errors.layout_size", low=MIN_SIZE, high=MAX_SIZE, value=size)
    n = size
    cells = np.full((n, n), EMPTY)
    if n >= 5:
        third = n // 3
        cells[third, 1: n - 2] = WALL  # a wall across, open at both ends
        cells[third + 1: n - 1, n // 2] = WALL  # a wall down the middle, open at the bottom
        for r, c in ((third - 1, n - 2), (third + 1, 1), (n - 2, n // 2 - 1), (n - 3, n - 2)):
            cells[r, c] = TRAP
    else:
        cells[n // 2, n // 2] = TRAP
    cells[0, 0], cells[n - 1, n - 1] = START, GOAL
    return format_layout(cells)


def resize_layout(layout: str, size: int) -> str:
    """The layout cropped or padded (with empty cells) to ``size``, keeping a start and a goal."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ConfigError("rl.errors.layout_size", low=MIN_SIZE, high=MAX_SIZE, value=size)
    old = parse_layout(layout)
    cells = np.full((size, size), EMPTY)
    k = min(size, len(old))
    cells[:k, :k] = old[:k, :k]
    if not (cells == START).any():
        cells[0, 0] = START
    if not (cells == GOAL).any():
        cells[size - 1, size - 1] = GOAL
    text = format_layout(cells)
    try:
        parse_layout(text)
    except ConfigError:
        return default_layout(size)
    return text


def edit_layout(layout: str, row: int, col: int, kind: str) -> str:
    """The layout with cell (row, col) set to ``kind`` (a new start replaces the old one)."""
    cells = parse_layout(layout)
    size = len(cells)
    if kind not in KINDS:
        raise ConfigError("rl.errors.cell_kind", value=kind, choices=", ".join(KINDS))
    if not (isinstance(row, (int, np.integer)) and isinstance(col, (int, np.integer))
            and 0 <= row < size and 0 <= col < size):
        raise ConfigError("rl.errors.cell_outside", row=row, col=col, size=size)
    if cells[row, col] == START and kind != "start":
        raise ConfigError("rl.errors.cell_start")
    if kind == "start":
        cells[cells == START] = EMPTY
    cells[row, col] = KINDS[kind]
    return format_layout(parse_layout(format_layout(cells)))


# ---------------------------------------------------------------------------------------------- the env
class Gridworld(gym.Env):
    """The gridworld of a layout string (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(self, layout: str, *, goal_reward: float = 1.0, trap_reward: float = -1.0,
                 step_reward: float = -0.01, slip: float = 0.0, max_steps: int = 100,
                 random_start: bool = True) -> None:
        self.goal_reward, self.trap_reward, self.step_reward = goal_reward, trap_reward, step_reward
        self.slip, self.max_steps, self.random_start = slip, max_steps, random_start
        self.set_layout(layout)
        self.action_space = gym.spaces.Discrete(4)
        self.pos = self.start
        self.t = 0

    def set_layout(self, layout: str) -> None:
        """A new layout (any size: the spaces follow)."""
        self.cells = parse_layout(layout)
        self.layout = format_layout(self.cells)
        self.size = len(self.cells)
        self.observation_space = gym.spaces.Discrete(self.size * self.size)
        self.start = tuple(int(v) for v in np.argwhere(self.cells == START)[0])

    # ------------------------------------------------------------------ cells and states
    @property
    def n_states(self) -> int:
        return self.size * self.size

    def state(self, pos: tuple[int, int]) -> int:
        return pos[0] * self.size + pos[1]

    def position(self, state: int) -> tuple[int, int]:
        return divmod(int(state), self.size)

    @property
    def walls(self) -> np.ndarray:
        return (self.cells == WALL).reshape(-1)

    @property
    def terminal(self) -> np.ndarray:
        """(S,) True on goals and traps."""
        return np.isin(self.cells, (GOAL, TRAP)).reshape(-1)

    @property
    def decision_states(self) -> np.ndarray:
        """(S,) True where the agent chooses an action: not a wall, not a goal or trap."""
        return ~self.walls & ~self.terminal

    def rewards(self) -> np.ndarray:
        """(S,) the reward for entering each cell."""
        flat = self.cells.reshape(-1)
        return np.where(flat == GOAL, self.goal_reward, np.where(flat == TRAP, self.trap_reward, self.step_reward))

    def move(self, pos: tuple[int, int], action: int) -> tuple[int, int]:
        r, c = pos[0] + MOVES[action][0], pos[1] + MOVES[action][1]
        if 0 <= r < self.size and 0 <= c < self.size and self.cells[r, c] != WALL:
            return int(r), int(c)
        return pos

    def transitions(self) -> np.ndarray:
        """P[s, a, s']: the probability of landing in s' after action a in s (terminal and wall cells loop)."""
        n = self.n_states
        p = np.zeros((n, 4, n))
        decide = self.decision_states
        for s in range(n):
            if not decide[s]:
                p[s, :, s] = 1.0
                continue
            pos = self.position(s)
            for a in range(4):
                p[s, a, self.state(self.move(pos, a))] += 1.0 - self.slip
                for side in PERPENDICULAR[a]:
                    p[s, a, self.state(self.move(pos, side))] += self.slip / 2
        return p

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        if self.random_start:
            choices = np.flatnonzero(self.decision_states)
            self.pos = self.position(int(self.np_random.choice(choices)))
        else:
            self.pos = self.start
        self.t = 0
        return self.state(self.pos), {"pos": self.pos}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        action = int(action)
        actual = action
        if self.slip > 0 and self.np_random.random() < self.slip:
            actual = PERPENDICULAR[action][int(self.np_random.integers(2))]
        self.pos = self.move(self.pos, actual)
        self.t += 1
        kind = self.cells[self.pos]
        reward = self.goal_reward if kind == GOAL else self.trap_reward if kind == TRAP else self.step_reward
        terminated = kind in (GOAL, TRAP)
        truncated = not terminated and self.t >= self.max_steps
        info = {"pos": self.pos, "slipped": actual != action}
        return self.state(self.pos), float(reward), terminated, truncated, info


# ---------------------------------------------------------------------------------------------- planning
def value_iteration(env: Gridworld, gamma: float, tol: float = 1e-10, max_iter: int = 100_000
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The optimal state values V*(s) and action values Q*(s, a) of ``env`` (0 on walls, goals and traps)."""
    p = env.transitions()
    reward = env.rewards()
    alive = ~env.terminal
    v = np.zeros(env.n_states)
    decide = env.decision_states
    for _ in range(max_iter):
        q = p @ (reward + gamma * alive * v)  # (S, A)
        new = np.where(decide, q.max(axis=1), 0.0)
        if np.max(np.abs(new - v)) < tol:
            v = new
            break
        v = new
    q = np.where(decide[:, None], p @ (reward + gamma * alive * v), 0.0)
    return v, q


def optimal_actions(q: np.ndarray, decide: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """(S, A) True for the actions whose value is within ``tol`` of the best (ties are all optimal)."""
    return decide[:, None] & (q >= q.max(axis=1, keepdims=True) - tol)
