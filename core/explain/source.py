"""What a lab hands to the Explain page (and the compression page): a detached copy of a trained model with
everything needed to feed it and read its answers."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from core.data.images import ImageDataset
from core.i18n import Message

from .methods import InputSpec


@dataclass
class Explainable:
    """A trained model ready to explain, compress or export; ``model`` is a private CPU copy in eval mode.

    ``kind`` says how inputs are shown: ``"image"`` (C×H×W pictures; ``dataset`` converts drawings and uploads),
    ``"features"`` (a table of named numbers; ``x_train`` is the training table) or ``"grid"`` (a 2-D array such
    as a spectrogram, drawn as a heatmap).
    """

    lab: str
    kind: str
    model: nn.Module
    spec: InputSpec
    x_test: torch.Tensor
    y_test: torch.Tensor
    description: Message
    dataset: ImageDataset | None = None
    x_train: torch.Tensor | None = None  # the training inputs (fine-tuning, distillation, calibration)
    y_train: torch.Tensor | None = None
    binary: bool = False  # a two-class model with one score z: output (N, 1), or the logits [0, z] (network builder)
    card: dict[str, Any] = field(default_factory=dict)  # the JSON model card: lab, settings, metrics
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def class_names(self) -> list[str]:
        return self.spec.class_names

    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def size_bytes(self) -> int:
        """Bytes of the weights and buffers (float32 unless quantized)."""
        tensors = list(self.model.state_dict().values())
        return sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))

    def display(self, x: torch.Tensor) -> np.ndarray:
        """An input as (H, W[, C]) values in 0..1 for drawing."""
        if self.dataset is None:
            lo, hi = np.asarray(self.spec.low, dtype=np.float32), np.asarray(self.spec.high, dtype=np.float32)
            if lo.ndim == 1 and x.ndim == 2:  # one range per row
                lo, hi = lo[:, None], hi[:, None]
            return np.clip((x.numpy() - lo) / np.maximum(hi - lo, 1e-6), 0, 1)
        return self.dataset.raw(x.reshape(1, *self.spec.shape))[0].permute(1, 2, 0).squeeze(-1).numpy()


def private_copy(model: nn.Module) -> nn.Module:
    """A deep copy on the CPU in eval mode: explaining it never touches the model that trains."""
    return copy.deepcopy(model).cpu().eval()
