"""Plotly figures for the Neurons & activations page: one neuron's surface, activation functions with
their derivatives, softmax and its Jacobian, gradient norms through deep stacks, the two losses, and the
tiny 2-2-1 network annotated with its forward values and gradients."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.viz.planar import COLORSCALE

PALETTE = {"Sigmoid": "#d62728", "Tanh": "#9467bd", "ReLU": "#1f77b4", "LeakyReLU": "#17becf", "GELU": "#2ca02c",
           "Linear": "#7f7f7f"}
_MARGIN = {"l": 10, "r": 10, "t": 36, "b": 10}


def neuron_surface(axis: np.ndarray, values: np.ndarray, w1: float, w2: float, b: float, activation: str,
                   *, height: int = 400) -> go.Figure:
    """The neuron's output over the plane, its boundary w·x + b = 0 and the weight vector (the direction in
    which the output grows fastest)."""
    peak = max(1e-6, float(np.abs(values).max()))
    fig = go.Figure(go.Heatmap(x=axis, y=axis, z=values, colorscale=COLORSCALE, zmin=-peak, zmax=peak,
                               zsmooth="best", colorbar={"title": {"text": f"{activation}(w·x+b)", "side": "right"},
                                                         "thickness": 10},
                               hovertemplate="x₁ %{x:.2f}<br>x₂ %{y:.2f}<br>output %{z:.3f}<extra></extra>"))
    lo, hi = float(axis[0]), float(axis[-1])
    if abs(w2) > 1e-9:
        xs = np.array([lo, hi])
        fig.add_trace(go.Scatter(x=xs, y=-(w1 * xs + b) / w2, mode="lines", name="w·x + b = 0",
                                 line={"color": "black", "dash": "dash"}))
    elif abs(w1) > 1e-9:
        fig.add_trace(go.Scatter(x=[-b / w1] * 2, y=[lo, hi], mode="lines", name="w·x + b = 0",
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


def activation_figure(curves: Mapping[str, Mapping[str, np.ndarray]], *, height: int = 340) -> go.Figure:
    """f(z) and f′(z) side by side; the derivative by formula (line) and by autograd (dots)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("activation f(z)", "derivative f′(z)"),
                        horizontal_spacing=0.1)
    for name, c in curves.items():
        colour = PALETTE.get(name, "#333")
        fig.add_trace(go.Scatter(x=c["z"], y=c["f"], name=name, legendgroup=name, line={"color": colour}),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=c["z"], y=c["df"], name=f"{name}′ formula", legendgroup=name, showlegend=False,
                                 line={"color": colour}), row=1, col=2)
        every = slice(None, None, 12)
        fig.add_trace(go.Scatter(x=c["z"][every], y=c["df_autograd"][every], mode="markers", legendgroup=name,
                                 name=f"{name}′ autograd", showlegend=False,
                                 marker={"color": colour, "size": 6, "symbol": "circle-open"}), row=1, col=2)
    fig.update_xaxes(title_text="z")
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": -0.2}, uirevision="acts")
    return fig


def softmax_figure(z: np.ndarray, s: np.ndarray, jacobian: np.ndarray, *, height: int = 320) -> go.Figure:
    """Logits and softmax probabilities per class, and the Jacobian ∂sᵢ/∂zⱼ."""
    labels = [f"class {i + 1}" for i in range(len(z))]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("logits z and probabilities softmax(z)", "Jacobian ∂sᵢ/∂zⱼ"),
                        horizontal_spacing=0.14)
    fig.add_trace(go.Bar(x=labels, y=z, name="logit z", marker_color="#9e9e9e"), row=1, col=1)
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
                          height: int = 360) -> go.Figure:
    """Gradient norm at each layer's output (layer 1 = next to the input) on a log scale."""
    fig = go.Figure()
    for name, values in norms.items():
        layers = np.arange(1, len(values) + 1)
        fig.add_trace(go.Scatter(x=layers, y=values, mode="lines+markers", name=name,
                                 line={"color": PALETTE.get(name, "#333")},
                                 hovertemplate=f"{name}<br>layer %{{x}}<br>‖∂L/∂h‖ %{{y:.3g}}<extra></extra>"))
    if bound is not None:
        fig.add_trace(go.Scatter(x=np.arange(1, len(bound) + 1), y=bound, mode="lines", name="0.25ⁿ (σ′ ≤ 0.25)",
                                 line={"color": "#d62728", "dash": "dot"}))
    fig.update_xaxes(title_text="layer (1 = next to the input; the loss is after the last layer)", autorange="reversed")
    fig.update_yaxes(title_text="mean ‖∂L/∂h‖ (log scale)", type="log", exponentformat="power")
    fig.update_layout(height=height, margin=_MARGIN, legend={"orientation": "h", "y": 1.0, "yanchor": "bottom"},
                      uirevision="depth")
    return fig


def loss_figure(curves: Mapping[str, np.ndarray], p_now: float, y: int, *, height: int = 330) -> go.Figure:
    """Both losses against the predicted probability, and their gradients with respect to the logit."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"loss when the target is y = {y}", "gradient ∂L/∂z"),
                        horizontal_spacing=0.1)
    styles = {"mse": ("MSE (p − y)²", "#ff7f0e"), "ce": ("cross-entropy", "#1f77b4")}
    for key, (label, colour) in styles.items():
        fig.add_trace(go.Scatter(x=curves["p"], y=curves[key], name=label, line={"color": colour}, legendgroup=key),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=curves["p"], y=curves[f"d{key}_dz"], name=label, line={"color": colour},
                                 legendgroup=key, showlegend=False), row=1, col=2)
    for col in (1, 2):
        fig.add_vline(x=p_now, line={"color": "black", "dash": "dot"}, row=1, col=col)
    fig.update_xaxes(title_text="predicted probability p = σ(z)", range=[0, 1])
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
