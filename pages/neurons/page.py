"""Neurons & activations: what one neuron computes, activation functions and their derivatives, why deep
sigmoid stacks stop learning, backpropagation by hand checked against torch.autograd, and MSE vs
cross-entropy."""

import random

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core import backprop, neuron
from core.viz.neurons import (
    activation_figure,
    gradient_depth_figure,
    loss_figure,
    neuron_surface,
    softmax_figure,
    tiny_network_figure,
)


def set_params(values: dict) -> None:
    """New weights for the 2-2-1 network (and forget edits made in the table)."""
    st.session_state["nr_params"] = values
    st.session_state.pop("nr_editor", None)


st.title("Neurons & activations")
st.markdown(
    "Every network on this site is built from one small part: the **neuron**. Here you can take it apart — move "
    "its weights, swap its activation function, follow the gradient backwards through a tiny network by hand, and "
    "see PyTorch's `autograd` get exactly the same numbers."
)

one, acts, depth, by_hand, losses = st.tabs(
    ["One neuron", "Activation functions", "Vanishing gradients", "Backprop by hand", "Loss functions"])

with one:
    st.markdown("A neuron multiplies each input by a **weight**, adds a **bias**, and passes the sum through an "
                "**activation function**: $a = f(w_1x_1 + w_2x_2 + b)$. The weights point the way in which the "
                "output grows (the arrow); the bias slides the boundary $w\\cdot x + b = 0$ (dashed) across the plane.")
    c1, c2 = st.columns([1, 2], gap="large")
    with c1:
        w1 = st.slider("Weight w₁", -3.0, 3.0, 1.0, 0.1, key="nr_w1")
        w2 = st.slider("Weight w₂", -3.0, 3.0, -0.5, 0.1, key="nr_w2")
        b = st.slider("Bias b", -6.0, 6.0, 0.5, 0.1, key="nr_b")
        act_name = st.selectbox("Activation f", list(neuron.ACTIVATIONS), key="nr_act")
        st.latex(neuron.ACTIVATIONS[act_name].formula)
        p1, p2 = 2.0, 1.0
        z = w1 * p1 + w2 * p2 + b
        a = float(neuron.neuron(w1, w2, b, act_name, torch.tensor(p1), torch.tensor(p2)))
        st.metric("Output at the point (2, 1)", f"{a:.4f}", help=f"z = {w1:g}·2 + {w2:g}·1 + {b:g} = {z:.3f}")
    with c2:
        axis, values = neuron.neuron_surface(w1, w2, b, act_name)
        st.plotly_chart(neuron_surface(axis, values, w1, w2, b, act_name), key="nr_surface")

with acts:
    st.markdown("The activation is what makes a network more than one big linear map. What matters for learning is "
                "its **slope**: backpropagation multiplies the gradient by $f'(z)$ at every layer. Lines are the "
                "derivative by formula; the open dots are `torch.autograd` at the same points.")
    chosen = st.multiselect("Activations", list(neuron.ACTIVATIONS), default=["Sigmoid", "Tanh", "ReLU", "GELU"],
                            key="nr_acts")
    curves = {name: neuron.activation_curves(name) for name in chosen}
    st.plotly_chart(activation_figure(curves), key="nr_act_fig")
    rows = []
    for name in chosen:
        act = neuron.ACTIVATIONS[name]
        gap = float(np.abs(curves[name]["df"] - curves[name]["df_autograd"]).max())
        slope = curves[name]["df"]
        rows.append({"activation": name, "range of f′": f"{slope.min():.3g} … {slope.max():.3g}",
                     "max |formula − autograd|": gap, "agrees": "✓" if gap < 1e-9 else "✗", "note": act.note})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"max |formula − autograd|": st.column_config.NumberColumn(format="%.1e")})
    for name in chosen:
        c1, c2 = st.columns(2)
        c1.latex(neuron.ACTIVATIONS[name].formula)
        c2.latex(neuron.ACTIVATIONS[name].derivative_formula)
    st.subheader("Softmax: an activation for a whole vector")
    st.markdown("Softmax turns a vector of scores (logits) into probabilities that sum to 1: "
                "$s_i = e^{z_i}/\\sum_j e^{z_j}$. Each output depends on every input, so its derivative is a matrix, "
                "$\\partial s_i/\\partial z_j = s_i(\\delta_{ij} - s_j)$.")
    cols = st.columns(4)
    logits = [cols[i].number_input(f"z{i + 1}", -10.0, 10.0, v, 0.5, key=f"nr_z{i}")
              for i, v in enumerate((2.0, 1.0, 0.1, -1.0))]
    zt = torch.tensor(logits, dtype=torch.float64)
    jac, jac_auto = neuron.softmax_jacobian(zt), neuron.softmax_jacobian_autograd(zt)
    st.plotly_chart(softmax_figure(zt.numpy(), neuron.softmax(zt).numpy(), jac.numpy()), key="nr_softmax")
    gap = float((jac - jac_auto).abs().max())
    st.caption(f"Jacobian by formula vs `torch.autograd.functional.jacobian`: max difference {gap:.1e} "
               f"{'✓ agree' if gap < 1e-12 else '✗ differ'}. Rows sum to 0: probabilities always sum to 1.")

