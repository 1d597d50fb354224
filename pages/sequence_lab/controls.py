"""The sequence lab's settings (bound to ``sequences.Config`` through a ``Form``): the task and its data in the
sidebar, the cells, the model and the optimisation; the preset experiments; keeping a running job in step."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.data.sequences import MAX_TEXT_CHARS
from core.i18n import Term
from core.jobs import TrainingJob
from core.labs import sequences
from ui.i18n import t
from ui.jobs import current_job
from ui.settings import Form

JOB = "seq_job"
STARTED = "seq_job_config"  # the config the current job was started with (live changes applied)


def form() -> Form[sequences.Config]:
    return Form(sequences.Config, "seq")


def new_job(config: sequences.Config) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown."""
    job = sequences.make_job(config)
    st.session_state[STARTED] = config
    return job


def follow_settings(config: sequences.Config) -> list[Term]:
    """Apply what needs no rebuild (learning rate, sampling, slow motion) to the running job; return the labels
    of the settings that differ from the run's and only take effect in a new run."""
    job, started = current_job(JOB), st.session_state.get(STARTED)
    if job is None or started is None or not job.state.active:
        return []
    live = {"lr": config.lr, "temperature": config.temperature, "prompt": config.prompt}
    if live != {name: getattr(started, name) for name in live}:
        try:
            job.inspect(sequences.set_live, config.lr, config.temperature, config.prompt, timeout=5)
        except (RuntimeError, TimeoutError):  # not built yet, or busy: try again on the next run of the page
            live = {name: getattr(started, name) for name in live}
    if config.slow_motion != started.slow_motion:
        job.step_delay_s = config.slow_motion
    started = replace(started, slow_motion=config.slow_motion, **live)
    st.session_state[STARTED] = started
    return config.changed(started)


# ---------------------------------------------------------------------------------------------- presets
def _apply_preset(f: Form, name: str) -> None:
    """A preset's experiment, keeping the visitor's own text."""
    kept = {n: f.value(n) for n in ("text_source", "text")}
    f.apply(replace(sequences.PRESETS[name], **kept))


def preset_buttons(f: Form) -> None:
    """One-click experiments that set every control (then press Start race)."""
    cols = st.columns([1.2, 2, 2, 2], vertical_alignment="center")
    cols[0].markdown(t("sequences.page.try"))
    for col, name in zip(cols[1:], sequences.PRESETS, strict=True):
        col.button(t(f"sequences.presets.{name}"), key=f"seq_preset_{name}", on_click=_apply_preset, args=(f, name),
                   help=t(f"sequences.presets.{name}_help"), width="stretch", icon=":material/science:")


# ---------------------------------------------------------------------------------------------- the sidebar
def _task_changed(f: Form) -> None:
    """Each task remembers its own hidden size, learning rate, batch and steps (first visit: its defaults)."""
    state = st.session_state
    memo = state.setdefault("seq__per_task", {})
    memo[f.replace().task] = {name: f.value(name) for name in sequences.PER_TASK}
    task = f.value("task")
    for name, value in memo.get(task, sequences.TASK_DEFAULTS[task]).items():
        state[f.key(name)] = value
    if task != "forecast":
        state[f.key("bidirectional")] = False


def _task_settings(f: Form, task: str) -> None:
    if task == "forecast":
        f.select("series")
        st.caption(t(f"sequences.series.{f.value('series')}"))
        f.slider("window")
        f.slider("horizon")
    elif task == "memory":
        st.caption(t("sequences.page.adding"))
        f.slider("seq_len", step=5)
    else:
        f.segmented("text_source")
        if f.value("text_source") == "own":
            st.text_area(f.label("text"), key=f.key("text"), height=150, max_chars=MAX_TEXT_CHARS,
                         placeholder=t("sequences.page.paste_placeholder"))
            if not f.value("text").strip():
                st.warning(t("sequences.page.paste_first"), icon=":material/content_paste:")
            st.caption(t("sequences.page.paste_not_in_link"), help=t("sequences.page.paste_not_in_link_help"))
        f.slider("char_seq_len", step=8)
        f.select_slider("embed_dim")
        st.text_input(f.label("prompt"), key=f.key("prompt"), max_chars=80, help=f.help("prompt"),
                      placeholder=t("sequences.page.prompt_placeholder"))
        f.slider("temperature", step=0.1)


def settings(f: Form) -> sequences.Config:
    """The sidebar's widgets; returns the config they show (not validated)."""
    with st.sidebar:
        st.subheader(t("sequences.page.task"), anchor=False)
        f.segmented("task", on_change=_task_changed, args=(f,), label_visibility="collapsed")
        task = f.value("task")
        _task_settings(f, task)
        st.subheader(t("sequences.page.cells"), anchor=False)
        f.pills("cells", label_visibility="collapsed")
        if len(f.value("cells") or ()) > 1:
            st.caption(t("sequences.page.race_caption"))
        f.select_slider("hidden_size")
        f.slider("num_layers")
        f.slider("dropout", step=0.05)
        if task == "forecast":
            f.toggle("bidirectional")
        f.slider("init_scale", step=0.25)
        st.subheader(t("sequences.page.optimisation"), anchor=False)
        f.select("optimizer")
        f.select_slider("lr")
        f.select_slider("clip_norm", options=(None, *sequences.CLIP_NORMS))
        f.select_slider("batch_size")
        f.number("steps", step=250)
        f.number("seed")
        f.slider("slow_motion", step=0.01)
    return f.config(**({} if task == "forecast" else {"bidirectional": False}))
