"""Transfer and few-shot learning: what a network learned on some classes is worth on new ones.

A backbone is pre-trained on the *base* classes (digits 0–4, say); then the *new* classes (digits 5–9, or the
visitor's own pictures) are learned from only k examples each, four ways:

- ``frozen``: the supervised backbone is kept as it is and only a new linear classifier is trained on its
  features (a linear probe);
- ``finetune``: the supervised backbone with a new classifier, every weight trained (batch-norm statistics kept);
- ``scratch``: the same network with fresh random weights, trained on the k examples alone;
- ``rotation``: a backbone pre-trained *without labels* on the same base images by predicting how far each was
  turned (0°, 90°, 180°, 270°, Gidaris et al. 2018), then a linear probe: self-supervised features against
  supervised ones.

The k examples of a class are nested (the 5 of k = 5 include the 2 of k = 2) and redrawn for each repeat; every
run is scored on the new classes' validation and test images, which no run trains on.
``FewShotSweep`` is a trainer for ``core.jobs.TrainingJob``: one step of the current phase per ``train_step``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.data.images import Augmentation, ImageDataset
from core.device import best_device
from core.errors import ConfigError, DataError
from core.models.cnn import CNNConfig, ConvBlock, build_cnn

from .measure import output_head, outputs, reinitialized, set_module

METHODS = ("frozen", "finetune", "scratch", "rotation")
# Small shifts and turns while pre-training make features that carry over to new classes (off for the k-shot runs,
# so that every method sees exactly the same k pictures).
PRETRAIN_AUGMENTATION = Augmentation(shift=0.12, rotation=12.0)
PHASES = ("pretrain", "pretext", "runs", "done")


@dataclass
class FewShotData:
    """Base classes to pre-train on and new classes to learn from few examples (labels 0…n−1 in each)."""

    base_x: torch.Tensor
    base_y: torch.Tensor
    base_test_x: torch.Tensor
    base_test_y: torch.Tensor
    pool_x: torch.Tensor  # the new classes' training images: the k examples are drawn from here
    pool_y: torch.Tensor
    eval_x: torch.Tensor  # the new classes' validation + test images
    eval_y: torch.Tensor
    base_classes: list[str]
    new_classes: list[str]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.pool_x.shape[1:])


def _select(x: torch.Tensor, y: torch.Tensor, classes: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    keep = torch.isin(y, torch.as_tensor(list(classes)))
    remap = torch.full((int(y.max()) + 1,), -1, dtype=torch.long)
    remap[torch.as_tensor(list(classes))] = torch.arange(len(classes))
    return x[keep], remap[y[keep]]


def split_classes(ds: ImageDataset, new: Sequence[int]) -> FewShotData:
    """Base = every class not in ``new`` (``ds.classes`` indices); the new classes are learned few-shot."""
    new = sorted(set(int(c) for c in new))
    base = [c for c in range(ds.num_classes) if c not in new]
    if not new or not base:
        raise ConfigError("compress.errors.fewshot_split", n=ds.num_classes)
    bx, by = _select(ds.x_train, ds.y_train, base)
    tx, ty = _select(ds.x_test, ds.y_test, base)
    px, py = _select(ds.x_train, ds.y_train, new)
    ex, ey = _select(torch.cat([ds.x_val, ds.x_test]), torch.cat([ds.y_val, ds.y_test]), new)
    return FewShotData(bx, by, tx, ty, px, py, ex, ey, [ds.classes[c] for c in base], [ds.classes[c] for c in new])


def conform(x: torch.Tensor, channels: int, size: int) -> torch.Tensor:
    """Images ``(N, C, H, W)`` with ``channels`` channels (grey repeated, or colours averaged) at ``size``²."""
    if x.shape[1] != channels:
        x = x.mean(dim=1, keepdim=True).expand(-1, channels, -1, -1) if channels in (1, 3) else x
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x.contiguous()


def with_new_classes(base: ImageDataset, new: ImageDataset) -> FewShotData:
    """Pre-train on every class of ``base`` (conformed to ``new``'s channels and size), learn ``new``'s classes
    (the visitor's own pictures) from few examples."""
    c, s = new.channels, new.size
    return FewShotData(conform(base.x_train, c, s), base.y_train, conform(base.x_test, c, s), base.y_test,
                       new.x_train, new.y_train, torch.cat([new.x_val, new.x_test]), torch.cat([new.y_val, new.y_test]),
                       list(base.classes), list(new.classes))


def backbone_config(channels: int, size: int, n_classes: int) -> CNNConfig:
    """The few-shot backbone: two conv blocks (16, 32 filters) whose flattened maps are the features (a linear
    probe on the conv features transfers better than one on a hidden layer trained for the base classes), no
    batch norm (its statistics would come from k examples)."""
    return CNNConfig(channels, size, n_classes, blocks=(ConvBlock(16), ConvBlock(32)), fc=(), batch_norm=False,
                     name="few-shot backbone")


def rotations(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Each image turned by ``turns[i]`` × 90° (the pretext task's inputs)."""
    out = x.clone()
    for k in range(1, 4):
        sel = turns == k
        if sel.any():
            out[sel] = torch.rot90(x[sel], k, dims=(2, 3))
    return out


def with_head(model: nn.Module, n_out: int) -> nn.Module:
    """A copy of ``model`` whose last linear layer is a fresh one with ``n_out`` outputs."""
    out = copy.deepcopy(model)
    name, head = output_head(out)
    set_module(out, name, nn.Linear(head.in_features, n_out).to(head.weight.device))
    if isinstance(getattr(out, "config", None), CNNConfig):  # keep the ConvNet's description true (model cards)
        out.config = replace(out.config, num_classes=n_out)
    return out


def features_of(model: nn.Module) -> nn.Module:
    """A copy of ``model`` without its last linear layer: the backbone's feature vector."""
    out = copy.deepcopy(model)
    set_module(out, output_head(out)[0], nn.Identity())
    return out.eval()


def shot_indices(y: torch.Tensor, n_classes: int, k_max: int, seed: int) -> list[np.ndarray]:
    """For each class, a random order of its pool indices; the first k of each are the k-shot set."""
    rng = np.random.default_rng(seed)
    order = []
    for c in range(n_classes):
        idx = np.flatnonzero(y.numpy() == c)
        if len(idx) < k_max:
            raise DataError("compress.errors.too_few_shots", k=k_max, n=len(idx))
        order.append(rng.permutation(idx))
    return order


@dataclass(frozen=True)
class FewShotPlan:
    """What to run: shots per class, methods, repeats, steps per phase and learning rates."""

    shots: tuple[int, ...] = (1, 2, 5, 10, 20)
    methods: tuple[str, ...] = METHODS
    repeats: int = 3
    pretrain_steps: int = 300
    run_steps: int = 60
    batch_size: int = 64
    lr_pretrain: float = 3e-3
    lr_head: float = 1e-2
    lr_finetune: float = 1e-3
    lr_scratch: float = 3e-3
    augment: Augmentation = PRETRAIN_AUGMENTATION
    seed: int = 0

    def check(self) -> FewShotPlan:
        if not self.shots or any(not 1 <= k <= 100 for k in self.shots):
            raise ConfigError("compress.errors.shots", value=list(self.shots))
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ConfigError("compress.errors.fewshot_methods", value=", ".join(unknown), choices=", ".join(METHODS))
        return self

    @property
    def runs(self) -> int:
        return len(self.shots) * len(self.methods) * self.repeats


@dataclass
class FewShotView:
    """Accuracy on the new classes for each method, k and repeat (NaN: not run yet)."""

    step: int
    phase: str  # one of PHASES
    shots: np.ndarray  # (K,)
    methods: tuple[str, ...]
    accuracy: np.ndarray  # (M, K, R)
    base_accuracy: float  # the supervised backbone on the base classes' test images
    pretext_accuracy: float  # the rotation backbone on turned base test images (chance 0.25)
    chance: float  # 1 / number of new classes
    runs_done: int
    runs_total: int
    new_classes: tuple[str, ...] = ()
    base_classes: tuple[str, ...] = ()

    @property
    def mean(self) -> np.ndarray:
        """(M, K) mean accuracy over the repeats run so far."""
        with np.errstate(all="ignore"):
            return np.array([[np.nan if np.isnan(a).all() else np.nanmean(a) for a in row] for row in self.accuracy])

    @property
    def std(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.array([[np.nan if np.isnan(a).all() else np.nanstd(a) for a in row] for row in self.accuracy])

    def at(self, method: str, k: int) -> float:
        return float(self.mean[self.methods.index(method), list(self.shots).index(k)])


@dataclass
class _Run:
    method: str
    k: int
    repeat: int
    models: dict = field(default_factory=dict)


class FewShotSweep:
    """Pre-training (supervised, then rotation pretext), then every (k, method, repeat) run, one step at a time.

    ``backbone``: a trained model to transfer from (its head is replaced); without it a small CNN is pre-trained
    on the base classes first.
    """

    def __init__(self, data: FewShotData, plan: FewShotPlan, *, backbone: nn.Module | None = None,
                 device: torch.device | None = None) -> None:
        self.data, self.plan = data, plan.check()
        self.device = device or best_device()
        n_new = len(data.new_classes)
        self.orders = [shot_indices(data.pool_y, n_new, max(plan.shots), plan.seed + r) for r in range(plan.repeats)]
        shape = data.input_shape
        if len(shape) != 3:
            raise DataError("compress.errors.fewshot_images", shape=list(shape))
        self.pretrained = backbone is not None
        template = backbone if backbone is not None else build_cnn(backbone_config(shape[0], shape[1],
                                                                                   len(data.base_classes)))
        self.supervised = copy.deepcopy(template).to(self.device)
        self.rotation = with_head(reinitialized(template), 4).to(self.device) if "rotation" in plan.methods else None
        self.accuracy = np.full((len(plan.methods), len(plan.shots), plan.repeats), np.nan)
        self.base_accuracy = math.nan
        self.pretext_accuracy = math.nan
        self.phase = "pretrain" if not self.pretrained else "pretext" if self.rotation is not None else "runs"
        self.steps = 0
        self.runs_done = 0
        self.last: dict[str, nn.Module] = {}  # the latest trained model of each method (for the shelf)
        self.generator = torch.Generator().manual_seed(plan.seed)
        self.total_steps = ((0 if self.pretrained else plan.pretrain_steps)
                            + (plan.pretrain_steps if self.rotation is not None else 0) + plan.runs * plan.run_steps)
        self.steps_per_epoch = max(1, math.ceil(len(data.base_x) / plan.batch_size))
        self._work = self._schedule()
        self._last: dict[str, float] = {"loss": 0.0}
        self.done = False

    # ------------------------------------------------------------------ phases
    def _schedule(self) -> Iterator[dict[str, float]]:
        if not self.pretrained:
            self.phase = "pretrain"
            yield from self._pretrain(self.supervised, rotate=False)
            if len(self.data.base_test_x):
                self.base_accuracy = self._acc(self.supervised, self.data.base_test_x, self.data.base_test_y)
        if self.rotation is not None:
            self.phase = "pretext"
            yield from self._pretrain(self.rotation, rotate=True)
            x = self.data.base_test_x
            if len(x):
                turns = torch.arange(len(x)) % 4
                self.pretext_accuracy = self._acc(self.rotation, rotations(x, turns), turns)
        self.phase = "runs"
        backbones = {"frozen": self.supervised, "rotation": self.rotation}
        features = {k: features_of(m) for k, m in backbones.items() if m is not None}
        for r in range(self.plan.repeats):
            for j, k in enumerate(self.plan.shots):
                idx = torch.from_numpy(np.concatenate([o[:k] for o in self.orders[r]]))
                x, y = self.data.pool_x[idx].to(self.device), self.data.pool_y[idx].to(self.device)
                for i, method in enumerate(self.plan.methods):
                    model = yield from self._run(method, x, y, features, backbones)
                    self.accuracy[i, j, r] = self._acc(model, self.data.eval_x, self.data.eval_y)
                    self.last[method] = model
                    self.runs_done += 1
        self.phase = "done"

    def _pretrain(self, model: nn.Module, *, rotate: bool) -> Iterator[dict[str, float]]:
        x_all, y_all = self.data.base_x, self.data.base_y
        opt = torch.optim.Adam(model.parameters(), lr=self.plan.lr_pretrain)
        n, b = len(x_all), min(self.plan.batch_size, len(x_all))
        order, cursor = torch.randperm(n, generator=self.generator), 0
        for _ in range(self.plan.pretrain_steps):
            if cursor + b > n:
                order, cursor = torch.randperm(n, generator=self.generator), 0
            idx = order[cursor:cursor + b]
            cursor += b
            x, y = x_all[idx], y_all[idx]
            if self.plan.augment.active:
                x = self.plan.augment(x, self.generator)
            if rotate:
                y = torch.randint(0, 4, (len(x),), generator=self.generator)
                x = rotations(x, y)
            yield self._update(model, opt, x.to(self.device), y.to(self.device))

    def _run(self, method: str, x: torch.Tensor, y: torch.Tensor, features: dict[str, nn.Module],
             backbones: dict[str, nn.Module | None]) -> Iterator[dict[str, float]]:
        n_new = len(self.data.new_classes)
        if method in ("frozen", "rotation"):
            extractor = features[method].to(self.device)
            with torch.no_grad():
                z = extractor(x)  # the backbone never changes: its features are computed once
            head = nn.Linear(z.shape[1], n_new).to(self.device)
            opt = torch.optim.Adam(head.parameters(), lr=self.plan.lr_head)
            for _ in range(self.plan.run_steps):
                yield self._update(head, opt, z, y)
            model = with_head(backbones[method], n_new)  # the same network as backbone → probe, in one piece
            output_head(model)[1].load_state_dict(head.state_dict())
            return model.eval()
        if method == "finetune":
            model, lr = with_head(self.supervised, n_new), self.plan.lr_finetune
        else:
            model, lr = with_head(reinitialized(self.supervised), n_new), self.plan.lr_scratch
        model = model.to(self.device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(self.plan.run_steps):
            yield self._update(model, opt, x, y, keep_norm_stats=method == "finetune")
        return model.eval()

    @staticmethod
    def _update(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
                keep_norm_stats: bool = False) -> dict[str, float]:
        model.train()
        if keep_norm_stats:  # k examples would overwrite the pre-trained batch-norm statistics
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "accuracy": (logits.argmax(1) == y).float().mean().item()}

    def _acc(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        pred = outputs(model, x.to(self.device)).argmax(1).cpu()
        return float((pred == y).float().mean())

    # ------------------------------------------------------------------ trainer face
    def train_step(self) -> dict[str, float]:
        try:
            out = self._last = next(self._work)
        except StopIteration:
            self.done = True
            return self._last
        self.steps += 1
        if self.steps >= self.total_steps:
            for _ in self._work:  # record the last run's accuracy
                pass
            self.done = True
        return out

    def snapshot(self) -> FewShotView:
        return FewShotView(self.steps, self.phase, np.asarray(self.plan.shots), tuple(self.plan.methods),
                           self.accuracy.copy(), self.base_accuracy, self.pretext_accuracy,
                           1.0 / len(self.data.new_classes), self.runs_done, self.plan.runs,
                           tuple(self.data.new_classes), tuple(self.data.base_classes))

    def run_all(self) -> FewShotView:
        """Every step right here (no job thread)."""
        while not self.done:
            self.train_step()
        return self.snapshot()
