"""The visitor's language: ``?lang=zh`` / ``?lang=en`` in the URL, else the sidebar switch, else the browser's
language; every page text goes through :func:`t` (a catalogue key) or :func:`show` (a ``Message`` or error)."""

from __future__ import annotations

import streamlit as st

from core import i18n

LANG_KEY = "lang"  # session-state key and URL parameter


def lang() -> str:
    """The language of this session (chosen once from the URL or the browser, then kept)."""
    state = st.session_state
    if LANG_KEY not in state:
        asked = st.query_params.get(LANG_KEY)
        state[LANG_KEY] = i18n.normalize(asked or getattr(st.context, "locale", None))
    return state[LANG_KEY]


def t(key: str, /, **params: object) -> str:
    """The text of ``key`` in the visitor's language."""
    return i18n.text(key, lang(), **params)


def show(value: object) -> str:
    """A ``Message``, a ``PlaygroundError`` or a plain string, in the visitor's language."""
    return i18n.localize(value, lang())


def _switched() -> None:
    st.query_params[LANG_KEY] = st.session_state[LANG_KEY]


def language_switch() -> None:
    """English / 简体中文 in the sidebar; the page's settings and running jobs stay as they are."""
    lang()
    st.segmented_control(t("common.ui.language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get,
                         key=LANG_KEY, required=True, on_change=_switched, label_visibility="collapsed")
