"""Streamlit pieces of the network-builder page: settings widgets bound to a ``BuilderConfig``, the
URL (``st.query_params``) kept in step with them, the +/− layer editor, the compare strip's memory and
the downloads."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import replace

import numpy as np
import streamlit as st
import torch

from core.data.planar import FEATURES, feature_label, planar_names
from core.jobs import JobSnapshot, JobState, TrainingJob
from core.models.mlp import ACTIVATIONS, MAX_LAYERS, MAX_NEURONS
from core.network_builder import (
    LEARNING_RATES,
    OPTIMIZER_NAMES,
    PRESETS,
    PROBLEMS,
    REG_RATES,
    REGULARIZATIONS,
    SPEEDS,
    BuilderConfig,
    Watch,
    initial_view,
    make_data,
)
from core.network_builder import make_job as core_make_job

from .jobs import current_job, reset_job

JOB = "nb_job"
DATASET_LABELS = {"circle": "Circle", "xor": "XOR", "gauss": "Gaussians", "spiral": "Spiral", "moons": "Moons",
                  "plane": "Plane", "multigauss": "Bumps"}
# widget key for each config field; "hidden" is kept as a plain list (edited by the +/− buttons)
KEYS = {"problem": "nb_problem", "dataset": "nb_dataset", "noise": "nb_noise", "train_pct": "nb_train_pct",
        "batch_size": "nb_batch", "seed": "nb_seed", "features": "nb_features", "hidden": "nb_hidden",
        "activation": "nb_activation", "lr": "nb_lr", "optimizer": "nb_optimizer", "regularization": "nb_reg",
        "reg_rate": "nb_reg_rate", "dropout": "nb_dropout", "show_test": "nb_show_test",
        "discretize": "nb_discretize"}
MAX_RUNS = 5


# ---------------------------------------------------------------------------------------------- state
def apply_config(config: BuilderConfig) -> None:
    """Put every value of ``config`` into the widgets' session state."""
    for name, key in KEYS.items():
        value = getattr(config, name)
        st.session_state[key] = list(value) if isinstance(value, tuple) else value


def state_config() -> BuilderConfig:
    """The config the widgets currently show."""
    s = st.session_state
    values = {name: s[key] for name, key in KEYS.items()}
    values["features"] = tuple(f for f in FEATURES if f in (values["features"] or []))
    values["hidden"] = tuple(values["hidden"])
    return BuilderConfig(**values)


def ensure_state() -> None:
    """Fill the widgets' state: from the URL on a session's first visit (remembering what had to be
    fixed), else from the last settings (Streamlit forgets widget state while another page is shown)."""
    if "nb_config" not in st.session_state:
        config, warnings = BuilderConfig.from_query(st.query_params.to_dict())
        st.session_state["nb_url_warnings"] = warnings
        st.session_state["nb_config"] = config
    config = st.session_state["nb_config"]
    for name, key in KEYS.items():
        if key not in st.session_state:
            value = getattr(config, name)
            st.session_state[key] = list(value) if isinstance(value, tuple) else value
    st.session_state.setdefault("nb_speed", "fastest")


def sync_url(config: BuilderConfig) -> None:
    """Write ``config`` into the address bar (only what changed), so the URL can be shared."""
    wanted = config.to_query()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def follow_settings(config: BuilderConfig) -> None:
    """Keep the running job in step: a structural change rebuilds the network (as TF Playground does);
    learning rate and regularization rate are applied to the running model between two steps."""
    job, job_config = current_job(JOB), st.session_state.get("nb_job_config")
    if job is None or job_config is None:
        return
    if job_config.structure() != config.structure():
        reset_job(JOB)
        st.session_state.pop("nb_job_config", None)
        st.toast("Settings changed: the network was rebuilt. Press Play to train it.", icon=":material/refresh:")
    elif (job_config.lr, job_config.reg_rate) != (config.lr, config.reg_rate):
        if job.state.active:
            job.inspect(lambda trainer: trainer.set_live(config.lr, config.reg_rate), timeout=5)
        st.session_state["nb_job_config"] = config


