"""The generative lab's settings (one ``Form`` over ``generative.Config``, so the whole experiment is in the
address bar), the mode switch and presets, the speed, the half-step buttons (step D only / step G only) and
keeping a running job in step with the settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st

from core import i18n
from core.errors import PlaygroundError
from core.i18n import Term
from core.jobs import JobState, TrainingJob
from core.labs import generative
from ui.i18n import lang, show, t
from ui.jobs import current_job, reset_job, start_job
from ui.settings import Form

PREFIX = "gen"
JOB = "gen_job"
COMPARE = "gen_compare_job"  # the plain autoencoder trained beside a VAE
STARTED = "gen_job_config"  # the config the current job trains with (live changes applied)
FRESH = "gen_fresh"  # (job id, view, serial) taken between two steps: half steps and paused jobs
HALVES = "gen_halves"  # job id -> {"d": n, "g": n}: half steps taken by hand
ERROR = "gen_action_error"
PAUSE_UNWATCHED_S = 60.0
SPEEDS = (0, 5, 20, 50, 100, 250, 500, 1000)  # pause after each step, ms
CHOICE_TABLES = {"mode": "modes", "distribution": "distributions", "loss": "losses", "prior": "priors",
                 "arch": "archs", "noise_kind": "noise_kinds"}
LIVE = tuple(f.name for f in generative.Config.declared() if not f.setting.rebuild)


def form() -> Form[generative.Config]:
    f = Form(generative.Config, PREFIX)
    state = st.session_state
    delay = state[f.key("step_delay_ms")]
    if delay not in SPEEDS:  # a hand-made link: the nearest speed the control offers
        state[f.key("step_delay_ms")] = min(SPEEDS, key=lambda s: abs(s - delay))
    return f


def translated(key: Callable[[Any], str]) -> Callable[[Any], str]:
    """A ``format_func`` showing catalogue key ``key(value)`` in this run's language. The language is fixed when
    the widget is drawn, so the option names are the same whenever Streamlit formats them (it also does so outside
    the page's run, where the session's language cannot be read)."""
    language = lang()
    return lambda value: i18n.text(key(value), language)


def choice(name: str) -> Callable[[Any], str]:
    """How the options of field ``name`` are shown (their catalogue names)."""
    table = CHOICE_TABLES[name]
    return translated(lambda value: f"generative.{table}.{value}")


# ---------------------------------------------------------------------------------------------- jobs
def new_job(config: generative.Config) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown; it pauses itself a minute after its page is left."""
    job = generative.make_job(config, pause_unwatched_s=PAUSE_UNWATCHED_S)
    st.session_state[STARTED] = config
    st.session_state[FRESH] = None
    return job


def run_config(config: generative.Config) -> generative.Config:
    """The settings the current run trains with (the page's, before any run)."""
    job = current_job(JOB)
    started = st.session_state.get(STARTED)
    return started if job is not None and started is not None else config


def follow_settings(config: generative.Config) -> list[Term]:
    """Apply what needs no new model (learning rates, D steps, penalty, β, noise, speed) to the running job;
    return the labels of the settings that differ from the run's and wait for a new run."""
    job, started = current_job(JOB), st.session_state.get(STARTED)
    if job is not None and started is not None and started.mode != config.mode:  # a lesson or a link changed it
        reset_job(JOB)
        reset_job(COMPARE)
        return []
    if job is None or started is None or not job.state.active:
        return []
    live = replace(started, **{name: getattr(config, name) for name in LIVE})
    if live != started:
        if live.step_delay_ms != started.step_delay_ms:
            job.step_delay_s = live.step_delay_ms / 1000
        try:
            job.inspect(generative.apply_config, live, timeout=5)
        except (RuntimeError, TimeoutError):  # not built yet, or busy: try again on the next run of the page
            live = replace(live, **{n: getattr(started, n) for n in LIVE if n != "step_delay_ms"})
        st.session_state[STARTED] = live
    return config.changed(live)


