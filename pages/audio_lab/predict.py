"""Audio lab, tab 3: say a digit (or upload, or pick an unseen test voice), see every trained model's class
probabilities — "not sure" below a threshold, and no answer at all for silence or sounds that are not speech —
and which time–frequency cells drove each decision (Integrated Gradients)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.audio import SAMPLE_RATE, prepare_clip
from core.errors import PlaygroundError
from core.jobs import TrainingJob
from core.labs import audio
from core.labs.audio.config import SURE
from core.viz.audio import attribution_figure, probability_figure, waveform_figure
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import current_job
from ui.live import live

from .common import Clip, clip_source, digits, speech_problem
from .train import SLOTS, TEACH_KEY, job_config, start_race

CACHE = "audio_explain_cache"


def _ready_jobs() -> dict[str, tuple[TrainingJob, audio.Config]]:
    """The models that have trained at least one step, by their name in the visitor's language."""
    jobs = {}
    for key in (*SLOTS, TEACH_KEY):
        job, config = current_job(key), job_config(key)
        if job is not None and config is not None and job.snapshot().step > 0:
            name = t(f"audio.models.{config.kind}")
            jobs[t("audio.predict.taught", name=name) if key == TEACH_KEY else name] = (job, config)
    return jobs


def _explain(job: TrainingJob, wave: np.ndarray, clip_key: str, target: int | None) -> audio.Explanation:
    """Cached per (job, training step, clip, target) in the session."""
    key = (job.id, job.snapshot().step, clip_key, target)
    cache = st.session_state.setdefault(CACHE, {})
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = job.inspect(audio.explain_clip, wave, target, timeout=30)
    return cache[key]


def _verdict(name: str, exp: audio.Explanation, labels: tuple[str, ...], truth: int | None) -> str:
    """"hears “seven” (93 %)", or below ``SURE`` "is not sure: “seven” (41 %) or “six” (30 %)?", with a mark when
    the true digit is known."""
    probs = exp.probabilities
    guess, second = (int(i) for i in np.argsort(probs)[::-1][:2])
    if truth is None:
        mark = ""
    elif guess == truth:
        mark = " :green[:material/check_circle:]"
    else:
        mark = " :red[:material/cancel:] " + t("audio.predict.was", word=labels[truth])
    if probs[guess] < SURE:
        return t("audio.predict.unsure", name=name, word=labels[guess], p=probs[guess], other=labels[second],
                 q=probs[second]) + mark
    return t("audio.predict.hears", name=name, word=labels[guess], p=probs[guess]) + mark


def _results(clip: Clip, wave: np.ndarray, language: str, labels: tuple[str, ...], choice: int | None) -> None:
    """Probabilities and attributions of every trained model."""
    jobs = _ready_jobs()
    if any(job.state.active for job, _ in jobs.values()):
        st.caption(t("audio.predict.following"))
    explanations: dict[str, audio.Explanation] = {}
    for name, (job, config) in jobs.items():
        if config.language != language:
            st.warning(t("audio.predict.other_language", name=name))
            continue
        try:
            explanations[name] = _explain(job, wave, clip.key, choice)
        except (PlaygroundError, RuntimeError, TimeoutError) as exc:
            st.error(t("audio.predict.failed", name=name, error=show(exc)), icon=":material/error:")
    if not explanations:
        return
    top = st.columns([1, 2])
    for name, exp in explanations.items():
        top[0].markdown(_verdict(name, exp, labels, clip.digit))
    chart(probability_figure({n: e.probabilities for n, e in explanations.items()}, labels,
                             kinds={n: "taught" if jobs[n][0] is current_job(TEACH_KEY) else e.kind
                                    for n, e in explanations.items()}, lang=lang()),
          key="audio_predict_probs", where=top[1])
    cols = st.columns(len(explanations))
    for col, (name, exp) in zip(cols, explanations.items(), strict=True):
        fig = attribution_figure(exp.inputs, exp.map, exp.times, freqs=exp.freqs, row_labels=exp.row_labels,
                                 input_title=t("audio.predict.input_mel" if exp.freqs is not None
                                               else "audio.predict.input_mfcc"),
                                 title=t("audio.predict.why", name=name, word=labels[exp.target]), lang=lang())
        chart(fig, key=f"audio_predict_ig_{jobs[name][0].id}", where=col)
        error = exp.completeness_error
        if error is not None:
            col.caption(t("audio.predict.completeness", diff=exp.output_diff, error=error, seconds=exp.seconds))
            if error > 0.2:
                col.warning(t("audio.predict.not_adding_up"), icon=":material/warning:")


def _tab(config: audio.PageConfig) -> bool:
    jobs = _ready_jobs()
    if not jobs:
        st.info(t("audio.predict.train_first"), icon=":material/model_training:")
        if st.button(t("audio.train.race"), icon=":material/sports_score:", key="audio_predict_race"):
            start_race(config)
            st.rerun()
        return any(job is not None and job.state.active for job in map(current_job, SLOTS))
    language = next(iter(jobs.values()))[1].language
    data = digits(language)
    st.caption(t("audio.predict.how", sure=SURE))
    clip = clip_source("audio_predict", data, split="test", record_label=t(f"audio.sources.record_{language}"))
    if clip is not None:
        st.caption(clip.caption)
        problem = speech_problem(clip.wave) if clip.own else None
        try:
            wave = prepare_clip(clip.wave)
        except PlaygroundError as exc:
            st.error(show(exc), icon=":material/error:")
        else:
            if problem is not None:
                st.error(t("audio.predict.not_speech", reason=problem), icon=":material/hearing_disabled:")
                st.audio(clip.wave, sample_rate=SAMPLE_RATE)
                return any(job.state.active for job, _ in jobs.values())
            left, right = st.columns([2, 1])
            with left:
                chart(waveform_figure(wave, SAMPLE_RATE, title=t("audio.predict.heard"), height=200,
                                      lang=lang()), key="audio_predict_wave")
            with right:
                st.audio(wave, sample_rate=SAMPLE_RATE)
                choice = st.selectbox(t("audio.predict.target"), [None, *range(10)], key="audio_predict_target",
                                      format_func=lambda d: t("audio.predict.predicted") if d is None
                                      else data.labels[d], help=t("audio.predict.target_help"))
            _results(clip, wave, language, tuple(data.labels), choice)
    return any(job.state.active for job, _ in jobs.values())


def render(config: audio.PageConfig) -> None:
    """The whole tab; while a model trains it follows the training (every 3 s, through the one live primitive)."""
    training = any(job is not None and job.state.active for job in map(current_job, (*SLOTS, TEACH_KEY)))
    live(lambda: _tab(config), active=training, every=3.0)
