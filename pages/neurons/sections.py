"""The five sections of the Neurons & activations page. Each draws its settings (bound to ``Config`` through the
page's ``Form``), asks ``core.neuron`` / ``core.backprop`` for a typed result and draws it."""

from __future__ import annotations

import random
from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.backprop import TinyNet, worked_example
from core.neuron import (
    ACTIVATIONS,
    check_activations,
    loss_check,
    one_neuron,
    softmax_check,
    vanishing_gradients,
)
from core.viz.neurons import (
    activation_figure,
    activation_name,
    gradient_depth_figure,
    loss_figure,
    neuron_surface,
    softmax_figure,
    tiny_network_figure,
)
from pages.neurons.config import Config
from ui.display import chart
from ui.i18n import lang, show, t
from ui.settings import Form

LOSS_KEYS = ("p", "mse", "ce", "dmse_dp", "dce_dp", "dmse_dz", "dce_dz")


def form() -> Form[Config]:
    return Form(Config, "nr")


def _config(f: Form[Config]) -> Config:
    """The settings shown now, checked (a ``ConfigError`` is shown by the page)."""
    return f.config().validate()


def _activation(value: str) -> str:
    return activation_name(value, lang())


# ---------------------------------------------------------------------------------------------- one neuron
def one(f: Form[Config]) -> None:
    st.markdown(t("neurons.one.intro"))
    left, right = st.columns([1, 2], gap="large")
    with left:
        f.slider("w1", step=0.1)
        f.slider("w2", step=0.1)
        f.slider("b", step=0.1)
        f.select("activation", format_func=_activation)
        config = _config(f)
        st.latex(ACTIVATIONS[config.activation].formula)
        out = one_neuron(config.w1, config.w2, config.b, config.activation)
        (p1, p2) = out.point
        st.metric(t("neurons.one.output", x1=p1, x2=p2), f"{out.a:.4f}",
                  help=t("neurons.one.output_help", w1=out.w1, w2=out.w2, b=out.b, x1=p1, x2=p2, z=out.z))
    with right:
        chart(neuron_surface(out.axis, out.values, out.w1, out.w2, out.b, out.activation, lang=lang()),
              key="nr_surface")


# ---------------------------------------------------------------------------------------------- activations
def activations(f: Form[Config]) -> None:
    st.markdown(t("neurons.acts.intro"))
    f.pills("activations", format_func=_activation)
    config = _config(f)
    found = check_activations(config.activations)
    chart(activation_figure({c.name: c.curves for c in found}, lang=lang()), key="nr_act_fig")
    if found:
        gap = t("neurons.acts.col_gap")
        rows = [{t("neurons.acts.col_activation"): _activation(c.name),
                 t("neurons.acts.col_range"): t("neurons.acts.range", low=c.slope_low, high=c.slope_high),
                 gap: c.gap, t("neurons.acts.col_agrees"): "✓" if c.agrees else "✗",
                 t("neurons.acts.col_note"): show(ACTIVATIONS[c.name].note)} for c in found]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={gap: st.column_config.NumberColumn(format="%.1e")})
    for c in found:
        left, right = st.columns(2)
        left.latex(ACTIVATIONS[c.name].formula)
        right.latex(ACTIVATIONS[c.name].derivative_formula)

    st.subheader(t("neurons.acts.softmax_title"), anchor=False)
    st.markdown(t("neurons.acts.softmax_intro"))
    for col, name in zip(st.columns(4), ("z1", "z2", "z3", "z4"), strict=True):
        f.number(name, where=col, step=0.5)
    check = softmax_check(_config(f).logits)
    chart(softmax_figure(check.logits, check.probs, check.jacobian, lang=lang()), key="nr_softmax")
    verdict = t("neurons.acts.agree" if check.agrees else "neurons.acts.differ")
    st.caption(t("neurons.acts.softmax_check", gap=check.gap, verdict=verdict))


# ---------------------------------------------------------------------------------------------- depth
def depth(f: Form[Config]) -> None:
    st.markdown(t("neurons.depth.intro"))
    left, right = st.columns([1, 3], gap="large")
    with left:
        f.slider("depth")
        f.pills("stack", format_func=_activation)
        f.number("seed")
    config = _config(f)
    result = vanishing_gradients(config.stack, config.depth, seed=config.seed)
    with right:
        chart(gradient_depth_figure(result.norms, bound=result.bound, lang=lang()), key="nr_depth_fig")
    for col, name in zip(st.columns(max(1, len(result.norms))), result.norms, strict=False):
        col.metric(t("neurons.depth.ratio", name=_activation(name), n=result.depth), f"{result.ratio(name):.2e}",
                   help=t("neurons.depth.ratio_help"))


