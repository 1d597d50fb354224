"""Generative lab: a 2-D GAN learning live the way GAN Lab shows it (real density, generated samples, the
discriminator's heatmap, the generator's gradient arrows; step D only / step G only), a DCGAN on the digits, and
autoencoders — plain, variational, denoising — with anomaly detection. The whole experiment lives in the URL."""

import functools

import streamlit as st

from pages.generative_lab import autoencoders, controls, drawing, gan
from ui.display import controls as settings_box
from ui.i18n import t
from ui.jobs import job_controls, live_panel
from ui.lessons import lesson_panel
from ui.settings import share_note

st.title(t("generative.page.title"))
lede, how = st.columns([5, 1.1], vertical_alignment="center")
lede.caption(t("generative.page.lede"))
with how.popover(t("generative.page.how_title"), icon=":material/school:", width="stretch"):
    st.markdown(t("generative.page.how"))

form = controls.form()
drawing.take_pending(form)
form.warnings()
mode = controls.mode_picker(form) or "gan2d"
lesson_panel("generative", form, controls.JOB)
is_gan = mode in ("gan2d", "dcgan")

bar = st.container(border=True).columns([2.6, 2.4, 1.4] if is_gan else [2.6, 1.4], vertical_alignment="center")
buttons, halves = bar[0].container(), bar[1].container() if is_gan else None
controls.speed(form, where=bar[-1])

if mode == "gan2d":
    data_col, plane_col, numbers_col = st.columns([1.25, 2.6, 1.35], gap="medium")
    with data_col:
        controls.preset_picker(form, form.config())
        form.pills("distribution", format_func=controls.choice("distribution"), wrap=True)
        form.slider("spread", step=0.01)
        if form.value("distribution") == "drawn":
            drawing.draw_or_upload(form)
        else:
            with st.expander(t("generative.page.draw_title"), icon=":material/draw:"):
                drawing.draw_or_upload(form)
    with plane_col:
        layers = gan.layer_picker()
        plane_box = st.container()
    with settings_box(t("generative.page.settings")):
        controls.gan2d_settings(form, st)
else:
    controls.preset_picker(form, form.config())
    with settings_box(t("generative.page.settings")):
        if mode == "dcgan":
            controls.dcgan_settings(form, st)
        else:
            controls.autoencoder_settings(form, st, mode)

config = form.checked()
waiting = controls.follow_settings(config)
with buttons:
    job_controls(controls.JOB, functools.partial(controls.new_job, config), lab="generative",
                 play_label=t("common.ui.play"), compact=True)
if halves is not None:
    controls.half_step_buttons(config, halves)
if waiting:
    st.info(t("generative.page.needs_new_run", settings=", ".join(t(label) for label in waiting)),
            icon=":material/restart_alt:")
shown = controls.run_config(config)

if mode == "gan2d":
    with plane_box:
        live_panel(controls.JOB, functools.partial(gan.plane, config=shown, layers=layers), every=0.8, status=False)
    with numbers_col:
        live_panel(controls.JOB, functools.partial(gan.numbers, config=shown), every=0.8)
    live_panel(controls.JOB, functools.partial(gan.curves, config=shown), every=2.5, status=False)
elif mode == "dcgan":
    live_panel(controls.JOB, functools.partial(gan.samples, config=shown), every=1.0)
    live_panel(controls.JOB, functools.partial(gan.dcgan_curves, config=shown), every=2.0, status=False)
    st.subheader(t("generative.page.interpolation_title"))
    st.caption(t("generative.page.interpolation_help"))
    a, b, n = gan.interpolation_controls()
    live_panel(controls.JOB, functools.partial(gan.interpolation, a=a, b=b, n=n), every=2.0, status=False)
else:
    live_panel(controls.JOB, functools.partial(autoencoders.reconstructions, config=shown), every=1.0)
    st.subheader(t("generative.page.latent_title"))
    live_panel(controls.JOB, functools.partial(autoencoders.latent, config=shown), every=1.5, status=False)
    if mode == "anomaly":
        st.subheader(t("generative.page.anomaly_title"))
        percentile = st.slider(t("generative.page.percentile"), 50.0, 99.9, 95.0, 0.1, key="gen_percentile",
                               help=t("generative.page.percentile_help"))
        live_panel(controls.JOB, functools.partial(autoencoders.anomaly, config=shown, percentile=percentile),
                   every=1.5, status=False)
    if mode == "vae":
        st.subheader(t("generative.page.vae_title"))
        live_panel(controls.JOB, functools.partial(autoencoders.vae_extras, config=shown), every=2.0, status=False)
        autoencoders.compare_controls(config)
        live_panel(controls.COMPARE, functools.partial(autoencoders.compare, config=shown), every=2.0, status=False)
    st.subheader(t("generative.page.curves_title"))
    live_panel(controls.JOB, functools.partial(autoencoders.curves, config=shown), every=2.0, status=False)
    if st.toggle(t("generative.page.grid_title"), key="gen_grid_on", help=t("generative.page.grid_help")):
        size = st.slider(t("generative.page.grid_size"), 4, 20, 12, key="gen_grid_n")
        live_panel(controls.JOB, functools.partial(autoencoders.grid, config=shown, n=size), every=3.0, status=False)
    with st.expander(t("generative.page.own_title"), icon=":material/draw:"):
        autoencoders.own_digit(shown)
share_note()
