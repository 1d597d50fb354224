"""Plotly figures for the reinforcement-learning lab: episode returns (raw and moving average), ε and loss, the
gridworld's value map with policy arrows and the agent's path, CartPole drawn from its state (cart rectangle and
pole line) with an animated replay, the pole-angle trace, CartPole's policy map and several runs on one chart.
Arrays (or the lab's view dataclasses) in, ``go.Figure`` out; every text comes from the catalogue
(``rl.figures.*``) in the language ``lang``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.envs.gridworld import GOAL, MOVES, START, TRAP, WALL, parse_layout
from core.i18n import text
from core.labs.rl import AVERAGE_WINDOW, SOLVED_RETURN, CartMap, Episode, GridMap

RAW_COLOR, AVG_COLOR, EPS_COLOR, LOSS_COLOR = "#9ecae1", "#08519c", "#2ca02c", "#d62728"
RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
VALUE_SCALE = [[0.0, "rgb(214,39,40)"], [0.5, "rgb(245,245,245)"], [1.0, "rgb(44,160,44)"]]  # red < 0 < green
WALL_COLOR, PATH_COLOR, ARROW_COLOR, WRONG_COLOR = "#555555", "#ff7f0e", "#222222", "#d62728"
CART_W, CART_H, POLE_LEN, TRACK = 0.5, 0.3, 1.0, 2.4  # metres; CartPole's pole half-length is 0.5
FAIL_DEGREES = 12.0
MAX_FRAMES = 200
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def _t(key: str, lang: str, **params: object) -> str:
    return text(f"rl.figures.{key}", lang, **params)


def _finite(xs: Sequence[float], ys: Sequence[float] | None) -> tuple[list[float], list[float]]:
    if ys is None:
        return [], []
    pairs = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


# ---------------------------------------------------------------------------------------------- curves
def return_curve(episodes: np.ndarray, returns: np.ndarray, average: np.ndarray, *, solved: float | None = None,
                 lang: str = "en", height: int = 300) -> go.Figure:
    """Each episode's return (light) and the moving average over the last episodes (bold)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=episodes, y=returns, mode="lines", name=_t("raw_return", lang),
                             line={"color": RAW_COLOR, "width": 1}))
    fig.add_trace(go.Scatter(x=episodes, y=average, mode="lines", line={"color": AVG_COLOR, "width": 2.5},
                             name=_t("average_return", lang, n=AVERAGE_WINDOW)))
    if solved is not None:
        fig.add_hline(y=solved, line={"dash": "dot", "color": "#888"}, annotation_text=_t("solved", lang, value=solved),
                      annotation_position="bottom right")
    fig.update_xaxes(title_text=_t("episode", lang))
    fig.update_yaxes(title_text=_t("return", lang))
    fig.update_layout(title=_t("returns_title", lang), height=height, margin=_MARGIN,
                      legend={"orientation": "h", "y": -0.25}, uirevision="returns")
    return fig


def view_returns(view, *, lang: str = "en", height: int = 300) -> go.Figure:
    """:func:`return_curve` of a lab ``View`` (with CartPole's 195 line)."""
    return return_curve(view.episode_numbers, view.returns, view.returns_avg,
                        solved=SOLVED_RETURN if view.env == "cartpole" else None, lang=lang, height=height)


def epsilon_loss(steps: Sequence[float], epsilon: Sequence[float] | None, loss: Sequence[float] | None, *,
                 lang: str = "en", log_loss: bool = True, height: int = 260) -> go.Figure:
    """ε (exploration) and the training loss against environment steps (the job's history columns)."""
    has_eps = epsilon is not None and any(e is not None and math.isfinite(e) for e in epsilon)
    titles = ([_t("epsilon_title", lang)] if has_eps else []) + [_t("loss_title", lang)]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.12)
    col = 1
    if has_eps:
        x, y = _finite(steps, epsilon)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="ε", line={"color": EPS_COLOR}), row=1, col=1)
        fig.update_yaxes(title_text="ε", range=[0, 1.02], row=1, col=1)
        col = 2
    x, y = _finite(steps, loss)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_t("loss", lang), line={"color": LOSS_COLOR}), row=1, col=col)
    fig.update_yaxes(title_text=_t("loss", lang), type="log" if log_loss else "linear", row=1, col=col)
    fig.update_xaxes(title_text=_t("env_steps", lang))
    fig.update_layout(height=height, margin=_MARGIN, showlegend=False, uirevision="signals")
    return fig


