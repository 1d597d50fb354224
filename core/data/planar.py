"""Two-dimensional toy data sets in the style of TensorFlow Playground, and their input features.

Every set lives on the square [-6, 6]²: classification sets label points 0 ("orange") or 1 ("blue"),
regression sets give a target in [-1, 1]. ``noise`` is a fraction in [0, 0.5] (TF Playground's 0–50 %).
All generators are pure functions of ``(n, noise, seed)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from core.data import DATASETS
from core.errors import ConfigError, DataError

EXTENT = 6.0  # the input plane is [-EXTENT, EXTENT]²

Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return rng.uniform(low, high, n)


@DATASETS.register("circle", family="planar", description="A blue disc inside an orange ring.",
                   problem="classification")
def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    half = n // 2
    r = np.concatenate([_uniform(rng, 0, radius * 0.5, half), _uniform(rng, radius * 0.7, radius, n - half)])
    angle = _uniform(rng, 0, 2 * math.pi, n)
    xy = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    shaken = xy + rng.uniform(-radius, radius, (n, 2)) * noise
    label = (np.linalg.norm(shaken, axis=1) < radius * 0.5).astype(np.int64)
    return xy, label


@DATASETS.register("xor", family="planar", description="Blue where x₁ and x₂ have the same sign (XOR).",
                   problem="classification")
def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(-5, 5, (n, 2))
    xy += np.where(xy > 0, 0.3, -0.3)  # a small gap around the axes
    shaken = xy + rng.uniform(-5, 5, (n, 2)) * noise
    label = (shaken[:, 0] * shaken[:, 1] >= 0).astype(np.int64)
    return xy, label


@DATASETS.register("gauss", family="planar", description="Two Gaussian blobs, one per class.",
                   problem="classification")
def two_gaussians(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    spread = 0.5 + 7.0 * noise  # TF Playground: variance 0.5 → 4 as noise goes 0 → 0.5
    half = n // 2
    blue = rng.normal((2.0, 2.0), math.sqrt(spread), (half, 2))
    orange = rng.normal((-2.0, -2.0), math.sqrt(spread), (n - half, 2))
    xy = np.concatenate([blue, orange])
    label = np.concatenate([np.ones(half), np.zeros(n - half)]).astype(np.int64)
    return xy, label


@DATASETS.register("spiral", family="planar", description="Two interleaved spirals: the hard one.",
                   problem="classification")
def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    parts, labels = [], []
    for delta, label, count in ((0.0, 1, half), (math.pi, 0, n - half)):
        i = np.arange(count) / count
        r = i * 5.0
        t = 1.75 * i * 2 * math.pi + delta
        xy = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (count, 2)) * noise
        parts.append(xy)
        labels.append(np.full(count, label))
    return np.concatenate(parts), np.concatenate(labels).astype(np.int64)


@DATASETS.register("moons", family="planar", description="Two interleaving half-moons.",
                   problem="classification")
def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    t_top = rng.uniform(0, math.pi, half)
    t_bottom = rng.uniform(0, math.pi, n - half)
    top = np.stack([np.cos(t_top), np.sin(t_top)], axis=1)
    bottom = np.stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)], axis=1)
    xy = (np.concatenate([top, bottom]) - (0.5, 0.25)) * 3.6
    xy += rng.normal(0, 1, (n, 2)) * noise * 1.6
    label = np.concatenate([np.zeros(half), np.ones(n - half)]).astype(np.int64)
    return xy, label


@DATASETS.register("plane", family="planar", description="Regression: the target rises along x₁ + x₂.",
                   problem="regression")
def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(-EXTENT, EXTENT, (n, 2))
    shaken = xy + rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    target = np.clip((shaken[:, 0] + shaken[:, 1]) / 10.0, -1, 1)
    return xy, target.astype(np.float32)


_BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def multi_gaussian_target(xy: np.ndarray) -> np.ndarray:
    """Six signed bumps; each point takes the bump that is largest in absolute value."""
    best = np.zeros(len(xy))
    for cx, cy, sign in _BUMPS:
        value = sign * np.clip(1 - np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) / 2.0, 0, 1)
        best = np.where(np.abs(value) > np.abs(best), value, best)
    return best


@DATASETS.register("multigauss", family="planar", description="Regression: six Gaussian-like bumps of either sign.",
                   problem="regression")
def multi_gaussian(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(-EXTENT, EXTENT, (n, 2))
    shaken = xy + rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    return xy, multi_gaussian_target(shaken).astype(np.float32)


def planar_names(problem: str | None = None) -> list[str]:
    """Names of the planar sets, optionally only those of one problem type."""
    return [e.name for e in DATASETS if e.family == "planar" and (problem is None or e.meta["problem"] == problem)]


def problem_of(name: str) -> str:
    return DATASETS.entry(name).meta["problem"]


# ---------------------------------------------------------------------------------------------- features
FEATURES: dict[str, tuple[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = {
    "x1": ("x₁", lambda a, b: a),
    "x2": ("x₂", lambda a, b: b),
    "x1sq": ("x₁²", lambda a, b: a * a),
    "x2sq": ("x₂²", lambda a, b: b * b),
    "x1x2": ("x₁·x₂", lambda a, b: a * b),
    "sin1": ("sin x₁", lambda a, b: torch.sin(a)),
    "sin2": ("sin x₂", lambda a, b: torch.sin(b)),
}


def feature_label(key: str) -> str:
    return FEATURES[key][0]


def transform(xy: torch.Tensor | np.ndarray, features: tuple[str, ...] | list[str]) -> torch.Tensor:
    """The chosen input features (columns, in ``features`` order) of raw points ``xy`` of shape (n, 2)."""
    if not features:
        raise ConfigError("planar.errors.no_features")
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise ConfigError("planar.errors.features", value=", ".join(unknown), choices=", ".join(FEATURES))
    xy = torch.as_tensor(xy, dtype=torch.float32)
    a, b = xy[:, 0], xy[:, 1]
    return torch.stack([FEATURES[f][1](a, b) for f in features], dim=1)


# ---------------------------------------------------------------------------------------------- splits
@dataclass(frozen=True)
class PlanarData:
    """Raw points and targets, already split into train and test."""

    name: str
    problem: str
    train_xy: np.ndarray
    train_y: np.ndarray
    test_xy: np.ndarray
    test_y: np.ndarray


def make_planar(name: str, *, n: int = 500, noise: float = 0.0, train_fraction: float = 0.5,
                seed: int = 0) -> PlanarData:
    """Generate ``n`` points of set ``name``, shuffle them with ``seed`` and split off the training share."""
    if name not in planar_names():
        raise DataError("planar.errors.dataset", value=name, choices=", ".join(planar_names()))
    if not 10 <= n <= 100_000:
        raise DataError("planar.errors.points", value=n)
    if not 0 <= noise <= 0.5:
        raise DataError("planar.errors.noise", value=noise)
    if not 0.05 <= train_fraction <= 0.95:
        raise DataError("planar.errors.train_share", value=train_fraction)
    rng = np.random.default_rng(seed)
    xy, y = DATASETS.get(name)(n, noise, rng)
    order = rng.permutation(n)
    xy, y = xy[order].astype(np.float32), y[order]
    cut = max(1, min(n - 1, round(n * train_fraction)))
    return PlanarData(name, problem_of(name), xy[:cut], y[:cut], xy[cut:], y[cut:])


def grid(resolution: int, extent: float = EXTENT) -> tuple[np.ndarray, np.ndarray]:
    """Axis values and the (resolution², 2) points of a square grid, rows running along x₂ (bottom to top)."""
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    gx, gy = np.meshgrid(axis, axis)
    return axis, np.stack([gx.ravel(), gy.ravel()], axis=1)
