"""The network builder's settings widgets (bound to ``planar.Config`` through a ``Form``), the +/− layer editor
and keeping a running job in step with the settings."""

from __future__ import annotations

import random

import streamlit as st

from core.data.planar import feature_label, planar_names
from core.jobs import TrainingJob
from core.labs import planar
from core.models.mlp import MAX_LAYERS, MAX_NEURONS
from ui.i18n import t
from ui.jobs import current_job, reset_job
from ui.settings import Form

from . import table

JOB = "nb_job"


def form() -> Form[planar.Config]:
    return Form(planar.Config, "nb")


def follow_settings(config: planar.Config) -> None:
    """Keep the running job in step: a structural change rebuilds the network (as TF Playground does);
    learning rate and regularization rate are applied to the running model between two steps."""
    job, job_config = current_job(JOB), st.session_state.get("nb_job_config")
    if job is None or job_config is None:
        return
    if job_config.structure() != config.structure():
        reset_job(JOB)
        st.session_state.pop("nb_job_config", None)
        st.toast(t("planar.page.rebuilt"), icon=":material/refresh:")
    elif (job_config.lr, job_config.reg_rate) != (config.lr, config.reg_rate):
        if job.state.active:
            job.inspect(planar.set_live, config.lr, config.reg_rate, timeout=5)
        st.session_state["nb_job_config"] = config


def new_job(config: planar.Config) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown; it pauses itself a minute after its page is left."""
    job = planar.make_job(config, data=table.current_table() if table.is_table(config) else None,
                          speed=st.session_state.get("nb_speed", "fastest"), pause_unwatched_s=planar.PAUSE_UNWATCHED_S)
    st.session_state["nb_job_config"] = config
    st.session_state["nb_fresh"] = None
    return job


# ---------------------------------------------------------------------------------------------- widgets
def _apply_preset(f: Form) -> None:
    name = st.session_state.get("nb_preset")
    if name in planar.PRESETS:
        f.apply(planar.PRESETS[name])


def _problem_changed() -> None:
    names = planar_names(st.session_state["nb_problem"])
    if st.session_state["nb_dataset"] not in names:
        st.session_state["nb_dataset"] = names[0]


def _regenerate() -> None:
    st.session_state["nb_seed"] = random.randint(0, 999_999)


def _set_speed() -> None:
    job = current_job(JOB)
    if job is not None:
        job.step_delay_s = planar.SPEEDS[st.session_state["nb_speed"]]


def preset_picker(f: Form, where=st) -> None:
    where.selectbox(t("planar.page.preset"), list(planar.PRESETS), index=None, key="nb_preset",
                    on_change=_apply_preset, args=(f,), format_func=lambda k: t(f"planar.presets.{k}"),
                    placeholder=t("planar.page.preset_placeholder"), help=t("planar.page.preset_help"))


def data_controls(f: Form) -> None:
    st.markdown(t("planar.page.data"))
    if f.value("source") == "csv":
        table.controls(f, JOB)
        view_controls(f)
        return
    f.pills("problem", on_change=_problem_changed, wrap=True)
    f.pills("dataset", options=planar_names(st.session_state["nb_problem"]), wrap=True)
    f.slider("train_pct", step=10)
    f.slider("noise", step=5)
    f.slider("batch_size")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    f.number("seed", where=c1)
    c2.button("", icon=":material/casino:", on_click=_regenerate, key="nb_regen", help=t("planar.page.regenerate"),
              width="stretch")
    view_controls(f)


def hyper_controls(f: Form, cols) -> None:
    f.select_slider("lr", where=cols[0])
    f.select("activation", where=cols[1])
    f.select("optimizer", where=cols[2])
    f.select("regularization", where=cols[3])
    f.select_slider("reg_rate", where=cols[4], disabled=st.session_state["nb_regularization"] == "none")
    f.slider("dropout", where=cols[5], step=0.05)


def feature_controls(f: Form) -> None:
    if f.value("source") == "csv":
        return
    f.pills("features", format_func=feature_label, wrap=True)


def _layers(delta: int) -> None:
    hidden = st.session_state["nb_hidden"]
    if delta > 0 and len(hidden) < MAX_LAYERS:
        st.session_state["nb_hidden"] = [*hidden, hidden[-1] if hidden else 4]
    elif delta < 0 and hidden:
        st.session_state["nb_hidden"] = hidden[:-1]


def _neurons(layer: int, delta: int) -> None:
    hidden = list(st.session_state["nb_hidden"])
    hidden[layer] = min(MAX_NEURONS, max(1, hidden[layer] + delta))
    st.session_state["nb_hidden"] = hidden


def _pm(key: str, what: str, on_click, args: tuple, can_add: bool, can_remove: bool) -> None:
    with st.container(horizontal=True, gap="small", horizontal_alignment="center"):
        st.button("", icon=":material/add:", key=f"{key}_add", on_click=on_click, args=(*args, 1),
                  disabled=not can_add, help=t("planar.page.add", what=what), type="tertiary")
        st.button("", icon=":material/remove:", key=f"{key}_del", on_click=on_click, args=(*args, -1),
                  disabled=not can_remove, help=t("planar.page.remove", what=what), type="tertiary")


def layer_editor() -> None:
    """TF-Playground-style +/− buttons, each above its layer of the network diagram drawn below."""
    hidden = st.session_state["nb_hidden"]
    # column widths follow the diagram's geometry: inputs at x=0, layer c at x=3c, range −1.9 … 3(L+1)+0.8
    cols = st.columns([3.4] + [3.0] * len(hidden) + [2.3], gap=None, vertical_alignment="bottom")
    with cols[0]:
        st.markdown(f"<div style='text-align:center;font-size:0.85rem'>{t('planar.page.n_layers', n=len(hidden))}"
                    "</div>", unsafe_allow_html=True)
        _pm("nb_layer", t("planar.page.a_layer"), _layers, (), len(hidden) < MAX_LAYERS, bool(hidden))
    for i, width in enumerate(hidden):
        with cols[i + 1]:
            _pm(f"nb_n{i}", t("planar.page.a_neuron", layer=i + 1), _neurons, (i,), width < MAX_NEURONS, width > 1)
            st.markdown(f"<div style='text-align:center;font-size:0.85rem'>{t('planar.page.n_neurons', n=width)}"
                        "</div>", unsafe_allow_html=True)
    if not hidden:
        cols[-1].caption(t("planar.page.no_hidden"))


def view_controls(f: Form) -> None:
    f.toggle("show_test")
    f.toggle("discretize")


def speed_control() -> None:
    st.session_state.setdefault("nb_speed", "fastest")
    st.segmented_control(t("planar.page.speed"), list(planar.SPEEDS), key="nb_speed", on_change=_set_speed,
                         required=True, format_func=lambda s: t(f"planar.speeds.{s}"), help=t("planar.page.speed_help"),
                         label_visibility="collapsed")
