"""Fully connected networks for the 2-D playground: 0–6 hidden layers of 1–8 neurons.

The model keeps every layer reachable (``forward_all``) so the inspector can draw each neuron's output
over the input plane. For two-class problems the network has ONE output neuron ``z``; ``forward`` returns
the logits ``[0, z]`` so that softmax cross-entropy equals logistic loss on ``z`` and ``argmax`` is
``z > 0`` — the shared trainer's loss and accuracy work unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from core.errors import ConfigError
from core.models import MODELS

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "ReLU": nn.ReLU,
    "Tanh": nn.Tanh,
    "Sigmoid": nn.Sigmoid,
    "Linear": nn.Identity,
    "LeakyReLU": lambda: nn.LeakyReLU(0.1),
    "GELU": nn.GELU,
}
MAX_LAYERS, MAX_NEURONS = 6, 8


@dataclass(frozen=True)
class MLPSpec:
    """Architecture: ``n_inputs`` → hidden widths → ``n_outputs``: 1 for binary (``binary=True``: logits
    ``[0, z]``) and for regression; one per class for more than two classes (``binary=False``: softmax logits)."""

    n_inputs: int
    hidden: tuple[int, ...] = field(default=(4, 2))
    activation: str = "Tanh"
    dropout: float = 0.0
    n_outputs: int = 1
    binary: bool = True

    def validate(self) -> None:
        if not 1 <= self.n_inputs <= 64:
            raise ConfigError("planar.errors.inputs", value=self.n_inputs)
        if len(self.hidden) > MAX_LAYERS:
            raise ConfigError("planar.errors.layers", n=MAX_LAYERS, count=len(self.hidden))
        if any(not 1 <= w <= MAX_NEURONS for w in self.hidden):
            raise ConfigError("planar.errors.neurons", low=1, high=MAX_NEURONS, value=list(self.hidden))
        if self.activation not in ACTIVATIONS:
            raise ConfigError("planar.errors.activation", value=self.activation, choices=", ".join(ACTIVATIONS))
        if not 0 <= self.dropout < 1:
            raise ConfigError("planar.errors.dropout", value=self.dropout)
        if not 1 <= self.n_outputs <= 50 or (self.binary and self.n_outputs != 1):
            raise ConfigError("planar.errors.outputs", value=self.n_outputs)

    @property
    def widths(self) -> list[int]:
        return [self.n_inputs, *self.hidden, self.n_outputs]

    def parameter_count(self) -> int:
        """Weights plus biases, from the widths alone."""
        w = self.widths
        return sum(a * b + b for a, b in zip(w[:-1], w[1:], strict=True))


class MLP(nn.Module):
    """Linear → activation → dropout per hidden layer, then a linear output layer."""

    def __init__(self, spec: MLPSpec) -> None:
        super().__init__()
        spec.validate()
        self.spec = spec
        w = spec.widths
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(w[:-1], w[1:], strict=True))
        self.act = ACTIVATIONS[spec.activation]()
        self.drop = nn.Dropout(spec.dropout) if spec.dropout else nn.Identity()

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output: each hidden layer after its activation, then the raw output ``z``."""
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.act(x)
                outs.append(x)
                x = self.drop(x)
            else:
                outs.append(x)
        return outs

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The output neuron(s) ``z`` without the binary logit padding."""
        return self.forward_all(x)[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.raw(x)
        if self.spec.binary:
            return torch.cat([torch.zeros_like(z), z], dim=1)
        return z


@MODELS.register("mlp", family="planar", description="Fully connected network for 2-D inputs (0–6 × 1–8).")
def build_mlp(spec: MLPSpec) -> MLP:
    """The network for ``spec`` (PyTorch's default initialisation, drawn from torch's global generator)."""
    return MLP(spec)


class WeightPenalty:
    """L1 (``rate·Σ|w|``) or L2 (``rate·½Σw²``) on the weights — not the biases, as in TF Playground.

    ``rate`` may be changed while training runs (the page does so between two steps).
    """

    def __init__(self, kind: str, rate: float) -> None:
        if kind not in ("L1", "L2"):
            raise ConfigError("planar.errors.regularization", value=kind)
        self.kind, self.rate = kind, rate

    def __call__(self, model: nn.Module) -> torch.Tensor:
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        if self.kind == "L1":
            total = sum(w.abs().sum() for w in weights)
        else:
            total = 0.5 * sum((w * w).sum() for w in weights)
        return self.rate * total


def weight_penalty(kind: str, rate: float) -> WeightPenalty | None:
    """The penalty for ``kind`` ("none", "L1", "L2"), or None for none."""
    return None if kind == "none" else WeightPenalty(kind, rate)
