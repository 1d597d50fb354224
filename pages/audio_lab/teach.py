"""Audio lab, tab 4: teach a trained model your own voice (Teachable Machine's idea, on the lab's models). Record or
upload a few examples of each digit — they stay in this session's memory only — and a job fine-tunes the model on
them (the classifier alone on frozen features, or every layer); the latest clip of each digit is kept aside, and
the accuracy on those held-out clips is shown before and after."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from core.data.audio import AUDIO_TYPES, CLIP_SAMPLES, SAMPLE_RATE, load_audio, prepare_clip
from core.errors import PlaygroundError
from core.jobs import JobSnapshot, TrainingJob
from core.labs import audio
from core.viz.curves import training_curves
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import current_job, job_controls, live_panel
from ui.settings import Form

from .common import digits, speech_problem
from .train import SLOTS, TEACH_KEY, job_config

CLIPS, SEEN, REFUSED = "audio_teach_clips", "audio_teach_seen", "audio_teach_refused"
ROUND = "audio_teach_round"  # bumped by "Clear all": fresh recorder and uploader widgets
MAX_LISTED = 40  # players shown under "Listen to your clips"


@dataclass
class TeachClip:
    """One of the visitor's examples, prepared (1-second window) as the models hear it."""

    wave: np.ndarray
    digit: int
    name: str


def _clips() -> list[TeachClip]:
    return st.session_state.setdefault(CLIPS, [])


def _digest(raw: bytes) -> str:
    return hashlib.sha1(raw).hexdigest()[:16]


def add_clip(raw: bytes, name: str, digit: int) -> str | None:
    """Decode, check and prepare one recording or file and keep it; the reason (in the visitor's language) when it
    is refused. The same audio is never added twice."""
    seen: set[str] = st.session_state.setdefault(SEEN, set())
    key = _digest(raw)
    if key in seen:
        return None
    seen.add(key)
    try:
        loaded = load_audio(raw)
        problem = speech_problem(loaded.wave)
        if problem is not None:
            return problem
        wave = prepare_clip(loaded.wave)
    except PlaygroundError as exc:
        return show(exc)
    _clips().append(TeachClip(wave, digit, name))
    return None


def digit_of(name: str, fallback: int) -> int:
    """A file named ``3_me.wav`` (any name starting with a digit) says that digit; others say ``fallback``."""
    return int(name[0]) if name[:1].isdigit() else fallback


def _clear() -> None:
    for key in (CLIPS, SEEN, REFUSED):
        st.session_state.pop(key, None)
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1


def _drop_last() -> None:
    if _clips():
        _clips().pop()


def collect(labels: tuple[str, ...]) -> None:
    """Record or upload examples; every new one is checked and added at once."""
    refused: dict[str, str] = st.session_state.setdefault(REFUSED, {})
    round_ = st.session_state.get(ROUND, 0)
    cols = st.columns([1, 2, 2])
    digit = cols[0].selectbox(t("audio.teach.digit"), range(10), format_func=lambda d: labels[d],
                              key="audio_teach_digit")
    recording = cols[1].audio_input(t("audio.teach.record", word=labels[digit]), key=f"audio_teach_record_{round_}",
                                    sample_rate=16000)
    if recording is not None:
        raw = recording.getvalue()
        name = t("audio.teach.recording_name", n=len(_clips()) + 1)
        if (problem := add_clip(raw, name, digit)) is not None:
            refused[name] = problem
    files = cols[2].file_uploader(t("audio.teach.upload"), type=AUDIO_TYPES, accept_multiple_files=True,
                                  key=f"audio_teach_upload_{round_}", help=t("audio.teach.upload_help"))
    for file in files or []:
        if (problem := add_clip(file.getvalue(), file.name, digit_of(file.name, digit))) is not None:
            refused[file.name] = problem
    st.caption(t("audio.teach.private"), help=t("audio.sources.not_in_link_help"))
    for name, problem in refused.items():
        st.warning(t("audio.teach.refused", name=name, reason=problem), icon=":material/hearing_disabled:")


def overview(labels: tuple[str, ...], holdout: int) -> None:
    """How many clips of each digit there are, and which are kept aside to test on."""
    clips = _clips()
    if not clips:
        st.info(t("audio.teach.none_yet"), icon=":material/mic:")
        return
    said = np.array([c.digit for c in clips])
    test = audio.held_out(said, holdout)
    table = pd.DataFrame({t("audio.teach.col_digit"): list(labels),
                          t("audio.teach.col_learn"): [int(((said == d) & ~test).sum()) for d in range(10)],
                          t("audio.teach.col_test"): [int(((said == d) & test).sum()) for d in range(10)]})
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.dataframe(table.set_index(t("audio.teach.col_digit")).T, width="stretch")
    right.button(t("audio.teach.drop_last"), icon=":material/undo:", on_click=_drop_last, width="stretch")
    right.button(t("audio.teach.clear"), icon=":material/delete:", on_click=_clear, width="stretch")
    st.caption(t("audio.teach.count", n=len(clips), learn=int((~test).sum()), test=int(test.sum())))
    with st.expander(t("audio.teach.listen", n=len(clips))):
        for clip, kept in list(zip(clips, test, strict=True))[-MAX_LISTED:]:
            role = t("audio.teach.role_test" if kept else "audio.teach.role_learn")
            st.caption(t("audio.teach.clip", name=clip.name, word=labels[clip.digit], role=role))
            st.audio(clip.wave, sample_rate=SAMPLE_RATE)


