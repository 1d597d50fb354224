"""Polynomial regression with a degree slider: a few noisy samples of a smooth curve, fitted by gradient descent
on polynomial features; and the bias–variance picture over the degree, from the closed-form fit on many fresh
training sets.

The features are Legendre polynomials P₁…P_d of x ∈ [−1, 1] rather than plain powers: the same polynomials
(any degree-d polynomial is a combination of P₀…P_d), but orthogonal, so gradient descent fits the wiggles of a
high degree in hundreds of steps instead of millions.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from numpy.polynomial import legendre
from torch import nn

from .config import Config
from .fit import FitView, ModelTrainer, initialised

N_VAL = 200
GRID = 200
JITTER = 0.03  # "augmentation" for a curve: each batch's x moved by this much noise


def truth(x: np.ndarray) -> np.ndarray:
    """The curve the samples come from."""
    return np.sin(np.pi * x)


class Legendre(nn.Module):
    """x (N, 1) → [P₁(x) … P_d(x)] (N, d) by the three-term recurrence."""

    def __init__(self, degree: int) -> None:
        super().__init__()
        self.degree = degree

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prev, cur = torch.ones_like(x), x
        out = [cur]
        for n in range(1, self.degree):
            prev, cur = cur, ((2 * n + 1) * x * cur - n * prev) / (n + 1)
            out.append(cur)
        return torch.cat(out, dim=1)


def poly_model(config: Config) -> nn.Sequential:
    return initialised(config.init_seed, lambda: nn.Sequential(Legendre(config.degree), nn.Linear(config.degree, 1)))


def spread(rng: np.random.Generator, n: int, repeats: int | None = None) -> np.ndarray:
    """``n`` points over [−1, 1], one at a random place in each of ``n`` equal cells (no wide gaps at the ends,
    where a polynomial would otherwise swing freely)."""
    shape = (n,) if repeats is None else (repeats, n)
    return -1 + (np.arange(n) + rng.uniform(size=shape)) * 2 / n


def poly_data(config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training samples spread over [−1, 1] and validation samples uniform on it; y = truth + Gaussian noise
    (``config.noise``)."""
    rng = np.random.default_rng(config.seed)
    x = spread(rng, config.points)
    xv = rng.uniform(-1, 1, N_VAL)
    y = truth(x) + config.noise * rng.standard_normal(config.points)
    yv = truth(xv) + config.noise * rng.standard_normal(N_VAL)
    return x, y, xv, yv


class Jitter:
    """Move every x of a batch by Gaussian noise (kept inside [−1, 1])."""

    def __init__(self, sigma: float = JITTER) -> None:
        self.sigma = sigma

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return (x + self.sigma * torch.randn(x.shape, generator=generator).to(x.device)).clamp(-1, 1)


@dataclass
class PolyView:
    """The fitted curve now, over the samples; ``fit`` has the train/validation curves and the weights."""

    fit: FitView
    degree: int
    x: np.ndarray  # (GRID,) on [−1, 1]
    truth: np.ndarray
    prediction: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray  # up to 100 of the validation samples
    y_val: np.ndarray
    coefficients: np.ndarray  # P₀ (the bias) … P_d


class PolyTrainer(ModelTrainer):
    """Gradient descent on the Legendre features (mean squared error, L2 on the coefficients, early stopping)."""

    def __init__(self, config: Config) -> None:
        x, y, xv, yv = poly_data(config)
        self.samples = (x, y, xv, yv)
        as_t = lambda a: torch.as_tensor(a, dtype=torch.float32)[:, None]  # noqa: E731
        super().__init__(config, poly_model(config), (as_t(x), as_t(y)), (as_t(xv), as_t(yv)), classification=False,
                         augment=Jitter() if config.augment else None)
        self.grid = np.linspace(-1, 1, GRID)

    def snapshot(self) -> PolyView:
        x, y, xv, yv = self.samples
        pred = self.predict(torch.as_tensor(self.grid, dtype=torch.float32)[:, None]).numpy().ravel()
        linear = self.model[1]
        coefficients = np.concatenate([linear.bias.detach().cpu().numpy(), linear.weight.detach().cpu().numpy()[0]])
        return PolyView(self.fit_view(), self.config.degree, self.grid.astype(np.float32),
                        truth(self.grid).astype(np.float32), pred.astype(np.float32), x.astype(np.float32),
                        y.astype(np.float32), xv[:100].astype(np.float32), yv[:100].astype(np.float32), coefficients)


# ---------------------------------------------------------------------------------------------- bias and variance
@dataclass
class BiasVarianceView:
    """Per degree, over ``repeats`` fresh training sets of ``points`` samples: squared bias of the mean fit,
    variance of the fits, the noise floor, and the mean training and test errors (test ≈ bias² + variance + noise)."""

    degrees: np.ndarray
    bias2: np.ndarray
    variance: np.ndarray
    noise: float
    train_mse: np.ndarray
    test_mse: np.ndarray
    best_degree: int  # lowest test error
    points: int
    repeats: int


def _fit(x: np.ndarray, y: np.ndarray, degree: int, l2: float) -> np.ndarray:
    """Least squares on P₀…P_d (the minimum-norm fit when there are more coefficients than points); with ``l2`` the
    same penalty as the trainer (rate·½‖w‖² added to the mean squared error, the bias free)."""
    v = legendre.legvander(x, degree)
    if l2 <= 0:
        return np.linalg.lstsq(v, y, rcond=None)[0]
    reg = np.diag([0.0] + [len(x) * l2 / 2] * degree)
    return np.linalg.solve(v.T @ v + reg, v.T @ y)


def bias_variance(config: Config, degrees: range | None = None, repeats: int = 200) -> BiasVarianceView:
    """The closed-form fits behind the bias–variance trade-off (about 0.1 s for 15 degrees × 200 repeats)."""
    degrees = degrees or range(1, 16)
    rng = np.random.default_rng(config.seed)
    x_test = np.linspace(-1, 1, GRID)
    f_test = truth(x_test)
    xs = spread(rng, config.points, repeats)
    ys = truth(xs) + config.noise * rng.standard_normal(xs.shape)
    y_test = f_test + config.noise * rng.standard_normal((repeats, GRID))
    bias2, variance, train_mse, test_mse = [], [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in degrees:
            preds = np.empty((repeats, GRID))
            train = np.empty(repeats)
            for r in range(repeats):
                c = _fit(xs[r], ys[r], d, config.l2)
                preds[r] = legendre.legval(x_test, c)
                train[r] = np.mean((legendre.legval(xs[r], c) - ys[r]) ** 2)
            mean = preds.mean(axis=0)
            bias2.append(float(np.mean((mean - f_test) ** 2)))
            variance.append(float(np.mean(preds.var(axis=0))))
            train_mse.append(float(train.mean()))
            test_mse.append(float(np.mean((preds - y_test) ** 2)))
    test = np.asarray(test_mse)
    best = list(degrees)[int(np.nanargmin(np.where(np.isfinite(test), test, math.inf)))]
    return BiasVarianceView(np.asarray(list(degrees)), np.asarray(bias2), np.asarray(variance), config.noise**2,
                            np.asarray(train_mse), test, int(best), config.points, repeats)
