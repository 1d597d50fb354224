"""Pruning with ``torch.nn.utils.prune``: zero the smallest weights and see what the model still knows.

Three methods, each on the weight matrices of ``Linear`` and ``Conv`` layers and the recurrent weights of
``RNN`` / ``LSTM`` / ``GRU`` (never biases, norms or embeddings):

- ``magnitude``: in every layer, the given fraction of weights with the smallest |w| (L1 unstructured);
- ``channel``: in every layer, the given fraction of whole output rows (conv filters, neurons, gate units) with
  the smallest L2 norm (Ln structured, dim 0). The classifier layer is left whole: a pruned row would silence a
  class;
- ``global``: the given fraction of the smallest |w| over all those layers together (a layer that matters little
  can lose most of its weights, an important one almost none).

A pruned model keeps ``weight_orig`` and a ``weight_mask`` and multiplies them in a forward pre-hook, so it can be
fine-tuned with the mask held (pruned weights stay zero). :func:`finalize` makes the zeros permanent. What the
zeros save on disk is measured with :func:`sparse_state`: each pruned tensor is stored as its non-zero values
(float32) plus a bit mask of where they are (one bit per weight, ``numpy.packbits``), then ``torch.save``-d; at
50 % sparsity that is 4 · 0.5 + 1/8 = 2.125 bytes per weight instead of 4.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from core.errors import ConfigError, DataError

from .measure import metric_name, output_head, saved_bytes, score

METHODS = ("magnitude", "channel", "global")
SWEEP_AMOUNTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
_RECURRENT = (nn.RNN, nn.LSTM, nn.GRU)


def prunable(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """``(layer name, module, parameter name)`` of every weight pruning may zero, in model order."""
    out = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            out.append((name, module, "weight"))
        elif isinstance(module, _RECURRENT):
            out += [(name, module, p) for p in module._flat_weights_names if p.startswith("weight_")]
    return out


def _check_amount(amount: float) -> float:
    if not (isinstance(amount, (int, float)) and math.isfinite(amount) and 0.0 <= amount < 1.0):
        raise ConfigError("compress.errors.sparsity", value=amount)
    return float(amount)


def prune_model(model: nn.Module, amount: float, method: str = "magnitude") -> nn.Module:
    """A pruned copy of ``model`` (masks attached; the original is untouched)."""
    if method not in METHODS:
        raise ConfigError("compress.errors.prune_method", value=method, choices=", ".join(METHODS))
    amount = _check_amount(amount)
    pruned = copy_model(model)
    targets = prunable(pruned)
    if method == "channel":
        head = output_head(pruned)[1] if any(isinstance(m, nn.Linear) for _, m, _ in targets) else None
        targets = [t for t in targets if t[1] is not head]
    if not targets:
        raise DataError("compress.errors.nothing_to_prune", model=type(model).__name__)
    if method == "global":
        prune.global_unstructured([(m, p) for _, m, p in targets], pruning_method=prune.L1Unstructured,
                                  amount=amount)
    else:
        for _, module, param in targets:
            if method == "magnitude":
                prune.l1_unstructured(module, param, amount=amount)
            else:
                prune.ln_structured(module, param, amount=amount, n=2, dim=0)
    return pruned


def is_pruned(model: nn.Module) -> bool:
    return prune.is_pruned(model)


@torch.no_grad()
def copy_model(model: nn.Module) -> nn.Module:
    """``copy.deepcopy`` that also works on a pruned model: the masked weights a forward pass left behind are
    part of the autograd graph (not copyable), so they are recomputed detached first."""
    for module in model.modules():
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, prune.BasePruningMethod):
                setattr(module, hook._tensor_name, hook.apply_mask(module).detach())
    return copy.deepcopy(model)


def finalize(model: nn.Module) -> nn.Module:
    """A copy with the masks folded into plain weights (``prune.remove``): zeros stay, hooks go."""
    done = copy_model(model)
    for module in done.modules():
        for hook in list(module._forward_pre_hooks.values()):
            if isinstance(hook, prune.BasePruningMethod):
                prune.remove(module, hook._tensor_name)
    return done


@dataclass
class LayerSparsity:
    """Zeros per prunable weight tensor."""

    names: tuple[str, ...]
    sizes: np.ndarray  # weights per tensor
    zeros: np.ndarray  # zero weights per tensor

    @property
    def fractions(self) -> np.ndarray:
        return self.zeros / np.maximum(self.sizes, 1)

    @property
    def overall(self) -> float:
        return float(self.zeros.sum() / max(int(self.sizes.sum()), 1))


@torch.no_grad()
def layer_sparsity(model: nn.Module) -> LayerSparsity:
    """How many weights of each prunable tensor are exactly zero (masked or not)."""
    names, sizes, zeros = [], [], []
    for name, module, param in prunable(model):
        w = getattr(module, param)
        names.append(f"{name}.{param}" if name else param)
        sizes.append(w.numel())
        zeros.append(int((w == 0).sum()))
    return LayerSparsity(tuple(names), np.array(sizes, dtype=np.int64), np.array(zeros, dtype=np.int64))


# ---------------------------------------------------------------------------------------------- sparse storage
@torch.no_grad()
def sparse_state(model: nn.Module, min_sparsity: float = 1 / 32) -> dict[str, torch.Tensor]:
    """The state_dict with every tensor that is at least ``min_sparsity`` zeros stored as ``<name>.values``
    (the non-zeros), ``<name>.bits`` (the packed bit mask) and ``<name>.shape``; other tensors as they are.
    Beyond 1/32 zeros the bit mask costs less than the values it saves."""
    state = finalize(model).state_dict() if is_pruned(model) else model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for name, t in state.items():
        if t.is_floating_point() and t.numel() >= 64 and float((t == 0).float().mean()) >= min_sparsity:
            mask = (t != 0).flatten()
            out[f"{name}.values"] = t.flatten()[mask].clone()
            out[f"{name}.bits"] = torch.from_numpy(np.packbits(mask.numpy()))
            out[f"{name}.shape"] = torch.tensor(t.shape, dtype=torch.int64)
        else:
            out[name] = t
    return out


def dense_state(sparse: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of :func:`sparse_state`: a plain state_dict to ``load_state_dict``."""
    out: dict[str, torch.Tensor] = {}
    for name, t in sparse.items():
        if name.endswith(".values"):
            base = name[: -len(".values")]
            shape = tuple(sparse[f"{base}.shape"].tolist())
            n = int(np.prod(shape))
            mask = torch.from_numpy(np.unpackbits(sparse[f"{base}.bits"].numpy(), count=n).astype(bool))
            dense = torch.zeros(n, dtype=t.dtype)
            dense[mask] = t
            out[base] = dense.reshape(shape)
        elif not name.endswith((".bits", ".shape")):
            out[name] = t
    return out


