"""Plotly figures of the training-craft lab: views in, ``go.Figure`` out, every text from the catalogue
(``craft.viz.*``) in the visitor's language."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import has, text
from core.labs.craft import (
    BiasVarianceView,
    FitView,
    KFoldView,
    PipelineView,
    PolyView,
    RaceView,
    RangeView,
    ScheduleView,
    SearchComparison,
    SearchView,
    SideBySideView,
    SurfaceGrid,
    TableView,
    WeightHistograms,
)
from core.training import OPTIMIZERS

TRAIN_COLOR, VAL_COLOR, BEST_COLOR = "#1f77b4", "#ff7f0e", "#2ca02c"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
MAX_PATH_POINTS = 300  # per optimizer drawn on the contour
FRAME_POINTS = 100  # per optimizer in each animation frame


def _t(lang: str, key: str, /, **params: object) -> str:
    return text(f"craft.viz.{key}", lang, **params)


def _label(lang: str, table: str, name: str) -> str:
    """A catalogue name (``craft.<table>.<name>``) when there is one, else the name itself."""
    key = f"craft.{table}.{name}"
    return text(key, lang) if has(key, lang) else name


def color_of(name: str, order: Sequence[str] = tuple(OPTIMIZERS)) -> str:
    """A stable colour per optimizer (its place in the registry) or per model name."""
    i = list(order).index(name) if name in order else sum(map(ord, name))
    return PALETTE[i % len(PALETTE)]


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y)
    return x[keep], y[keep]


def _thin(n: int, most: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(int)) if n else np.zeros(0, dtype=int)


# ---------------------------------------------------------------------------------------------- optimizer race
def race_figure(view: RaceView, grid: SurfaceGrid, *, lang: str = "en", frames: int = 40,
                height: int = 480) -> go.Figure:
    """Contour of the surface (log scale) with every optimizer's path and its point now; with ``frames`` > 0 the
    figure carries an animation (Play / Pause and a step slider) that replays the race."""
    fig = go.Figure(go.Contour(x=grid.x, y=grid.y, z=grid.level, colorscale="Viridis", ncontours=30, showscale=False,
                               contours={"coloring": "heatmap"}, opacity=0.85, name=_t(lang, "surface"),
                               hovertemplate="x %{x:.2f}<br>y %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=view.minima[:, 0], y=view.minima[:, 1], mode="markers", name=_t(lang, "minimum"),
                             marker={"symbol": "star", "size": 16, "color": "white", "line": {"color": "black",
                                                                                             "width": 1}}))
    start = view.path[0, 0]
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name=_t(lang, "start"),
                             marker={"symbol": "x", "size": 11, "color": "white"}))
    idx = _thin(view.path.shape[1], MAX_PATH_POINTS)
    paths = view.path  # float32: plotly sends numpy arrays as compact binary
    labels = []
    for k, name in enumerate(view.names):
        label = f"{_label(lang, 'optimizers', name)} · {view.rates[k]:g}"
        if view.diverged[k] >= 0:
            label += " · " + _t(lang, "diverged_at", step=int(view.diverged[k]))
        labels.append(label)
        path = paths[k, idx]
        fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", name=label, legendgroup=name,
                                 line={"color": color_of(name), "width": 2}))
        fig.add_trace(go.Scatter(x=path[-1:, 0], y=path[-1:, 1], mode="markers", showlegend=False, legendgroup=name,
                                 marker={"color": color_of(name), "size": 10, "line": {"color": "white", "width": 1}}))
    x0, x1, y0, y1 = view.box
    fig.update_xaxes(range=[x0, x1], title_text="x", constrain="domain")
    fig.update_yaxes(range=[y0, y1], title_text="y", scaleanchor="x", constrain="domain")
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "race_title", steps=view.step),
                      legend={"orientation": "h", "y": -0.12}, uirevision="race")
    if frames and len(idx) > 1:
        _animate(fig, paths, idx, frames, lang)
    return fig


def _animate(fig: go.Figure, paths: np.ndarray, idx: np.ndarray, frames: int, lang: str) -> None:
    first = 3  # contour, minima, start
    traces = list(range(first, first + 2 * len(paths)))
    stops = idx[_thin(len(idx), frames)]
    out = []
    for stop in stops:
        upto = idx[idx <= stop]
        upto = upto[_thin(len(upto), FRAME_POINTS)]  # frames carry fewer points than the final paths
        data = []
        for k in range(len(paths)):
            path = paths[k, upto]
            data += [go.Scatter(x=path[:, 0], y=path[:, 1]), go.Scatter(x=path[-1:, 0], y=path[-1:, 1])]
        out.append(go.Frame(data=data, traces=traces, name=str(int(stop))))
    fig.frames = out
    play = {"frame": {"duration": 60, "redraw": False}, "fromcurrent": True, "transition": {"duration": 0}}
    fig.update_layout(
        updatemenus=[{"type": "buttons", "showactive": False, "x": 0, "y": 1.12, "xanchor": "left",
                      "buttons": [{"label": _t(lang, "play"), "method": "animate", "args": [None, play]},
                                  {"label": _t(lang, "pause"), "method": "animate",
                                   "args": [[None], {"frame": {"duration": 0}, "mode": "immediate"}]}]}],
        sliders=[{"active": len(out) - 1, "x": 0.12, "len": 0.88, "y": 1.14, "currentvalue": {"prefix": _t(
            lang, "step") + " "}, "steps": [{"label": f.name, "method": "animate", "args": [[f.name], {
                "frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]} for f in out]}])


def race_losses(view: RaceView, *, lang: str = "en", height: int = 300) -> go.Figure:
    """f − f_min along each path (log scale), the step each settled near the minimum marked."""
    fig = go.Figure()
    steps = np.arange(view.loss.shape[1])
    idx = _thin(len(steps), 1000)
    for k, name in enumerate(view.names):
        gap = np.maximum(view.loss[k, idx].astype(np.float64) - view.f_min, 1e-12)
        fig.add_trace(go.Scatter(x=steps[idx], y=gap, mode="lines", name=_label(lang, "optimizers", name),
                                 line={"color": color_of(name)}))
        if view.reached[k] >= 0:
            r = int(view.reached[k])
            fig.add_trace(go.Scatter(x=[r], y=[max(view.loss[k, r] - view.f_min, 1e-12)], mode="markers",
                                     showlegend=False, marker={"color": color_of(name), "size": 9, "symbol": "circle"},
                                     hovertemplate=_t(lang, "reached_hover", name=name, step=r) + "<extra></extra>"))
    fig.update_xaxes(title_text=_t(lang, "step"))
    fig.update_yaxes(title_text=_t(lang, "above_minimum"), type="log")
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "race_losses"),
                      legend={"orientation": "h", "y": -0.3})
    return fig


def side_by_side_figure(view: SideBySideView, history: Mapping[str, Sequence[float]] | None = None, *,
                        lang: str = "en", height: int = 320, table: str = "optimizers") -> go.Figure:
    """Training loss per step (from the job's history, else per evaluation) and validation accuracy of models
    trained side by side (``table``: the catalogue table naming them: ``optimizers`` or ``pipeline``)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_t(lang, "train_loss"), _t(lang, "val_accuracy")),
                        horizontal_spacing=0.12)
    for k, name in enumerate(view.names):
        label = _label(lang, table, name)
        color = color_of(name) if table == "optimizers" else PALETTE[k % len(PALETTE)]
        if history is not None and f"loss_{name}" in history:
            x, y = _finite(np.asarray(history["step"]), np.asarray(history[f"loss_{name}"]))
            xlab = _t(lang, "step")
        else:
            x, y = _finite(view.epoch, view.train_loss[k])
            xlab = _t(lang, "epoch")
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=label, legendgroup=name, line={"color": color}),
                      row=1, col=1)
        ex, ey = _finite(view.epoch, view.val_accuracy[k])
        fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines+markers", name=label, legendgroup=name, showlegend=False,
                                 line={"color": color}), row=1, col=2)
    fig.update_xaxes(title_text=xlab if view.names else "", row=1, col=1)
    fig.update_xaxes(title_text=_t(lang, "epoch"), row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.3})
    return fig