def new_job() -> TrainingJob:
    """``make_job`` for ``job_controls``: a job from the widgets' current values."""
    config = state_config()
    watch = Watch()
    job = core_make_job(config, speed=st.session_state.get("nb_speed", "fastest"), watch=watch)
    st.session_state["nb_job_config"] = config
    st.session_state["nb_watch"] = watch
    st.session_state["nb_fresh"] = None
    return job


@st.cache_data(max_entries=32, show_spinner=False)
def cached_data(query: tuple):
    return make_data(BuilderConfig.from_query(dict(query))[0])


@st.cache_data(max_entries=32, show_spinner=False)
def cached_initial_view(query: tuple):
    return initial_view(BuilderConfig.from_query(dict(query))[0])


def query_key(config: BuilderConfig) -> tuple:
    return tuple(sorted(config.to_query().items()))


# ---------------------------------------------------------------------------------------------- widgets
def _apply_preset() -> None:
    name = st.session_state.get("nb_preset")
    if name in PRESETS:
        apply_config(PRESETS[name])


def _problem_changed() -> None:
    names = planar_names(st.session_state["nb_problem"])
    if st.session_state["nb_dataset"] not in names:
        st.session_state["nb_dataset"] = names[0]


def _regenerate() -> None:
    st.session_state["nb_seed"] = random.randint(0, 999_999)


def _set_speed() -> None:
    job = current_job(JOB)
    if job is not None:
        job.step_delay_s = SPEEDS[st.session_state["nb_speed"]]


def preset_picker() -> None:
    st.selectbox("Start from a preset", list(PRESETS), index=None, key="nb_preset", on_change=_apply_preset,
                 placeholder="Choose a preset…", help="Loads a complete experiment; you can change anything after.")


def data_controls() -> None:
    st.markdown("**Data**")
    st.pills("Problem type", PROBLEMS, key="nb_problem", on_change=_problem_changed, format_func=str.capitalize,
             required=True, wrap=True)
    st.pills("Which data set?", planar_names(st.session_state["nb_problem"]), key="nb_dataset",
             format_func=DATASET_LABELS.get, required=True, wrap=True)
    st.slider("Ratio of training to test data (%)", 10, 90, step=10, key="nb_train_pct")
    st.slider("Noise (%)", 0, 50, step=5, key="nb_noise")
    st.slider("Batch size", 1, 64, key="nb_batch")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.number_input("Seed", 0, 999_999, step=1, key="nb_seed", help="Same seed = same data and same initial weights.")
    c2.button("", icon=":material/casino:", on_click=_regenerate, key="nb_regen",
              help="Regenerate: new random data and initial weights", width="stretch")
    view_controls()


def hyper_controls() -> None:
    cols = st.columns(6)
    cols[0].select_slider("Learning rate", LEARNING_RATES, key="nb_lr", format_func=lambda v: f"{v:g}",
                          help="Applies immediately, even while training.")
    cols[1].selectbox("Activation", list(ACTIVATIONS), key="nb_activation")
    cols[2].selectbox("Optimizer", OPTIMIZER_NAMES, key="nb_optimizer",
                      help="Momentum is SGD with momentum 0.9.")
    cols[3].selectbox("Regularization", REGULARIZATIONS, key="nb_reg",
                      help="Penalty on the weights (not the biases): L1 = rate·Σ|w|, L2 = rate·½Σw².")
    cols[4].select_slider("Regularization rate", REG_RATES, key="nb_reg_rate", format_func=lambda v: f"{v:g}",
                          disabled=st.session_state["nb_reg"] == "none", help="Applies immediately.")
    cols[5].slider("Dropout", 0.0, 0.5, step=0.05, key="nb_dropout",
                   help="Share of hidden outputs zeroed at random while training (never when drawing).")


