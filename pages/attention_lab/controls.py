"""The attention lab's settings (bound to ``attention.Config`` through a ``Form``): the task and its data on the
page, the transformer and its training in the sidebar, the presets, the training speed, and keeping a running job
in step with the settings that need no new model."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.data.sequences import MAX_TEXT_CHARS
from core.i18n import Term
from core.jobs import TrainingJob
from core.labs import attention as A
from ui.i18n import t
from ui.jobs import current_job, reset_job
from ui.settings import Form

PREFIX = "att"
JOB = "att_job"
STARTED = "att_job_config"  # the settings the current run trains with (live changes applied)
TWIN = "att_twin"  # the other family (BERT-style ↔ GPT-style) on the same text, trained side by side
FAMILY = {"masked_lm": "causal_lm", "causal_lm": "masked_lm"}
SPEED = "att_speed"
LIVE = tuple(f.name for f in A.Config.declared() if not f.setting.rebuild)  # applied to a running model


def form() -> Form[A.Config]:
    return Form(A.Config, PREFIX)


def default_speed(task: str) -> str:
    """Slow for the digit tasks (solved in a few hundred steps: slow enough to watch the maps form), else fast."""
    return "slow" if task in A.DIGIT_TASKS else "fast"


def new_job(config: A.Config) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown, at the chosen speed."""
    job = A.make_job(config, speed=st.session_state.get(SPEED, default_speed(config.task)))
    st.session_state[STARTED] = config
    return job


def twin_config(config: A.Config) -> A.Config:
    """The same experiment for the other language-model family (only the task differs)."""
    return replace(config, task=FAMILY[config.task], probe="")


def new_twin_job(config: A.Config) -> TrainingJob:
    return A.make_job(twin_config(config), speed=st.session_state.get(SPEED, default_speed(config.task)))


def run_config(config: A.Config) -> A.Config:
    """The settings of the current run (the page's when there is none)."""
    return st.session_state.get(STARTED, config) if current_job(JOB) is not None else config


def follow_settings(config: A.Config) -> list[Term]:
    """Hand what needs no new model (learning rate, the inspected input, prompt, sampling) to the current run;
    return the labels of the settings that differ from the run's and only take effect in a new one."""
    job, started = current_job(JOB), st.session_state.get(STARTED)
    if job is None or started is None:
        return []
    wanted = replace(started, **{name: getattr(config, name) for name in LIVE})
    if wanted != started:
        try:
            job.inspect(A.set_live, wanted, timeout=5)
            st.session_state[STARTED] = started = wanted
        except (RuntimeError, TimeoutError):  # not built yet, or busy: tried again on the next run of the page
            pass
    return config.changed(started)


# ---------------------------------------------------------------------------------------------- presets, task
def _apply_preset(f: Form) -> None:
    name = st.session_state.get(f"{PREFIX}_preset")
    if name in A.PRESETS:
        preset = A.PRESETS[name]
        reset_job(TWIN)
        f.apply(replace(preset, custom_text=f.value("custom_text")))  # the visitor's pasted text stays
        st.session_state[SPEED] = default_speed(preset.task)


def _task_changed(f: Form) -> None:
    reset_job(TWIN)  # it was the other family of the previous task
    st.session_state[SPEED] = default_speed(f.value("task"))
    st.session_state[f.key("probe")] = ""  # an input for one task rarely fits another


def preset_picker(f: Form, where=st) -> None:
    where.selectbox(t("attention.page.preset"), list(A.PRESETS), index=None, key=f"{PREFIX}_preset",
                    on_change=_apply_preset, args=(f,), format_func=lambda k: t(f"attention.presets.{k}"),
                    placeholder=t("attention.page.preset_placeholder"), help=t("attention.page.preset_help"))


def task_picker(f: Form) -> str:
    f.segmented("task", format_func=lambda v: t(f"attention.tasks.{v}"), on_change=_task_changed, args=(f,),
                label_visibility="collapsed")
    return f.value("task")


