"""The model shelf: every model a visitor trains in this session, from any lab, with its numbers — the Explain
page (and later compression and export) pick from it. One shelf per session; nothing is shared between visitors.

A shelf entry follows its job while the job lives; when the visitor starts over (Reset, or a new run of the same
lab), the shelf keeps a detached copy of the trained model (``Explainable``) so it can still be explained.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from core.explain.source import Explainable
from core.labs import LABS, lab

MAX_MODELS = 12  # per session; the oldest models that are not training leave first


@dataclass
class ShelfEntry:
    """One model: which lab made it, on what, how far it got and how well it does."""

    id: int
    lab: str
    title: str  # the job's name (a Message)
    job: Any = None  # the live job (``None`` once only the copy is kept)
    step: int = 0
    state: str = "queued"
    metrics: dict[str, float] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    model: Explainable | None = None  # the latest detached copy
    model_step: int = -1
    parameters: int | None = None
    size_bytes: int | None = None

    @property
    def description(self) -> str:
        return self.model.description if self.model is not None else ""


class Shelf:
    """The models of one session, newest last."""

    def __init__(self) -> None:
        self._entries: dict[int, ShelfEntry] = {}
        self._lock = threading.Lock()

    def track(self, job: Any, lab_name: str) -> ShelfEntry:
        """Put a just-submitted job's model on the shelf."""
        entry = ShelfEntry(job.id, lab_name, job.name, job=job)
        with self._lock:
            self._entries[job.id] = entry
            self._trim()
        return entry

    def add(self, model: Explainable, title: str) -> ShelfEntry:
        """Put a model that no job trained here on the shelf (a re-imported file, a compressed copy)."""
        card = model.card or {}
        with self._lock:
            entry_id = min([0, *self._entries]) - 1  # negative: never a job's id
            entry = ShelfEntry(entry_id, model.lab, title, step=int(card.get("step", 0) or 1), state="finished",
                               metrics=dict(card.get("metrics", {})), model=model, model_step=0,
                               parameters=model.parameters(), size_bytes=model.size_bytes())
            self._entries[entry_id] = entry
            self._trim()
        return entry

    def entries(self) -> list[ShelfEntry]:
        """Every entry, refreshed from its job (cheap: no model is copied)."""
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            if entry.job is not None:
                snap = entry.job.snapshot(page=False)
                entry.step, entry.state = snap.step, snap.state.value
                entry.metrics = {k: v for k, v in snap.latest.items() if k != "steps_per_s"}
        return [e for e in entries if e.step > 0 or e.job is not None]

    def trained(self) -> list[ShelfEntry]:
        """The entries with a model that has taken at least one step."""
        return [e for e in self.entries() if e.step > 0]

    def get(self, entry_id: int) -> ShelfEntry | None:
        return self._entries.get(entry_id)

    def explainable(self, entry_id: int, timeout: float = 10.0) -> Explainable | None:
        """A detached copy of the entry's model as of its latest step (copied again only after it trained on)."""
        entry = self._entries.get(entry_id)
        if entry is None:
            return None
        job = entry.job
        if job is not None and entry.model_step != job.step and entry.lab in LABS:
            try:
                model = job.inspect(lab(entry.lab).explainable, timeout=timeout)
            except (RuntimeError, TimeoutError):
                return entry.model
            entry.model, entry.model_step = model, job.step
            entry.parameters, entry.size_bytes = model.parameters(), model.size_bytes()
        return entry.model

    def release(self, job: Any) -> None:
        """The visitor moves on from ``job``: keep a copy of its model (if it learned anything) and let go of it."""
        entry = self._entries.get(job.id)
        if entry is None:
            return
        self.entries()
        if entry.step > 0:
            self.explainable(entry.id)
        with self._lock:
            entry.job = None
            if entry.model is None:
                self._entries.pop(entry.id, None)

    def _trim(self) -> None:
        idle = [e for e in self._entries.values() if e.job is None]
        for entry in idle[: max(0, len(self._entries) - MAX_MODELS)]:
            del self._entries[entry.id]
