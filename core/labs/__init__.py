"""The labs of the playground, one module each, all with the same public face:

- ``Config``: a frozen dataclass of declared settings (``core.config``): validation, URL round trip, model card;
- ``make_trainer(config)``: the trainer (``train_step() -> dict``, optional ``evaluate()``, ``snapshot() -> View``,
  ``steps_per_epoch``, ``done``);
- ``make_job(config)``: a ``core.jobs.TrainingJob`` running that trainer (checked before it is submitted);
- ``View``: a typed, picklable dataclass of what the page draws besides the curves;
- inspections: module-level functions ``fn(trainer, …)`` that a job runs between two steps;
- ``explainable(trainer)``: a ``core.explain.source.Explainable`` for the Explain page and the shelf.

Adding a lab is one module here, one ``pages/<lab>`` package and one entry in ``ui/catalog.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

LABS: tuple[str, ...] = tuple(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def lab(name: str) -> ModuleType:
    """The module of lab ``name`` (imported on first use)."""
    if name not in LABS:
        raise KeyError(f"unknown lab {name!r}; known: {', '.join(LABS)}")
    return importlib.import_module(f"core.labs.{name}")
