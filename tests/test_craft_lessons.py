"""The training-craft lab's lesson: its challenges pass on real runs that meet them and fail on runs that do not
(too few steps, another start, no cure, a forbidden cure, a snapshot before the end); every step opens its part of
the page, and "Set it up" from another part keeps that part's own settings (AppTest)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.jobs import JobState
from core.labs import craft
from core.lessons import lessons_for
from core.lessons.craft import CURED_LOSS, preset
from pages.training_craft.common import PageConfig, part_of
from tests.runs import finished

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/training_craft/page.py"


pytestmark = pytest.mark.usefixtures("one_thread")


def lesson():
    return lessons_for("craft")[0]


def _run(config: craft.Config):
    return finished(craft.make_job(config), 300)


def test_the_lesson_is_found_and_its_steps_open_their_parts():
    first = lesson()
    assert first.lab == "craft" and [c.key for c in first.challenges] == ["sgd", "cure"]
    parts = [part_of(replace(PageConfig(), **step.settings).validate()) for step in first.steps]
    assert parts == ["race", "race", "schedules", "overfit", "overfit", "poly"]
    assert [part_of(replace(PageConfig(), **c.settings)) for c in first.challenges] == ["race", "overfit"]


def test_the_sgd_challenge_needs_a_whole_race_from_rosenbrocks_start():
    race = craft.Config(**preset("race_rosenbrock", optimizers=("SGD", "Adam"), steps=5000))
    config, snap = _run(race)
    assert snap.view.reached[list(snap.view.names).index("SGD")] >= 0
    assert "sgd" in lesson().passed(config, snap)
    assert "sgd" not in lesson().passed(*_run(replace(race, steps=1000)))  # SGD is still crawling along the valley
    near = replace(race, start_x=0.9, start_y=0.8, steps=3000)
    assert "sgd" not in lesson().passed(*_run(near))  # a start next to the minimum does not count
    assert "sgd" not in lesson().passed(*_run(replace(race, optimizers=("Adam",), steps=1000)))  # no SGD in it
    assert lesson().passed(None, None) == []


def test_the_cure_challenge_needs_dropout_or_l2_and_a_low_loss_at_the_end():
    cured = craft.Config(**preset("overfit", dropout=0.5, l2=0.01))
    job = craft.make_job(cured, step_delay_s=0.01).start()  # slowed down: long enough to look at its middle
    early = None
    while job.state.active:  # a snapshot before the end whose validation loss is already low enough
        snap = job.snapshot()
        losses = snap.evals.get("val_loss", [])
        if early is None and losses and losses[-1] <= CURED_LOSS and snap.step < job.total_steps - 2:
            early = snap
        time.sleep(0.02)
    assert job.join(300)
    config, snap = job.config, job.snapshot()
    assert snap.state == JobState.FINISHED and snap.evals["val_loss"][-1] <= CURED_LOSS
    assert "cure" in lesson().passed(config, snap)
    assert early is not None
    assert "cure" not in lesson().passed(config, early)  # before the end every run looks healthy: not yet
    assert "cure" not in lesson().passed(replace(config, augment=True), snap)  # dropout or L2 only
    sick = craft.Config(**preset("overfit"))
    config, snap = _run(sick)
    assert snap.evals["val_loss"][-1] > CURED_LOSS  # the preset overfits: its validation loss ends high
    assert "cure" not in lesson().passed(config, snap)


def test_set_it_up_opens_the_steps_part_and_the_part_left_keeps_its_settings():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"lesson": "first", "lstep": "3"})  # the overfitting step, seen from the race
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["craft__config"].tab == "race"
    at.slider(key="craft_steps").set_value(1500).run()
    at.button(key="craft_lesson_setup").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.session_state["craft__config"]
    overfit = craft.PRESETS["overfit"]
    assert shown.tab == "overfit" and shown.core() == replace(overfit, init_seed=shown.init_seed)
    assert at.slider(key="craft_subset").value == 60 and at.slider(key="craft_width").value == 256
    q = {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}
    assert q["tab"] == "overfit" and q["lesson"] == "first" and q["lstep"] == "3"
    at.segmented_control(key="craft_tab").set_value("race").run()
    assert at.slider(key="craft_steps").value == 1500  # the race kept what the visitor had set
    at.segmented_control(key="craft_tab").set_value("overfit").run()
    assert at.slider(key="craft_subset").value == 60 and at.slider(key="craft_epochs").value == overfit.epochs
