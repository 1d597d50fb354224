"""Audio lab, tab 1: choose a clip, augment it with a listen button per augmentation, and look at it the way a
model does — waveform, STFT, mel spectrogram and MFCCs — under adjustable analysis settings."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.audio_features import FeatureParams, frame_times, mel_db, mel_frequencies, mfcc, stft_db, stft_frequencies
from core.data.audio import NOISES, SAMPLE_RATE, add_noise, pitch_shift, time_shift, time_stretch
from core.errors import ConfigError
from core.viz.audio import mfcc_figure, spectrogram_figure, waveform_figure

from .audio_common import Clip, clip_source, language_picker

WHY_MEL = (
    "**Why mel and MFCC suit speech.** The ear resolves pitch finely at low frequencies and coarsely at high ones; "
    "the mel scale spaces its bands the same way, so the formants (the vocal-tract resonances that tell an “ee” "
    "from an “oo”, mostly below 3 kHz) get many bands and the hiss above gets few — a compact, ear-like picture. "
    "MFCCs go one step further: a cosine transform across the log-mel bands keeps the smooth *envelope* of the "
    "spectrum (which vowel, which consonant) in the first dozen coefficients and drops the fine harmonic ripple "
    "(the speaker's pitch). Deltas add how that envelope moves from frame to frame."
)
VIEWS = ["original", "noise", "shift", "pitch", "stretch", "all four"]


@st.cache_data(max_entries=64, show_spinner=False)
def augmentations(wave: np.ndarray, noise_kind: str, snr: float, shift: float, semitones: float, rate: float
                  ) -> dict[str, np.ndarray]:
    """The clip after each augmentation alone, and after all four in a row."""
    out = {"original": wave,
           "noise": add_noise(wave, snr, noise_kind),
           "shift": time_shift(wave, shift),
           "pitch": pitch_shift(wave, semitones),
           "stretch": time_stretch(wave, rate)}
    out["all four"] = add_noise(time_shift(time_stretch(pitch_shift(wave, semitones), rate), shift), snr, noise_kind)
    return out


def feature_settings() -> FeatureParams | None:
    """Sliders for the short-time analysis; None (with an error shown) when they do not fit together."""
    cols = st.columns(6)
    n_fft = cols[0].select_slider("n_fft (window)", [64, 128, 256, 512, 1024], value=256, key="audio_nfft",
                                  help="Samples per FFT window: longer windows resolve frequency finely but blur "
                                       "time. 256 samples = 32 ms at 8 kHz.")
    hop = cols[1].select_slider("hop length", [10, 20, 40, 80, 160, 256, 512], value=80, key="audio_hop",
                                help="Samples between successive frames (80 = 10 ms at 8 kHz).")
    n_mels = cols[2].slider("n_mels", 8, 128, 40, step=4, key="audio_nmels", help="Number of mel bands.")
    fmax = cols[3].slider("fmax (Hz)", 1000, SAMPLE_RATE // 2, SAMPLE_RATE // 2, step=250, key="audio_fmax",
                          help="Highest frequency of the mel filter bank (at most the Nyquist frequency, 4 kHz).")
    n_mfcc = cols[4].slider("n_mfcc", 4, 40, 13, key="audio_nmfcc", help="Cepstral coefficients kept.")
    deltas = cols[5].selectbox("deltas", [0, 1, 2], index=2, key="audio_deltas",
                               format_func=["none", "Δ", "Δ and ΔΔ"].__getitem__,
                               help="Δ: how each coefficient changes from frame to frame; ΔΔ: how that change changes.")
    try:
        return FeatureParams(n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmax=fmax, n_mfcc=min(n_mfcc, n_mels),
                             deltas=deltas).validated()
    except ConfigError as exc:
        st.error(str(exc), icon=":material/tune:")
        return None


def augmentation_row(wave: np.ndarray) -> dict[str, np.ndarray]:
    """Controls and a listen button for each augmentation."""
    cols = st.columns(5)
    with cols[0]:
        st.markdown("**Original**")
        st.audio(wave, sample_rate=SAMPLE_RATE)
        st.caption(f"{len(wave) / SAMPLE_RATE:.2f} s at {SAMPLE_RATE:,} Hz")
    with cols[1]:
        st.markdown("**Background noise**")
        kind = st.selectbox("noise", NOISES, key="audio_noise", label_visibility="collapsed",
                            help="white: flat spectrum · pink: 1/f · brown: 1/f² · hum: 50 Hz mains and harmonics")
        snr = st.slider("SNR (dB)", -5, 40, 10, key="audio_snr", help="Signal-to-noise ratio: 0 dB = as loud as "
                        "the speech, 20 dB = a hundred times weaker in power.")
    with cols[2]:
        st.markdown("**Time shift**")
        shift = st.slider("shift (s)", -0.3, 0.3, 0.15, step=0.05, key="audio_shift")
    with cols[3]:
        st.markdown("**Pitch shift**")
        semitones = st.slider("semitones", -8, 8, 4, key="audio_semitones",
                              help="Phase vocoder + resampling: higher or lower voice, same duration.")
    with cols[4]:
        st.markdown("**Time stretch**")
        rate = st.slider("rate (× speed)", 0.5, 2.0, 0.75, step=0.05, key="audio_rate",
                         help="Faster (> 1) or slower (< 1) speech, same pitch.")
    versions = augmentations(wave, kind, float(snr), float(shift), float(semitones), float(rate))
    for col, name in zip(cols[1:], ["noise", "shift", "pitch", "stretch"], strict=True):
        with col:
            st.audio(versions[name], sample_rate=SAMPLE_RATE)
    return versions


def feature_figures(wave: np.ndarray, p: FeatureParams, label: str) -> None:
    """Waveform, STFT, mel spectrogram and MFCCs of one clip."""
    st.plotly_chart(waveform_figure(wave, SAMPLE_RATE, title=f"Waveform · {label}"), width="stretch",
                    key="audio_fig_wave")
    spec = stft_db(wave, p)
    mel = mel_db(wave, p)
    cep = mfcc(wave, p)
    times = frame_times(spec.shape[1], p)
    left, right = st.columns(2)
    left.plotly_chart(spectrogram_figure(spec, times, stft_frequencies(p), title=f"STFT magnitude · {spec.shape[0]} "
                                         f"bins × {spec.shape[1]} frames"),
                      width="stretch", key="audio_fig_stft")
    right.plotly_chart(spectrogram_figure(mel, times, mel_frequencies(p), mel=True,
                                          title=f"Mel spectrogram · {mel.shape[0]} bands × {mel.shape[1]} frames"),
                       width="stretch", key="audio_fig_mel")
    st.plotly_chart(mfcc_figure(cep, times, p.n_mfcc, p.deltas, title=f"MFCC · {cep.shape[0]} rows × "
                                f"{cep.shape[1]} frames"), width="stretch", key="audio_fig_mfcc")
    st.caption(f"Window {p.n_fft / SAMPLE_RATE * 1000:.0f} ms, hop {p.hop_length / SAMPLE_RATE * 1000:.1f} ms: "
               f"frequency resolution {SAMPLE_RATE / p.n_fft:.1f} Hz per STFT bin, {p.sample_rate / p.hop_length:.0f} "
               "frames per second. Levels in dB relative to full scale; MFCC colour ranges ignore c0 (loudness).")


def render() -> None:
    """The whole tab."""
    top = st.columns([1, 3])
    with top[0]:
        language = language_picker("audio_lang")
    with top[1]:
        clip: Clip | None = clip_source("audio_explore", language=language, record_help="saying a digit")
    if clip is None:
        return
    st.caption(clip.caption)
    st.markdown("##### Augment it — and listen")
    versions = augmentation_row(clip.wave)
    st.markdown("##### Look at it")
    params = feature_settings()
    view = st.segmented_control("Show the features of", VIEWS, default="original", key="audio_view",
                                required=True) or "original"
    if params is not None:
        feature_figures(versions[view], params, view)
    st.info(WHY_MEL, icon=":material/hearing:")
