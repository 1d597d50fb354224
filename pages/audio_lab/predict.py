"""Audio lab, tab 3: say a digit (or upload, or pick an unseen test voice), see both models' class probabilities
and which time–frequency cells drove each decision (Integrated Gradients)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.audio_features import frame_times, mel_frequencies, mfcc_labels
from core.data.audio import SAMPLE_RATE, prepare_clip
from core.errors import PlaygroundError
from core.inspect.audio import DigitExplanation, explain_digit
from core.jobs import TrainingJob
from core.models.audio import clip_input
from core.viz.audio import attribution_figure, probability_figure, waveform_figure

from .audio_common import Clip, clip_source, digits
from .audio_train import CNN_KEY, RNN_KEY, start_race
from .jobs import current_job

HOW = ("The clip is trimmed of silence, normalised and centred in a 1-second window — exactly what the training "
       "clips went through — then each trained model scores it. **Integrated Gradients** walks from silence to "
       "your clip and adds up the gradients on the way: red cells pushed the score of the explained digit up, "
       "blue ones pushed it down, and the map sums to the score difference between the clip and silence. "
       "The models have only ever heard synthetic voices, so your own voice is a much harder test: speak clearly, "
       "close to the microphone, and try **Noisy copies** and **SpecAugment** in tab 2.")


def _ready_jobs() -> dict[str, TrainingJob]:
    jobs = {}
    for key in (CNN_KEY, RNN_KEY):
        job = current_job(key)
        if job is not None and job.trainer is not None and job.snapshot().step > 0:
            jobs[job.name] = job
    return jobs


def _explain(job: TrainingJob, wave: np.ndarray, clip_key: str, target: int | None) -> DigitExplanation:
    """Cached per (job, training step, clip, target) in the session."""
    step = job.snapshot().step
    cache = st.session_state.setdefault("audio_explain_cache", {})
    key = (job.id, step, clip_key, target)
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = job.inspect(lambda tr: explain_digit(tr, clip_input(tr, wave), target))
    return cache[key]


def _verdict(name: str, exp: DigitExplanation, labels: list[str], truth: int | None) -> str:
    guess = int(exp.probabilities.argmax())
    if truth is None:
        mark = ""
    elif guess == truth:
        mark = " :green[:material/check_circle:]"
    else:
        mark = f" :red[:material/cancel:] (it was “{labels[truth]}”)"
    return f"**{name}** hears **“{labels[guess]}”** ({exp.probabilities[guess]:.0%}){mark}"


def _results(wave: np.ndarray, clip: Clip, language: str, labels: list[str], choice: int | None) -> None:
    """Probabilities and attributions of every trained model."""
    jobs = _ready_jobs()
    if any(job.state.active for job in jobs.values()):
        st.caption(":material/autorenew: Still training — the answers below follow the models every 3 s.")
    explanations: dict[str, DigitExplanation] = {}
    for name, job in jobs.items():
        if job.trainer.spec.language != language:
            st.warning(f"{name} was trained on another language; retrain it to compare.")
            continue
        try:
            explanations[name] = _explain(job, wave, clip.key, choice)
        except (PlaygroundError, RuntimeError, TimeoutError) as exc:
            st.error(f"{name}: {exc}", icon=":material/error:")
    if not explanations:
        return
    top = st.columns([1, 2])
    for name, exp in explanations.items():
        top[0].markdown(_verdict(name, exp, labels, clip.digit))
    top[1].plotly_chart(probability_figure({n: e.probabilities for n, e in explanations.items()}, labels),
                        width="stretch", key="audio_predict_probs")
    cols = st.columns(len(explanations))
    for col, (name, exp) in zip(cols, explanations.items(), strict=True):
        job = jobs[name]
        p = job.trainer.spec.params
        times = frame_times(exp.inputs.shape[1], p)
        is_cnn = job.trainer.spec.kind == "cnn"
        fig = attribution_figure(exp.inputs, exp.map, times, freqs=mel_frequencies(p) if is_cnn else None,
                                 row_labels=None if is_cnn else mfcc_labels(p),
                                 input_title="log-mel input (dB)" if is_cnn else "MFCC input (c0 saturates)",
                                 title=f"{name}: why “{labels[exp.target]}”")
        col.plotly_chart(fig, width="stretch", key=f"audio_predict_ig_{job.id}")
        error = exp.completeness_error
        if error is not None:
            col.caption(f"Score(clip) − score(silence) = {exp.output_diff:.2f}; the map sums to it within "
                        f"{error:.0%} · computed in {exp.seconds:.2f} s")
            if error > 0.2:
                col.warning("The map does not add up: this model's score jumps abruptly somewhere between "
                            "silence and the clip, and the path integral misses part of the jump. Read it as "
                            "a rough picture.", icon=":material/warning:")


def _tab() -> None:
    jobs = _ready_jobs()
    if not jobs:
        st.info("Train a model first (tab 2), or start both right here; after a few seconds of training you can "
                "already try them.", icon=":material/model_training:")
        if st.button("Race both", icon=":material/sports_score:", key="audio_predict_race"):
            start_race()
            st.rerun()
        return
    first = next(iter(jobs.values()))
    language = first.trainer.spec.language
    labels = digits(language).labels
    st.caption(HOW)
    clip = clip_source("audio_predict", language=language, split="test",
                       record_help="saying one digit (“zero” … “nine”)" if language == "en" else "saying 零 … 九")
    if clip is None:
        return
    st.caption(clip.caption)
    try:
        wave = prepare_clip(clip.wave)
    except PlaygroundError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    left, right = st.columns([2, 1])
    with left:
        st.plotly_chart(waveform_figure(wave, SAMPLE_RATE, title="What the models hear (1 s)", height=200),
                        width="stretch", key="audio_predict_wave")
    with right:
        st.audio(wave, sample_rate=SAMPLE_RATE)
        choice = st.selectbox("Explain the score of", [None, *range(10)], key="audio_predict_target",
                              format_func=lambda d: "the predicted digit" if d is None else labels[d],
                              help="Integrated Gradients explains one class score; pick another digit to see what "
                                   "spoke against it.")
    _results(wave, clip, language, labels, choice)


def render() -> None:
    """The whole tab; while a model trains it refreshes itself every 3 s (predictions follow the training)."""
    training = any(job is not None and job.state.active for job in (current_job(CNN_KEY), current_job(RNN_KEY)))
    st.fragment(_tab, run_every=3.0 if training else None)()
