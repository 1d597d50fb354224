"""The network-builder lab (TensorFlow Playground on PyTorch): a 2-D data set, hand-picked input features and
a small MLP, trained until paused, with a picture of every neuron over the plane. The data can also be the visitor's
own table (``source="csv"``, through ``core.data.tabular``): any numeric and text columns as inputs, any number of
classes (softmax output) or a regression target; the plane is then spanned by two of its numeric columns.

Every setting is declared once in :class:`Config`; the page, the URL and the model card all read that table.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from core.config import LabConfig, setting
from core.data.planar import FEATURES, PlanarData, feature_label, make_planar, planar_names, problem_of, transform
from core.data.tabular import Table, TabularData, prepare
from core.errors import ConfigError
from core.explain import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.inspect.planar import NetworkView, network_view, set_metrics, table_view
from core.jobs import TrainingJob, build_seeded
from core.models.mlp import ACTIVATIONS, MAX_LAYERS, MAX_NEURONS, MLPSpec, build_mlp, weight_penalty
from core.training import STATS_EVERY, SupervisedTrainer, make_optimizer

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
REG_RATES = (0.0, 0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
OPTIMIZER_NAMES = ("SGD", "Momentum", "Adam", "RMSprop")
REGULARIZATIONS = ("none", "L1", "L2")
PROBLEMS = ("classification", "regression")
SOURCES = ("generated", "csv")  # a generated 2-D set, or the visitor's table (never in the link)
MAX_TEST_SHARE = 0.85  # a table keeps at least 15 % of its rows for training
N_POINTS = 500
SPEEDS = {"fastest": 0.0, "fast": 0.001, "medium": 0.01, "slow": 0.05}  # seconds slept per step
PAUSE_UNWATCHED_S = 60.0  # a run whose page is closed pauses itself after this long (like TF Playground)
View = NetworkView


@dataclass(frozen=True)
class Config(LabConfig):
    """Everything that defines one experiment on the network-builder page (TF-Playground-like URL keys)."""

    LAB: ClassVar[str] = "planar"

    source: str = setting("generated", key="source", choices=SOURCES)
    problem: str = setting("classification", key="problem", choices=PROBLEMS)
    dataset: str = setting("circle", key="data", choices=tuple(planar_names()))
    csv_label: str = setting("", key="label", max_len=200, url=False)  # the table's column to predict
    csv_features: tuple[str, ...] = setting((), key="columns", max_items=200, url=False)  # (): all the others
    noise: int = setting(0, key="noise", low=0, high=50)  # percent
    train_pct: int = setting(50, key="train", low=10, high=90)  # percent of the points used for training
    batch_size: int = setting(10, key="batch", low=1, high=64)
    seed: int = setting(0, key="seed", low=0, high=999_999)
    features: tuple[str, ...] = setting(("x1", "x2"), key="features", choices=tuple(FEATURES), min_items=1,
                                        messages={"min_items": "planar.errors.no_features"})
    hidden: tuple[int, ...] = setting((4, 2), key="layers", low=1, high=MAX_NEURONS, max_items=MAX_LAYERS,
                                      unit="planar.units.neurons",
                                      messages={"max_items": "planar.errors.layers", "range": "planar.errors.neurons"})
    activation: str = setting("Tanh", key="act", choices=tuple(ACTIVATIONS))
    lr: float = setting(0.03, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES,
                        rebuild=False)
    optimizer: str = setting("Adam", key="opt", choices=OPTIMIZER_NAMES)
    regularization: str = setting("none", key="reg", choices=REGULARIZATIONS)
    reg_rate: float = setting(0.0, key="rate", low=0.0, high=REG_RATES[-1], grid=REG_RATES, rebuild=False)
    dropout: float = setting(0.0, key="dropout", low=0.0, high=0.5, digits=2)
    show_test: bool = setting(False, key="test", rebuild=False)
    discretize: bool = setting(False, key="discretize", rebuild=False)

    def check(self) -> None:
        if self.source == "csv":  # the inputs come from the table; the layers are checked here already
            MLPSpec(n_inputs=1, hidden=self.hidden, activation=self.activation, dropout=self.dropout).validate()
            if self.csv_label and self.csv_label in self.csv_features:
                raise ConfigError("tabular.errors.label_is_feature", name=self.csv_label)
            return
        if problem_of(self.dataset) != self.problem:
            raise ConfigError("planar.errors.problem", dataset=Term(f"planar.choices.dataset.{self.dataset}"),
                              kind=Term(f"planar.choices.problem.{problem_of(self.dataset)}"),
                              problem=Term(f"planar.choices.problem.{self.problem}"))
        self.spec.validate()

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """A data set decides the problem type (the URL may say otherwise); a table's task is the visitor's."""
        if values["source"] == "csv":
            return
        kind = problem_of(values["dataset"])
        if values["problem"] != kind:
            if params.get("problem") is not None:
                dataset = Term(f"planar.choices.dataset.{values['dataset']}")
                warnings.append(Message("planar.url.problem", dataset=dataset,
                                        kind=Term(f"planar.choices.problem.{kind}")))
            values["problem"] = kind

    @property
    def spec(self) -> MLPSpec:
        return MLPSpec(n_inputs=len(self.features), hidden=self.hidden, activation=self.activation,
                       dropout=self.dropout, binary=self.problem == "classification")

    def table_spec(self, data: TabularData) -> MLPSpec:
        """The network for a table: one input per encoded column; one output for two classes (as for the
        generated sets) or regression, one per class (softmax) for more."""
        classes = data.n_classes if self.problem == "classification" else 0
        return MLPSpec(n_inputs=data.n_inputs, hidden=self.hidden, activation=self.activation, dropout=self.dropout,
                       n_outputs=classes if classes > 2 else 1, binary=classes == 2)

    @property
    def n_train(self) -> int:
        return max(1, min(N_POINTS - 1, round(N_POINTS * self.train_pct / 100)))

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_train / self.batch_size)

    def shape(self) -> str:
        """The hidden layers and activation, e.g. ``8-8 Tanh`` (``0`` for none)."""
        return f"{'-'.join(map(str, self.hidden)) or '0'} {self.activation}"

    def data_name(self) -> str:
        """The data set's name (a catalogue term), or the visitor's table's label column."""
        return self.csv_label if self.source == "csv" else Term(f"planar.choices.dataset.{self.dataset}")

    def label(self) -> Message:
        """A short description for legends, e.g. ``Spiral · 8-8 Tanh · Adam 0.03``."""
        reg = (Message("planar.label_reg", kind=self.regularization, rate=self.reg_rate)
               if self.regularization != "none" else "")
        return Message("planar.label", data=self.data_name(), shape=self.shape(), optimizer=self.optimizer,
                       lr=self.lr, reg=reg)