# ---------------------------------------------------------------------------------------------- schedules
def schedules_figure(view: ScheduleView, *, lang: str = "en", highlight: str | None = None,
                     height: int = 320) -> go.Figure:
    """The rate of every batch under each schedule (``highlight``: the one the run uses, drawn thicker)."""
    fig = go.Figure()
    steps = np.arange(view.steps)
    idx = _thin(view.steps, 1000)
    for k, name in enumerate(view.names):
        strong = highlight is None or name == highlight
        fig.add_trace(go.Scatter(x=steps[idx], y=view.lr[k, idx], mode="lines", name=_label(lang, "schedules", name),
                                 line={"color": PALETTE[k % len(PALETTE)], "width": 3 if strong else 1.2},
                                 opacity=1.0 if strong else 0.55))
    fig.update_xaxes(title_text=_t(lang, "step"))
    fig.update_yaxes(title_text=_t(lang, "learning_rate"))
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "schedules_title", lr=view.base_lr),
                      legend={"orientation": "h", "y": -0.25})
    return fig


def range_test_figure(view: RangeView, *, lang: str = "en", height: int = 320) -> go.Figure:
    """Loss against the rising rate (log scale), smoothed, with the suggested rate marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=view.lr, y=view.loss, mode="lines", name=_t(lang, "loss"),
                             line={"color": TRAIN_COLOR, "width": 1}, opacity=0.4))
    fig.add_trace(go.Scatter(x=view.lr, y=view.smoothed, mode="lines", name=_t(lang, "smoothed"),
                             line={"color": TRAIN_COLOR, "width": 2.5}))
    if math.isfinite(view.suggested):
        fig.add_vline(x=view.suggested, line={"color": BEST_COLOR, "dash": "dash"},
                      annotation_text=_t(lang, "suggested", lr=view.suggested), annotation_position="top left")
    fig.update_xaxes(type="log", title_text=_t(lang, "learning_rate"))
    fig.update_yaxes(title_text=_t(lang, "loss"))
    finite = view.smoothed[np.isfinite(view.smoothed)]
    if len(finite):
        fig.update_yaxes(range=[0, float(min(finite.max(), 3 * finite[0])) * 1.05])
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "range_title"),
                      legend={"orientation": "h", "y": -0.25})
    return fig


# ---------------------------------------------------------------------------------------------- overfitting
def fit_curves(view: FitView, *, lang: str = "en", metric: str = "loss", height: int = 320) -> go.Figure:
    """Training vs validation ``metric`` ("loss" or "accuracy") per epoch, the best epoch marked and the
    generalization gap written in the title."""
    train = view.train_loss if metric == "loss" else view.train_accuracy
    val = view.val_loss if metric == "loss" else view.val_accuracy
    fig = go.Figure()
    for name, values, color in (("train", train, TRAIN_COLOR), ("validation", val, VAL_COLOR)):
        x, y = _finite(view.epoch, values)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_t(lang, name), line={"color": color}))
    if view.best_epoch >= 0:
        label = _t(lang, "restored" if view.restored else "best_epoch", epoch=view.best_epoch)
        fig.add_vline(x=view.best_epoch, line={"color": BEST_COLOR, "dash": "dash"}, annotation_text=label,
                      annotation_position="top right")
    gap = view.gap_loss if metric == "loss" else view.gap_accuracy
    title = _t(lang, "gap_title", gap=gap) if math.isfinite(gap) else _t(lang, "curves_title")
    fig.update_xaxes(title_text=_t(lang, "epoch"))
    fig.update_yaxes(title_text=_t(lang, metric), type="log" if metric == "loss" else "linear")
    fig.update_layout(height=height, margin=MARGIN, title=title, legend={"orientation": "h", "y": -0.25},
                      uirevision="fit")
    return fig


def weight_histograms_figure(view: FitView | WeightHistograms, *, lang: str = "en",
                             height: int = 260) -> go.Figure:
    """One histogram per layer of its weights (each over its own range; the spread in the subplot title)."""
    layers = view.layers
    counts = view.hist_counts if isinstance(view, FitView) else view.counts
    edges = view.hist_edges if isinstance(view, FitView) else view.edges
    std = view.weight_std if isinstance(view, FitView) else view.std
    n = max(1, len(layers))
    titles = [_t(lang, "layer_std", layer=_layer(lang, name), std=float(s)) for name, s in zip(layers, std,
                                                                                                strict=True)]
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles or [""], horizontal_spacing=0.04)
    for i in range(len(layers)):
        centers = (edges[i][:-1] + edges[i][1:]) / 2
        fig.add_trace(go.Bar(x=centers, y=counts[i], width=np.diff(edges[i]), marker={"color": PALETTE[i % 10]},
                             showlegend=False, hovertemplate="w %{x:.3f}: %{y}<extra></extra>"), row=1, col=i + 1)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10}, bargap=0,
                      title=_t(lang, "weights_title"))
    return fig


def _layer(lang: str, name: str) -> str:
    if name == "output":
        return _t(lang, "output_layer")
    return _t(lang, "hidden_layer", n=name.split()[-1])


def poly_figure(view: PolyView, *, lang: str = "en", height: int = 360) -> go.Figure:
    """The fitted polynomial over the training and validation samples and the true curve."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=view.x_val, y=view.y_val, mode="markers", name=_t(lang, "validation"),
                             marker={"color": VAL_COLOR, "size": 5, "opacity": 0.5}))
    fig.add_trace(go.Scatter(x=view.x_train, y=view.y_train, mode="markers", name=_t(lang, "train"),
                             marker={"color": TRAIN_COLOR, "size": 9, "line": {"color": "white", "width": 1}}))
    fig.add_trace(go.Scatter(x=view.x, y=view.truth, mode="lines", name=_t(lang, "truth"),
                             line={"color": "gray", "dash": "dot"}))
    fig.add_trace(go.Scatter(x=view.x, y=view.prediction, mode="lines", name=_t(lang, "fit", degree=view.degree),
                             line={"color": BEST_COLOR, "width": 3}))
    lo = float(min(view.y_train.min(initial=0), view.truth.min())) - 1
    hi = float(max(view.y_train.max(initial=0), view.truth.max())) + 1
    fig.update_xaxes(title_text="x", range=[-1.02, 1.02])
    fig.update_yaxes(title_text="y", range=[lo, hi])
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "poly_title", degree=view.degree),
                      legend={"orientation": "h", "y": -0.2}, uirevision="poly")
    return fig


