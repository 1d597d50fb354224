"""The visitor's CSV table widgets that several pages share (the network builder's "Your CSV", the training craft's
own table): an upload, its error, the label and the input columns of a ``Form``. The table stays in the session
(never in the link); each page names its own session keys, form fields and texts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.data.tabular import Table, read_csv
from core.errors import PlaygroundError

from .i18n import show
from .settings import Form


@dataclass(frozen=True)
class TableSlots:
    """Where a page keeps its table: the uploader's key, the ``(name, Table)`` held and the last read error; and
    the two form fields for the label and the input columns."""

    file: str
    table: str
    error: str
    label: str
    features: str


@dataclass(frozen=True)
class TableTexts:
    """The texts shown (already in the visitor's language)."""

    upload: str
    upload_help: str
    not_in_link: str
    not_in_link_help: str
    label_help: str
    features_help: str
    features_placeholder: str


def current_table(slots: TableSlots) -> Table | None:
    held = st.session_state.get(slots.table)
    return held[1] if held else None


def load(f: Form, slots: TableSlots, name: str, data: bytes) -> Table | None:
    """Read a table (its error kept to show, the old table dropped, when it cannot be read) and start from its last
    column as the label and every other column as an input."""
    state = st.session_state
    state.pop(slots.error, None)
    try:
        table = read_csv(data)
    except PlaygroundError as exc:
        state[slots.error] = exc.as_message()
        state.pop(slots.table, None)
        return None
    state[slots.table] = (name, table)
    state[f.key(slots.label)] = table.names[-1]
    state[f.key(slots.features)] = table.names[:-1]
    return table


def _label_changed(f: Form, slots: TableSlots) -> None:
    """Another label: it is no input any more; with no input left, every other column is one."""
    label, table = f.value(slots.label), current_table(slots)
    columns = [c for c in (f.value(slots.features) or []) if c != label]
    st.session_state[f.key(slots.features)] = columns or [c for c in table.names if c != label]


def table_controls(f: Form, slots: TableSlots, texts: TableTexts, *, on_upload: Callable[..., None],
                   args: tuple[Any, ...] = (), after_upload: Callable[[], None] | None = None) -> Table | None:
    """The uploader (``on_upload(*args)`` when its file changes; ``after_upload`` draws what comes right below it),
    the note that the table is not in the link, the read error, then the label and the input columns of the table
    held. Returns that table, or None before there is one."""
    st.file_uploader(texts.upload, type=["csv", "tsv", "txt"], key=slots.file, on_change=on_upload, args=args,
                     help=texts.upload_help)
    if after_upload is not None:
        after_upload()
    st.caption(texts.not_in_link, help=texts.not_in_link_help)
    if error := st.session_state.get(slots.error):
        st.error(show(error), icon=":material/error:")
    table = current_table(slots)
    if table is None:
        return None
    state = st.session_state
    if f.value(slots.label) not in table.names:  # a label from another table (or from before)
        state[f.key(slots.label)] = table.names[-1]
    label = f.value(slots.label)
    state[f.key(slots.features)] = [c for c in (f.value(slots.features) or []) if c in table.names and c != label]
    st.selectbox(f.label(slots.label), table.names, key=f.key(slots.label), on_change=_label_changed,
                 args=(f, slots), help=texts.label_help)
    st.multiselect(f.label(slots.features), [c for c in table.names if c != label], key=f.key(slots.features),
                   help=texts.features_help, placeholder=texts.features_placeholder)
    return table