def feature_controls() -> None:
    st.pills("Input features", list(FEATURES), selection_mode="multi", key="nb_features", format_func=feature_label,
             wrap=True,
             help="Which functions of the point (x₁, x₂) the network sees. Hand-made features make hard sets easy.")


def _layers(delta: int) -> None:
    hidden = st.session_state["nb_hidden"]
    if delta > 0 and len(hidden) < MAX_LAYERS:
        st.session_state["nb_hidden"] = [*hidden, hidden[-1] if hidden else 4]
    elif delta < 0 and hidden:
        st.session_state["nb_hidden"] = hidden[:-1]


def _neurons(layer: int, delta: int) -> None:
    hidden = list(st.session_state["nb_hidden"])
    hidden[layer] = min(MAX_NEURONS, max(1, hidden[layer] + delta))
    st.session_state["nb_hidden"] = hidden


def _pm(key: str, what: str, on_click, args: tuple, can_add: bool, can_remove: bool) -> None:
    with st.container(horizontal=True, gap="small", horizontal_alignment="center"):
        st.button("", icon=":material/add:", key=f"{key}_add", on_click=on_click, args=(*args, 1),
                  disabled=not can_add, help=f"Add {what}", type="tertiary")
        st.button("", icon=":material/remove:", key=f"{key}_del", on_click=on_click, args=(*args, -1),
                  disabled=not can_remove, help=f"Remove {what}", type="tertiary")


def layer_editor() -> None:
    """TF-Playground-style +/− buttons, each above its layer of the network diagram drawn below."""
    hidden = st.session_state["nb_hidden"]
    # column widths follow the diagram's geometry: inputs at x=0, layer c at x=3c, range −1.9 … 3(L+1)+0.8
    cols = st.columns([3.4] + [3.0] * len(hidden) + [2.3], gap=None, vertical_alignment="bottom")
    with cols[0]:
        st.markdown(f"<div style='text-align:center;font-size:0.85rem'><b>{len(hidden)}</b> hidden "
                    f"layer{'s' * (len(hidden) != 1)}</div>", unsafe_allow_html=True)
        _pm("nb_layer", "a hidden layer", _layers, (), len(hidden) < MAX_LAYERS, bool(hidden))
    for i, width in enumerate(hidden):
        with cols[i + 1]:
            _pm(f"nb_n{i}", f"a neuron to layer {i + 1}", _neurons, (i,), width < MAX_NEURONS, width > 1)
            st.markdown(f"<div style='text-align:center;font-size:0.85rem'>{width} neuron{'s' * (width != 1)}"
                        "</div>", unsafe_allow_html=True)
    if not hidden:
        cols[-1].caption("No hidden layer: the output is a linear function of the features.")


def view_controls() -> None:
    st.toggle("Show test data", key="nb_show_test")
    st.toggle("Discretize", key="nb_discretize", help="Colour the output by the predicted class only, not by its "
              "probability.")
    st.pills("Speed", list(SPEEDS), key="nb_speed", on_change=_set_speed, required=True, wrap=True,
             help="Slow training down to watch it step by step; applies immediately.")


def keep_watching(job, *, notice: bool) -> None:
    """Tell the run that its page is open (it pauses itself a minute after the page is left)."""
    watch = st.session_state.get("nb_watch")
    if watch is None or job is None:
        return
    watch.beat()
    if watch.idle_paused and job.state == JobState.RUNNING:
        watch.idle_paused = False
    elif notice and watch.idle_paused and job.state == JobState.PAUSED:
        st.info("Paused by itself because this page was not open for a minute. Press **Resume** to go on.",
                icon=":material/bedtime:")


def poll(render, *, every: float, notice: bool = False) -> None:
    """``render(snapshot or None)`` in a fragment that refreshes itself while the job is active."""
    job = current_job(JOB)

    @st.fragment(run_every=every if job is not None and job.state.active else None)
    def _panel() -> None:
        job = current_job(JOB)
        keep_watching(job, notice=notice)
        render(job.snapshot() if job is not None else None)

    _panel()


