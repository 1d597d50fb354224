"""Plotly figures for the Neurons & activations page: one neuron's surface, activation functions with
their derivatives, softmax and its Jacobian, gradient norms through deep stacks, the two losses, and the
tiny 2-2-1 network annotated with its forward values and gradients."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import i18n
from core.viz.planar import COLORSCALE

PALETTE = {"Sigmoid": "#d62728", "Tanh": "#9467bd", "ReLU": "#1f77b4", "LeakyReLU": "#17becf", "GELU": "#2ca02c",
           "Linear": "#7f7f7f"}
_MARGIN = {"l": 10, "r": 10, "t": 36, "b": 10}


def _t(key: str, lang: str, **params: object) -> str:
    return i18n.text(f"neurons.charts.{key}", lang, **params)


def activation_name(name: str, lang: str = "en") -> str:
    """An activation's name as the page shows it (most are the same in every language)."""
    key = f"neurons.choices.activation.{name}"
    return i18n.text(key, lang) if i18n.has(key, lang) else name


def neuron_surface(axis: np.ndarray, values: np.ndarray, w1: float, w2: float, b: float, activation: str,
                   *, height: int = 400, lang: str = "en") -> go.Figure:
    """The neuron's output over the plane, its boundary w·x + b = 0 and the weight vector (the direction in
    which the output grows fastest)."""
    peak = max(1e-6, float(np.abs(values).max()))
    bar = {"title": {"text": f"{activation_name(activation, lang)}(w·x+b)", "side": "right"}, "thickness": 10}
    fig = go.Figure(go.Heatmap(x=axis, y=axis, z=values, colorscale=COLORSCALE, zmin=-peak, zmax=peak,
                               zsmooth="best", colorbar=bar,
                               hovertemplate=_t("surface_hover", lang) + "<extra></extra>"))
    lo, hi = float(axis[0]), float(axis[-1])
    if abs(w2) > 1e-9:
        xs = np.array([lo, hi])
        fig.add_trace(go.Scatter(x=xs, y=-(w1 * xs + b) / w2, mode="lines", name=_t("boundary", lang),
                                 line={"color": "black", "dash": "dash"}))
    elif abs(w1) > 1e-9:
        fig.add_trace(go.Scatter(x=[-b / w1] * 2, y=[lo, hi], mode="lines", name=_t("boundary", lang),
                                 line={"color": "black", "dash": "dash"}))
    norm = float(np.hypot(w1, w2))
    if norm > 1e-9:
        # arrow from the point of the boundary closest to the origin, along w
        px, py = -b * w1 / norm**2, -b * w2 / norm**2
        fig.add_annotation(x=px + 2 * w1 / norm, y=py + 2 * w2 / norm, ax=px, ay=py, xref="x", yref="y", axref="x",
                           ayref="y", showarrow=True, arrowhead=3, arrowwidth=2, arrowcolor="black", text="w")
    fig.update_xaxes(range=[lo, hi], title_text="x₁", constrain="domain")
    fig.update_yaxes(range=[lo, hi], title_text="x₂", scaleanchor="x", constrain="domain")
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": 1.0, "yanchor": "bottom"},
                      uirevision="neuron")
    return fig


