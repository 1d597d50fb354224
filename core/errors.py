"""Typed errors whose message is written for the person using the playground.

Raise them with a catalogue key and its parameters, ``ConfigError("planar.errors.batch", low=1, high=64,
value=0)``: ``str(error)`` is the English text, and a page shows ``error.message(lang)`` in the visitor's
language.
"""

from __future__ import annotations

from core import i18n


class PlaygroundError(Exception):
    """Base class: ``str(error)`` is a message a person can act on."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, lang: str = i18n.DEFAULT) -> str:
        """The message in ``lang`` (parameters that are terms or errors are translated too)."""
        return i18n.text(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message()

    def __reduce__(self):  # keeps key and parameters across processes (Exception pickles only ``args``)
        return (_rebuild, (type(self), self.key, self.params))

    def as_message(self) -> i18n.Message:
        """The error as a picklable ``Message`` (what a job reports to its page)."""
        return i18n.Message(self.key, **self.params)


class ConfigError(PlaygroundError):
    """A setting is out of range or inconsistent."""


class DataError(PlaygroundError):
    """Input data (an upload, a pasted text, a generated set) cannot be used."""


class TrainingDiverged(PlaygroundError):
    """The loss or the gradients stopped being finite numbers, or the loss kept growing."""


def _rebuild(cls: type[PlaygroundError], key: str, params: dict) -> PlaygroundError:
    return cls(key, **params)
