"""Which model the page works on: one from the visitor's shelf (pinned at the step it was taken, so the numbers
do not shift while it trains on) or, for a visitor whose shelf is still empty, an example model built by the
labs' own trainers (``core.compress.demo``)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.compress import demo
from core.compress.measure import metric_name, saved_bytes, score, train_split
from core.errors import DataError
from core.explain.source import Explainable
from ui.i18n import show, t
from ui.session import shelf
from ui.shelf import lab_title, pick_entry

from .common import kb, memo

FROM_KEY, ENTRY_KEY, EXAMPLE_KEY = "cmp_from", "cmp_model", "cmp_example"
PINS = "cmp__pins"  # {shelf entry id: (Explainable, step it was taken at)}
DEFAULT_EXAMPLE = "digits_cnn"  # a CNN: every section applies (channel pruning, static int8, few-shot backbone)
EXAMPLE_SETTINGS = {"digits_lstm": {"hidden": 96, "steps": 800}}  # lighter than the benchmark's


@dataclass
class Chosen:
    """The model on the page and what identifies its weights (results computed for it are kept under ``token``)."""

    model: Explainable
    token: tuple
    name: str
    trainable: bool  # it came with its training set (fine-tuning, distillation and calibration need it)


@st.cache_resource(show_spinner=False, max_entries=len(demo.KINDS))
def example(kind: str) -> Explainable:
    """An example model, trained once per server (the same for every visitor; nothing changes it)."""
    return demo.build(kind, **EXAMPLE_SETTINGS.get(kind, {}))


def _pinned(entry_id: int, step: int) -> tuple[Explainable | None, int]:
    pins = st.session_state.setdefault(PINS, {})
    if entry_id not in pins:
        model = shelf().explainable(entry_id)
        if model is None:
            return None, step
        pins.clear()  # only the model on the page is kept (another one is copied again when picked again)
        pins[entry_id] = (model, step)
    return pins[entry_id]


def _take_latest(entry_id: int) -> None:
    st.session_state.setdefault(PINS, {}).pop(entry_id, None)


def _from_shelf(where) -> Chosen | None:
    with where:
        entry = pick_entry(ENTRY_KEY)
    if entry is None:
        return None
    model, step = _pinned(entry.id, entry.step)
    if model is None:
        st.warning(t("compress.page.no_copy"), icon=":material/hourglass_top:")
        st.stop()
    if entry.job is not None and entry.step > step:
        where.button(t("compress.page.take_latest", step=entry.step), key="cmp_take_latest",
                     icon=":material/refresh:", on_click=_take_latest, args=(entry.id,),
                     help=t("compress.page.take_latest_help", pinned=step))
    return Chosen(model, ("shelf", entry.id, step), show(entry.title), _trainable(model))


def _trainable(model: Explainable) -> bool:
    try:
        train_split(model)
    except DataError:
        return False
    return True


def choose() -> Chosen:
    """The model picker at the top of the page (never empty: example models stand in for an empty shelf)."""
    state = st.session_state
    has_models = bool(shelf().trained())
    if FROM_KEY not in state or (state[FROM_KEY] == "shelf" and not has_models):
        state[FROM_KEY] = "shelf" if has_models else "example"
    box = st.container(border=True)
    cols = box.columns([1.7, 3.2, 3.3], vertical_alignment="top")
    cols[0].segmented_control(t("compress.page.model_from"), ("shelf", "example"), key=FROM_KEY, required=True,
                              format_func=lambda v: t(f"compress.page.from_{v}"))
    chosen = _from_shelf(cols[1]) if state[FROM_KEY] == "shelf" else None
    if chosen is None:
        kind = cols[1].selectbox(t("compress.page.example"), demo.KINDS, key=EXAMPLE_KEY,
                                 index=demo.KINDS.index(DEFAULT_EXAMPLE),
                                 format_func=lambda k: t(f"compress.examples.{k}"))
        with cols[1], st.spinner(t("compress.page.building_example")):
            model = example(kind)
        chosen = Chosen(model, ("example", kind), t(f"compress.examples.{kind}"), _trainable(model))
        if not has_models:
            cols[1].caption(t("compress.page.shelf_empty"))
    with cols[2]:
        facts(chosen)
    box.caption(t("compress.page.model_not_in_link"), help=t("compress.page.model_not_in_link_help"))
    return chosen


def facts(chosen: Chosen) -> None:
    """The chosen model's lab, size and score on its own test set, in one short block."""
    model = chosen.model
    value = memo("score", chosen.token, score, model.model, model.x_test, model.y_test)
    metric = metric_name(model.y_test)
    if len(model.x_test) == 0:
        headline = t("compress.page.no_test_set")
    elif metric == "accuracy":
        headline = t("compress.page.fact_accuracy", value=value * 100, n=len(model.x_test))
    else:
        headline = t("compress.page.fact_mse", value=value, n=len(model.x_test))
    st.markdown(t("compress.page.facts", lab=lab_title(model.lab), params=model.parameters(),
                  size=kb(memo("bytes", chosen.token, saved_bytes, model.model)),
                  headline=headline))
    if chosen.token[0] == "shelf":
        st.caption(show(model.description))
    if not chosen.trainable:
        st.caption(t("compress.page.no_train_data"))
