"""Neurons & activations: hand backprop equals autograd, derivative formulas equal autograd, and the
vanishing-gradient and loss demonstrations show what the page claims."""

import math
import random

import numpy as np
import pytest
import torch

from core import backprop, neuron
from core.models.mlp import ACTIVATIONS as MLP_ACTIVATIONS
from core.viz.neurons import (
    activation_figure,
    gradient_depth_figure,
    loss_figure,
    neuron_surface,
    softmax_figure,
    tiny_network_figure,
)


# ---------------------------------------------------------------------------------------------- backprop
def test_classic_worked_example_numbers():
    fwd, bwd = backprop.hand_pass(backprop.TinyNet(), (0.05, 0.10), 0.01, "Sigmoid", "MSE")
    f = {q.key: q.value for q in fwd}
    b = {q.key: q.value for q in bwd}
    assert f["z1"] == pytest.approx(0.3775) and f["h1"] == pytest.approx(0.593269992, abs=1e-9)
    assert f["h2"] == pytest.approx(0.596884378, abs=1e-9)
    assert f["yhat"] == pytest.approx(0.75136507, abs=1e-8)
    assert f["L"] == pytest.approx(0.5 * (0.75136507 - 0.01) ** 2, abs=1e-8)
    assert b["dL_dv1"] == pytest.approx(b["dL_dzo"] * f["h1"])


@pytest.mark.parametrize("hidden", backprop.HIDDEN)
@pytest.mark.parametrize("loss", backprop.LOSSES)
def test_hand_backprop_equals_autograd(hidden, loss):
    rng = random.Random(f"{hidden}{loss}")
    for _ in range(25):
        net = backprop.TinyNet(**{p: rng.uniform(-2, 2) for p in backprop.TinyNet.PARAMS})
        x = (rng.uniform(-3, 3), rng.uniform(-3, 3))
        y = rng.random() if loss == "MSE" else float(rng.random() < 0.5)
        rows = backprop.compare(net, x, y, hidden, loss)
        assert len(rows) == 7 + 18
        assert all(r["agree"] for r in rows), [r for r in rows if not r["agree"]]
        auto = backprop.autograd_pass(net, x, y, hidden, loss)
        grads = backprop.gradients(net, x, y, hidden, loss)
        for p in backprop.TinyNet.PARAMS:
            assert grads[p] == pytest.approx(auto[f"dL_d{p}"], rel=1e-9, abs=1e-12)


def test_hand_gradients_match_finite_differences():
    net, x, y = backprop.TinyNet(), (0.7, -1.2), 0.3
    grads = backprop.gradients(net, x, y, "Tanh", "MSE")
    eps = 1e-6
    for p in backprop.TinyNet.PARAMS:
        up = backprop.hand_pass(backprop.sgd_step(net, {q: -eps * (q == p) for q in grads}, 1.0), x, y, "Tanh")
        down = backprop.hand_pass(backprop.sgd_step(net, {q: eps * (q == p) for q in grads}, 1.0), x, y, "Tanh")
        numeric = (up[0][-1].value - down[0][-1].value) / (2 * eps)
        assert numeric == pytest.approx(grads[p], abs=1e-8)


def test_one_gradient_step_lowers_the_loss():
    net, x, y = backprop.TinyNet(), (0.05, 0.10), 0.01
    before = backprop.hand_pass(net, x, y)[0][-1].value
    after = backprop.hand_pass(backprop.sgd_step(net, backprop.gradients(net, x, y), 0.5), x, y)[0][-1].value
    assert after < before


# ---------------------------------------------------------------------------------------------- activations
@pytest.mark.parametrize("name", list(neuron.ACTIVATIONS))
def test_derivative_formulas_equal_autograd(name):
    z = torch.cat([torch.linspace(-8, 8, 401, dtype=torch.float64), torch.tensor([0.0, 1e-3, -1e-3],
                                                                                 dtype=torch.float64)])
    formula = neuron.ACTIVATIONS[name].derivative(z)
    assert torch.allclose(formula, neuron.autograd_derivative(name, z), atol=1e-12)
    curves = neuron.activation_curves(name)
    assert np.allclose(curves["df"], curves["df_autograd"], atol=1e-12)


