"""The network-builder experiment: one config (data, features, network, training) that round-trips
through URL query parameters, the trainer it builds, and the job that runs it.

``BuilderConfig.from_query`` never raises on hand-edited URLs: bad values are clamped or replaced by
defaults and each change is reported as a sentence the page shows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

import torch
import torch.nn.functional as F

from core.data.planar import FEATURES, PlanarData, make_planar, planar_names, problem_of, transform
from core.errors import ConfigError
from core.inspect.planar import NetworkView, network_view, set_metrics
from core.jobs import TrainingJob, build_seeded
from core.models.mlp import ACTIVATIONS, MAX_LAYERS, MAX_NEURONS, MLPSpec, build_mlp, weight_penalty
from core.training import SupervisedTrainer, make_optimizer

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
REG_RATES = (0.0, 0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
OPTIMIZER_NAMES = ("SGD", "Momentum", "Adam", "RMSprop")
REGULARIZATIONS = ("none", "L1", "L2")
PROBLEMS = ("classification", "regression")
N_POINTS = 500
SPEEDS = {"fastest": 0.0, "fast": 0.001, "medium": 0.01, "slow": 0.05}  # seconds slept per step

# URL key for each field (TF Playground-like names; short enough to share)
URL_KEYS = {
    "problem": "problem", "dataset": "data", "noise": "noise", "train_pct": "train", "batch_size": "batch",
    "seed": "seed", "features": "features", "hidden": "layers", "activation": "act", "lr": "lr",
    "optimizer": "opt", "regularization": "reg", "reg_rate": "rate", "dropout": "dropout",
    "show_test": "test", "discretize": "discretize",
}
# Changing any of these builds a new network; the others (lr, reg_rate, view options) apply live.
STRUCTURAL = ("problem", "dataset", "noise", "train_pct", "batch_size", "seed", "features", "hidden",
              "activation", "optimizer", "regularization", "dropout")


@dataclass(frozen=True)
class BuilderConfig:
    """Everything that defines one experiment on the network-builder page."""

    problem: str = "classification"
    dataset: str = "circle"
    noise: int = 0  # percent, 0–50
    train_pct: int = 50  # percent of the points used for training, 10–90
    batch_size: int = 10
    seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "Tanh"
    lr: float = 0.03
    optimizer: str = "Adam"
    regularization: str = "none"
    reg_rate: float = 0.0
    dropout: float = 0.0
    show_test: bool = False
    discretize: bool = False

    # ------------------------------------------------------------------ checks and derived values
    def validate(self) -> None:
        """Raise ``ConfigError`` with a readable message when a value is impossible."""
        if self.dataset not in planar_names():
            raise ConfigError(f"Unknown data set {self.dataset!r}.")
        if problem_of(self.dataset) != self.problem:
            raise ConfigError(f"{self.dataset} is a {problem_of(self.dataset)} set, not {self.problem}.")
        if not self.features:
            raise ConfigError("Pick at least one input feature.")
        if self.optimizer not in OPTIMIZER_NAMES:
            raise ConfigError(f"Unknown optimizer {self.optimizer!r}.")
        if self.regularization not in REGULARIZATIONS:
            raise ConfigError(f"Regularization is none, L1 or L2 (got {self.regularization!r}).")
        if not 1 <= self.batch_size <= 64:
            raise ConfigError(f"The batch size must be between 1 and 64 (got {self.batch_size}).")
        if not (math.isfinite(self.reg_rate) and 0 <= self.reg_rate <= 10):
            raise ConfigError(f"The regularization rate must be between 0 and 10 (got {self.reg_rate}).")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"The seed must be a whole number from 0 to 4,294,967,295 (got {self.seed}).")
        self.spec.validate()

    @property
    def spec(self) -> MLPSpec:
        return MLPSpec(n_inputs=len(self.features), hidden=self.hidden, activation=self.activation,
                       dropout=self.dropout, binary=self.problem == "classification")

    @property
    def n_train(self) -> int:
        return max(1, min(N_POINTS - 1, round(N_POINTS * self.train_pct / 100)))

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_train / self.batch_size)

    def structure(self) -> tuple:
        """The values that need a fresh network when they change."""
        return tuple(getattr(self, name) for name in STRUCTURAL)

    def label(self) -> str:
        """A short description for legends, e.g. ``spiral · 8-8 Tanh · Adam 0.03``."""
        shape = "-".join(map(str, self.hidden)) or "no hidden"
        reg = f" · {self.regularization} {self.reg_rate:g}" if self.regularization != "none" else ""
        return f"{self.dataset} · {shape} {self.activation} · {self.optimizer} {self.lr:g}{reg}"

    # ------------------------------------------------------------------ URL round trip
    def to_query(self) -> dict[str, str]:
        """Query parameters (strings) that ``from_query`` turns back into this config."""
        out = {}
        for name, value in asdict(self).items():
            if name == "features":
                text = ",".join(value)
            elif name == "hidden":
                text = ",".join(map(str, value)) or "none"
            elif isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, float):
                text = f"{value:g}"
            else:
                text = str(value)
            out[URL_KEYS[name]] = text
        return out

    @classmethod
    def from_query(cls, params: Mapping[str, str | list[str]]) -> tuple[BuilderConfig, list[str]]:
        """Parse query parameters leniently; returns the config and one warning per value fixed."""
        return _QueryParser(params).parse()


class _QueryParser:
    def __init__(self, params: Mapping[str, str | list[str]]) -> None:
        self.params = {k: (v[-1] if isinstance(v, list) and v else v) for k, v in params.items()}
        self.warnings: list[str] = []
        self.default = BuilderConfig()

    def raw(self, name: str) -> str | None:
        value = self.params.get(URL_KEYS[name])
        return None if value is None else str(value).strip()

    def warn(self, key: str, text: str, used: object) -> None:
        self.warnings.append(f"URL parameter `{key}={text}` {used}.")

    def choice(self, name: str, options: tuple[str, ...] | list[str]) -> str:
        text, default = self.raw(name), getattr(self.default, name)
        if text is None:
            return default
        for option in options:
            if option.lower() == text.lower():
                return option
        self.warn(URL_KEYS[name], text, f"is not one of {', '.join(options)}; using {default}")
        return default

    def number(self, name: str, low: float, high: float, *, integer: bool,
               grid: tuple[float, ...] | None = None) -> float | int:
        text, default = self.raw(name), getattr(self.default, name)
        if text is None:
            return default
        try:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            self.warn(URL_KEYS[name], text, f"is not a number; using {default:g}")
            return default
        fixed = min(max(value, low), high)
        if grid is not None:
            fixed = min(grid, key=lambda g: abs(math.log10(g + 1e-12) - math.log10(fixed + 1e-12)))
        if integer:
            fixed = int(round(fixed))
        if fixed != value:
            reason = f"is outside {low:g}–{high:g}" if not low <= value <= high else "is not one of the choices"
            self.warn(URL_KEYS[name], text, f"{reason}; using {fixed:g}")
        return fixed

    def flag(self, name: str) -> bool:
        text, default = self.raw(name), getattr(self.default, name)
        if text is None:
            return default
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        self.warn(URL_KEYS[name], text, f"should be 1 or 0; using {int(default)}")
        return default

    def features(self) -> tuple[str, ...]:
        text = self.raw("features")
        if text is None:
            return self.default.features
        items = [t.strip() for t in text.split(",") if t.strip()]
        known = tuple(dict.fromkeys(f for f in items if f in FEATURES))
        if len(known) != len(items):
            bad = ", ".join(f for f in items if f not in FEATURES)
            self.warn("features", text, f"names unknown features ({bad}); known are {', '.join(FEATURES)}")
        if not known:
            self.warnings.append("No usable input feature in the URL; using x1, x2.")
            return self.default.features
        return known

    def hidden(self) -> tuple[int, ...]:
        text = self.raw("hidden")
        if text is None:
            return self.default.hidden
        if text.lower() in ("", "none", "0"):
            return ()
        try:
            widths = [int(float(t)) for t in text.split(",") if t.strip()]
        except (ValueError, OverflowError):  # words, NaN, inf
            self.warn("layers", text, f"is not a list of numbers; using {','.join(map(str, self.default.hidden))}")
            return self.default.hidden
        fixed = [min(max(w, 1), MAX_NEURONS) for w in widths][:MAX_LAYERS]
        if fixed != widths:
            self.warn("layers", text, f"allows up to {MAX_LAYERS} layers of 1–{MAX_NEURONS} neurons; "
                      f"using {','.join(map(str, fixed)) or 'none'}")
        return tuple(fixed)

    def parse(self) -> tuple[BuilderConfig, list[str]]:
        dataset = self.choice("dataset", planar_names())
        problem = self.choice("problem", PROBLEMS)
        if problem != problem_of(dataset):
            if self.raw("problem") is not None:
                self.warnings.append(f"Data set {dataset} is a {problem_of(dataset)} problem; using that.")
            problem = problem_of(dataset)
        regularization = self.choice("regularization", REGULARIZATIONS)
        config = BuilderConfig(
            problem=problem,
            dataset=dataset,
            noise=self.number("noise", 0, 50, integer=True),
            train_pct=self.number("train_pct", 10, 90, integer=True),
            batch_size=self.number("batch_size", 1, 64, integer=True),
            seed=self.number("seed", 0, 999_999, integer=True),
            features=self.features(),
            hidden=self.hidden(),
            activation=self.choice("activation", list(ACTIVATIONS)),
            lr=self.number("lr", LEARNING_RATES[0], LEARNING_RATES[-1], integer=False, grid=LEARNING_RATES),
            optimizer=self.choice("optimizer", OPTIMIZER_NAMES),
            regularization=regularization,
            reg_rate=self.number("reg_rate", 0, REG_RATES[-1], integer=False, grid=REG_RATES),
            dropout=round(float(self.number("dropout", 0, 0.5, integer=False)), 2),
            show_test=self.flag("show_test"),
            discretize=self.flag("discretize"),
        )
        return config, self.warnings


PRESETS: dict[str, BuilderConfig] = {
    "Circle · 4-2 Tanh (TF Playground default)": BuilderConfig(),
    "XOR · x₁·x₂ feature, no hidden layer": BuilderConfig(dataset="xor", features=("x1x2",), hidden=()),
    "XOR · 4 ReLU neurons": BuilderConfig(dataset="xor", hidden=(4,), activation="ReLU", lr=0.03),
    "Spiral · raw x₁, x₂ · GELU 8-8-8": BuilderConfig(
        dataset="spiral", hidden=(8, 8, 8), activation="GELU", lr=0.03, optimizer="Adam", batch_size=32,
        show_test=True),
    "Spiral · all 7 features · Tanh 8-8-8": BuilderConfig(
        dataset="spiral", features=tuple(FEATURES), hidden=(8, 8, 8), activation="Tanh", lr=0.03,
        optimizer="Adam", batch_size=32, show_test=True),
    "Spiral · SGD, 2 Tanh layers (slow: watch it struggle)": BuilderConfig(
        dataset="spiral", hidden=(8, 8), activation="Tanh", lr=0.1, optimizer="SGD", batch_size=10, show_test=True),
    "Moons · noisy, L2 regularised": BuilderConfig(
        dataset="moons", noise=35, hidden=(8, 8), activation="ReLU", regularization="L2", reg_rate=0.003,
        show_test=True),
    "Multi-Gaussian regression": BuilderConfig(
        problem="regression", dataset="multigauss", hidden=(8, 8, 8), activation="Tanh", lr=0.01, batch_size=16),
}
SPIRAL_PRESET = "Spiral · raw x₁, x₂ · GELU 8-8-8"


def config_fields() -> list[str]:
    return [f.name for f in fields(BuilderConfig)]


def with_updates(config: BuilderConfig, **changes) -> BuilderConfig:
    return replace(config, **changes)


# ---------------------------------------------------------------------------------------------- training
class Watch:
    """When the page last drew a run. A run nobody has looked at for ``pause_after_s`` pauses itself (like
    TF Playground in a hidden tab), so an abandoned page does not keep a shared CPU busy."""

    def __init__(self, pause_after_s: float = 60.0) -> None:
        self.pause_after_s = pause_after_s
        self.idle_paused = False
        self.pause = lambda: None  # set by make_job to the job's pause()
        self._t = time.monotonic()

    def beat(self) -> None:
        self._t = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self._t


class PlanarTrainer(SupervisedTrainer):
    """The shared supervised trainer plus whole-set train numbers and a rate-limited network view."""

    def __init__(self, config: BuilderConfig, data: PlanarData, *, view_interval_s: float = 0.2) -> None:
        config.validate()
        self.config = config
        self.data = data
        classification = config.problem == "classification"
        x, xv = transform(data.train_xy, config.features), transform(data.test_xy, config.features)
        if classification:
            y, yv = torch.as_tensor(data.train_y, dtype=torch.long), torch.as_tensor(data.test_y, dtype=torch.long)
            loss_fn = F.cross_entropy
        else:
            y = torch.as_tensor(data.train_y, dtype=torch.float32)[:, None]
            yv = torch.as_tensor(data.test_y, dtype=torch.float32)[:, None]
            loss_fn = F.mse_loss
        model = build_mlp(config.spec)
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
        super().__init__(model, optimizer, loss_fn, (x, y), (xv, yv), batch_size=config.batch_size,
                         classification=classification,
                         penalty=weight_penalty(config.regularization, config.reg_rate), seed=config.seed)
        self.steps = 0
        self.watch: Watch | None = None
        self.view_interval_s = view_interval_s
        self._view: NetworkView | None = None
        self._view_t = -math.inf

    def train_step(self) -> dict[str, float]:
        out = super().train_step()
        self.steps += 1
        watch = self.watch
        if watch is not None and self.steps % 50 == 0 and watch.age() > watch.pause_after_s:
            watch.idle_paused = True
            watch.pause()  # nobody is looking: stop spending a shared CPU until the visitor comes back
        return out

    def evaluate(self) -> dict[str, float]:
        result = super().evaluate()
        train = set_metrics(self.model, self.loss_fn, self.x, self.y, self.classification)
        result.update({f"train_{k}": v for k, v in train.items()})
        return result

    def metrics(self) -> dict[str, float]:
        """Whole-set numbers: train_loss, test_loss (and train_accuracy, test_accuracy)."""
        out = {}
        for prefix, (x, y) in (("train", (self.x, self.y)), ("test", self.val)):
            out.update({f"{prefix}_{k}": v
                        for k, v in set_metrics(self.model, self.loss_fn, x, y, self.classification).items()})
        return out

    def snapshot(self, force: bool = False) -> NetworkView:
        """A fresh ``NetworkView`` at most every ``view_interval_s`` seconds (or when forced)."""
        now = time.monotonic()
        if force or self._view is None or now - self._view_t >= self.view_interval_s:
            self._view = network_view(self.model, self.config.features, self.config.problem, step=self.steps,
                                      metrics=self.metrics())
            self._view_t = now
        return self._view

    def set_live(self, lr: float, reg_rate: float) -> None:
        """Change the learning rate and regularization rate between two steps."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.penalty is not None:
            self.penalty.rate = reg_rate


