"""Attention lab page (AppTest): it runs and writes its settings into the address bar, a shared address restores
them (a pasted text is never in it, and the page says so), the live input reaches the running model, and the
causal model generates text from the page."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from core.labs import attention as A
from tests.apptest import open_app_page, query

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/attention_lab/page.py"
SMALL_GPT = {"task": "causal_lm", "width": "32", "heads": "2", "ctx": "16", "batch": "16", "steps": "40",
             "prompt": "Shall", "temp": "0.5", "topk": "5", "gen": "60"}


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return open_app_page(PAGE, query)


def wait_for(job, steps: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while job.step < steps and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.step >= steps, job.step


def test_default_run_writes_the_settings_into_the_address_bar_and_draws_the_untrained_model():
    at = open_page()
    assert A.Config.from_query(query(at)) == (A.Config(), [])
    assert {"task": "reversal", "len": "8", "layers": "2", "heads": "2", "lang": "en"}.items() <= query(at).items()
    assert "paste" not in query(at)  # a pasted text never travels in the link
    assert any(b.label == "Train" for b in at.button)
    assert any("untrained model" in c.value for c in at.caption)
    at.segmented_control(key="att_task").set_value("sorting").run()
    assert query(at)["task"] == "sorting" and not at.exception


def test_a_shared_address_restores_the_experiment_and_a_pasted_text_stays_out_of_it():
    shared = {**SMALL_GPT, "text": "custom", "topp": "0.9", "norm": "post", "pos": "sinusoidal", "race": "1"}
    at = open_page(shared)
    expected, warnings = A.Config.from_query(shared)
    assert expected.text == "poems" and len(warnings) == 1  # the link cannot carry the pasted text
    assert any("links do not carry" in w.value for w in at.warning)
    state = at.session_state
    assert state["att__config"] == expected
    assert at.segmented_control(key="att_task").value == "causal_lm" and at.slider(key="att_width").value == 32
    assert at.selectbox(key="att_norm").value == "post"
    assert at.segmented_control(key="att_positions").value == "sinusoidal"
    assert at.toggle(key="att_race").value is True and any(b.label == "Start race" for b in at.button)
    assert query(at) == {**expected.to_query(), "lang": "en"}  # nothing lost or added
    at.selectbox(key="att_text").set_value("custom").run()
    assert any("not part of the link" in c.value for c in at.caption)
    assert any("Paste some text first" in w.value for w in at.warning)
    pasted = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。" * 8
    at.text_area(key="att_custom_text").set_value(pasted).run()
    assert not at.exception and query(at)["text"] == "custom" and "paste" not in query(at)
    assert at.session_state["att__config"].custom_text == pasted
    fresh = open_page(query(at))  # the copied address on a fresh server: same settings, the default text
    assert fresh.session_state["att__config"] == replace(at.session_state["att__config"], text="poems", custom_text="")


def test_bad_input_is_an_error_at_the_door_not_a_traceback():
    at = open_page()
    at.slider(key="att_heads").set_value(3).run()  # a width of 64 does not split into 3 heads
    assert not at.exception and any("must split evenly into the heads" in e.value for e in at.error)
    assert not any(b.label == "Train" for b in at.button)  # nothing can be started with it
    at.slider(key="att_heads").set_value(4).run()
    at.text_input(key="att_probe").set_value("12x").run()
    assert not at.exception and any("Unknown symbols: x" in e.value for e in at.error)


def test_the_inspected_input_reaches_the_running_model():
    at = open_page({"steps": "100000"})
    at.button(key="att_job__play").click().run()
    job = at.session_state["att_job"]
    try:
        wait_for(job, 3)
        at.text_input(key="att_probe").set_value("12345678").run()
        assert not at.exception and at.session_state["att_job"] is job
        assert job.trainer.config.probe == "12345678" and query(at)["probe"] == "12345678"
        view = job.inspect(A.current_view)
        assert view.probe.tokens == list("12345678") and view.probe.targets == list("87654321")
        at.slider(key="att_layers").set_value(3).run()  # needs a new model: named, not applied
        assert any("Changed since this run started" in c.value and c.value.endswith(": Layers") for c in at.caption)
        assert job.trainer.config.layers == 2
    finally:
        job.stop()


def test_the_causal_model_generates_text_on_the_page():
    at = open_page(SMALL_GPT)
    at.button(key="att_job__play").click().run()
    job = at.session_state["att_job"]
    try:
        assert job.join(120)
        at.run()
        at.segmented_control(key="att_view_causal_lm").set_value("generate").run()
        assert at.text_input(key="att_prompt").value == "Shall" and at.number_input(key="att_top_k").value == 5
        at.button(key="att_generate").click().run()
        assert not at.exception, [e.value for e in at.exception]
        step, generated = at.session_state["att_generated"]
        assert step == 40 and generated.prompt == "Shall" and len(generated.text) == 60
        vocab = set(job.trainer.data.corpus.vocab)
        assert set(generated.text) <= vocab
        assert generated.first.kept_count == 5  # top-k 5: the first draw came from 5 candidates
        assert any("Generated at step 40" in m.value for m in at.markdown)
        at.button(key="att_generate").click().run()  # each click draws afresh
        assert at.session_state["att_generated"][1].text != generated.text
    finally:
        job.stop()


def test_every_view_of_every_task_draws_a_finished_run():
    small = {"width": "16", "heads": "2", "ctx": "16", "batch": "16", "steps": "20", "race": "1"}
    for task in A.TASKS:
        at = open_page({**small, "task": task})
        at.segmented_control(key="att_speed").set_value("fastest").run()
        at.button(key="att_job__play").click().run()
        job = at.session_state["att_job"]
        assert job.join(120)
        names = at.segmented_control(key=f"att_view_{task}").options
        for name in names:
            at.segmented_control(key=f"att_view_{task}").set_value(name).run()
            assert not at.exception, (task, name, [e.value for e in at.exception])
            assert not at.error, (task, name, [e.value for e in at.error])
        if task in ("masked_lm", "causal_lm"):  # the twin of the other family, side by side
            at.segmented_control(key=f"att_view_{task}").set_value("compare").run()
            at.button(key="att_twin__play").click().run()
            twin = at.session_state["att_twin"]
            assert twin.join(120) and twin.config.task != task
            at.run()
            assert not at.exception and len([m for m in at.markdown if m.value.startswith("####")]) == 2
            at.segmented_control(key="att_task").set_value("reversal").run()  # another task: the twin goes
            assert "att_twin" not in at.session_state
