"""The editable gridworld. With **Edit** on, the value map holds still and a click on a cell paints it with the
brush (wall, trap, goal, start, empty): the running agent's world changes between two steps (``rl.set_cell``),
or with no run the page's layout; the new layout goes into the address bar.

The map holds still while editing because Streamlit knows a chart by its figure: a chart redrawn with new values
(every second while the agent learns) is a new widget, and a click on the old one is lost."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.envs.gridworld import edit_layout
from core.errors import PlaygroundError
from core.labs import rl
from ui.i18n import show, t
from ui.jobs import current_job
from ui.settings import Form

from .controls import JOB, STARTED, remember_fresh

BRUSH = "rl_brush"
MAP = "rl_map_optimal"  # the map shows value iteration's solution instead of the agent's values
EDITING = "rl_editing"  # edit mode: the map holds still and clicks paint cells
FROZEN = "rl_frozen"  # ((job id, settings), View) the map drawn while editing
EDITS = "rl_edits"  # a counter in the chart's key: a fresh chart (no selection left) after every edit
ERROR = "rl_edit_error"
KINDS = ("wall", "trap", "goal", "start", "empty")


def brush_bar() -> None:
    """Edit on or off, what a click paints, and which values the map shows."""
    st.session_state.setdefault(BRUSH, "wall")
    st.session_state.setdefault(MAP, False)
    st.session_state.setdefault(EDITING, False)
    row = st.container(horizontal=True, gap="large", vertical_alignment="center")
    row.toggle(t("rl.page.edit"), key=EDITING, on_change=_thaw, help=t("rl.page.edit_help"), width="content")
    row.toggle(t("rl.page.map_optimal"), key=MAP, on_change=_thaw, help=t("rl.page.map_help"), width="content")
    if editing():
        st.pills(t("rl.page.brush"), KINDS, key=BRUSH, required=True, format_func=lambda k: t(f"rl.cells.{k}"),
                 help=t("rl.page.brush_help"), label_visibility="collapsed")
        st.caption(t("rl.page.editing"))
    else:
        st.caption(t("rl.page.edit_hint"))
    if message := st.session_state.get(ERROR):
        st.warning(show(message), icon=":material/block:")


def editing() -> bool:
    return bool(st.session_state.get(EDITING))


def _thaw() -> None:
    st.session_state.pop(FROZEN, None)


def held(view: rl.View, job_id: int | None, config: rl.Config) -> rl.View:
    """While editing, the view the map was drawn from stays until the next edit or change of settings."""
    frozen = st.session_state.get(FROZEN)
    if frozen is None or frozen[0] != (job_id, config):
        frozen = st.session_state[FROZEN] = ((job_id, config), view)
    return frozen[1]


def chart_key() -> str:
    """A new chart after every edit (no selection left over)."""
    return f"rl_value_map_{st.session_state.get(EDITS, 0)}"


def clickable(fig: go.Figure, values: np.ndarray) -> int:
    """Invisible square targets over every cell (a heatmap cannot be clicked); returns their trace's index."""
    n = len(values)
    rows, cols = np.divmod(np.arange(n * n), n)
    text = np.where(np.isfinite(values), np.round(values, 3).astype(str), t("rl.cells.wall")).reshape(-1)
    brush = t(f"rl.cells.{st.session_state.get(BRUSH, 'wall')}")
    fig.data[0].hoverinfo = "skip"
    height = fig.layout.height or 460
    fig.add_trace(go.Scatter(
        x=cols, y=rows, mode="markers", customdata=text, showlegend=False, name=brush,
        marker={"symbol": "square", "size": 400 / n * height / 460, "opacity": 0, "color": "#000"},
        selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
        hovertemplate=t("rl.figures.cell_hover") + "<br>" + t("rl.page.click_to", kind=brush) + "<extra></extra>"))
    fig.update_layout(dragmode=False)
    return len(fig.data) - 1


def clicked(state, trace: int, n: int) -> tuple[int, int] | None:
    """The (row, col) the visitor clicked on, if any."""
    points = (state or {}).get("selection", {}).get("points", []) if state is not None else []
    for point in points:
        if point.get("curve_number") == trace and point.get("point_index") is not None:
            row, col = divmod(int(point["point_index"]), n)
            return row, col
    return None


def edit(f: Form, config: rl.Config, row: int, col: int) -> None:
    """Paint cell (row, col) with the brush: on the running agent's world, else on the page's layout."""
    kind = st.session_state.get(BRUSH, "wall")
    st.session_state[EDITS] = st.session_state.get(EDITS, 0) + 1
    st.session_state.pop(ERROR, None)
    _thaw()
    job, layout = current_job(JOB), None
    try:
        if job is not None and job.state.active:
            try:
                layout = job.inspect(rl.set_cell, row, col, kind, timeout=10)
            except (RuntimeError, TimeoutError):  # not built yet: the page's layout is handed over when it is
                layout = None
            else:
                started = st.session_state.get(STARTED)
                if started is not None:
                    st.session_state[STARTED] = replace(started, layout=layout)
                remember_fresh(job)
        if layout is None:
            layout = edit_layout(config.grid_layout, row, col, kind)
    except PlaygroundError as exc:
        st.session_state[ERROR] = exc.as_message()
        return
    st.session_state[f.key("layout")] = layout