# Preset key → experiment; names and descriptions live in the catalogue (planar.presets.<key>).
PRESETS: dict[str, Config] = {
    "circle": Config(),
    "xor_feature": Config(dataset="xor", features=("x1x2",), hidden=()),
    "xor_relu": Config(dataset="xor", hidden=(4,), activation="ReLU", lr=0.03),
    "spiral_gelu": Config(dataset="spiral", hidden=(8, 8, 8), activation="GELU", lr=0.03, optimizer="Adam",
                          batch_size=32, show_test=True),
    "spiral_features": Config(dataset="spiral", features=tuple(FEATURES), hidden=(8, 8, 8), activation="Tanh",
                              lr=0.03, optimizer="Adam", batch_size=32, show_test=True),
    "spiral_sgd": Config(dataset="spiral", hidden=(8, 8), activation="Tanh", lr=0.1, optimizer="SGD", batch_size=10,
                         show_test=True),
    "moons_l2": Config(dataset="moons", noise=35, hidden=(8, 8), activation="ReLU", regularization="L2",
                       reg_rate=0.003, show_test=True),
    "bumps": Config(problem="regression", dataset="multigauss", hidden=(8, 8, 8), activation="Tanh", lr=0.01,
                    batch_size=16),
}
SPIRAL_PRESET = "spiral_gelu"


