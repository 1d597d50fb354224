"""Plotly figures for the generative lab: GAN Lab's layered plane (real density, real and generated samples, the
discriminator's heatmap, the generator's gradient arrows), the noise manifold, loss / divergence / coverage / PSNR
curves, picture grids, the latent map, the decoded latent grid, and the anomaly detector's error histogram and ROC.

Pure functions: arrays (or a lab view) in, ``go.Figure`` out; every text comes from the catalogue in ``lang``.
Colours follow GAN Lab: green = real, purple = generated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import text
from core.labs.generative.metrics import threshold_metrics
from core.labs.generative.views import AnomalyReport, AutoencoderView, Gan2dView, LatentGrid
from core.viz.images import image_grid, montage

REAL, FAKE, ARROW = "#1b9e77", "#4a2a8c", "#333333"
D_SCALE = [[0.0, "rgb(123,92,196)"], [0.5, "rgb(245,245,245)"], [1.0, "rgb(27,158,119)"]]  # fake → real
DIGIT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf")
MARGIN = {"l": 50, "r": 20, "t": 40, "b": 40}


def _t(key: str, lang: str, **params: object) -> str:
    return text(f"generative.viz.{key}", lang, **params)


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


# ---------------------------------------------------------------------------------------------- the 2-D GAN
def _arrow_trace(start: np.ndarray, vec: np.ndarray, length: float, name: str) -> go.Scatter:
    """Segments from each start along ``vec`` (scaled so the longest is ``length``), with arrowheads."""
    norm = np.linalg.norm(vec, axis=1)
    scale = length / max(float(norm.max()) if len(norm) else 0.0, 1e-12)
    end = start + vec * scale
    xs = np.full(len(start) * 3, np.nan)
    ys = np.full(len(start) * 3, np.nan)
    xs[0::3], xs[1::3] = start[:, 0], end[:, 0]
    ys[0::3], ys[1::3] = start[:, 1], end[:, 1]
    sizes = np.zeros(len(xs))
    sizes[1::3] = 7
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name=name, hoverinfo="skip", connectgaps=False,
                      line={"color": ARROW, "width": 1},
                      marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": ARROW})


def gan_plane(view: Gan2dView, lang: str = "en", *, show_d: bool = True, show_density: bool = True,
              show_real: bool = True, show_fake: bool = True, show_arrows: bool = True, show_modes: bool = False,
              arrow_length: float = 0.5, max_arrows: int = 150, height: int = 480) -> go.Figure:
    """GAN Lab's layered plane: D's heatmap behind, the real density's contours, real (green) and generated
    (purple) samples, and the generator's gradient arrows on (up to ``max_arrows`` of) its samples, the longest
    ``arrow_length`` long."""
    fig = go.Figure()
    extent = view.extent
    if show_d:
        title = _t(f"d_{view.d_scale}", lang)
        if view.d_scale == "critic":
            zmid = float(np.median(view.d_grid))  # a critic's level is arbitrary: centre the scale on its median
            limit = float(np.abs(view.d_grid - zmid).max()) or 1.0
            zmin, zmax = zmid - limit, zmid + limit
        else:
            zmid, zmin, zmax = 0.5, 0.0, 1.0
        fig.add_trace(go.Heatmap(x=view.axis, y=view.axis, z=np.round(view.d_grid, 4), colorscale=D_SCALE,
                                 zmin=zmin, zmax=zmax, zmid=zmid, zsmooth="best", opacity=0.85, name=title,
                                 colorbar={"title": {"text": title, "side": "right"}, "thickness": 10, "len": 0.8},
                                 hovertemplate="x₁ %{x:.2f}<br>x₂ %{y:.2f}<br>" + title + " %{z:.3f}<extra></extra>"))
    if show_density:
        fig.add_trace(go.Contour(x=view.density_axis, y=view.density_axis, z=view.real_density, showscale=False,
                                 contours={"coloring": "lines", "start": float(view.real_density.max()) * 0.05,
                                           "end": float(view.real_density.max()), "size":
                                           float(view.real_density.max()) * 0.3 or 1.0},
                                 line={"width": 1}, colorscale=[[0, REAL], [1, REAL]], hoverinfo="skip",
                                 name=_t("real_density", lang), showlegend=True))
    if show_real:
        fig.add_trace(go.Scatter(x=view.real[:, 0], y=view.real[:, 1], mode="markers", name=_t("real", lang),
                                 marker={"color": REAL, "size": 4, "opacity": 0.7},
                                 hovertemplate=_t("real", lang) + "<br>%{x:.2f}, %{y:.2f}<extra></extra>"))
    if show_fake:
        fig.add_trace(go.Scatter(x=view.fake[:, 0], y=view.fake[:, 1], mode="markers", name=_t("generated", lang),
                                 marker={"color": FAKE, "size": 6, "line": {"color": "white", "width": 1}},
                                 hovertemplate=_t("generated", lang) + "<br>%{x:.2f}, %{y:.2f}<extra></extra>"))
    if show_arrows:
        every = max(1, -(-len(view.fake) // max_arrows))
        fig.add_trace(_arrow_trace(view.fake[::every], view.arrows[::every], arrow_length, _t("arrows", lang)))
    if show_modes:
        for (cx, cy), r, hit in zip(view.modes, view.mode_radii, view.covered, strict=True):
            fig.add_shape(type="circle", x0=cx - r, x1=cx + r, y0=cy - r, y1=cy + r,
                          line={"color": REAL if hit else "#d62728", "width": 2, "dash": "solid" if hit else "dot"})
    fig.update_xaxes(range=[-extent, extent], title_text="x₁", constrain="domain", zeroline=False)
    fig.update_yaxes(range=[-extent, extent], title_text="x₂", scaleanchor="x", constrain="domain", zeroline=False)
    fig.update_layout(height=height, margin=MARGIN, plot_bgcolor="white", uirevision="gan-plane",
                      legend={"orientation": "h", "y": -0.12}, title=_t("plane_title", lang, step=view.step))
    return fig


def manifold(view: Gan2dView, lang: str = "en", *, height: int = 420) -> go.Figure:
    """How a regular grid of noise maps through G: the grid's rows and columns drawn as lines on the plane
    (where the sheet folds, the generator squeezes noise into a mode), real samples faint behind."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=view.real[:, 0], y=view.real[:, 1], mode="markers", name=_t("real", lang),
                             marker={"color": REAL, "size": 3, "opacity": 0.35}, hoverinfo="skip"))
    grid = view.manifold
    lines = [grid[i] for i in range(grid.shape[0])]
    if grid.shape[0] > 1:
        lines += [grid[:, j] for j in range(grid.shape[1])]
    xs, ys = [], []
    for line in lines:
        xs += [*line[:, 0].tolist(), None]
        ys += [*line[:, 1].tolist(), None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=_t("manifold", lang), hoverinfo="skip",
                             line={"color": FAKE, "width": 1}))
    fig.add_trace(go.Scatter(x=grid[..., 0].ravel(), y=grid[..., 1].ravel(), mode="markers", showlegend=False,
                             marker={"color": FAKE, "size": 3},
                             hovertemplate=_t("generated", lang) + "<br>%{x:.2f}, %{y:.2f}<extra></extra>"))
    extent = view.extent
    fig.update_xaxes(range=[-extent, extent], title_text="x₁", constrain="domain", zeroline=False)
    fig.update_yaxes(range=[-extent, extent], title_text="x₂", scaleanchor="x", constrain="domain", zeroline=False)
    fig.update_layout(height=height, margin=MARGIN, plot_bgcolor="white", uirevision="manifold",
                      legend={"orientation": "h", "y": -0.12}, title=_t("manifold_title", lang))
    return fig


