"""Convolution filters (kernels) of a CNN as detached NumPy copies, cheap enough to take every few training
steps in the job thread so a page can show them forming live."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.i18n import Message

MAX_OUT = 64  # filters kept per layer
MAX_IN = 32  # input channels kept per filter


@dataclass
class FilterSet:
    """One conv layer's kernels: ``weights`` is ``(out, in, k, k)`` (possibly truncated to the first
    ``MAX_OUT`` × ``MAX_IN``); ``rgb`` when the layer reads an RGB picture directly (shown in colour)."""

    name: str
    weights: np.ndarray
    out_channels: int
    in_channels: int
    rgb: bool

    @property
    def kernel(self) -> int:
        return int(self.weights.shape[-1])

    @property
    def label(self) -> Message:
        """E.g. ``conv1 · 16 filters of 1×3×3`` (a ``Message``: English, translated where shown)."""
        return Message("vision.viz.filters_label", layer=self.name.removeprefix("features."), n=self.out_channels,
                       cin=self.in_channels, k=self.kernel)


def conv_layers(model: nn.Module, *, min_kernel: int = 2) -> list[tuple[str, nn.Conv2d]]:
    """Named conv layers in forward order (1×1 shortcut convs left out by default)."""
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, nn.Conv2d) and m.kernel_size[0] >= min_kernel]


@torch.no_grad()
def conv_filters(model: nn.Module) -> list[FilterSet]:
    """Copies of every conv layer's kernels; the first layer is flagged ``rgb`` when it reads 3 channels."""
    result = []
    for i, (name, conv) in enumerate(conv_layers(model)):
        w = conv.weight.detach()[:MAX_OUT, :MAX_IN].float().cpu().numpy().copy()
        result.append(FilterSet(name, w, conv.out_channels, conv.in_channels, rgb=i == 0 and conv.in_channels == 3))
    return result
