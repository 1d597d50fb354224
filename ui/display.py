"""How pages are shown: projector mode (large type, settings folded away, high-contrast colour-blind-safe colours;
``?projector=1`` in the link) and the one way every chart is drawn (:func:`chart`), with a download button for
PNG or SVG on each."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.viz.palette import PALETTES, Palette

from .i18n import t

PROJECTOR = "projector"  # session-state key and URL parameter
FORMAT = "chart_format"


def projector() -> bool:
    state = st.session_state
    if PROJECTOR not in state:
        state[PROJECTOR] = st.query_params.get(PROJECTOR) in ("1", "true", "on")
    return bool(state[PROJECTOR])


def palette() -> Palette:
    return PALETTES["contrast" if projector() else "standard"]


def _toggled() -> None:
    if st.session_state[PROJECTOR]:
        st.query_params[PROJECTOR] = "1"
    else:
        st.query_params.pop(PROJECTOR, None)


def display_settings() -> None:
    """Projector mode and the chart download format, in the sidebar."""
    projector()
    st.toggle(t("common.display.projector"), key=PROJECTOR, on_change=_toggled, help=t("common.display.projector_help"))
    st.session_state.setdefault(FORMAT, "png")
    st.segmented_control(t("common.display.format"), ["png", "svg"], key=FORMAT, required=True,
                         format_func=str.upper, help=t("common.display.format_help"))


def style() -> None:
    """The page's CSS: less space above the title always; large type in projector mode."""
    css = ".stMainBlockContainer {padding-top: 2.2rem;}"
    if projector():
        css += ("html {font-size: 19px;} .stMainBlockContainer {padding: 1rem 1.5rem 2rem; max-width: 100%;}"
                " h1 {font-size: 2rem !important; padding: 0.2rem 0 !important;}")
    st.html(f"<style>{css}</style>")


def header(title: str, *how: str, how_title: str = "", lede: str = "", small: bool = True,
           ratio: tuple[float, float] = (5, 1.3)) -> None:
    """The page's title, its "how it works" popover (``how``: markdown paragraphs, under ``how_title``) and the lede
    under the title (a caption when ``small``); in projector mode the lede waits in the popover, so the live view
    comes first."""
    folded = (lede,) if lede and projector() else ()
    if not how and not folded:
        st.title(title)
    else:
        head, pop = st.columns(list(ratio), vertical_alignment="bottom")
        head.title(title)
        with pop.popover(how_title or t("common.display.about"), icon=":material/school:", width="stretch"):
            for text in folded + how:
                st.markdown(text)
    if lede and not projector():
        (st.caption if small else st.markdown)(lede)


@contextlib.contextmanager
def controls(label: str, *, border: bool = True) -> Iterator[Any]:
    """A box of settings: open normally, folded into an expander in projector mode (the live view comes first)."""
    if projector():
        with st.expander(label, icon=":material/tune:") as box:
            yield box
    else:
        with st.container(border=border) as box:
            yield box


def chart(fig: go.Figure, *, key: str, where: Any = st, **kwargs: Any) -> Any:
    """Draw a Plotly figure: projector colours and type when on, and a download button (PNG or SVG, as chosen in
    the sidebar) in its toolbar."""
    p = palette()
    if projector():
        fig.update_layout(font={"size": p.font_size}, colorway=list(p.colorway))
    fmt = st.session_state.get(FORMAT, "png")
    config = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
              "toImageButtonOptions": {"format": fmt, "filename": key, "scale": 2 if fmt == "png" else 1},
              **kwargs.pop("config", {})}
    config.pop("displayModeBar", None)  # every chart can be downloaded
    kwargs.setdefault("width", "stretch")
    return where.plotly_chart(fig, key=key, config=config, **kwargs)
