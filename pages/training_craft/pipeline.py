"""The data pipeline: the split, raw against standardized inputs trained side by side, k-fold cross-validation."""

from __future__ import annotations

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot
from core.labs import craft
from core.viz.craft import feature_scales_figure, kfold_figure, side_by_side_figure, split_figure
from core.viz.curves import thin
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import live_panel
from ui.settings import Form

from . import common

KFOLD = "craft_kfold"  # (config, KFoldView) of the last cross-validation


def settings(f: Form) -> None:
    cols = st.columns(2)
    f.slider("val_pct", where=cols[0], step=5)
    f.slider("test_pct", where=cols[1], step=5)
    common.optimizer_select(f)
    common.rate_select(f)
    cols = st.columns(2)
    f.slider("epochs", where=cols[0], max_value=common.most(f, "epochs", 300))
    f.select_slider("batch_size", where=cols[1], options=common.with_value(f, "batch_size", (8, 16, 32, 64)))
    cols = st.columns(2)
    f.slider("width", where=cols[0])
    f.slider("depth", where=cols[1])
    f.slider("folds")


@st.cache_data(show_spinner=False, max_entries=16)
def cached_view(config: craft.Config) -> craft.PipelineView:
    return craft.pipeline_view(config)


def live(config: craft.Config) -> None:
    view = cached_view(config)
    chart(feature_scales_figure(view, lang=lang()), key="craft_scales")
    chart(split_figure(view, lang=lang()), key="craft_split")
    st.markdown(t("craft.page.pipeline_run"))
    common.controls("pipeline", config)
    live_panel(common.job_key("pipeline"), _curves, every=1.0)
    st.divider()
    st.subheader(t("craft.page.kfold_title"), anchor=False)
    st.caption(t("craft.page.kfold_lede", folds=config.folds))
    if st.button(t("craft.page.run_kfold", folds=config.folds), key="craft_run_kfold", icon=":material/view_week:"):
        try:
            with st.spinner(t("craft.page.kfold_running", models=config.folds + 1)):
                st.session_state[KFOLD] = (config, craft.kfold(config))
        except PlaygroundError as exc:
            st.error(show(exc), icon=":material/error:")
    done = st.session_state.get(KFOLD)
    if done is not None:
        if done[0] != config:
            st.caption(t("craft.page.kfold_stale"))
        chart(kfold_figure(done[1], lang=lang()), key="craft_kfold_fig")


def _curves(snap: JobSnapshot | None) -> None:
    view = common.view_of(snap, craft.SideBySideView)
    if view is None:
        st.caption(t("craft.page.press_train"))
        return
    chart(side_by_side_figure(view, thin(snap, 400).history, lang=lang(), table="pipeline"),
          key="craft_pipeline_curves")
    if view.val_accuracy.shape[1]:
        cols = st.columns(2)
        for k, name in enumerate(view.names):
            cols[k].metric(t(f"craft.pipeline.{name}"), f"{view.val_accuracy[k, -1]:.1%}",
                           help=t("craft.page.val_accuracy_help"))
