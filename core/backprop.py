"""Forward and backward pass by hand on a tiny 2-2-1 network, every number written out, and the same
numbers from ``torch.autograd`` to show that the chain rule done by hand is exactly what PyTorch does.

Network: inputs x₁, x₂ → two hidden neurons h_j = f(z_j), z_j = w_j1·x₁ + w_j2·x₂ + b_j → one output
ŷ = σ(z_o), z_o = v₁·h₁ + v₂·h₂ + c → loss L(ŷ, y): ½(ŷ − y)² ("MSE") or binary cross-entropy ("CE").
The hand computation uses only Python floats and ``math``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from core.errors import ConfigError
from core.i18n import Message

HIDDEN = ("Sigmoid", "Tanh", "ReLU")
LOSSES = ("MSE", "CE")


@dataclass(frozen=True)
class TinyNet:
    """Weights of the 2-2-1 network; defaults are the classic worked example's numbers."""

    w11: float = 0.15
    w12: float = 0.20
    w21: float = 0.25
    w22: float = 0.30
    b1: float = 0.35
    b2: float = 0.35
    v1: float = 0.40
    v2: float = 0.45
    c: float = 0.60

    PARAMS = ("w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c")

    def as_dict(self) -> dict[str, float]:
        return {p: getattr(self, p) for p in self.PARAMS}


@dataclass(frozen=True)
class Quantity:
    """One number of the computation: its symbol, how it is computed, and its value."""

    key: str
    symbol: str  # plain-text symbol, e.g. "∂L/∂w₁₁"
    formula: str  # plain-text formula with the numbers put in (a ``Message`` where it has words)
    value: float


def _f(name: str, z: float) -> float:
    if name == "Sigmoid":
        return 1 / (1 + math.exp(-z))
    if name == "Tanh":
        return math.tanh(z)
    if name == "ReLU":
        return max(0.0, z)
    raise ConfigError("neurons.errors.hidden", choices=", ".join(HIDDEN), value=name)


def _df(name: str, z: float, h: float) -> tuple[float, str | Message]:
    """f'(z) from the already computed h = f(z), and how it was computed."""
    if name == "Sigmoid":
        return h * (1 - h), f"h(1−h) = {h:.4f}·(1−{h:.4f})"
    if name == "Tanh":
        return 1 - h * h, f"1−h² = 1−{h:.4f}²"
    return (1.0 if z > 0 else 0.0), Message("neurons.formulas.relu_slope", z=z)