def bias_variance_figure(view: BiasVarianceView, *, lang: str = "en", height: int = 340) -> go.Figure:
    """Bias², variance, noise and the training and test errors against the degree (log scale)."""
    fig = go.Figure()
    series = (("bias2", view.bias2, "#d62728", "solid"), ("variance", view.variance, "#9467bd", "solid"),
              ("train_error", view.train_mse, TRAIN_COLOR, "dash"), ("test_error", view.test_mse, VAL_COLOR, "solid"))
    for key, values, color, dash in series:
        fig.add_trace(go.Scatter(x=view.degrees, y=np.maximum(values, 1e-6), mode="lines+markers", name=_t(lang, key),
                                 line={"color": color, "dash": dash}))
    fig.add_hline(y=max(view.noise, 1e-6), line={"color": "gray", "dash": "dot"}, annotation_text=_t(lang, "noise"))
    fig.add_vline(x=view.best_degree, line={"color": BEST_COLOR, "dash": "dash"},
                  annotation_text=_t(lang, "best_degree", degree=view.best_degree))
    fig.update_xaxes(title_text=_t(lang, "degree"), dtick=1)
    fig.update_yaxes(title_text=_t(lang, "mse"), type="log")
    fig.update_layout(height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.25},
                      title=_t(lang, "bias_variance_title", points=view.points, repeats=view.repeats))
    return fig


