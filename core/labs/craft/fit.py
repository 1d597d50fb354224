"""Real models of the lab: an MLP on scikit-learn's digits with every cure for overfitting as a switch (dropout,
L2, augmentation, early stopping, batch norm, size), trained by the shared ``SupervisedTrainer`` with a learning-rate
schedule; and the same MLP copied once per optimizer for the race on a real model.

The weights start from ``Config.init_seed`` alone, so a second run with other settings (or another data seed)
starts from exactly the same point: a fair comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import lr_scheduler

from core.data.images import Augmentation, ImageDataset, load_digits_dataset
from core.device import best_device
from core.models import MODELS
from core.models.mlp import weight_penalty
from core.training import SupervisedTrainer, accuracy, make_optimizer

from .config import Config
from .schedules import RANGE_START, RangeRecorder, RangeView, make_scheduler, range_gamma

HIST_BINS = 30
DIGITS_AUGMENT = Augmentation(shift=0.12, rotation=12.0)


# ---------------------------------------------------------------------------------------------- model
@MODELS.register("craft_mlp", family="craft", description="MLP with optional batch norm and dropout per layer.")
def classifier(n_in: int, n_out: int, width: int, depth: int, dropout: float = 0.0,
               batch_norm: bool = False) -> nn.Sequential:
    """Flatten → (Linear → [BatchNorm] → ReLU → [Dropout]) × depth → Linear."""
    layers: list[nn.Module] = [nn.Flatten()]
    size = n_in
    for _ in range(depth):
        layers.append(nn.Linear(size, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        size = width
    layers.append(nn.Linear(size, n_out))
    return nn.Sequential(*layers)


def initialised(init_seed: int, build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` with torch's generator seeded by ``init_seed`` only (the caller's generator is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        return build()


def config_model(config: Config, n_in: int, n_out: int) -> nn.Sequential:
    return initialised(config.init_seed, lambda: classifier(n_in, n_out, config.width, config.depth, config.dropout,
                                                            config.batch_norm))


@torch.no_grad()
def set_numbers(model: nn.Module, loss_fn, x: torch.Tensor, y: torch.Tensor, classification: bool,
                batch: int = 4096) -> tuple[float, float]:
    """Loss and accuracy (NaN for regression) of ``model`` on a whole set, in eval mode."""
    was_training = model.training
    model.eval()
    outs = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)]) if len(x) else x.new_zeros((0, 1))
    model.train(was_training)
    if not len(x):
        return math.nan, math.nan
    loss = float(loss_fn(outs, y))
    return loss, (accuracy(outs, y) if classification else math.nan)


# ---------------------------------------------------------------------------------------------- data
@lru_cache(maxsize=4)
def digits(seed: int) -> ImageDataset:
    """The digits (8×8, normalised), split 70 / 15 / 15 by ``seed``; cached (read-only)."""
    return load_digits_dataset(size=8, seed=seed)


def digits_subset(config: Config) -> tuple[ImageDataset, torch.Tensor]:
    """The data set and the indices of the ``config.subset`` training digits used."""
    ds = digits(config.seed)
    order = np.random.default_rng(config.seed).permutation(len(ds.y_train))
    return ds, torch.as_tensor(order[: min(config.subset, len(order))])


def digits_steps_per_epoch(config: Config) -> int:
    _, idx = digits_subset(config)
    return math.ceil(len(idx) / min(config.batch_size, len(idx)))


# ---------------------------------------------------------------------------------------------- the view
@dataclass
class FitView:
    """Train vs validation over the run so far (one entry per evaluation, ``epoch`` may be fractional), the best
    epoch (lowest validation loss), the generalization gap now, and a histogram of every layer's weights."""

    step: int
    epoch: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_accuracy: np.ndarray  # NaN for regression
    val_accuracy: np.ndarray
    best_epoch: float  # -1 before the first evaluation
    best_val_loss: float
    stopped: bool  # early stopping ended the run
    restored: bool  # the weights now are those of ``best_epoch``
    gap_loss: float  # validation − training loss at the last evaluation
    gap_accuracy: float  # training − validation accuracy
    lr: float
    layers: tuple[str, ...]
    hist_counts: np.ndarray  # (layers, bins) int64
    hist_edges: np.ndarray  # (layers, bins + 1) float32
    weight_std: np.ndarray  # (layers,)