# ---------------------------------------------------------------------------------------------- runs
def remember_run(snap: JobSnapshot, config: BuilderConfig) -> list[dict]:
    """Keep the test-loss curve of this and the previous few runs for the compare strip."""
    runs: dict[int, dict] = st.session_state.setdefault("nb_runs", {})
    if snap.evals.get("step") and snap.step > 0:
        spe = config.steps_per_epoch
        runs[snap.job_id] = {"run": snap.job_id, "label": config.label(),
                             "epoch": [s / spe for s in snap.evals["step"]],
                             "test_loss": list(snap.evals.get("val_loss", [])),
                             "train_loss": list(snap.evals.get("train_loss", []))}
        for old in sorted(runs)[:-MAX_RUNS]:
            del runs[old]
    return [runs[k] for k in sorted(runs)]


def metrics_csv(snap: JobSnapshot) -> bytes:
    """Per-step history joined with the per-epoch evaluations, as CSV."""
    evals = {int(s): i for i, s in enumerate(snap.evals.get("step", []))}
    step_cols = [k for k in snap.history if k != "step"]
    eval_cols = [k for k in snap.evals if k != "step"]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["step", *step_cols, *eval_cols])
    for i, step in enumerate(snap.history.get("step", [])):
        row = [int(step), *(snap.history[k][i] for k in step_cols)]
        j = evals.get(int(step))
        row += [snap.evals[k][j] if j is not None else "" for k in eval_cols]
        writer.writerow(row)
    return buf.getvalue().encode()


def model_bytes(state_dict: dict, config: BuilderConfig) -> bytes:
    """``torch.save`` of the state_dict plus the config (plain types: loads with ``weights_only=True``)."""
    buf = io.BytesIO()
    torch.save({"state_dict": state_dict, "config": config.to_query()}, buf)
    return buf.getvalue()


def downloads(snap: JobSnapshot | None, state_dict: dict | None, config: BuilderConfig) -> None:
    cols = st.columns([1, 1, 2])
    if snap is None or state_dict is None:
        cols[0].caption("Train a model to download it.")
        return
    cols[0].download_button("Model (.pt)", model_bytes(state_dict, config), file_name="network_builder.pt",
                            mime="application/octet-stream", on_click="ignore", icon=":material/download:",
                            key="nb_dl_model", width="stretch")
    cols[1].download_button("Metrics (.csv)", metrics_csv(snap), file_name="network_builder_metrics.csv",
                            mime="text/csv", on_click="ignore", icon=":material/download:", key="nb_dl_csv",
                            width="stretch")
    cols[2].caption("Load the model with `torch.load(f, weights_only=True)`; `config` holds the settings, "
                    "`core.models.mlp.MLP(BuilderConfig.from_query(config)[0].spec)` rebuilds it.")


def remember_run_list() -> list[dict]:
    """The remembered runs, oldest first (nothing is training right now)."""
    runs = st.session_state.get("nb_runs", {})
    return [runs[k] for k in sorted(runs)]


def thin(snap: JobSnapshot, max_points: int = 300) -> JobSnapshot:
    """A copy of ``snap`` whose per-step history is averaged down to at most ``max_points`` rows,
    so the loss curve stays smooth and cheap to draw however long training runs."""
    n = len(snap.history.get("step", []))
    if n <= max_points:
        return snap
    size = -(-n // max_points)
    history = {}
    for key, values in snap.history.items():
        arr = np.asarray(values, dtype=float)
        cut = len(arr) - len(arr) % size
        head = arr[:cut].reshape(-1, size)
        col = head[:, -1] if key == "step" else np.nanmean(head, axis=1)
        if cut < len(arr):
            tail = arr[cut:]
            col = np.append(col, tail[-1] if key == "step" else np.nanmean(tail))
        history[key] = col.tolist()
    return replace(snap, history=history)