def activation_figure(curves: Mapping[str, Mapping[str, np.ndarray]], *, height: int = 340,
                      lang: str = "en") -> go.Figure:
    """f(z) and f′(z) side by side; the derivative by formula (line) and by autograd (dots)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_t("activation", lang), _t("derivative", lang)),
                        horizontal_spacing=0.1)
    for name, c in curves.items():
        colour = PALETTE.get(name, "#333")
        shown = activation_name(name, lang)
        fig.add_trace(go.Scatter(x=c["z"], y=c["f"], name=shown, legendgroup=name, line={"color": colour}),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=c["z"], y=c["df"], name=_t("by_formula", lang, name=shown), legendgroup=name,
                                 showlegend=False, line={"color": colour}), row=1, col=2)
        every = slice(None, None, 12)
        fig.add_trace(go.Scatter(x=c["z"][every], y=c["df_autograd"][every], mode="markers", legendgroup=name,
                                 name=_t("by_autograd", lang, name=shown), showlegend=False,
                                 marker={"color": colour, "size": 6, "symbol": "circle-open"}), row=1, col=2)
    fig.update_xaxes(title_text="z")
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.2}, uirevision="acts")
    return fig


def softmax_figure(z: np.ndarray, s: np.ndarray, jacobian: np.ndarray, *, height: int = 320,
                   lang: str = "en") -> go.Figure:
    """Logits and softmax probabilities per class, and the Jacobian ∂sᵢ/∂zⱼ."""
    labels = [_t("class", lang, n=i + 1) for i in range(len(z))]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_t("softmax", lang), _t("jacobian", lang)),
                        horizontal_spacing=0.14)
    fig.add_trace(go.Bar(x=labels, y=z, name=_t("logit", lang), marker_color="#9e9e9e"), row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=s, name="softmax(z)", marker_color="#0877bd",
                         text=[f"{v:.2f}" for v in s], textposition="outside"), row=1, col=1)
    peak = max(1e-6, float(np.abs(jacobian).max()))
    fig.add_trace(go.Heatmap(z=jacobian, x=[f"z{j + 1}" for j in range(len(z))], y=[f"s{i + 1}" for i in range(len(z))],
                             colorscale="RdBu", zmid=0, zmin=-peak, zmax=peak, text=np.round(jacobian, 3),
                             texttemplate="%{text}", showscale=False,
                             hovertemplate="∂%{y}/∂%{x} = %{z:.4f}<extra></extra>"), row=1, col=2)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    fig.update_layout(height=height, margin=_MARGIN, barmode="group", legend={"orientation": "h", "y": -0.15},
                      uirevision="softmax")
    return fig


def gradient_depth_figure(norms: Mapping[str, np.ndarray], *, bound: np.ndarray | None = None,
                          height: int = 360, lang: str = "en") -> go.Figure:
    """Gradient norm at each layer's output (layer 1 = next to the input) on a log scale."""
    fig = go.Figure()
    for name, values in norms.items():
        layers = np.arange(1, len(values) + 1)
        shown = activation_name(name, lang)
        fig.add_trace(go.Scatter(x=layers, y=values, mode="lines+markers", name=shown,
                                 line={"color": PALETTE.get(name, "#333")},
                                 hovertemplate=f"{shown}<br>{_t('depth_hover', lang)}<extra></extra>"))
    if bound is not None:
        fig.add_trace(go.Scatter(x=np.arange(1, len(bound) + 1), y=bound, mode="lines", name=_t("bound", lang),
                                 line={"color": "#d62728", "dash": "dot"}))
    fig.update_xaxes(title_text=_t("layer_axis", lang), autorange="reversed")
    fig.update_yaxes(title_text=_t("norm_axis", lang), type="log", exponentformat="power")
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": 1.0, "yanchor": "bottom"},
                      uirevision="depth")
    return fig


