"""The settings of the training-craft lab, declared once: they drive validation, the shareable URL and the card.

One config serves every experiment of the lab (``experiment`` picks which one a job runs); each experiment reads
the fields it needs and ignores the others, so switching experiments on the page keeps the other settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from core.config import LabConfig, setting
from core.errors import ConfigError
from core.i18n import Message, Term
from core.training import OPTIMIZERS

from .schedules import SCHEDULE_NAMES
from .surfaces import SURFACES, tuned_rates

EXPERIMENTS = ("race", "optimizers", "digits", "poly", "range", "pipeline", "csv")
SCHEDULES = SCHEDULE_NAMES
METHODS = ("tpe", "random", "grid")
TASKS = ("auto", "classification", "regression")
LEARNING_RATES = tuple(round(m * 10.0**e, 6) for e in range(-5, 1) for m in (1, 2, 3, 5)) + (10.0,)  # 1-2-3-5
REG_RATES = (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
MAX_RATE = 10.0


@dataclass(frozen=True)
class Config(LabConfig):
    """One experiment of the training-craft lab (URL keys in ``setting(key=…)``)."""

    LAB: ClassVar[str] = "craft"

    experiment: str = setting("race", key="exp", choices=EXPERIMENTS)
    seed: int = setting(0, key="seed", low=0, high=999_999)  # data split, batch order, dropout, noise
    init_seed: int = setting(0, key="init", low=0, high=999_999)  # the weights' starting point, on its own
    same_init: bool = setting(True, key="same", rebuild=False)  # Reset keeps init_seed (see ``reset``)

    # optimizer race on a 2-D surface
    surface: str = setting("rosenbrock", key="surf", choices=tuple(SURFACES))
    start_x: float | None = setting(None, key="x0", low=-10.0, high=10.0, digits=3)  # None: the surface's start
    start_y: float | None = setting(None, key="y0", low=-10.0, high=10.0, digits=3)
    optimizers: tuple[str, ...] = setting(tuple(OPTIMIZERS), key="opts", choices=tuple(OPTIMIZERS), min_items=1)
    rates: str = setting("", key="rates", max_len=300)  # "Adam=0.1,SGD=0.002": overrides of the tuned rates
    steps: int = setting(1000, key="steps", low=10, high=5000)  # race and range-test steps

    # a real model (digits MLP; polynomial; the visitor's table)
    optimizer: str = setting("Adam", key="opt", choices=tuple(OPTIMIZERS))
    lr: float = setting(1e-3, key="lr", low=1e-5, high=MAX_RATE, grid=LEARNING_RATES)
    schedule: str = setting("constant", key="sched", choices=SCHEDULES)
    warmup_pct: int = setting(10, key="warm", low=0, high=50)  # warm-up and one-cycle: share of the run rising
    batch_size: int = setting(32, key="batch", low=2, high=512)
    epochs: int = setting(60, key="epochs", low=1, high=2000)
    subset: int = setting(1200, key="n", low=10, high=1200)  # training digits used
    width: int = setting(64, key="width", low=2, high=512)
    depth: int = setting(2, key="depth", low=1, high=6)
    dropout: float = setting(0.0, key="drop", low=0.0, high=0.8, digits=2)
    l2: float = setting(0.0, key="l2", low=0.0, high=1.0, grid=REG_RATES)
    augment: bool = setting(False, key="aug")
    batch_norm: bool = setting(False, key="bn")
    patience: int | None = setting(None, key="patience", low=1, high=100)  # early stopping; None: off

    # polynomial regression
    degree: int = setting(3, key="deg", low=1, high=20)
    points: int = setting(20, key="pts", low=5, high=500)
    noise: float = setting(0.3, key="noise", low=0.0, high=2.0, digits=2)

    # data pipeline
    val_pct: int = setting(20, key="val", low=5, high=40)
    test_pct: int = setting(20, key="test", low=5, high=40)
    folds: int = setting(5, key="folds", low=2, high=10)
    standardize: bool = setting(True, key="std")

    # hyperparameter search
    budget: int = setting(30, key="budget", low=2, high=200)
    method: str = setting("tpe", key="method", choices=METHODS)
    prune: bool = setting(True, key="prune")

    # the visitor's table (the data itself never goes into the URL)
    label: str = setting("", key="label", max_len=200, url=False)
    features: tuple[str, ...] = setting((), key="features", max_items=200, url=False)
    task: str = setting("auto", key="task", choices=TASKS)

    # ------------------------------------------------------------------ rules between fields
    def check(self) -> None:
        if self.experiment == "race":
            x, y = self.start
            x0, x1, y0, y1 = SURFACES[self.surface].box
            if not (x0 <= x <= x1 and y0 <= y <= y1):
                raise ConfigError("craft.errors.start", x=x, y=y, x0=x0, x1=x1, y0=y0, y1=y1,
                                  surface=Term(f"craft.surfaces.{self.surface}"))
        self.rate_overrides()
        if self.val_pct + self.test_pct > 60:
            raise ConfigError("craft.errors.split", val=self.val_pct, test=self.test_pct)
        if self.schedule in ("warmup", "onecycle") and self.warmup_pct == 0:
            raise ConfigError("craft.errors.warmup", schedule=Term(f"craft.schedules.{self.schedule}"))
        if self.method == "grid":
            from .search import grid_size  # the search space lives with the search

            if self.budget > grid_size():
                raise ConfigError("craft.errors.grid_budget", budget=self.budget, size=grid_size())
        if self.experiment == "csv":
            if not self.label:
                raise ConfigError("craft.errors.no_label")
            if self.label in self.features:
                raise ConfigError("craft.errors.label_feature", name=self.label)

    @classmethod
    def repair(cls, values: dict[str, Any], params, warnings: list[Message]) -> None:
        """Unreadable rate overrides from a hand-edited link fall back to the tuned rates."""
        try:
            parse_rates(values["rates"])
        except ConfigError as exc:
            warnings.append(Message("craft.url.rates", text=values["rates"], reason=exc))
            values["rates"] = ""

    # ------------------------------------------------------------------ derived values
    @property
    def start(self) -> tuple[float, float]:
        sx, sy = SURFACES[self.surface].start
        return (sx if self.start_x is None else self.start_x, sy if self.start_y is None else self.start_y)

    def rate_overrides(self) -> dict[str, float]:
        return parse_rates(self.rates)

    def race_rates(self) -> dict[str, float]:
        """The learning rate of each racing optimizer: the overrides, else the rate tuned for the surface."""
        tuned, own = tuned_rates(self.surface), self.rate_overrides()
        return {name: own.get(name, tuned.get(name, self.lr)) for name in self.optimizers}

    def model_rates(self) -> dict[str, float]:
        """The learning rate of each optimizer racing on the real model (digits)."""
        tuned, own = tuned_rates("digits"), self.rate_overrides()
        return {name: own.get(name, tuned.get(name, self.lr)) for name in self.optimizers}

    def label_text(self) -> str:
        """A short description for legends, e.g. ``digits · 64×2 · Adam 0.001``."""
        if self.experiment == "race":
            return f"{self.surface} · {', '.join(self.optimizers)}"
        if self.experiment == "poly":
            return f"degree {self.degree} · {self.points} points · {self.optimizer} {self.lr:g}"
        return f"{self.experiment} · {self.width}×{self.depth} · {self.optimizer} {self.lr:g}"


def parse_rates(text: str) -> dict[str, float]:
    """``"Adam=0.1, SGD=0.002"`` → ``{"Adam": 0.1, "SGD": 0.002}`` (names as in the optimizer registry)."""
    out: dict[str, float] = {}
    names = {n.lower(): n for n in OPTIMIZERS}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError("craft.errors.rates", text=item)
        key = names.get(name.strip().lower())
        if key is None:
            raise ConfigError("craft.errors.rate_unknown", name=name.strip(), choices=", ".join(OPTIMIZERS))
        try:
            rate = float(value)
        except ValueError:
            raise ConfigError("craft.errors.rates", text=item) from None
        if not (math.isfinite(rate) and 0 < rate <= MAX_RATE):
            raise ConfigError("craft.errors.rate_range", name=key, value=value.strip(), high=MAX_RATE)
        out[key] = rate
    return out


def format_rates(rates: dict[str, float]) -> str:
    """The inverse of :func:`parse_rates`."""
    return ",".join(f"{name}={rate:g}" for name, rate in rates.items())
