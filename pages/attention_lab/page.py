"""Attention lab: a tiny transformer trained live — reversal and sorting, a BERT-style masked language model and a
GPT-style causal one — with every head opened up. The settings live in the URL (a pasted text does not)."""

import functools

import streamlit as st

from pages.attention_lab import controls, views
from ui.display import controls as settings_box
from ui.display import header, projector
from ui.i18n import t
from ui.jobs import job_controls, live_panel
from ui.lessons import lesson_panel
from ui.settings import share_note

header(t("attention.page.title"), t("attention.help.attention"), t("attention.help.bert_gpt"),
       how_title=t("attention.page.how_title"), lede=t("attention.page.lede"), ratio=(5.5, 1.7))

form = controls.form()
form.warnings()
lesson_panel("attention", form, controls.JOB)
with settings_box(t("attention.page.settings")):
    task = controls.task_picker(form)
    about, preset = st.columns([3, 1.2], vertical_alignment="center")
    about.caption(t(f"attention.task_help.{task}"))
    controls.preset_picker(form, where=preset)
    data, probe = st.columns([1.4, 1], vertical_alignment="bottom")
    with data:
        controls.data_settings(form, task)
    with probe:
        controls.probe_input(form, task)
controls.model_settings(form)

config = form.checked()
changed = controls.follow_settings(config)

bar = st.columns([1.2, 1.6] if projector() else [2.2, 1.4], vertical_alignment="center")
with bar[0]:
    job_controls(controls.JOB, functools.partial(controls.new_job, config), lab="attention", compact=projector(),
                 play_label=t("attention.page.start_race") if config.race else t("common.ui.train"))
with bar[1]:
    controls.speed_control(task)

names = views.views_for(task)
which = st.segmented_control(t("attention.page.view"), names, default="attention", key=f"att_view_{task}",
                             required=True, format_func=lambda v: t(f"attention.page.view_{v}"),
                             label_visibility="collapsed")
which = which if which in names else "attention"
panel = st.container()
if which == "generate":  # the sampling settings, the live next-character chart and the text generated on demand
    controls.sampling_settings(form)
    panel, generated = st.columns([1.1, 1], gap="medium")
    with generated:
        views.generation_panel(config)
if which == "compare":  # this run and its twin of the other family, side by side
    views.compare_view(config)
else:
    with panel:
        live_panel(controls.JOB, functools.partial(views.render, which=which, config=config, changed=changed),
                   every=1.0)
share_note()
