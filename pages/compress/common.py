"""What the compression page's sections share: the settings form, one job per kind of training, the page's
memory of results already computed for a model, and the training settings row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.data.images import ImageDataset
from core.errors import PlaygroundError
from core.explain.source import Explainable
from core.jobs import TrainingJob
from core.labs import compress
from ui.i18n import show, t
from ui.settings import Form

PREFIX = "cmp"
JOBS = {task: f"cmp_job_{task}" for task in compress.TASKS}  # one job per kind of training, side by side
PAUSE_UNWATCHED_S = 60.0


def form() -> Form[compress.Config]:
    return Form(compress.Config, PREFIX)


def new_job(config: compress.Config, source: Explainable | None, new_classes: ImageDataset | None = None
            ) -> TrainingJob:
    """A job for ``job_controls``; it pauses itself a minute after its tab is left."""
    return compress.make_job(config, source, new_classes, pause_unwatched_s=PAUSE_UNWATCHED_S)


def memo(name: str, token: tuple, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, computed once per ``(name, token)`` in this session (only the latest token of each name is
    kept: the model on the page changes rarely, and the numbers of the previous one are not needed again)."""
    store = st.session_state.setdefault("cmp__memo", {})
    hit = store.get(name)
    if hit is not None and hit[0] == token:
        return hit[1]
    value = fn(*args)
    store[name] = (token, value)
    return value


def forget(name: str) -> None:
    st.session_state.setdefault("cmp__memo", {}).pop(name, None)


def settled(f: Form) -> compress.Config | None:
    """The settings shown, checked and written into the address bar; ``None`` (with the message shown) when they
    do not work."""
    config = f.config()
    try:
        config.validate()
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return None
    f.commit(config)
    return config


def training_settings(f: Form) -> None:
    """Steps, optimizer, learning rate, batch size and seed of a fine-tuning or distillation run."""
    cols = st.columns(5, vertical_alignment="bottom")
    f.number("steps", where=cols[0], step=100)
    f.select("optimizer", where=cols[1])
    f.select_slider("lr", where=cols[2])
    f.number("batch_size", where=cols[3], step=16)
    f.number("seed", where=cols[4])


def kb(n: float) -> str:
    return t("compress.page.kb", value=n / 1024)


# ---------------------------------------------------------------------------------------------- sections
TAB_KEY = "cmp_tab"
SECTION_KEY = "cmp__section"  # the open tab by name (its label changes with the language)
TASK_SECTION = {"finetune": "prune", "distill": "distill", "fewshot": "fewshot"}  # the tab of each job's task


def open_section(f: Form) -> str:
    """The tab to show: the one the visitor opened last, else the one of the link's task."""
    return st.session_state.get(SECTION_KEY) or TASK_SECTION[f.value("task")]


def tab_changed(f: Form, labels: dict[str, str]) -> None:
    """Opening the tab of a kind of training makes it the link's task (a shared link opens that tab)."""
    label = st.session_state.get(TAB_KEY)
    section = next((name for name, text in labels.items() if text == label), None)
    st.session_state[SECTION_KEY] = section
    task = next((task for task, name in TASK_SECTION.items() if name == section), None)
    if task is not None:
        st.session_state[f.key("task")] = task


class LessonForm:
    """The form a lesson's "Set it up" fills: settings of a kind of training open its tab."""

    def __init__(self, f: Form[compress.Config]) -> None:
        self.form = f

    def config(self) -> compress.Config:
        return self.form.config()

    def apply(self, config: compress.Config) -> None:
        self.form.apply(config)
        st.session_state[SECTION_KEY] = TASK_SECTION[config.task]
        st.session_state[TAB_KEY] = ""  # no tab's label: the tabs open their default, the section's
