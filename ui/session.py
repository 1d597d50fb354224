"""Who is this visitor: the session id that owns jobs, the one job manager shared by all visitors, and this
session's own model shelf."""

from __future__ import annotations

import uuid

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.backend import make_manager
from core.shelf import Shelf


@st.cache_resource(show_spinner=False)
def manager():
    """The job manager shared by every visitor of this server (``core.backend``: worker processes by default)."""
    return make_manager()


def session_id() -> str:
    """A stable id for this browser session; jobs are owned by it."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        return ctx.session_id
    return st.session_state.setdefault("_playground_session", uuid.uuid4().hex)


def shelf() -> Shelf:
    """This session's models (freed with the session)."""
    return st.session_state.setdefault("_playground_shelf", Shelf())
