"""Network builder: TensorFlow Playground on PyTorch — pick data, features and layers, press Play, watch every
neuron learn. The whole experiment lives in the URL, so the address can be shared."""

import streamlit as st

from core.jobs import JobSnapshot
from pages.network_builder import controls, table, views
from ui.display import controls as controls_box
from ui.display import header, projector
from ui.i18n import t
from ui.jobs import job_controls, live_panel
from ui.lessons import lesson_panel
from ui.settings import share_note

header(t("planar.page.title"), t("planar.page.how"), how_title=t("planar.page.how_title"), lede=t("planar.page.lede"))

form = controls.form()
form.warnings()
lesson_panel("planar", form, controls.JOB)
top = st.container(border=True)
bar = top.columns([2.2, 1.3], vertical_alignment="center")
buttons = bar[0].container()  # filled below, once the settings are known
with bar[1]:
    controls.speed_control()
if projector():  # both boxes of settings folded side by side: data, network and output fit one screen
    hyper_at, data_at = top.columns(2)
    net_col, out_col = st.columns([2.8, 2.1], gap="medium")
else:
    hyper_at = top
    data_at, net_col, out_col = st.columns([1.05, 2.8, 2.1], gap="medium")
with hyper_at, controls_box(t("planar.page.hyper_box"), border=False):
    controls.hyper_controls(form, st.columns(3 if projector() else 6, vertical_alignment="bottom") * 2)
with data_at, controls_box(t("planar.page.data_box"), border=False):
    table.source_switch(form)
    controls.preset_picker(form)
    controls.feature_controls(form)
    controls.data_controls(form)
with net_col:
    controls.layer_editor()

config = form.checked()
controls.follow_settings(config)
with buttons:
    job_controls(controls.JOB, lambda: controls.new_job(config), lab="planar", play_label=t("common.ui.play"))
if table.is_table(config):  # the visitor's own CSV (kept in this session, not in the link)
    with out_col:
        data = table.prepared(config)
    if data is None:
        share_note()
        st.stop()
else:
    data = views.cached_data(views.query_key(config))


def network(snap: JobSnapshot | None) -> None:
    views.render_network(snap, config, data)


def output(snap: JobSnapshot | None) -> None:
    views.render_output(snap, config, data)


def history(snap: JobSnapshot | None) -> None:
    views.render_history(snap, config, data)


with net_col:
    live_panel(controls.JOB, network, every=0.5, status=False)
with out_col:
    live_panel(controls.JOB, output, every=0.5)
live_panel(controls.JOB, history, every=1.5, status=False)
share_note()
