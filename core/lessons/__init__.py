"""Guided lessons: for each lab a tour of a few steps (what to change, what to watch, a question to think about)
and challenges whose success is checked on the visitor's real run.

A lab's lessons live in ``core/lessons/<lab>.py`` as ``LESSONS``; their texts in the lab's catalogue under
``<lab>.lessons.<lesson>.…`` (``title``; per step ``do``, ``watch``, ``ask``; per challenge ``goal``, ``hint``).
A challenge's ``check(config, snapshot)`` is a module-level function of the run's ``Config`` and its latest
``JobSnapshot``: pure, so a test can pass it a scripted run and a bad one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.jobs import JobSnapshot


@dataclass(frozen=True)
class Step:
    """One stop of a tour; ``settings`` are the values "Set it up" puts into the page's settings."""

    key: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Challenge:
    """A goal checked automatically on the visitor's run."""

    key: str
    check: Callable[[Any, JobSnapshot], bool]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lesson:
    lab: str
    key: str
    steps: tuple[Step, ...]
    challenges: tuple[Challenge, ...] = ()

    def text(self, part: str) -> str:
        """The catalogue key of one of the lesson's texts (``"title"``, ``"<step>.do"``, ``"<challenge>.goal"`` …)."""
        return f"{self.lab}.lessons.{self.key}.{part}"

    def challenge(self, key: str) -> Challenge | None:
        return next((c for c in self.challenges if c.key == key), None)

    def passed(self, config: Any, snap: JobSnapshot | None) -> list[str]:
        """The challenges this run meets."""
        if config is None or snap is None:
            return []
        return [c.key for c in self.challenges if _safe(c.check, config, snap)]


def _safe(check: Callable[[Any, JobSnapshot], bool], config: Any, snap: JobSnapshot) -> bool:
    try:
        return bool(check(config, snap))
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):  # a run of another shape: not met
        return False


def lessons_for(lab: str) -> tuple[Lesson, ...]:
    """The lessons of lab ``lab`` (none when it has no ``core/lessons/<lab>.py``)."""
    try:
        module = importlib.import_module(f"core.lessons.{lab}")
    except ModuleNotFoundError:
        return ()
    return tuple(module.LESSONS)


def last(snap: JobSnapshot, table: str, key: str) -> float:
    """The latest finite value of ``key`` in the snapshot's ``history`` or ``evals``."""
    values = getattr(snap, table).get(key, [])
    for value in reversed(values):
        if value == value:  # not NaN
            return float(value)
    raise KeyError(key)
