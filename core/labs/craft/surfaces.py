"""The optimizer race: 2-D loss surfaces with known minima, and every optimizer of ``core.training.OPTIMIZERS``
stepping its own point on them with ``torch.optim`` itself, from the same start.

Each optimizer owns one 2-vector parameter; one backward pass of the sum of the surface values gives every point
its own gradient (the points do not interact), then each ``torch.optim`` optimizer takes its step. The race runs
on the CPU in float64: two numbers per optimizer are no work for an accelerator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.errors import ConfigError
from core.training import OPTIMIZERS, make_optimizer

DTYPE = torch.float64
BLOW_UP = 1e6  # a point this far out has diverged
RATE_GRID = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)

Fn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _rosenbrock(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _beale(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _saddle(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2  # a saddle at the origin, minima at (0, ±1)


_C, _S = math.cos(math.pi / 6), math.sin(math.pi / 6)


def _bowl(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    u, v = _C * x + _S * y, -_S * x + _C * y
    return 0.5 * (u**2 + 30 * v**2)  # curvature 30 times steeper across the valley than along it, tilted 30°


def _camel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2  # three-hump camel: two local minima beside the global


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface: ``fn(x, y)`` works elementwise on tensors; ``minima`` are its global minima."""

    fn: Fn
    minima: tuple[tuple[float, float], ...]
    box: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max of the picture (and of allowed starts)
    start: tuple[float, float]
    radius: float  # "reached the minimum": within this distance of one

    @property
    def f_min(self) -> float:
        x, y = self.minima[0]
        return float(self.fn(torch.tensor(x, dtype=DTYPE), torch.tensor(y, dtype=DTYPE)))


SURFACES: dict[str, Surface] = {
    "rosenbrock": Surface(_rosenbrock, ((1.0, 1.0),), (-2.0, 2.0, -1.0, 3.0), (-1.2, 1.0), 0.1),
    "beale": Surface(_beale, ((3.0, 0.5),), (-4.5, 4.5, -4.5, 4.5), (1.0, 1.75), 0.1),
    "saddle": Surface(_saddle, ((0.0, 1.0), (0.0, -1.0)), (-2.0, 2.0, -2.0, 2.0), (1.8, 0.001), 0.1),
    "bowl": Surface(_bowl, ((0.0, 0.0),), (-5.0, 5.0, -5.0, 5.0), (-4.0, 3.0), 0.1),
    "camel": Surface(_camel, ((0.0, 0.0),), (-2.5, 2.5, -2.5, 2.5), (-1.6, 2.4), 0.1),
}

# The rate at which each optimizer settles near the minimum in the fewest steps from the surface's start (1000
# steps), found by ``tune_rates`` over ``RATE_GRID``; "digits" is the real-model race: the rate of 3e-4 … 0.5 with the
# lowest validation loss after 3 epochs on 600 digits (64 × 2 MLP, batches of 32). ``bench/training_craft.py``
# re-measures the Rosenbrock entries over 5000 steps. Optimizers missing here run at ``Config.lr``.
TUNED_RATES: dict[str, dict[str, float]] = {
    "rosenbrock": {"SGD": 2e-3, "Momentum": 2e-3, "Adam": 0.5, "AdamW": 0.5, "RMSprop": 0.01, "Nesterov": 1e-3},
    "beale": {"SGD": 0.02, "Momentum": 2e-3, "Adam": 0.5, "AdamW": 0.5, "RMSprop": 0.02, "Nesterov": 2e-3},
    "saddle": {"SGD": 1.0, "Momentum": 0.2, "Adam": 0.2, "AdamW": 0.2, "RMSprop": 0.02, "Nesterov": 0.5},
    "bowl": {"SGD": 0.05, "Momentum": 5e-3, "Adam": 1.0, "AdamW": 1.0, "RMSprop": 0.02, "Nesterov": 5e-3},
    "camel": {"SGD": 0.2, "Momentum": 0.1, "Adam": 0.01, "AdamW": 0.01, "RMSprop": 5e-3, "Nesterov": 0.1},
    "digits": {"SGD": 0.5, "Momentum": 0.05, "Adam": 0.01, "AdamW": 0.01, "RMSprop": 1e-3, "Nesterov": 0.1},
}


