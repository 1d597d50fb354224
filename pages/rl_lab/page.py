"""RL lab: an agent that learns live — an editable gridworld and CartPole, DQN and policy gradients; the value
map and the greedy policy while it learns, replays, algorithms side by side, agents saved and loaded back. The
settings (the edited grid included) live in the URL."""

import functools

import streamlit as st

from pages.rl_lab import agent, compare, controls, grid, views
from ui.display import controls as settings_box
from ui.display import header
from ui.i18n import t
from ui.jobs import job_controls, live_panel
from ui.lessons import lesson_panel
from ui.settings import share_note

VIEWS = ("learn", "replay", "compare", "agent")

header(t("rl.page.title"), t("rl.page.how"), how_title=t("rl.page.how_title"), lede=t("rl.page.lede"), ratio=(5, 1.4))

form = controls.form()
form.warnings()
lesson_panel("rl", form, controls.JOB)
with settings_box(t("rl.page.settings")):
    controls.main_settings(form)
    controls.detail_settings(form)

config = form.checked()
controls.follow_settings(config)

bar = st.columns([2.2, 4], vertical_alignment="center")
with bar[0]:
    job_controls(controls.JOB, functools.partial(controls.new_job, config), lab="rl", compact=True)
run_row = bar[1].container(horizontal=True, gap="medium", vertical_alignment="center")
controls.speed_control(where=run_row)
controls.learning_switch(form, where=run_row)
if config.env == "cartpole":
    controls.pause_when_solved(where=run_row)

which = st.segmented_control(t("rl.page.view"), VIEWS, default="learn", key="rl_view", required=True,
                             format_func=lambda v: t(f"rl.page.view_{v}"), label_visibility="collapsed")
if which == "learn":
    left, right = st.columns([1, 1.1], gap="medium")
    with left:
        if config.env == "gridworld":
            grid.brush_bar()
            if grid.editing():  # the map holds still so that clicks land; the agent learns on
                views.grid_panel(views.current_snapshot(), config=config, f=form)
            else:
                live_panel(controls.JOB, functools.partial(views.grid_panel, config=config, f=form), every=1.0,
                           status=False)
        else:
            live_panel(controls.JOB, functools.partial(views.cart_panel, config=config), every=1.0, status=False)
    with right:
        live_panel(controls.JOB, functools.partial(views.curves_panel, config=config), every=1.0)
elif which == "replay":
    views.replay_view(config)
elif which == "compare":
    compare.race_view(config)
else:
    agent.agent_view(form, config)
share_note()
