"""Sequence lab: vanilla RNN, LSTM and GRU trained live on forecasting, long-memory and character tasks,
with every gate opened up and the gradient flowing back through time."""

from dataclasses import fields

import streamlit as st

from core.sequence_lab import make_job
from ui.jobs import current_job, job_controls, live_panel
from ui.seq_controls import preset_buttons, seq_settings
from ui.seq_views import JOB_KEY, gates_view, gradients_view, remember_runs, seq_extra, training_view, units_view

st.title("Sequence lab: RNN, LSTM and GRU")
st.markdown(
    "A recurrent network reads a sequence one step at a time and carries a hidden state forward. A **vanilla "
    "RNN** rewrites that state at every step, so the error signal from the end shrinks (or blows up) as it flows "
    "back through time — it cannot learn long-range dependencies. **LSTM** and **GRU** add gates that decide "
    "what to keep, what to forget and what to output. Race the three cells, then open every gate."
)

preset_buttons()
config, delay = seq_settings()


def _make_job():
    every = 50 if config.task == "chars" else 25
    return make_job(config, snapshot_every=every, eval_every=every, step_delay_s=delay)


job_controls(JOB_KEY, _make_job, lab="sequences", play_label="Train" if len(config.cells) == 1 else "Start race")

views = ["Training", "Gates", "Gradients"] + (["Unit explorer"] if config.task == "chars" else [])
view = st.segmented_control("View", views, default="Training", key="seq_view", label_visibility="collapsed",
                            required=True)
view = view if view in views else "Training"
hints = {
    "Training": "Loss of each cell on the same batches; the dashed line is the best a model without memory can do.",
    "Gates": "Gate activations over time for one input (units × time steps), recomputed from the live weights.",
    "Gradients": "‖∂L/∂h_t‖: how much of the final error reaches each earlier step, at initialisation and now.",
    "Unit explorer": "LSTMVis-style: colour the text by one hidden unit and find the units that fire on a span.",
}
st.caption(hints[view])


def render(snap) -> None:
    extra = seq_extra(snap)
    remember_runs(snap, extra.config if extra is not None else None)
    if view == "Gradients":
        gradients_view(snap, extra, config)
        return
    if extra is None:
        if snap is None:
            st.info("Press **Train** (or **Start race**) to train the model; the charts update while it learns.",
                    icon=":material/play_circle:")
        return
    job = current_job(JOB_KEY)
    changed = [f.name.replace("_", " ") for f in fields(config)
               if getattr(config, f.name) != getattr(extra.config, f.name)]
    if job is not None and changed and job.state.active:
        st.caption(f"Changed since this run started: {', '.join(changed)}. Press Reset, then Train to use them.")
    if view == "Training":
        training_view(snap, extra)
    elif view == "Gates":
        gates_view(snap, extra)
    elif view == "Unit explorer" and extra.data.task == "chars":
        units_view(snap, extra)
    else:
        st.info("The unit explorer needs a character-model run: train on the Characters task.")


live_panel(JOB_KEY, render, every=1.0)
