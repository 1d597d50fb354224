"""Audio lab pieces shared by its tabs: the page's settings (one ``Form`` over ``audio.PageConfig``, so the whole
page lives in the address bar), the cached bundled set and a clip picker (bundled / upload / record)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.data.audio import (
    AUDIO_TYPES,
    MAX_SECONDS,
    SAMPLE_RATE,
    SpokenDigits,
    load_audio,
    load_spoken_digits,
    speech_check,
)
from core.errors import DataError
from core.labs import audio
from ui.i18n import show, t
from ui.settings import Form

PREFIX = "audio"
SOURCES = ("bundled", "upload", "record")
EXPLORE_KEYS = ("audio_digit", "audio_voice", "audio_take")  # the Form's widgets for the "Listen and look" clip


@st.cache_resource(show_spinner=False)
def digits(language: str = "en") -> SpokenDigits:
    """The bundled spoken digits (shared by every visitor; read-only)."""
    return load_spoken_digits(language)


def form() -> Form[audio.PageConfig]:
    return Form(audio.PageConfig, PREFIX)


def _language_changed() -> None:
    """Epochs left at the lab's default follow the language (the Mandarin set is smaller)."""
    state = st.session_state
    new = state["audio_language"]
    for name, kind in (("cnn_epochs", "cnn"), ("rnn_epochs", state["audio_rnn_cell"])):
        key = f"audio_{name}"
        if any(state[key] == audio.default_epochs(kind, lang) for lang in ("en", "zh") if lang != new):
            state[key] = audio.default_epochs(kind, new)


def language_picker(f: Form) -> str:
    """English or Mandarin spoken digits, for every tab."""
    return f.segmented("language", on_change=_language_changed) or "en"


def _choices(data: SpokenDigits, voice: str, digit: int, split: str | None) -> list[int]:
    idx = data.indices(split) if split else np.arange(len(data))
    return [int(i) for i in idx if data.voices[i] == voice and data.digits[i] == digit]


def _voices(data: SpokenDigits, split: str | None) -> list[str]:
    idx = data.indices(split) if split else np.arange(len(data))
    return list(dict.fromkeys(data.voices[i] for i in idx))


def settle_clip(data: SpokenDigits, keys: tuple[str, str, str], *, split: str | None = None) -> None:
    """Before the picker is drawn: a voice of this language (the first one when the link names another) and a
    speed · pitch setting it has (the middle one by default)."""
    state = st.session_state
    voices = _voices(data, split)
    if state.get(keys[1]) not in voices:
        state[keys[1]] = voices[0]
    state.setdefault(keys[0], 7)
    n = len(_choices(data, state[keys[1]], state[keys[0]], split))
    if not 0 <= state.get(keys[2], -1) < n:
        state[keys[2]] = n // 2


def bundled_picker(data: SpokenDigits, keys: tuple[str, str, str], *, split: str | None = None) -> Clip:
    """Digit, voice and speed · pitch of one bundled clip (widgets under ``keys``)."""
    settle_clip(data, keys, split=split)
    idx = data.indices(split) if split else np.arange(len(data))
    split_of = {data.voices[i]: data.splits[i] for i in idx}
    cols = st.columns([2, 2, 2])
    digit = cols[0].selectbox(t("audio.fields.digit"), range(10), format_func=lambda d: data.labels[d], key=keys[0])
    voice = cols[1].selectbox(t("audio.fields.voice"), _voices(data, split), key=keys[1],
                              format_func=lambda v: t("audio.clip.voice", voice=v, split=t(f"audio.splits."
                                                                                           f"{split_of[v]}")),
                              help=t("audio.help.voice"))
    choices = _choices(data, voice, digit, split)
    st.session_state[keys[2]] = min(st.session_state[keys[2]], len(choices) - 1)
    take = cols[2].selectbox(t("audio.fields.take"), range(len(choices)), key=keys[2],
                             format_func=lambda i: t("audio.clip.take", speed=int(data.speeds[choices[i]]),
                                                     pitch=int(data.pitches[choices[i]])))
    pick = choices[take]
    return Clip(data.waves[pick], show(data.describe(pick)), int(data.digits[pick]), f"{data.language}:"
                f"{data.files[pick]}")


@dataclass
class Clip:
    wave: np.ndarray
    caption: str
    digit: int | None = None  # the true digit when known (bundled clips)
    key: str = ""  # changes whenever the clip does (for caching per clip)
    own: bool = False  # the visitor's upload or recording (checked for speech before a model hears it)


def clip_source(prefix: str, data: SpokenDigits, *, keys: tuple[str, str, str] | None = None,
                split: str | None = None, record_label: str = "") -> Clip | None:
    """A bundled clip, an uploaded file or a recording. Bad files show an error and return None."""
    source = st.radio(t("audio.sources.label"), SOURCES, format_func=lambda s: t(f"audio.sources.{s}"),
                      horizontal=True, key=f"{prefix}_source", label_visibility="collapsed")
    if source == "bundled":
        return bundled_picker(data, keys or (f"{prefix}_digit", f"{prefix}_voice", f"{prefix}_setting"), split=split)
    if source == "upload":
        file = st.file_uploader(t("audio.sources.upload_label"), type=AUDIO_TYPES, key=f"{prefix}_upload")
    else:
        file = st.audio_input(record_label or t("audio.sources.record_label"), key=f"{prefix}_record",
                              sample_rate=16000)
    st.caption(t("audio.sources.not_in_link"), help=t("audio.sources.not_in_link_help"))
    if file is None:
        st.caption(t(f"audio.sources.nothing_{source}"))
        return None
    raw = file.getvalue()
    try:
        loaded = load_audio(raw, sample_rate=SAMPLE_RATE, max_seconds=MAX_SECONDS)
    except DataError as exc:
        st.error(t("audio.sources.bad_file", name=file.name, error=show(exc)), icon=":material/error:")
        return None
    if loaded.cut:
        st.warning(t("audio.sources.cut", seconds=loaded.original_seconds, limit=MAX_SECONDS),
                   icon=":material/content_cut:")
    notes = " ({})".format("; ".join(show(n) for n in loaded.notes)) if loaded.notes else ""
    caption = t("audio.sources.caption", name=file.name, rate=loaded.original_rate, n=loaded.channels,
                seconds=loaded.original_seconds, notes=notes)
    return Clip(loaded.wave, caption, None, f"{source}:{file.name}:{len(raw)}:{hash(raw[:4096])}", own=True)


def speech_problem(wave: np.ndarray) -> str | None:
    """Why a visitor's clip is not a spoken word (silence, noise, a click, a steady tone), in their language."""
    key = speech_check(wave).problem()
    return None if key is None else t(key)