@dataclass
class WeightHistograms:
    layers: tuple[str, ...]
    counts: np.ndarray
    edges: np.ndarray
    std: np.ndarray


@torch.no_grad()
def weight_histograms(model: nn.Module, bins: int = HIST_BINS) -> WeightHistograms:
    """A histogram of the weights (not the biases) of every Linear layer, each over its own range."""
    names, counts, edges, stds = [], [], [], []
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    for i, (_, m) in enumerate(linears):
        w = m.weight.detach().float().cpu().numpy().ravel()
        c, e = np.histogram(w, bins=bins)
        names.append("output" if i == len(linears) - 1 else f"layer {i + 1}")
        counts.append(c)
        edges.append(e.astype(np.float32))
        stds.append(float(w.std()))
    return WeightHistograms(tuple(names), np.asarray(counts, dtype=np.int64), np.asarray(edges), np.asarray(stds))


# ---------------------------------------------------------------------------------------------- trainers
class ModelTrainer(SupervisedTrainer):
    """The shared trainer plus what this lab watches: a schedule stepped every batch, whole-set training numbers
    at each evaluation, the best epoch; ``total`` steps make ``config.epochs``."""

    def __init__(self, config: Config, model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                 val: tuple[torch.Tensor, torch.Tensor], *, classification: bool, augment=None) -> None:
        self.config = config
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
        loss_fn = F.cross_entropy if classification else F.mse_loss
        super().__init__(model, optimizer, loss_fn, train, val, batch_size=config.batch_size,
                         classification=classification, penalty=weight_penalty("L2", config.l2) if config.l2 else None,
                         augment=augment, patience=config.patience, device=best_device(), seed=config.seed)
        self.total = config.epochs * self.steps_per_epoch
        self.scheduler = make_scheduler(config.schedule, optimizer, self.total, config.warmup_pct)
        self.steps = 0
        self.batch_norm = config.batch_norm
        self._curve: dict[str, list[float]] = {k: [] for k in ("epoch", "train_loss", "val_loss", "train_accuracy",
                                                               "val_accuracy")}
        self.best_epoch, self.best_val_loss = -1.0, math.inf
        self.stopped = self.restored = False

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = super()._next_batch()
        if self.batch_norm and len(y) == 1:  # batch norm cannot normalise one example: take the next batch
            x, y = super()._next_batch()
        return x, y

    def train_step(self) -> dict[str, float]:
        out = super().train_step()
        self.steps += 1
        if self.steps < self.total:
            self.scheduler.step()
        return out

    @property
    def finished(self) -> bool:
        """Early-stopped or through its epochs (a job ends it at ``total`` steps; in-process loops check this)."""
        return self.done or self.steps >= self.total

    def evaluate(self) -> dict[str, float]:
        train_loss, train_acc = set_numbers(self.model, self.loss_fn, self.x, self.y, self.classification)
        was_done = self.done
        result = super().evaluate()  # validation numbers; early stopping sets ``done`` and restores the best weights
        val_loss = result.get("val_loss", math.nan)
        val_acc = result.get("val_accuracy", math.nan)
        epoch = self.steps / self.steps_per_epoch
        for key, value in (("epoch", epoch), ("train_loss", train_loss), ("val_loss", val_loss),
                           ("train_accuracy", train_acc), ("val_accuracy", val_acc)):
            self._curve[key].append(value)
        if val_loss < self.best_val_loss - 1e-6:
            self.best_val_loss, self.best_epoch = val_loss, epoch
        if self.done and not was_done:  # early stopping: the shared trainer has put the best weights back
            self.stopped, self.restored = True, self.best_state is not None
        result.update({"train_loss": train_loss, "gap_loss": val_loss - train_loss})
        if self.classification:
            result.update({"train_accuracy": train_acc, "gap_accuracy": train_acc - val_acc})
        return result

    def fit_view(self) -> FitView:
        c = {k: np.asarray(v, dtype=np.float64) for k, v in self._curve.items()}
        gap_loss = float(c["val_loss"][-1] - c["train_loss"][-1]) if len(c["epoch"]) else math.nan
        gap_acc = float(c["train_accuracy"][-1] - c["val_accuracy"][-1]) if len(c["epoch"]) else math.nan
        h = weight_histograms(self.model)
        return FitView(self.steps, c["epoch"], c["train_loss"], c["val_loss"], c["train_accuracy"], c["val_accuracy"],
                       self.best_epoch, self.best_val_loss, self.stopped, self.restored, gap_loss, gap_acc,
                       float(self.optimizer.param_groups[0]["lr"]), h.layers, h.counts, h.edges, h.std)

    def snapshot(self) -> FitView:
        return self.fit_view()