def mode_bars(view: Gan2dView, lang: str = "en", *, height: int = 260) -> go.Figure:
    """Generated samples per real mode; modes below the coverage bar in red."""
    names = [str(i + 1) for i in range(len(view.modes))]
    colors = [REAL if c else "#d62728" for c in view.covered]
    fig = go.Figure(go.Bar(x=names, y=view.mode_counts, marker_color=colors,
                           hovertemplate=_t("mode", lang) + " %{x}: %{y}<extra></extra>"))
    fig.update_xaxes(title_text=_t("mode", lang))
    fig.update_yaxes(title_text=_t("samples_near", lang))
    fig.update_layout(height=height, margin=MARGIN, title=_t("coverage_title", lang, covered=int(view.covered.sum()),
                                                            total=len(view.modes)))
    return fig


# ---------------------------------------------------------------------------------------------- curves
def metric_curves(table: Mapping[str, Sequence[float]], keys: Sequence[str], lang: str = "en", *,
                  title: str = "", secondary: Sequence[str] = (), log_y: bool = False,
                  floors: Mapping[str, float] | None = None, height: int = 300) -> go.Figure:
    """Columns ``keys`` of a step table (a job snapshot's ``history`` or ``evals``) against ``step``; the
    ``secondary`` ones on a right-hand axis; ``floors`` draws dotted reference lines (e.g. a perfect model's KL).
    Series names come from ``generative.viz.series_<key>``."""
    fig = make_subplots(specs=[[{"secondary_y": bool(secondary)}]])
    steps = table.get("step", [])
    for i, key in enumerate(keys):
        if key not in table:
            continue
        x, y = _finite(steps, table[key])
        color = DIGIT_COLORS[i % len(DIGIT_COLORS)]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_t(f"series_{key}", lang), line={"color": color}),
                      secondary_y=key in secondary if secondary else None)
        if floors and key in floors and x:
            fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[floors[key]] * 2, mode="lines", showlegend=False,
                                     line={"color": color, "dash": "dot", "width": 1}, hoverinfo="skip"),
                          secondary_y=key in secondary if secondary else None)
    fig.update_xaxes(title_text=_t("step", lang))
    fig.update_yaxes(type="log" if log_y else "linear")
    fig.update_layout(height=height, margin=MARGIN, title=title, legend={"orientation": "h", "y": -0.25},
                      uirevision=f"curves-{'-'.join(keys)}")
    return fig


