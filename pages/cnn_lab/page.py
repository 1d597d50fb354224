"""CNN lab: build a convolutional network, train it live, watch its filters form, follow a picture through
its feature maps, evaluate it and test it on your own drawing."""

import streamlit as st

from core.errors import ConfigError, DataError
from core.jobs import JobSnapshot
from core.vision import make_cnn_job
from core.viz.curves import training_curves
from ui.cnn_data import data_section
from ui.cnn_inspect import Trained, draw_view, evaluation_view, feature_maps_view, filters_panel, initial_filters
from ui.cnn_model import model_section, train_settings
from ui.jobs import current_job, job_controls, live_panel

JOB = "cnn_job"

st.title("CNN lab")
st.markdown(
    "A convolutional network slides small **filters** (kernels) over a picture; each filter lights up where its "
    "pattern appears, giving one **feature map** per filter. Pooling shrinks the maps, deeper layers combine "
    "simple patterns into shapes, and fully connected layers turn them into class probabilities. Build one "
    "below, train it, and watch the filters form from random noise — this is *your* network, not a pretrained one."
)

with st.container(border=True):
    st.subheader("1 · Pictures", anchor=False)
    dataset, augment = data_section()

if dataset is None:
    st.info("Choose or upload pictures to build a network for them.", icon=":material/image:")
    st.stop()

with st.container(border=True):
    st.subheader("2 · Network", anchor=False)
    config = model_section(dataset)

with st.container(border=True):
    st.subheader("3 · Train", anchor=False)
    settings, delay, seed = train_settings(augment, st.session_state.get("cnn_preset", ""))

    def make_job():
        if config is None:
            raise ConfigError("Fix the network above first (see the red message).")
        if dataset.num_classes < 2:
            raise DataError("The pictures need at least two classes.")
        job = make_cnn_job(dataset, config, settings, seed=seed, step_delay_s=delay, name=f"CNN · {config.name}")
        st.session_state["cnn_trained"] = Trained(dataset, config.with_data(dataset.channels, dataset.size,
                                                                            dataset.num_classes))
        return job

    job_controls(JOB, make_job, lab="vision")

    def render(snap: JobSnapshot | None) -> None:
        left, right = st.columns([3, 2])
        with left:
            if snap is None:
                st.caption("Press **Train** to start; the curves, the progress bar and the filters update live. "
                           "**Step** takes one optimisation step at a time.")
            elif snap.latest:
                cols = st.columns(3)
                cols[0].metric("Train accuracy (batch)", f"{snap.latest.get('accuracy', 0):.1%}")
                if "val_accuracy" in snap.latest:
                    cols[1].metric("Validation accuracy", f"{snap.latest['val_accuracy']:.1%}")
                cols[2].metric("Learning rate", f"{snap.latest.get('lr', settings.lr):.2g}")
            st.plotly_chart(training_curves(snap), width="stretch", key="cnn_curves")
        with right:
            extra = snap.view if snap is not None else None
            if extra and extra.get("filters") is not None:
                filters_panel(extra["filters"], snap.view_step)
            elif config is not None:
                filters_panel(initial_filters(config, seed), None)

    live_panel(JOB, render, every=0.75)

job = current_job(JOB)
trained: Trained | None = st.session_state.get("cnn_trained")
with st.container(border=True):
    st.subheader("4 · Look inside", anchor=False)
    if job is None or trained is None:
        st.info("Train a network (or take a few **Steps**) to see its feature maps, its test results and to test "
                "it on your own drawing.", icon=":material/visibility:")
        st.stop()
    if trained.dataset.description != dataset.description or trained.config != config:
        st.caption(f"Showing the network you trained last ({trained.config.name} on {trained.dataset.name}); "
                   "press **Train** again to use the settings above.")
    tabs = st.tabs([":material/layers: Feature maps", ":material/grid_view: Evaluation",
                    ":material/draw: Draw to test"], key="cnn_tabs", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            feature_maps_view(job, trained)
    if tabs[1].open:
        with tabs[1]:
            evaluation_view(job, trained)
    if tabs[2].open:
        with tabs[2]:
            draw_view(job, trained)
