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

from core.data.planar import FEATURES, feature_label
from core.i18n import localize, text
from core.inspect.planar import NetworkView
from core.viz.curves import fast_figure
from core.viz.palette import PALETTES, Palette

STANDARD = PALETTES["standard"]
ORANGE, BLUE, MIDDLE = STANDARD.negative, STANDARD.positive, STANDARD.middle
# a table with more than two classes: one colour per class (the palette's two first, as for two)
CLASS_COLOURS = ((44, 160, 44), (148, 103, 189), (214, 39, 40), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                 (188, 189, 34), (23, 190, 207))
LABEL_CHARS = 12  # a table column's name is shortened to this in the diagram
COLORSCALE = STANDARD.colorscale()
_BOUNDED = {"Tanh", "Sigmoid"}


def to_rgb(values: np.ndarray, palette: Palette = STANDARD) -> np.ndarray:
    """Map values in [-1, 1] (clipped) to uint8 RGB on the palette's negative–middle–positive scale."""
    v = np.clip(np.nan_to_num(values), -1, 1)[..., None]
    mid, neg, pos = (np.array(c, dtype=np.float32) for c in (palette.middle, palette.negative, palette.positive))
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
                     height: int = 420, colorbar_on: bool = True, lang: str = "en", palette: Palette = STANDARD
                     ) -> go.Figure:
    """The network's output over the plane, training points on top (and test points ringed in black). On a
    table with more than two classes, each class has its colour, paler where the network is less sure."""
    if view.confidence is not None:
        return _class_surface(view, train, test, discretize=discretize, height=height, lang=lang, palette=palette)
    colorscale = palette.colorscale()
    classification = view.problem == "classification"
    z = np.sign(view.surface) if discretize else view.surface
    prediction = text("planar.viz.prediction", lang)
    colorbar = {"title": {"text": "p(blue)" if classification else prediction, "side": "right"},
                "thickness": 10, "len": 0.9, "x": 1.01, "xanchor": "left", "xpad": 2, "outlinewidth": 0}
    if classification:
        colorbar |= {"tickvals": [-1, 0, 1], "ticktext": [text("planar.viz.tick_orange", lang), "0.5",
                                                          text("planar.viz.tick_blue", lang)]}
    names = _axis_names(view)
    low, high = view.value_range or (-1.0, 1.0)
    hover = (f"{names[0]} %{{x:.2f}}<br>{names[1]} %{{y:.2f}}<br>" + ("2·p(blue)−1" if classification else prediction)
             + " %{z:.2f}")
    axis = np.round(view.axis, 3).tolist()
    axis_y = axis if view.axis_y is None else np.round(view.axis_y, 3).tolist()
    data = [{"type": "heatmap", "x": axis, "y": axis_y, "z": np.round(z, 2).tolist(), "zmin": low, "zmax": high,
             "colorscale": colorscale, "zsmooth": "best" if not discretize else False, "colorbar": colorbar,
             "showscale": colorbar_on, "hovertemplate": hover + "<extra></extra>", "name": "output"}]
    sets = [(text("planar.viz.train", lang), train, "white", 1.0)]
    if test is not None:
        sets.append((text("planar.viz.test", lang), test, "black", 1.6))
    target = text("planar.viz.target", lang)
    for name, (xy, y), edge, width in sets:
        y = np.asarray(y, dtype=np.float32)
        colour = (2 * y - 1) if classification else y
        data.append({
            "type": "scatter", "x": np.round(xy[:, 0], 3).tolist(), "y": np.round(xy[:, 1], 3).tolist(),
            "mode": "markers", "name": name, "showlegend": False,
            "marker": {"color": np.round(colour, 3).tolist(), "colorscale": colorscale, "cmin": low, "cmax": high,
                       "size": 7, "line": {"color": edge, "width": width}},
            "hovertemplate": f"{name}<br>{names[0]} %{{x:.2f}}<br>{names[1]} %{{y:.2f}}<br>{target} %{{customdata:.2f}}"
                             "<extra></extra>",
            "customdata": np.round(y, 3).tolist()})
    return fast_figure(data, _surface_layout(view, height, 90 if colorbar_on else 8))


def _axis_names(view: NetworkView) -> tuple[str, str]:
    return (view.axis_names[0], view.axis_names[1]) if len(view.axis_names) == 2 else ("x₁", "x₂")