def gan_losses(history: Mapping[str, Sequence[float]], lang: str = "en", *, height: int = 300) -> go.Figure:
    """The discriminator's and the generator's loss per step."""
    return metric_curves(history, ("d_loss", "g_loss"), lang, title=_t("losses_title", lang), height=height)


def divergence_curves(evals: Mapping[str, Sequence[float]], lang: str = "en", *, kl_floor: float | None = None,
                      js_floor: float | None = None, height: int = 300) -> go.Figure:
    """Binned KL and JS (left axis, nats) and mode coverage (right axis, 0..1) over the evaluations; dotted: what
    two real samples score (a perfect generator)."""
    floors = {k: v for k, v in (("kl", kl_floor), ("js", js_floor)) if v is not None}
    fig = metric_curves(evals, ("kl", "js", "coverage"), lang, title=_t("divergence_title", lang),
                        secondary=("coverage",), floors=floors, height=height)
    fig.update_yaxes(title_text=_t("nats", lang), secondary_y=False)
    fig.update_yaxes(title_text=_t("series_coverage", lang), range=[0, 1.05], secondary_y=True)
    return fig


def vae_terms(history: Mapping[str, Sequence[float]], lang: str = "en", *, height: int = 300) -> go.Figure:
    """The VAE's two loss terms charted apart: reconstruction (left) and KL to the prior (right)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_t("series_recon", lang), _t("series_kl", lang)),
                        horizontal_spacing=0.12)
    for col, key, color in ((1, "recon", DIGIT_COLORS[0]), (2, "kl", DIGIT_COLORS[1])):
        if key in history:
            x, y = _finite(history.get("step", []), history[key])
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_t(f"series_{key}", lang), line={"color": color},
                                     showlegend=False), row=1, col=col)
    fig.update_xaxes(title_text=_t("step", lang))
    fig.update_layout(height=height, margin=MARGIN, uirevision="vae-terms")
    return fig


def psnr_curves(evals: Mapping[str, Sequence[float]], lang: str = "en", *, height: int = 300) -> go.Figure:
    """PSNR (dB) of the noisy inputs and of the denoised outputs against the clean pictures."""
    fig = metric_curves(evals, ("psnr_noisy", "psnr_output"), lang, title=_t("psnr_title", lang), height=height)
    fig.update_yaxes(title_text="dB")
    return fig


# ---------------------------------------------------------------------------------------------- pictures
def sample_grid(images: np.ndarray, lang: str = "en", *, captions: Sequence[str] | None = None, cols: int = 8,
                tile_px: int = 56, title_key: str = "samples_title", **params: object) -> go.Figure:
    """A grid of ``(N, 1, H, W)`` pictures (DCGAN samples, VAE prior samples, an interpolation)."""
    return image_grid(images, captions, cols=cols, tile_px=tile_px, title=_t(title_key, lang, **params))


def judged_samples(images: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, lang: str = "en", *,
                   cols: int = 8, tile_px: int = 56) -> go.Figure:
    """DCGAN samples, each captioned with the digits classifier's verdict and confidence."""
    captions = [f"{int(d)} · {c:.0%}" for d, c in zip(predicted, confidence, strict=True)]
    colors = ["#2ca02c" if c >= 0.5 else "#999" for c in confidence]
    return image_grid(images, captions, cols=cols, tile_px=tile_px, title_colors=colors,
                      title=_t("judged_title", lang, confidence=float(np.mean(confidence))))