def _bases() -> dict[str, str]:
    """Trained models that can learn the visitor's voice: job key → name."""
    out = {}
    for key in SLOTS:
        job, config = current_job(key), job_config(key)
        if job is not None and config is not None and job.snapshot().step > 0:
            out[key] = t(f"audio.models.{config.kind}")
    return out


def new_teach_job(config: audio.PageConfig, base_key: str) -> TrainingJob:
    """A job fine-tuning a copy of the model under ``base_key`` (as it is now) on the visitor's clips."""
    clips = _clips()
    base = current_job(base_key).inspect(audio.trained_model)
    visitor = audio.VisitorClips(np.stack([c.wave for c in clips]) if clips else np.zeros((0, CLIP_SAMPLES)),
                                 np.array([c.digit for c in clips], dtype=np.int64))
    job = audio.make_teach_job(config.teach(), base, visitor, pause_unwatched_s=audio.PAUSE_UNWATCHED_S)
    st.session_state[f"{TEACH_KEY}__config"] = base.config
    return job


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _change(difference: float) -> str | None:
    """A metric's delta in percentage points (none when nothing changed: Streamlit would draw a rising arrow)."""
    points = round(difference * 100)
    return f"{points:+d} %" if points else None


def results(snap: JobSnapshot | None, labels: tuple[str, ...]) -> None:
    if snap is None:
        st.caption(t("audio.teach.press"))
        return
    view: audio.TeachView | None = snap.view
    if view is None:
        return
    cols = st.columns(3)
    delta = None if view.before is None or view.after is None else _change(view.after - view.before)
    cols[0].metric(t("audio.teach.yours"), t("audio.teach.before_after", before=_percent(view.before),
                                             after=_percent(view.after)), delta=delta,
                   help=t("audio.teach.yours_help"))
    cols[1].metric(t("audio.teach.bundled"), t("audio.teach.before_after", before=_percent(view.bundled_before),
                                               after=_percent(view.bundled_after)),
                   delta=_change(view.bundled_after - view.bundled_before), delta_color="off",
                   help=t("audio.teach.bundled_help"))
    cols[2].metric(t("audio.teach.learned"), t("audio.teach.learned_value", n=view.learned_from),
                   help=t(f"audio.teach.mode_{view.mode}"))
    left, right = st.columns([3, 2])
    chart(training_curves(snap, val_name=t("audio.teach.val_name"), lang=lang()), key="audio_teach_curves", where=left)
    if len(view.digits):
        rows = pd.DataFrame({
            t("audio.teach.col_said"): [labels[d] for d in view.digits],
            t("audio.teach.col_before"): [labels[d] for d in view.predicted_before],
            t("audio.teach.col_after"): [labels[d] for d in view.predicted_after],
            t("audio.teach.col_p"): [f"{p:.0%}" for p in view.probability_after],
        })
        right.dataframe(rows, hide_index=True, width="stretch")


def render(f: Form, config: audio.PageConfig) -> None:
    """The whole tab."""
    st.markdown(t("audio.teach.intro"))
    bases = _bases()
    data = digits(config.language)
    labels = tuple(data.labels)
    collect(labels)
    overview(labels, config.teach_holdout)
    st.markdown(t("audio.teach.how_title"))
    cols = st.columns([1.4, 1, 1, 1, 1], vertical_alignment="bottom")
    f.segmented("teach_mode", where=cols[0])
    f.slider("teach_steps", where=cols[1], step=5)
    f.select_slider("teach_lr", where=cols[2])
    f.slider("teach_copies", where=cols[3])
    f.slider("teach_holdout", where=cols[4])
    if not bases:
        st.info(t("audio.teach.train_first"), icon=":material/model_training:")
        return
    base_key = st.radio(t("audio.teach.base"), list(bases), format_func=bases.get, horizontal=True,
                        key="audio_teach_base")
    job_controls(TEACH_KEY, lambda: new_teach_job(config, base_key), lab="audio", play_label=t("audio.teach.go"))
    live_panel(TEACH_KEY, lambda snap: results(snap, labels), every=1.0)