def _surface_layout(view: NetworkView, height: int, right: int) -> dict:
    """The square plane of the generated sets; a table's two columns each over their own range."""
    names = _axis_names(view)
    if view.axis_y is None:
        extent = float(view.axis[-1])
        x_range = y_range = [-extent, extent]
        square = {"scaleanchor": "x"}
    else:
        x_range, y_range = [float(view.axis[0]), float(view.axis[-1])], [float(view.axis_y[0]), float(view.axis_y[-1])]
        square = {}
    return {
        "xaxis": {"range": x_range, "title": {"text": names[0]}, "constrain": "domain", "zeroline": False},
        "yaxis": {"range": y_range, "title": {"text": names[1], "standoff": 10}, "constrain": "domain",
                  "zeroline": False, **square},
        "height": height, "margin": {"l": 64, "r": right, "t": 8, "b": 40, "autoexpand": False},
        "uirevision": "surface", "plot_bgcolor": "white",
    }


def class_colour(k: int, pale: float = 0.0, palette: Palette = STANDARD) -> str:
    """Class ``k``'s colour, mixed with the neutral grey by ``pale`` (0: the full colour)."""
    colours = (palette.negative, palette.positive, *CLASS_COLOURS)
    c = np.array(colours[k % len(colours)], dtype=float)
    r, g, b = (c + (np.array(palette.middle) - c) * pale).round().astype(int)
    return f"rgb({r},{g},{b})"


def _class_surface(view: NetworkView, train: tuple[np.ndarray, np.ndarray],
                   test: tuple[np.ndarray, np.ndarray] | None, *, discretize: bool, height: int,
                   lang: str, palette: Palette = STANDARD) -> go.Figure:
    """k classes: cell value class + certainty in [0, 1) on a colour scale that runs pale → full within each
    class's band (no smoothing: it would invent classes between two others)."""
    k = max(2, len(view.class_names))
    chance = 1 / k
    sure = np.clip((view.confidence - chance) / (1 - chance), 0, 0.999)
    z = view.surface + (0.999 if discretize else sure)
    scale = []
    for c in range(k):
        scale += [[c / k, class_colour(c, 0.85, palette)], [(c + 0.999) / k, class_colour(c, 0.35, palette)]]
    scale[-1][0] = 1.0
    names = _axis_names(view)
    labels = np.asarray(view.class_names, dtype=object)[view.surface.astype(int)]
    text_cells = [[f"{label} ({p:.0%})" for label, p in zip(row, prob, strict=True)]
                  for row, prob in zip(labels, view.confidence, strict=True)]
    predicted = text("planar.viz.predicted", lang)
    data = [{"type": "heatmap", "x": np.round(view.axis, 3).tolist(), "y": np.round(view.axis_y, 3).tolist(),
             "z": np.round(z, 3).tolist(), "zmin": 0, "zmax": k, "colorscale": scale, "zsmooth": False,
             "showscale": False, "customdata": text_cells, "name": "output",
             "hovertemplate": f"{names[0]} %{{x:.2f}}<br>{names[1]} %{{y:.2f}}<br>{predicted} %{{customdata}}"
                              "<extra></extra>"}]
    sets = [(text("planar.viz.train", lang), train, "white", 1.0)]
    if test is not None:
        sets.append((text("planar.viz.test", lang), test, "black", 1.6))
    for name, (xy, y), edge, width in sets:
        y = np.asarray(y).astype(int)
        data.append({
            "type": "scatter", "x": np.round(xy[:, 0], 3).tolist(), "y": np.round(xy[:, 1], 3).tolist(),
            "mode": "markers", "name": name, "showlegend": False, "customdata": [view.class_names[c] for c in y],
            "marker": {"color": [class_colour(c, 0.0, palette) for c in y], "size": 7,
                       "line": {"color": edge, "width": width}},
            "hovertemplate": f"{name}<br>{names[0]} %{{x:.2f}}<br>{names[1]} %{{y:.2f}}<br>%{{customdata}}"
                             "<extra></extra>"})
    return fast_figure(data, _surface_layout(view, height, 8))


def confusion_matrix(view: NetworkView, *, height: int = 300, lang: str = "en") -> go.Figure:
    """A table's test rows: true class (rows) against the predicted one (columns)."""
    names = list(view.class_names)
    counts = view.confusion if view.confusion is not None else np.zeros((len(names), len(names)), dtype=int)
    fig = go.Figure(go.Heatmap(z=counts, x=names, y=names, colorscale="Blues", showscale=False, text=counts,
                               texttemplate="%{text}", hovertemplate=text("planar.viz.confusion_hover", lang)
                               + "<extra></extra>"))
    fig.update_xaxes(title_text=text("planar.viz.predicted", lang), type="category")
    fig.update_yaxes(title_text=text("planar.viz.true", lang), type="category", autorange="reversed")
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 36, "b": 10},
                      title=text("planar.viz.confusion_title", lang))
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
    if kind == "hidden" and activation not in _BOUNDED:
        # unbounded outputs: squash by a robust per-neuron scale so zero regions stay grey, shapes stay visible
        # and one far corner cannot wash out the rest
        peak = np.percentile(np.abs(values).reshape(len(values), -1), 95, axis=1)
        return np.tanh(values / np.maximum(0.5 * peak, 1e-6)[:, None, None])
    return values


