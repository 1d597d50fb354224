"""Training craft: the decisions around a model — optimizers on loss surfaces and on a real model, learning-rate
schedules and the range test, overfitting and its cures, polynomial degree and bias–variance, the data pipeline,
hyperparameter search with optuna, and the visitor's own CSV. The settings live in the URL."""

import streamlit as st

from pages.training_craft import common, fitting, pipeline, racing, search, table
from ui.i18n import t
from ui.lessons import lesson_panel
from ui.settings import share_note

SETTINGS = {"race": racing.race_settings, "optimizers": racing.optimizers_settings,
            "schedules": fitting.schedules_settings, "overfit": fitting.overfit_settings,
            "poly": fitting.poly_settings, "pipeline": pipeline.settings, "search": search.settings,
            "csv": table.settings}
LIVE = {"race": racing.race_live, "optimizers": racing.optimizers_live, "schedules": fitting.schedules_live,
        "overfit": fitting.overfit_live, "poly": fitting.poly_live, "pipeline": pipeline.live, "search": search.live,
        "csv": table.live}

head, how = st.columns([5, 1.3], vertical_alignment="bottom")
head.title(t("craft.page.title"))
with how.popover(t("craft.page.how_title"), icon=":material/school:", width="stretch"):
    st.markdown(t("craft.page.how"))
st.caption(t("craft.page.lede"))

form = common.form()
common.handle_resets(form)
form.warnings()
lesson_panel("craft", common.LessonForm(form), common.job_key(form.value("tab")))
tab = common.tab_picker(form)
st.markdown(t(f"craft.page.about_{tab}"))
common.preset_buttons(form, tab)
left, right = st.columns([1, 2.5], gap="large")
with left:
    SETTINGS[tab](form)
    if tab != "race":
        common.init_controls(form)
config = form.checked(form.config(experiment=common.EXPERIMENT[tab]))
with right:
    LIVE[tab](config.core())
share_note()