@pytest.mark.parametrize("name", list(neuron.ACTIVATIONS))
def test_activations_match_the_network_builders_modules(name):
    z = torch.linspace(-5, 5, 101)
    assert torch.allclose(neuron.ACTIVATIONS[name].fn(z), MLP_ACTIVATIONS[name]()(z), atol=1e-5)


def test_sigmoid_slope_is_at_most_a_quarter():
    z = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    assert float(neuron.ACTIVATIONS["Sigmoid"].derivative(z).max()) == pytest.approx(0.25)


def test_softmax_and_its_jacobian():
    z = torch.tensor([2.0, 1.0, 0.1, -1.0], dtype=torch.float64)
    s = neuron.softmax(z)
    assert torch.allclose(s, torch.softmax(z, 0)) and float(s.sum()) == pytest.approx(1.0)
    jac = neuron.softmax_jacobian(z)
    assert torch.allclose(jac, neuron.softmax_jacobian_autograd(z), atol=1e-14)
    assert torch.allclose(jac.sum(dim=0), torch.zeros(4, dtype=torch.float64), atol=1e-15)
    big = neuron.softmax(torch.tensor([1000.0, 999.0], dtype=torch.float64))  # no overflow
    assert torch.isfinite(big).all() and float(big[0]) == pytest.approx(1 / (1 + math.exp(-1)))


def test_neuron_surface_is_the_formula():
    axis, values = neuron.neuron_surface(1.5, -0.5, 0.25, "Tanh", n=21)
    i, j = 3, 17  # row = x₂ index, column = x₁ index
    assert values[i, j] == pytest.approx(math.tanh(1.5 * axis[j] - 0.5 * axis[i] + 0.25))


# ---------------------------------------------------------------------------------------------- depth, losses
def test_gradients_vanish_through_sigmoids_but_not_relus():
    sigmoid = neuron.gradient_through_stack("Sigmoid", 20)
    relu = neuron.gradient_through_stack("ReLU", 20)
    assert sigmoid[0] / sigmoid[-1] < 1e-8
    assert 0.1 < relu[0] / relu[-1] < 10
    assert np.all(np.diff(np.log(sigmoid)) > 0)  # shrinks at every layer going back


@pytest.mark.parametrize("y", [0, 1])
def test_loss_gradients_equal_autograd_and_cross_entropy_pushes_harder_when_wrong(y):
    for z in np.linspace(-7, 7, 29):
        mine, auto = neuron.binary_losses(float(z), y), neuron.binary_losses_autograd(float(z), y)
        for key, value in mine.items():
            assert value == pytest.approx(auto[key], rel=1e-9, abs=1e-12), key
    wrong = -6.0 if y == 1 else 6.0
    losses = neuron.binary_losses(wrong, y)
    assert abs(losses["dce_dz"]) > 0.99 and abs(losses["dmse_dz"]) < 0.01


def test_figures_build():
    axis, values = neuron.neuron_surface(1, 1, 0, "ReLU")
    neuron_surface(axis, values, 1, 1, 0, "ReLU")
    neuron_surface(axis, values, 1, 0, 0.5, "ReLU")  # vertical boundary
    activation_figure({n: neuron.activation_curves(n) for n in neuron.ACTIVATIONS})
    z = torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
    softmax_figure(z.numpy(), neuron.softmax(z).numpy(), neuron.softmax_jacobian(z).numpy())
    gradient_depth_figure({"Sigmoid": neuron.gradient_through_stack("Sigmoid", 5)}, bound=0.25 ** np.arange(5))
    loss_figure(neuron.loss_curves(1), 0.3, 1)
    net, x = backprop.TinyNet(), (0.05, 0.1)
    fwd = {q.key: q.value for q in backprop.hand_pass(net, x, 0.01)[0]}
    fig = tiny_network_figure(fwd, backprop.gradients(net, x, 0.01), net.as_dict(), x)
    assert len(fig.layout.annotations) == 6 + 5