def _curve(x0: float, y0: float, x1: float, y1: float) -> tuple[list[float], list[float]]:
    """Four points of an S-shaped edge with flat ends; the trace's ``spline`` shape smooths it in the browser."""
    d = (x1 - x0) * 0.35
    return [round(x0, 2), round(x0 + d, 2), round(x1 - d, 2), round(x1, 2)], [round(y0, 2), round(y0, 2),
                                                                             round(y1, 2), round(y1, 2)]


_PX = 24  # atlas pixels per diagram unit (the browser smooths the upscaling)


def _atlas(tiles: list[tuple[float, float, np.ndarray]], box: float, x0: float, y1: float, width: float,
           height: float, palette: Palette = STANDARD) -> str:
    """All neuron tiles on ONE transparent PNG (one image to decode per redraw instead of one per neuron)."""
    canvas = Image.new("RGBA", (round(width * _PX), round(height * _PX)), (0, 0, 0, 0))
    side = round(box * _PX)
    for x, y, values in tiles:
        tile = Image.fromarray(to_rgb(values[::-1], palette), mode="RGB").resize((side - 2, side - 2), Image.LANCZOS)
        framed = Image.new("RGB", (side, side), (85, 85, 85))
        framed.paste(tile, (1, 1))
        canvas.paste(framed, (round((x - box / 2 - x0) * _PX), round((y1 - (y + box / 2)) * _PX)))
    buf = io.BytesIO()
    canvas.save(buf, format="WEBP", quality=85)  # ~5× smaller than PNG for these smooth tiles
    return "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def network_diagram(view: NetworkView, activation: str, *, height: int | None = None, lang: str = "en",
                    palette: Palette = STANDARD) -> go.Figure:
    """Every neuron as a small heatmap of its output over the plane, linked by weight-styled edges.

    Streamlit redraws a changed Plotly chart from scratch, so the figure is kept light for the browser: the
    neuron tiles are one composite image, the edges a handful of line traces grouped by sign and thickness.
    """
    widths = view.widths
    n_cols, rows = len(widths), max(widths)
    dx, dy, box = 3.0, 1.3, 1.0
    ys = [[-(r + (rows - n) / 2) * dy for r in range(n)] for n in widths]
    xs = [c * dx for c in range(n_cols)]
    data: list[dict] = []

    groups: dict[tuple[int, int], tuple[list, list]] = {}
    for layer, weight in enumerate(view.weights):
        for j in range(weight.shape[0]):
            for i in range(weight.shape[1]):
                w = float(weight[j, i])
                cx, cy = _curve(xs[layer] + box / 2, ys[layer][i], xs[layer + 1] - box / 2, ys[layer + 1][j])
                key = (int(w >= 0), int(np.searchsorted(_WIDTH_BINS, abs(w))))
                gx, gy = groups.setdefault(key, ([], []))
                gx.extend([*cx, None])  # None breaks the line between two edges
                gy.extend([*cy, None])
    for (positive, b), (gx, gy) in sorted(groups.items()):
        r, g, bl = palette.positive if positive else palette.negative
        data.append({"type": "scatter", "x": gx, "y": gy, "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                     "line": {"color": f"rgba({r},{g},{bl},{_ALPHAS[b]})", "width": _WIDTHS[b], "shape": "spline",
                              "smoothing": 1.0}})

    kinds = ["input"] + ["hidden"] * (n_cols - 2) + ["output"]
    centre_x, centre_y, centre_text, tiles, notes = [], [], [], [], []
    for c, (values, kind) in enumerate(zip(view.neurons, kinds, strict=True)):
        scaled = _column_scale(values, kind, activation)
        for r in range(len(values)):
            x, y = xs[c], ys[c][r]
            tiles.append((x, y, scaled[r]))
            centre_x.append(x)
            centre_y.append(y)
            centre_text.append(_neuron_hover(view, c, r, activation, lang))
            if kind == "input":
                notes.append({"x": x - box / 2 - 0.15, "y": y, "text": _input_label(view.features[r]),
                              "showarrow": False, "xanchor": "right", "font": {"size": 13}})
    data.append({"type": "scatter", "x": centre_x, "y": centre_y, "mode": "markers", "name": "neurons",
                 "showlegend": False, "hoverinfo": "text", "hovertext": centre_text,
                 "marker": {"symbol": "square", "size": 26, "color": "rgba(0,0,0,0)"}})
    y_top, y_bottom = max(col[0] for col in ys) + box / 2, -(rows - 1) * dy - box / 2
    x_left, x_right = -box / 2, xs[-1] + box / 2
    image = {"source": _atlas(tiles, box, x_left, y_top, x_right - x_left, y_top - y_bottom, palette), "x": x_left,
             "y": y_top, "sizex": x_right - x_left, "sizey": y_top - y_bottom, "xref": "x", "yref": "y",
             "sizing": "stretch", "layer": "above"}
    top = y_top + 0.25
    for c, n in enumerate(widths):
        title = text("planar.viz.input" if c == 0 else ("planar.viz.output" if c == n_cols - 1 else "planar.viz.layer"),
                     lang, n=c)
        sub = "" if c == n_cols - 1 else text("planar.viz.n_features" if c == 0 else "planar.viz.n_neurons", lang, n=n)
        notes.append({"x": xs[c], "y": top, "text": f"<b>{title}</b><br>{sub}", "showarrow": False,
                      "yanchor": "bottom", "font": {"size": 12}})
    bottom = y_bottom - 0.2
    layout = {
        "xaxis": {"visible": False, "range": [-1.9, xs[-1] + box / 2 + 0.3], "fixedrange": True},
        "yaxis": {"visible": False, "range": [bottom, top + 1.0], "scaleanchor": "x", "fixedrange": True},
        "images": [image], "annotations": notes,
        "height": height or int(np.clip(540 * (top + 1.0 - bottom) / (xs[-1] + 2.7), 220, 560)),
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "plot_bgcolor": "white", "uirevision": "diagram",
        "hoverlabel": {"align": "left"},
    }
    return fast_figure(data, layout)


