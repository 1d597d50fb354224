"""Plotly figures for the 2-D playground: the decision surface with its points, the TF-Playground-style
network diagram (each neuron drawn as a small heatmap of its output over the input plane, edges coloured
by the sign and sized by the magnitude of their weight) and the compare strip of recent runs.

Colours follow TF Playground: orange = negative / class 0, blue = positive / class 1, a diverging scale
centred at 0.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from core.data.planar import feature_label
from core.inspect.planar import NetworkView

ORANGE, BLUE, MIDDLE = (245, 147, 34), (8, 119, 189), (232, 234, 235)
COLORSCALE = [[0.0, "rgb(245,147,34)"], [0.5, "rgb(232,234,235)"], [1.0, "rgb(8,119,189)"]]
_BOUNDED = {"Tanh", "Sigmoid"}


def to_rgb(values: np.ndarray) -> np.ndarray:
    """Map values in [-1, 1] (clipped) to uint8 RGB on the orange–grey–blue scale."""
    v = np.clip(np.nan_to_num(values), -1, 1)[..., None]
    mid, neg, pos = (np.array(c, dtype=np.float32) for c in (MIDDLE, ORANGE, BLUE))
    rgb = np.where(v < 0, mid + (neg - mid) * (-v), mid + (pos - mid) * v)
    return rgb.astype(np.uint8)


def png_uri(values: np.ndarray) -> str:
    """A data-URI PNG of a (g, g) array whose row 0 is the bottom of the plane."""
    image = Image.fromarray(to_rgb(values[::-1]), mode="RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ---------------------------------------------------------------------------------------------- surface
def decision_surface(view: NetworkView, train: tuple[np.ndarray, np.ndarray],
                     test: tuple[np.ndarray, np.ndarray] | None = None, *, discretize: bool = False,
                     height: int = 420) -> go.Figure:
    """The network's output over the plane, training points on top (and test points ringed in black)."""
    classification = view.problem == "classification"
    z = np.sign(view.surface) if discretize else view.surface
    colorbar = {"title": {"text": "p(blue)" if classification else "prediction", "side": "right"},
                "thickness": 10, "len": 0.75, "x": 1.0, "xpad": 4}
    if classification:
        colorbar |= {"tickvals": [-1, 0, 1], "ticktext": ["0 · orange", "0.5", "1 · blue"]}
    hover = "x₁ %{x:.2f}<br>x₂ %{y:.2f}<br>" + ("2·p(blue)−1" if classification else "prediction") + " %{z:.2f}"
    fig = go.Figure(go.Heatmap(x=view.axis, y=view.axis, z=np.round(z, 3), zmin=-1, zmax=1, colorscale=COLORSCALE,
                               zsmooth="best" if not discretize else False, colorbar=colorbar,
                               hovertemplate=hover + "<extra></extra>", name="output"))
    sets = [("train", train, "white", 1.0)]
    if test is not None:
        sets.append(("test", test, "black", 1.6))
    for name, (xy, y), edge, width in sets:
        colour = (2 * np.asarray(y, dtype=np.float32) - 1) if classification else np.asarray(y, dtype=np.float32)
        fig.add_trace(go.Scatter(
            x=xy[:, 0], y=xy[:, 1], mode="markers", name=f"{name} points",
            marker={"color": colour, "colorscale": COLORSCALE, "cmin": -1, "cmax": 1, "size": 7,
                    "line": {"color": edge, "width": width}},
            hovertemplate=f"{name}<br>x₁ %{{x:.2f}}<br>x₂ %{{y:.2f}}<br>target %{{customdata:.2f}}<extra></extra>",
            customdata=np.asarray(y, dtype=np.float32)))
    extent = float(view.axis[-1])
    fig.update_xaxes(range=[-extent, extent], title_text="x₁", constrain="domain", zeroline=False)
    fig.update_yaxes(range=[-extent, extent], title_text="x₂", scaleanchor="x", constrain="domain", zeroline=False)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 26, "b": 10}, uirevision="surface",
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
                      plot_bgcolor="white")
    return fig


# ---------------------------------------------------------------------------------------------- diagram
_WIDTH_BINS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)  # |w| bin edges
_WIDTHS = (0.5, 0.8, 1.2, 1.8, 2.6, 3.4, 4.2)
_ALPHAS = (0.2, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9)