def hand_pass(net: TinyNet, x: tuple[float, float], y: float, hidden: str = "Sigmoid",
              loss: str = "MSE") -> tuple[list[Quantity], list[Quantity]]:
    """(forward quantities, backward quantities), all computed with plain floats."""
    if loss not in LOSSES:
        raise ConfigError("neurons.errors.loss", value=loss)
    x1, x2 = x
    n = net
    fwd: list[Quantity] = []
    z1 = n.w11 * x1 + n.w12 * x2 + n.b1
    fwd.append(Quantity("z1", "z₁", f"w₁₁x₁ + w₁₂x₂ + b₁ = {n.w11:g}·{x1:g} + {n.w12:g}·{x2:g} + {n.b1:g}", z1))
    z2 = n.w21 * x1 + n.w22 * x2 + n.b2
    fwd.append(Quantity("z2", "z₂", f"w₂₁x₁ + w₂₂x₂ + b₂ = {n.w21:g}·{x1:g} + {n.w22:g}·{x2:g} + {n.b2:g}", z2))
    h1, h2 = _f(hidden, z1), _f(hidden, z2)
    fname = {"Sigmoid": "σ", "Tanh": "tanh", "ReLU": "ReLU"}[hidden]
    fwd.append(Quantity("h1", "h₁", f"{fname}(z₁) = {fname}({z1:.4f})", h1))
    fwd.append(Quantity("h2", "h₂", f"{fname}(z₂) = {fname}({z2:.4f})", h2))
    zo = n.v1 * h1 + n.v2 * h2 + n.c
    fwd.append(Quantity("zo", "z_o", f"v₁h₁ + v₂h₂ + c = {n.v1:g}·{h1:.4f} + {n.v2:g}·{h2:.4f} + {n.c:g}", zo))
    yhat = 1 / (1 + math.exp(-zo))
    fwd.append(Quantity("yhat", "ŷ", f"σ(z_o) = 1/(1+e^(−{zo:.4f}))", yhat))
    if loss == "MSE":
        value = 0.5 * (yhat - y) ** 2
        fwd.append(Quantity("L", "L", f"½(ŷ − y)² = ½({yhat:.4f} − {y:g})²", value))
    else:
        value = -(y * math.log(yhat) + (1 - y) * math.log(1 - yhat))
        fwd.append(Quantity("L", "L", Message("neurons.formulas.cross_entropy", yhat=yhat, y=y), value))

    bwd: list[Quantity] = []
    if loss == "MSE":
        dl_dy = yhat - y
        bwd.append(Quantity("dL_dyhat", "∂L/∂ŷ", f"ŷ − y = {yhat:.4f} − {y:g}", dl_dy))
    else:
        dl_dy = (yhat - y) / (yhat * (1 - yhat))
        bwd.append(Quantity("dL_dyhat", "∂L/∂ŷ", f"(ŷ − y)/(ŷ(1−ŷ)) = ({yhat:.4f} − {y:g})/({yhat:.4f}·{1 - yhat:.4f})",
                            dl_dy))
    dy_dzo = yhat * (1 - yhat)
    bwd.append(Quantity("dyhat_dzo", "∂ŷ/∂z_o", f"ŷ(1−ŷ) = {yhat:.4f}·{1 - yhat:.4f}", dy_dzo))
    d_zo = dl_dy * dy_dzo
    bwd.append(Quantity("dL_dzo", "∂L/∂z_o", f"∂L/∂ŷ · ∂ŷ/∂z_o = {dl_dy:.4f}·{dy_dzo:.4f}", d_zo))
    bwd.append(Quantity("dL_dv1", "∂L/∂v₁", f"∂L/∂z_o · h₁ = {d_zo:.4f}·{h1:.4f}", d_zo * h1))
    bwd.append(Quantity("dL_dv2", "∂L/∂v₂", f"∂L/∂z_o · h₂ = {d_zo:.4f}·{h2:.4f}", d_zo * h2))
    bwd.append(Quantity("dL_dc", "∂L/∂c", f"∂L/∂z_o · 1 = {d_zo:.4f}", d_zo))
    for j, (v, z, h) in enumerate(((n.v1, z1, h1), (n.v2, z2, h2)), start=1):
        sub = "₁₂"[j - 1]
        d_h = d_zo * v
        bwd.append(Quantity(f"dL_dh{j}", f"∂L/∂h{sub}", f"∂L/∂z_o · v{sub} = {d_zo:.4f}·{v:g}", d_h))
        slope, how = _df(hidden, z, h)
        bwd.append(Quantity(f"dh{j}_dz{j}", f"∂h{sub}/∂z{sub}",
                            Message("neurons.formulas.local_slope", f=fname, sub=sub, how=how), slope))
        d_z = d_h * slope
        bwd.append(Quantity(f"dL_dz{j}", f"∂L/∂z{sub}", f"∂L/∂h{sub} · ∂h{sub}/∂z{sub} = {d_h:.4f}·{slope:.4f}", d_z))
        for k, xk in enumerate((x1, x2), start=1):
            ks = "₁₂"[k - 1]
            bwd.append(Quantity(f"dL_dw{j}{k}", f"∂L/∂w{sub}{ks}", f"∂L/∂z{sub} · x{ks} = {d_z:.4f}·{xk:g}", d_z * xk))
        bwd.append(Quantity(f"dL_db{j}", f"∂L/∂b{sub}", f"∂L/∂z{sub} · 1 = {d_z:.4f}", d_z))
    return fwd, bwd


def autograd_pass(net: TinyNet, x: tuple[float, float], y: float, hidden: str = "Sigmoid",
                  loss: str = "MSE") -> dict[str, float]:
    """The same quantities from PyTorch (float64): forward values, and every gradient via ``autograd``."""
    t = {p: torch.tensor(v, dtype=torch.float64, requires_grad=True) for p, v in net.as_dict().items()}
    x1, x2 = (torch.tensor(v, dtype=torch.float64) for v in x)
    act = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "ReLU": torch.relu}[hidden]
    z1 = t["w11"] * x1 + t["w12"] * x2 + t["b1"]
    z2 = t["w21"] * x1 + t["w22"] * x2 + t["b2"]
    h1, h2 = act(z1), act(z2)
    zo = t["v1"] * h1 + t["v2"] * h2 + t["c"]
    yhat = torch.sigmoid(zo)
    target = torch.tensor(float(y), dtype=torch.float64)
    if loss == "MSE":
        value = 0.5 * (yhat - target) ** 2
    else:
        value = torch.nn.functional.binary_cross_entropy(yhat, target)
    inter = {"z1": z1, "z2": z2, "h1": h1, "h2": h2, "zo": zo, "yhat": yhat}
    for tensor in inter.values():
        tensor.retain_grad()
    value.backward()
    out = {k: float(v.detach()) for k, v in inter.items()} | {"L": float(value.detach())}
    out |= {f"dL_d{k}": float(v.grad) for k, v in inter.items() if k != "yhat"}
    out["dL_dyhat"] = float(yhat.grad)
    out |= {f"dL_d{p}": float(v.grad) for p, v in t.items()}
    # local derivatives, each from autograd on its own small graph
    out["dyhat_dzo"] = _local_grad(torch.sigmoid, float(zo.detach()))
    out["dh1_dz1"] = _local_grad(act, float(z1.detach()))
    out["dh2_dz2"] = _local_grad(act, float(z2.detach()))
    return out


