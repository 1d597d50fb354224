"""Knowledge distillation (Hinton, Vinyals & Dean 2015): a small student learns from a trained teacher's
softened outputs as well as from the labels.

    loss = α · T² · KL(softmax(teacher / T) ‖ softmax(student / T)) + (1 − α) · cross_entropy(student, labels)

A temperature T > 1 spreads the teacher's probabilities so the student also learns which wrong classes look
alike ("dark knowledge"); T² keeps the soft term's gradients the same size whatever T is. ``DistillationRace``
trains two copies of one student on the same batches, one with this loss and one with labels only, so the page can
draw both curves on one chart.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.device import best_device
from core.errors import ConfigError
from core.models.cnn import CNNConfig, ConvBlock, build_cnn
from core.training import accuracy, gradient_norm, make_optimizer

from .measure import outputs

STUDENTS = ("mlp", "cnn")


def _flat(logits: torch.Tensor) -> torch.Tensor:
    """``(B, C)`` as it is; per-step ``(B, C, T)`` as ``(B·T, C)``."""
    return logits if logits.ndim == 2 else logits.movedim(1, -1).reshape(-1, logits.shape[1])


def distillation_terms(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """The soft term ``T² · KL(p_teacher,T ‖ p_student,T)`` (mean over examples) and the hard cross-entropy."""
    s, t = _flat(student), _flat(teacher.detach())
    soft = F.kl_div(F.log_softmax(s / temperature, dim=1), F.log_softmax(t / temperature, dim=1),
                    reduction="batchmean", log_target=True) * temperature ** 2
    return soft, F.cross_entropy(s, labels.reshape(-1))


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float = 4.0,
                      alpha: float = 0.7) -> torch.Tensor:
    """``α · soft + (1 − α) · hard`` (see the module docstring)."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise ConfigError("compress.errors.temperature", value=temperature)
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError("compress.errors.alpha", value=alpha)
    soft, hard = distillation_terms(student, teacher, labels, temperature)
    return alpha * soft + (1 - alpha) * hard


# ------------------------------------------------------------------------------------------------- students
class StudentMLP(nn.Module):
    """Flatten → standardise (training-set mean and std per input, kept as buffers) → hidden ReLU layers →
    class scores. Works on any input shape: feature tables, images, spectrograms."""

    def __init__(self, n_inputs: int, hidden: tuple[int, ...], n_classes: int) -> None:
        super().__init__()
        if not 1 <= n_inputs <= 1_000_000 or any(not 1 <= h <= 4096 for h in hidden) or n_classes < 1:
            raise ConfigError("compress.errors.student_shape", inputs=n_inputs, hidden=list(hidden), classes=n_classes)
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("std", torch.ones(n_inputs))
        widths = (n_inputs, *hidden, n_classes)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(m.out_features for m in self.net if isinstance(m, nn.Linear))[:-1]

    def fit_scaler(self, x: torch.Tensor) -> StudentMLP:
        flat = x.reshape(len(x), -1).float()
        self.mean.copy_(flat.mean(0))
        self.std.copy_(flat.std(0).clamp_min(1e-3) if len(x) > 1 else torch.ones_like(self.std))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x.flatten(1).float() - self.mean) / self.std)


def make_student(kind: str, input_shape: tuple[int, ...], n_classes: int, width: int, x_train: torch.Tensor
                 ) -> nn.Module:
    """A small network for inputs of ``input_shape``: ``"mlp"`` (one hidden layer of ``width``) for any input,
    ``"cnn"`` for images ``(C, H, W)`` (two conv blocks of ``width`` and ``2·width`` filters) or spectrogram grids
    ``(rows, frames)`` (the audio lab's log-mel CNN with those channels)."""
    if kind not in STUDENTS:
        raise ConfigError("compress.errors.student", value=kind, choices=", ".join(STUDENTS))
    if kind == "mlp":
        return StudentMLP(int(np.prod(input_shape)), (width,), n_classes).fit_scaler(x_train)
    if len(input_shape) == 3:
        c, h, w = input_shape
        if h != w:
            raise ConfigError("compress.errors.student_cnn", shape=list(input_shape))
        return build_cnn(CNNConfig(c, h, n_classes, blocks=(ConvBlock(width), ConvBlock(2 * width)), fc=(),
                                   name="student"))
    if len(input_shape) == 2:
        from core.models.audio import build_mel_cnn  # the audio lab's network, loaded only when asked for

        model = build_mel_cnn(input_shape[0], input_shape[1], (width, 2 * width), 0.1, n_classes)
        rows = x_train.float().transpose(0, 1).reshape(input_shape[0], -1)
        model.norm.mean.copy_(rows.mean(1, keepdim=True))
        model.norm.std.copy_(rows.std(1, keepdim=True).clamp_min(1e-3))
        return model
    raise ConfigError("compress.errors.student_cnn", shape=list(input_shape))


