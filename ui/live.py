"""The one polling primitive: every live view on every page redraws through :func:`live`, so all of them slow
down together when many jobs run and the server's CPU is better spent on training."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from .session import manager

SERVER_REDRAWS_PER_S = 4.0  # live views of all visitors together redraw about this often at most


def interval(every: float) -> float:
    """``every`` seconds, stretched while many jobs run."""
    return max(every, manager().running() / SERVER_REDRAWS_PER_S)


def live(render: Callable[[], bool], *, active: bool, every: float) -> None:
    """Call ``render()`` now and, while ``active``, again every ``every`` seconds (stretched under load).

    ``render`` returns whether there is still something live to follow; when it stops being so, the page reruns
    once so its buttons show the new state.
    """

    @st.fragment(run_every=interval(every) if active else None)
    def _panel() -> None:
        still = render()
        if active and not still:
            st.rerun()

    _panel()
