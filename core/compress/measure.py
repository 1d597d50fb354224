"""How good, how big and how fast a model is, measured the same way for every variant (float, pruned, quantized,
distilled): the score on a test set, the bytes ``torch.save`` writes, the CPU time of one batch."""

from __future__ import annotations

import copy
import io
import statistics
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from core.errors import DataError
from core.explain.source import Explainable


def is_classification(y: torch.Tensor) -> bool:
    """Integer targets are class labels; float targets are values to regress."""
    return not torch.is_floating_point(y)


def metric_name(y: torch.Tensor) -> str:
    """``"accuracy"`` for class labels (higher is better), ``"mse"`` for values (lower is better)."""
    return "accuracy" if is_classification(y) else "mse"


@torch.no_grad()
def outputs(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """The model's outputs for ``x`` in eval mode, in batches, on the CPU."""
    was_training = model.training
    model.eval()
    parts = [model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(parts) if parts else torch.empty(0)


def score(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy for class labels (per step for per-step outputs ``(B, C, T)``), mean squared error for values."""
    if len(x) == 0:
        return float("nan")
    out = outputs(model, x)
    if is_classification(y):
        return (out.argmax(dim=1) == y).float().mean().item()
    return torch.mean((out.reshape(y.shape).float() - y.float()) ** 2).item()


def saved_bytes(obj: nn.Module | dict) -> int:
    """Bytes of ``torch.save(state_dict)``: the size of the model on disk (weights, buffers, packed int8)."""
    state = obj.state_dict() if isinstance(obj, nn.Module) else obj
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.tell()


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def latency_s(model: nn.Module, x: torch.Tensor, repeats: int = 15) -> float:
    """Median wall seconds of one forward pass on the batch ``x`` (after a warm-up), in eval mode.

    Only ratios between models timed in the same run mean something (the machine may be shared).
    """
    model.eval()
    model(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def train_split(source: Explainable) -> tuple[torch.Tensor, torch.Tensor]:
    """The inputs and labels the source model was trained on: ``dataset`` (images) or ``x_train`` with
    ``extra["y_train"]`` (any other lab). Fine-tuning, distillation and calibration need them."""
    if source.dataset is not None:
        return source.dataset.x_train, source.dataset.y_train
    y = source.extra.get("y_train")
    if source.x_train is not None and isinstance(y, torch.Tensor) and len(y) == len(source.x_train):
        return source.x_train, y
    raise DataError("compress.errors.no_train_data", lab=source.lab)


def calibration_inputs(source: Explainable, n: int = 256) -> torch.Tensor:
    """Up to ``n`` training inputs (the test inputs when the lab handed over no training set)."""
    if source.dataset is not None:
        x = source.dataset.x_train
    elif source.x_train is not None:
        x = source.x_train
    else:
        x = source.x_test
    return x[:n]


def output_head(model: nn.Module) -> tuple[str, nn.Linear]:
    """The last ``nn.Linear`` of a model (its classifier): its dotted name and the module."""
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise DataError("compress.errors.no_head", model=type(model).__name__)
    return found[-1]


def set_module(model: nn.Module, name: str, module: nn.Module) -> None:
    """Replace the submodule at the dotted path ``name``."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def reinitialized(model: nn.Module, seed: int | None = None) -> nn.Module:
    """A copy of ``model`` with fresh weights (every submodule's ``reset_parameters``): the same network
    trained from scratch."""
    fresh = copy.deepcopy(model)
    if seed is not None:
        torch.manual_seed(seed)
    for module in fresh.modules():
        if module is not fresh and hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return fresh


@contextmanager
def quiet() -> Iterator[None]:
    """Silence torch's deprecation and advice warnings around quantization and export calls."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield
