"""Declarative settings: every field of a lab's ``Config`` is declared once, and that one declaration drives
validation (with human messages), the shareable URL (``to_query`` / ``from_query``) and the JSON model card —
like TensorFlow Playground's property table in ``state.ts``.

    @dataclass(frozen=True)
    class Config(LabConfig):
        LAB: ClassVar[str] = "planar"
        lr: float = setting(0.03, key="lr", low=1e-5, high=3.0, grid=LEARNING_RATES, rebuild=False)

Supported field types: ``bool``, ``int``, ``float``, ``float | None`` (off), ``str`` (with or without choices),
``tuple[str, ...]`` (a subset of choices) and ``tuple[int, ...]`` (a list of bounded whole numbers).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, ClassVar, Self

from core.errors import ConfigError
from core.i18n import Message, Term


@dataclass(frozen=True)
class Setting:
    """How one field is checked, shared and shown (``label`` and ``unit`` are catalogue keys)."""

    key: str  # URL query key
    label: str = ""  # defaults to "<lab>.fields.<name>"
    choices: tuple | None = None  # allowed values of a str field, or of the items of a tuple[str, ...]
    low: float | None = None  # bounds of a number, or of each item of a tuple[int, ...]
    high: float | None = None
    grid: tuple[float, ...] | None = None  # the values a hand-edited URL snaps to (log-nearest)
    digits: int | None = None  # a float from the URL is rounded to this many decimals
    min_items: int = 0
    max_items: int | None = None
    max_len: int | None = None  # free text
    unit: str = ""  # catalogue key naming what the items of a tuple[int, ...] count ("neurons")
    rebuild: bool = True  # a change needs a fresh model; False: it applies to the running one (or the view only)
    url: bool = True  # part of the shareable link
    messages: Mapping[str, str] = dataclasses.field(default_factory=dict)  # check kind -> catalogue key


def setting(default: Any, *, key: str, **options: Any) -> Any:
    """A dataclass field declared with its :class:`Setting` (see the module docstring)."""
    meta = Setting(key=key, **options)
    if isinstance(default, (list, dict, set)):
        raise TypeError("settings are immutable: use a tuple")
    return dataclasses.field(default=default, metadata={"setting": meta})


@dataclass(frozen=True)
class Field:
    """A config field with its declaration and its parsed type."""

    name: str
    kind: str  # "bool" | "int" | "float" | "str" | "strs" | "ints"
    optional: bool
    setting: Setting
    default: Any
    label: Term


_KINDS = {bool: "bool", int: "int", float: "float", str: "str"}


def _kind(tp: Any) -> tuple[str, bool]:
    optional = False
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional, tp = True, args[0]
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return ("strs" if item is str else "ints"), optional
    return _KINDS[tp], optional


class LabConfig:
    """Mixin for a frozen dataclass of :func:`setting` fields; ``LAB`` names the catalogue domain of its labels.

    Subclasses may override :meth:`check` (rules between fields, after the per-field checks) and
    :meth:`repair` (fix inconsistent URL values with a warning before the config is built).
    """

    LAB: ClassVar[str] = "common"

    # ------------------------------------------------------------------ the declaration
    @classmethod
    @cache
    def declared(cls) -> tuple[Field, ...]:
        hints = typing.get_type_hints(cls)
        out = []
        for f in fields(cls):
            meta = f.metadata.get("setting")
            if meta is None:
                continue
            kind, optional = _kind(hints[f.name])
            label = Term(meta.label or f"{cls.LAB}.fields.{f.name}")
            out.append(Field(f.name, kind, optional, meta, f.default, label))
        return tuple(out)

    @classmethod
    def field(cls, name: str) -> Field:
        return next(f for f in cls.declared() if f.name == name)

    @classmethod
    def url_keys(cls) -> dict[str, str]:
        """Field name → URL key, for the fields that are part of the link."""
        return {f.name: f.setting.key for f in cls.declared() if f.setting.url}

    # ------------------------------------------------------------------ checks
    def validate(self) -> Self:
        """The config itself, or a ``ConfigError`` naming the first value that cannot work."""
        for f in self.declared():
            _check(f, getattr(self, f.name))
        self.check()
        return self

    def check(self) -> None:
        """Rules between fields (raise ``ConfigError``)."""

    def structure(self) -> tuple:
        """The values that need a fresh model when they change."""
        return tuple(getattr(self, f.name) for f in self.declared() if f.setting.rebuild)

    def changed(self, other: LabConfig) -> list[Term]:
        """Labels of the fields whose values differ from ``other``'s."""
        return [f.label for f in self.declared() if getattr(self, f.name) != getattr(other, f.name)]

    # ------------------------------------------------------------------ URL and model card
    def to_query(self) -> dict[str, str]:
        """Query parameters (strings) that :meth:`from_query` turns back into this config."""
        return {f.setting.key: _format(f, getattr(self, f.name)) for f in self.declared() if f.setting.url}

    @classmethod
    def from_query(cls, params: Mapping[str, str | list[str]]) -> tuple[Self, list[Message]]:
        """Parse query parameters leniently: a bad value becomes the default (or is clamped) with a warning."""
        params = {k: (v[-1] if isinstance(v, list) and v else v) for k, v in params.items()}
        default = cls()
        warnings: list[Message] = []
        values = {}
        for f in cls.declared():
            raw = params.get(f.setting.key) if f.setting.url else None
            values[f.name] = (getattr(default, f.name) if raw is None
                              else _parse(f, str(raw).strip(), getattr(default, f.name), warnings))
        cls.repair(values, params, warnings)
        config = cls(**values)
        try:
            config.validate()
        except ConfigError as exc:  # a combination no single check caught: start from the defaults
            warnings.append(Message("common.url.reset", reason=exc))
            config = default
        return config, warnings

    @classmethod
    def repair(cls, values: dict[str, Any], params: Mapping[str, str], warnings: list[Message]) -> None:
        """Fix values that are fine alone but not together (a lab overrides it)."""

    def card(self) -> dict[str, Any]:
        """The settings part of a JSON model card."""
        settings = {}
        for f in self.declared():
            value = getattr(self, f.name)
            settings[f.name] = list(value) if isinstance(value, tuple) else value
        return {"lab": self.LAB, "settings": settings, "query": self.to_query()}

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> tuple[Self, list[Message]]:
        """A config back from :meth:`card` (its ``query`` part, parsed as leniently as a URL)."""
        query = card.get("query") if isinstance(card, Mapping) else None
        if not isinstance(query, Mapping):
            raise ConfigError("common.config.bad_card")
        return cls.from_query({str(k): str(v) for k, v in query.items()})


# ---------------------------------------------------------------------------------------------- helpers
def _fail(f: Field, kind: str, default_key: str, **params: Any) -> None:
    raise ConfigError(f.setting.messages.get(kind, default_key), field=f.label, **params)


def _in_range(s: Setting, value: float) -> bool:
    return (isinstance(value, (int, float)) and math.isfinite(value)
            and (s.low is None or value >= s.low) and (s.high is None or value <= s.high))


def _check(f: Field, value: Any) -> None:
    s = f.setting
    if value is None and f.optional:
        return
    if f.kind == "bool":
        if not isinstance(value, bool):
            _fail(f, "type", "common.config.flag", value=value)
    elif f.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(f, "type", "common.config.number", value=value)
        if f.kind == "int" and isinstance(value, float) and not value.is_integer():
            _fail(f, "integer", "common.config.integer", value=value)
        if not _in_range(s, value):
            _fail(f, "range", "common.config.range", low=s.low, high=s.high, value=value)
    elif f.kind == "str":
        if not isinstance(value, str):
            _fail(f, "type", "common.config.text", value=value)
        if s.choices is not None and value not in s.choices:
            _fail(f, "choice", "common.config.choice", value=value, choices=", ".join(map(str, s.choices)))
        if s.max_len is not None and len(value) > s.max_len:
            _fail(f, "length", "common.config.length", n=s.max_len, count=len(value))
    else:
        items = tuple(value) if isinstance(value, (tuple, list)) else None
        if items is None:
            _fail(f, "type", "common.config.items_type", value=value)
        if len(items) < s.min_items:
            _fail(f, "min_items", "common.config.min_items", n=s.min_items)
        if s.max_items is not None and len(items) > s.max_items:
            _fail(f, "max_items", "common.config.max_items", n=s.max_items, count=len(items))
        if f.kind == "strs":
            bad = [v for v in items if s.choices is not None and v not in s.choices]
            if bad or len(set(items)) != len(items):
                _fail(f, "choice", "common.config.items_choice", value=", ".join(map(str, items)),
                      choices=", ".join(map(str, s.choices or ())))
        else:
            bad = [v for v in items if isinstance(v, bool) or not isinstance(v, int) or not _in_range(s, v)]
            if bad:
                _fail(f, "range", "common.config.items_range", low=s.low, high=s.high, unit=Term(s.unit),
                      value=list(items))


def _format(f: Field, value: Any) -> str:
    if value is None:
        return "off"
    if f.kind == "bool":
        return "1" if value else "0"
    if f.kind == "float":
        return f"{value:g}"
    if f.kind in ("strs", "ints"):
        return ",".join(map(str, value)) or "none"
    return str(value)


def _parse(f: Field, text: str, default: Any, warnings: list[Message]) -> Any:
    s, key = f.setting, f.setting.key

    def warn(what: str, used: str, **params: Any) -> None:
        warnings.append(Message(f"common.url.{what}", key=key, text=text, used=used, **params))

    shown = _format(f, default)
    if f.optional and text.lower() in ("off", "none", ""):
        return None
    if f.kind == "bool":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        warn("flag", shown)
        return default
    if f.kind == "str":
        if s.choices is None:
            return text[: s.max_len] if s.max_len else text
        for option in s.choices:
            if str(option).lower() == text.lower():
                return option
        warn("choice", shown, choices=", ".join(map(str, s.choices)))
        return default
    if f.kind in ("int", "float"):
        try:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            warn("number", shown)
            return default
        fixed = min(max(value, s.low if s.low is not None else value), s.high if s.high is not None else value)
        if s.grid is not None:
            fixed = min(s.grid, key=lambda g: abs(math.log10(g + 1e-12) - math.log10(fixed + 1e-12)))
        if s.digits is not None:
            fixed = round(fixed, s.digits)
        fixed = int(round(fixed)) if f.kind == "int" else float(fixed)
        if fixed != value:
            outside = (s.low is not None and value < s.low) or (s.high is not None and value > s.high)
            warn("outside" if outside else "grid", _format(f, fixed), low=s.low, high=s.high)
        return fixed
    items = [t.strip() for t in text.split(",") if t.strip()]
    if text.lower() in ("", "none"):
        items = []
    if f.kind == "strs":
        choices = {str(c).lower(): c for c in (s.choices or ())}
        known = tuple(dict.fromkeys(choices[t.lower()] for t in items if t.lower() in choices))
        bad = ", ".join(t for t in items if t.lower() not in choices)
        if bad:
            warn("unknown_items", _format(f, known or default), bad=bad, choices=", ".join(choices.values()))
        if len(known) < s.min_items:
            if not bad:
                warn("too_few", shown, n=s.min_items)
            return default
        return known[: s.max_items] if s.max_items else known
    try:
        numbers = [int(float(t)) for t in items]
    except (ValueError, OverflowError):
        warn("not_list", shown)
        return default
    low = int(s.low) if s.low is not None else None
    high = int(s.high) if s.high is not None else None
    fixed = [min(max(v, low if low is not None else v), high if high is not None else v) for v in numbers]
    fixed = fixed[: s.max_items] if s.max_items is not None else fixed
    if fixed != numbers:
        warn("items", _format(f, tuple(fixed)), n=s.max_items, low=low, high=high, unit=Term(s.unit))
    if len(fixed) < s.min_items:
        return default
    return tuple(fixed)