def tuned_rates(name: str) -> dict[str, float]:
    return dict(TUNED_RATES.get(name, {}))


# ---------------------------------------------------------------------------------------------- the view
@dataclass
class RaceView:
    """The race so far: ``path[k, t]`` is optimizer ``k``'s point after ``t`` steps, ``loss[k, t]`` the surface
    value there; ``reached[k]`` the step from which it stays within ``radius`` of a minimum (-1: not so far);
    ``diverged[k]`` the step at which it blew up (-1: never; its point then stays at the last finite one)."""

    surface: str
    names: tuple[str, ...]
    rates: tuple[float, ...]
    step: int
    path: np.ndarray  # (optimizers, step + 1, 2) float32
    loss: np.ndarray  # (optimizers, step + 1) float32
    reached: np.ndarray  # (optimizers,) int64
    diverged: np.ndarray  # (optimizers,) int64
    minima: np.ndarray  # (m, 2)
    box: tuple[float, float, float, float]
    radius: float
    f_min: float


@dataclass
class SurfaceGrid:
    """The surface on a grid for the contour plot: ``z[i, j]`` at ``(x[j], y[i])``; ``level`` is
    ``log10(f − f_min + 1e-3)`` (valleys stay visible next to steep walls)."""

    surface: str
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    level: np.ndarray


def surface_grid(name: str, n: int = 121) -> SurfaceGrid:
    s = _surface(name)
    x0, x1, y0, y1 = s.box
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    with torch.no_grad():
        z = s.fn(torch.as_tensor(gx, dtype=DTYPE), torch.as_tensor(gy, dtype=DTYPE)).numpy()
    level = np.log10(np.maximum(z - s.f_min, 0) + 1e-3)
    return SurfaceGrid(name, xs.astype(np.float32), ys.astype(np.float32), z.astype(np.float32),
                       level.astype(np.float32))


def settled_step(path: np.ndarray, minima: np.ndarray, radius: float) -> np.ndarray:
    """Per trajectory, the first step from which every later point lies within ``radius`` of a minimum; -1 when the
    last point is outside."""
    d = np.min(np.linalg.norm(path[:, :, None, :] - minima[None, None], axis=-1), axis=-1)  # (k, t)
    inside = d < radius
    out = np.full(len(path), -1, dtype=np.int64)
    for k in range(len(path)):
        if inside[k, -1]:
            outside = np.flatnonzero(~inside[k])
            out[k] = int(outside[-1] + 1) if len(outside) else 0
    return out


def _surface(name: str) -> Surface:
    if name not in SURFACES:
        raise ConfigError("craft.errors.surface", value=name, choices=", ".join(SURFACES))
    return SURFACES[name]


# ---------------------------------------------------------------------------------------------- the race
class RaceTrainer:
    """One ``torch.optim`` optimizer per racer, each moving its own point on the surface."""

    steps_per_epoch = 0  # no data set: no epochs

    def __init__(self, surface: str, start: tuple[float, float], rates: dict[str, float], steps: int) -> None:
        self.name = surface
        self.surface = _surface(surface)
        self.names = tuple(rates)
        self.rates = tuple(float(r) for r in rates.values())
        self.total = steps
        self.points = [torch.nn.Parameter(torch.tensor(start, dtype=DTYPE)) for _ in self.names]
        self.optimizers = [make_optimizer(n, [p], r) for n, p, r in zip(self.names, self.points, self.rates,
                                                                      strict=True)]
        k = len(self.names)
        self.path = np.zeros((k, steps + 1, 2))
        self.path[:, 0] = start
        self.loss = np.zeros((k, steps + 1))
        self.loss[:, 0] = float(self.surface.fn(*torch.tensor(start, dtype=DTYPE)))
        self.diverged = np.full(k, -1, dtype=np.int64)
        self.steps = 0
        self.minima = np.asarray(self.surface.minima, dtype=np.float64)

    @property
    def done(self) -> bool:
        return self.steps >= self.total or bool((self.diverged >= 0).all())

    def train_step(self) -> dict[str, float]:
        active = [k for k in range(len(self.names)) if self.diverged[k] < 0]
        for k in active:
            self.optimizers[k].zero_grad(set_to_none=True)
        stacked = torch.stack([self.points[k] for k in active])
        self.surface.fn(stacked[:, 0], stacked[:, 1]).sum().backward()
        for k in active:
            self.optimizers[k].step()
        t = self.steps + 1
        with torch.no_grad():
            for k in range(len(self.names)):
                p = self.points[k]
                if k in active and not (torch.isfinite(p).all() and p.abs().max() < BLOW_UP):
                    self.diverged[k] = t
                    p.copy_(torch.as_tensor(self.path[k, t - 1]))  # keep the last finite point
                self.path[k, t] = p.numpy()
                self.loss[k, t] = float(self.surface.fn(p[0], p[1]))
        self.steps = t
        alive = [k for k in range(len(self.names)) if self.diverged[k] < 0] or list(range(len(self.names)))
        out = {"loss": float(min(self.loss[k, t] for k in alive))}
        out.update({f"loss_{n}": (float(self.loss[k, t]) if self.diverged[k] < 0 else math.nan)
                    for k, n in enumerate(self.names)})
        return out

    def snapshot(self) -> RaceView:
        t = self.steps
        path = self.path[:, : t + 1]
        return RaceView(self.name, self.names, self.rates, t, path.astype(np.float32),
                        self.loss[:, : t + 1].astype(np.float32), settled_step(path, self.minima, self.surface.radius),
                        self.diverged.copy(), self.minima.copy(), self.surface.box, self.surface.radius,
                        self.surface.f_min)


