"""The language catalogues: one per language, ``locales/<lang>/*.toml``, merged into one dictionary of keys.

A file ``locales/en/planar.toml`` with a table ``[errors]`` and an entry ``lr = "…"`` gives the key
``planar.errors.lr``. Texts are ``str.format`` templates (``{value:g}``); every key exists in every language
with the same placeholders (a test checks it). Core code never formats user-visible text itself: it raises
``PlaygroundError(key, **params)`` and the page translates it with :func:`text`.

TOML rather than gettext ``.po``: keys are short names, not English sentences (long explanations change without
breaking their translation), multi-line Markdown stays readable, one file per page keeps each page's strings
together, and ``tomllib`` ships with Python.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[1] / "locales"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"


def _flatten(prefix: str, table: dict, out: dict[str, str]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict):
            _flatten(key, value, out)
        elif isinstance(value, str):
            out[key] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = "\n".join(value)
        else:
            raise ValueError(f"{key}: catalogue entries are strings or tables")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every key of ``lang`` (``locales/<lang>/<domain>.toml`` → ``<domain>.<table>.<name>``)."""
    out: dict[str, str] = {}
    folder = LOCALES / lang
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as f:
            _flatten(path.stem, tomllib.load(f), out)
    return out


def normalize(lang: str | None) -> str:
    """``"zh-CN"``, ``"zh_TW"``, ``"ZH"`` → ``"zh"``; anything unknown → the default language."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT


class Term(str):
    """A catalogue key used as a parameter of another text: it is translated before it is filled in."""


def _localize(value: object, lang: str) -> object:
    if isinstance(value, Term):
        return text(value, lang) if value else ""
    message = getattr(value, "message", None)  # a PlaygroundError inside a message
    if callable(message):
        return message(lang)
    return value


class Message:
    """A text to show later in the visitor's language: a catalogue key and its parameters."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: object) -> None:
        self.key, self.params = key, params

    def text(self, lang: str = DEFAULT) -> str:
        return text(self.key, lang, **self.params)

    message = text  # a Message inside another message is translated like an error

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"Message({self.key!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.key, self.params) == (other.key, other.params)

    def __hash__(self) -> int:
        return hash(self.key)

    def __reduce__(self):  # picklable across worker processes
        return (_message, (self.key, self.params))


def _message(key: str, params: dict) -> Message:
    return Message(key, **params)


def has(key: str, lang: str = DEFAULT) -> bool:
    return key in catalogue(normalize(lang))


def text(key: str, lang: str = DEFAULT, /, **params: object) -> str:
    """The text of ``key`` in ``lang`` (falling back to English), formatted with ``params``.

    A key missing from every catalogue is returned as it is (formatted when possible): messages raised with a
    plain sentence stay readable instead of failing.
    """
    template = catalogue(normalize(lang)).get(key)
    if template is None:
        template = catalogue(DEFAULT).get(key, key)
    if not params:
        return template
    try:
        return template.format(**{k: _localize(v, lang) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return template


def placeholders(template: str) -> set[str]:
    """The field names a template uses: ``"{n} of {total:,}"`` → ``{"n", "total"}``."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}
