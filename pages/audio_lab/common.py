"""Audio lab pieces shared by its tabs: the cached bundled set and a clip picker (bundled / upload / record)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.data.audio import (
    AUDIO_TYPES,
    LANGUAGES,
    MAX_SECONDS,
    SAMPLE_RATE,
    SpokenDigits,
    load_audio,
    load_spoken_digits,
)
from core.errors import DataError

SOURCES = {"bundled": "A bundled clip", "upload": "Upload a file", "record": "Record"}


@st.cache_resource(show_spinner="Loading the spoken digits…")
def digits(language: str = "en") -> SpokenDigits:
    """The bundled spoken digits (shared by every visitor; read-only)."""
    return load_spoken_digits(language)


@dataclass
class Clip:
    wave: np.ndarray
    caption: str
    digit: int | None = None  # the true digit when known (bundled clips)
    key: str = ""  # changes whenever the clip does (for caching per clip)


def language_picker(key: str) -> str:
    return st.segmented_control("Language", list(LANGUAGES), format_func=LANGUAGES.get, default="en",
                                key=key, required=True) or "en"


def bundled_picker(prefix: str, *, language: str = "en", split: str | None = None, default_voice: str | None = None
                   ) -> Clip:
    """Digit, voice and speed/pitch of one bundled clip."""
    data = digits(language)
    idx = data.indices(split) if split else np.arange(len(data))
    voices = list(dict.fromkeys(data.voices[i] for i in idx))
    cols = st.columns([2, 2, 2])
    digit = cols[0].selectbox("Digit", range(10), format_func=lambda d: data.labels[d], key=f"{prefix}_digit",
                              index=7)
    split_of = {data.voices[i]: data.splits[i] for i in idx}
    voice = cols[1].selectbox("Voice", voices, key=f"{prefix}_voice",
                              index=voices.index(default_voice) if default_voice in voices else 0,
                              format_func=lambda v: f"{v} ({split_of[v]})",
                              help="espeak-ng accent + voice variant; in brackets the split it belongs to. Test "
                                   "voices are never heard during training.")
    choices = [i for i in idx if data.voices[i] == voice and data.digits[i] == digit]
    pick = cols[2].selectbox("Speed · pitch", choices, key=f"{prefix}_setting",
                             format_func=lambda i: f"{data.speeds[i]} wpm · pitch {data.pitches[i]}",
                             index=min(len(choices) // 2, len(choices) - 1))
    return Clip(data.waves[pick], data.describe(pick), int(data.digits[pick]), f"{language}:{data.files[pick]}")


def clip_source(prefix: str, *, language: str = "en", split: str | None = None, default_voice: str | None = None,
                record_help: str = "") -> Clip | None:
    """Radio: a bundled clip, an uploaded file or a recording. Bad files show an error and return None."""
    source = st.radio("Sound source", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      key=f"{prefix}_source", label_visibility="collapsed")
    if source == "bundled":
        return bundled_picker(prefix, language=language, split=split, default_voice=default_voice)
    if source == "upload":
        file = st.file_uploader("WAV, FLAC, OGG or MP3 (any sample rate, mono or stereo)", type=AUDIO_TYPES,
                                key=f"{prefix}_upload")
    else:
        file = st.audio_input(f"Record yourself {record_help}".strip(), key=f"{prefix}_record", sample_rate=16000)
    if file is None:
        st.caption("Nothing yet — " + ("choose a file." if source == "upload" else "press the microphone, "
                                       "speak, then press stop."))
        return None
    data = file.getvalue()
    try:
        loaded = load_audio(data, sample_rate=SAMPLE_RATE, max_seconds=MAX_SECONDS)
    except DataError as exc:
        st.error(f"**{file.name}**: {exc}", icon=":material/error:")
        return None
    note = f" ({'; '.join(loaded.notes)})" if loaded.notes else ""
    if any("kept the first" in n for n in loaded.notes):
        st.warning(f"The clip is {loaded.original_seconds:.1f} s long; only the first {MAX_SECONDS:g} s are used.",
                   icon=":material/content_cut:")
    caption = (f"{file.name} · {loaded.original_rate:,} Hz · {loaded.channels} channel"
               f"{'s' if loaded.channels > 1 else ''} · {loaded.original_seconds:.2f} s{note}")
    return Clip(loaded.wave, caption, None, f"{source}:{file.name}:{len(data)}:{hash(data[:4096])}")
