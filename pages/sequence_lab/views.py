"""The sequence lab's views, drawn inside the live panel: training, gates, gradients and the unit explorer.

They read the job's ``sequences.View`` and ask the job thread for gate traces with ``job.inspect``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import PlaygroundError
from core.inspect.gates import GATES, SIGMOID_GATES, top_units_for_span
from core.jobs import JobSnapshot
from core.labs import sequences
from core.models.recurrent import CELLS
from core.viz.curves import thin, training_curves
from core.viz.sequences import (
    adding_figure,
    colored_text_html,
    forecast_figure,
    gate_heatmaps,
    gate_title,
    grad_flow_figure,
    grad_norm_steps,
    race_curves,
    span_units_figure,
    units_heatmap,
)
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import current_job, inspect_job

from .controls import JOB, STARTED

VIEWS = ("training", "gates", "gradients", "units")


def run_view(snap: JobSnapshot | None) -> sequences.View | None:
    view = snap.view if snap is not None else None
    return view if isinstance(view, sequences.View) else None


def run_config(config: sequences.Config) -> sequences.Config:
    """The settings the current run was started with (the page's when nothing runs)."""
    return st.session_state.get(STARTED, config) if current_job(JOB) is not None else config


@st.cache_data(show_spinner=False, max_entries=16)
def cached_init_grads(config: sequences.Config) -> dict[str, np.ndarray]:
    return sequences.init_grad_norms(config)


def remember_runs(snap: JobSnapshot | None, config: sequences.Config) -> None:
    """Keep the last run's gradient-norm history to overlay on the next run's chart."""
    if snap is None:
        return
    runs = st.session_state.setdefault("seq_runs", {})
    current = runs.get("current")
    if current is not None and current["id"] != snap.job_id:
        runs["previous"] = current
    runs["current"] = {"id": snap.job_id, "clip": config.clip_norm, "cells": config.cells,
                       "history": {k: v for k, v in snap.history.items() if k == "step" or k.startswith("grad_n")}}


# ----------------------------------------------------------------------------- training
def _curves(snap: JobSnapshot, view: sequences.View) -> None:
    facts = view.task
    snap = thin(snap, 400)  # a smooth, cheap curve however long the run
    baseline_label = t(facts.baseline_label)
    if len(view.cells) > 1:
        fig = race_curves(snap.history, snap.evals, view.cells, baseline=facts.baseline, baseline_label=baseline_label,
                          diverged=view.diverged_at, lang=lang())
    else:
        fig = training_curves(snap, metric="accuracy", metric_label=t("sequences.page.char_accuracy"),
                              log_loss=facts.task != "chars", lang=lang())
        fig.add_hline(y=facts.baseline, line={"color": "#777", "dash": "dash"}, row=1, col=1,
                      annotation_text=baseline_label, annotation_position="bottom right")
    chart(fig, key="seq_curves")


def _metrics(snap: JobSnapshot, view: sequences.View, per_row: int = 4) -> None:
    facts = view.task
    n = len(view.cells) + 1
    st.caption(t("sequences.page.val_losses"))
    cols = [c for _ in range(0, n, per_row) for c in st.columns(per_row)]
    cols[0].metric(t("sequences.page.baseline"), f"{facts.baseline:.3f}",
                   help=t("sequences.page.baseline_help", label=t(facts.baseline_label)))
    for col, cell in zip(cols[1:n], view.cells, strict=True):
        if cell in view.diverged:
            col.metric(cell, "∞", delta=t("sequences.page.diverged"), delta_color="off", delta_arrow="off",
                       help=show(view.diverged[cell]))
        else:
            val = snap.evals.get(f"val_loss/{cell}", [float("nan")])[-1]
            col.metric(cell, f"{val:.4f}", delta=f"{val - facts.baseline:+.3f}", delta_color="inverse",
                       help=t("sequences.page.val_loss_help", cell=cell))


def _samples(view: sequences.View) -> None:
    for col, cell in zip(st.columns(len(view.cells)), view.cells, strict=True):
        log = view.samples.get(cell) or ()
        if not log:
            continue
        last = log[-1]
        col.markdown(t("sequences.page.writes", cell=cell, step=last.step, temperature=last.temperature))
        col.code(last.text, language=None, wrap_lines=True)
        with col.expander(t("sequences.page.earlier", cell=cell)):
            for sample in reversed(log[:-1]):
                st.caption(t("sequences.page.sample_at", step=sample.step, temperature=sample.temperature))
                st.text(sample.text[:160])


def training_view(snap: JobSnapshot, view: sequences.View) -> None:
    facts = view.task
    if facts.task == "memory":
        left, right = st.columns(2)
        with left:
            _curves(snap, view)
            _metrics(snap, view)
        if view.predictions:
            chart(adding_figure(facts.y_true, view.predictions, lang=lang()), key="seq_adding", where=right)
    else:
        left, right = st.columns([3, 2])
        with left:
            _curves(snap, view)
        with right:
            _metrics(snap, view, per_row=2)
            if facts.task == "chars":
                st.caption(t("sequences.page.vocab", vocab=facts.vocab_size, chars=facts.text_length,
                             nats=facts.baseline, bits=facts.baseline / np.log(2))
                           + (t("sequences.page.truncated") if facts.truncated else ""))
        if facts.task == "forecast" and view.predictions:
            chart(forecast_figure(facts.series, facts.split, facts.origins, facts.horizon, view.predictions,
                                  mean=facts.mean, std=facts.std, lang=lang()), key="seq_forecast")
        elif facts.task == "chars":
            _samples(view)
    for message in view.diverged.values():
        st.warning(show(message), icon=":material/trending_up:")


# ----------------------------------------------------------------------------- gates
def _trace_controls(cfg: sequences.Config, key: str) -> tuple[str, int, int]:
    cells = list(cfg.cells)
    cols = st.columns(3)
    cell = cells[0] if len(cells) == 1 else cols[0].radio(
        t("sequences.page.cell"), cells, index=cells.index("LSTM") if "LSTM" in cells else 0, horizontal=True,
        key=f"{key}_cell")
    layer = cols[1].radio(t("sequences.page.layer"), range(cfg.num_layers), format_func=lambda k: f"{k + 1}",
                          horizontal=True, key=f"{key}_layer") if cfg.num_layers > 1 else 0
    direction = cols[2].radio(t("sequences.page.direction"), [0, 1], horizontal=True, key=f"{key}_dir",
                              format_func=lambda d: t(f"sequences.page.direction_{d}")) if cfg.bidirectional else 0
    return cell, layer, direction


def _probe(view: sequences.View, key: str) -> tuple[int, str]:
    if view.task.task == "chars":
        st.session_state.setdefault(key, view.task.text_start[:80])
        return 0, st.text_area(t("sequences.page.probe_text"), key=key, max_chars=sequences.MAX_PROBE_CHARS,
                               height=80, help=t("sequences.page.probe_text_help"))
    return st.slider(t("sequences.page.probe_example"), 0, view.task.n_val - 1, 0, key=key), ""


def gates_view(snap: JobSnapshot, view: sequences.View, cfg: sequences.Config) -> None:
    cell, layer, direction = _trace_controls(cfg, "seq_gates")
    example, text = _probe(view, "seq_gates_probe" if view.task.task == "chars" else "seq_gates_example")
    gates = inspect_job(JOB, sequences.gate_view, cell, example, text)
    if gates is None:
        return
    states = gates.states[layer][direction]
    names = st.multiselect(t("sequences.page.show"), GATES[cell], default=list(GATES[cell]),
                           format_func=lambda n: gate_title(n, lang()), key=f"seq_gates_names_{cell}") or ["h"]
    st.markdown(show(gates.caption))
    if cell == "RNN":
        st.caption(t("sequences.page.rnn_no_gates"))
    title = t("sequences.page.gates_title", cell=cell, layer=layer + 1, step=snap.step,
              backward=t("sequences.page.backward") if direction else "")
    chart(gate_heatmaps(states, names, x_labels=gates.x_labels, input_values=gates.input_values,
                        input_label=t(gates.input_label) if gates.input_label else "",
                        markers=gates.markers, title=title, lang=lang()), key="seq_gate_heatmaps")


# ----------------------------------------------------------------------------- gradients
def gradients_view(snap: JobSnapshot | None, view: sequences.View | None, cfg: sequences.Config) -> None:
    layer = st.radio(t("sequences.page.layer"), range(cfg.num_layers), index=cfg.num_layers - 1,
                     format_func=lambda k: f"{k + 1}", horizontal=True,
                     key="seq_grad_layer") if cfg.num_layers > 1 else 0
    try:
        init = cached_init_grads(cfg)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return
    ours = view.grad_init if view is not None else {}
    start = {c: (ours[c] if c in ours else init[c])[layer] for c in CELLS}
    now = {c: g[layer] for c, g in view.grad_now.items()} if view is not None else {}
    left, right = st.columns(2)
    with left:
        chart(grad_flow_figure(start, now, view.step if view is not None else 0, lang=lang(),
                               title=t("sequences.page.grad_flow_title", layer=layer + 1)), key="seq_grad_flow")
        if cfg.bidirectional:
            st.caption(t("sequences.page.grad_bidirectional"))
        rnn = init["RNN"][layer]
        st.caption(t("sequences.page.grad_ratio", ratio=rnn[0] / max(rnn[-1], 1e-300), scale=cfg.init_scale))
    with right:
        runs = st.session_state.get("seq_runs", {})
        previous, label = {}, ""
        if (prev := runs.get("previous")) and "step" in prev["history"]:
            label = (t("sequences.page.previous_clipped", value=prev["clip"]) if prev["clip"]
                     else t("sequences.page.previous_unclipped"))
            previous = {c: (prev["history"]["step"], prev["history"][f"grad_norm/{c}"]) for c in prev["cells"]
                        if f"grad_norm/{c}" in prev["history"]}
        if snap is not None and snap.history.get("step"):
            chart(grad_norm_steps(snap.history, cfg.cells, clip_norm=cfg.clip_norm, previous=previous,
                                  previous_label=label, lang=lang()), key="seq_grad_steps")
            notes = []
            if cfg.clip_norm:
                notes.append(t("sequences.page.clip_note", value=cfg.clip_norm))
            if view is not None:
                radius = ", ".join(f"{c} {r:.2f}" for c, r in view.spectral_radius.items())
                notes.append(t("sequences.page.radius", radius=radius))
            st.caption(" ".join(notes))
        else:
            st.info(t("sequences.page.grad_steps_empty"), icon=":material/insights:")


# ----------------------------------------------------------------------------- LSTMVis-style unit explorer
def units_view(view: sequences.View, cfg: sequences.Config) -> None:
    cell, layer, _ = _trace_controls(cfg, "seq_units")
    _, text = _probe(view, "seq_units_probe")
    gates = inspect_job(JOB, sequences.gate_view, cell, 0, text)
    if gates is None:
        return
    chars = gates.x_labels
    cols = st.columns([1, 2])
    quantity = cols[0].selectbox(t("sequences.page.quantity"), GATES[cell], index=len(GATES[cell]) - 1,
                                 format_func=lambda n: gate_title(n, lang()), key=f"seq_units_q_{cell}")
    span = cols[1].slider(t("sequences.page.span"), 0, len(chars), (0, min(len(chars), 10)), key="seq_units_span")
    if span[1] <= span[0]:
        st.info(t("sequences.page.span_empty"))
        return
    acts = gates.states[layer][0][quantity]
    top = top_units_for_span(acts, span[0], span[1], k=min(10, acts.shape[1]))
    ranked = [u for u, _ in top]
    order = ranked + [u for u in range(acts.shape[1]) if u not in set(ranked)]
    unit = st.selectbox(t("sequences.page.unit_pick"), order, key="seq_units_unit",
                        format_func=lambda u: t("sequences.viz.unit_n", n=u))
    symmetric = quantity not in SIGMOID_GATES
    scale = t("sequences.page.scale_signed" if symmetric else "sequences.page.scale_gate")
    st.markdown(t("sequences.page.unit_text", quantity=gate_title(quantity, lang()), unit=unit, cell=cell,
                  layer=layer + 1, scale=scale))
    st.html(colored_text_html(chars, acts[:, unit], span=span, symmetric=symmetric))
    left, right = st.columns([1, 2])
    chart(span_units_figure(top, lang=lang()), key="seq_units_top", where=left)
    chart(units_heatmap(acts, ranked, chars, span=span, symmetric=symmetric, lang=lang()), key="seq_units_map",
          where=right)
    st.caption(t("sequences.page.span_caption", span=repr("".join(chars[span[0]:span[1]]))))


# ----------------------------------------------------------------------------- the panel
def render(snap: JobSnapshot | None, *, which: str, config: sequences.Config, changed: list) -> None:
    """One view of the current run (``which`` in ``VIEWS``)."""
    view = run_view(snap)
    cfg = run_config(config)
    remember_runs(snap, cfg)
    if which == "gradients":
        gradients_view(snap, view, cfg)
        return
    if view is None:
        if snap is None:
            st.info(t("sequences.page.press_train"), icon=":material/play_circle:")
        return
    if changed and snap.state.active:
        st.caption(t("sequences.page.changed", fields=", ".join(t(label) for label in changed)))
    if which == "training":
        training_view(snap, view)
    elif which == "gates":
        gates_view(snap, view, cfg)
    elif view.task.task == "chars":
        units_view(view, cfg)
    else:
        st.info(t("sequences.page.units_need_chars"))
