"""Guided lessons: every step and challenge has its texts in both languages, every "set it up" gives settings
that train, and a challenge's check passes on a scripted run that meets it and fails on runs that do not."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

import pytest

import core.lessons
from core import i18n
from core.jobs import JobState
from core.labs import lab, planar
from core.lessons import lessons_for

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
    job = planar.make_job(config, total_steps=steps).start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED
    return job.config, snap


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
