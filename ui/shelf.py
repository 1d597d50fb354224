"""The model shelf as the visitor sees it: a short list in the sidebar, a table, and a picker for the pages that
work on trained models (Explain)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.shelf import ShelfEntry

from .catalog import page_of_lab
from .i18n import show, t
from .session import shelf


def lab_title(lab: str) -> str:
    page = page_of_lab(lab)
    return t(f"catalog.{page.name}.title") if page is not None else lab


def score(entry: ShelfEntry) -> str:
    """The entry's headline number: validation/test accuracy when it has one, else its loss."""
    m = entry.metrics
    for key in ("val_accuracy", "test_accuracy", "accuracy"):
        if key in m:
            return t("common.shelf.accuracy", value=m[key])
    for key in ("val_loss", "test_loss", "loss"):
        if key in m:
            return t("common.shelf.loss", value=m[key])
    return ""


def sidebar_shelf() -> None:
    st.markdown(t("common.shelf.title"))
    entries = shelf().trained()
    if not entries:
        st.caption(t("common.shelf.empty"))
    for entry in entries[-6:]:
        st.caption(t("common.shelf.row", title=show(entry.title), step=entry.step, score=score(entry)))


def shelf_table() -> None:
    """Every trained model of this session with its lab, numbers, size and step."""
    entries = shelf().trained()
    if not entries:
        st.caption(t("common.shelf.none_yet"))
        return
    rows = [{t("common.shelf.lab"): lab_title(e.lab), t("common.shelf.model"): show(e.title),
             t("common.shelf.state"): t(f"common.state.{e.state}"), t("common.shelf.steps"): e.step,
             t("common.shelf.score"): score(e), t("common.shelf.params"): e.parameters,
             t("common.shelf.size"): f"{e.size_bytes / 1024:,.1f} KiB" if e.size_bytes else ""} for e in entries]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def pick_entry(key: str) -> ShelfEntry | None:
    """A selectbox over the shelf's trained models (newest first)."""
    entries = list(reversed(shelf().trained()))
    if not entries:
        return None
    labels = {e.id: t("common.shelf.option", lab=lab_title(e.lab), title=show(e.title), step=e.step) for e in entries}
    chosen = st.selectbox(t("common.shelf.pick"), list(labels), format_func=labels.get, key=key)
    return shelf().get(chosen)