# ---------------------------------------------------------------------------------------------- data pipeline
def split_figure(view: PipelineView, *, lang: str = "en", height: int = 260) -> go.Figure:
    """Rows per split, stacked by class."""
    splits = [_t(lang, s) for s in ("train", "validation", "test")]
    fig = go.Figure([go.Bar(x=splits, y=view.class_counts[:, c], name=str(name), marker={"color": PALETTE[c % 10]})
                     for c, name in enumerate(view.classes)])
    fig.update_layout(barmode="stack", height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.2},
                      title=_t(lang, "split_title", n=int(view.split_sizes.sum())))
    fig.update_yaxes(title_text=_t(lang, "rows"))
    return fig


def feature_scales_figure(view: PipelineView, *, lang: str = "en", height: int = 320) -> go.Figure:
    """Each feature's spread on the training rows, raw and standardized (log scale)."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(view.features), y=view.raw_std, name=_label(lang, "pipeline", "raw"),
                         marker={"color": "#d62728"}))
    fig.add_trace(go.Bar(x=list(view.features), y=view.standardized_std, name=_label(lang, "pipeline",
                                                                                       "standardized"),
                         marker={"color": BEST_COLOR}))
    fig.update_yaxes(type="log", title_text=_t(lang, "spread"))
    fig.update_layout(barmode="group", height=height, margin=MARGIN, title=_t(lang, "scales_title"),
                      legend={"orientation": "h", "y": -0.45})
    return fig


def kfold_figure(view: KFoldView, *, lang: str = "en", height: int = 360) -> go.Figure:
    """Which fold validates each row (test rows apart), and each fold's score with their mean and the test score."""
    fig = make_subplots(rows=2, cols=1, row_heights=[0.25, 0.75], vertical_spacing=0.18,
                        subplot_titles=(_t(lang, "folds_rows"), _t(lang, "folds_scores", metric=_t(lang, view.metric))))
    order = np.argsort(np.where(view.fold_of < 0, view.folds, view.fold_of), kind="stable")
    z = view.fold_of[order].astype(float)
    z[z < 0] = np.nan
    fig.add_trace(go.Heatmap(z=[z], colorscale="Turbo", showscale=False, zmin=0, zmax=max(1, view.folds - 1),
                             hovertemplate=_t(lang, "fold_hover") + "<extra></extra>"), row=1, col=1)
    names = [_t(lang, "fold", k=k + 1) for k in range(view.folds)]
    fig.add_trace(go.Bar(x=names, y=view.scores, marker={"color": TRAIN_COLOR}, showlegend=False,
                         text=[f"{s:.3f}" for s in view.scores], textposition="outside"), row=2, col=1)
    fig.add_hline(y=view.mean, line={"color": "black", "dash": "dash"}, row=2, col=1,
                  annotation_text=_t(lang, "fold_mean", mean=view.mean, std=view.std))
    if math.isfinite(view.test_score):
        fig.add_hline(y=view.test_score, line={"color": BEST_COLOR, "dash": "dot"}, row=2, col=1,
                      annotation_text=_t(lang, "test_score", score=view.test_score), annotation_position="bottom right")
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=1)
    fig.update_layout(height=height, margin=MARGIN)
    return fig


