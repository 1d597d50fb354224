"""The attention lab's live views: every head's attention (the mask, the weights, the scores before the softmax,
what each head looks at), the training race, what the tokens become (positional encodings, the embedding plane),
and the language models' own views (fill in the blanks, the next-character distribution and generation).

They draw the job's ``attention.View`` and ask the job for the rest with ``job.inspect`` (module-level functions
of the lab, so the job may run in another process).
"""

from __future__ import annotations

import functools
import html
import math

import numpy as np
import streamlit as st

from core.data.tokens import BLANKS, find_blanks
from core.errors import PlaygroundError
from core.i18n import Term
from core.jobs import JobSnapshot, JobState
from core.labs import attention as A
from core.viz.attention import (
    answer_figure,
    attention_heatmaps,
    embedding_figure,
    fill_in_figure,
    mask_figure,
    next_token_figure,
    patterns_figure,
    positions_figure,
    race_figure,
)
from core.viz.curves import thin
from ui.display import chart, projector
from ui.i18n import lang, show, t
from ui.jobs import current_job, inspect_job, job_controls, status_line
from ui.live import live

from .controls import FAMILY, JOB, TWIN, new_twin_job, run_config

FRESH = "att_fresh"  # (job id, step, settings) → the view taken then, for a paused or finished run
GENERATED = "att_generated"
SHOWN_HEATMAPS = 8  # layers × heads drawn at once before the page asks which layers to show
LONG_INPUT = 12  # tokens beyond which the heatmaps get the whole width (and fewer of them at once)


def views_for(task: str) -> list[str]:
    """The views a task offers (``attention.page.view_<name>``)."""
    extra = {"masked_lm": ["fill", "compare"], "causal_lm": ["generate", "compare"]}.get(task, [])
    return ["attention", *extra, "training", "inside"]


@st.cache_data(max_entries=16, show_spinner=False)
def cached_initial_view(config: A.Config) -> A.View:
    return A.initial_view(config)


def pick_view(snap: JobSnapshot | None, config: A.Config) -> A.View:
    """The untrained model as Train will start it, the running job's latest view, or — paused or finished — one
    taken right now (so it shows the current input and step). Raises ``PlaygroundError`` for settings that
    cannot build a model."""
    cfg = run_config(config)
    if snap is None or snap.view is None:
        return cached_initial_view(cfg)
    if snap.state in (JobState.RUNNING, JobState.QUEUED):
        return snap.view
    key = (snap.job_id, snap.step, cfg)
    fresh = st.session_state.get(FRESH)
    if fresh is not None and fresh[0] == key:
        return fresh[1]
    try:
        view = current_job(JOB).inspect(A.current_view, timeout=5)
    except (TimeoutError, RuntimeError, AttributeError, PlaygroundError):
        return snap.view
    st.session_state[FRESH] = (key, view)
    return view


def baseline(config: A.Config) -> float:
    """The loss of a guess that ignores the context: log of the vocabulary, or the text's unigram entropy."""
    return math.log(config.digits) if config.digit_task else config.corpus().unigram_entropy()


# ----------------------------------------------------------------------------- attention
def _layers_shown(n_layers: int, n_heads: int, most: int) -> list[int]:
    """All layers when their ``n_heads`` maps each fit in ``most``, else the ones the visitor picks (the last one
    first)."""
    if n_layers * n_heads <= most or n_layers == 1:
        return list(range(n_layers))
    picked = st.pills(t("attention.page.layers_shown"), list(range(n_layers)), selection_mode="multi",
                      default=[n_layers - 1], format_func=lambda i: t("attention.page.layer_n", n=i + 1),
                      key=f"att_layers_{n_layers}")
    return sorted(picked) or [n_layers - 1]


