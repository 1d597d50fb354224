"""What a 2-D network computes, as detached numpy copies: the output over the input plane, every
neuron's output over the plane, the weights and biases, and the current train/test numbers.

``network_view`` runs in the training thread (through the trainer's ``snapshot()`` hook), so the page
only ever draws copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.data.planar import EXTENT, grid, transform
from core.models.mlp import MLP


@dataclass
class NetworkView:
    """One picture of the network at ``step``.

    ``surface`` is the display output on a ``len(axis)²`` grid (rows = x₂ from bottom to top), in [-1, 1]:
    ``2·p(blue) − 1`` for classification, the prediction for regression. ``neurons[c]`` holds column ``c``
    of the diagram (input features, each hidden layer, the output), shape (neurons, g, g) on the coarser
    ``neuron_axis``. ``weights[l]`` has shape (out, in) like ``nn.Linear``.
    """

    step: int
    problem: str
    features: tuple[str, ...]
    axis: np.ndarray
    surface: np.ndarray
    neuron_axis: np.ndarray
    neurons: list[np.ndarray]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    metrics: dict[str, float] = field(default_factory=dict)
    state_dict: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def widths(self) -> list[int]:
        return [len(n) for n in self.neurons]


def display_output(z: torch.Tensor, problem: str) -> torch.Tensor:
    """The output neuron as drawn: ``tanh(z/2) = 2σ(z) − 1`` for classification, ``z`` for regression."""
    return torch.tanh(z / 2) if problem == "classification" else z


@torch.no_grad()
def set_metrics(model: MLP, loss_fn, x: torch.Tensor, y: torch.Tensor, classification: bool) -> dict[str, float]:
    """Loss (and accuracy) of ``model`` on a whole set, in eval mode (no dropout)."""
    out = model(x)
    result = {"loss": float(loss_fn(out, y))}
    if classification:
        result["accuracy"] = float((out.argmax(dim=1) == y).float().mean())
    return result


@torch.no_grad()
def network_view(model: MLP, features: tuple[str, ...], problem: str, *, step: int,
                 metrics: dict[str, float] | None = None, resolution: int = 79, neuron_stride: int = 3,
                 extent: float = EXTENT) -> NetworkView:
    """Evaluate ``model`` on a grid over the plane and copy out everything the page draws."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    axis, points = grid(resolution, extent)
    inputs = transform(points, features).to(device)
    outs = model.forward_all(inputs)
    model.train(was_training)

    def planes(t: torch.Tensor) -> np.ndarray:  # (points, k) -> (k, g, g) on the coarse grid
        full = t.detach().cpu().T.reshape(-1, resolution, resolution)
        return full[:, ::neuron_stride, ::neuron_stride].numpy().astype(np.float32)

    shown = display_output(outs[-1], problem)
    surface = shown[:, 0].cpu().reshape(resolution, resolution).numpy().astype(np.float32)
    neurons = [planes(inputs)] + [planes(o) for o in outs[:-1]] + [planes(shown)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return NetworkView(
        step=step,
        problem=problem,
        features=tuple(features),
        axis=axis,
        surface=surface,
        neuron_axis=axis[::neuron_stride],
        neurons=neurons,
        weights=[m.weight.detach().cpu().numpy().copy() for m in linears],
        biases=[m.bias.detach().cpu().numpy().copy() for m in linears],
        metrics=dict(metrics or {}),
        state_dict={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    )