def make_data(config: BuilderConfig) -> PlanarData:
    return make_planar(config.dataset, n=N_POINTS, noise=config.noise / 100, train_fraction=config.train_pct / 100,
                       seed=config.seed)


def make_trainer(config: BuilderConfig, data: PlanarData | None = None) -> PlanarTrainer:
    """A trainer for ``config`` (call it seeded, e.g. through ``build_seeded``, for a reproducible start)."""
    return PlanarTrainer(config, data if data is not None else make_data(config))


def initial_view(config: BuilderConfig) -> NetworkView:
    """The untrained network exactly as Play will start it (same seed), for the preview."""
    return build_seeded(lambda: make_trainer(config), config.seed).snapshot(force=True)


def make_job(config: BuilderConfig, *, speed: str = "fastest", total_steps: int | None = None,
             watch: Watch | None = None) -> TrainingJob:
    """A job that trains until paused (``total_steps=None``), evaluating once per epoch; with ``watch`` it
    pauses itself when the page stops calling ``watch.beat()``."""
    config.validate()
    if speed not in SPEEDS:
        raise ConfigError(f"Unknown speed {speed!r}; choose one of {', '.join(SPEEDS)}.")

    def factory() -> PlanarTrainer:
        trainer = make_trainer(config)
        trainer.watch = watch
        return trainer

    job = TrainingJob(factory, name=f"network builder · {config.dataset}", total_steps=total_steps,
                      eval_every=config.steps_per_epoch, snapshot_every=1, seed=config.seed,
                      step_delay_s=SPEEDS[speed])
    if watch is not None:
        watch.pause = job.pause
    return job


def steps_to_target(config: BuilderConfig, target: float = 0.95, *, max_seconds: float = 10.0,
                    max_steps: int = 100_000, check_every: int | None = None) -> dict[str, float]:
    """Train ``config`` in this thread until test accuracy reaches ``target``; returns steps, epochs, seconds."""
    torch.set_num_threads(1)
    trainer = build_seeded(lambda: make_trainer(config), config.seed)
    check_every = check_every or config.steps_per_epoch
    start = time.perf_counter()
    accuracy = 0.0
    while trainer.steps < max_steps and time.perf_counter() - start < max_seconds:
        trainer.train_step()
        if trainer.steps % check_every == 0:
            accuracy = trainer.metrics()["test_accuracy"]
            if accuracy >= target:
                break
    return {"steps": trainer.steps, "epochs": trainer.steps / config.steps_per_epoch,
            "seconds": time.perf_counter() - start, "test_accuracy": accuracy, "reached": accuracy >= target}