with depth:
    st.markdown("Backpropagation multiplies one factor $f'(z)\\,W$ per layer. The sigmoid's slope is at most "
                "**0.25**, so through $n$ sigmoid layers the gradient shrinks roughly like $0.25^n$ and the first "
                "layers barely learn: the **vanishing gradient**. ReLU's slope is exactly 1 where it is active, so "
                "with He initialisation the gradient keeps its size. Each curve is measured with `autograd` on a "
                "random stack of 32-wide layers (256 random inputs).")
    c1, c2 = st.columns([1, 3], gap="large")
    with c1:
        n_layers = st.slider("Layers n", 2, 40, 15, key="nr_depth")
        compare = st.multiselect("Activations", list(neuron.ACTIVATIONS), default=["Sigmoid", "Tanh", "ReLU"],
                                 key="nr_depth_acts")
        seed = st.number_input("Seed", 0, 10_000, 0, key="nr_depth_seed")
    norms = {name: neuron.gradient_through_stack(name, n_layers, seed=int(seed)) for name in compare}
    with c2:
        bound = norms["Sigmoid"][-1] * 0.25 ** np.arange(n_layers - 1, -1, -1) if "Sigmoid" in norms else None
        st.plotly_chart(gradient_depth_figure(norms, bound=bound), key="nr_depth_fig")
    mcols = st.columns(max(1, len(norms)))
    for col, (name, values) in zip(mcols, norms.items(), strict=False):
        col.metric(f"{name}: layer 1 / layer {n_layers}", f"{values[0] / values[-1]:.2e}",
                   help="Gradient norm at the first layer divided by the last: ≪ 1 means it vanished.")

