"""CNN lab: build a convolutional network, train it live, watch its filters form, follow a picture through its
feature maps, evaluate it and test it on your own drawing. Every setting lives in the URL (uploads excepted)."""

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot
from core.models.cnn import layer_table
from pages.cnn_lab import data, inside, model
from ui.display import header
from ui.i18n import show, t
from ui.jobs import current_job, job_controls, live_panel
from ui.lessons import lesson_panel
from ui.settings import share_note

header(t("vision.page.title"), lede=t("vision.page.lede"), small=False)

form = model.form()
form.warnings()
lesson_panel("vision", form, model.JOB)
with st.container(border=True):
    st.subheader(t("vision.page.pictures"), anchor=False)
    dataset = data.data_section(form)
if dataset is None:
    st.info(t("vision.page.need_pictures"), icon=":material/image:")
    share_note()
    st.stop()

with st.container(border=True):
    st.subheader(t("vision.page.network"), anchor=False)
    overrides, error = model.network_section(form)
    table = st.container()
with st.container(border=True):
    st.subheader(t("vision.page.train"), anchor=False)
    model.train_section(form)
    config = form.config(**overrides)
    try:
        if error is not None:
            raise error
        config.validate()
        layer_table(config.cnn(dataset.channels, dataset.size, dataset.num_classes))
    except PlaygroundError as exc:
        table.error(show(exc), icon=":material/error:")
        share_note()
        st.stop()
    form.commit(config)
    model.follow_settings(config)
    with table:
        model.layer_summary(config, dataset)
    job_controls(model.JOB, lambda: model.new_job(config, dataset), lab="vision")

    def render(snap: JobSnapshot | None) -> None:
        inside.live_view(snap, config, dataset)

    live_panel(model.JOB, render, every=0.75)

with st.container(border=True):
    inside.inside_section(current_job(model.JOB), st.session_state.get(model.TRAINED), config, dataset)
share_note()
