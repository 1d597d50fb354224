"""A page's ``Config`` bound to its widgets and to the address bar: the settings a visitor sees are always in the
URL, so copying the address shares the experiment, and a shared address restores it on a fresh server.

Widget keys are ``<prefix>_<field>``; labels, help texts and option names come from the catalogue
(``<lab>.fields.<name>``, ``<lab>.help.<name>``, ``<lab>.choices.<name>.<value>``), ranges and choices from the
field's declaration — nothing about a setting is restated here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Generic, TypeVar

import streamlit as st

from core import i18n
from core.config import Field, LabConfig
from core.errors import PlaygroundError

from .i18n import LANG_KEY, lang, show, t

C = TypeVar("C", bound=LabConfig)
SHARED_KEYS = (LANG_KEY, "lesson", "lstep", "done", "projector")  # URL parameters no lab's Config may use


def _widget_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _bounds(f: Field) -> tuple[Any, Any]:
    """The declared range in the field's own type (Streamlit wants int and float widgets kept apart)."""
    cast = int if f.kind in ("int", "ints") else float
    s = f.setting
    return (None if s.low is None else cast(s.low)), (None if s.high is None else cast(s.high))


class Form(Generic[C]):
    """The settings of one page: widget state ⇄ ``Config`` ⇄ ``st.query_params``."""

    def __init__(self, cls: type[C], prefix: str) -> None:
        self.cls, self.prefix = cls, prefix
        self.lab = cls.LAB
        state = st.session_state
        if self._memo not in state:  # first visit in this session: the URL decides
            config, warnings = cls.from_query(st.query_params.to_dict())
            state[self._memo], state[f"{prefix}__warnings"] = config, warnings
        remembered = state[self._memo]
        for f in cls.declared():  # Streamlit forgets widget state while another page is shown
            state.setdefault(self.key(f.name), _widget_value(getattr(remembered, f.name)))

    @property
    def _memo(self) -> str:
        return f"{self.prefix}__config"

    def key(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    # ------------------------------------------------------------------ state
    def warnings(self) -> None:
        """Show what had to be fixed in a hand-edited URL (once per session)."""
        for warning in st.session_state.get(f"{self.prefix}__warnings", []):
            st.warning(show(warning), icon=":material/link_off:")

    def value(self, name: str) -> Any:
        return st.session_state[self.key(name)]

    def config(self, **overrides: Any) -> C:
        """The config the widgets show now (not validated: call ``validate()``)."""
        values = {}
        for f in self.cls.declared():
            value = overrides.get(f.name, st.session_state.get(self.key(f.name), f.default))
            if f.kind == "strs":  # keep the declared order, whatever order the visitor clicked in
                chosen = set(value or ())
                value = tuple(c for c in f.setting.choices if c in chosen) if f.setting.choices else tuple(value)
            elif f.kind == "ints":
                value = tuple(value or ())
            values[f.name] = value
        return self.cls(**values)

    def apply(self, config: C) -> None:
        """Put every value of ``config`` into the widgets (a preset, a loaded model card)."""
        for f in self.cls.declared():
            st.session_state[self.key(f.name)] = _widget_value(getattr(config, f.name))

    def commit(self, config: C) -> None:
        """Remember ``config`` for this session and write it into the address bar (only what changed), keeping
        the page-wide parameters (language, lesson progress, projector mode)."""
        st.session_state[self._memo] = config
        shared = {k: v for k, v in st.query_params.to_dict().items() if k in SHARED_KEYS}
        wanted = {**config.to_query(), **shared, LANG_KEY: lang()}
        if st.query_params.to_dict() != wanted:
            st.query_params.from_dict(wanted)

    def checked(self, config: C | None = None, *, stop: bool = True) -> C | None:
        """``config`` (default: what the widgets show) validated and written into the address bar; a value that
        cannot work shows its message and ends the page run there (nothing reaches a job), or, with ``stop``
        false, is left out of the address bar (None)."""
        config = config if config is not None else self.config()
        try:
            config.validate()
        except PlaygroundError as exc:
            st.error(show(exc), icon=":material/error:")
            if stop:
                st.stop()
            return None
        self.commit(config)
        return config

    def replace(self, **changes: Any) -> C:
        return replace(st.session_state[self._memo], **changes)

    # ------------------------------------------------------------------ texts
    def field(self, name: str) -> Field:
        return self.cls.field(name)

    def label(self, name: str) -> str:
        return t(self.field(name).label)

    def help(self, name: str) -> str | None:
        key = f"{self.lab}.help.{name}"
        return t(key) if i18n.has(key) else None

    def option(self, name: str) -> Callable[[Any], str]:
        """How the options of ``name`` are shown: their catalogue name when there is one."""
        def fmt(value: Any) -> str:
            key = f"{self.lab}.choices.{name}.{value}"
            return t(key) if i18n.has(key) else str(value)
        return fmt

    def _common(self, name: str, kw: dict) -> dict:
        kw.setdefault("help", self.help(name))
        return {"label": kw.pop("label", None) or self.label(name), "key": self.key(name), **kw}

    # ------------------------------------------------------------------ widgets (options from the declaration)
    def slider(self, name: str, *, where: Any = st, **kw: Any) -> Any:
        low, high = _bounds(self.field(name))
        return where.slider(min_value=kw.pop("min_value", low), max_value=kw.pop("max_value", high),
                            **self._common(name, kw))

    def select_slider(self, name: str, *, where: Any = st, **kw: Any) -> Any:
        s = self.field(name).setting
        options = kw.pop("options", None) or s.grid or s.choices
        kw.setdefault("format_func", lambda v: f"{v:g}" if isinstance(v, float) else self.option(name)(v))
        return where.select_slider(options=options, **self._common(name, kw))

    def select(self, name: str, *, where: Any = st, **kw: Any) -> Any:
        options = kw.pop("options", None) or self.field(name).setting.choices
        kw.setdefault("format_func", self.option(name))
        return where.selectbox(options=options, **self._common(name, kw))

    def pills(self, name: str, *, where: Any = st, **kw: Any) -> Any:
        f = self.field(name)
        options = kw.pop("options", None) or f.setting.choices
        kw.setdefault("format_func", self.option(name))
        kw.setdefault("selection_mode", "multi" if f.kind == "strs" else "single")
        if f.kind != "strs":
            kw.setdefault("required", True)
        return where.pills(options=options, **self._common(name, kw))

    def segmented(self, name: str, *, where: Any = st, **kw: Any) -> Any:
        options = kw.pop("options", None) or self.field(name).setting.choices
        kw.setdefault("format_func", self.option(name))
        kw.setdefault("required", True)
        return where.segmented_control(options=options, **self._common(name, kw))

    def toggle(self, name: str, *, where: Any = st, **kw: Any) -> Any:
        return where.toggle(**self._common(name, kw))

    def number(self, name: str, *, where: Any = st, **kw: Any) -> Any:
        f = self.field(name)
        low, high = _bounds(f)
        step = kw.pop("step", 1 if f.kind == "int" else None)
        return where.number_input(min_value=kw.pop("min_value", low), max_value=kw.pop("max_value", high), step=step,
                                  **self._common(name, kw))


def share_note() -> None:
    """The one line every page shows under its settings: the address bar is the experiment."""
    st.caption(t("common.ui.share"), help=t("common.ui.share_help"))
