"""Learning-rate schedules from ``torch.optim.lr_scheduler``, stepped once per batch, and the curve each one gives;
plus the learning-rate range test (Smith, 2015): raise the rate exponentially batch after batch, watch the loss,
and suggest the rate where it falls fastest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.optim import lr_scheduler

from core.errors import ConfigError

SCHEDULE_NAMES = ("constant", "step", "exponential", "cosine", "warmup", "onecycle")
STEP_DROPS = 3  # "step": the rate falls tenfold after each third of the run
EXP_FALL = 0.01  # "exponential": the rate ends at 1 % of where it started
WARMUP_FROM = 0.01  # "warmup": the first step runs at 1 % of the rate
RANGE_START, RANGE_END = 1e-5, 10.0  # the range test sweeps these rates
RANGE_SMOOTHING = 0.9  # exponential moving average of the loss (bias-corrected)
RANGE_STOP = 4.0  # the range test stops once the smoothed loss is this many times its minimum


def make_scheduler(name: str, optimizer: torch.optim.Optimizer, total_steps: int,
                   warmup_pct: int = 10) -> lr_scheduler.LRScheduler:
    """The schedule ``name`` over a run of ``total_steps`` batches (``warmup_pct``: share of the run warming up, for
    ``warmup`` and ``onecycle``)."""
    total = max(1, int(total_steps))
    warm = max(1, round(total * warmup_pct / 100))
    if name == "constant":
        return lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, math.ceil(total / STEP_DROPS)), gamma=0.1)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=EXP_FALL ** (1 / total))
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if name == "warmup":
        rise = lr_scheduler.LinearLR(optimizer, start_factor=WARMUP_FROM, end_factor=1.0, total_iters=warm)
        fall = lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total - warm))
        return lr_scheduler.SequentialLR(optimizer, [rise, fall], milestones=[warm])
    if name == "onecycle":
        lr = optimizer.param_groups[0]["lr"]
        return lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total, pct_start=min(0.5, warm / total),
                                       cycle_momentum=False)
    raise ConfigError("craft.errors.schedule", value=name, choices=", ".join(SCHEDULE_NAMES))


def lr_curve(name: str, lr: float, total_steps: int, warmup_pct: int = 10) -> np.ndarray:
    """The rate each of ``total_steps`` batches runs at, read from the scheduler itself."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(name, optimizer, total_steps, warmup_pct)
    out = np.empty(total_steps)
    for t in range(total_steps):
        out[t] = optimizer.param_groups[0]["lr"]
        optimizer.step()
        if t + 1 < total_steps:
            scheduler.step()
    return out


@dataclass
class ScheduleView:
    """Every schedule's rate per batch over the same run: ``lr[k, t]`` for schedule ``names[k]``."""

    names: tuple[str, ...]
    base_lr: float
    steps: int
    lr: np.ndarray  # (schedules, steps) float64


def schedule_curves(lr: float, total_steps: int, warmup_pct: int = 10,
                    names: tuple[str, ...] = SCHEDULE_NAMES) -> ScheduleView:
    return ScheduleView(tuple(names), lr, total_steps,
                        np.stack([lr_curve(n, lr, total_steps, warmup_pct) for n in names]))


# ---------------------------------------------------------------------------------------------- range test
@dataclass
class RangeView:
    """The range test so far: the rate and loss of every batch, the smoothed loss, and the suggested rate (where
    the smoothed loss falls fastest against log10(rate)); ``min_loss_lr`` is the rate of the lowest smoothed loss
    (a common rule takes a tenth of it)."""

    step: int
    lr: np.ndarray
    loss: np.ndarray
    smoothed: np.ndarray
    suggested: float  # NaN until there are enough points
    min_loss_lr: float
    stopped: bool  # the loss blew up: the test is over


def range_gamma(steps: int) -> float:
    return (RANGE_END / RANGE_START) ** (1 / max(1, steps - 1))


def suggest_rate(lr: np.ndarray, smoothed: np.ndarray) -> tuple[float, float]:
    """(steepest-descent rate, rate of the minimum) of a range-test curve; NaN when too short."""
    if len(lr) < 10:
        return math.nan, math.nan
    low = int(np.argmin(smoothed))
    skip = max(1, len(lr) // 10)  # the first batches are noisy
    if low - skip < 3:
        return math.nan, float(lr[low])
    slope = np.gradient(smoothed[skip:low + 1], np.log10(lr[skip:low + 1]))
    return float(lr[skip + int(np.argmin(slope))]), float(lr[low])


class RangeRecorder:
    """The bookkeeping of a range test, fed one (rate, loss) pair per batch."""

    def __init__(self) -> None:
        self.lr: list[float] = []
        self.loss: list[float] = []
        self.smoothed: list[float] = []
        self._avg = 0.0
        self.stopped = False

    def add(self, lr: float, loss: float) -> None:
        if not math.isfinite(loss):
            self.stopped = True
            return
        self._avg = RANGE_SMOOTHING * self._avg + (1 - RANGE_SMOOTHING) * loss
        smooth = self._avg / (1 - RANGE_SMOOTHING ** (len(self.loss) + 1))
        self.lr.append(lr)
        self.loss.append(loss)
        self.smoothed.append(smooth)
        if len(self.loss) > 10 and smooth > RANGE_STOP * min(self.smoothed):
            self.stopped = True

    def view(self, step: int) -> RangeView:
        lr, smoothed = np.asarray(self.lr), np.asarray(self.smoothed)
        suggested, low = suggest_rate(lr, smoothed)
        return RangeView(step, lr, np.asarray(self.loss), smoothed, suggested, low, self.stopped)
