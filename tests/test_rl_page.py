"""RL lab page (AppTest): it writes its settings into the address bar and a shared address restores them; training
on the gridworld changes the value map and records returns; every view (learning live, replay, compare, save and
load) draws a gridworld and a CartPole run; a click on a cell of the map changes the world (the address bar's grid
and, while it learns, the agent's own world); an agent saved as a file loads back and trains on, a bad file gets a
message; the page speaks Chinese."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import torch
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from core.envs.gridworld import default_layout, parse_layout
from core.jobs import JobState
from core.labs import rl
from pages.rl_lab import agent
from tests.apptest import open_app_page, query

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/rl_lab/page.py"
CJK = re.compile(r"[\u4e00-\u9fff]")
SMALL = {"warmup": "200", "steps": "3000", "tick": "50", "width": "32"}  # a gridworld run of a few seconds
SMALL_CART = {"env": "cartpole", "warmup": "200", "steps": "1500", "tick": "50", "width": "32"}
RACE_KEYS = tuple(f"rl_race_{a}" for a in rl.ALGORITHMS)


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return open_app_page(PAGE, query)


def shown_config(at: AppTest) -> rl.Config:
    return at.session_state["rl__config"]


def job_of(at: AppTest, key: str = "rl_job"):
    return at.session_state[key] if key in at.session_state else None


def stop_jobs(at: AppTest) -> None:
    for key in ("rl_job", *RACE_KEYS):
        job = job_of(at, key)
        if job is not None:
            job.stop()


def texts(at: AppTest) -> list[str]:
    return [str(e.value) for e in [*at.title, *at.caption, *at.markdown, *at.info, *at.success, *at.error,
                                   *at.warning]]


def ok(at: AppTest, where: str = "") -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    assert not at.error, (where, [e.value for e in at.error])


def charts(at: AppTest) -> dict[str, object]:
    """The Plotly charts on the page by their key (Streamlit puts the key at the end of the element's id)."""
    found = {}
    for node in at._tree:
        if getattr(node, "type", None) == "plotly_chart":
            found[node.proto.id.split("-", 2)[-1]] = node
    return found


def heatmap(at: AppTest) -> str:
    """The value map's heatmap trace as drawn (its spec)."""
    spec = json.loads(charts(at)["rl_value_map"].proto.spec)
    return json.dumps(spec["data"][0], sort_keys=True)


def click_cell(at: AppTest, row: int, col: int) -> AppTest:
    """What the browser sends when the visitor clicks cell (row, col) of the map in edit mode: a point selection
    on the invisible cell targets (the chart's last trace)."""
    chart = next(c for k, c in charts(at).items() if k.startswith("rl_value_map_"))
    trace = len(json.loads(chart.proto.spec)["data"]) - 1
    index = row * shown_config(at).size + col
    selection = {"selection": {"points": [{"curve_number": trace, "point_index": index, "point_number": index,
                                           "x": col, "y": row}],
                               "point_indices": [index], "box": [], "lasso": []}}
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=chart.proto.id, string_value=json.dumps(selection)))
    return at._run(states)


def train(at: AppTest, timeout: float = 120.0):
    at.button(key="rl_job__play").click().run()
    job = job_of(at)
    assert job is not None, [e.value for e in at.error]
    assert job.join(timeout), job.state
    at.run()
    ok(at, "trained")
    return job