@dataclass
class PruneReport:
    """One pruned model: its score on the test set, its sparsity and what it weighs dense and sparse."""

    method: str
    amount: float
    metric: str
    score: float
    sparsity: float  # zeros over all prunable weights
    dense_bytes: int  # torch.save of the plain state_dict (zeros stored as zeros)
    sparse_bytes: int  # torch.save of sparse_state()


def report(model: nn.Module, x: torch.Tensor, y: torch.Tensor, method: str = "", amount: float = 0.0
           ) -> PruneReport:
    plain = finalize(model) if is_pruned(model) else model
    return PruneReport(method, amount, metric_name(y), score(model, x, y), layer_sparsity(model).overall,
                       saved_bytes(plain), saved_bytes(sparse_state(plain)))


@dataclass
class SweepResult:
    """Test score against sparsity for each method: the accuracy-vs-sparsity curve."""

    methods: tuple[str, ...]
    amounts: np.ndarray  # (A,)
    metric: str
    scores: np.ndarray  # (M, A)
    sparsity: np.ndarray  # (M, A) measured zeros over prunable weights
    sparse_bytes: np.ndarray  # (M, A)
    dense_score: float
    dense_bytes: int


def sparsity_sweep(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, methods: tuple[str, ...] = METHODS,
                   amounts: tuple[float, ...] = SWEEP_AMOUNTS) -> SweepResult:
    """Prune ``model`` by each method at each amount (no fine-tuning) and score every copy on ``(x, y)``."""
    shape = (len(methods), len(amounts))
    scores, sparsity, sizes = np.zeros(shape), np.zeros(shape), np.zeros(shape, dtype=np.int64)
    for i, method in enumerate(methods):
        for j, amount in enumerate(amounts):
            r = report(prune_model(model, amount, method), x, y, method, amount)
            scores[i, j], sparsity[i, j], sizes[i, j] = r.score, r.sparsity, r.sparse_bytes
    return SweepResult(tuple(methods), np.asarray(amounts, dtype=np.float64), metric_name(y), scores, sparsity,
                       sizes, score(model, x, y), saved_bytes(model))
