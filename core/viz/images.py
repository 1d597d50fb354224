"""Plotly figures for the vision labs: image galleries, conv filter grids, the feature-map flow from input to
class probabilities, a single layer's channels, the confusion matrix and class-probability bars.

Pure functions: NumPy arrays in, ``go.Figure`` out; every text comes from the ``vision.viz`` catalogue in the
``lang`` asked for. Signed values (weights, pre-activation maps) use the diverging ``RdBu_r`` scale centred at 0
(red positive, blue negative).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import localize, text
from core.inspect.feature_maps import FeatureFlow, FeatureMap
from core.inspect.filters import FilterSet

DIVERGING = "RdBu_r"
GAP_RGB = 255  # white gutters between tiles
MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


def _hide_axes(fig: go.Figure) -> None:
    fig.update_xaxes(visible=False, showgrid=False, zeroline=False)
    fig.update_yaxes(visible=False, showgrid=False, zeroline=False, autorange="reversed")


def _to_rgb(images: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` in 0..1 (C = 1 or 3) → ``(N, H, W, 3)`` uint8."""
    arr = np.clip(np.asarray(images, dtype=np.float32), 0, 1)
    if arr.shape[1] == 1:
        arr = np.repeat(arr, 3, axis=1)
    return (arr.transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)