def _inspect_soon(job: TrainingJob, fn, *args: Any, wait_s: float = 60.0) -> Any:
    """``job.inspect(fn, *args)``, waiting for a job that was just submitted to build its models (on a busy server
    its worker may take a while to start). It is asked once: an answer that is late may still come, and a second
    question would take a second half step."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return job.inspect(fn, *args, timeout=max(10.0, deadline - time.monotonic()))
        except RuntimeError:  # not built yet: nothing was asked
            if time.monotonic() > deadline or not job.state.active:
                raise
            time.sleep(0.1)


def set_fresh(job_id: int, view: generative.View) -> None:
    serial = st.session_state.get(FRESH)[2] + 1 if st.session_state.get(FRESH) else 1
    st.session_state[FRESH] = (job_id, view, serial)


def half_step(which: str, config: generative.Config) -> None:
    """One step of the discriminator (``"d"``) or of the generator (``"g"``) alone, on the paused run (a paused
    run is started from the settings when there is none); the view it leaves is shown at once."""
    state = st.session_state
    state.pop(ERROR, None)
    job = current_job(JOB)
    if job is None or not job.state.active:
        job = start_job(JOB, lambda: new_job(config), "generative", paused=True)
        if job is None:
            return
    fn = generative.step_discriminator if which == "d" else generative.step_generator
    try:
        view = _inspect_soon(job, fn)
    except (PlaygroundError, RuntimeError, TimeoutError) as exc:
        state[ERROR] = exc
        return
    set_fresh(job.id, view)
    counts = state.setdefault(HALVES, {}).setdefault(job.id, {"d": 0, "g": 0})
    counts[which] += 1


def half_step_buttons(config: generative.Config, where: Any = st) -> None:
    """Step D only / Step G only (GAN modes), usable while the run is paused or before it starts."""
    job = current_job(JOB)
    running = job is not None and job.state in (JobState.RUNNING, JobState.QUEUED) and not job.pause_requested
    cols = where.columns(2, gap="small")
    for col, which, icon in ((cols[0], "d", ":material/policy:"), (cols[1], "g", ":material/brush:")):
        col.button(t(f"generative.page.step_{which}"), icon=icon, key=f"gen_step_{which}", on_click=half_step,
                   args=(which, config), disabled=running, width="stretch",
                   help=t("generative.page.half_running") if running else t(f"generative.page.step_{which}_help"))
    if (error := st.session_state.get(ERROR)) is not None:
        where.error(show(error), icon=":material/error:")


def half_steps(job_id: int) -> dict[str, int]:
    return st.session_state.get(HALVES, {}).get(job_id, {"d": 0, "g": 0})


# ---------------------------------------------------------------------------------------------- mode and presets
def _mode_changed(f: Form) -> None:
    """A new mode starts from its own preset (the defaults are tuned for the 2-D GAN); drawn points stay."""
    mode = st.session_state[f.key("mode")]
    keep = {name: st.session_state[f.key(name)] for name in ("points", "seed")}
    reset_job(JOB)
    reset_job(COMPARE)
    f.apply(replace(generative.preset_for(mode), points=tuple(keep["points"]), seed=keep["seed"]))


def mode_picker(f: Form) -> str:
    return f.segmented("mode", on_change=_mode_changed, args=(f,), label_visibility="collapsed",
                       format_func=translated(lambda m: f"generative.mode_tabs.{m}"), width="stretch")


def presets_of(mode: str) -> list[str]:
    return [name for name, preset in generative.PRESETS.items() if preset.mode == mode]


def matching_preset(config: generative.Config) -> str | None:
    """The preset the settings are exactly (drawn points and seed aside)."""
    for name in presets_of(config.mode):
        preset = generative.PRESETS[name]
        if replace(config, points=preset.points, seed=preset.seed) == preset:
            return name
    return None


def _preset_picked(f: Form) -> None:
    name = st.session_state.get("gen_preset")
    if name in generative.PRESETS:
        reset_job(JOB)
        reset_job(COMPARE)
        f.apply(replace(generative.PRESETS[name], points=tuple(f.value("points")), seed=f.value("seed")))


def preset_picker(f: Form, config: generative.Config, where: Any = st) -> None:
    """The mode's presets as pills; the one the settings match is selected, with its note and, for a pair
    like collapse vs fix, what differs between them."""
    names = presets_of(config.mode)
    current = matching_preset(config)
    st.session_state["gen_preset"] = current
    where.pills(t("generative.page.presets"), names, key="gen_preset", on_change=_preset_picked, args=(f,),
                format_func=translated(lambda n: f"generative.presets.{n}"), help=t("generative.page.presets_help"),
                wrap=True)
    if current is None:
        return
    where.caption(t(f"generative.presets.{current}_note"))
    partner = PARTNERS.get(current)
    if partner:
        where.caption(t("generative.page.what_changed", preset=t(f"generative.presets.{partner}"),
                         changes=differences(generative.PRESETS[partner], generative.PRESETS[current])))


PARTNERS = {"ring_fixed": "ring_collapse", "ring_collapse": "ring_fixed"}


def differences(a: generative.Config, b: generative.Config) -> str:
    """``label: a → b`` for every setting in which two configs differ."""
    parts = []
    for f in generative.Config.declared():
        old, new = getattr(a, f.name), getattr(b, f.name)
        if old != new:
            parts.append(f"{t(f.label)}: {old:g} → {new:g}" if isinstance(old, float) else
                         f"{t(f.label)}: {old} → {new}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------- settings
def speed(f: Form, where: Any = st) -> None:
    language = lang()
    f.select_slider("step_delay_ms", where=where, options=list(SPEEDS),
                    format_func=lambda ms: i18n.text("generative.page.fastest" if ms == 0 else "generative.page.ms",
                                                     language, ms=ms))


def gan2d_settings(f: Form, box: Any) -> None:
    """The generator, the discriminator and their training, in three columns."""
    g, d, train = box.columns(3, gap="medium")
    g.markdown(t("generative.page.generator"))
    f.slider("g_depth", where=g)
    f.slider("g_width", where=g)
    f.select("g_activation", where=g)
    f.slider("noise_dim", where=g)
    f.segmented("prior", where=g, format_func=choice("prior"))
    d.markdown(t("generative.page.discriminator"))
    f.slider("d_depth", where=d)
    f.slider("d_width", where=d)
    f.select("d_activation", where=d)
    f.slider("d_steps", where=d)
    train.markdown(t("generative.page.training"))
    f.select("loss", where=train, format_func=choice("loss"))
    if f.value("loss") == "wgan_gp":
        f.slider("gp_weight", where=train, step=0.5)
    f.select("optimizer", where=train)
    lrs = train.columns(2)
    f.select_slider("g_lr", where=lrs[0])
    f.select_slider("d_lr", where=lrs[1])
    run_settings(f, train)


def dcgan_settings(f: Form, box: Any) -> None:
    nets, train = box.columns(2, gap="medium")
    nets.markdown(t("generative.page.networks"))
    f.slider("image_noise_dim", where=nets)
    f.slider("image_channels", where=nets, step=8)
    f.slider("d_steps", where=nets)
    train.markdown(t("generative.page.training"))
    cols = train.columns(2)
    f.select("loss", where=cols[0], format_func=choice("loss"))
    f.select("optimizer", where=cols[1])
    lrs = train.columns(2)
    f.select_slider("g_lr", where=lrs[0])
    f.select_slider("d_lr", where=lrs[1])
    run_settings(f, train)


def autoencoder_settings(f: Form, box: Any, mode: str) -> None:
    net, train = box.columns(2, gap="medium")
    net.markdown(t("generative.page.autoencoder"))
    f.segmented("arch", where=net, format_func=choice("arch"))
    f.slider("bottleneck", where=net)
    f.slider("ae_width", where=net, step=16)
    if mode == "vae":
        f.slider("beta", where=net, step=0.1)
    if mode == "denoise":
        f.segmented("noise_kind", where=net, format_func=choice("noise_kind"))
        f.slider("noise_level", where=net, step=0.05)
    if mode == "anomaly":
        f.pills("normal_classes", where=net)
    train.markdown(t("generative.page.training"))
    f.select_slider("ae_lr", where=train)
    run_settings(f, train)


def run_settings(f: Form, where: Any) -> None:
    cols = where.columns(3)
    f.number("batch_size", where=cols[0])
    f.number("steps", where=cols[1], step=500)
    f.number("seed", where=cols[2])