# ---------------------------------------------------------------------------------------------- training
class PlanarTrainer(SupervisedTrainer):
    """The shared supervised trainer plus whole-set train numbers and a rate-limited network view."""

    def __init__(self, config: Config, data: PlanarData | TabularData, *, view_interval_s: float = 0.2) -> None:
        config.validate()
        self.config = config
        self.data = data
        classification = config.problem == "classification"
        loss_fn = F.cross_entropy if classification else F.mse_loss
        if isinstance(data, TabularData):  # already encoded; regression targets standardized, shape (n, 1)
            x, y, xv, yv = data.x_train, data.y_train, data.x_test, data.y_test
            spec = config.table_spec(data)
        else:
            x, xv = transform(data.train_xy, config.features), transform(data.test_xy, config.features)
            if classification:
                y = torch.as_tensor(data.train_y, dtype=torch.long)
                yv = torch.as_tensor(data.test_y, dtype=torch.long)
            else:
                y = torch.as_tensor(data.train_y, dtype=torch.float32)[:, None]
                yv = torch.as_tensor(data.test_y, dtype=torch.float32)[:, None]
            spec = config.spec
        self.spec = spec
        model = build_mlp(spec)
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
        super().__init__(model, optimizer, loss_fn, (x, y), (xv, yv), batch_size=config.batch_size,
                         classification=classification,
                         penalty=weight_penalty(config.regularization, config.reg_rate), seed=config.seed,
                         stats_every=STATS_EVERY)
        self.steps = 0
        self.view_interval_s = view_interval_s
        self._view: NetworkView | None = None
        self._view_t = -math.inf

    def train_step(self) -> dict[str, float]:
        out = super().train_step()
        self.steps += 1
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
            if isinstance(self.data, TabularData):
                self._view = table_view(self.model, self.data, self.config.problem, step=self.steps,
                                        metrics=self.metrics())
            else:
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


def make_data(config: Config) -> PlanarData:
    return make_planar(config.dataset, n=N_POINTS, noise=config.noise / 100, train_fraction=config.train_pct / 100,
                       seed=config.seed)


def table_data(config: Config, data: Table | TabularData | None) -> TabularData:
    """A table as the network's inputs: ``csv_label`` predicted from ``csv_features`` (all the other columns when
    empty), numeric columns standardized, the rows split ``train_pct`` / test."""
    if isinstance(data, TabularData):
        return data
    if data is None:
        raise ConfigError("planar.errors.no_table")
    if not config.csv_label:
        raise ConfigError("planar.errors.no_label")
    test = min(MAX_TEST_SHARE, 1 - config.train_pct / 100)
    return prepare(data, config.csv_label, list(config.csv_features) or None, task=config.problem, val_fraction=0.0,
                   test_fraction=test, seed=config.seed)


def data_for(config: Config, data: PlanarData | Table | TabularData | None = None) -> PlanarData | TabularData:
    """The data ``config`` trains on: the visitor's table (``source="csv"``), else the generated set."""
    if config.source == "csv":
        return table_data(config, data if not isinstance(data, PlanarData) else None)
    return data if isinstance(data, PlanarData) else make_data(config)


def steps_per_epoch(config: Config, data: PlanarData | TabularData | None = None) -> int:
    if isinstance(data, TabularData):
        return math.ceil(len(data.y_train) / min(config.batch_size, len(data.y_train)))
    return config.steps_per_epoch


def make_trainer(config: Config, data: PlanarData | Table | TabularData | None = None) -> PlanarTrainer:
    """A trainer for ``config`` (call it seeded, e.g. through ``build_seeded``, for a reproducible start);
    ``data``: the visitor's table when ``config.source`` is ``"csv"``."""
    return PlanarTrainer(config, data_for(config, data))