def loss_figure(curves: Mapping[str, np.ndarray], p_now: float, y: int, *, height: int = 330,
                lang: str = "en") -> go.Figure:
    """Both losses against the predicted probability, and their gradients with respect to the logit."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_t("loss_title", lang, y=y), _t("loss_gradient", lang)),
                        horizontal_spacing=0.1)
    styles = {"mse": (_t("mse", lang), "#ff7f0e"), "ce": (_t("ce", lang), "#1f77b4")}
    for key, (label, colour) in styles.items():
        fig.add_trace(go.Scatter(x=curves["p"], y=curves[key], name=label, line={"color": colour}, legendgroup=key),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=curves["p"], y=curves[f"d{key}_dz"], name=label, line={"color": colour},
                                 legendgroup=key, showlegend=False), row=1, col=2)
    for col in (1, 2):
        fig.add_vline(x=p_now, line={"color": "black", "dash": "dot"}, row=1, col=col)
    fig.update_xaxes(title_text=_t("p_axis", lang), range=[0, 1])
    fig.update_yaxes(range=[0, 5], row=1, col=1)
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.25}, uirevision="loss")
    return fig


def tiny_network_figure(values: Mapping[str, float], grads: Mapping[str, float], params: Mapping[str, float],
                        x: tuple[float, float], *, height: int = 420) -> go.Figure:
    """The 2-2-1 network: node values from the forward pass, each weight with its gradient ∂L/∂w."""
    pos = {"x1": (0.0, 1.0), "x2": (0.0, -1.0), "h1": (1.8, 1.0), "h2": (1.8, -1.0), "o": (3.4, 0.0)}
    # (source, target, parameter, where along the edge its label sits)
    edges = [("x1", "h1", "w11", 0.5), ("x2", "h1", "w12", 0.22), ("x1", "h2", "w21", 0.22),
             ("x2", "h2", "w22", 0.5), ("h1", "o", "v1", 0.5), ("h2", "o", "v2", 0.5)]
    fig = go.Figure()
    notes = []
    for src, dst, p, t in edges:
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", showlegend=False, hoverinfo="skip",
                                 line={"color": "#0877bd" if params[p] >= 0 else "#f59322",
                                       "width": 1.5 + 3 * min(1.0, abs(params[p]))}))
        name = f"{p[0]}{_sub(p[1:])}"
        notes.append({"x": x0 + (x1 - x0) * t, "y": y0 + (y1 - y0) * t, "showarrow": False,
                      "bgcolor": "rgba(255,255,255,0.85)", "font": {"size": 12},
                      "text": f"{name} = {params[p]:.3f}<br><span style='color:#c0392b'>∂L/∂{name} = "
                              f"{grads[p]:.4f}</span>"})
    node_text = {
        "x1": (f"x₁ = {x[0]:g}", "right", "middle", -0.2, 0),
        "x2": (f"x₂ = {x[1]:g}", "right", "middle", -0.2, 0),
        "h1": (f"z₁ = {values['z1']:.4f} → h₁ = {values['h1']:.4f}<br>b₁ = {params['b1']:.3f} "
               f"<span style='color:#c0392b'>(∂L/∂b₁ = {grads['b1']:.4f})</span>", "center", "bottom", 0, 0.22),
        "h2": (f"z₂ = {values['z2']:.4f} → h₂ = {values['h2']:.4f}<br>b₂ = {params['b2']:.3f} "
               f"<span style='color:#c0392b'>(∂L/∂b₂ = {grads['b2']:.4f})</span>", "center", "top", 0, -0.22),
        "o": (f"z_o = {values['zo']:.4f}<br>ŷ = σ(z_o) = {values['yhat']:.4f}<br><b>L = {values['L']:.5f}</b><br>"
              f"c = {params['c']:.3f} <span style='color:#c0392b'>(∂L/∂c = {grads['c']:.4f})</span>",
              "left", "middle", 0.22, 0),
    }
    fig.add_trace(go.Scatter(x=[p[0] for p in pos.values()], y=[p[1] for p in pos.values()], mode="markers",
                             showlegend=False, hoverinfo="skip",
                             marker={"size": 34, "color": "#e8eaeb", "line": {"color": "#555", "width": 1.5}}))
    for key, (px, py) in pos.items():
        text, xanchor, yanchor, dx, dy = node_text[key]
        notes.append({"x": px + dx, "y": py + dy, "text": text, "showarrow": False, "xanchor": xanchor,
                      "yanchor": yanchor, "font": {"size": 12}, "align": "left" if key == "o" else "center"})
    fig.update_xaxes(visible=False, range=[-0.9, 5.0])
    fig.update_yaxes(visible=False, range=[-1.75, 1.75])
    fig.update_layout(annotations=notes, height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0},
                      plot_bgcolor="white", uirevision="tiny")
    return fig


def _sub(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
