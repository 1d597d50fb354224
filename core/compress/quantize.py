"""Post-training int8 quantization on the CPU, and the table that says what it costs and what it saves.

- **Dynamic** (``torch.ao.quantization.quantize_dynamic``): ``Linear``, ``LSTM`` and ``GRU`` weights are stored as
  int8; activations are quantized on the fly, batch by batch. No calibration; works for MLPs and recurrent nets.
- **Static** (FX graph mode: ``torch.ao.quantization.quantize_fx.prepare_fx`` / ``convert_fx`` with the default
  qconfig mapping of the current quantized engine, ``x86`` here): the model is traced, conv + batch norm + ReLU
  are fused, observers record activation ranges on calibration inputs, then every conv and linear layer runs in
  int8 end to end. Used for CNNs.

Why this path on torch 2.13: the PT2E flow (``prepare_pt2e``) now lives in the separate ``torchao`` package,
which is not installed; eager-mode static quantization needs ``QuantStub`` / ``DeQuantStub`` written into each
model and hand-listed fusions, which the labs' models do not have. FX traces the labs' models as they are.
``torch.ao.quantization`` warns that it is deprecated; the warnings are silenced here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.errors import DataError

from .measure import latency_s, metric_name, quiet, saved_bytes, score
from .prune import finalize, is_pruned

VARIANTS = ("float32", "dynamic_int8", "static_int8")
DYNAMIC_TYPES = (nn.Linear, nn.LSTM, nn.GRU)
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _plain(model: nn.Module) -> nn.Module:
    return (finalize(model) if is_pruned(model) else copy.deepcopy(model)).cpu().eval()


def engine() -> str:
    """The quantized kernel library torch uses on this CPU (``x86``, ``fbgemm``, ``qnnpack`` …)."""
    return torch.backends.quantized.engine


def can_dynamic(model: nn.Module) -> bool:
    return any(isinstance(m, DYNAMIC_TYPES) for m in model.modules())


def can_static(model: nn.Module) -> bool:
    return any(isinstance(m, _CONV) for m in model.modules())


def quantize_dynamic(model: nn.Module) -> nn.Module:
    """An int8 copy: ``Linear`` / ``LSTM`` / ``GRU`` weights quantized, activations quantized per batch."""
    if not can_dynamic(model):
        raise DataError("compress.errors.nothing_dynamic", model=type(model).__name__)
    with quiet():
        return torch.ao.quantization.quantize_dynamic(_plain(model), set(DYNAMIC_TYPES), dtype=torch.qint8)


@torch.no_grad()
def quantize_static(model: nn.Module, calibration: torch.Tensor, batch_size: int = 64) -> nn.Module:
    """An int8 copy through FX graph mode, calibrated on ``calibration`` inputs (a few hundred training
    examples)."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    if not can_static(model):
        raise DataError("compress.errors.static_needs_conv", model=type(model).__name__)
    if len(calibration) == 0:
        raise DataError("compress.errors.no_calibration")
    plain = _plain(model)
    with quiet():
        try:
            prepared = prepare_fx(plain, get_default_qconfig_mapping(engine()), (calibration[:1],))
        except Exception as exc:  # symbolic tracing fails on data-dependent Python control flow
            raise DataError("compress.errors.static_trace", model=type(model).__name__, detail=str(exc)[:200]) from exc
        for i in range(0, len(calibration), batch_size):
            prepared(calibration[i:i + batch_size])
        return convert_fx(prepared)


@dataclass
class QuantTable:
    """One row per variant: size on disk, CPU latency of one batch, score on the model's own test set."""

    variants: tuple[str, ...]
    metric: str  # "accuracy" or "mse"
    bytes: np.ndarray  # torch.save(state_dict) bytes
    latency_s: np.ndarray  # median seconds per batch, all timed in the same run
    scores: np.ndarray
    batch: int
    engine: str

    @property
    def size_ratio(self) -> np.ndarray:
        """float32 bytes / variant bytes (3 = three times smaller)."""
        return self.bytes[0] / self.bytes

    @property
    def speedup(self) -> np.ndarray:
        """float32 latency / variant latency (2 = twice as fast)."""
        return self.latency_s[0] / self.latency_s

    @property
    def drop_points(self) -> np.ndarray:
        """Accuracy lost against float32, in percentage points (for mse: the increase)."""
        sign = 100.0 if self.metric == "accuracy" else -1.0
        return (self.scores[0] - self.scores) * sign

    def row(self, variant: str) -> dict[str, float]:
        i = self.variants.index(variant)
        return {"bytes": int(self.bytes[i]), "latency_s": float(self.latency_s[i]), "score": float(self.scores[i]),
                "size_ratio": float(self.size_ratio[i]), "speedup": float(self.speedup[i]),
                "drop_points": float(self.drop_points[i])}


def quantization_table(model: nn.Module, x: torch.Tensor, y: torch.Tensor, calibration: torch.Tensor | None = None,
                       *, batch: int = 64, repeats: int = 15) -> QuantTable:
    """Float32 against every int8 variant that applies (dynamic: any Linear/LSTM/GRU; static: any conv, given
    ``calibration``), timed alternately on the same batch of test inputs."""
    models = {"float32": _plain(model)}
    if can_dynamic(model):
        models["dynamic_int8"] = quantize_dynamic(model)
    if can_static(model) and calibration is not None:
        models["static_int8"] = quantize_static(model, calibration)
    sample = x[:batch]
    times = {name: [] for name in models}
    for _ in range(3):  # interleave so that a burst of load elsewhere hits every variant alike
        for name, m in models.items():
            times[name].append(latency_s(m, sample, repeats))
    names = tuple(models)
    return QuantTable(names, metric_name(y), np.array([saved_bytes(models[n]) for n in names], dtype=np.int64),
                      np.array([min(times[n]) for n in names]), np.array([score(models[n], x, y) for n in names]),
                      len(sample), engine())
