"""Save the agent (weights, optimizer, replay buffer and settings) as a download, and load one back to train on
where it stopped. Loading reads tensors and plain numbers only; a bad file gets its message, never a traceback."""

from __future__ import annotations

import functools
from dataclasses import replace

import streamlit as st

from core.errors import PlaygroundError
from core.i18n import Message, Term
from core.labs import rl
from ui.i18n import lang, show, t
from ui.jobs import current_job, start_job
from ui.settings import Form

from .controls import JOB, new_job, run_config

UPLOAD = "rl_agent_upload"
LOADED = "rl_agent_loaded"  # the message about the agent just loaded
FAILED = "rl_agent_error"


def agent_bytes(job) -> bytes:
    """The file of the run's agent, made when the visitor clicks (not on every redraw)."""
    return job.inspect(rl.save_agent, timeout=30)


def file_name(config: rl.Config, episodes: int) -> str:
    return f"rl-agent-{config.env}-{config.algorithm}-{episodes}-episodes.pt"


def with_budget(config: rl.Config, state: rl.AgentState) -> rl.Config:
    """An agent saved when its run had spent its budget gets a fresh one on top, so that Resume trains on."""
    if state.learning_steps < config.max_steps:
        return config
    high = rl.Config.field("max_steps").setting.high
    return replace(config, max_steps=int(min(high, state.learning_steps + rl.Config().max_steps)))


def _load(f: Form) -> None:
    """Read the uploaded file; on success its settings fill the page and a paused run starts from it."""
    upload = st.session_state.get(UPLOAD)
    st.session_state.pop(FAILED, None)
    st.session_state.pop(LOADED, None)
    if upload is None:
        return
    try:
        config, state = rl.load_agent(upload.getvalue())
    except PlaygroundError as exc:
        st.session_state[FAILED] = exc.as_message()
        return
    config = with_budget(config, state)
    f.apply(config)
    job = start_job(JOB, functools.partial(new_job, config, state), lab="rl", paused=True)
    if job is None:
        st.session_state[FAILED] = st.session_state.get(f"{JOB}__error")
        return
    st.session_state[LOADED] = Message("rl.page.loaded", algorithm=Term(f"rl.algorithms.{config.algorithm}"),
                                       env=Term(f"rl.envs.{config.env}"), episodes=len(state.returns),
                                       steps=state.env_steps, buffer=len(state.buffer.get("action", ())))


def agent_view(f: Form, config: rl.Config) -> None:
    save, load = st.columns(2, gap="large")
    job = current_job(JOB)
    snap = job.snapshot() if job is not None else None
    view = snap.view if snap is not None and isinstance(snap.view, rl.View) else None
    with save:
        st.subheader(t("rl.page.save_title"), anchor=False)
        st.caption(t("rl.help.save"))
        ready = job is not None and view is not None and view.env_steps > 0
        run = run_config(config)
        st.download_button(t("rl.page.save_button"), data=functools.partial(agent_bytes, job) if ready else b"",
                           file_name=file_name(run, view.episodes if view else 0), mime="application/octet-stream",
                           key="rl_save", icon=":material/download:", type="primary", disabled=not ready,
                           on_click="ignore")
        if ready:
            st.caption(t("rl.page.save_what", label=run.label(lang()),
                         episodes=view.episodes, steps=view.env_steps))
        else:
            st.caption(t("rl.page.save_first"))
    with load:
        st.subheader(t("rl.page.load_title"), anchor=False)
        st.file_uploader(t("rl.page.load_label"), key=UPLOAD, on_change=_load, args=(f,),
                         help=t("rl.page.load_help", mb=rl.MAX_AGENT_BYTES // 2**20))
        if message := st.session_state.get(FAILED):
            st.error(show(message), icon=":material/error:")
        elif message := st.session_state.get(LOADED):
            st.success(show(message), icon=":material/check_circle:")