def make_job(config: Config, *, data: Table | TabularData | None = None, speed: str = "fastest",
             total_steps: int | None = None, pause_unwatched_s: float | None = None) -> TrainingJob:
    """A job that trains until paused (``total_steps=None``), evaluating once per epoch; with
    ``pause_unwatched_s`` it pauses itself when its page stops drawing it. A table (``data``) is prepared here,
    so a bad choice of columns fails in the page."""
    config.validate()
    if speed not in SPEEDS:
        raise ConfigError("planar.errors.speed", value=speed, choices=", ".join(SPEEDS))
    prepared = table_data(config, data) if config.source == "csv" else None
    name = Message("planar.job_table" if prepared is not None else "planar.job", data=config.data_name(),
                   shape=config.shape())
    factory = functools.partial(make_trainer, config) if prepared is None else functools.partial(make_trainer, config,
                                                                                                  prepared)
    return TrainingJob(factory, name=name, total_steps=total_steps, eval_every=steps_per_epoch(config, prepared),
                       snapshot_every=1, seed=config.seed, step_delay_s=SPEEDS[speed],
                       pause_unwatched_s=pause_unwatched_s, diverge_factor=3.0)


# ---------------------------------------------------------------------------------------------- inspections
def initial_view(config: Config, data: Table | TabularData | None = None) -> NetworkView:
    """The untrained network exactly as Play will start it (same seed), for the preview."""
    return build_seeded(functools.partial(make_trainer, config, data), config.seed).snapshot(force=True)


def fresh_view(trainer: PlanarTrainer) -> NetworkView:
    """The network right now (not the rate-limited one): what a paused page shows."""
    return trainer.snapshot(force=True)


def set_live(trainer: PlanarTrainer, lr: float, reg_rate: float) -> None:
    trainer.set_live(lr, reg_rate)


def explainable(trainer: PlanarTrainer) -> Explainable:
    """The MLP with its feature tables: IG feature importance and layer conductance on the Explain page."""
    config = trainer.config
    x_train, x_test = trainer.x.detach().cpu(), trainer.val[0].detach().cpu()
    y_test = trainer.val[1].detach().cpu().reshape(-1)
    if isinstance(trainer.data, TabularData):
        names = list(trainer.data.feature_names)
        binary = trainer.spec.binary
        classes = list(trainer.data.class_names) or [Message("planar.classes.output")]
    else:
        names = [feature_label(f) for f in config.features]
        binary = config.problem == "classification"
        classes = ([Message("planar.classes.orange"), Message("planar.classes.blue")] if binary
                   else [Message("planar.classes.output")])
    lo, hi = x_train.min(0).values.numpy(), x_train.max(0).values.numpy()
    spec = InputSpec(shape=(x_train.shape[1],), class_names=classes, low=tuple(lo.tolist()),
                     high=tuple(np.maximum(hi, lo + 1e-3).tolist()), black=tuple([0.0] * x_train.shape[1]),
                     mean=x_train.mean(0).numpy(), feature_names=names)
    metrics = trainer.metrics()
    card = {**config.card(), "model": {"kind": "mlp", **trainer.spec.__dict__, "hidden": list(config.hidden)},
            "metrics": metrics, "step": trainer.steps}
    return Explainable("planar", "features", private_copy(trainer.model), spec, x_test, y_test,
                       Message("planar.describe", label=config.label(), inputs=", ".join(names)),
                       x_train=x_train, y_train=trainer.y.detach().cpu().reshape(-1), binary=binary, card=card,
                       extra={"problem": config.problem})


def steps_to_target(config: Config, target: float = 0.95, *, max_seconds: float = 10.0,
                    max_steps: int = 100_000, check_every: int | None = None) -> dict[str, float]:
    """Train ``config`` in this thread until test accuracy reaches ``target``; returns steps, epochs, seconds."""
    torch.set_num_threads(1)
    trainer = build_seeded(functools.partial(make_trainer, config), config.seed)
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
