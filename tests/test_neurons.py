"""Neurons & activations: hand backprop equals autograd, derivative formulas equal autograd, and the
vanishing-gradient and loss demonstrations show what the page claims."""

import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from core import backprop, neuron
from core.errors import ConfigError
from core.models.mlp import ACTIVATIONS as MLP_ACTIVATIONS
from core.viz.neurons import (
    activation_figure,
    gradient_depth_figure,
    loss_figure,
    neuron_surface,
    softmax_figure,
    tiny_network_figure,
)
from pages.neurons.config import Config


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


# ---------------------------------------------------------------------------------------------- typed results
def test_worked_example_checks_every_number_and_steps_downhill():
    ex = backprop.worked_example(backprop.TinyNet(), (0.05, 0.10), 0.01, "Sigmoid", "MSE", lr=0.5)
    assert ex.agreeing == len(ex.checks) == 25 and ex.worst < 1e-12
    assert ex.forward["yhat"] == pytest.approx(0.75136507, abs=1e-8)
    assert ex.loss_after < ex.loss
    assert backprop.compare(backprop.TinyNet(), (0.05, 0.10), 0.01)[0]["by hand"] == pytest.approx(0.3775)
    with pytest.raises(ConfigError, match="must be a number"):
        backprop.worked_example(backprop.TinyNet(w11=float("nan")), (0.05, 0.10), 0.01)


def test_section_results_are_the_formulas():
    out = neuron.one_neuron(1.0, -0.5, 0.5, "Tanh")
    assert out.z == pytest.approx(2.0) and out.a == pytest.approx(math.tanh(2.0))
    checks = neuron.check_activations(["Sigmoid", "ReLU"])
    assert [c.name for c in checks] == ["Sigmoid", "ReLU"] and all(c.agrees for c in checks)
    assert checks[0].slope_high == pytest.approx(0.25, abs=1e-3) and checks[1].slope_low == 0.0
    sm = neuron.softmax_check([2.0, 1.0, 0.1, -1.0])
    assert sm.agrees and sm.probs.sum() == pytest.approx(1.0)
    depth = neuron.vanishing_gradients(["Sigmoid", "ReLU"], 12)
    assert depth.ratio("Sigmoid") < 1e-5 < depth.ratio("ReLU")
    assert depth.bound[-1] == pytest.approx(depth.norms["Sigmoid"][-1])
    losses = neuron.loss_check(-6.0, 1)
    assert losses.formula["dce_dz"] == pytest.approx(losses.autograd["dce_dz"]) and losses.gap("mse") < 1e-12
    with pytest.raises(ConfigError, match="0 or 1"):
        neuron.loss_check(0.0, 2)
    with pytest.raises(ConfigError, match="Unknown activation"):
        neuron.get_activation("Swish")


# ---------------------------------------------------------------------------------------------- the page
def _page(query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "neurons" / "page.py"),
                           default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _query(at) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def test_page_puts_every_setting_in_the_address_bar():
    at = _page()
    query = _query(at)
    assert query == {**Config().to_query(), "lang": "en"}
    assert query["tab"] == "neuron" and query["f"] == "Sigmoid" and query["w11"] == "0.15"
    # the one neuron at (2, 1): σ(1·2 − 0.5·1 + 0.5) = σ(2)
    assert at.metric[0].value == f"{1 / (1 + math.exp(-2)):.4f}"


def test_page_url_restores_the_worked_example_on_a_fresh_server():
    query = {"tab": "backprop", "w11": "0.3", "v2": "-1.25", "x1": "1", "y": "1", "hidden": "Tanh", "loss": "CE",
             "lr": "2"}
    at = _page(query)
    assert at.number_input(key="nr_w11").value == pytest.approx(0.3)
    assert at.number_input(key="nr_v2").value == pytest.approx(-1.25)
    assert at.selectbox(key="nr_hidden").value == "Tanh" and at.selectbox(key="nr_loss").value == "CE"
    assert at.select_slider(key="nr_lr").value == 2.0
    expected = backprop.worked_example(backprop.TinyNet(w11=0.3, v2=-1.25), (1.0, 0.1), 1.0, "Tanh", "CE", lr=2.0)
    assert at.metric[0].value == f"{expected.loss_after:.6f}"
    assert "25 of 25" in at.success[0].value
    assert {k: _query(at)[k] for k in query} == {**query, "x1": "1", "y": "1", "lr": "2"}


def test_page_url_opens_the_depth_section_and_clamps_bad_values_with_a_warning():
    at = _page({"tab": "depth", "depth": "99", "stack": "Sigmoid,ReLU,Swish", "lang": "zh"})
    assert "梯度消失" in at.tabs[2].label
    assert at.slider(key="nr_depth").value == 40
    assert any("depth=99" in w.value for w in at.warning) and any("Swish" in w.value for w in at.warning)
    depth = neuron.vanishing_gradients(["Sigmoid", "ReLU"], 40)
    assert [m.value for m in at.metric] == [f"{depth.ratio('Sigmoid'):.2e}", f"{depth.ratio('ReLU'):.2e}"]
    assert _query(at)["depth"] == "40" and _query(at)["stack"] == "Sigmoid,ReLU" and _query(at)["lang"] == "zh"


def test_page_random_weights_land_in_the_url_and_still_agree_with_autograd():
    at = _page({"tab": "backprop"})
    at.button(key="nr_random").click().run()
    query = _query(at)
    weights = [float(query[p]) for p in backprop.TinyNet.PARAMS]
    assert weights != [getattr(backprop.TinyNet(), p) for p in backprop.TinyNet.PARAMS]
    assert all(-1 <= w <= 1 for w in weights) and "25 of 25" in at.success[0].value
    at.button(key="nr_classic").click().run()
    assert _query(at)["w11"] == "0.15"