with by_hand:
    st.markdown("A 2-2-1 network: $z_j = w_{j1}x_1 + w_{j2}x_2 + b_j$, $h_j = f(z_j)$, $z_o = v_1h_1 + v_2h_2 + c$, "
                "$\\hat y = \\sigma(z_o)$. The **forward pass** computes each number in turn; the **backward pass** "
                "applies the chain rule from the loss back to every weight. Every number below is computed by hand "
                "(plain Python floats) and by `torch.autograd` — the last column says whether they agree.")
    params = st.session_state.setdefault("nr_params", backprop.TinyNet().as_dict())
    edited = st.data_editor(pd.DataFrame([params]), hide_index=True, width="stretch", key="nr_editor",
                            column_config={p: st.column_config.NumberColumn(p, min_value=-5.0, max_value=5.0,
                                                                            step=0.01, required=True)
                                           for p in backprop.TinyNet.PARAMS})
    values = {p: float(edited.iloc[0][p]) for p in backprop.TinyNet.PARAMS}
    if not all(np.isfinite(list(values.values()))):
        st.error("Every weight must be a number between −5 and 5.")
        st.stop()
    c1, c2 = st.columns([1, 3], gap="large")
    with c1:
        x1 = st.number_input("Input x₁", -5.0, 5.0, 0.05, 0.05, key="nr_x1")
        x2 = st.number_input("Input x₂", -5.0, 5.0, 0.10, 0.05, key="nr_x2")
        target = st.number_input("Target y", 0.0, 1.0, 0.01, 0.01, key="nr_y")
        hidden = st.selectbox("Hidden activation f", backprop.HIDDEN, key="nr_hidden")
        loss_name = st.selectbox("Loss", backprop.LOSSES, key="nr_loss",
                                 format_func={"MSE": "½(ŷ − y)²", "CE": "binary cross-entropy"}.get)
        st.button("Random weights", icon=":material/casino:", key="nr_random", on_click=set_params,
                  args=({p: round(random.uniform(-1, 1), 2) for p in backprop.TinyNet.PARAMS},))
        st.button("Classic example weights", key="nr_classic", on_click=set_params,
                  args=(backprop.TinyNet().as_dict(),))
    net = backprop.TinyNet(**values)
    rows = backprop.compare(net, (x1, x2), target, hidden, loss_name)
    forward = {q.key: q.value for q in backprop.hand_pass(net, (x1, x2), target, hidden, loss_name)[0]}
    grads = backprop.gradients(net, (x1, x2), target, hidden, loss_name)
    with c2:
        st.plotly_chart(tiny_network_figure(forward, grads, values, (x1, x2)), key="nr_tiny")
    agree = all(r["agree"] for r in rows)
    worst = max(r["|difference|"] for r in rows)
    (st.success if agree else st.error)(
        f"{sum(r['agree'] for r in rows)} of {len(rows)} numbers agree with torch.autograd "
        f"(largest difference {worst:.1e}).", icon=":material/check_circle:" if agree else ":material/error:")
    table = pd.DataFrame(rows)
    table["agree"] = table["agree"].map({True: "✓", False: "✗"})
    st.dataframe(table, hide_index=True, width="stretch", key="nr_table", height=35 * (len(table) + 1) + 3,
                 column_config={"by hand": st.column_config.NumberColumn(format="%.9f"),
                                "torch.autograd": st.column_config.NumberColumn(format="%.9f"),
                                "|difference|": st.column_config.NumberColumn(format="%.1e")})
    lr = st.select_slider("Learning rate η for one gradient-descent step", [0.01, 0.1, 0.5, 1.0, 2.0, 5.0], 0.5,
                          key="nr_lr")
    stepped = backprop.sgd_step(net, grads, lr)
    new_loss = backprop.hand_pass(stepped, (x1, x2), target, hidden, loss_name)[0][-1].value
    st.metric("Loss after one step θ ← θ − η·∂L/∂θ", f"{new_loss:.6f}", delta=f"{new_loss - forward['L']:+.6f}",
              delta_color="inverse")

with losses:
    st.markdown("Same prediction, two losses. With a sigmoid output $p = \\sigma(z)$, **MSE**'s gradient "
                "$2(p-y)\\,p(1-p)$ fades when the network is confidently **wrong** (p near 0 while y = 1), so it "
                "learns slowest when it most needs to. **Cross-entropy**'s gradient is simply $p - y$: the more "
                "wrong, the bigger the push.")
    c1, c2 = st.columns([1, 3], gap="large")
    with c1:
        logit = st.slider("Logit z (the output before the sigmoid)", -8.0, 8.0, -4.0, 0.1, key="nr_logit")
        y_true = st.radio("Target y", [1, 0], horizontal=True, key="nr_target")
        mine, auto = neuron.binary_losses(logit, y_true), neuron.binary_losses_autograd(logit, y_true)
        st.metric("Prediction p = σ(z)", f"{mine['p']:.4f}")
    with c2:
        st.plotly_chart(loss_figure(neuron.loss_curves(y_true), mine["p"], y_true), key="nr_loss_fig")
    m = st.columns(4)
    m[0].metric("MSE (p − y)²", f"{mine['mse']:.4f}")
    m[1].metric("∂MSE/∂z", f"{mine['dmse_dz']:.4f}")
    m[2].metric("Cross-entropy", f"{mine['ce']:.4f}")
    m[3].metric("∂CE/∂z", f"{mine['dce_dz']:.4f}")
    labels = {"p": "p = σ(z)", "mse": "MSE", "ce": "cross-entropy", "dmse_dp": "∂MSE/∂p", "dce_dp": "∂CE/∂p",
              "dmse_dz": "∂MSE/∂z", "dce_dz": "∂CE/∂z"}
    table = pd.DataFrame([{"quantity": labels[k], "by formula": mine[k], "torch.autograd": auto[k],
                           "|difference|": abs(mine[k] - auto[k])} for k in mine])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"|difference|": st.column_config.NumberColumn(format="%.1e")})
