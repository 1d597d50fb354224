"""Audio lab, tab 2: a log-mel CNN and an MFCC LSTM/GRU, each a background TrainingJob, trained one at a time or
raced side by side on the speaker-independent split."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.audio_features import FeatureParams, n_frames
from core.data.audio import CLIP_SAMPLES
from core.errors import PlaygroundError
from core.jobs import JobSnapshot, TrainingJob
from core.models.audio import DigitSnapshot, DigitSpec, build_model, default_spec, make_digit_trainer, test_split_size
from core.viz.audio import confusion_figure, race_figure, voice_accuracy_figure
from core.viz.curves import training_curves

from .audio_common import digits, language_picker
from .jobs import current_job, job_controls, live_panel, start_job

CNN_KEY, RNN_KEY = "audio_cnn_job", "audio_rnn_job"
CHANNELS = {"8 · 16 · 32": (8, 16, 32), "16 · 32 · 64": (16, 32, 64), "8 · 16": (8, 16), "16 · 32 · 64 · 64":
            (16, 32, 64, 64)}
LRS = [3e-4, 1e-3, 3e-3, 1e-2]


def _language() -> str:
    return st.session_state.get("audio_train_lang") or "en"


def _epochs_key(model: str) -> str:
    """One epochs slider per language: the Mandarin set is smaller and needs more epochs."""
    return f"audio_{model}_epochs_{_language()}"


def _default_epochs(kind: str) -> int:
    return default_spec(kind, language=_language()).epochs


def _common() -> dict:
    s = st.session_state
    return {"language": _language(), "spec_augment": s.get("audio_specaug", False),
            "noisy_copies": s.get("audio_noisy", 0)}


def cnn_spec() -> DigitSpec:
    s = st.session_state
    params = FeatureParams(n_mels=s.get("audio_cnn_mels", 32))
    return default_spec("cnn", params=params, channels=CHANNELS[s.get("audio_cnn_channels", "8 · 16 · 32")],
                        epochs=s.get(_epochs_key("cnn"), _default_epochs("cnn")), lr=s.get("audio_cnn_lr", 3e-3),
                        **_common())


def rnn_spec() -> DigitSpec:
    s = st.session_state
    params = FeatureParams(n_mfcc=s.get("audio_rnn_mfcc", 13), deltas=2)
    return default_spec(s.get("audio_rnn_cell", "LSTM").lower(), params=params, hidden=s.get("audio_rnn_hidden", 64),
                        bidirectional=s.get("audio_rnn_bidir", False), readout=s.get("audio_rnn_readout", "mean"),
                        epochs=s.get(_epochs_key("rnn"), _default_epochs("lstm")), lr=s.get("audio_rnn_lr", 3e-3),
                        **_common())


def _job(spec: DigitSpec) -> TrainingJob:
    n_train = test_split_size(spec)["train"]
    return TrainingJob(lambda: make_digit_trainer(spec), name=f"{spec.title} ({spec.language})",
                       total_steps=spec.steps(n_train), seed=0)


def make_cnn_job() -> TrainingJob:
    return _job(cnn_spec())


def make_rnn_job() -> TrainingJob:
    return _job(rnn_spec())


def start_race() -> None:
    """Start both models at the same moment (each gets half of the CPU when two slots are free)."""
    start_job(CNN_KEY, make_cnn_job, "audio")
    start_job(RNN_KEY, make_rnn_job, "audio")


def cnn_settings() -> None:
    cols = st.columns(2)
    cols[0].selectbox("Channels per conv block", list(CHANNELS), key="audio_cnn_channels",
                      help="Each block: 3×3 conv → batch norm → ReLU → 2×2 max pool; the last maps are flattened "
                           "into the 10-way classifier.")
    cols[1].select_slider("Mel bands", [16, 24, 32, 40, 64], value=32, key="audio_cnn_mels")
    cols = st.columns(2)
    cols[0].slider("Epochs", 1, 60, _default_epochs("cnn"), key=_epochs_key("cnn"))
    cols[1].select_slider("Learning rate", LRS, value=3e-3, key="audio_cnn_lr", format_func=lambda v: f"{v:g}")


def rnn_settings() -> None:
    cols = st.columns(2)
    cols[0].segmented_control("Cell", ["LSTM", "GRU"], default="LSTM", key="audio_rnn_cell", required=True)
    cols[1].select_slider("Hidden units", [16, 32, 64, 128], value=64, key="audio_rnn_hidden")
    cols = st.columns(2)
    cols[0].slider("Epochs", 1, 60, _default_epochs("lstm"), key=_epochs_key("rnn"))
    cols[1].select_slider("Learning rate", LRS, value=3e-3, key="audio_rnn_lr", format_func=lambda v: f"{v:g}")
    cols = st.columns(2)
    cols[0].segmented_control("Readout", ["mean", "last"], default="mean", key="audio_rnn_readout", required=True,
                              help="mean: average the hidden states over all frames · last: only the final hidden "
                                   "state, which must remember the word through the silence after it (harder).")
    cols[1].select_slider("MFCCs", [13, 20], value=13, key="audio_rnn_mfcc",
                          help="Coefficients per frame; Δ and ΔΔ triple the features.")
    st.toggle("Bidirectional", key="audio_rnn_bidir", help="A second recurrent layer reads the frames backwards.")


def _model_caption(spec_fn: Callable[[], DigitSpec]) -> None:
    try:
        spec = spec_fn()
    except PlaygroundError as exc:
        st.error(str(exc))
        return
    rows = spec.params.n_mels if spec.kind == "cnn" else spec.params.n_mfcc * (1 + spec.params.deltas)
    frames = n_frames(CLIP_SAMPLES, spec.params.hop_length)
    params = sum(p.numel() for p in build_model(spec, rows, frames).parameters())
    what = f"{rows} mel bands × {frames} frames" if spec.kind == "cnn" else f"{frames} frames of {rows} MFCC features"
    st.caption(f"Input: {what} · {params:,} parameters · {spec.steps(test_split_size(spec)['train']):,} steps")


def _results(snap: JobSnapshot | None, title: str, key: str) -> None:
    if snap is None:
        st.caption(f"Press **Train** (or **Race both**) to train the {title}.")
        return
    st.plotly_chart(training_curves(snap), width="stretch", key=f"{key}_curves")
    extra: DigitSnapshot | None = snap.view
    if extra is None:
        return
    cols = st.columns(3)
    cols[0].metric("Test accuracy", f"{extra.test_accuracy:.1%}", help="On voices never heard in training.")
    if "val_accuracy" in snap.latest:
        cols[1].metric("Validation accuracy", f"{snap.latest['val_accuracy']:.1%}")
    cols[2].metric("Training time", f"{snap.wall_s:.1f} s")
    st.plotly_chart(confusion_figure(extra.confusion, extra.labels, height=330), width="stretch",
                    key=f"{key}_confusion")


def _race_panel() -> None:
    jobs = {"Log-mel CNN": ("cnn", current_job(CNN_KEY)), "MFCC RNN": ("lstm", current_job(RNN_KEY))}
    polling = any(job is not None and job.state.active for _, job in jobs.values())

    @st.fragment(run_every=1.0 if polling else None)
    def panel() -> None:
        snaps = {}
        for name, (kind, job) in jobs.items():
            job = current_job(CNN_KEY if kind == "cnn" else RNN_KEY)
            snap = job.snapshot() if job is not None else None
            label = job.name.split(" (")[0] if job is not None else name
            snaps[label] = ("gru" if "GRU" in label else kind, snap)
        if all(s is None for _, s in snaps.values()):
            return
        left, right = st.columns(2)
        left.plotly_chart(race_figure(snaps), width="stretch", key="audio_race")
        per_voice = {name: s.view.voice_accuracy for name, (_, s) in snaps.items() if s is not None and s.view}
        if per_voice:
            right.plotly_chart(voice_accuracy_figure(per_voice), width="stretch", key="audio_voices")

    panel()


def render() -> None:
    """The whole tab."""
    top = st.columns([1, 1, 1, 1.2])
    with top[0]:
        language = language_picker("audio_train_lang")
    top[1].toggle("SpecAugment", value=False, key="audio_specaug",
                  help="Each training batch is shifted in time and has one band and one time stretch masked out "
                       "(the CNN's spectrum is also shifted by ±2 mel bands, like a longer or shorter vocal tract).")
    top[2].select_slider("Noisy copies", [0, 1, 2], value=0, key="audio_noisy",
                         help="Add noisy versions of every training clip (white, pink or brown noise at 5–30 dB SNR): "
                              "slower, but more robust to a real microphone.")
    top[3].button("Race both", icon=":material/sports_score:", type="primary", on_click=start_race,
                  width="stretch", help="Start the CNN and the recurrent net at the same moment.")
    data = digits(language)
    split = {s: data.split_voices(s) for s in ("train", "val", "test")}
    st.caption(f"Training on {len(split['train'])} voices ({len(data.indices('train'))} clips); validation on "
               f"{len(split['val'])} other voices, test on {len(split['test'])} more: "
               f"{', '.join(split['test'])} — never heard in training.")
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("CNN on log-mel spectrograms")
        cnn_settings()
        _model_caption(cnn_spec)
        job_controls(CNN_KEY, make_cnn_job, lab="audio")
        live_panel(CNN_KEY, lambda snap: _results(snap, "CNN", "audio_cnn"), every=1.0)
    with right:
        st.subheader("LSTM / GRU on MFCC frames")
        rnn_settings()
        _model_caption(rnn_spec)
        job_controls(RNN_KEY, make_rnn_job, lab="audio")
        live_panel(RNN_KEY, lambda snap: _results(snap, "recurrent net", "audio_rnn"), every=1.0)
    _race_panel()
