"""One neuron, activation functions with their derivatives, gradient flow through deep stacks, and the
two classic losses — the maths behind the Neurons & activations page.

Each section of the page has one function here that returns a typed result: :func:`one_neuron`,
:func:`check_activations`, :func:`softmax_check`, :func:`vanishing_gradients`, :func:`loss_check`. The activation
functions themselves are the network builder's (``core.models.mlp.ACTIVATIONS``); this module adds their
derivatives in closed form, and every closed-form derivative is checked against ``torch.autograd``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.errors import ConfigError
from core.i18n import Message
from core.models.mlp import ACTIVATIONS as MODULES

LEAKY_SLOPE: float = MODULES["LeakyReLU"]().negative_slope  # the network builder's LeakyReLU
MAX_DEPTH = 100


def _phi(z: Tensor) -> Tensor:  # standard normal density
    return torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _Phi(z: Tensor) -> Tensor:  # standard normal CDF
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


@dataclass(frozen=True)
class Activation:
    """An activation ``fn`` (the network builder's module), its derivative in closed form, how to write both, and
    what to know about it (``note``, a catalogue text)."""

    name: str
    fn: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    formula: str  # LaTeX
    derivative_formula: str  # LaTeX
    note: Message


# name → (derivative, LaTeX of f, LaTeX of f′), in the order the page lists them
_DERIVATIVES: dict[str, tuple[Callable[[Tensor], Tensor], str, str]] = {
    "Sigmoid": (lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
                r"\sigma(z)=\frac{1}{1+e^{-z}}", r"\sigma'(z)=\sigma(z)\,(1-\sigma(z))"),
    "Tanh": (lambda z: 1 - torch.tanh(z) ** 2,
             r"\tanh(z)=\frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}", r"\tanh'(z)=1-\tanh^2(z)"),
    "ReLU": (lambda z: (z > 0).to(z.dtype),
             r"\mathrm{ReLU}(z)=\max(0,z)", r"\mathrm{ReLU}'(z)=\begin{cases}1&z>0\\0&z\le 0\end{cases}"),
    "LeakyReLU": (lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE)),
                  rf"\mathrm{{LeakyReLU}}(z)=\max({LEAKY_SLOPE:g}z,\,z)",
                  rf"\mathrm{{LeakyReLU}}'(z)=\begin{{cases}}1&z>0\\{LEAKY_SLOPE:g}&z\le 0\end{{cases}}"),
    "GELU": (lambda z: _Phi(z) + z * _phi(z),
             r"\mathrm{GELU}(z)=z\,\Phi(z)", r"\mathrm{GELU}'(z)=\Phi(z)+z\,\varphi(z)"),
    "Linear": (torch.ones_like, r"f(z)=z", r"f'(z)=1"),
}

ACTIVATIONS: dict[str, Activation] = {
    name: Activation(name, MODULES[name](), derivative, formula, slope,
                     Message(f"neurons.notes.{name}", slope=LEAKY_SLOPE))
    for name, (derivative, formula, slope) in _DERIVATIVES.items()
}


def get_activation(name: str) -> Activation:
    if name not in ACTIVATIONS:
        raise ConfigError("neurons.errors.activation", value=name, choices=", ".join(ACTIVATIONS))
    return ACTIVATIONS[name]


def autograd_derivative(name: str, z: Tensor) -> Tensor:
    """d activation / dz at every point of ``z``, computed by ``torch.autograd``."""
    z = z.detach().clone().requires_grad_(True)
    get_activation(name).fn(z).sum().backward()
    return z.grad.detach()


def activation_curves(name: str, lo: float = -6.0, hi: float = 6.0, n: int = 241) -> dict[str, np.ndarray]:
    """z, f(z), f'(z) by formula and by autograd, on a grid (float64)."""
    z = torch.linspace(lo, hi, n, dtype=torch.float64)
    act = get_activation(name)
    with torch.no_grad():
        f, df = act.fn(z).numpy(), act.derivative(z).numpy()
    return {"z": z.numpy(), "f": f, "df": df, "df_autograd": autograd_derivative(name, z).numpy()}


@dataclass(frozen=True)
class ActivationCheck:
    """One activation's curves and how far its derivative formula is from autograd."""

    name: str
    curves: dict[str, np.ndarray]  # z, f, df, df_autograd
    slope_low: float
    slope_high: float
    gap: float  # max |formula − autograd| over the grid

    @property
    def agrees(self) -> bool:
        return self.gap < 1e-9


def check_activations(names: Sequence[str]) -> list[ActivationCheck]:
    """Curves and the formula-versus-autograd check of every activation in ``names``."""
    out = []
    for name in names:
        c = activation_curves(name)
        out.append(ActivationCheck(name, c, float(c["df"].min()), float(c["df"].max()),
                                   float(np.abs(c["df"] - c["df_autograd"]).max())))
    return out


# ---------------------------------------------------------------------------------------------- softmax
def softmax(z: Tensor) -> Tensor:
    """exp(z) / Σ exp(z), computed stably (subtract the max)."""
    e = torch.exp(z - z.max())
    return e / e.sum()


def softmax_jacobian(z: Tensor) -> Tensor:
    """∂softmax_i/∂z_j = s_i (δ_ij − s_j), i.e. diag(s) − s sᵀ."""
    s = softmax(z)
    return torch.diag(s) - torch.outer(s, s)


def softmax_jacobian_autograd(z: Tensor) -> Tensor:
    return torch.autograd.functional.jacobian(softmax, z.detach())


@dataclass(frozen=True)
class SoftmaxCheck:
    """Logits, their softmax, its Jacobian by formula, and the largest difference to autograd's Jacobian."""

    logits: np.ndarray
    probs: np.ndarray
    jacobian: np.ndarray
    gap: float

    @property
    def agrees(self) -> bool:
        return self.gap < 1e-12


def softmax_check(logits: Sequence[float]) -> SoftmaxCheck:
    z = torch.tensor(list(logits), dtype=torch.float64)
    jac = softmax_jacobian(z)
    gap = float((jac - softmax_jacobian_autograd(z)).abs().max())
    return SoftmaxCheck(z.numpy(), softmax(z).numpy(), jac.numpy(), gap)


# ---------------------------------------------------------------------------------------------- one neuron
def neuron(w1: float, w2: float, b: float, activation: str, x1: Tensor, x2: Tensor) -> Tensor:
    """a = f(w₁x₁ + w₂x₂ + b)."""
    with torch.no_grad():
        return get_activation(activation).fn(w1 * x1 + w2 * x2 + b)


def neuron_surface(w1: float, w2: float, b: float, activation: str, *, extent: float = 6.0,
                   n: int = 81) -> tuple[np.ndarray, np.ndarray]:
    """Axis values and the neuron's output on an n×n grid (rows = x₂ from bottom to top)."""
    axis = torch.linspace(-extent, extent, n, dtype=torch.float64)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    return axis.numpy(), neuron(w1, w2, b, activation, x1, x2).numpy()


@dataclass(frozen=True)
class NeuronOutput:
    """The neuron's output over the plane and at one point."""

    w1: float
    w2: float
    b: float
    activation: str
    axis: np.ndarray
    values: np.ndarray  # (n, n), rows = x₂
    point: tuple[float, float]
    z: float  # w·point + b
    a: float  # f(z)


def one_neuron(w1: float, w2: float, b: float, activation: str, point: tuple[float, float] = (2.0, 1.0)
               ) -> NeuronOutput:
    axis, values = neuron_surface(w1, w2, b, activation)
    z = w1 * point[0] + w2 * point[1] + b
    a = float(neuron(w1, w2, b, activation, torch.tensor(float(point[0])), torch.tensor(float(point[1]))))
    return NeuronOutput(w1, w2, b, activation, axis, values, point, z, a)


# ---------------------------------------------------------------------------------------------- depth
def gradient_through_stack(activation: str, depth: int, *, width: int = 32, batch: int = 256,
                           seed: int = 0) -> np.ndarray:
    """Mean gradient norm ‖∂L/∂h_l‖ at the output of every layer l = 1..depth of a deep stack.

    The stack is ``depth`` layers of Linear(width, width) + activation, each initialised as the activation
    wants (Glorot for Sigmoid/Tanh/Linear, He for the ReLU family and GELU); the loss is the mean of the last
    layer's outputs. Small values near layer 1 are the vanishing gradient.
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise ConfigError("neurons.errors.depth", high=MAX_DEPTH, value=depth)
    act = get_activation(activation)
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=gen, dtype=torch.float64).requires_grad_(True)
    he = activation in ("ReLU", "LeakyReLU", "GELU")
    outs = []
    for _ in range(int(depth)):
        std = math.sqrt(2.0 / width) if he else math.sqrt(1.0 / width)
        weight = torch.randn(width, width, generator=gen, dtype=torch.float64) * std
        h = act.fn(h @ weight.T)
        h.retain_grad()
        outs.append(h)
    h.mean().backward()
    return np.array([float(o.grad.norm(dim=1).mean()) for o in outs])


@dataclass(frozen=True)
class DepthCheck:
    """Gradient norms per layer for each activation, and the 0.25ⁿ bound of a sigmoid stack (when shown)."""

    depth: int
    norms: dict[str, np.ndarray]
    bound: np.ndarray | None

    def ratio(self, name: str) -> float:
        """First layer's gradient norm over the last one's: ≪ 1 means the gradient vanished."""
        values = self.norms[name]
        return float(values[0] / values[-1])


def vanishing_gradients(names: Sequence[str], depth: int, seed: int = 0) -> DepthCheck:
    norms = {name: gradient_through_stack(name, depth, seed=seed) for name in names}
    bound = norms["Sigmoid"][-1] * 0.25 ** np.arange(depth - 1, -1, -1) if "Sigmoid" in norms else None
    return DepthCheck(int(depth), norms, bound)


# ---------------------------------------------------------------------------------------------- losses
def binary_losses(z: float, y: int) -> dict[str, float]:
    """MSE and cross-entropy of the prediction p = σ(z) for target y ∈ {0, 1}, with gradients by formula.

    MSE = (p − y)²: ∂/∂p = 2(p − y), ∂/∂z = 2(p − y)·p(1 − p) — vanishes when p saturates, even if wrong.
    CE = −[y log p + (1 − y) log(1 − p)]: ∂/∂p = (p − y)/(p(1 − p)), ∂/∂z = p − y.
    """
    p = 1 / (1 + math.exp(-z))
    return {
        "p": p,
        "mse": (p - y) ** 2,
        "ce": -(y * math.log(p) + (1 - y) * math.log(1 - p)),
        "dmse_dp": 2 * (p - y),
        "dce_dp": (p - y) / (p * (1 - p)),
        "dmse_dz": 2 * (p - y) * p * (1 - p),
        "dce_dz": p - y,
    }


def binary_losses_autograd(z: float, y: int) -> dict[str, float]:
    """The same numbers as ``binary_losses``, with the gradients from ``torch.autograd``."""
    out = {}
    for name, loss_of in (("mse", lambda p: (p - y) ** 2),
                          ("ce", lambda p: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)))):
        zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        p = torch.sigmoid(zt)
        p.retain_grad()
        loss = loss_of(p)
        loss.backward()
        out.update({"p": float(p.detach()), name: float(loss.detach()), f"d{name}_dp": float(p.grad),
                    f"d{name}_dz": float(zt.grad)})
    return out


def loss_curves(y: int, n: int = 199) -> dict[str, np.ndarray]:
    """Both losses and their gradients w.r.t. the logit z, against the predicted probability p."""
    p = np.linspace(0.005, 0.995, n)
    return {"p": p, "mse": (p - y) ** 2, "ce": -(y * np.log(p) + (1 - y) * np.log(1 - p)),
            "dmse_dz": 2 * (p - y) * p * (1 - p), "dce_dz": p - y}


@dataclass(frozen=True)
class LossCheck:
    """Both losses at one logit, by formula and by autograd, and their curves over p."""

    z: float
    y: int
    formula: dict[str, float]  # p, mse, ce, dmse_dp, dce_dp, dmse_dz, dce_dz
    autograd: dict[str, float]
    curves: dict[str, np.ndarray]

    def gap(self, key: str) -> float:
        return abs(self.formula[key] - self.autograd[key])


def loss_check(z: float, y: int) -> LossCheck:
    if y not in (0, 1):
        raise ConfigError("neurons.errors.target", value=y)
    return LossCheck(float(z), int(y), binary_losses(z, y), binary_losses_autograd(z, y), loss_curves(y))