def _column_scale(values: np.ndarray, kind: str, activation: str) -> np.ndarray:
    """Inputs and unbounded activations are scaled per neuron (so each shape is visible); Tanh and Sigmoid
    neurons and the output keep their natural [-1, 1] scale, as in TF Playground."""
    if kind == "input":
        peak = np.abs(values).reshape(len(values), -1).max(axis=1)
        return values / np.maximum(peak, 1e-6)[:, None, None]
    if kind == "hidden" and activation not in _BOUNDED:  # robust peak: a far corner must not wash out the rest
        peak = np.percentile(np.abs(values).reshape(len(values), -1), 95, axis=1)
        return values / np.maximum(peak, 1e-6)[:, None, None]
    return values


def _curve(x0: float, y0: float, x1: float, y1: float, n: int = 9) -> tuple[list[float], list[float]]:
    t = np.linspace(0, 1, n)
    return (np.round(x0 + (x1 - x0) * t, 3).tolist(), np.round(y0 + (y1 - y0) * (3 * t**2 - 2 * t**3), 3).tolist())


def unvalidated_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts without plotly's per-property validation (10× faster for big layouts;
    the unit tests validate the same specs once)."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def network_diagram(view: NetworkView, activation: str, *, height: int | None = None) -> go.Figure:
    """Every neuron as a small heatmap of its output over the plane, linked by weight-styled edges."""
    widths = view.widths
    n_cols, rows = len(widths), max(widths)
    dx, dy, box = 3.0, 1.3, 1.0
    ys = [[-(r + (rows - n) / 2) * dy for r in range(n)] for n in widths]
    xs = [c * dx for c in range(n_cols)]
    data: list[dict] = []

    # edges, grouped by sign and magnitude bin into a few traces
    groups: dict[tuple[int, int], tuple[list, list]] = {}
    mid_x, mid_y, mid_text = [], [], []
    for layer, weight in enumerate(view.weights):
        for j in range(weight.shape[0]):
            for i in range(weight.shape[1]):
                w = float(weight[j, i])
                cx, cy = _curve(xs[layer] + box / 2, ys[layer][i], xs[layer + 1] - box / 2, ys[layer + 1][j])
                key = (int(w >= 0), int(np.searchsorted(_WIDTH_BINS, abs(w))))
                gx, gy = groups.setdefault(key, ([], []))
                gx.extend([*cx, None])  # None breaks the line between two edges
                gy.extend([*cy, None])
                mid_x.append(cx[len(cx) // 2])
                mid_y.append(cy[len(cy) // 2])
                mid_text.append(f"weight {_name(view, layer, i)} → {_name(view, layer + 1, j)}<br>w = {w:+.3f}")
    for (positive, b), (gx, gy) in sorted(groups.items()):
        r, g, bl = BLUE if positive else ORANGE
        data.append({"type": "scatter", "x": gx, "y": gy, "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                     "line": {"color": f"rgba({r},{g},{bl},{_ALPHAS[b]})", "width": _WIDTHS[b]}})
    data.append({"type": "scatter", "x": mid_x, "y": mid_y, "mode": "markers", "name": "weights",
                 "marker": {"size": 8, "color": "rgba(0,0,0,0)"}, "hovertext": mid_text, "hoverinfo": "text",
                 "showlegend": False})

    # neurons as images
    kinds = ["input"] + ["hidden"] * (n_cols - 2) + ["output"]
    centre_x, centre_y, centre_text = [], [], []
    images, shapes, notes = [], [], []
    for c, (values, kind) in enumerate(zip(view.neurons, kinds, strict=True)):
        scaled = _column_scale(values, kind, activation)
        for r in range(len(values)):
            x, y = xs[c], ys[c][r]
            images.append({"source": png_uri(scaled[r]), "x": x - box / 2, "y": y + box / 2, "sizex": box,
                           "sizey": box, "xref": "x", "yref": "y", "sizing": "stretch", "layer": "above"})
            shapes.append({"type": "rect", "x0": x - box / 2, "x1": x + box / 2, "y0": y - box / 2,
                           "y1": y + box / 2, "line": {"color": "#555", "width": 1}, "layer": "above"})
            centre_x.append(x)
            centre_y.append(y)
            centre_text.append(_neuron_hover(view, c, r, activation))
            if kind == "input":
                notes.append({"x": x - box / 2 - 0.15, "y": y, "text": feature_label(view.features[r]),
                              "showarrow": False, "xanchor": "right", "font": {"size": 13}})
    data.append({"type": "scatter", "x": centre_x, "y": centre_y, "mode": "markers", "name": "neurons",
                 "showlegend": False, "hoverinfo": "text", "hovertext": centre_text,
                 "marker": {"symbol": "square", "size": 26, "color": "rgba(0,0,0,0)"}})
    top = max(y[0] for y in ys) + box / 2 + 0.25
    for c, n in enumerate(widths):
        title = "Input" if c == 0 else ("Output" if c == n_cols - 1 else f"Layer {c}")
        unit = "feature" if c == 0 else "neuron"
        sub = "" if c == n_cols - 1 else f"{n} {unit}{'s' * (n != 1)}"
        notes.append({"x": xs[c], "y": top, "text": f"<b>{title}</b><br>{sub}", "showarrow": False,
                      "yanchor": "bottom", "font": {"size": 12}})
    bottom = -(rows - 1) * dy - box / 2 - 0.2
    layout = {
        "xaxis": {"visible": False, "range": [-1.9, xs[-1] + box / 2 + 0.3], "fixedrange": True},
        "yaxis": {"visible": False, "range": [bottom, top + 1.0], "scaleanchor": "x", "fixedrange": True},
        "images": images, "shapes": shapes, "annotations": notes,
        "height": height or int(np.clip(760 * (top + 1.0 - bottom) / (xs[-1] + 2.2), 260, 640)),
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "plot_bgcolor": "white", "uirevision": "diagram",
        "hoverlabel": {"align": "left"},
    }
    return unvalidated_figure(data, layout)


def _name(view: NetworkView, column: int, index: int) -> str:
    if column == 0:
        return feature_label(view.features[index])
    if column == len(view.neurons) - 1:
        return "output"
    return f"L{column}.{index + 1}"


def _neuron_hover(view: NetworkView, column: int, index: int, activation: str) -> str:
    if column == 0:
        return f"input {feature_label(view.features[index])}"
    bias = float(view.biases[column - 1][index])
    if column == len(view.neurons) - 1:
        what = "2·σ(z) − 1" if view.problem == "classification" else "linear"
        return f"output neuron ({what})<br>bias {bias:+.3f}"
    return f"layer {column}, neuron {index + 1}<br>{activation}(w·x + b)<br>bias {bias:+.3f}"


def weight_legend() -> str:
    """A one-line Markdown legend for the diagram."""
    return ("Each square is one neuron's output over the whole input plane (orange negative, blue positive). "
            "Lines are weights: blue positive, orange negative, thicker = larger |w|. Hover for values.")


# ---------------------------------------------------------------------------------------------- compare
def compare_runs(runs: Sequence[dict], *, height: int = 260, metric: str = "test_loss") -> go.Figure:
    """Test-loss curves (against the epoch) of the last few runs, newest last."""
    fig = go.Figure()
    palette = ["#7f7f7f", "#9467bd", "#2ca02c", "#d62728", "#1f77b4", "#ff7f0e"]
    for k, run in enumerate(runs):
        epochs, values = run.get("epoch", []), run.get(metric, [])
        pairs = [(e, v) for e, v in zip(epochs, values, strict=False) if v is not None and math.isfinite(v)]
        if not pairs:
            continue
        final = f" → {pairs[-1][1]:.3f}"
        step = max(1, len(pairs) // 300)
        pairs = pairs[::step] + ([pairs[-1]] if (len(pairs) - 1) % step else [])
        width = 2.5 if k == len(runs) - 1 else 1.5
        fig.add_trace(go.Scatter(x=[p[0] for p in pairs], y=[p[1] for p in pairs], mode="lines",
                                 name=f"#{run['run']} {run['label']}{final}",
                                 line={"color": palette[k % len(palette)], "width": width}))
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text=metric.replace("_", " "), rangemode="tozero")
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, uirevision="compare",
                      legend={"orientation": "v", "x": 1.02, "y": 1, "font": {"size": 11}})
    return fig