def reconstructions(view: AutoencoderView, lang: str = "en", *, tile_px: int = 48) -> go.Figure:
    """Rows of inputs, (noisy inputs,) and reconstructions, one column per picture."""
    rows = [("inputs", view.inputs)]
    if len(view.noisy):
        rows.append(("noisy", view.noisy))
    rows.append(("outputs", view.outputs))
    fig = make_subplots(rows=len(rows), cols=1, vertical_spacing=0.08,
                        subplot_titles=[_t(f"row_{name}", lang) for name, _ in rows])
    for r, (_, images) in enumerate(rows, start=1):
        tiles = (np.clip(images[:, 0], 0, 1) * 255 + 0.5).astype(np.uint8)
        fig.add_trace(go.Image(z=np.repeat(montage(tiles, len(tiles), gap=1)[..., None], 3, axis=2),
                               hoverinfo="skip"), row=r, col=1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    n, size = len(view.inputs), view.inputs.shape[-1]
    height = int(len(rows) * (size * tile_px / size + 34)) + 30
    title = _t("recon_title", lang, psnr_in=view.psnr_noisy, psnr_out=view.psnr_output) if len(view.noisy) else ""
    fig.update_layout(height=height, width=None if n else 300, margin={"l": 0, "r": 0, "t": 50 if title else 30,
                      "b": 0}, title=title or None)
    return fig


def latent_scatter(latent: np.ndarray, labels: np.ndarray, lang: str = "en", *, projected: bool = False,
                   highlight: Sequence[int] = (), picked: Sequence[float] | None = None,
                   height: int = 420) -> go.Figure:
    """The test pictures' codes on the latent plane, one colour per digit (``highlight``ed digits — the
    anomalies — drawn as crosses); ``picked`` marks the point the visitor chose to decode."""
    fig = go.Figure()
    for digit in sorted(set(int(v) for v in labels)):
        mine = labels == digit
        fig.add_trace(go.Scatter(
            x=latent[mine, 0], y=latent[mine, 1], mode="markers", name=str(digit),
            marker={"color": DIGIT_COLORS[digit % 10], "size": 6, "symbol": "x" if digit in highlight else "circle",
                    "opacity": 0.8},
            hovertemplate=_t("digit", lang) + f" {digit}<br>%{{x:.2f}}, %{{y:.2f}}<extra></extra>"))
    if picked is not None:
        fig.add_trace(go.Scatter(x=[picked[0]], y=[picked[1]], mode="markers", name=_t("picked", lang),
                                 marker={"color": "black", "size": 14, "symbol": "star"}))
    axis = "pc" if projected else "z"
    fig.update_xaxes(title_text=_t(f"axis_{axis}1", lang), zeroline=False)
    fig.update_yaxes(title_text=_t(f"axis_{axis}2", lang), zeroline=False)
    fig.update_layout(height=height, margin=MARGIN, plot_bgcolor="white", uirevision="latent",
                      title=_t("latent_title_pca" if projected else "latent_title", lang),
                      legend={"title": {"text": _t("digit", lang)}})
    return fig


def latent_grid(grid: LatentGrid, lang: str = "en", *, tile_px: int = 40, traversal: bool = False) -> go.Figure:
    """Pictures decoded over the latent plane (or one row per code dimension for a traversal), axes labelled
    with the latent values."""
    cols, rows = len(grid.axis_x), len(grid.axis_y)
    tiles = (np.clip(grid.images[:, 0], 0, 1) * 255 + 0.5).astype(np.uint8)
    size = tiles.shape[-1]
    image = montage(tiles, cols, gap=1)
    fig = go.Figure(go.Image(z=np.repeat(image[..., None], 3, axis=2), hoverinfo="skip"))
    step = size + 1
    fig.update_xaxes(tickvals=[j * step + size / 2 for j in range(cols)],
                     ticktext=[f"{v:.1f}" for v in grid.axis_x], title_text=_t("axis_z1", lang), showgrid=False)
    if traversal:
        fig.update_yaxes(tickvals=[i * step + size / 2 for i in range(rows)],
                         ticktext=[_t("dimension", lang, n=int(v) + 1) for v in grid.axis_y], showgrid=False)
        fig.update_xaxes(title_text=_t("axis_value", lang))
    else:
        fig.update_yaxes(tickvals=[i * step + size / 2 for i in range(rows)],
                         ticktext=[f"{v:.1f}" for v in grid.axis_y], title_text=_t("axis_z2", lang), showgrid=False)
    scale = tile_px / size
    fig.update_layout(height=int(rows * step * scale) + 90, margin={"l": 70, "r": 10, "t": 40, "b": 50},
                      title=_t("traversal_title" if traversal else "grid_title", lang))
    return fig


# ---------------------------------------------------------------------------------------------- anomaly detection
def error_histogram(report: AnomalyReport, lang: str = "en", *, threshold: float | None = None, bins: int = 40,
                    height: int = 320) -> go.Figure:
    """Reconstruction errors of normal and anomalous digits, the threshold as a line, precision / recall above."""
    threshold = report.threshold if threshold is None else float(threshold)
    edges = np.linspace(float(report.scores.min()), float(report.scores.max()), bins + 1)
    fig = go.Figure()
    for name, mask, color in (("normal", ~report.anomalous, REAL), ("anomaly", report.anomalous, "#d62728")):
        fig.add_trace(go.Histogram(x=report.scores[mask], name=_t(name, lang), marker_color=color, opacity=0.6,
                                   xbins={"start": edges[0], "end": edges[-1], "size": edges[1] - edges[0]}))
    precision, recall, _ = threshold_metrics(report.scores, report.anomalous, threshold)
    fig.add_vline(x=threshold, line={"color": "black", "dash": "dash"})
    fig.update_xaxes(title_text=_t("error_axis", lang))
    fig.update_yaxes(title_text=_t("count", lang))
    fig.update_layout(barmode="overlay", height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.25},
                      title=_t("histogram_title", lang, threshold=threshold, precision=precision, recall=recall))
    return fig