def compare_returns(runs: Sequence[tuple[str, np.ndarray, np.ndarray]], *, solved: float | None = None,
                    lang: str = "en", height: int = 320) -> go.Figure:
    """Several runs' moving-average returns on one chart: ``(label, episode numbers, moving average)`` each."""
    fig = go.Figure()
    for i, (label, episodes, average) in enumerate(runs):
        fig.add_trace(go.Scatter(x=episodes, y=average, mode="lines", name=label,
                                 line={"color": RUN_COLORS[i % len(RUN_COLORS)], "width": 2}))
    if solved is not None:
        fig.add_hline(y=solved, line={"dash": "dot", "color": "#888"}, annotation_text=_t("solved", lang, value=solved),
                      annotation_position="bottom right")
    fig.update_xaxes(title_text=_t("episode", lang))
    fig.update_yaxes(title_text=_t("average_return", lang, n=AVERAGE_WINDOW))
    fig.update_layout(title=_t("compare_title", lang), height=height, margin=_MARGIN,
                      legend={"orientation": "h", "y": -0.25}, uirevision="compare")
    return fig


# ---------------------------------------------------------------------------------------------- gridworld
def _arrows(policy: np.ndarray, weights: np.ndarray | None, mask: np.ndarray) -> tuple[list, list, list]:
    """Line segments from each cell's centre (None-separated) with an arrowhead size at each end."""
    xs: list = []
    ys: list = []
    sizes: list = []
    n = len(policy)
    for r in range(n):
        for c in range(n):
            if policy[r, c] < 0 or not mask[r, c]:
                continue
            actions = range(4) if weights is not None else (int(policy[r, c]),)
            for a in actions:
                share = float(weights[r, c, a]) if weights is not None else 1.0
                if share < 0.1:
                    continue
                dr, dc = MOVES[a]
                xs += [c, c + dc * 0.42 * share, None]
                ys += [r, r + dr * 0.42 * share, None]
                sizes += [0, 3 + 7 * share, 0]
    return xs, ys, sizes


