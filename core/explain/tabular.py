"""Attributions for networks on feature vectors (the network builder's MLPs on 2-D planar features):
input-feature importance (Integrated Gradients over a whole data set) and per-neuron importance of every
hidden layer (LayerConductance)."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import IntegratedGradients, LayerConductance
from torch import nn

from core.errors import ConfigError

from .methods import one_thread, prepare_model


@dataclass
class FeatureImportance:
    """Per-feature IG over a data set: ``per_example`` is (N, F); means are over the examples."""

    names: list[str]
    per_example: np.ndarray
    mean_abs: np.ndarray
    mean_signed: np.ndarray
    delta_rel: float  # median relative completeness error over the examples
    seconds: float


@dataclass
class LayerImportance:
    """LayerConductance of each neuron of one hidden layer, averaged over a data set."""

    name: str
    mean_abs: np.ndarray
    mean_signed: np.ndarray


def hidden_linears(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """Every ``nn.Linear`` except the output layer, in forward (registration) order."""
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ConfigError("explain.errors.no_linear")
    return linears[:-1]


def _targets(prepared: nn.Module, x: torch.Tensor, target: int | None) -> torch.Tensor | int | None:
    with torch.no_grad():
        out = prepared(x)
    if out.ndim == 1 or out.shape[-1] == 1:
        return 0 if out.ndim > 1 else None
    if target is None:
        return out.argmax(dim=1)
    if not 0 <= target < out.shape[-1]:
        raise ConfigError("explain.errors.target", high=out.shape[-1] - 1, value=target)
    return target


def _baseline(x: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "zeros":
        return torch.zeros_like(x)
    if kind == "mean":
        return x.mean(dim=0, keepdim=True).expand_as(x).contiguous()
    raise ConfigError("explain.errors.feature_baseline", value=kind)


def feature_importance(model: nn.Module, x: torch.Tensor, *, names: list[str] | None = None,
                       target: int | None = None, baseline: str = "zeros", n_steps: int = 32) -> FeatureImportance:
    """Integrated Gradients of every example of ``x`` (N, F) for its predicted class (or ``target``; a model
    with one output explains that output), summarised per feature."""
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ConfigError("explain.errors.empty_table")
    prepared = prepare_model(model)
    device = next(prepared.parameters()).device
    x = x.to(device)
    base = _baseline(x, baseline)
    tgt = _targets(prepared, x, target)
    start = time.perf_counter()
    with warnings.catch_warnings(), one_thread():
        warnings.simplefilter("ignore")
        attr, delta = IntegratedGradients(prepared).attribute(
            x, baselines=base, target=tgt, n_steps=n_steps, internal_batch_size=8192, return_convergence_delta=True)
    seconds = time.perf_counter() - start
    with torch.no_grad(), one_thread():
        fx, fb = prepared(x), prepared(base)
        if fx.ndim > 1 and tgt is not None:
            index = tgt if isinstance(tgt, torch.Tensor) else torch.full((len(x),), int(tgt), device=device)
            fx, fb = fx.gather(1, index.view(-1, 1))[:, 0], fb.gather(1, index.view(-1, 1))[:, 0]
        diff = (fx - fb).abs().reshape(-1)
    rel = (delta.abs() / diff.clamp_min(1e-6)).cpu().numpy()
    per = attr.detach().cpu().numpy()
    names = names or [f"x{i + 1}" for i in range(x.shape[1])]
    return FeatureImportance(list(names), per, np.abs(per).mean(0), per.mean(0), float(np.median(rel)), seconds)


def neuron_importance(model: nn.Module, x: torch.Tensor, *, target: int | None = None, baseline: str = "zeros",
                      n_steps: int = 16) -> list[LayerImportance]:
    """LayerConductance of every neuron in each hidden Linear layer (equal to the conductance of its activation,
    since activations act element-wise), averaged over the examples of ``x``."""
    x = torch.as_tensor(x, dtype=torch.float32)
    prepared = prepare_model(model)
    device = next(prepared.parameters()).device
    x = x.to(device)
    base = _baseline(x, baseline)
    tgt = _targets(prepared, x, target)
    layers = []
    for name, layer in hidden_linears(prepared):
        with warnings.catch_warnings(), one_thread():
            warnings.simplefilter("ignore")
            cond = LayerConductance(prepared, layer).attribute(x, baselines=base, target=tgt, n_steps=n_steps,
                                                               internal_batch_size=8192)
        values = cond.detach().cpu().numpy()
        layers.append(LayerImportance(name, np.abs(values).mean(0), values.mean(0)))
    return layers