def race(surface: str, start: tuple[float, float], rates: dict[str, float], steps: int) -> RaceView:
    """The whole race in this thread (fast: about 0.1 ms per optimizer and step)."""
    trainer = RaceTrainer(surface, start, rates, steps)
    while not trainer.done:
        trainer.train_step()
    return trainer.snapshot()


@dataclass
class TunedRates:
    """Per optimizer, the rate of ``grid`` that settles near a minimum in the fewest steps (``steps[k]``; -1 when
    none does: then the rate with the lowest final value)."""

    surface: str
    names: tuple[str, ...]
    rates: np.ndarray
    steps: np.ndarray
    grid: np.ndarray
    settled: np.ndarray  # (optimizers, len(grid)): settle step of every rate tried (-1: never)


def tune_rates(surface: str, start: tuple[float, float] | None = None, names: Sequence[str] | None = None,
               steps: int = 1000, grid: Sequence[float] = RATE_GRID) -> TunedRates:
    """Try every rate of ``grid`` for every optimizer (one parameter group per rate, all in one backward pass)."""
    s = _surface(surface)
    start = tuple(start or s.start)
    names = tuple(names or OPTIMIZERS)
    minima = np.asarray(s.minima)
    best_rates, best_steps, settled_all = [], [], []
    for name in names:
        points = [torch.nn.Parameter(torch.tensor(start, dtype=DTYPE)) for _ in grid]
        optimizer = make_optimizer(name, [points[0]], grid[0])
        for p, rate in zip(points[1:], grid[1:], strict=True):
            optimizer.add_param_group({"params": [p], "lr": rate})
        path = np.zeros((len(grid), steps + 1, 2))
        path[:, 0] = start
        for t in range(1, steps + 1):
            optimizer.zero_grad(set_to_none=True)
            stacked = torch.stack(points)
            s.fn(stacked[:, 0], stacked[:, 1]).sum().backward()
            optimizer.step()
            with torch.no_grad():
                for p in points:
                    if not (torch.isfinite(p).all() and p.abs().max() < BLOW_UP):
                        p.fill_(BLOW_UP)  # parked far away, no longer stepped: never "settled"
                        p.requires_grad_(False)
            path[:, t] = torch.stack(points).detach().numpy()
        settled = settled_step(path, minima, s.radius)
        settled_all.append(settled)
        if (settled >= 0).any():
            k = int(np.argmin(np.where(settled >= 0, settled, np.iinfo(np.int64).max)))
        else:
            with torch.no_grad():
                final = s.fn(torch.as_tensor(path[:, -1, 0]), torch.as_tensor(path[:, -1, 1])).numpy()
            k = int(np.nanargmin(np.where(np.isfinite(final), final, np.inf)))
        best_rates.append(grid[k])
        best_steps.append(int(settled[k]))
    return TunedRates(surface, names, np.asarray(best_rates), np.asarray(best_steps), np.asarray(grid),
                      np.asarray(settled_all))
