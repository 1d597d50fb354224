"""Audio lab, tab 1: choose a clip, augment it with a listen button per augmentation, and look at it the way a
model does — waveform, STFT, mel spectrogram and MFCCs — under adjustable analysis settings."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.audio import SAMPLE_RATE, add_noise, fit_clip, pitch_shift, recording_like, time_shift, time_stretch
from core.errors import ConfigError
from core.labs import audio
from core.labs.audio.features import frame_times, mel_db, mel_frequencies, mfcc, stft_db, stft_frequencies
from core.viz.audio import mfcc_figure, spectrogram_figure, waveform_figure
from ui.display import chart
from ui.i18n import lang, show, t
from ui.settings import Form

from .common import EXPLORE_KEYS, Clip, clip_source, digits

AUGMENTATIONS = ("noise", "shift", "pitch", "stretch", "recording")


@st.cache_data(max_entries=64, show_spinner=False)
def augmentations(wave: np.ndarray, noise_kind: str, snr: float, shift: float, semitones: float, rate: float,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """The clip after each augmentation alone, after all four in a row, and as if a person had recorded it (the
    training's recording-like copies: speed, vocal tract, room, microphone, noise, shift — drawn from ``seed``)."""
    out = {"original": wave,
           "noise": add_noise(wave, snr, noise_kind),
           "shift": time_shift(wave, shift),
           "pitch": pitch_shift(wave, semitones),
           "stretch": time_stretch(wave, rate)}
    out["all"] = add_noise(time_shift(time_stretch(pitch_shift(wave, semitones), rate), shift), snr, noise_kind)
    out["recording"] = recording_like(fit_clip(wave), seed)
    return out


def feature_settings(f: Form) -> audio.FeatureParams | None:
    """Sliders for the short-time analysis; None (with an error shown) when they do not fit together."""
    cols = st.columns(6)
    f.select_slider("n_fft", where=cols[0])
    f.select_slider("hop", where=cols[1])
    f.slider("bands", where=cols[2], step=4)
    f.slider("fmax", where=cols[3], step=250)
    f.slider("coeffs", where=cols[4])
    f.select("deltas", where=cols[5], options=[0, 1, 2])
    try:
        return f.config().analysis().validated()
    except ConfigError as exc:
        st.error(show(exc), icon=":material/tune:")
        return None


def augmentation_row(f: Form, wave: np.ndarray) -> dict[str, np.ndarray]:
    """Controls and a listen button for each augmentation."""
    cols = st.columns(6)
    with cols[0]:
        st.markdown(t("audio.explore.original"))
        st.audio(wave, sample_rate=SAMPLE_RATE)
        st.caption(t("audio.explore.length", seconds=len(wave) / SAMPLE_RATE, rate=SAMPLE_RATE))
    with cols[1]:
        st.markdown(t("audio.explore.noise"))
        f.select("noise", label_visibility="collapsed")
        f.slider("snr")
    with cols[2]:
        st.markdown(t("audio.explore.shift"))
        f.slider("shift", step=0.05)
    with cols[3]:
        st.markdown(t("audio.explore.pitch"))
        f.slider("semitones")
    with cols[4]:
        st.markdown(t("audio.explore.stretch"))
        f.slider("stretch", step=0.05)
    with cols[5]:
        st.markdown(t("audio.explore.recording"), help=t("audio.explore.recording_help"))
        st.caption(t("audio.explore.recording_seed", seed=f.value("seed")))
    c = f.config()
    versions = augmentations(wave, c.noise, float(c.snr), float(c.shift), float(c.semitones), float(c.stretch),
                             c.seed)
    for col, name in zip(cols[1:], AUGMENTATIONS, strict=True):
        with col:
            st.audio(versions[name], sample_rate=SAMPLE_RATE)
    return versions


def feature_figures(wave: np.ndarray, p: audio.FeatureParams, label: str) -> None:
    """Waveform, STFT, mel spectrogram and MFCCs of one clip."""
    language = lang()
    chart(waveform_figure(wave, SAMPLE_RATE, title=t("audio.explore.waveform", view=label), lang=language),
          key="audio_fig_wave")
    spec = stft_db(wave, p)
    mel = mel_db(wave, p)
    cep = mfcc(wave, p)
    times = frame_times(spec.shape[1], p)
    left, right = st.columns(2)
    chart(spectrogram_figure(spec, times, stft_frequencies(p), lang=language,
                             title=t("audio.explore.stft", bins=spec.shape[0], frames=spec.shape[1])),
          key="audio_fig_stft", where=left)
    chart(spectrogram_figure(mel, times, mel_frequencies(p), mel=True, lang=language,
                             title=t("audio.explore.mel", bands=mel.shape[0], frames=mel.shape[1])),
          key="audio_fig_mel", where=right)
    chart(mfcc_figure(cep, times, p.n_mfcc, p.deltas, lang=language,
                      title=t("audio.explore.mfcc", rows=cep.shape[0], frames=cep.shape[1])),
          key="audio_fig_mfcc")
    st.caption(t("audio.explore.resolution", window=p.n_fft / SAMPLE_RATE * 1000,
                 hop=p.hop_length / SAMPLE_RATE * 1000, bin=SAMPLE_RATE / p.n_fft, fps=p.sample_rate / p.hop_length))


def render(f: Form, config: audio.PageConfig) -> None:
    """The whole tab."""
    clip: Clip | None = clip_source("audio_explore", digits(config.language), keys=EXPLORE_KEYS,
                                    record_label=t("audio.sources.record_explore"))
    if clip is None:
        return
    st.caption(clip.caption)
    st.markdown(t("audio.explore.augment_title"))
    versions = augmentation_row(f, clip.wave)
    st.markdown(t("audio.explore.look_title"))
    params = feature_settings(f)
    view = f.segmented("show") or "original"
    if params is not None:
        feature_figures(versions[view], params, f.option("show")(view))
    st.info(t("audio.explore.why_mel"), icon=":material/hearing:")