def data_settings(f: Form, task: str) -> None:
    """The task's data: sequence length and symbols, or the text and the context."""
    if task in A.DIGIT_TASKS:
        cols = st.columns(2)
        f.slider("seq_len", where=cols[0])
        f.slider("digits", where=cols[1])
        return
    cols = st.columns(2)
    f.select("text", where=cols[0], format_func=lambda v: t(f"attention.texts.{v}"))
    f.slider("context", where=cols[1], step=8)
    if f.value("text") == "custom":
        st.text_area(f.label("custom_text"), key=f.key("custom_text"), height=120, max_chars=MAX_TEXT_CHARS,
                     placeholder=t("attention.page.paste_placeholder"))
        if not f.value("custom_text").strip():
            st.warning(t("attention.page.paste_first"), icon=":material/content_paste:")
        st.caption(t("attention.page.paste_not_in_link"), help=t("attention.page.paste_not_in_link_help"))


def probe_input(f: Form, task: str) -> None:
    """The input whose attention is drawn live (typed by the visitor; a validation example when empty)."""
    st.text_input(t(f"attention.page.probe_{task}"), key=f.key("probe"), max_chars=f.field("probe").setting.max_len,
                  placeholder=t(f"attention.page.probe_placeholder_{task}"),
                  help=t(f"attention.page.probe_help_{task}"))


# ---------------------------------------------------------------------------------------------- the sidebar
def model_settings(f: Form) -> None:
    """The transformer, the racing LSTM and the optimisation, in the sidebar."""
    with st.sidebar:
        st.subheader(t("attention.page.model"), anchor=False)
        cols = st.columns(2)
        f.slider("layers", where=cols[0])
        f.slider("heads", where=cols[1])
        f.slider("width", step=8)
        f.slider("dropout", step=0.05)
        f.select("norm", format_func=lambda v: t(f"attention.norms.{v}"))
        f.segmented("positions", format_func=lambda v: t(f"attention.positions.{v}"))
        st.subheader(t("attention.page.race"), anchor=False)
        f.toggle("race")
        if f.value("race"):
            f.slider("lstm_hidden", step=8)
        st.subheader(t("attention.page.training"), anchor=False)
        f.select("optimizer")
        f.select_slider("lr")
        f.number("batch_size", step=16)
        f.number("steps", step=100)
        f.number("seed")


def _set_speed() -> None:
    for key in (JOB, TWIN):
        job = current_job(key)
        if job is not None:
            job.step_delay_s = A.SPEEDS[st.session_state[SPEED]]


def speed_control(task: str) -> None:
    st.session_state.setdefault(SPEED, default_speed(task))
    st.segmented_control(t("attention.page.speed"), list(A.SPEEDS), key=SPEED, on_change=_set_speed, required=True,
                         format_func=lambda s: t(f"attention.speeds.{s}"), help=t("attention.page.speed_help"),
                         label_visibility="collapsed")


# ---------------------------------------------------------------------------------------------- generation
def sampling_settings(f: Form) -> None:
    """Prompt, temperature, top-k, top-p and length of the causal LM's generation (all in the link)."""
    cols = st.columns([3, 2, 1.2, 1.2, 1.4], vertical_alignment="bottom")
    cols[0].text_input(f.label("prompt"), key=f.key("prompt"), max_chars=f.field("prompt").setting.max_len,
                       placeholder=t("attention.page.prompt_placeholder"), help=t("attention.page.prompt_help"))
    f.slider("temperature", where=cols[1], step=0.05, help=t("attention.help.next_token"))
    f.number("top_k", where=cols[2], placeholder=t("attention.page.off"), help=t("attention.page.top_k_help"))
    f.number("top_p", where=cols[3], step=0.05, placeholder=t("attention.page.off"),
             help=t("attention.page.top_p_help"))
    f.number("gen_length", where=cols[4], step=50)
