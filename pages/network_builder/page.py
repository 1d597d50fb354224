"""Network builder: TensorFlow Playground on PyTorch — pick data, features and layers, press Play, watch
every neuron learn. The whole experiment lives in the URL, so the address can be shared."""

import streamlit as st

from core.errors import PlaygroundError
from core.jobs import JobSnapshot, JobState
from core.network_builder import BuilderConfig
from core.viz.curves import training_curves
from core.viz.planar import compare_runs, decision_surface, network_diagram, weight_legend
from ui import network_builder as nb
from ui.jobs import current_job, job_controls, live_panel

st.title("Network builder")
st.markdown(
    "A neural network learns to colour the plane **orange** or **blue**. Pick a data set and the features the "
    "network sees, add layers and neurons with **+ / −**, press **Play**, and watch every neuron (the small squares) "
    "and the output change as the weights (the lines) learn. It is a real PyTorch model training on this server, "
    "and the address bar always holds your whole experiment: copy it to share exactly what you see."
)

nb.ensure_state()
for warning in st.session_state.get("nb_url_warnings", []):
    st.warning(warning, icon=":material/link_off:")

with st.container(border=True):
    nb.preset_picker()
    nb.hyper_controls()
buttons = st.container()  # filled below, once the settings are known
data_col, net_col, out_col = st.columns([1.05, 2.8, 2.1], gap="medium")
with data_col:
    nb.data_controls()
with net_col:
    nb.feature_controls()
    nb.layer_editor()

try:
    config: BuilderConfig = nb.state_config()
    config.validate()
except PlaygroundError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()
st.session_state["nb_config"] = config
nb.sync_url(config)
nb.follow_settings(config)
with buttons:
    job_controls(nb.JOB, nb.new_job, play_label="Play")
data = nb.cached_data(nb.query_key(config))


def pick_view(snap: JobSnapshot | None):
    """The freshest picture of the network: the untrained preview, the job's latest snapshot, or — once
    paused or finished — one taken right now through ``job.inspect`` so it matches the step count."""
    if snap is None or snap.extra is None:
        return nb.cached_initial_view(nb.query_key(config))
    view = snap.extra
    if snap.state == JobState.RUNNING or view.step == snap.step:
        return view
    fresh = st.session_state.get("nb_fresh")
    if fresh is not None and fresh[0] == snap.job_id and fresh[1].step == snap.step:
        return fresh[1]
    job = current_job(nb.JOB)
    try:
        view = job.inspect(lambda trainer: trainer.snapshot(force=True), timeout=2)
    except (TimeoutError, RuntimeError):
        return view
    st.session_state["nb_fresh"] = (snap.job_id, view)
    return view


def run_config(snap: JobSnapshot | None) -> BuilderConfig:
    return st.session_state.get("nb_job_config", config) if snap is not None else config


def render_network(snap: JobSnapshot | None) -> None:
    view = pick_view(snap)
    st.plotly_chart(network_diagram(view, run_config(snap).activation), key="nb_diagram",
                    config={"displayModeBar": False})
    st.caption(weight_legend())


def render_output(snap: JobSnapshot | None) -> None:
    view = pick_view(snap)
    m = view.metrics
    if snap is None:
        st.caption("Untrained network (step 0), exactly as Play will start it.")
    top = st.columns(2)
    top[0].metric("Epoch", f"{snap.epoch:,.1f}" if snap else "0")
    top[1].metric("Step", f"{snap.step:,}" if snap else "0")
    losses = st.columns(2)
    losses[0].metric("Training loss", f"{m['train_loss']:.4f}")
    losses[1].metric("Test loss", f"{m['test_loss']:.4f}")
    if view.problem == "classification":
        accs = st.columns(2)
        accs[0].metric("Training accuracy", f"{m['train_accuracy']:.1%}")
        accs[1].metric("Test accuracy", f"{m['test_accuracy']:.1%}")
    test = (data.test_xy, data.test_y) if config.show_test else None
    st.plotly_chart(decision_surface(view, (data.train_xy, data.train_y), test, discretize=config.discretize,
                                     height=330, colorbar_on=False), key="nb_surface", config={"displayModeBar": False})
    scale = ("p(blue): orange 0 → grey 0.5 → blue 1" if view.problem == "classification"
             else "prediction: orange −1 → grey 0 → blue +1")
    st.caption(f"Colour: the network's answer over the whole plane ({scale}). Dots: the data — white rings "
               "training points, black rings test points.")


def render_history(snap: JobSnapshot | None) -> None:
    curves_col, compare_col = st.columns(2, gap="medium")
    with curves_col:
        st.markdown("**Loss curves** — train: mean over recent batches · test: whole test set each epoch")
        if snap is None:
            st.caption("The loss curves appear here as soon as training starts.")
        else:
            fig = training_curves(nb.thin(snap), height=260)
            fig.for_each_trace(lambda t: t.update(name="test") if t.name == "validation" else None)
            st.plotly_chart(fig, key="nb_curves")
    with compare_col:
        runs = nb.remember_run(snap, run_config(snap)) if snap is not None else nb.remember_run_list()
        st.markdown(f"**Compare** — test loss of your last {nb.MAX_RUNS} runs (newest thickest)")
        if runs:
            st.plotly_chart(compare_runs(runs), key="nb_compare")
        else:
            st.caption("Each run you train appears here, so you can compare settings side by side.")
    if snap is not None and snap.state == JobState.RUNNING:
        st.caption("Pause to download the model and the metrics.")
    else:
        nb.downloads(snap, pick_view(snap).state_dict if snap is not None else None, run_config(snap))


with net_col:
    nb.poll(render_network, every=0.5, notice=True)
with out_col:
    live_panel(nb.JOB, render_output, every=0.5)
nb.poll(render_history, every=1.5)