class DigitsTrainer(ModelTrainer):
    """The overfitting lab: a subset of the digits, an MLP of chosen size, the cures as switches."""

    def __init__(self, config: Config) -> None:
        self.dataset, idx = digits_subset(config)
        ds = self.dataset
        model = config_model(config, int(np.prod(ds.input_shape)), ds.num_classes)
        super().__init__(config, model, (ds.x_train[idx], ds.y_train[idx]), (ds.x_val, ds.y_val), classification=True,
                         augment=DIGITS_AUGMENT if config.augment else None)


# ---------------------------------------------------------------------------------------------- side by side
@dataclass
class SideBySideView:
    """Several copies of one model trained side by side on the same batches (one per optimizer, or raw vs
    standardized inputs): whole-set numbers per evaluation; the per-step training losses are in the job's history
    as ``loss_<name>``."""

    names: tuple[str, ...]
    rates: tuple[float, ...]
    step: int
    epoch: np.ndarray  # (evals,)
    train_loss: np.ndarray  # (models, evals)
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged: np.ndarray  # (models,) step at which its loss stopped being finite, -1 never


class SideBySideTrainer:
    """Models that start from the same weights, each with its own optimizer (and its own view of the inputs),
    stepped on the same batches; one that diverges is frozen and the others go on."""

    def __init__(self, config: Config, names: tuple[str, ...], rates: tuple[float, ...], models: list[nn.Module],
                 optimizers: list[str], inputs: list[tuple[torch.Tensor, torch.Tensor]], y: torch.Tensor,
                 y_val: torch.Tensor) -> None:
        self.config = config
        self.device = best_device()
        self.names, self.rates = names, rates
        self.models = [m.to(self.device) for m in models]
        self.optimizers = [make_optimizer(o, m.parameters(), r) for o, m, r in zip(optimizers, self.models, rates,
                                                                                   strict=True)]
        self.inputs = [(x.to(self.device), xv.to(self.device)) for x, xv in inputs]
        self.y, self.y_val = y.to(self.device), y_val.to(self.device)
        self.batch_size = min(config.batch_size, len(self.y))
        self.steps_per_epoch = math.ceil(len(self.y) / self.batch_size)
        self.total = config.epochs * self.steps_per_epoch
        self.generator = torch.Generator().manual_seed(config.seed)
        self._order, self._cursor = torch.empty(0, dtype=torch.long), 0
        self.steps = 0
        self.diverged = np.full(len(names), -1, dtype=np.int64)
        self._epochs: list[float] = []
        self._evals: list[list[tuple[float, float, float]]] = []

    @property
    def done(self) -> bool:
        return bool((self.diverged >= 0).all())

    @property
    def finished(self) -> bool:
        return self.done or self.steps >= self.total

    def _batch(self) -> torch.Tensor:
        if self._cursor >= len(self._order):
            self._order, self._cursor = torch.randperm(len(self.y), generator=self.generator), 0
        idx = self._order[self._cursor:self._cursor + self.batch_size]
        self._cursor += self.batch_size
        if self.config.batch_norm and len(idx) == 1:
            return self._batch()
        return idx.to(self.device)

    def train_step(self) -> dict[str, float]:
        idx = self._batch()
        y = self.y[idx]
        self.steps += 1
        out: dict[str, float] = {}
        for k, name in enumerate(self.names):
            if self.diverged[k] >= 0:
                out[f"loss_{name}"] = math.nan
                continue
            model, opt = self.models[k], self.optimizers[k]
            model.train()
            logits = model(self.inputs[k][0][idx])
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            value = loss.item()
            if not math.isfinite(value):
                self.diverged[k] = self.steps
                value = math.nan
            out[f"loss_{name}"] = value
            out[f"accuracy_{name}"] = accuracy(logits.detach(), y)
        finite = [out[f"loss_{n}"] for n in self.names if math.isfinite(out[f"loss_{n}"])]
        out["loss"] = min(finite) if finite else math.nan
        return out

    def evaluate(self) -> dict[str, float]:
        row, out = [], {}
        for k, name in enumerate(self.names):
            if self.diverged[k] >= 0:
                row.append((math.nan, math.nan, math.nan))
                continue
            x, xv = self.inputs[k]
            train_loss, _ = set_numbers(self.models[k], F.cross_entropy, x, self.y, True)
            val_loss, val_acc = set_numbers(self.models[k], F.cross_entropy, xv, self.y_val, True)
            row.append((train_loss, val_loss, val_acc))
            out[f"train_loss_{name}"], out[f"val_loss_{name}"], out[f"val_accuracy_{name}"] = row[-1]
        self._epochs.append(self.steps / self.steps_per_epoch)
        self._evals.append(row)
        finite = [r for r in row if math.isfinite(r[1])]
        if finite:
            out["val_loss"], out["val_accuracy"] = min(r[1] for r in finite), max(r[2] for r in finite)
        return out

    def snapshot(self) -> SideBySideView:
        e = np.asarray(self._evals, dtype=np.float64).reshape(len(self._evals), len(self.names), 3).transpose(1, 2, 0)
        return SideBySideView(self.names, self.rates, self.steps, np.asarray(self._epochs), e[:, 0].copy(),
                              e[:, 1].copy(), e[:, 2].copy(), self.diverged.copy())


