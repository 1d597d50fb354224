"""The compression lab's lesson: its challenges pass on real runs that meet them and fail on runs that do not
(too little fine-tuning, too few zeros, a sweep not yet through its repeats, scratch ahead); every step's settings
are valid, and "Set it up" opens the tab of the step's kind of training (AppTest)."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.compress import demo
from core.jobs import build_seeded
from core.labs import compress as lab
from core.lessons import lessons_for
from core.lessons.compress import SHOTS
from core.shelf import Shelf
from tests.runs import finished

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/compress/page.py"


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mlp():
    torch.set_num_threads(1)
    return demo.digits_mlp(width=64, steps=400)


def lesson():
    return lessons_for("compress")[0]


def _run(config: lab.Config, source):
    return finished(lab.make_job(config, source), 300)


def test_the_lesson_is_found_and_its_steps_set_up_each_kind_of_training():
    first = lesson()
    assert first.lab == "compress" and [c.key for c in first.challenges] == ["prune80", "transfer5"]
    tasks = [replace(lab.Config(), **s.settings).validate().task if s.settings else None for s in first.steps]
    assert tasks == ["finetune", None, "distill", "fewshot", None]  # quantization and export train nothing
    assert [c.settings["task"] for c in first.challenges] == ["finetune", "fewshot"]


def test_the_pruning_challenge_needs_80_percent_zeros_and_the_accuracy_back(mlp):
    good = replace(lab.Config(), **lesson().challenge("prune80").settings)
    config, snap = _run(good, mlp)
    view = snap.view
    assert view.sparsity >= 0.795 and view.pruned_score < view.dense_score - 0.05  # pruning alone costs points
    assert "prune80" in lesson().passed(config, snap)
    assert "prune80" not in lesson().passed(*_run(replace(good, steps=5), mlp))  # not fine-tuned enough yet
    assert "prune80" not in lesson().passed(*_run(replace(good, sparsity=0.5), mlp))  # too few zeros
    assert lesson().passed(None, None) == []


def test_the_transfer_challenge_needs_k5_through_its_repeats_and_transfer_ahead():
    config = lab.Config(task="fewshot", shots=(SHOTS,), repeats=3, pretrain_steps=300, run_steps=60, rotation=False)
    trainer = build_seeded(functools.partial(lab.make_trainer, config), 0)
    early = None
    while not trainer.done:
        trainer.train_step()
        if trainer.steps == config.pretrain_steps + 4 * config.run_steps:  # four of the nine runs
            early = trainer.snapshot()
    view = trainer.snapshot()
    assert view.runs_done == view.runs_total == 9
    assert max(view.at("frozen", SHOTS), view.at("finetune", SHOTS)) > view.at("scratch", SHOTS)
    assert "transfer5" in lesson().passed(config, SimpleNamespace(view=view))
    assert "transfer5" not in lesson().passed(config, SimpleNamespace(view=early))  # not through its repeats
    i, j = view.methods.index("scratch"), 0
    lucky = view.accuracy.copy()
    lucky[i, j, 2] = np.nan  # only two draws of the examples for scratch
    assert "transfer5" not in lesson().passed(config, SimpleNamespace(view=replace(view, accuracy=lucky)))
    ahead = view.accuracy.copy()
    ahead[i, j] = 1.0  # scratch ahead of both transferred backbones
    assert "transfer5" not in lesson().passed(config, SimpleNamespace(view=replace(view, accuracy=ahead)))
    assert "transfer5" not in lesson().passed(replace(config, task="distill"), SimpleNamespace(view=view))


def test_set_it_up_opens_the_tab_of_the_steps_training(mlp):
    shelf = Shelf()
    shelf.add(mlp, mlp.description)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update({"lesson": "first", "lstep": "3"})  # the few-shot step, seen from the pruning tab
    at.session_state["_playground_shelf"] = shelf
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["cmp__config"].task == "finetune"
    at.button(key="compress_lesson_setup").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["cmp__config"].task == "fewshot" and at.session_state["cmp__section"] == "fewshot"
    assert any(b.label == "Run the few-shot sweep" for b in at.button)  # the few-shot tab is the one shown
    assert not any(b.label == "Prune and fine-tune" for b in at.button)
    q = {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}
    assert q["task"] == "fewshot" and q["lesson"] == "first" and q["lstep"] == "3"
