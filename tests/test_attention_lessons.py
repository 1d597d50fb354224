"""The attention lab's lesson: its challenges pass on scripted runs that meet them and fail on runs that do not
(too early, the wrong length, the wrong family); every step's settings train."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.labs import attention as A
from core.lessons import lessons_for
from tests.runs import finished

pytestmark = pytest.mark.usefixtures("one_thread")


def _run(config: A.Config, steps: int):
    return finished(A.make_job(config, total_steps=steps), 120)


def lesson():
    return lessons_for("attention")[0]


def test_the_lesson_is_found_and_its_steps_set_up_valid_experiments():
    first = lesson()
    assert first.lab == "attention" and [c.key for c in first.challenges] == ["reversal", "gpt_context"]
    tasks = [replace(A.Config(), **step.settings).validate().task for step in first.steps]
    assert tasks[0] == "reversal" and "masked_lm" in tasks and "causal_lm" in tasks


def test_the_reversal_challenge_needs_99_percent_and_an_anti_diagonal_on_8_digits():
    good = A.Config(steps=300)
    config, snap = _run(good, 300)
    assert snap.evals["val_accuracy"][-1] >= 0.99 and snap.evals["val_mirror"][-1] >= 0.8
    assert "reversal" in lesson().passed(config, snap)
    assert "reversal" not in lesson().passed(*_run(good, 10))  # too early: no evaluation past chance yet
    assert "reversal" not in lesson().passed(*_run(replace(good, seq_len=6), 300))  # not 8 digits
    assert "reversal" not in lesson().passed(*_run(replace(good, task="sorting"), 60))
    assert lesson().passed(None, None) == []


def test_the_gpt_challenge_needs_a_causal_model_below_the_unigram_entropy():
    small = replace(A.PRESETS["gpt"], width=32, heads=2, batch_size=32, context=16)
    config, snap = _run(small, 150)
    assert snap.evals["val_loss"][-1] < config.corpus().unigram_entropy()
    assert "gpt_context" in lesson().passed(config, snap)
    assert "gpt_context" not in lesson().passed(*_run(small, 1))  # untrained: above the unigram entropy
    masked = replace(small, task="masked_lm")
    assert "gpt_context" not in lesson().passed(*_run(masked, 150))  # a BERT-style model does not count
