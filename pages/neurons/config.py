"""Every setting of the Neurons & activations page, declared once: the open section, the one neuron, the
activations compared, the depth of the sigmoid-vs-ReLU stack, the numbers of the 2-2-1 worked example and the
loss comparison. The whole page state is in the URL.

The page trains nothing (no job, no trainer), so its settings live with the page rather than in ``core/labs``;
the core functions it calls (``core.neuron``, ``core.backprop``) take plain numbers and work without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.backprop import HIDDEN, LOSSES, TinyNet
from core.config import LabConfig, setting
from core.neuron import ACTIVATIONS

SECTIONS = ("neuron", "activations", "depth", "backprop", "losses")
LEARNING_RATES = (0.01, 0.1, 0.5, 1.0, 2.0, 5.0)
NAMES = tuple(ACTIVATIONS)
_NET = TinyNet()


def _weight(default: float, key: str) -> float:
    return setting(default, key=key, low=-5.0, high=5.0, digits=3)


@dataclass(frozen=True)
class Config(LabConfig):
    LAB: ClassVar[str] = "neurons"

    section: str = setting("neuron", key="tab", choices=SECTIONS)
    # one neuron
    w1: float = setting(1.0, key="w1", low=-3.0, high=3.0, digits=1)
    w2: float = setting(-0.5, key="w2", low=-3.0, high=3.0, digits=1)
    b: float = setting(0.5, key="b", low=-6.0, high=6.0, digits=1)
    activation: str = setting("Sigmoid", key="f", choices=NAMES)
    # activation functions and softmax
    activations: tuple[str, ...] = setting(("Sigmoid", "Tanh", "ReLU", "GELU"), key="acts", choices=NAMES)
    z1: float = setting(2.0, key="z1", low=-10.0, high=10.0, digits=2)
    z2: float = setting(1.0, key="z2", low=-10.0, high=10.0, digits=2)
    z3: float = setting(0.1, key="z3", low=-10.0, high=10.0, digits=2)
    z4: float = setting(-1.0, key="z4", low=-10.0, high=10.0, digits=2)
    # vanishing gradients
    depth: int = setting(15, key="depth", low=2, high=40)
    stack: tuple[str, ...] = setting(("Sigmoid", "Tanh", "ReLU"), key="stack", choices=NAMES)
    seed: int = setting(0, key="seed", low=0, high=10_000)
    # the 2-2-1 network, by hand
    w11: float = _weight(_NET.w11, "w11")
    w12: float = _weight(_NET.w12, "w12")
    w21: float = _weight(_NET.w21, "w21")
    w22: float = _weight(_NET.w22, "w22")
    b1: float = _weight(_NET.b1, "b1")
    b2: float = _weight(_NET.b2, "b2")
    v1: float = _weight(_NET.v1, "v1")
    v2: float = _weight(_NET.v2, "v2")
    c: float = _weight(_NET.c, "c")
    x1: float = setting(0.05, key="x1", low=-5.0, high=5.0, digits=3)
    x2: float = setting(0.10, key="x2", low=-5.0, high=5.0, digits=3)
    y: float = setting(0.01, key="y", low=0.0, high=1.0, digits=3)
    hidden: str = setting("Sigmoid", key="hidden", choices=HIDDEN)
    loss: str = setting("MSE", key="loss", choices=LOSSES)
    lr: float = setting(0.5, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES)
    # MSE versus cross-entropy
    logit: float = setting(-4.0, key="z", low=-8.0, high=8.0, digits=1)
    target: int = setting(1, key="target", low=0, high=1)

    @property
    def net(self) -> TinyNet:
        return TinyNet(**{p: getattr(self, p) for p in TinyNet.PARAMS})

    @property
    def logits(self) -> tuple[float, float, float, float]:
        return self.z1, self.z2, self.z3, self.z4