# ---------------------------------------------------------------------------------------------- backprop
def _set_weights(make: Callable[[str], float]) -> None:
    for p in TinyNet.PARAMS:
        st.session_state[f"nr_{p}"] = make(p)


def _random_weights() -> None:
    _set_weights(lambda p: round(random.uniform(-1, 1), 2))


def _classic_weights() -> None:
    net = TinyNet()
    _set_weights(lambda p: getattr(net, p))


def backprop(f: Form[Config]) -> None:
    st.markdown(t("neurons.backprop.intro"))
    st.markdown(t("neurons.backprop.weights"))
    for col, p in zip(st.columns(len(TinyNet.PARAMS)), TinyNet.PARAMS, strict=True):
        f.number(p, where=col, step=0.01, format="%.3f")
    left, right = st.columns([1, 3], gap="large")
    with left:
        f.number("x1", step=0.05, format="%.3f")
        f.number("x2", step=0.05, format="%.3f")
        f.number("y", step=0.01, format="%.3f")
        f.select("hidden", format_func=_activation)
        f.select("loss")
        st.button(t("neurons.backprop.random"), icon=":material/casino:", key="nr_random", on_click=_random_weights)
        st.button(t("neurons.backprop.classic"), icon=":material/history_edu:", key="nr_classic",
                  on_click=_classic_weights)
    config = _config(f)
    example = worked_example(config.net, (config.x1, config.x2), config.y, config.hidden, config.loss, config.lr)
    with right:
        chart(tiny_network_figure(example.forward, example.grads, config.net.as_dict(), example.x), key="nr_tiny")
    agree = example.agreeing == len(example.checks)
    (st.success if agree else st.error)(
        t("neurons.backprop.agree", n=example.agreeing, total=len(example.checks), worst=example.worst),
        icon=":material/check_circle:" if agree else ":material/error:")
    hand, auto = t("neurons.backprop.col_hand"), t("neurons.backprop.col_autograd")
    diff = t("neurons.backprop.col_diff")
    rows = [{t("neurons.backprop.col_pass"): t(f"neurons.backprop.phase.{c.phase}"),
             t("neurons.backprop.col_quantity"): c.quantity.symbol,
             t("neurons.backprop.col_formula"): show(c.quantity.formula), hand: c.quantity.value, auto: c.autograd,
             diff: c.difference, t("neurons.backprop.col_agree"): "✓" if c.agrees else "✗"} for c in example.checks]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="nr_table", height=35 * (len(rows) + 1) + 3,
                 column_config={hand: st.column_config.NumberColumn(format="%.9f"),
                                auto: st.column_config.NumberColumn(format="%.9f"),
                                diff: st.column_config.NumberColumn(format="%.1e")})
    f.select_slider("lr")
    st.metric(t("neurons.backprop.loss_after"), f"{example.loss_after:.6f}",
              delta=f"{example.loss_after - example.loss:+.6f}", delta_color="inverse")


# ---------------------------------------------------------------------------------------------- losses
def losses(f: Form[Config]) -> None:
    st.markdown(t("neurons.losses.intro"))
    left, right = st.columns([1, 3], gap="large")
    with left:
        f.slider("logit", step=0.1)
        f.segmented("target", options=[1, 0])
        config = _config(f)
        check = loss_check(config.logit, config.target)
        st.metric(t("neurons.losses.prediction"), f"{check.formula['p']:.4f}")
    with right:
        chart(loss_figure(check.curves, check.formula["p"], check.y, lang=lang()), key="nr_loss_fig")
    for col, key in zip(st.columns(4), ("mse", "dmse_dz", "ce", "dce_dz"), strict=True):
        col.metric(t(f"neurons.losses.metric.{key}"), f"{check.formula[key]:.4f}")
    diff = t("neurons.losses.col_diff")
    table = pd.DataFrame([{t("neurons.losses.col_quantity"): t(f"neurons.losses.names.{k}"),
                           t("neurons.losses.col_formula"): check.formula[k],
                           t("neurons.losses.col_autograd"): check.autograd[k], diff: check.gap(k)} for k in LOSS_KEYS])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={diff: st.column_config.NumberColumn(format="%.1e")})


SECTIONS: dict[str, Callable[[Form[Config]], None]] = {
    "neuron": one, "activations": activations, "depth": depth, "backprop": backprop, "losses": losses}