def montage(tiles: np.ndarray, cols: int, gap: int = 1, fill: float | int = GAP_RGB) -> np.ndarray:
    """``(N, H, W[, 3])`` tiles → one ``(rows·(H+gap)−gap, cols·(W+gap)−gap[, 3])`` array, row-major."""
    n, h, w = tiles.shape[:3]
    rows = max(1, -(-n // cols))
    shape = (rows * (h + gap) - gap, cols * (w + gap) - gap) + tiles.shape[3:]
    out = np.full(shape, fill, dtype=tiles.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tiles[i]
    return out


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, *, cols: int = 8, tile_px: int = 80,
               title_colors: Sequence[str] | None = None, title: str | None = None) -> go.Figure:
    """A gallery of ``(N, C, H, W)`` pictures in 0..1 (grey or RGB), each with an optional caption below
    (``<br>`` starts a second line)."""
    n = len(images)
    cols = max(1, min(cols, n))
    rgb = _to_rgb(images)
    h, w = rgb.shape[1:3]
    gap = max(1, h // 8)
    scale = tile_px / w
    lines = max((t.count("<br>") + 1 for t in titles), default=0) if titles else 0
    band = int(np.ceil((lines * 14 + 4) / scale)) if lines else 0  # caption band, in image pixels
    if band:
        rgb = np.concatenate([rgb, np.full((n, band, w, 3), GAP_RGB, np.uint8)], axis=1)
    grid = montage(rgb, cols, gap)
    fig = go.Figure(go.Image(z=grid, hoverinfo="skip"))
    rows = max(1, -(-n // cols))
    if titles:
        for i, caption in enumerate(titles):
            r, c = divmod(i, cols)
            fig.add_annotation(x=c * (w + gap) + w / 2, y=r * (h + band + gap) + h + band / 2, text=caption,
                               showarrow=False, font={"size": 11, "color": (title_colors or ["#333"] * n)[i]})
    _hide_axes(fig)
    fig.update_layout(height=int(rows * (h + band + gap) * scale) + (40 if title else 12),
                      margin={"l": 0, "r": 0, "t": 30 if title else 4, "b": 0}, title=title)
    return fig


def _grid_height(rows: int, cols: int, k: int, width: int = 300) -> int:
    """Figure height that fits a ``rows × cols`` grid of ``k × k`` tiles into about ``width`` pixels."""
    return int(min(620, max(140, width * (rows * (k + 1)) / (cols * (k + 1)) + 70)))


def filter_grid(filters: FilterSet, *, max_filters: int = 32, max_inputs: int = 8, title: str | None = None,
                height: int | None = None, lang: str = "en") -> go.Figure:
    """A conv layer's kernels. RGB first layers: one colour tile per filter (grey = 0, scaled per layer).
    One input channel: a grid of filters. Otherwise: one row per filter, one column per input channel.
    Weights use the diverging scale centred at 0, shared by the whole layer."""
    w = filters.weights[:max_filters]
    k = w.shape[-1]
    limit = float(np.abs(w).max()) or 1.0
    title = title or localize(filters.label, lang)
    if filters.rgb:
        tiles = np.clip(0.5 + 0.5 * w.transpose(0, 2, 3, 1) / limit, 0, 1)
        cols = min(8, len(tiles))
        grid = montage((tiles * 255 + 0.5).astype(np.uint8), cols, gap=1)
        fig = go.Figure(go.Image(z=grid, hoverinfo="skip"))
        rows = -(-len(tiles) // cols)
        fig.update_layout(height=height or _grid_height(rows, cols, k))
        fig.add_annotation(text=text("vision.viz.rgb_filters", lang), showarrow=False,
                           xref="paper", yref="paper", x=0, y=-0.02, yanchor="top", xanchor="left",
                           font={"size": 11, "color": "#555"})
    else:
        w = w[:, :max_inputs]
        if w.shape[1] == 1:
            cols = min(8, len(w))
            tiles = w[:, 0]
            labels = [[text("vision.viz.filter", lang, n=i)] for i in range(len(w))]
        else:
            cols = w.shape[1]
            tiles = w.reshape(-1, k, k)
            labels = [[text("vision.viz.filter_channel", lang, n=f, c=c)] for f in range(w.shape[0])
                      for c in range(w.shape[1])]
        z = montage(tiles.astype(np.float32), cols, gap=1, fill=np.nan)
        names = montage(np.array([[[lab[0]] * k] * k for lab in labels], dtype=object), cols, gap=1, fill="")
        weight = text("vision.viz.weight", lang)
        fig = go.Figure(go.Heatmap(z=z, text=names, colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit,
                                   hovertemplate=f"%{{text}}<br>{weight} %{{z:.3f}}<extra></extra>",
                                   colorbar={"title": {"text": weight}, "thickness": 10, "len": 0.8}))
        rows = -(-len(tiles) // cols)
        fig.update_layout(height=height or _grid_height(rows, cols, k))
        if w.shape[1] > 1:
            fig.add_annotation(text=text("vision.viz.filter_axes", lang, last=w.shape[0] - 1, inputs=w.shape[1] - 1),
                               showarrow=False, xref="paper", yref="paper", x=0, y=-0.02, yanchor="top",
                               xanchor="left", font={"size": 11, "color": "#555"})
    _hide_axes(fig)
    fig.update_yaxes(scaleanchor="x", constrain="domain", constraintoward="top")
    fig.update_xaxes(constrain="domain", constraintoward="left")
    fig.update_layout(title={"text": title, "font": {"size": 14}}, margin={"l": 0, "r": 0, "t": 30, "b": 22},
                      uirevision=filters.name)
    return fig


def _resample(values: np.ndarray, size: int) -> np.ndarray:
    """``(C, H, W)`` → ``(C, size, size)`` by nearest neighbour, so every column of the flow lines up."""
    rows = np.arange(size) * values.shape[1] // size
    cols = np.arange(size) * values.shape[2] // size
    return values[:, rows][:, :, cols]


def feature_flow(flow: FeatureFlow, input_image: np.ndarray, classes: Sequence[str], *, max_channels: int = 6,
                 skip_kinds: Sequence[str] = (), height: int = 620, lang: str = "en") -> go.Figure:
    """CNN-Explainer-style flow, left to right: the input picture, every layer's first ``max_channels`` maps
    (stacked; each column on its own symmetric scale, red positive, blue negative) and the class
    probabilities. Small maps are drawn with bigger pixels so the columns line up."""
    maps = [m for m in flow.maps if m.kind not in skip_kinds]
    n = len(maps)
    widths = [1.0] * (n + 1) + [0.45, 1.6]  # a spacer column before the probabilities
    probability = text("vision.viz.probability", lang)
    titles = ([text("vision.viz.input", lang)] + [f"{m.label}<br>{'×'.join(map(str, m.values.shape))}" for m in maps]
              + ["", probability])
    channel, value = text("vision.viz.channel", lang), text("vision.viz.value", lang)
    fig = make_subplots(rows=1, cols=n + 3, column_widths=widths, subplot_titles=titles, horizontal_spacing=0.006)
    img = np.asarray(input_image, dtype=np.float32)
    if img.ndim == 2:
        img = img[:, :, None]
    rgb = (np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img)
    fig.add_trace(go.Image(z=(np.clip(rgb, 0, 1) * 255).astype(np.uint8), hoverinfo="skip"), row=1, col=1)
    size = max([m.values.shape[1] for m in maps] + [img.shape[0], 8])
    gap = max(1, size // 6)
    for i, fm in enumerate(maps, start=2):
        count = min(max_channels, fm.values.shape[0])
        z = montage(_resample(fm.values[:count].astype(np.float32), size), 1, gap=gap, fill=np.nan)
        limit = float(np.nanmax(np.abs(z))) or 1.0
        channel_of_row = np.full(z.shape[0], -1)
        for c in range(count):
            channel_of_row[c * (size + gap):c * (size + gap) + size] = c
        custom = np.repeat(channel_of_row[:, None], z.shape[1], axis=1)
        fig.add_trace(go.Heatmap(z=z, customdata=custom, colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit,
                                 showscale=False, hovertemplate=f"{fm.label} · {channel} %{{customdata}}<br>"
                                 f"{value} %{{z:.3f}}<extra></extra>"), row=1, col=i)
        fig.update_yaxes(scaleanchor=f"x{i}", row=1, col=i)
    probs = np.asarray(flow.probs)
    best = int(probs.argmax())
    colors = ["#d62728" if j == best else "#9ecae1" for j in range(len(probs))]
    fig.add_trace(go.Bar(x=probs, y=[str(c) for c in classes], orientation="h", marker_color=colors,
                         text=[f"{p:.0%}" for p in probs], textposition="outside", cliponaxis=False,
                         hovertemplate="%{y}: %{x:.1%}<extra></extra>"), row=1, col=n + 3)
    for col in range(1, n + 3):
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, autorange="reversed", row=1, col=col)
    fig.update_xaxes(range=[0, 1.35], showticklabels=False, showgrid=False, row=1, col=n + 3,
                     title_text=probability)
    fig.update_yaxes(autorange="reversed", type="category", row=1, col=n + 3)
    fig.update_annotations(font_size=10)
    fig.update_layout(height=height, showlegend=False, margin={"l": 4, "r": 30, "t": 40, "b": 10},
                      uirevision="flow")
    return fig


def channel_grid(fm: FeatureMap, *, cols: int = 8, max_channels: int = 64, height: int | None = None,
                 lang: str = "en") -> go.Figure:
    """Every channel of one layer (up to ``max_channels``) in a grid on one symmetric colour scale."""
    values = fm.values[:max_channels].astype(np.float32)
    c, h, w = values.shape
    cols = min(cols, c)
    gap = max(1, h // 8)
    z = montage(values, cols, gap=gap, fill=np.nan)
    limit = float(np.nanmax(np.abs(z))) or 1.0
    index = montage(np.repeat(np.arange(c)[:, None, None], h, 1).repeat(w, 2).astype(np.float32), cols, gap=gap,
                    fill=np.nan)
    channel, value = text("vision.viz.channel", lang), text("vision.viz.value", lang)
    fig = go.Figure(go.Heatmap(z=z, customdata=index, colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit,
                               hovertemplate=f"{channel} %{{customdata:.0f}}<br>{value} %{{z:.3f}}<extra></extra>",
                               colorbar={"title": {"text": text("vision.viz.activation", lang)}, "thickness": 10}))
    _hide_axes(fig)
    fig.update_yaxes(scaleanchor="x")
    rows = -(-c // cols)
    fig.update_layout(height=height or int(min(700, max(220, rows * 110 + 40))), margin=MARGIN,
                      title={"text": f"{fm.label} — {localize(fm.detail, lang)} · {c}×{h}×{w}", "font": {"size": 14}})
    return fig


def confusion_matrix(confusion: np.ndarray, classes: Sequence[str], *, normalize: bool = False,
                     lang: str = "en") -> go.Figure:
    """Rows are the true class, columns the predicted class; the diagonal is what the model got right."""
    counts = np.asarray(confusion, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    z = shares if normalize else counts
    cells = [[f"{shares[i, j]:.0%}" if normalize else f"{int(counts[i, j])}" for j in range(len(classes))]
             for i in range(len(classes))]
    labels = [str(c) for c in classes]
    hover = text("vision.viz.confusion_hover", lang, true="%{y}", predicted="%{x}", count="%{customdata:.0f}")
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, text=cells, texttemplate="%{text}", colorscale="Blues",
                               customdata=counts, hovertemplate=f"{hover}<extra></extra>",
                               colorbar={"title": {"text": text("vision.viz.share_of_row" if normalize
                                                                else "vision.viz.images", lang)}}))
    fig.update_xaxes(title_text=text("vision.viz.predicted", lang), type="category", side="bottom")
    fig.update_yaxes(title_text=text("vision.viz.true", lang), type="category", autorange="reversed")
    size = 60 + 38 * len(classes)
    fig.update_layout(height=max(300, min(620, size)), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def class_probabilities(probs: np.ndarray, classes: Sequence[str], *, height: int = 300,
                        lang: str = "en") -> go.Figure:
    """Bars of the softmax output, the predicted class highlighted."""
    probs = np.asarray(probs, dtype=np.float64)
    best = int(probs.argmax())
    fig = go.Figure(go.Bar(x=[str(c) for c in classes], y=probs, text=[f"{p:.0%}" for p in probs],
                           textposition="outside", cliponaxis=False,
                           marker_color=["#d62728" if i == best else "#9ecae1" for i in range(len(probs))],
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_xaxes(title_text=text("vision.viz.class", lang), type="category")
    fig.update_yaxes(title_text=text("vision.viz.probability", lang), range=[0, 1.15], tickformat=".0%")
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 20, "b": 10}, showlegend=False)
    return fig