def value_map(grid: GridMap, *, episode: Episode | None = None, optimal: bool = False, probabilities: bool = False,
              lang: str = "en", height: int = 460) -> go.Figure:
    """The value of every cell as colour, the greedy policy as arrows (red where it is not optimal), walls,
    traps, goals and the start, and the path of ``episode``. ``optimal`` draws value iteration's V* and optimal
    actions instead; ``probabilities`` draws every action's arrow scaled by π(a|s) (policy-gradient agents)."""
    cells = parse_layout(grid.layout)
    n = len(cells)
    values = grid.optimal_values if optimal else grid.values
    finite = values[np.isfinite(values)]
    vmax = float(np.abs(finite).max()) if finite.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    hover = np.where(np.isfinite(values), np.round(values, 3).astype(str), "")
    fig = go.Figure(go.Heatmap(z=values, zmin=-vmax, zmax=vmax, colorscale=VALUE_SCALE, xgap=1, ygap=1,
                               colorbar={"title": {"text": _t("value", lang), "side": "right"}, "thickness": 10},
                               customdata=hover, name=_t("value", lang),
                               hovertemplate=_t("cell_hover", lang) + "<extra></extra>"))
    walls = np.argwhere(cells == WALL)
    fig.add_trace(go.Scatter(x=walls[:, 1], y=walls[:, 0], mode="markers", name=_t("wall", lang), hoverinfo="skip",
                             marker={"symbol": "square", "size": 400 / max(n, 1) * height / 460,
                                     "color": WALL_COLOR}))
    decide = grid.policy >= 0
    if optimal:
        best = np.where(grid.optimal.any(axis=2), grid.optimal.argmax(axis=2), -1)
        xs, ys, sizes = _arrows(best, grid.optimal.astype(np.float32), decide)
        fig.add_trace(_arrow_trace(xs, ys, sizes, ARROW_COLOR, _t("optimal_policy", lang)))
    else:
        weights = grid.action_values if probabilities else None
        right = np.take_along_axis(grid.optimal, np.maximum(grid.policy, 0)[..., None], axis=2)[..., 0]
        for ok, color, name in ((True, ARROW_COLOR, _t("policy", lang)), (False, WRONG_COLOR, _t("not_optimal", lang))):
            xs, ys, sizes = _arrows(grid.policy, weights, decide & (right == ok))
            if xs:
                fig.add_trace(_arrow_trace(xs, ys, sizes, color, name))
    for kind, symbol, name in ((GOAL, "★", "goal"), (TRAP, "✕", "trap"), (START, "S", "start")):
        at = np.argwhere(cells == kind)
        if len(at):
            fig.add_trace(go.Scatter(x=at[:, 1], y=at[:, 0], mode="text", text=[symbol] * len(at), name=_t(name, lang),
                                     textfont={"size": max(10, 220 // n), "color": "#111"}, hoverinfo="skip",
                                     showlegend=False))
    if episode is not None and episode.length and not optimal:
        path = np.asarray(episode.states)
        fig.add_trace(go.Scatter(x=path[:, 1], y=path[:, 0], mode="lines+markers", name=_t("path", lang),
                                 line={"color": PATH_COLOR, "width": 3}, marker={"size": 5, "color": PATH_COLOR},
                                 opacity=0.8, hoverinfo="skip"))
    title = _t("optimal_title", lang) if optimal else _t("value_title", lang, match=100 * grid.match)
    _grid_axes(fig, n)
    fig.update_layout(title=title, height=height, margin=_MARGIN, uirevision="value_map",
                      legend={"orientation": "h", "y": -0.09, "yanchor": "top"})  # below the column numbers
    return fig


def _arrow_trace(xs: list, ys: list, sizes: list, color: str, name: str) -> go.Scatter:
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name=name, hoverinfo="skip", line={"color": color, "width": 2},
                      marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": color})


def _grid_axes(fig: go.Figure, n: int) -> None:
    fig.update_xaxes(range=[-0.5, n - 0.5], showgrid=False, zeroline=False, tickvals=list(range(n)), constrain="domain")
    fig.update_yaxes(range=[n - 0.5, -0.5], showgrid=False, zeroline=False, tickvals=list(range(n)),
                     scaleanchor="x", scaleratio=1)


def grid_replay(grid: GridMap, episode: Episode, *, lang: str = "en", height: int = 460) -> go.Figure:
    """The value map with the agent walking ``episode`` step by step (Play / Pause and a step slider)."""
    fig = value_map(grid, lang=lang, height=height)
    path = np.asarray(episode.states)
    idx = _frame_steps(len(path))
    fig.add_trace(go.Scatter(x=[path[0, 1]], y=[path[0, 0]], mode="markers", name=_t("agent", lang),
                             marker={"size": 22, "color": PATH_COLOR, "line": {"color": "#000", "width": 2}}))
    agent = len(fig.data) - 1
    frames = [go.Frame(name=str(i), traces=[agent], data=[go.Scatter(x=[path[i, 1]], y=[path[i, 0]])]) for i in idx]
    fig.frames = frames
    _player(fig, idx, lang)
    fig.update_layout(title=_t("replay_title", lang, number=episode.number, steps=episode.length,
                               total=episode.total))
    return fig


# ---------------------------------------------------------------------------------------------- CartPole
def _cart_xy(state: np.ndarray) -> tuple[list[float], list[float], list[float], list[float]]:
    """The cart's rectangle and the pole's line for a state (x, ẋ, θ, θ̇) (θ = 0 upright, > 0 leaning right)."""
    x, theta = float(state[0]), float(state[2])
    cx = [x - CART_W / 2, x + CART_W / 2, x + CART_W / 2, x - CART_W / 2, x - CART_W / 2]
    cy = [0.0, 0.0, CART_H, CART_H, 0.0]
    px = [x, x + POLE_LEN * math.sin(theta)]
    py = [CART_H, CART_H + POLE_LEN * math.cos(theta)]
    return cx, cy, px, py


def cartpole_figure(state: np.ndarray, *, lang: str = "en", height: int = 280, title: str | None = None) -> go.Figure:
    """CartPole drawn from its state: the track, the cart and the pole."""
    cx, cy, px, py = _cart_xy(state)
    fig = go.Figure([
        go.Scatter(x=[-TRACK, TRACK], y=[0, 0], mode="lines", line={"color": "#888", "width": 2}, hoverinfo="skip",
                   name=_t("track", lang)),
        go.Scatter(x=cx, y=cy, fill="toself", mode="lines", line={"color": "#333"}, fillcolor="#4c72b0",
                   name=_t("cart", lang), hoverinfo="skip"),
        go.Scatter(x=px, y=py, mode="lines+markers", line={"color": "#c44e52", "width": 6},
                   marker={"size": [8, 0], "color": "#333"}, name=_t("pole", lang), hoverinfo="skip"),
    ])
    fig.update_xaxes(range=[-TRACK - 0.3, TRACK + 0.3], zeroline=False, title_text=_t("cart_position", lang))
    fig.update_yaxes(range=[-0.2, CART_H + POLE_LEN + 0.2], zeroline=False, showticklabels=False, scaleanchor="x",
                     scaleratio=1)
    fig.update_layout(title=title or _t("cartpole_title", lang, angle=math.degrees(float(state[2]))), height=height,
                      margin=_MARGIN, showlegend=False)
    return fig


def cartpole_frames(episode: Episode) -> list[go.Frame]:
    """One animation frame per drawn step of ``episode`` (at most ``MAX_FRAMES``, evenly spaced)."""
    frames = []
    for i in _frame_steps(len(episode.states)):
        cx, cy, px, py = _cart_xy(episode.states[i])
        frames.append(go.Frame(name=str(i), traces=[1, 2], data=[go.Scatter(x=cx, y=cy), go.Scatter(x=px, y=py)]))
    return frames


def cartpole_replay(episode: Episode, *, lang: str = "en", height: int = 300) -> go.Figure:
    """The episode as an animation (Play / Pause and a step slider)."""
    fig = cartpole_figure(episode.states[0], lang=lang, height=height,
                          title=_t("replay_title", lang, number=episode.number, steps=episode.length,
                                   total=episode.total))
    frames = cartpole_frames(episode)
    fig.frames = frames
    _player(fig, [int(f.name) for f in frames], lang)
    return fig


def pole_angle_trace(episode: Episode, *, lang: str = "en", height: int = 240) -> go.Figure:
    """The pole's angle (degrees) over the episode, with the ±12° limits where the episode ends."""
    degrees = np.degrees(np.asarray(episode.states)[:, 2])
    fig = go.Figure(go.Scatter(x=np.arange(len(degrees)), y=degrees, mode="lines", name=_t("pole_angle", lang),
                               line={"color": "#c44e52"}))
    for sign in (-1, 1):
        fig.add_hline(y=sign * FAIL_DEGREES, line={"dash": "dot", "color": "#888"})
    fig.update_xaxes(title_text=_t("step", lang))
    fig.update_yaxes(title_text=_t("pole_angle", lang), range=[-FAIL_DEGREES * 1.4, FAIL_DEGREES * 1.4])
    fig.update_layout(title=_t("angle_title", lang), height=height, margin=_MARGIN, showlegend=False)
    return fig


def cart_policy_map(cart: CartMap, *, lang: str = "en", height: int = 320) -> go.Figure:
    """Where the agent pushes right, over pole angle × angular velocity (cart at rest in the middle)."""
    fig = go.Figure(go.Heatmap(x=np.degrees(cart.theta), y=cart.omega, z=cart.push_right, zmin=0, zmax=1,
                               colorscale=[[0, "#dd8452"], [1, "#4c72b0"]],
                               colorbar={"title": {"text": _t("push_right", lang), "side": "right"}, "thickness": 10},
                               hovertemplate="θ %{x:.1f}°<br>θ̇ %{y:.2f}<br>%{z:.2f}<extra></extra>"))
    fig.update_xaxes(title_text=_t("pole_angle", lang))
    fig.update_yaxes(title_text=_t("angular_velocity", lang))
    fig.update_layout(title=_t("cart_policy_title", lang), height=height, margin=_MARGIN)
    return fig


# ---------------------------------------------------------------------------------------------- animation
def _frame_steps(n: int) -> list[int]:
    if n <= MAX_FRAMES:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, MAX_FRAMES).round().astype(int).tolist()))


def _player(fig: go.Figure, steps: Sequence[int], lang: str, frame_ms: int = 50) -> None:
    play = {"frame": {"duration": frame_ms, "redraw": False}, "fromcurrent": True, "transition": {"duration": 0}}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0, "y": -0.08, "xanchor": "left", "yanchor": "top",
                      "buttons": [{"label": _t("play", lang), "method": "animate", "args": [None, play]},
                                  {"label": _t("pause", lang), "method": "animate", "args": [[None], pause]}]}],
        sliders=[{"active": 0, "x": 0.2, "len": 0.8, "y": -0.05, "currentvalue": {"prefix": _t("step", lang) + " "},
                  "steps": [{"label": str(i), "method": "animate", "args": [[str(i)], pause]} for i in steps]}])
