"""Guided lessons: every step and challenge has its texts in both languages, every "set it up" gives settings
that train, and a challenge's check passes on a scripted run that meets it and fails on runs that do not."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

import pytest

import core.lessons
from core import i18n
from core.labs import lab, planar
from core.lessons import lessons_for
from tests.runs import finished

LABS = [m.name for m in pkgutil.iter_modules(core.lessons.__path__)]
LESSONS = [lesson for name in LABS for lesson in lessons_for(name)]


def test_every_lab_with_lessons_is_a_lab_and_its_texts_exist_in_both_languages():
    assert "planar" in LABS
    for lesson in LESSONS:
        importlib.import_module(f"core.labs.{lesson.lab}")
        keys = [lesson.text("title")]
        keys += [lesson.text(f"{s.key}.{part}") for s in lesson.steps for part in ("do", "watch", "ask")]
        keys += [lesson.text(f"{c.key}.{part}") for c in lesson.challenges for part in ("goal", "hint")]
        for key in keys:
            assert i18n.has(key, "en") and i18n.has(key, "zh"), key
        assert 3 <= len(lesson.steps) <= 6 and 1 <= len(lesson.challenges) <= 2


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: f"{lesson.lab}.{lesson.key}")
def test_set_it_up_gives_valid_settings(lesson):
    config_class = lab(lesson.lab).Config
    for item in [*lesson.steps, *lesson.challenges]:
        replace(config_class(), **item.settings).validate()


def _run(config: planar.Config, steps: int):
    return finished(planar.make_job(config, total_steps=steps), 120)


def test_the_spiral_challenge_passes_on_a_run_that_meets_it_and_fails_otherwise():
    lesson = lessons_for("planar")[0]
    good = planar.PRESETS[planar.SPIRAL_PRESET]
    assert "spiral" in lesson.passed(*_run(good, 1200))
    assert "spiral" not in lesson.passed(*_run(good, 20))  # too early: not 95 % yet
    assert "spiral" not in lesson.passed(*_run(replace(good, features=("x1", "x2", "x1x2")), 1200))  # not raw
    assert lesson.passed(None, None) == []


def test_the_xor_challenge_needs_no_hidden_layer():
    lesson = lessons_for("planar")[0]
    feature = planar.Config(dataset="xor", features=("x1x2",), hidden=())
    assert "xor" in lesson.passed(*_run(feature, 800))
    assert "xor" not in lesson.passed(*_run(replace(feature, features=("x1", "x2")), 800))  # a line cannot


def _scripted(step: int, baseline: float, **evals: list[float]):
    """A run's snapshot as the page sees it, with chosen validation losses."""
    from types import SimpleNamespace

    return SimpleNamespace(step=step, evals={k.replace("__", "/"): v for k, v in evals.items()},
                           view=SimpleNamespace(task=SimpleNamespace(baseline=baseline), diverged={}))


def test_the_long_memory_challenge_needs_a_failing_rnn_and_a_succeeding_lstm():
    from core.labs.sequences import Config

    lesson = lessons_for("sequences")[0]
    race = Config.for_task("memory", cells=("RNN", "LSTM"), seq_len=100)
    good = _scripted(1200, 0.17, val_loss__RNN=[0.171, 0.168], val_loss__LSTM=[0.17, 0.0011])
    assert "long" in lesson.passed(race, good)
    lstm_stuck = _scripted(1200, 0.17, val_loss__RNN=[0.168], val_loss__LSTM=[0.15])
    both_learn = _scripted(1200, 0.17, val_loss__RNN=[0.02], val_loss__LSTM=[0.001])
    assert "long" not in lesson.passed(race, lstm_stuck) and "long" not in lesson.passed(race, both_learn)
    assert "long" not in lesson.passed(replace(race, seq_len=50), good)  # the challenge says length 100


def test_the_clipping_challenge_passes_only_with_clipping_on_a_real_run():
    from core.labs import sequences

    lesson = lessons_for("sequences")[0]
    exploding = replace(sequences.PRESETS["exploding"], cells=("RNN",), steps=520)

    def run(config):
        job = sequences.make_job(config).start()
        assert job.join(180)
        return job.config, job.snapshot()

    assert "clip" in lesson.passed(*run(replace(exploding, clip_norm=1.0)))
    assert "clip" not in lesson.passed(*run(exploding))  # without clipping the RNN diverges


def test_the_tiny_digits_challenge_counts_parameters_and_accuracy_on_real_runs():
    from core.labs import vision
    from core.lessons.vision import TINY, parameters

    lesson = lessons_for("vision")[0]
    small = replace(vision.Config(), digit_size=8, blocks="8k3-max,16k3-max", fc=(), dropout=0.0, epochs=12)
    assert parameters(small) < TINY < parameters(vision.Config(digit_size=8))

    def run(config):
        job = vision.make_job(config).start()
        assert job.join(300)
        return job.config, job.snapshot()

    assert "tiny" in lesson.passed(*run(small))
    assert "tiny" not in lesson.passed(*run(replace(small, epochs=1, lr=0.0003)))  # not trained enough
    assert "tiny" not in lesson.passed(*run(replace(small, digit_size=16, epochs=1)))  # not the 8×8 digits