def _input_label(key: str, short: bool = True) -> str:
    """A generated set's feature (x₁, sin x₂ …) or a table's column (shortened for the diagram)."""
    if key in FEATURES:
        return feature_label(key)
    return key if not short or len(key) <= LABEL_CHARS else key[: LABEL_CHARS - 1] + "…"


def _name(view: NetworkView, column: int, index: int, lang: str) -> str:
    if column == 0:
        return _input_label(view.features[index])
    if column == len(view.neurons) - 1:
        if len(view.neurons[-1]) > 1:
            return _input_label(view.class_names[index])
        return text("planar.viz.output_short", lang)
    return f"L{column}.{index + 1}"


def _neuron_hover(view: NetworkView, column: int, index: int, activation: str, lang: str) -> str:
    if column == 0:
        return text("planar.viz.hover_input", lang, name=_input_label(view.features[index], short=False))
    bias = float(view.biases[column - 1][index])
    incoming = view.weights[column - 1][index]
    weights = "<br>".join(text("planar.viz.hover_from", lang, name=_name(view, column - 1, i, lang), w=w)
                          for i, w in enumerate(incoming))
    if column == len(view.neurons) - 1:
        what = "2·σ(z) − 1" if view.problem == "classification" else text("planar.viz.linear", lang)
        if len(view.neurons[-1]) > 1:  # one output per class: its softmax probability
            what = text("planar.viz.softmax", lang, name=view.class_names[index])
        return text("planar.viz.hover_output", lang, what=what, bias=bias, weights=weights)
    return text("planar.viz.hover_neuron", lang, layer=column, n=index + 1, activation=activation, bias=bias,
                weights=weights)


def weight_legend(lang: str = "en") -> str:
    """A one-line Markdown legend for the diagram."""
    return text("planar.viz.legend", lang)


# ---------------------------------------------------------------------------------------------- compare
def compare_runs(runs: Sequence[dict], *, height: int = 260, metric: str = "test_loss", lang: str = "en"
                 ) -> go.Figure:
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
                                 name=f"#{run['run']} {localize(run['label'], lang)}{final}",
                                 line={"color": palette[k % len(palette)], "width": width}))
    fig.update_xaxes(title_text=text("common.curves.epoch", lang))
    fig.update_yaxes(title_text=text(f"planar.viz.{metric}", lang), rangemode="tozero")
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, uirevision="compare",
                      legend={"orientation": "v", "x": 1.02, "y": 1, "font": {"size": 11}})
    return fig
