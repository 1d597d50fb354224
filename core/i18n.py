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
    message = getattr(value, "message", None)  # a Message or a PlaygroundError inside a message
    if callable(message):
        return message(lang)
    return value


class Message(str):
    """A text to show in the visitor's language: a catalogue key and its parameters.

    It *is* the English text (a ``str``), so logs, tests and older callers read it as before; a page shows
    ``message.text(lang)``.
    """

    key: str
    params: dict

    def __new__(cls, key: str, /, **params: object) -> Message:
        self = super().__new__(cls, text(key, DEFAULT, **params))
        self.key, self.params = key, params
        return self

    def text(self, lang: str = DEFAULT) -> str:
        return text(self.key, lang, **self.params)

    message = text  # a Message inside another message is translated like an error

    def __reduce__(self):  # picklable across worker processes
        return (_message, (self.key, self.params))


def _message(key: str, params: dict) -> Message:
    return Message(key, **params)


def localize(value: object, lang: str) -> str:
    """Any text a page shows: a ``Message`` or error in ``lang``, a plain string as it is."""
    return str(_localize(value, lang))


def has(key: str, lang: str = DEFAULT) -> bool:
    table = catalogue(normalize(lang))
    return key in table or f"{key}.other" in table


def text(key: str, lang: str = DEFAULT, /, **params: object) -> str:
    """The text of ``key`` in ``lang`` (falling back to English), formatted with ``params``.

    A key missing from every catalogue is returned as it is (formatted when possible): messages raised with a
    plain sentence stay readable instead of failing.
    """
    template = _lookup(catalogue(normalize(lang)), key, params)
    if template is None:
        template = _lookup(catalogue(DEFAULT), key, params) or key
    if not params:
        return template
    try:
        return template.format(**{k: _localize(v, lang) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return template


def _lookup(table: dict[str, str], key: str, params: dict) -> str | None:
    """``key``, or its plural form: ``key.one`` when ``n == 1``, else ``key.other`` (a table ``{one, other}``)."""
    found = table.get(key)
    if found is None and f"{key}.other" in table:
        found = table.get(f"{key}.one") if params.get("n") == 1 else None
        found = found or table[f"{key}.other"]
    return found


def placeholders(template: str) -> set[str]:
    """The field names a template uses: ``"{n} of {total:,}"`` → ``{"n", "total"}``."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}