def heatmaps(maps: A.AttentionMaps, *, key: str) -> None:
    """Weights or scores of every head of the chosen layers, with the switch between them."""
    n_layers, n_heads = maps.weights.shape[:2]
    long = len(maps.tokens) > LONG_INPUT
    with st.container(horizontal=True, vertical_alignment="bottom"):
        kind = st.segmented_control(t("attention.page.kind"), ["weights", "scores"], default="weights",
                                    required=True, key=f"{key}_kind", label_visibility="collapsed",
                                    format_func=lambda k: t(f"attention.page.kind_{k}"))
        layers = _layers_shown(n_layers, n_heads, SHOWN_HEATMAPS // 2 if long else SHOWN_HEATMAPS)
    kind = kind or "weights"
    values = maps.weights if kind == "weights" else maps.scores
    cell = 300 if n_heads <= 2 else 240 if n_heads <= 4 else 170
    fig = attention_heatmaps(values, maps.tokens, mask=maps.mask, kind=kind, layers=layers, lang=lang(), cell_px=cell)
    if long:  # one character per cell: smaller labels
        fig.update_xaxes(tickfont_size=9)
        fig.update_yaxes(tickfont_size=9)
    lift = 34 if projector() else 24  # the head titles above the key labels drawn on top
    fig.update_annotations(yshift=lift)
    fig.update_layout(margin_t=fig.layout.margin.t + lift)
    chart(fig, key=f"{key}_fig_heatmaps")
    st.caption(t("attention.help.scores" if kind == "scores" else "attention.help.attention"))


def attention_view(view: A.View, cfg: A.Config) -> None:
    maps = view.probe
    if maps.unknown:
        st.caption(t("attention.page.unknown", chars=maps.unknown))
    long = len(maps.tokens) > LONG_INPUT
    if long:  # a text: the heatmaps get the whole width, the mask goes beside the answers below
        heatmaps(maps, key="att")
    left, right = st.columns([1, 2.4], gap="medium")
    with left:
        st.markdown(f"**{t('attention.page.mask_title')}**")
        fig = mask_figure(maps.mask, maps.tokens, lang=lang(), height=300)
        fig.update_layout(title_text="", margin_t=60 if projector() else 50)
        if long:
            fig.update_xaxes(tickfont_size=8)
            fig.update_yaxes(tickfont_size=8)
        chart(fig, key="att_fig_mask")
        st.markdown(t("attention.page.mask_causal" if view.causal else "attention.page.mask_full"))
        st.caption(t("attention.help.mask"))
    with right:
        if long:
            answers(maps)
        else:
            heatmaps(maps, key="att")
    if not long:
        answers(maps)
    chart(patterns_figure(view.patterns, lang=lang()), key="att_fig_patterns")
    st.caption(t("attention.help.patterns"))


def answers(maps: A.AttentionMaps) -> None:
    chart(answer_figure(maps.tokens, maps.targets, maps.predictions, maps.confidence, lang=lang(), height=200),
          key="att_fig_answers")


# ----------------------------------------------------------------------------- training
def _last(table: dict[str, list[float]], key: str) -> float | None:
    for value in reversed(table.get(key, [])):
        if value == value:
            return float(value)
    return None


def _metrics(snap: JobSnapshot, cfg: A.Config, chance: float) -> None:
    ev = snap.evals
    items = [("val_accuracy", "{:.1%}"), ("val_loss", "{:.3f}")]
    if cfg.digit_task:
        items.insert(1, ("val_exact", "{:.1%}"))
    if cfg.task == "reversal":
        items.insert(2, ("val_mirror", "{:.2f}"))
    st.caption(t("attention.page.metrics_caption", every=A.EVAL_EVERY))
    cols = st.columns(len(items) + (1 if cfg.race else 0) + 1)
    for col, (name, fmt) in zip(cols, items, strict=False):
        value = _last(ev, name)
        delta = None
        if name == "val_loss" and value is not None:
            delta = f"{value - chance:+.3f}"
        col.metric(t(f"attention.page.metric_{name}"), fmt.format(value) if value is not None else "–", delta=delta,
                   delta_color="inverse", help=t(f"attention.page.metric_help_{name}"))
    if cfg.race:
        value = _last(ev, "val_accuracy/LSTM")
        cols[len(items)].metric(t("attention.page.lstm_accuracy"), f"{value:.1%}" if value is not None else "–",
                                help=t("attention.help.race"))
    what = "baseline_digits" if cfg.digit_task else "baseline_text"
    cols[-1].metric(t(f"attention.page.metric_{what}"), f"{chance:.3f}", help=t(f"attention.page.{what}_help"))


def training_view(snap: JobSnapshot | None, cfg: A.Config) -> None:
    if snap is None or not snap.history.get("step"):
        st.info(t("attention.page.press_train"), icon=":material/play_circle:")
        return
    chance = baseline(cfg)
    thinned = thin(snap, 400)
    fig = race_figure(thinned.history, thinned.evals, baseline=chance, lang=lang(), height=360)
    if not cfg.race:
        fig.update_layout(title_text=t("attention.page.curves_title"))
    chart(fig, key="att_fig_race")
    _metrics(snap, cfg, chance)
    if cfg.race:
        st.caption(t("attention.help.race"))


# ----------------------------------------------------------------------------- inside
def inside_view(view: A.View) -> None:
    left, right = st.columns([1.3, 1], gap="medium")
    with left:
        chart(positions_figure(view.positions, kind=view.positions_kind, lang=lang(), height=380),
              key="att_fig_positions")
        st.caption(t("attention.help.positions"))
    with right:
        e = view.embeddings
        chart(embedding_figure(e.points, e.labels, e.variance, lang=lang(), height=380), key="att_fig_embeddings")
        st.caption(t("attention.help.embeddings"))


# ----------------------------------------------------------------------------- the language models
def example_line(cfg: A.Config) -> str:
    """The longest of the text's first lines (at most the context)."""
    return max(cfg.corpus().text.splitlines()[:8], key=len).strip()[: cfg.context]


def example_with_blanks(cfg: A.Config) -> str:
    """The example line with about one letter in five blanked out (the fill-in's example)."""
    return "".join("_" if i % 5 == 2 and ch.isalnum() else ch for i, ch in enumerate(example_line(cfg)))


def _marked(text: str, marks: set[int], style: str) -> str:
    """``text`` as HTML in a monospace box, the characters at ``marks`` styled."""
    chars = "".join(f"<span style='{style}'>{html.escape(ch)}</span>" if i in marks else html.escape(ch)
                    for i, ch in enumerate(text))
    return f"<div style='font-family:monospace;font-size:1.1rem;white-space:pre-wrap'>{chars}</div>"


def fill_view(cfg: A.Config) -> None:
    text = cfg.probe if find_blanks(cfg.probe)[1] else example_with_blanks(cfg)
    if text != cfg.probe:
        st.caption(t("attention.page.fill_example"))
    result = inspect_job(JOB, A.fill_in_blank, text)
    if result is None:
        if current_job(JOB) is None:
            st.info(t("attention.page.press_train"), icon=":material/play_circle:")
        return
    marks = set(result.blanks)
    st.markdown(t("attention.page.fill_read"))
    st.html(_marked(result.text, marks, "color:#888"))
    st.markdown(t("attention.page.fill_answer"))
    st.html(_marked(result.filled, marks, "color:#d62728;font-weight:bold;text-decoration:underline"))
    chart(fill_in_figure(result.candidates[:8], result.probs[:8], lang=lang()), key="att_fig_fill")
    if len(result.candidates) > 8:
        st.caption(t("attention.page.fill_more", n=len(result.candidates)))


def next_token_view(cfg: A.Config) -> None:
    """The distribution of the character after the prompt, live, with temperature, top-k and top-p applied."""
    if current_job(JOB) is None:
        st.info(t("attention.page.press_train"), icon=":material/play_circle:")
        return
    nt = inspect_job(JOB, A.next_token, cfg.prompt, cfg.temperature, cfg.top_k, cfg.top_p)
    if nt is None:
        return
    chart(next_token_figure(nt.labels, nt.raw, nt.final, nt.kept, chosen=nt.chosen, lang=lang()),
          key="att_fig_next_token")
    st.caption(t("attention.page.next_caption", kept=nt.kept_count, prompt=cfg.prompt or "…"))


def _generate(cfg: A.Config) -> None:
    count = st.session_state.get("att_generations", 0) + 1
    st.session_state["att_generations"] = count
    result = inspect_job(JOB, A.generate, cfg.prompt, cfg.temperature, cfg.top_k, cfg.top_p, cfg.gen_length, count)
    if result is not None:
        snap = current_job(JOB).snapshot()
        st.session_state[GENERATED] = (snap.step, result)


def generation_panel(cfg: A.Config) -> None:
    """The Generate button and the last text generated (drawn once per click, not live)."""
    if st.button(t("attention.page.generate"), icon=":material/edit_note:", key="att_generate", type="primary",
                 disabled=current_job(JOB) is None, help=t("attention.page.generate_help")):
        _generate(cfg)
    done = st.session_state.get(GENERATED)
    if done is None:
        return
    step, g = done
    mean = float(np.mean(g.chosen_probs)) if len(g.chosen_probs) else 0.0
    st.markdown(t("attention.page.generated", step=step, n=len(g.text), mean=mean))
    chars = "".join(f"<span style='background:rgba(31,119,180,{0.1 + 0.5 * float(p):.2f})'>{html.escape(ch)}</span>"
                    for ch, p in zip(g.text, g.chosen_probs, strict=True))
    st.container(key="att_generated_text").html(
        "<div style='font-family:monospace;white-space:pre-wrap;font-size:1rem;line-height:1.5'>"
        f"<span style='color:#888'>{html.escape(g.prompt)}</span>{chars}</div>")
    st.caption(t("attention.page.generated_caption"))
    if g.unknown:
        st.caption(t("attention.page.unknown", chars=g.unknown))
    with st.expander(t("attention.page.first_draw")):
        f = g.first
        chart(next_token_figure(f.labels, f.raw, f.final, f.kept, chosen=f.chosen, lang=lang(), height=280),
              key="att_fig_first_draw")


# ----------------------------------------------------------------------------- BERT-style vs GPT-style
def _family_jobs(config: A.Config) -> dict[str, str]:
    """Family (``masked_lm`` / ``causal_lm``) → the job key that trains it: this page's run and its twin."""
    cfg = run_config(config)
    return {cfg.task: JOB, FAMILY[cfg.task]: TWIN}


def _side(task: str, key: str, shown: str, layer: int, head: int) -> None:
    st.markdown(t(f"attention.page.family_{task}"))
    job = current_job(key)
    snap = job.snapshot() if job is not None else None
    if snap is None:
        st.info(t("attention.page.twin_press" if key == TWIN else "attention.page.press_train"),
                icon=":material/play_circle:")
        return
    status_line(snap)
    loss = _last(snap.evals, "val_loss")
    if loss is not None:
        st.caption(t("attention.page.side_loss", loss=loss, label=job.config.label() if job.config else ""))
    maps = inspect_job(key, A.attention_maps, shown)
    if maps is None:
        return
    layer, head = min(layer, maps.weights.shape[0] - 1), min(head, maps.weights.shape[1] - 1)
    fig = attention_heatmaps(maps.weights[layer:layer + 1, head:head + 1], maps.tokens, lang=lang(), cell_px=420)
    fig.update_annotations(text=t("attention.figures.head_title", layer=layer + 1, head=head + 1), yshift=14)
    fig.update_layout(title_text=t("attention.page.side_full" if maps.mask.all() else "attention.page.side_causal"))
    chart(fig, key=f"att_fig_compare_{task}")


def compare_view(config: A.Config) -> None:
    """The masked LM and the causal LM on the same text and settings, side by side, on the same input."""
    st.caption(t("attention.help.bert_gpt"))
    cfg = run_config(config)
    jobs = _family_jobs(config)
    row = st.columns([2.2, 1, 1], vertical_alignment="bottom")
    with row[0]:
        job_controls(TWIN, functools.partial(new_twin_job, cfg), lab="attention", compact=True,
                     play_label=t("attention.page.twin_train", family=t(f"attention.page.short_{FAMILY[cfg.task]}")))
    layer = row[1].selectbox(t("attention.page.layer"), range(cfg.layers), index=cfg.layers - 1,
                             format_func=lambda i: t("attention.page.layer_n", n=i + 1), key="att_compare_layer")
    head = row[2].selectbox(t("attention.page.head"), range(cfg.heads), key="att_compare_head",
                            format_func=lambda i: t("attention.page.head_n", n=i + 1))
    if cfg.probe:  # the visitor's text: the GPT-style side reads it without the blanks
        texts = {"masked_lm": cfg.probe,
                 "causal_lm": functools.reduce(lambda s, b: s.replace(b, ""), BLANKS, cfg.probe)}
    else:
        texts = {"masked_lm": example_with_blanks(cfg), "causal_lm": example_line(cfg)}
    st.caption(t("attention.page.compare_input", bert=texts["masked_lm"], gpt=texts["causal_lm"]))
    active = any((j := current_job(k)) is not None and j.state.active for k in jobs.values())

    def draw() -> bool:
        cols = st.columns(2, gap="medium")
        for col, task in zip(cols, ("masked_lm", "causal_lm"), strict=True):
            with col:
                _side(task, jobs[task], texts[task], layer or 0, head or 0)
        return any((j := current_job(k)) is not None and j.state.active for k in jobs.values())

    live(draw, active=active, every=1.5)


# ----------------------------------------------------------------------------- the panel
def render(snap: JobSnapshot | None, *, which: str, config: A.Config, changed: list[Term]) -> None:
    """One view of the current run (``which`` in ``views_for(task)``)."""
    cfg = run_config(config)
    if changed and snap is not None:
        st.caption(t("attention.page.changed", fields=", ".join(t(label) for label in changed)))
    if which == "training":
        training_view(snap, cfg)
        return
    if which == "fill":
        fill_view(cfg)
        return
    if which == "generate":
        next_token_view(cfg)
        return
    try:
        view = pick_view(snap, config)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return
    if snap is None:
        st.caption(t("attention.page.untrained"))
    if which == "inside":
        inside_view(view)
    else:
        attention_view(view, cfg)
