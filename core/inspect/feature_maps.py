"""Feature maps, CNN-Explainer style: the output of every layer of the feature extractor (conv, batch
norm, activation, pooling, residual sum) for one image, collected with forward hooks, plus the class
probabilities at the end."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.models.cnn import ConvNet, layer_table


@dataclass
class FeatureMap:
    """One layer's output for one image: ``values`` is ``(C, H, W)``."""

    name: str
    kind: str
    detail: str
    values: np.ndarray

    @property
    def label(self) -> str:
        return self.name.split(".", 1)[-1]


@dataclass
class FeatureFlow:
    """Input → every feature layer → class probabilities, for one image."""

    maps: list[FeatureMap]
    logits: np.ndarray
    probs: np.ndarray


def feature_layers(model: ConvNet) -> list[tuple[str, str, str]]:
    """``(module path, kind, detail)`` of every layer with a spatial output, in forward order."""
    return [(r.name, r.kind, r.detail) for r in layer_table(model.config) if len(r.out_shape) == 3]


@torch.no_grad()
def feature_maps(model: ConvNet, x: torch.Tensor) -> FeatureFlow:
    """Run ``x`` (``(1, C, H, W)``, already normalised) through ``model`` in eval mode and keep each feature
    layer's output via forward hooks; the model's training mode is restored afterwards."""
    if x.dim() == 3:
        x = x[None]
    layers = feature_layers(model)
    captured: dict[str, torch.Tensor] = {}
    hooks = []
    for name, _, _ in layers:
        module: nn.Module = model.get_submodule(name)
        hooks.append(module.register_forward_hook(
            lambda _m, _i, out, name=name: captured.__setitem__(name, out[0].detach().float().cpu().clone())))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        logits = model(x.to(device))[0].float().cpu()
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    maps = [FeatureMap(name, kind, detail, captured[name].numpy()) for name, kind, detail in layers]
    return FeatureFlow(maps, logits.numpy(), torch.softmax(logits, 0).numpy())
