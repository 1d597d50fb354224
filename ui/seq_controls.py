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


def _d(key: str, default):
    """The widget key, with its default put in the session state first (so presets can set it too)."""
    st.session_state.setdefault(key, default)
    return key


@st.cache_data(show_spinner=False)
def default_text() -> str:
    return zen_of_python()


def _task_settings(task: str) -> dict:
    if task == "forecast":
        series = st.selectbox("Series", SERIES_KINDS, format_func=SERIES_LABELS.get,
                              key=_d("seq_series", SERIES_KINDS[0]))
        st.caption(DATASETS.entry(series).description)
        window = st.slider("Window (steps the model reads)", 5, 150, key=_d("seq_window", 40))
        horizon = st.slider("Horizon (steps it predicts)", 1, 30, key=_d("seq_horizon", 10))
        return {"series": series, "window": window, "horizon": horizon}
    if task == "memory":
        st.caption(DATASETS.entry("adding_problem").description)
        seq_len = st.slider("Sequence length", 5, 200, step=5, key=_d("seq_len", 50),
                            help="A plain RNN learns this at length 10 and fails from about 20; LSTM and GRU "
                                 "still learn it at 50 and beyond.")
        return {"seq_len": seq_len}
    source = st.radio("Text", ["Zen of Python", "Paste your own"], horizontal=True,
                      key=_d("seq_text_source", "Zen of Python"))
    text = default_text()
    if source == "Paste your own":
        text = st.text_area("Your text (any language, e.g. Chinese)", height=150, key=_d("seq_text", ""),
                            max_chars=MAX_TEXT_CHARS, placeholder="Paste at least a few hundred characters…")
        if not text.strip():
            st.warning("Paste some text first (a few hundred characters or more); until then the Zen of Python "
                       "is used.", icon=":material/content_paste:")
            text = default_text()
    char_len = st.slider("Characters per training sequence", 16, 128, step=8, key=_d("seq_char_len", 64))
    prompt = st.text_input("Sampling prompt", key=_d("seq_prompt", ""), placeholder="default: the text's start",
                           help="Generated text continues from this prompt (characters the text never uses are "
                                "skipped).")
    return {"text": text, "char_seq_len": char_len, "prompt": prompt}


def seq_settings() -> tuple[SequenceConfig, float]:
    """Render the sidebar and return the run's config and the per-step delay in seconds."""
    with st.sidebar:
        st.subheader("Task")
        task = st.segmented_control("Task", TASKS, format_func=TASK_LABELS.get, key=_d("seq_task", "memory"),
                                    required=True, label_visibility="collapsed") or "memory"
        settings = _task_settings(task)
        defaults = TASK_DEFAULTS[task]
        st.subheader("Cell")
        mode = st.segmented_control("Mode", ["One cell", RACE], key=_d("seq_mode", "One cell"), required=True,
                                    label_visibility="collapsed") or "One cell"
        if mode == RACE:
            cells = CELLS
            st.caption("RNN, LSTM and GRU train side by side on exactly the same batches.")
        else:
            cells = (st.radio("Cell", CELLS, format_func=CELL_LABELS.get, horizontal=True, key=_d("seq_cell", "LSTM")),)
        hidden = st.select_slider("Hidden units", HIDDEN_CHOICES, key=_d(f"seq_hidden_{task}", defaults["hidden_size"]))
        layers = st.slider("Layers", 1, 3, key=_d("seq_layers", 1))
        dropout = st.slider("Dropout", 0.0, 0.5, step=0.05, key=_d("seq_dropout", 0.0),
                            help="Between stacked layers and before the readout, while training.")
        bidirectional = False
        if task == "forecast":
            bidirectional = st.toggle("Bidirectional", key=_d("seq_bidir", False),
                                      help="A second cell reads the window backwards; both read only the past.")
        init_scale = st.slider("Recurrent weight scale", 0.25, 6.0, step=0.25, key=_d("seq_init_scale", 1.0),
                               help="Multiplies PyTorch's initial recurrent weights. Around 3 a vanilla RNN's "
                                    "gradients explode; at 1 they vanish over long sequences.")
        st.subheader("Optimisation")
        optimizer = st.selectbox("Optimizer", list(OPTIMIZERS), key=_d("seq_optimizer", "Adam"))
        lr = st.select_slider("Learning rate", LR_CHOICES, key=_d(f"seq_lr_{task}", defaults["lr"]))
        clip_on = st.toggle("Gradient clipping", key=_d("seq_clip_on", False),
                            help="Rescale the gradient whenever its global norm exceeds max-norm.")
        clip = st.number_input("Max-norm", 0.01, 1000.0, key=_d("seq_clip", 1.0), disabled=not clip_on)
        batch = st.select_slider("Batch size", BATCH_CHOICES, key=_d(f"seq_batch_{task}", defaults["batch_size"]))
        steps = st.number_input("Steps", 50, 100_000, step=250, key=_d(f"seq_steps_{task}", defaults["steps"]))
        delay = st.slider("Slow motion (s per step)", 0.0, 0.2, step=0.01, key=_d("seq_delay", 0.0))
    config = SequenceConfig(task=task, cells=tuple(cells), hidden_size=int(hidden), num_layers=int(layers),
                            dropout=float(dropout), bidirectional=bool(bidirectional), init_scale=float(init_scale),
                            optimizer=optimizer, lr=float(lr), clip_norm=float(clip) if clip_on else None,
                            batch_size=int(batch), steps=int(steps), **settings)
    return config, float(delay)


PRESETS: dict[str, dict] = {
    "Vanishing gradients": {"seq_task": "memory", "seq_mode": RACE, "seq_len": 50, "seq_init_scale": 1.0,
                            "seq_optimizer": "Adam", "seq_lr_memory": 0.02, "seq_clip_on": False,
                            "seq_layers": 1, "seq_hidden_memory": 32},
    "Exploding gradients": {"seq_task": "memory", "seq_mode": RACE, "seq_len": 50, "seq_init_scale": 3.0,
                            "seq_optimizer": "SGD", "seq_lr_memory": 0.1, "seq_clip_on": False,
                            "seq_layers": 1, "seq_hidden_memory": 32},
    "… tamed by clipping": {"seq_task": "memory", "seq_mode": RACE, "seq_len": 50, "seq_init_scale": 3.0,
                            "seq_optimizer": "SGD", "seq_lr_memory": 0.1, "seq_clip_on": True, "seq_clip": 1.0,
                            "seq_layers": 1, "seq_hidden_memory": 32},
}
PRESET_HELP = {
    "Vanishing gradients": "Adding problem, length 50, all three cells: the RNN stays at the baseline, the gated "
                           "cells break through (GRU first).",
    "Exploding gradients": "Recurrent weights ×3 and plain SGD (lr 0.1): the RNN's gradient norm shoots past 10⁶ "
                           "and it diverges within a few dozen steps.",
    "… tamed by clipping": "The same, with the gradient clipped to norm 1: the RNN keeps training. Compare with "
                           "the previous run in the Gradients view.",
}


def _apply(preset: str) -> None:
    st.session_state.update(PRESETS[preset])


def preset_buttons() -> None:
    """One-click experiments that set the sidebar controls (then press Start race)."""
    cols = st.columns([1.2, 2, 2, 2])
    cols[0].markdown("**Try an experiment:**")
    for col, name in zip(cols[1:], PRESETS, strict=True):
        col.button(name, key=f"seq_preset_{name}", on_click=_apply, args=(name,), help=PRESET_HELP[name],
                   width="stretch", icon=":material/science:")
