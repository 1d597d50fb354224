"""The sequence lab's views, drawn inside the live panel: training, gates, gradients and the unit explorer.

They read the job's ``SequenceSnapshot`` and ask the job thread for gate traces with ``job.inspect``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import PlaygroundError
from core.inspect.gates import GATE_TITLES, GATES, SIGMOID_GATES, top_units_for_span
from core.jobs import JobSnapshot, TrainingJob
from core.models.recurrent import CELLS
from core.sequence_lab import SequenceConfig, SequenceSnapshot, gate_view, init_grad_norms
from core.viz.curves import training_curves
from core.viz.sequences import (
    adding_figure,
    colored_text_html,
    forecast_figure,
    gate_heatmaps,
    grad_flow_figure,
    grad_norm_steps,
    race_curves,
    span_units_figure,
    units_heatmap,
)

from .jobs import current_job

JOB_KEY = "seq_job"


def seq_extra(snap: JobSnapshot | None) -> SequenceSnapshot | None:
    extra = snap.view if snap is not None else None
    return extra if isinstance(extra, SequenceSnapshot) else None


def inspect_job(job: TrainingJob | None, fn):
    """``job.inspect(fn)`` with the failure shown as a message (None when it could not run)."""
    if job is None:
        return None
    try:
        return job.inspect(fn, timeout=10)
    except PlaygroundError as exc:
        st.warning(str(exc), icon=":material/info:")
    except (RuntimeError, TimeoutError) as exc:
        st.info(f"Not available yet: {exc}.", icon=":material/hourglass_top:")
    return None


@st.cache_data(show_spinner=False, max_entries=16)
def cached_init_grads(config: SequenceConfig) -> dict[str, np.ndarray]:
    return init_grad_norms(config)


def remember_runs(snap: JobSnapshot | None, config: SequenceConfig | None) -> None:
    """Keep the last finished run's gradient-norm history to overlay on the next run's chart."""
    if snap is None or config is None:
        return
    runs = st.session_state.setdefault("seq_runs", {})
    current = runs.get("current")
    if current is not None and current["id"] != snap.job_id:
        runs["previous"] = current
    clip = f"max-norm {config.clip_norm:g}" if config.clip_norm else "no clipping"
    runs["current"] = {"id": snap.job_id, "label": f"previous run ({clip})", "cells": config.cells,
                       "history": {k: v for k, v in snap.history.items() if k == "step" or k.startswith("grad_n")}}


# ----------------------------------------------------------------------------- training
def _on_temperature() -> None:
    job, value = current_job(JOB_KEY), st.session_state.get("seq_temperature", 0.8)
    if job is not None and job.trainer is not None:
        job.inspect(lambda trainer: setattr(trainer, "temperature", value), timeout=10)


def _curves(snap: JobSnapshot, extra: SequenceSnapshot) -> None:
    data = extra.data
    if len(extra.cells) > 1:
        fig = race_curves(snap.history, snap.evals, extra.cells, baseline=data.baseline,
                          baseline_label=data.baseline_label, diverged=extra.diverged_at)
    else:
        fig = training_curves(snap, metric="accuracy", metric_label="Next-character accuracy",
                              log_loss=data.task != "chars")
        fig.add_hline(y=data.baseline, line={"color": "#777", "dash": "dash"}, row=1, col=1,
                      annotation_text=data.baseline_label, annotation_position="bottom right")
    st.plotly_chart(fig, key="seq_curves")


def _metrics(snap: JobSnapshot, extra: SequenceSnapshot, per_row: int = 4) -> None:
    data = extra.data
    n = len(extra.cells) + 1
    cols = [c for _ in range(0, n, per_row) for c in st.columns(per_row)]
    cols[0].metric("baseline", f"{data.baseline:.3f}", help=f"Loss of the best memoryless answer: "
                   f"{data.baseline_label}.")
    for col, cell in zip(cols[1:n], extra.cells, strict=True):
        val = snap.evals.get(f"val_loss/{cell}", [float("nan")])[-1]
        if cell in extra.diverged:
            col.metric(f"{cell} val loss", "∞", delta="diverged", delta_color="off", delta_arrow="off",
                       help=extra.diverged[cell])
        else:
            col.metric(f"{cell} val loss", f"{val:.4f}", delta=f"{val - data.baseline:+.3f}", delta_color="inverse",
                       help="Validation loss; the small number is its difference to the baseline.")


def _samples(extra: SequenceSnapshot) -> None:
    cfg, data = extra.config, extra.data
    st.slider("Sampling temperature", 0.0, 2.0, cfg.temperature, step=0.1, key="seq_temperature",
              on_change=_on_temperature, help="0 = always the likeliest character; 1 = the model's own "
              "probabilities; above 1 = more surprising, more mistakes. Applies from the next sample on.")
    st.caption(f"Vocabulary **{len(data.corpus.vocab)}** characters · text **{len(data.corpus.text):,}** "
               f"characters · unigram entropy **{data.baseline:.3f}** nats ({data.baseline / np.log(2):.2f} bits) "
               "per character" + (" · text cut to its first 100,000 characters" if data.corpus.truncated else ""))


def training_view(snap: JobSnapshot, extra: SequenceSnapshot) -> None:
    data = extra.data
    if data.task == "memory":
        left, right = st.columns(2)
        with left:
            _curves(snap, extra)
            _metrics(snap, extra)
        if extra.predictions:
            right.plotly_chart(adding_figure(data.y_val.numpy(), extra.predictions), key="seq_adding")
    else:
        left, right = st.columns([3, 2])
        with left:
            _curves(snap, extra)
        with right:
            _metrics(snap, extra, per_row=2)
            if data.task == "chars":
                _samples(extra)
        if data.task == "forecast" and extra.predictions:
            fd = data.forecast
            st.plotly_chart(forecast_figure(fd.series, fd.split, fd.val_origins, fd.horizon, extra.predictions,
                                            mean=fd.mean, std=fd.std), key="seq_forecast")
        elif data.task == "chars":
            for col, cell in zip(st.columns(len(extra.cells)), extra.cells, strict=True):
                log = extra.samples.get(cell) or []
                if not log:
                    continue
                step, temp, text = log[-1]
                col.markdown(f"**{cell}** writes (step {step:,}, temperature {temp:g}):")
                col.code(text, language=None, wrap_lines=True)
                with col.expander(f"Earlier {cell} samples"):
                    for step, temp, text in reversed(log[:-1]):
                        st.caption(f"step {step:,} · temperature {temp:g}")
                        st.text(text[:160])
    for msg in extra.diverged.values():
        st.warning(msg, icon=":material/trending_up:")


# ----------------------------------------------------------------------------- gates
def _trace_controls(cfg: SequenceConfig, key: str, *, gated_only: bool = False) -> tuple[str, int, int]:
    cells = [c for c in cfg.cells if c != "RNN"] if gated_only else list(cfg.cells)
    cells = cells or list(cfg.cells)
    cols = st.columns(3)
    cell = cells[0] if len(cells) == 1 else cols[0].radio(
        "Cell", cells, index=cells.index("LSTM") if "LSTM" in cells else 0, horizontal=True, key=f"{key}_cell")
    layer = cols[1].radio("Layer", range(cfg.num_layers), format_func=lambda k: f"{k + 1}", horizontal=True,
                          key=f"{key}_layer") if cfg.num_layers > 1 else 0
    direction = cols[2].radio("Direction", [0, 1], format_func=["forward", "backward"].__getitem__,
                              horizontal=True, key=f"{key}_dir") if cfg.bidirectional else 0
    return cell, layer, direction


def _probe(cfg: SequenceConfig, extra: SequenceSnapshot, key: str) -> tuple[int, str]:
    if extra.data.task == "chars":
        default = extra.data.corpus.text[:80]
        return 0, st.text_area("Input text", value=default, key=key, max_chars=240, height=80,
                               help="Any text made of characters the model knows (others are skipped).")
    n = len(extra.data.x_val)
    return st.slider("Validation sequence", 0, n - 1, 0, key=key), ""


def gates_view(snap: JobSnapshot, extra: SequenceSnapshot) -> None:
    cfg = extra.config
    cell, layer, direction = _trace_controls(cfg, "seq_gates")
    example, text = _probe(cfg, extra, "seq_gates_probe" if extra.data.task == "chars" else "seq_gates_example")
    view = inspect_job(current_job(JOB_KEY), lambda tr: gate_view(tr, cell, example=example, text=text))
    if view is None:
        return
    states = view.states[layer][direction]
    names = st.multiselect("Show", GATES[cell], default=list(GATES[cell]), format_func=GATE_TITLES.get,
                           key=f"seq_gates_names_{cell}") or ["h"]
    st.markdown(view.caption)
    if cell == "RNN":
        st.caption("A vanilla RNN has no gates: all it has is its hidden state h, overwritten at every step.")
    title = f"{cell} · layer {layer + 1}{' · backward' if direction else ''} · step {snap.step:,}"
    st.plotly_chart(gate_heatmaps(states, names, x_labels=view.x_labels, input_values=view.input_values,
                                  input_label=view.input_label, markers=view.markers, title=title),
                    key="seq_gate_heatmaps")


# ----------------------------------------------------------------------------- gradients
def gradients_view(snap: JobSnapshot | None, extra: SequenceSnapshot | None, config: SequenceConfig) -> None:
    cfg = extra.config if extra is not None else config
    layer = st.radio("Layer", range(cfg.num_layers), index=cfg.num_layers - 1, format_func=lambda k: f"{k + 1}",
                     horizontal=True, key="seq_grad_layer") if cfg.num_layers > 1 else 0
    try:
        init = cached_init_grads(cfg)
    except PlaygroundError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    curves = {f"{c} · init": init[c][layer] for c in CELLS if extra is None or c not in extra.grad_init}
    if extra is not None:
        for cell in extra.cells:
            if cell in extra.grad_init:
                curves[f"{cell} · init"] = extra.grad_init[cell][layer]
            if cell in extra.grad_now:
                curves[f"{cell} · step {extra.step:,}"] = extra.grad_now[cell][layer]
    left, right = st.columns(2)
    with left:
        st.plotly_chart(grad_flow_figure(curves, title=f"Error signal reaching each step (layer {layer + 1})"),
                        key="seq_grad_flow")
        if cfg.bidirectional:
            st.caption("Bidirectional: the forward direction is shown (its error flows back from the last step).")
        rnn = init["RNN"][layer]
        st.caption(f"At initialisation the vanilla RNN's gradient at t = 1 is **{rnn[0] / max(rnn[-1], 1e-300):.1e}"
                   f"×** its gradient at the last step (recurrent weight scale {cfg.init_scale:g}). "
                   "Below 1: vanishing; above 1: exploding. Raise the scale to about 3 to see explosion.")
    with right:
        runs = st.session_state.get("seq_runs", {})
        previous, label = {}, ""
        if (prev := runs.get("previous")) and "step" in prev["history"]:
            label = prev["label"]
            previous = {c: (prev["history"]["step"], prev["history"][f"grad_norm/{c}"]) for c in prev["cells"]
                        if f"grad_norm/{c}" in prev["history"]}
        if snap is not None and snap.history.get("step"):
            st.plotly_chart(grad_norm_steps(snap.history, cfg.cells, clip_norm=cfg.clip_norm, previous=previous,
                                            previous_label=label), key="seq_grad_steps")
            notes = []
            if cfg.clip_norm:
                notes.append(f"Gradients above the dashed line are scaled down to norm {cfg.clip_norm:g} before "
                             "the update.")
            if extra is not None:
                radius = ", ".join(f"{c} {r:.2f}" for c, r in extra.spectral_radius.items())
                notes.append(f"Spectral radius of the first layer's recurrent (candidate) matrix now: {radius}.")
            st.caption(" ".join(notes))
        else:
            st.info("Train to see the global gradient norm per step; train again with clipping on to compare.",
                    icon=":material/insights:")


# ----------------------------------------------------------------------------- LSTMVis-style unit explorer
def units_view(snap: JobSnapshot, extra: SequenceSnapshot) -> None:
    cfg = extra.config
    cell, layer, _ = _trace_controls(cfg, "seq_units")
    _, text = _probe(cfg, extra, "seq_units_probe")
    view = inspect_job(current_job(JOB_KEY), lambda tr: gate_view(tr, cell, text=text))
    if view is None:
        return
    chars = view.x_labels
    cols = st.columns([1, 2])
    quantity = cols[0].selectbox("Quantity", GATES[cell], index=len(GATES[cell]) - 1, format_func=GATE_TITLES.get,
                                 key=f"seq_units_q_{cell}")
    span = cols[1].slider("Selected span (characters)", 0, len(chars), (0, min(len(chars), 10)), key="seq_units_span")
    if span[1] <= span[0]:
        st.info("Select a span of at least one character.")
        return
    acts = view.states[layer][0][quantity]
    top = top_units_for_span(acts, span[0], span[1], k=min(10, acts.shape[1]))
    ranked = [u for u, _ in top]
    order = ranked + [u for u in range(acts.shape[1]) if u not in set(ranked)]
    unit = st.selectbox("Hidden unit (sorted by how much it reacts to the span)", order, key="seq_units_unit",
                        format_func=lambda u: f"unit {u}")
    symmetric = quantity not in SIGMOID_GATES
    st.markdown(f"**{GATE_TITLES[quantity]} of unit {unit}** ({cell}, layer {layer + 1}) on the text — "
                + ("red > 0 > blue" if symmetric else "dark = closed (0), yellow = open (1)")
                + "; hover a character for its value; the outlined characters are the span.")
    st.html(colored_text_html(chars, acts[:, unit], span=span, symmetric=symmetric))
    left, right = st.columns([1, 2])
    left.plotly_chart(span_units_figure(top), key="seq_units_top")
    right.plotly_chart(units_heatmap(acts, ranked, chars, span=span, symmetric=symmetric), key="seq_units_map")
    st.caption(f"Span {''.join(chars[span[0]:span[1]])!r}: score = mean activation on the span − mean elsewhere.")
