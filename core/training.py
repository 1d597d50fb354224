"""The supervised training step shared by every lab: batches from tensors, loss, gradient norm,
optional clipping, validation and early stopping. ``TrainingJob`` drives it in its thread."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn

from .device import best_device
from .errors import ConfigError

STATS_EVERY = 8  # steps between two measurements of the gradient norm and batch accuracy (see SupervisedTrainer)

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "SGD": lambda params, lr, wd: torch.optim.SGD(params, lr=lr, weight_decay=wd),
    "Momentum": lambda params, lr, wd: torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd),
    "Adam": lambda params, lr, wd: torch.optim.Adam(params, lr=lr, weight_decay=wd),
    "AdamW": lambda params, lr, wd: torch.optim.AdamW(params, lr=lr, weight_decay=wd),
    "RMSprop": lambda params, lr, wd: torch.optim.RMSprop(params, lr=lr, weight_decay=wd),
    "Nesterov": lambda params, lr, wd: torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd),
}


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """An optimizer from the registry, with the learning rate checked."""
    if name not in OPTIMIZERS:
        raise ConfigError("common.train.optimizer", value=name, choices=", ".join(OPTIMIZERS))
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and 0 < lr <= 100):
        raise ConfigError("common.train.lr", value=lr)
    if not (math.isfinite(weight_decay) and 0 <= weight_decay <= 10):
        raise ConfigError("common.train.weight_decay", value=weight_decay)
    return OPTIMIZERS[name](params, lr, weight_decay)


def gradient_norm(params: list[torch.Tensor], clip_norm: float | None = None) -> torch.Tensor:
    """Global L2 norm of the gradients (before clipping); clips to ``clip_norm`` when given."""
    if clip_norm:
        return torch.nn.utils.clip_grad_norm_(params, clip_norm, foreach=True)
    grads = [p.grad for p in params if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads, foreach=True) if grads else torch.zeros(())


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == y).float().mean().item()


class SupervisedTrainer:
    """Minibatch training of ``model`` on in-memory tensors.

    ``penalty(model)`` adds a regularisation term (L1, say); ``augment(x, generator)`` transforms each
    training batch; ``clip_norm`` clips the global gradient norm (the reported norm is the one before
    clipping); ``patience`` stops after that many evaluations without a better validation loss and
    restores the best weights. ``stats_every``: the gradient norm and the batch accuracy are measured on the
    first of every that many steps (the norm on every step while clipping). Each costs up to a fifth of a small
    model's step, so the labs measure every ``STATS_EVERY`` steps: the same curves, at a fraction of the cost.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        train: tuple[torch.Tensor, torch.Tensor],
        val: tuple[torch.Tensor, torch.Tensor] | None = None,
        *,
        batch_size: int = 32,
        classification: bool = True,
        penalty: Callable[[nn.Module], torch.Tensor] | None = None,
        augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
        clip_norm: float | None = None,
        patience: int | None = None,
        snapshot: Callable[[SupervisedTrainer], object] | None = None,
        device: torch.device | None = None,
        seed: int = 0,
        stats_every: int = 1,
    ) -> None:
        if len(train[0]) == 0:
            raise ConfigError("common.train.empty")
        if not 1 <= batch_size <= 100_000:
            raise ConfigError("common.train.batch", value=batch_size)
        self.device = device or best_device()
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.x, self.y = (t.to(self.device) for t in train)
        self.val = tuple(t.to(self.device) for t in val) if val is not None else None
        self.batch_size = min(batch_size, len(self.x))
        self.classification = classification
        self.penalty = penalty
        self.augment = augment
        self.clip_norm = clip_norm
        self.patience = patience
        self._snapshot = snapshot
        self.generator = torch.Generator().manual_seed(seed)
        self.steps_per_epoch = math.ceil(len(self.x) / self.batch_size)
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self.best_val = math.inf
        self.best_state: dict | None = None
        self._bad_evals = 0
        self.done = False
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.stats_every = stats_every
        self.steps_taken_total = 0

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._cursor >= len(self._order):
            self._order = torch.randperm(len(self.x), generator=self.generator).to(self.device)
            self._cursor = 0
        idx = self._order[self._cursor : self._cursor + self.batch_size]
        self._cursor += self.batch_size
        x = self.x[idx]
        if self.augment is not None:
            x = self.augment(x, self.generator)
        return x, self.y[idx]

    def train_step(self) -> dict[str, float]:
        if not self.model.training:
            self.model.train()
        x, y = self._next_batch()
        out = self.model(x)
        loss = self.loss_fn(out, y)
        total = loss + self.penalty(self.model) if self.penalty is not None else loss
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.steps_taken_total += 1
        measured = self.stats_every <= 1 or self.steps_taken_total % self.stats_every == 1
        grad_norm = gradient_norm(self.params, self.clip_norm) if measured or self.clip_norm else None
        self.optimizer.step()
        if grad_norm is None and not (measured and self.classification):
            values = [loss.item()]  # most steps: the loss alone
        else:
            with torch.no_grad():  # every number in one transfer: each .item() is a device sync of its own
                numbers = [loss.detach()] + ([grad_norm.to(loss.dtype)] if grad_norm is not None else [])
                if measured and self.classification:
                    numbers.append((out.argmax(dim=1) == y).to(loss.dtype).mean())
                values = torch.stack(numbers).tolist()
        result = {"loss": values[0], "lr": self.optimizer.param_groups[0]["lr"]}
        if grad_norm is not None:
            result["grad_norm"] = values[1]
        if measured and self.classification:
            result["accuracy"] = values[-1]
        return result

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Validation loss (and accuracy); drives early stopping."""
        if self.val is None:
            return {}
        was_training = self.model.training
        self.model.eval()
        out = self.model(self.val[0])
        val_loss = self.loss_fn(out, self.val[1]).item()
        self.model.train(was_training)
        result = {"val_loss": val_loss}
        if self.classification:
            result["val_accuracy"] = accuracy(out, self.val[1])
        if self.patience:
            if val_loss < self.best_val - 1e-6:
                self.best_val, self._bad_evals = val_loss, 0
                self.best_state = copy.deepcopy(self.model.state_dict())
            else:
                self._bad_evals += 1
                if self._bad_evals >= self.patience:
                    self.done = True
                    if self.best_state is not None:
                        self.model.load_state_dict(self.best_state)
        return result

    def snapshot(self) -> object:
        return self._snapshot(self) if self._snapshot is not None else None

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Model output for ``x`` in eval mode, on the CPU."""
        was_training = self.model.training
        self.model.eval()
        out = self.model(x.to(self.device)).cpu()
        self.model.train(was_training)
        return out
