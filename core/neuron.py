"""One neuron, activation functions with their derivatives, gradient flow through deep stacks, and the
two classic losses — the maths behind the Neurons & activations page.

Every closed-form derivative here is checked against ``torch.autograd`` (see ``autograd_derivative``,
``softmax_jacobian_autograd`` and the tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.errors import ConfigError

LEAKY_SLOPE = 0.1  # the same slope as the network builder's LeakyReLU


def _phi(z: Tensor) -> Tensor:  # standard normal density
    return torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _Phi(z: Tensor) -> Tensor:  # standard normal CDF
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


@dataclass(frozen=True)
class Activation:
    """An activation ``fn``, its derivative in closed form, and how to write both."""

    name: str
    fn: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    formula: str  # LaTeX
    derivative_formula: str  # LaTeX
    note: str


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation("Sigmoid", torch.sigmoid, lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
               r"\sigma(z)=\frac{1}{1+e^{-z}}", r"\sigma'(z)=\sigma(z)\,(1-\sigma(z))",
               "Squashes to (0, 1). Its slope is at most 0.25 and nearly 0 once |z| > 5: it saturates."),
    Activation("Tanh", torch.tanh, lambda z: 1 - torch.tanh(z) ** 2,
               r"\tanh(z)=\frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}", r"\tanh'(z)=1-\tanh^2(z)",
               "Squashes to (−1, 1), centred at 0. Slope at most 1, and it saturates like the sigmoid."),
    Activation("ReLU", torch.relu, lambda z: (z > 0).to(z.dtype),
               r"\mathrm{ReLU}(z)=\max(0,z)", r"\mathrm{ReLU}'(z)=\begin{cases}1&z>0\\0&z\le 0\end{cases}",
               "Slope exactly 1 for every positive input, so gradients pass unshrunk; 0 for negative inputs "
               "(a neuron stuck there is 'dead')."),
    Activation("LeakyReLU", lambda z: torch.nn.functional.leaky_relu(z, LEAKY_SLOPE),
               lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE)),
               rf"\mathrm{{LeakyReLU}}(z)=\max({LEAKY_SLOPE}z,\,z)",
               rf"\mathrm{{LeakyReLU}}'(z)=\begin{{cases}}1&z>0\\{LEAKY_SLOPE}&z\le 0\end{{cases}}",
               f"Like ReLU, but negative inputs keep a slope of {LEAKY_SLOPE}, so no neuron dies."),
    Activation("GELU", lambda z: z * _Phi(z), lambda z: _Phi(z) + z * _phi(z),
               r"\mathrm{GELU}(z)=z\,\Phi(z)", r"\mathrm{GELU}'(z)=\Phi(z)+z\,\varphi(z)",
               "A smooth ReLU used by Transformers: Φ is the standard normal CDF, φ its density. Slightly "
               "negative for small negative z."),
    Activation("Linear", lambda z: z, torch.ones_like, r"f(z)=z", r"f'(z)=1",
               "No non-linearity: stacking linear layers is still one linear map."),
)}


def get_activation(name: str) -> Activation:
    if name not in ACTIVATIONS:
        raise ConfigError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")
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
    return {"z": z.numpy(), "f": act.fn(z).numpy(), "df": act.derivative(z).numpy(),
            "df_autograd": autograd_derivative(name, z).numpy()}


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


# ---------------------------------------------------------------------------------------------- one neuron
def neuron(w1: float, w2: float, b: float, activation: str, x1: Tensor, x2: Tensor) -> Tensor:
    """a = f(w₁x₁ + w₂x₂ + b)."""
    return get_activation(activation).fn(w1 * x1 + w2 * x2 + b)


def neuron_surface(w1: float, w2: float, b: float, activation: str, *, extent: float = 6.0,
                   n: int = 81) -> tuple[np.ndarray, np.ndarray]:
    """Axis values and the neuron's output on an n×n grid (rows = x₂ from bottom to top)."""
    axis = torch.linspace(-extent, extent, n, dtype=torch.float64)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    return axis.numpy(), neuron(w1, w2, b, activation, x1, x2).numpy()


# ---------------------------------------------------------------------------------------------- depth
def gradient_through_stack(activation: str, depth: int, *, width: int = 32, batch: int = 256,
                           seed: int = 0) -> np.ndarray:
    """Mean gradient norm ‖∂L/∂h_l‖ at the output of every layer l = 1..depth of a deep stack.

    The stack is ``depth`` layers of Linear(width, width) + activation, each initialised as the activation
    wants (Glorot for Sigmoid/Tanh/Linear, He for the ReLU family and GELU); the loss is the mean of the last
    layer's outputs. Small values near layer 1 are the vanishing gradient.
    """
    if not 1 <= depth <= 100:
        raise ConfigError(f"Depth must be between 1 and 100 (got {depth}).")
    act = get_activation(activation)
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=gen, dtype=torch.float64).requires_grad_(True)
    he = activation in ("ReLU", "LeakyReLU", "GELU")
    outs = []
    for _ in range(depth):
        std = math.sqrt(2.0 / width) if he else math.sqrt(1.0 / width)
        weight = torch.randn(width, width, generator=gen, dtype=torch.float64) * std
        h = act.fn(h @ weight.T)
        h.retain_grad()
        outs.append(h)
    h.mean().backward()
    return np.array([float(o.grad.norm(dim=1).mean()) for o in outs])


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