def optimizer_race_trainer(config: Config) -> SideBySideTrainer:
    """The optimizers of ``config.optimizers`` on the same digits MLP, each at its rate (``Config.model_rates``)."""
    ds, idx = digits_subset(config)
    rates = config.model_rates()
    n_in = int(np.prod(ds.input_shape))
    models = [config_model(config, n_in, ds.num_classes) for _ in rates]
    x = ds.x_train[idx]
    return SideBySideTrainer(config, tuple(rates), tuple(rates.values()), models, list(rates),
                             [(x, ds.x_val)] * len(rates), ds.y_train[idx], ds.y_val)


# ---------------------------------------------------------------------------------------------- range test
class RangeTrainer(SupervisedTrainer):
    """The digits MLP trained while its rate rises exponentially from ``RANGE_START`` to ``RANGE_END`` over
    ``config.steps`` batches; it stops itself once the loss blows up (that is the point of the test, so numbers that
    stopped being finite are left out of the step's result instead of failing the job)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        ds, idx = digits_subset(config)
        model = config_model(config, int(np.prod(ds.input_shape)), ds.num_classes)
        optimizer = make_optimizer(config.optimizer, model.parameters(), RANGE_START)
        super().__init__(model, optimizer, F.cross_entropy, (ds.x_train[idx], ds.y_train[idx]),
                         batch_size=config.batch_size, device=best_device(), seed=config.seed)
        self.scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=range_gamma(config.steps))
        self.recorder = RangeRecorder()
        self.total = config.steps
        self.steps = 0

    def train_step(self) -> dict[str, float]:
        lr = float(self.optimizer.param_groups[0]["lr"])
        out = super().train_step()
        self.steps += 1
        self.recorder.add(lr, out["loss"])
        self.scheduler.step()
        if self.recorder.stopped or self.steps >= self.total:
            self.done = True
        return {k: v for k, v in out.items() if math.isfinite(v)}

    def snapshot(self) -> RangeView:
        return self.recorder.view(self.steps)
