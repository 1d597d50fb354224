"""Audio lab, tab 2: a log-mel CNN and an MFCC LSTM/GRU, each a background TrainingJob, trained one at a time or
raced side by side on the speaker-independent split."""

from __future__ import annotations

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot, TrainingJob
from core.labs import audio
from core.labs.audio.config import CHANNELS, SURE
from core.viz.audio import confusion_figure, race_figure, voice_accuracy_figure
from core.viz.curves import training_curves
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import current_job, job_controls, live_panel, start_job
from ui.live import live
from ui.settings import Form

from .common import digits

CNN_KEY, RNN_KEY = "audio_cnn_job", "audio_rnn_job"
SLOTS = {CNN_KEY: "cnn", RNN_KEY: "rnn"}
TEACH_KEY = "audio_teach_job"  # the model taught the visitor's voice (tab 4)


def job_config(key: str) -> audio.Config | None:
    """The settings the job under ``key`` was started with."""
    return st.session_state.get(f"{key}__config") if current_job(key) is not None else None


def model_config(config: audio.PageConfig, key: str) -> audio.Config:
    return config.cnn() if key == CNN_KEY else config.rnn()


def new_job(key: str, config: audio.Config) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown; it pauses itself a minute after its page is left."""
    job = audio.make_job(config, pause_unwatched_s=audio.PAUSE_UNWATCHED_S)
    st.session_state[f"{key}__config"] = config
    return job


def start_race(config: audio.PageConfig) -> None:
    """Start both models at the same moment (each gets half of the CPU when two slots are free)."""
    for key in SLOTS:
        start_job(key, lambda key=key: new_job(key, model_config(config, key)), "audio")


@st.cache_data(max_entries=32, show_spinner=False)
def _summary(config: audio.Config) -> audio.ModelSummary:
    return audio.summary(config)


def cnn_settings(f: Form) -> None:
    cols = st.columns(2)
    options = [list(c) for c in CHANNELS]
    if f.value("cnn_channels") not in options:  # a link may name other blocks
        options.append(list(f.value("cnn_channels")))
    cols[0].selectbox(f.label("cnn_channels"), options, key=f.key("cnn_channels"), help=f.help("cnn_channels"),
                      format_func=lambda c: " · ".join(map(str, c)))
    f.select_slider("cnn_mels", where=cols[1])
    cols = st.columns(2)
    f.slider("cnn_epochs", where=cols[0])
    f.select_slider("cnn_lr", where=cols[1])


def rnn_settings(f: Form) -> None:
    cols = st.columns(2)
    f.segmented("rnn_cell", where=cols[0])
    f.select_slider("rnn_hidden", where=cols[1])
    cols = st.columns(2)
    f.slider("rnn_epochs", where=cols[0])
    f.select_slider("rnn_lr", where=cols[1])
    cols = st.columns(2)
    f.segmented("rnn_readout", where=cols[0])
    f.select_slider("rnn_mfcc", where=cols[1])
    cols = st.columns(2, vertical_alignment="bottom")
    f.select("rnn_deltas", where=cols[0], options=[0, 1, 2], format_func=f.option("deltas"))
    f.toggle("rnn_bidir", where=cols[1])


def _model_caption(config: audio.Config) -> None:
    try:
        s = _summary(config)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return
    what = t(f"audio.train.input_{config.input.replace('-', '_')}", rows=s.rows, frames=s.frames)
    st.caption(t("audio.train.summary", what=what, params=s.parameters, steps=s.steps))


def _results(snap: JobSnapshot | None, slot: str, key: str) -> None:
    if snap is None:
        st.caption(t(f"audio.train.press_{slot}"))
        return
    chart(training_curves(snap, val_name=t("audio.train.val_name"), lang=lang()), key=f"{key}_curves")
    view: audio.View | None = snap.view
    if view is None:
        return
    cols = st.columns(3)
    cols[0].metric(t("audio.train.test_accuracy"), f"{view.test_accuracy:.1%}", help=t("audio.train.test_help"))
    cols[1].metric(t("audio.train.recording_accuracy"), f"{view.recording_accuracy:.1%}",
                   help=t("audio.train.recording_help"))
    cols[2].metric(t("audio.train.time"), t("audio.train.seconds", seconds=snap.wall_s))
    st.caption(t("audio.train.sure", share=view.sure_share, accuracy=view.sure_accuracy, sure=SURE))
    chart(confusion_figure(view.confusion, view.labels, height=330, lang=lang()), key=f"{key}_confusion")


def _race_panel() -> None:
    def draw() -> bool:
        snaps, per_voice, recording, kinds = {}, {}, {}, {}
        for key in SLOTS:
            job, config = current_job(key), job_config(key)
            if job is None or config is None:
                continue
            snap = job.snapshot()
            name = t(f"audio.models.{config.kind}")
            snaps[name], kinds[name] = (config.kind, snap), config.kind
            if snap.view is not None:
                per_voice[name], recording[name] = snap.view.per_voice(), snap.view.per_voice_recording()
        if not snaps:
            return False
        left, right = st.columns(2)
        chart(race_figure(snaps, lang=lang()), key="audio_race", where=left)
        if per_voice:
            chart(voice_accuracy_figure(per_voice, kinds=kinds, recording=recording, lang=lang()), key="audio_voices",
                  where=right)
        return any(s.state.active for _, s in snaps.values())

    jobs = [current_job(key) for key in SLOTS]
    live(draw, active=any(job is not None and job.state.active for job in jobs), every=1.0)


def _model_column(f: Form, config: audio.PageConfig, key: str) -> None:
    slot = SLOTS[key]
    st.subheader(t(f"audio.train.{slot}_title"))
    (cnn_settings if slot == "cnn" else rnn_settings)(f)
    wanted = model_config(config, key)
    _model_caption(wanted)
    started = job_config(key)
    if started is not None and started != wanted:
        st.caption(t("audio.train.changed"), help=t("audio.train.changed_help"))
    job_controls(key, lambda: new_job(key, wanted), lab="audio")
    live_panel(key, lambda snap: _results(snap, slot, key), every=1.0)


def render(f: Form, config: audio.PageConfig) -> None:
    """The whole tab."""
    top = st.columns([1, 1, 1, 1.2], vertical_alignment="bottom")
    f.toggle("spec_augment", where=top[0])
    f.slider("copies", where=top[1])
    f.number("seed", where=top[2])
    top[3].button(t("audio.train.race"), icon=":material/sports_score:", type="primary", on_click=start_race,
                  args=(config,), width="stretch", help=t("audio.train.race_help"))
    data = digits(config.language)
    split = {s: data.split_voices(s) for s in ("train", "val", "test")}
    speakers = data.speakers
    test_speakers = sorted({speakers[i] for i in data.indices("test")})
    st.caption(t("audio.train.split", voices=len(split["train"]), clips=len(data.indices("train")),
                 val=len(split["val"]), test=len(split["test"]), names=", ".join(test_speakers)),
               help=t("audio.train.split_help"))
    left, right = st.columns(2, gap="large")
    with left:
        _model_column(f, config, CNN_KEY)
    with right:
        _model_column(f, config, RNN_KEY)
    _race_panel()