# ---------------------------------------------------------------------------------------------- search
def trial_table(view: SearchView, *, lang: str = "en") -> pd.DataFrame:
    """The live trial table: number, state, score, epochs, seconds and the hyperparameters."""
    columns = {
        _t(lang, "trial"): view.number,
        _t(lang, "state"): [_t(lang, f"state_{s}") for s in view.state],
        _t(lang, "score"): np.round(view.value, 4),
        _t(lang, "epochs"): view.epochs.astype(int) if len(view.epochs) else view.epochs,
        _t(lang, "seconds"): np.round(view.seconds, 2),
    }
    for j, name in enumerate(view.param_names):
        values = view.params[:, j]
        if name in ("width", "depth", "batch_size"):  # whole numbers, blank while not sampled yet
            values = pd.array([None if math.isnan(v) else int(round(v)) for v in values], dtype="Int64")
        columns[_t(lang, f"param_{name}")] = values
    return pd.DataFrame(columns)


def search_progress(result: SearchView | Sequence[SearchView] | SearchComparison, *, lang: str = "en",
                    height: int = 320) -> go.Figure:
    """Best score so far against the trial number: one search, several, or every method × seed of a comparison
    (thin lines per seed, the median thick)."""
    fig = go.Figure()
    if isinstance(result, SearchComparison):
        for m, method in enumerate(result.methods):
            color = PALETTE[m % 10]
            trials = np.arange(1, result.budget + 1)
            for s in range(len(result.seeds)):
                fig.add_trace(go.Scatter(x=trials, y=result.curves[m, s], mode="lines", line={"color": color,
                                         "width": 1}, opacity=0.35, showlegend=False, legendgroup=method))
            fig.add_trace(go.Scatter(x=trials, y=np.nanmedian(result.curves[m], axis=0), mode="lines",
                                     name=_t(lang, f"method_{method}"), legendgroup=method,
                                     line={"color": color, "width": 3}))
    else:
        views = [result] if isinstance(result, SearchView) else list(result)
        for m, view in enumerate(views):
            fig.add_trace(go.Scatter(x=view.number + 1, y=view.best_so_far, mode="lines", line={"shape": "hv",
                                     "color": PALETTE[m % 10], "width": 3}, name=_t(lang, f"method_{view.method}")))
            fig.add_trace(go.Scatter(x=view.number + 1, y=view.value, mode="markers", showlegend=False,
                                     marker={"color": PALETTE[m % 10], "size": 6, "symbol": [
                                         "x" if s == "pruned" else "circle" for s in view.state]}))
    fig.update_xaxes(title_text=_t(lang, "trial"))
    fig.update_yaxes(title_text=_t(lang, "best_score"))
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "search_title"),
                      legend={"orientation": "h", "y": -0.25})
    return fig


