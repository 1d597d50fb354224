"""Typed errors whose message is written for the person using the playground."""


class PlaygroundError(Exception):
    """Base class: ``str(error)`` is a message a person can act on."""


class ConfigError(PlaygroundError):
    """A setting is out of range or inconsistent."""


class DataError(PlaygroundError):
    """Input data (an upload, a pasted text, a generated set) cannot be used."""


class TrainingDiverged(PlaygroundError):
    """The loss or the gradients stopped being finite numbers."""
