"""Training-craft page (AppTest): opening it writes its settings into the address bar, a shared address restores
the part and its settings, each part keeps its own settings, an experiment trains and its numbers are the job's,
Reset draws new starting weights only when asked, the visitor's table trains with any number of classes, and the
hyperparameter search runs its trials as jobs of the visitor."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from core.data.tabular import read_csv
from core.jobs import JobState
from core.labs import craft
from pages.training_craft.common import PageConfig
from tests.apptest import charts, open_app_page, query
from ui.session import manager

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/training_craft/page.py"
OVERFIT = {"tab": "overfit", "n": "60", "width": "256", "depth": "3", "epochs": "6", "lr": "0.003", "batch": "32",
           "drop": "0.3", "l2": "0.001", "aug": "1", "patience": "10", "seed": "4", "init": "7"}


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return open_app_page(PAGE, query)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def wait_for(job, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while job.state.active and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not job.state.active, f"the job did not end in {timeout} s"


def test_opening_the_page_writes_its_settings_into_the_address_bar():
    at = open_page()
    assert query(at) == {**PageConfig().to_query(), "lang": "en"}
    assert at.title[0].value == "Training craft" and not at.error
    assert "craft_race" in charts(at)  # the surface and the start, before any race


def test_a_shared_address_restores_the_part_and_its_settings():
    at = open_page(OVERFIT)
    assert at.session_state["craft__config"].tab == "overfit"
    assert at.slider(key="craft_subset").value == 60 and at.slider(key="craft_width").value == 256
    assert at.slider(key="craft_dropout").value == 0.3 and at.select_slider(key="craft_l2").value == 0.001
    assert at.toggle(key="craft_augment").value is True
    assert at.toggle(key="craft_patience__on").value is True and at.slider(key="craft_patience__value").value == 10
    assert at.number_input(key="craft_init_seed").value == 7 and at.number_input(key="craft_seed").value == 4
    expected = PageConfig.from_query(OVERFIT)[0]
    assert query(at) == {**expected.to_query(), "lang": "en"}  # nothing lost, nothing added
    assert expected.core().experiment == "digits" and expected.core().patience == 10


def test_a_link_to_a_part_without_its_settings_opens_its_first_preset():
    at = open_page({"tab": "search"})
    preset = craft.PRESETS["search_tpe"]
    assert (at.slider(key="craft_epochs").value, at.slider(key="craft_subset").value) == (preset.epochs,
                                                                                           preset.subset)


def test_each_part_keeps_its_own_settings_and_the_address_follows():
    at = open_page(OVERFIT)
    at.slider(key="craft_width").set_value(128).run()
    at.segmented_control(key="craft_tab").set_value("poly").run()
    assert not at.exception
    q = query(at)
    poly = craft.PRESETS["poly_overfit"]
    assert q["tab"] == "poly" and q["deg"] == str(poly.degree) and q["epochs"] == str(poly.epochs)
    assert at.slider(key="craft_degree").value == poly.degree
    at.segmented_control(key="craft_tab").set_value("overfit").run()
    assert at.slider(key="craft_width").value == 128 and query(at)["epochs"] == "6" and query(at)["n"] == "60"


def test_an_overfitting_run_trains_and_the_page_shows_its_numbers():
    at = open_page({**OVERFIT, "patience": "off", "drop": "0", "l2": "0", "aug": "0"})
    button(at, "Train").click().run()
    job = at.session_state["craft_job_overfit"]
    try:
        wait_for(job)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        snap = job.snapshot()
        assert snap.state == JobState.FINISHED and snap.step == 6 * 2  # 60 digits in batches of 32: 2 per epoch
        view = snap.view
        assert isinstance(view, craft.FitView) and len(view.epoch) >= 6
        assert view.train_loss[-1] < view.train_loss[0]  # it learns
        shown = {m.label: m.value for m in at.metric}
        assert shown["Training loss"] == f"{view.train_loss[-1]:.3g}"
        assert shown["Generalization gap"] == f"{view.gap_loss:.3g}"
        assert {"craft_overfit_loss", "craft_overfit_acc", "craft_overfit_weights"} <= set(charts(at))
        assert show_name(job) == "overfitting lab"
    finally:
        job.stop()


def show_name(job) -> str:
    from core.i18n import localize

    return localize(job.name, "en")


def test_reset_draws_new_starting_weights_only_with_same_initialisation_off():
    at = open_page({**OVERFIT, "epochs": "1"})
    button(at, "Train").click().run()
    wait_for(at.session_state["craft_job_overfit"])
    at.run()
    at.button(key="craft_job_overfit__reset").click().run()
    assert at.number_input(key="craft_init_seed").value == 7  # same initialisation (the default): kept
    button(at, "Train").click().run()
    wait_for(at.session_state["craft_job_overfit"])
    at.toggle(key="craft_same_init").set_value(False).run()
    at.button(key="craft_job_overfit__reset").click().run()
    assert not at.exception
    assert at.number_input(key="craft_init_seed").value == 8 and query(at)["init"] == "8"


def three_classes(rows: int = 150) -> bytes:
    rng = np.random.default_rng(5)
    lines = ["petal,sepal,species"]
    for i in range(rows):
        c = i % 3
        cx, cy = [(0, 0), (4, 1), (1, 4)][c]
        lines.append(f"{rng.normal(cx, 0.7):.3f},{rng.normal(cy, 0.7):.3f},{['setosa', 'versicolor', 'virginica'][c]}")
    return ("\n".join(lines) + "\n").encode()


def test_the_visitors_table_trains_with_three_classes_and_shows_boundary_and_confusion():
    at = open_page({"tab": "csv", "epochs": "40"})
    assert any("Upload a CSV" in i.value for i in at.info)
    at.session_state["craft_csv_table"] = ("three.csv", read_csv(three_classes()))  # what the uploader keeps
    at.run()
    assert at.selectbox(key="craft_label").value == "species"
    at.multiselect(key="craft_features").set_value(["petal", "sepal"]).run()
    assert "label" not in query(at) and "features" not in query(at)  # the table's choices stay out of the link
    button(at, "Train").click().run()
    job = at.session_state["craft_job_csv"]
    try:
        wait_for(job)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        view = job.snapshot().view
        assert isinstance(view, craft.TableView) and view.confusion.shape == (3, 3)
        assert np.trace(view.confusion) / view.confusion.sum() > 0.9
        shown = charts(at)
        assert "Decision boundary" in shown["craft_boundary"] and "Confusion matrix" in shown["craft_confusion"]
        assert any("Held-out test rows" in m.value for m in at.markdown)
    finally:
        job.stop()


def test_a_bad_table_gets_a_clear_message():
    at = open_page({"tab": "csv"})
    at.session_state["craft_csv_table"] = ("one.csv", read_csv(b"a,b,kind\n" + b"".join(
        b"%d,%d,same\n" % (i, 2 * i) for i in range(20))))
    at.run()
    assert not at.exception
    assert any("only one value" in e.value for e in at.error)


def test_the_search_runs_its_trials_as_jobs_of_the_visitor():
    # 4 epochs: a good draw learns (a draw at chance is possible)
    at = open_page({"tab": "search", "method": "random", "budget": "3", "epochs": "4", "n": "100", "prune": "0"})
    button(at, "Start: Random search, 3 trials").click().run()
    seen_running = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        at.run()  # each run of the page advances the search (the live panel does it in a browser)
        search = at.session_state["craft_search"]
        seen_running = max(seen_running, len(search.running))
        jobs = at.session_state["craft_search_jobs"]
        assert all(j.slots is manager().slots for j in jobs)  # submitted to the shared job manager
        if search.done:
            break
        time.sleep(0.3)
    assert not at.exception, [e.value for e in at.exception]
    view = search.view()
    assert search.done and len(view.state) == 3 and all(s == "complete" for s in view.state)
    assert 1 <= seen_running <= 2 and ((view.value >= 0) & (view.value <= 1)).all() and view.value.max() > 0.5
    assert at.session_state["craft_search_jobs"] == []  # ended trials leave the job list
    table = next(d.value for d in at.dataframe if "trial" in d.value.columns)
    assert list(table["trial"]) == [1, 2, 3]
    assert "craft_parallel_fig" in charts(at)


def test_the_page_in_chinese():
    at = open_page({"lang": "zh", "tab": "overfit"})
    assert at.title[0].value == "训练技巧"
    assert at.segmented_control(key="craft_tab").options[3] == "过拟合与对策"
    assert query(at)["lang"] == "zh" and query(at)["tab"] == "overfit"


def test_bad_hand_edited_address_warns_and_serves_the_fixed_settings():
    at = open_page({"tab": "banana", "lr": "fast", "epochs": "99999"})
    warnings = " | ".join(w.value for w in at.warning)
    assert "tab=banana" in warnings and "lr=fast" in warnings and "epochs=99999" in warnings, warnings
    q = query(at)
    assert q["tab"] == "race" and q["epochs"] == "2000"