def roc(report: AnomalyReport, lang: str = "en", *, threshold: float | None = None, height: int = 340) -> go.Figure:
    """The ROC curve with its AUC; the diagonal is chance; a dot where the chosen threshold sits."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": "#aaa", "dash": "dot"},
                             name=_t("chance", lang), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=report.fpr, y=report.tpr, mode="lines", line={"color": "#d62728"}, name="ROC",
                             hovertemplate=_t("fpr", lang) + " %{x:.2f}<br>" + _t("tpr", lang)
                             + " %{y:.2f}<extra></extra>"))
    if threshold is not None or math.isfinite(report.threshold):
        t = report.threshold if threshold is None else float(threshold)
        _, recall, fpr = threshold_metrics(report.scores, report.anomalous, t)
        fig.add_trace(go.Scatter(x=[fpr], y=[recall], mode="markers", marker={"size": 10, "color": "black"},
                                 name=_t("threshold", lang)))
    fig.update_xaxes(title_text=_t("fpr", lang), range=[0, 1], constrain="domain")
    fig.update_yaxes(title_text=_t("tpr", lang), range=[0, 1.02], scaleanchor="x", constrain="domain")
    fig.update_layout(height=height, margin=MARGIN, title=_t("roc_title", lang, auc=report.auc),
                      legend={"orientation": "h", "y": -0.25})
    return fig
