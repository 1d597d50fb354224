"""The audio lab's lesson: its challenges pass on real runs of the CNN that meet them and fail on runs that do not
(no augmentation, another model or language, a snapshot before the end, augmentation on), and "Set it up" puts a
step's settings into the page (AppTest)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import torch

from core.jobs import JobState
from core.labs import audio
from core.labs.audio import PageConfig
from core.lessons import lessons_for
from core.lessons.audio import BARE, CLEAN, DEFAULTS, FRAGILE, ROBUST, ROBUST_COPIES
from tests.apptest import open_app_page, query

PAGE = "pages/audio_lab/page.py"


pytestmark = pytest.mark.usefixtures("one_thread")


def lesson():
    return lessons_for("audio")[0]


def _run(config: audio.Config):
    job = audio.make_job(config, threads=1).start()
    deadline = time.monotonic() + 400
    while not job.join(2):  # watched, as its page would: an unwatched job stops itself after a while
        job.touch()
        assert time.monotonic() < deadline
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED
    return job.config, snap


@pytest.fixture(scope="module")
def bare():
    """The page's CNN with no augmentation at all (SpecAugment off, no recording-like copies): quick to train."""
    torch.set_num_threads(1)
    return _run(replace(PageConfig(), **BARE).cnn())


def test_the_lesson_is_found_and_every_step_sets_what_the_page_and_a_run_share():
    first = lesson()
    assert first.lab == "audio" and [c.key for c in first.challenges] == ["robust90", "fragile"]
    for item in [*first.steps, *first.challenges]:
        page = replace(PageConfig(), **item.settings).validate()
        assert page.cnn() == replace(PageConfig().cnn(), **item.settings)  # the run the CNN then trains
    assert replace(PageConfig(), **DEFAULTS) == PageConfig()  # "the page's usual training choices"
    assert lesson().passed(None, None) == []


@pytest.mark.slow
def test_the_fragile_challenge_needs_no_augmentation_a_clean_ace_and_a_recording_like_drop(bare):
    config, snap = bare
    assert snap.view.test_accuracy >= CLEAN and snap.view.recording_accuracy < FRAGILE  # as measured: ~100 % / ~56 %
    assert lesson().passed(config, snap) == ["fragile"]  # and far from the robust goal
    assert "fragile" not in lesson().passed(replace(config, spec_augment=True), snap)  # augmented: not "bare"
    assert "fragile" not in lesson().passed(replace(config, kind="gru"), snap)  # the challenge is the CNN's
    assert "fragile" not in lesson().passed(replace(config, language="zh"), snap)  # … on the English digits
    early = replace(snap, view=replace(snap.view, step=snap.total_steps // 2))
    assert "fragile" not in lesson().passed(config, early)  # not through all its epochs yet


@pytest.mark.slow
def test_the_robust_challenge_needs_a_finished_english_cnn_at_90_percent_recording_like(bare):
    """Checked on the real finished run's view, its recording-like accuracy scripted to either side of the goal
    (3 recording-like copies reach 0.90–0.92 in about 90 s of CPU: measured, too slow and too close for a test)."""
    config, snap = bare
    assert "robust90" not in lesson().passed(config, snap)  # as trained, without augmentation: near 56 %
    robust = replace(config, copies=ROBUST_COPIES)
    passing = replace(snap, view=replace(snap.view, recording_accuracy=ROBUST + 0.01))
    assert lesson().passed(robust, passing) == ["robust90"]
    short = replace(snap, view=replace(snap.view, recording_accuracy=ROBUST - 0.01))
    assert "robust90" not in lesson().passed(robust, short)
    early = replace(passing, view=replace(passing.view, step=0))
    assert "robust90" not in lesson().passed(robust, early)  # not through all its epochs yet
    assert "robust90" not in lesson().passed(replace(robust, kind="lstm"), passing)  # the CNN's challenge


def test_set_it_up_puts_the_steps_settings_into_the_page_and_the_link():
    at = open_app_page(PAGE, {"lesson": "hearing", "lstep": "3", "copies": "2"})  # the "no augmentation" step
    assert at.session_state["audio__config"].copies == 2
    at.button(key="audio_lesson_setup").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.session_state["audio__config"]
    assert (shown.language, shown.spec_augment, shown.copies) == ("en", False, 0)
    assert shown == replace(PageConfig(voice=shown.voice), **BARE)  # nothing else changed
    assert not at.toggle(key="audio_spec_augment").value
    q = query(at)
    assert (q["specaug"], q["copies"], q["lesson"], q["lstep"]) == ("0", "0", "hearing", "3")
    at.button(key="audio_lesson_next").click().run()
    at.button(key="audio_lesson_setup").click().run()  # the robust step: SpecAugment back on, two copies
    assert not at.exception, [e.value for e in at.exception]
    shown = at.session_state["audio__config"]
    assert (shown.spec_augment, shown.copies, query(at)["lstep"]) == (True, ROBUST_COPIES, "4")