# ------------------------------------------------------------------------------------------------- training
class DistillationRace:
    """Two copies of one student (same initial weights, same batches): ``"kd"`` learns from the teacher and
    the labels, ``"plain"`` from the labels only. A trainer for ``core.jobs.TrainingJob``."""

    NAMES = ("kd", "plain")

    def __init__(self, teacher: nn.Module, student: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                 test: tuple[torch.Tensor, torch.Tensor], *, temperature: float = 4.0, alpha: float = 0.7,
                 optimizer: str = "Adam", lr: float = 0.003, batch_size: int = 64, seed: int = 0,
                 device: torch.device | None = None) -> None:
        distillation_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), temperature, alpha)
        self.temperature, self.alpha = temperature, alpha
        self.device = device or best_device()
        x, y = train
        self.teacher_logits = outputs(teacher, x).to(self.device)  # the teacher never changes: ask it once
        self.x, self.y = x.to(self.device), y.to(self.device)
        self.test = tuple(t.to(self.device) for t in test)
        self.students = {"kd": student.to(self.device), "plain": copy.deepcopy(student).to(self.device)}
        self.optimizers = {k: make_optimizer(optimizer, m.parameters(), lr) for k, m in self.students.items()}
        self.batch_size = max(1, min(batch_size, len(self.x)))
        self.steps_per_epoch = math.ceil(len(self.x) / self.batch_size)
        self.generator = torch.Generator().manual_seed(seed)
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self.steps = 0
        self.done = False

    def _batch(self) -> torch.Tensor:
        if self._cursor >= len(self._order):
            self._order, self._cursor = torch.randperm(len(self.x), generator=self.generator), 0
        idx = self._order[self._cursor:self._cursor + self.batch_size].to(self.device)
        self._cursor += self.batch_size
        return idx

    def train_step(self) -> dict[str, float]:
        idx = self._batch()
        x, y, t = self.x[idx], self.y[idx], self.teacher_logits[idx]
        out: dict[str, float] = {}
        for name, model in self.students.items():
            model.train()
            logits = model(x)
            if name == "kd":
                soft, hard = distillation_terms(logits, t, y, self.temperature)
                loss = self.alpha * soft + (1 - self.alpha) * hard
                out.update(loss=loss.item(), soft_loss=soft.item(), hard_loss=hard.item())
            else:
                loss = F.cross_entropy(_flat(logits), y.reshape(-1))
                out["loss_plain"] = loss.item()
            opt = self.optimizers[name]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = gradient_norm([p for p in model.parameters() if p.requires_grad])
            opt.step()
            out[f"accuracy_{name}"] = accuracy(logits.detach(), y)
            if name == "kd":
                out["grad_norm"] = norm.item()
        out["lr"] = self.optimizers["kd"].param_groups[0]["lr"]
        self.steps += 1
        return out

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Test loss (labels only) and accuracy of both students."""
        x, y = self.test
        result = {}
        for name, model in self.students.items():
            logits = outputs(model, x)
            suffix = "" if name == "kd" else "_plain"
            result[f"val_loss{suffix}"] = F.cross_entropy(_flat(logits), y.reshape(-1)).item()
            result[f"val_accuracy_{name}"] = accuracy(logits, y)
        return result
