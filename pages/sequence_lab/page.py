"""Sequence lab: vanilla RNN, LSTM and GRU trained live on forecasting, long-memory and character tasks,
with every gate opened up and the gradient flowing back through time. The settings live in the URL."""

import functools

import streamlit as st

from pages.sequence_lab import controls, views
from ui.display import header
from ui.i18n import t
from ui.jobs import job_controls, live_panel
from ui.lessons import lesson_panel
from ui.settings import share_note

header(t("sequences.page.title"), lede=t("sequences.page.lede"), small=False)

form = controls.form()
form.warnings()
lesson_panel("sequences", form, controls.JOB)
controls.preset_buttons(form)
config = form.checked(controls.settings(form))
changed = controls.follow_settings(config)
job_controls(controls.JOB, functools.partial(controls.new_job, config), lab="sequences",
             play_label=t("sequences.page.start_race") if config.race else t("common.ui.train"))

names = [v for v in views.VIEWS if v != "units" or config.task == "chars"]
which = st.segmented_control(t("sequences.page.view"), names, default="training", key="seq_view", required=True,
                             format_func=lambda v: t(f"sequences.page.view_{v}"), label_visibility="collapsed")
which = which if which in names else "training"
st.caption(t(f"sequences.page.hint_{which}"))
live_panel(controls.JOB, functools.partial(views.render, which=which, config=config, changed=changed), every=1.0)
share_note()