def _local_grad(fn, at: float) -> float:
    z = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(fn(z), z)
    return float(grad)


@dataclass(frozen=True)
class Check:
    """One number of the worked example, by hand and by autograd."""

    phase: str  # "forward" | "backward"
    quantity: Quantity
    autograd: float
    tol: float = 1e-9

    @property
    def difference(self) -> float:
        return abs(self.quantity.value - self.autograd)

    @property
    def agrees(self) -> bool:
        return self.difference <= self.tol * max(1.0, abs(self.autograd))


def checks(net: TinyNet, x: tuple[float, float], y: float, hidden: str = "Sigmoid", loss: str = "MSE",
           tol: float = 1e-9) -> list[Check]:
    """Every forward and backward quantity, by hand and by autograd."""
    fwd, bwd = hand_pass(net, x, y, hidden, loss)
    auto = autograd_pass(net, x, y, hidden, loss)
    return [Check(phase, q, auto[q.key], tol) for phase, items in (("forward", fwd), ("backward", bwd)) for q in items]


def compare(net: TinyNet, x: tuple[float, float], y: float, hidden: str = "Sigmoid", loss: str = "MSE",
            tol: float = 1e-9) -> list[dict]:
    """One row per quantity: by hand, by autograd, their difference and whether they agree."""
    return [{"pass": c.phase, "quantity": c.quantity.symbol, "computed as": c.quantity.formula,
             "by hand": c.quantity.value, "torch.autograd": c.autograd, "|difference|": c.difference,
             "agree": c.agrees} for c in checks(net, x, y, hidden, loss, tol)]


def gradients(net: TinyNet, x: tuple[float, float], y: float, hidden: str = "Sigmoid",
              loss: str = "MSE") -> dict[str, float]:
    """∂L/∂θ for every parameter θ, by hand."""
    _, bwd = hand_pass(net, x, y, hidden, loss)
    values = {q.key: q.value for q in bwd}
    return {p: values[f"dL_d{p}"] for p in TinyNet.PARAMS}


def sgd_step(net: TinyNet, grads: dict[str, float], lr: float) -> TinyNet:
    """θ ← θ − lr · ∂L/∂θ for every parameter."""
    return replace(net, **{p: getattr(net, p) - lr * grads[p] for p in TinyNet.PARAMS})


@dataclass(frozen=True)
class WorkedExample:
    """The whole 2-2-1 example: every number checked against autograd, the gradients, and one SGD step."""

    net: TinyNet
    x: tuple[float, float]
    y: float
    checks: list[Check]
    forward: dict[str, float]  # z1, z2, h1, h2, zo, yhat, L
    grads: dict[str, float]  # ∂L/∂θ per parameter
    lr: float
    loss_after: float  # L after θ ← θ − lr·∂L/∂θ

    @property
    def agreeing(self) -> int:
        return sum(c.agrees for c in self.checks)

    @property
    def worst(self) -> float:
        return max(c.difference for c in self.checks)

    @property
    def loss(self) -> float:
        return self.forward["L"]


def worked_example(net: TinyNet, x: tuple[float, float], y: float, hidden: str = "Sigmoid", loss: str = "MSE",
                   lr: float = 0.5) -> WorkedExample:
    """Forward pass, backward pass, the autograd check and one gradient-descent step with rate ``lr``."""
    if not all(math.isfinite(v) for v in (*net.as_dict().values(), *x, y, lr)):
        raise ConfigError("neurons.errors.not_finite")
    found = checks(net, x, y, hidden, loss)
    forward = {c.quantity.key: c.quantity.value for c in found if c.phase == "forward"}
    grads = {p: next(c.quantity.value for c in found if c.quantity.key == f"dL_d{p}") for p in TinyNet.PARAMS}
    after = hand_pass(sgd_step(net, grads, lr), x, y, hidden, loss)[0][-1].value
    return WorkedExample(net, x, y, found, forward, grads, lr, after)
