"""Tabs whose open tab is one setting of the page's ``Config``: a shared link opens the same tab, and only the open
tab's content runs (the others cost nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from .i18n import lang
from .settings import Form


def _opened(setting_key: str, widget: str, ids: list[str], labels: list[str]) -> None:
    label = st.session_state.get(widget)
    if label in labels:
        st.session_state[setting_key] = ids[labels.index(label)]


def setting_tabs(form: Form, name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """One tab per choice of the field ``name`` (choice → its shown label); returns choice → tab container.

    Use ``tabs[choice].open`` to draw only the open tab. The tab widget is keyed per language, since its value
    is the shown label.
    """
    ids, shown = list(labels), list(labels.values())
    current = form.value(name)
    widget = f"{form.key(name)}__tabs_{lang()}"
    wanted = shown[ids.index(current)] if current in ids else shown[0]
    # ``default`` is part of the widget's identity: changing it would make a new tab bar (the old one lingers,
    # stale, until the rerun ends). It stays the first one seen; a setting changed elsewhere moves the state.
    default = st.session_state.setdefault(f"{widget}__default", wanted)
    if st.session_state.get(widget, default) != wanted:
        st.session_state[widget] = wanted
    tabs = st.tabs(shown, key=widget, default=default, on_change=_opened, args=(form.key(name), widget, ids, shown))
    return dict(zip(ids, tabs, strict=True))