def wait_for(job, steps: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while job.step < steps and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.step >= steps, job.step


def show_every_view(at: AppTest) -> None:
    for name in ("learn", "replay", "compare", "agent"):
        at.segmented_control(key="rl_view").set_value(name).run()
        ok(at, name)


# ---------------------------------------------------------------------------------------------- settings
def test_default_page_writes_its_settings_into_the_address_bar_and_shows_the_untrained_agent():
    at = open_page()
    assert rl.Config.from_query(query(at)) == (rl.Config(), [])
    assert {"env": "gridworld", "n": "8", "algo": "dqn", "lang": "en"}.items() <= query(at).items()
    assert any(b.label == "Train" for b in at.button)
    assert any("Press **Train**" in i.value for i in at.info)
    assert "rl_value_map" in charts(at)  # the untrained agent's values, before anything ran
    assert [m.value for m in at.metric][:1] == ["0"]
    at.segmented_control(key="rl_env").set_value("cartpole").run()
    ok(at)
    assert query(at)["env"] == "cartpole" and {"rl_cart", "rl_policy"} <= charts(at).keys()


def test_a_shared_address_restores_the_experiment_and_a_bad_one_is_an_error_not_a_traceback():
    layout = "s....-.www.-.....-.t...-....g"
    shared = {"env": "gridworld", "n": "5", "grid": layout, "algo": "a2c", "width": "48", "depth": "1",
              "gamma": "0.95", "slip": "0.1", "nsteps": "16", "seed": "7"}
    at = open_page(shared)
    expected, warnings = rl.Config.from_query(shared)
    assert not warnings and shown_config(at) == expected and expected.layout == layout
    assert query(at) == {**expected.to_query(), "lang": "en"}
    assert at.segmented_control(key="rl_algorithm").value == "a2c" and at.slider(key="rl_width").value == 48
    assert any(m.label == "Regret" for m in at.metric)  # with slip the map's quality is its regret
    at.segmented_control(key="rl_algorithm").set_value("dqn").run()
    at.number_input(key="rl_eps_start").set_value(0.01).run()  # ε would start below where it ends
    assert not at.exception and at.error and not any(b.label == "Train" for b in at.button)
    broken = open_page({"grid": "s..x-..g"})  # a hand-edited grid falls back to the default, with a warning
    assert not broken.exception and broken.warning and shown_config(broken).grid_layout == default_layout(8)


# ---------------------------------------------------------------------------------------------- gridworld
def test_training_changes_the_value_map_records_returns_and_every_view_draws_it():
    at = open_page(SMALL)
    before = heatmap(at)
    untrained = rl.initial_view(shown_config(at))
    try:
        job = train(at)
        assert job.state == JobState.FINISHED
        view = job.snapshot().view
        assert view.env_steps >= 3000 and view.episodes > 0 and len(view.returns) == view.episodes
        assert np.isfinite(view.returns).all() and view.updates > 0
        assert not np.allclose(view.grid.values, untrained.grid.values, equal_nan=True)  # it learned values
        assert heatmap(at) != before  # and the page draws them
        assert {"rl_returns", "rl_signals"} <= charts(at).keys()
        assert at.metric[0].value == f"{view.episodes:,}"
        assert any(f"{view.grid.match:.0%} of the cells optimal" in c.value for c in at.caption)

        at.segmented_control(key="rl_view").set_value("replay").run()
        ok(at, "replay")
        assert "rl_replay_grid" in charts(at) and at.dataframe
        assert any(f"Training episode {view.latest.number:,}" in c.value for c in at.caption)
        at.button(key="rl_replay_greedy").click().run()
        ok(at, "greedy replay")
        assert at.session_state["rl_replay"].greedy and any("Greedy episode" in c.value for c in at.caption)

        at.segmented_control(key="rl_view").set_value("agent").run()
        ok(at, "agent")
        save = at.get("download_button")[0]
        assert not save.proto.disabled
        assert any(f"{view.episodes:,} episodes" in c.value for c in at.caption)

        at.segmented_control(key="rl_view").set_value("compare").run()
        ok(at, "compare")
        assert any("Press **Start race**" in i.value for i in at.info)
        at.pills(key="rl_race_algorithms").set_value(["dqn", "reinforce", "a2c"]).run()
        at.button(key="rl_race_go").click().run()
        races = [job_of(at, k) for k in RACE_KEYS]
        assert all(r is not None for r in races) and {r.config.algorithm for r in races} == set(rl.ALGORITHMS)
        assert {r.config.seed for r in races} == {shown_config(at).seed}  # the same seed for all
        for race in races:
            assert race.join(120), race.state
        at.run()
        ok(at, "race")
        assert "rl_race_chart" in charts(at) and len(json.loads(charts(at)["rl_race_chart"].proto.spec)["data"]) >= 3
        assert [m.label for m in at.metric] == ["DQN", "REINFORCE", "A2C"]
    finally:
        stop_jobs(at)


def test_a_click_on_a_cell_changes_the_world_and_the_address_bar():
    at = open_page()
    assert query(at)["grid"] == ""  # the default grid
    at.toggle(key="rl_editing").set_value(True).run()
    ok(at)
    click_cell(at, 0, 3)  # a wall (the default brush) next to the start
    ok(at)
    painted = query(at)["grid"]
    assert painted and parse_layout(painted)[0][3] == "w" and shown_config(at).layout == painted
    at.pills(key="rl_brush").set_value("trap").run()
    click_cell(at, 0, 3)
    assert parse_layout(query(at)["grid"])[0][3] == "t"

    at.query_params.update({"steps": "1000000"})  # a long run: edit its world while it learns
    at.button(key="rl_job__play").click().run()
    job = job_of(at)
    try:
        wait_for(job, 20)
        at.run()
        ok(at)
        at.pills(key="rl_brush").set_value("wall").run()
        click_cell(at, 1, 1)
        ok(at)
        assert job_of(at) is job and job.state.active  # the same agent learns on, in the changed world
        assert parse_layout(query(at)["grid"])[1][1] == "w"
        assert job.inspect(rl.grid_map).layout == query(at)["grid"]
        steps = job.step
        wait_for(job, steps + 5)  # still learning after the edit
        at.run()
        ok(at)
        assert job_of(at) is job
    finally:
        stop_jobs(at)


# ---------------------------------------------------------------------------------------------- CartPole
def test_cartpole_trains_and_every_view_draws_it():
    at = open_page(SMALL_CART)
    try:
        job = train(at)
        view = job.snapshot().view
        assert view.env == "cartpole" and view.episodes > 0 and len(view.returns) == view.episodes
        assert {"rl_cart", "rl_angle", "rl_policy", "rl_returns"} <= charts(at).keys()
        title = json.loads(charts(at)["rl_cart"].proto.spec)["layout"]["title"]["text"]
        assert f"Episode {view.latest.number:,} ended after {view.latest.length} steps" in title
        at.segmented_control(key="rl_view").set_value("replay").run()
        ok(at, "replay")
        assert {"rl_replay_cart", "rl_replay_angle"} <= charts(at).keys()
        show_every_view(at)
    finally:
        stop_jobs(at)


# ---------------------------------------------------------------------------------------------- save / load
def test_a_saved_agent_loads_back_and_trains_on_and_a_bad_file_gets_a_message():
    at = open_page({**SMALL, "seed": "7"})
    try:
        job = train(at)
        data = agent.agent_bytes(job)  # what the download button hands over
        saved = job.snapshot().view
    finally:
        stop_jobs(at)

    fresh = open_page()  # another visitor, with the default settings
    fresh.segmented_control(key="rl_view").set_value("agent").run()
    ok(fresh)
    assert fresh.get("download_button")[0].proto.disabled  # nothing to save yet
    fresh.file_uploader(key="rl_agent_upload").set_value(("agent.pt", data, "application/octet-stream")).run()
    try:
        ok(fresh, "loaded")
        assert any("Loaded DQN" in s.value and f"{saved.env_steps:,} steps" in s.value for s in fresh.success)
        loaded = job_of(fresh)
        assert loaded is not None and loaded.state == JobState.PAUSED
        assert query(fresh)["seed"] == "7" and shown_config(fresh).seed == 7  # its settings fill the page
        view = loaded.inspect(rl.current_view)
        assert view.env_steps == saved.env_steps and view.episodes == saved.episodes
        np.testing.assert_allclose(view.grid.values, saved.grid.values, rtol=1e-5, equal_nan=True)
        fresh.button(key="rl_job__play").click().run()  # Resume
        ok(fresh, "resumed")
        deadline = time.monotonic() + 60
        while loaded.inspect(rl.current_view).env_steps <= saved.env_steps and time.monotonic() < deadline:
            time.sleep(0.1)
        assert loaded.inspect(rl.current_view).env_steps > saved.env_steps  # it trains on from where it was
    finally:
        stop_jobs(fresh)

    bad = open_page()
    bad.segmented_control(key="rl_view").set_value("agent").run()
    bad.file_uploader(key="rl_agent_upload").set_value(("agent.pt", b"certainly not an agent", "text/plain")).run()
    assert not bad.exception
    assert any("not an agent file that can be loaded safely" in e.value for e in bad.error)
    assert job_of(bad) is None


# ---------------------------------------------------------------------------------------------- Chinese
def test_the_page_speaks_chinese_in_every_view():
    at = open_page({"lang": "zh", **SMALL})
    try:
        assert CJK.search(at.title[0].value) and any(b.label == "训练" for b in at.button)
        job = train(at)
        assert job.snapshot().view.episodes > 0
        assert all(CJK.search(m.label) or m.label in ("ε",) for m in at.metric)
        show_every_view(at)
        at.segmented_control(key="rl_view").set_value("learn").run()
        at.toggle(key="rl_editing").set_value(True).run()
        ok(at)
        assert any(CJK.search(c.value) for c in at.caption)
        at.segmented_control(key="rl_env").set_value("cartpole").run()
        ok(at, "cartpole")
        assert any(CJK.search(s) for s in texts(at))
    finally:
        stop_jobs(at)
