"""The generative lab's lesson: its challenges pass on scripted runs that meet them and fail on runs that do not
(texts in both languages and valid "set it up" settings are checked for every lesson by tests/test_lessons.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.jobs import JobState
from core.labs import generative
from core.lessons import lessons_for
from core.lessons.generative import COLLAPSE, NINE_IS_ODD, RING

torch.set_num_threads(1)
LESSON = lessons_for("generative")[0]


def _run(config: generative.Config, steps: int):
    job = generative.make_job(config, total_steps=steps).start()
    assert job.join(180)
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED and snap.view.step == steps
    return job.config, snap


def test_the_lesson_walks_from_the_ring_to_the_autoencoder():
    assert [s.key for s in LESSON.steps] == ["play", "halves", "collapse", "fix", "manifold", "autoencoder"]
    assert replace(generative.Config(), **RING) == generative.PRESETS["ring_fixed"]
    assert replace(generative.Config(), **COLLAPSE) == generative.PRESETS["ring_collapse"]
    assert LESSON.steps[-1].settings["mode"] == "autoencoder"


@pytest.mark.slow
def test_all_ring_modes_passes_when_all_eight_are_covered_and_fails_on_collapse():
    good = replace(generative.Config(), **RING)
    config, snap = _run(good, 1000)
    assert snap.view.covered.all() and "ring8" in LESSON.passed(config, snap)
    config, snap = _run(good, 10)  # too early: still one blob
    assert not snap.view.covered.all() and "ring8" not in LESSON.passed(config, snap)
    config, snap = _run(replace(generative.Config(), **COLLAPSE), 1000)  # the collapse preset: a few modes
    assert snap.view.covered.sum() < 8 and "ring8" not in LESSON.passed(config, snap)
    config, snap = _run(replace(good, distribution="grid"), 10)
    assert "ring8" not in LESSON.passed(config, snap)  # another distribution does not count
    assert LESSON.passed(None, None) == []


@pytest.mark.slow
def test_the_hard_anomaly_needs_another_digit_than_zero_and_an_auc_of_0_9():
    nine = replace(generative.Config(), **NINE_IS_ODD)
    config, snap = _run(nine, 2500)
    assert snap.view.anomaly.auc >= 0.9 and "anomaly9" in LESSON.passed(config, snap)
    config, snap = _run(nine, 30)  # barely trained
    assert snap.view.anomaly.auc < 0.9 and "anomaly9" not in LESSON.passed(config, snap)
    config, snap = _run(generative.PRESETS["anomaly"], 600)  # 0 is the easy anomaly: it does not count
    assert snap.view.anomaly.auc >= 0.9 and "anomaly9" not in LESSON.passed(config, snap)