def optuna_parallel(study, *, lang: str = "en", height: int = 380) -> go.Figure:
    """optuna's own parallel-coordinates plot of the trials, titled in ``lang``."""
    import optuna.visualization as ov

    fig = ov.plot_parallel_coordinate(study, params=[p for p in _params(study)])
    fig.update_layout(height=height, title=_t(lang, "parallel_title"), margin={"l": 40, "r": 40, "t": 60, "b": 20})
    return fig


def optuna_importance(study, *, lang: str = "en", height: int = 300) -> go.Figure:
    """optuna's own hyperparameter-importance plot (fANOVA; needs two or more finished trials)."""
    import optuna.visualization as ov

    fig = ov.plot_param_importances(study)
    fig.update_layout(height=height, title=_t(lang, "importance_title"), margin=MARGIN)
    fig.update_xaxes(title_text=_t(lang, "importance"))
    return fig


def _params(study) -> list[str]:
    names: list[str] = []
    for t in study.trials:
        names += [p for p in t.params if p not in names]
    return names


# ---------------------------------------------------------------------------------------------- your table
def confusion_figure(view: TableView, *, lang: str = "en", height: int = 360) -> go.Figure:
    """Rows: true class; columns: predicted class (validation rows)."""
    names = list(view.class_names)
    fig = go.Figure(go.Heatmap(z=view.confusion, x=names, y=names, colorscale="Blues", showscale=False,
                               text=view.confusion, texttemplate="%{text}",
                               hovertemplate=_t(lang, "confusion_hover") + "<extra></extra>"))
    fig.update_xaxes(title_text=_t(lang, "predicted"), type="category")
    fig.update_yaxes(title_text=_t(lang, "true"), type="category", autorange="reversed")
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "confusion_title"))
    return fig


def regression_figure(view: TableView, *, lang: str = "en", height: int = 340) -> go.Figure:
    """Predicted against true values of the validation rows, the diagonal for reference, R² in the title."""
    fig = go.Figure(go.Scatter(x=view.y_true, y=view.y_pred, mode="markers", marker={"color": TRAIN_COLOR, "size": 6,
                                                                                     "opacity": 0.6},
                               name=_t(lang, "validation")))
    if len(view.y_true):
        lo, hi = float(min(view.y_true.min(), view.y_pred.min())), float(max(view.y_true.max(), view.y_pred.max()))
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line={"color": "gray", "dash": "dot"},
                                 showlegend=False))
    fig.update_xaxes(title_text=_t(lang, "true"))
    fig.update_yaxes(title_text=_t(lang, "predicted"))
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "regression_title", r2=view.r2))
    return fig


def boundary_figure(view: TableView, *, lang: str = "en", height: int = 420) -> go.Figure:
    """The predicted class (or value) over the two feature columns, training points on top."""
    if not view.boundary_features:
        return go.Figure().update_layout(height=height, title=_t(lang, "no_boundary"))
    classification = view.task == "classification"
    n = max(1, len(view.class_names))
    if classification:
        scale = [[i / max(1, n - 1), PALETTE[i % 10]] for i in range(n)] if n > 1 else [[0, PALETTE[0]],
                                                                                        [1, PALETTE[0]]]
        fig = go.Figure(go.Heatmap(x=view.axis_x, y=view.axis_y, z=view.surface, zmin=0, zmax=n - 1, colorscale=scale,
                                   opacity=0.45, showscale=False, customdata=view.confidence,
                                   hovertemplate=_t(lang, "boundary_hover") + "<extra></extra>"))
        for c, name in enumerate(view.class_names):
            pts = view.points[view.point_labels == c]
            fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=str(name),
                                     marker={"color": PALETTE[c % 10], "size": 7, "line": {"color": "white",
                                                                                           "width": 1}}))
    else:
        fig = go.Figure(go.Heatmap(x=view.axis_x, y=view.axis_y, z=view.surface, colorscale="RdBu", opacity=0.6,
                                   colorbar={"title": {"text": _t(lang, "prediction")}}))
        fig.add_trace(go.Scatter(x=view.points[:, 0], y=view.points[:, 1], mode="markers", showlegend=False,
                                 marker={"color": view.point_labels, "colorscale": "RdBu", "size": 7,
                                         "line": {"color": "black", "width": 1}}))
    fig.update_xaxes(title_text=view.boundary_features[0])
    fig.update_yaxes(title_text=view.boundary_features[1])
    fig.update_layout(height=height, margin=MARGIN, title=_t(lang, "boundary_title"),
                      legend={"orientation": "h", "y": -0.2}, uirevision="boundary")
    return fig
