"""Sidebar settings of the sequence lab: task, cells (one or a race of three), model and optimisation."""

from __future__ import annotations

import streamlit as st

from core.data.sequences import DATASETS, MAX_TEXT_CHARS, SERIES_KINDS, zen_of_python
from core.models.recurrent import CELL_LABELS, CELLS
from core.sequence_lab import TASK_DEFAULTS, TASK_LABELS, TASKS, SequenceConfig
from core.training import OPTIMIZERS

SERIES_LABELS = {"sum_of_sines": "Sum of sines", "damped_oscillation": "Damped oscillation (kicked)",
                 "seasonal_random_walk": "Random walk + season"}
LR_CHOICES = [0.0003, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3, 1.0]
HIDDEN_CHOICES = [4, 8, 16, 32, 64, 128, 256]
BATCH_CHOICES = [8, 16, 32, 64, 128, 256]
RACE = "Race all three"


@st.cache_data(show_spinner=False)
def default_text() -> str:
    return zen_of_python()


def _task_settings(task: str) -> dict:
    if task == "forecast":
        series = st.selectbox("Series", SERIES_KINDS, format_func=SERIES_LABELS.get, key="seq_series",
                              help=DATASETS.entry("sum_of_sines").description)
        st.caption(DATASETS.entry(series).description)
        window = st.slider("Window (steps the model reads)", 5, 150, 40, key="seq_window")
        horizon = st.slider("Horizon (steps it predicts)", 1, 30, 10, key="seq_horizon")
        return {"series": series, "window": window, "horizon": horizon}
    if task == "memory":
        st.caption(DATASETS.entry("adding_problem").description)
        seq_len = st.slider("Sequence length", 5, 200, 50, step=5, key="seq_len",
                            help="A plain RNN learns this at length 10 and fails from about 20; LSTM and GRU "
                                 "still learn it at 50 and beyond.")
        return {"seq_len": seq_len}
    source = st.radio("Text", ["Zen of Python", "Paste your own"], horizontal=True, key="seq_text_source")
    text = default_text()
    if source == "Paste your own":
        text = st.text_area("Your text (any language, e.g. Chinese)", value="", height=150, key="seq_text",
                            max_chars=MAX_TEXT_CHARS, placeholder="Paste at least a few hundred characters…")
    char_len = st.slider("Characters per training sequence", 16, 128, 64, step=8, key="seq_char_len")
    prompt = st.text_input("Sampling prompt", value="", key="seq_prompt", placeholder="default: the text's start",
                           help="Generated text continues from this prompt (characters the text never uses are "
                                "skipped).")
    return {"text": text, "char_seq_len": char_len, "prompt": prompt}


def seq_settings() -> tuple[SequenceConfig, float]:
    """Render the sidebar and return the run's config and the per-step delay in seconds."""
    with st.sidebar:
        st.subheader("Task")
        task = st.segmented_control("Task", TASKS, format_func=TASK_LABELS.get, default="memory", key="seq_task",
                                    label_visibility="collapsed") or "memory"
        settings = _task_settings(task)
        defaults = TASK_DEFAULTS[task]
        st.subheader("Cell")
        mode = st.segmented_control("Mode", ["One cell", RACE], default="One cell", key="seq_mode",
                                    label_visibility="collapsed") or "One cell"
        if mode == RACE:
            cells = CELLS
            st.caption("RNN, LSTM and GRU train side by side on exactly the same batches.")
        else:
            cells = (st.radio("Cell", CELLS, index=1, format_func=CELL_LABELS.get, horizontal=True, key="seq_cell"),)
        hidden = st.select_slider("Hidden units", HIDDEN_CHOICES, value=defaults["hidden_size"],
                                  key=f"seq_hidden_{task}")
        layers = st.slider("Layers", 1, 3, 1, key="seq_layers")
        dropout = st.slider("Dropout", 0.0, 0.5, 0.0, step=0.05, key="seq_dropout",
                            help="Between stacked layers and before the readout, while training.")
        bidirectional = False
        if task == "forecast":
            bidirectional = st.toggle("Bidirectional", key="seq_bidir",
                                      help="A second cell reads the window backwards; both read only the past.")
        init_scale = st.slider("Recurrent weight scale", 0.25, 6.0, 1.0, step=0.25, key="seq_init_scale",
                               help="Multiplies PyTorch's initial recurrent weights. Around 3 a vanilla RNN's "
                                    "gradients explode; at 1 they vanish over long sequences.")
        st.subheader("Optimisation")
        optimizer = st.selectbox("Optimizer", list(OPTIMIZERS), index=list(OPTIMIZERS).index("Adam"),
                                 key="seq_optimizer")
        lr = st.select_slider("Learning rate", LR_CHOICES, value=defaults["lr"], key=f"seq_lr_{task}")
        clip_on = st.toggle("Gradient clipping", value=False, key="seq_clip_on",
                            help="Rescale the gradient whenever its global norm exceeds max-norm.")
        clip = st.number_input("Max-norm", 0.01, 1000.0, 1.0, key="seq_clip", disabled=not clip_on)
        batch = st.select_slider("Batch size", BATCH_CHOICES, value=defaults["batch_size"], key=f"seq_batch_{task}")
        steps = st.number_input("Steps", 50, 100_000, defaults["steps"], step=250, key=f"seq_steps_{task}")
        delay = st.slider("Slow motion (s per step)", 0.0, 0.2, 0.0, step=0.01, key="seq_delay")
    config = SequenceConfig(task=task, cells=tuple(cells), hidden_size=int(hidden), num_layers=int(layers),
                            dropout=float(dropout), bidirectional=bool(bidirectional), init_scale=float(init_scale),
                            optimizer=optimizer, lr=float(lr), clip_norm=float(clip) if clip_on else None,
                            batch_size=int(batch), steps=int(steps), **settings)
    return config, float(delay)
