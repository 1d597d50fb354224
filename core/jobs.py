"""Background training: a ``TrainingJob`` runs a trainer in a daemon thread; a ``JobManager`` owns
jobs per visitor session, caps how many run at once and queues the rest in FIFO order.

A *trainer* is any object with

- ``train_step() -> dict``: one optimisation step; returns at least ``loss`` and optionally
  ``grad_norm``, ``lr`` and other numbers;
- optionally ``evaluate() -> dict`` (validation numbers), ``snapshot() -> View`` (the lab's typed, picklable
  view: copies such as a decision-surface grid), ``steps_per_epoch: int`` and ``done: bool`` (early stop).

Pages never touch a live model: they read ``job.snapshot()`` (copies) or ask the job thread to run a
module-level function between two steps with ``job.inspect(fn, *args)``.

Two idle rules keep shared CPUs for the people using them: a job whose page has not drawn it for
``pause_unwatched_s`` pauses itself (like TF Playground in a hidden tab; the visitor resumes it), and a job that
nobody at all has looked at for ``idle_timeout_s`` (the page and the sidebar both count) stops.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

import numpy as np
import torch

from .errors import PlaygroundError, TrainingDiverged
from .i18n import Message, Term

IDLE_TIMEOUT_ENV = "PLAYGROUND_IDLE_TIMEOUT_S"
CAPACITY_ENV = "PLAYGROUND_MAX_JOBS"
SLOTS_ENV = "PLAYGROUND_COMPUTE_SLOTS"
PER_SESSION_ENV = "PLAYGROUND_MAX_JOBS_PER_SESSION"
TIME_SLICE_S = 0.05  # a job computing while others wait hands its slot on after this long
MAX_HISTORY_ROWS = 4000  # beyond this the step history is thinned to every other row
DIVERGE_WINDOW = 50  # steps averaged for the "loss keeps growing" check
V = TypeVar("V")


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED)


@dataclass
class JobSnapshot(Generic[V]):
    """A consistent, detached copy of a job's progress for drawing; ``view`` is the lab's latest ``View``."""

    job_id: int
    name: str
    state: JobState
    step: int
    epoch: float
    total_steps: int | None
    history: dict[str, list[float]]
    evals: dict[str, list[float]]
    latest: dict[str, float]
    steps_per_s: float
    wall_s: float
    error: str | None  # a ``Message`` (an English ``str`` that pages translate)
    queue_position: int | None
    view: V | None = None
    view_step: int = -1
    idle_paused: bool = False  # paused by itself because its page was not open

    @property
    def progress(self) -> float | None:
        if not self.total_steps:
            return None
        return min(1.0, self.step / self.total_steps)

    def to_csv(self) -> bytes:
        """The per-step history joined with the evaluations (blank between them), as CSV."""
        evals = {int(s): i for i, s in enumerate(self.evals.get("step", []))}
        step_cols = [k for k in self.history if k != "step"]
        eval_cols = [k for k in self.evals if k != "step"]
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["step", *step_cols, *eval_cols])
        for i, step in enumerate(self.history.get("step", [])):
            row = [int(step), *(self.history[k][i] for k in step_cols)]
            j = evals.get(int(step))
            row += [self.evals[k][j] if j is not None else "" for k in eval_cols]
            writer.writerow(row)
        return buf.getvalue().encode()


@dataclass
class ProgressCursor:
    """How much of a job's progress a remote reader already has (per history table: rows and stride)."""

    rows: dict[str, int] = field(default_factory=dict)
    strides: dict[str, int] = field(default_factory=dict)
    view_step: int = -1


@dataclass
class Progress:
    """A job's progress since a cursor: the numbers, new rows of each table (``(replace, columns)``: all rows when
    ``replace``, else rows to append) and the view when it is new (else ``None``)."""

    job_id: int
    state: JobState
    step: int
    epoch: float
    total_steps: int | None
    latest: dict[str, float]
    steps_per_s: float
    wall_s: float
    error: str | None
    queue_position: int | None
    idle_paused: bool
    pause_requested: bool
    history: tuple[bool, dict[str, list[float]]]
    evals: tuple[bool, dict[str, list[float]]]
    view: Any
    view_step: int


@dataclass
class _History:
    """Column store of per-step numbers, thinned by 2 whenever it grows past its cap."""

    stride: int = 1
    columns: dict[str, list[float]] = field(default_factory=dict)
    _pending: dict[str, list[float]] = field(default_factory=dict)
    _count: int = 0

    def add(self, step: int, values: dict[str, float]) -> None:
        """One step's numbers (a key may be missing: its column gets NaN in that row)."""
        if self.stride > 1:  # average ``stride`` steps into one row
            for key, value in values.items():
                self._pending.setdefault(key, []).append(value)
            self._count += 1
            if self._count % self.stride:
                return
            values = {k: v[0] if len(v) == 1 else sum(v) / len(v) for k, v in self._pending.items()}
            self._pending = {}
        cols = self.columns
        n = len(cols.get("step", ()))
        cols.setdefault("step", []).append(float(step))
        for key, value in values.items():
            col = cols.get(key)
            if col is None:
                col = cols[key] = [math.nan] * n
            col.append(value)
        if len(values) + 1 < len(cols):  # columns with nothing this step stay as long as the others
            for col in cols.values():
                if len(col) == n:
                    col.append(math.nan)
        if n + 1 > MAX_HISTORY_ROWS:
            self.columns = {k: v[1::2] for k, v in cols.items()}
            self.stride *= 2

    def copy(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self.columns.items()}

    def since(self, cursor: ProgressCursor, name: str) -> tuple[bool, dict[str, list[float]]]:
        """Rows the cursor has not seen (all of them, ``replace=True``, after a thinning or a new column)."""
        n = len(self.columns.get("step", ()))
        seen, stride = cursor.rows.get(name, 0), cursor.strides.get(name)
        replace = stride != self.stride or seen > n or any(len(v) < seen for v in self.columns.values())
        start = 0 if replace else seen
        cursor.rows[name], cursor.strides[name] = n, self.stride
        return replace, {k: v[start:] for k, v in self.columns.items()}


def _lr_advice(lr: float | None) -> Message:
    if lr is None or not math.isfinite(lr):
        return Message("common.jobs.advice_unknown")
    if lr > 1e-3:
        return Message("common.jobs.advice_high", lr=lr, lower=lr / 100)
    return Message("common.jobs.advice_small", lr=lr)


class ComputeSlots:
    """At most ``n`` jobs compute at once; the others wait their turn in FIFO order.

    A holder keeps its slot while nobody waits (no overhead for a lone job) and hands it on after
    ``TIME_SLICE_S`` when someone does, so many admitted jobs share the cores round-robin instead of the
    first ones hogging them.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._cond = threading.Condition(threading.Lock())
        self._holders = 0
        self._waiting: deque[object] = deque()

    def acquire(self, token: object, give_up: Callable[[], bool]) -> bool:
        """Take a slot for ``token`` in FIFO order; False (and out of line) once ``give_up()`` is true."""
        with self._cond:
            self._waiting.append(token)
            while self._holders >= self.n or self._waiting[0] is not token:
                if give_up():
                    self._waiting.remove(token)
                    self._cond.notify_all()
                    return False
                self._cond.wait(0.2)
            self._waiting.popleft()
            self._holders += 1
            self._cond.notify_all()
            return True

    def release(self) -> None:
        with self._cond:
            self._holders -= 1
            self._cond.notify_all()

    @property
    def contended(self) -> bool:
        return bool(self._waiting)


class TrainingJob:
    """One training run in a daemon thread: queued → running ⇄ paused → finished / stopped / failed."""

    _ids = itertools.count(1)

    def __init__(
        self,
        trainer: Any | Callable[[], Any],
        *,
        name: str = "training",
        total_steps: int | None = None,
        eval_every: int | None = None,
        snapshot_every: int | None = None,
        seed: int | None = 0,
        threads: int | None = None,
        idle_timeout_s: float | None = None,
        pause_unwatched_s: float | None = None,
        step_delay_s: float = 0.0,
        start_paused: bool = False,
        diverge_factor: float | None = None,
        lab: str = "",
        pending_steps: int = 0,
    ) -> None:
        """``trainer`` is a trainer or a zero-argument factory, called (seeded) in the job thread.

        ``step_delay_s`` slows training down on purpose (a "speed" slider for watching it learn).
        ``diverge_factor``: fail the run when the mean loss of the last steps exceeds this many times that of the
        first steps (finite but diverging, e.g. a huge learning rate with Tanh); off for losses that may grow.
        """
        self.id = next(self._ids)
        self.name = name
        self.total_steps = total_steps
        self.eval_every = eval_every
        self.snapshot_every = snapshot_every
        self.seed = seed
        self.threads = threads
        self.lab = lab
        self.step_delay_s = step_delay_s
        if idle_timeout_s is None:
            idle_timeout_s = float(os.environ.get(IDLE_TIMEOUT_ENV, "120"))
        self.idle_timeout_s = idle_timeout_s
        self.pause_unwatched_s = pause_unwatched_s
        self.diverge_factor = diverge_factor
        self._factory = trainer if callable(trainer) and not hasattr(trainer, "train_step") else None
        self.trainer: Any = None if self._factory else trainer
        self.config = run_config(self._factory)  # the lab settings this run trains with (None if unknown)

        self._cond = threading.Condition(threading.Lock())
        self._state = JobState.QUEUED
        self._pause = start_paused
        self._stop = False
        self._pending_steps = pending_steps
        self._thread: threading.Thread | None = None
        self._inspections: deque[tuple[Callable[[Any], Any], dict]] = deque()
        self._on_exit: list[Callable[[TrainingJob], None]] = []
        self.slots: ComputeSlots | None = None  # set by the JobManager
        self._slot_since: float | None = None

        self.step = 0
        self.error: str | None = None
        self.queue_position: int | None = None
        self._history = _History()
        self._evals = _History()
        self._latest: dict[str, float] = {}
        self._view: Any = None
        self._view_step = -1
        self._view_wanted = True  # a page has read the last view: the next one is worth computing
        self._rate = 0.0
        self._t_start: float | None = None
        self._t_end: float | None = None
        self.last_seen = time.monotonic()  # anyone (page or sidebar) looked
        self.page_seen = self.last_seen  # its page drew it
        self.idle_paused = False
        self._loss_start: float | None = None
        self._loss_recent: deque[float] = deque(maxlen=DIVERGE_WINDOW)

    # ----------------------------------------------------------------- control (any thread)
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def pause_requested(self) -> bool:
        """True from ``pause()``/``step_once()`` until ``resume()``."""
        return self._pause

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> TrainingJob:
        """Start the thread (the manager calls this when a slot is free)."""
        with self._cond:
            if self._thread is not None or not self._state.active:
                return self
            self._state = JobState.PAUSED if self._pause else JobState.RUNNING
            self.queue_position = None
            self._thread = threading.Thread(target=self._run, name=f"job-{self.id}-{self.name}", daemon=True)
            self._thread.start()
        return self

    def pause(self) -> None:
        with self._cond:
            self._pause = True
            if self._state == JobState.RUNNING:
                self._state = JobState.PAUSED
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._pause = False
            self.idle_paused = False
            self._pending_steps = 0
            if self._state == JobState.PAUSED:
                self._state = JobState.RUNNING
            self._cond.notify_all()

    def step_once(self, n: int = 1) -> None:
        """While paused (or queued to start paused), take ``n`` more steps, then pause again."""
        with self._cond:
            self._pause = True
            if self._state == JobState.RUNNING:
                self._state = JobState.PAUSED
            self._pending_steps += n
            self._cond.notify_all()

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to stop and wait up to ``timeout`` seconds for it."""
        never_started = False
        with self._cond:
            self._stop = True
            if self._thread is None and self._state.active:
                self._state = JobState.STOPPED
                self._finish_locked()
                never_started = True
            self._cond.notify_all()
        if never_started:
            for callback in self._on_exit:
                callback(self)
        elif self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        if self._thread is None:
            return not self._state.active
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def touch(self, page: bool = True) -> None:
        """Mark the job as looked at (``page``: by its own page, which drew it: its next view is worth computing)."""
        self.last_seen = time.monotonic()
        if page:
            self.page_seen = self.last_seen
            self._view_wanted = True

    def spec(self) -> dict[str, Any]:
        """What another process needs to run this (not yet started) job: its picklable factory and options."""
        if self._factory is None:
            raise ValueError("a job built around a live trainer cannot move to another process")
        return {"trainer": self._factory, "name": self.name, "total_steps": self.total_steps,
                "eval_every": self.eval_every, "snapshot_every": self.snapshot_every, "seed": self.seed,
                "threads": self.threads, "idle_timeout_s": self.idle_timeout_s,
                "pause_unwatched_s": self.pause_unwatched_s, "step_delay_s": self.step_delay_s,
                "start_paused": self._pause, "diverge_factor": self.diverge_factor, "lab": self.lab,
                "pending_steps": self._pending_steps}

    def progress(self, cursor: ProgressCursor) -> Progress:
        """What changed since ``cursor`` (new history rows, a new view), for a page in another process;
        ``cursor`` is advanced."""
        with self._cond:
            wall = 0.0 if self._t_start is None else (self._t_end or time.monotonic()) - self._t_start
            steps_per_epoch = getattr(self.trainer, "steps_per_epoch", 0) or 0
            history = self._history.since(cursor, "history")
            evals = self._evals.since(cursor, "evals")
            view = None
            if self._view_step != cursor.view_step:
                view, cursor.view_step = self._view, self._view_step
            return Progress(self.id, self._state, self.step, self.step / steps_per_epoch if steps_per_epoch else 0.0,
                            self.total_steps, dict(self._latest), self._rate, wall, self.error, self.queue_position,
                            self.idle_paused, self._pause, history, evals, view, self._view_step)

    def snapshot(self, page: bool = True) -> JobSnapshot:
        """A cheap consistent copy of the progress; also marks the job as watched (by its page unless ``page``
        is false, e.g. from the sidebar list)."""
        self.touch(page)
        with self._cond:
            if self._t_start is None:
                wall = 0.0
            else:
                wall = (self._t_end or time.monotonic()) - self._t_start
            steps_per_epoch = getattr(self.trainer, "steps_per_epoch", 0) or 0
            return JobSnapshot(
                job_id=self.id,
                name=self.name,
                state=self._state,
                step=self.step,
                epoch=self.step / steps_per_epoch if steps_per_epoch else 0.0,
                total_steps=self.total_steps,
                history=self._history.copy(),
                evals=self._evals.copy(),
                latest=dict(self._latest),
                steps_per_s=self._rate,
                wall_s=wall,
                error=self.error,
                queue_position=self.queue_position,
                view=self._view,
                view_step=self._view_step,
                idle_paused=self.idle_paused,
            )

    def inspect(self, fn: Callable[..., Any], *args: Any, timeout: float = 30.0, **kwargs: Any) -> Any:
        """Run ``fn(trainer, *args, **kwargs)`` between two training steps (in the job thread) and return its
        result; ``fn`` is a lab's module-level function, so another backend can run it in its worker.

        When the thread is not running (queued or ended), ``fn`` runs right here.
        """
        if args or kwargs:
            fn = functools.partial(_call, fn, args, kwargs)
        box: dict = {"done": threading.Event()}
        with self._cond:
            if not self.alive or self.trainer is None:
                box = {}
            else:
                self._inspections.append((fn, box))
                self._cond.notify_all()
        if not box:
            if self.trainer is None:
                raise RuntimeError(Message("common.jobs.not_built"))
            return fn(self.trainer)
        if not box["done"].wait(timeout):
            raise TimeoutError(Message("common.jobs.no_answer"))
        if "error" in box:
            raise box["error"]
        return box["result"]

    def on_exit(self, callback: Callable[[TrainingJob], None]) -> None:
        self._on_exit.append(callback)

    # ----------------------------------------------------------------- the thread
    def _run(self) -> None:
        try:
            # One intra-op thread by default: concurrent jobs share the cores through the compute slots, and
            # OpenMP teams spin-waiting on an oversubscribed machine slow training down a hundredfold.
            torch.set_num_threads(self.threads or 1)
            if self.trainer is None:
                self.trainer = build_seeded(self._factory, self.seed)
            with self._cond:
                self._t_start = time.monotonic()
            self._loop()
        except PlaygroundError as exc:
            self._fail(exc.as_message())
        except Exception as exc:  # noqa: BLE001 - every error must reach the page, in words
            self._fail(Message("common.jobs.internal", detail=str(exc) or type(exc).__name__))
        finally:
            self._release_slot()
            with self._cond:
                if self._state.active:
                    self._state = JobState.STOPPED if self._stop else JobState.FINISHED
                self._finish_locked()
                self._cond.notify_all()
            self._serve_inspections()
            for callback in self._on_exit:
                callback(self)

    def _finish_locked(self) -> None:
        self._t_end = time.monotonic()
        self.queue_position = None

    def _fail(self, message: str) -> None:
        with self._cond:
            self.error = message
            self._state = JobState.FAILED

    def _serve_inspections(self) -> None:
        while self._inspections:
            fn, box = self._inspections.popleft()
            try:
                box["result"] = fn(self.trainer)
            except Exception as exc:  # noqa: BLE001 - handed back to the caller
                box["error"] = exc
            box["done"].set()

    def _take_slot(self) -> bool:
        """Wait for a compute slot; False when asked to pause or stop meanwhile."""
        if not self.slots.acquire(self, give_up=lambda: self._stop or self._pause or bool(self._inspections)):
            return False
        self._slot_since = time.monotonic()
        return True

    def _release_slot(self) -> None:
        if self._slot_since is not None:
            self._slot_since = None
            self.slots.release()

    def _wait_for_go(self) -> bool:
        """Block while paused; False when the job should end."""
        if self._pause or self._stop:
            self._release_slot()
        with self._cond:
            while True:
                if self._inspections:
                    self._serve_inspections()
                if self._stop:
                    return False
                now = time.monotonic()
                if now - self.last_seen > self.idle_timeout_s:
                    self._stop = True
                    self.error = Message("common.jobs.idle_stop")
                    return False
                if (self.pause_unwatched_s is not None and not self._pause
                        and now - self.page_seen > self.pause_unwatched_s):
                    self._pause, self.idle_paused = True, True  # nobody sees it: leave the CPU to those who do
                if not self._pause:
                    self._state = JobState.RUNNING
                    return True
                if self._pending_steps > 0:
                    self._pending_steps -= 1
                    return True
                self._state = JobState.PAUSED
                self._cond.wait(0.2)

    def _loop(self) -> None:
        trainer = self.trainer
        evaluate = getattr(trainer, "evaluate", None)
        take_snapshot = getattr(trainer, "snapshot", None)
        eval_every = self.eval_every or getattr(trainer, "steps_per_epoch", 0) or 50
        snap_every = self.snapshot_every or eval_every
        if take_snapshot is not None:
            self._store_snapshot(take_snapshot())
        if evaluate is not None:
            self._record_eval(evaluate())
        steps_per_epoch = getattr(trainer, "steps_per_epoch", 0) or 0
        rate_t, rate_step = time.monotonic(), 0
        while True:
            finished = self.total_steps is not None and self.step >= self.total_steps
            if finished or getattr(trainer, "done", False):
                if evaluate is not None and self.step % eval_every:
                    self._record_eval(evaluate())
                if take_snapshot is not None and self._view_step != self.step:
                    self._store_snapshot(take_snapshot())
                return
            # Fast path: plain attribute reads; the lock is only taken when something was asked.
            if self._pause or self._stop or self._inspections or self.step % 64 == 0:
                if not self._wait_for_go():
                    return
            if self.slots is not None and self._slot_since is None and not self._take_slot():
                continue
            out = trainer.train_step()
            step = self.step + 1
            self._check_finite(out, step)
            if self.diverge_factor is not None and "loss" in out:
                self._check_growing(out, step)
            if self.step_delay_s:
                time.sleep(self.step_delay_s)
            now = time.monotonic()
            if self._slot_since is not None and now - self._slot_since > TIME_SLICE_S and self.slots.contended:
                self._release_slot()
            if now - rate_t >= 0.5:
                self._rate = (step - rate_step) / (now - rate_t)
                rate_t, rate_step = now, step
            row = dict(out, wall_s=now - self._t_start)
            if steps_per_epoch:
                row["epoch"] = step / steps_per_epoch
            with self._cond:
                self.step = step
                self._latest.update(out)
                self._latest["steps_per_s"] = self._rate
                self._history.add(step, row)
            if evaluate is not None and step % eval_every == 0:
                self._record_eval(evaluate())
            # Page views are computed only after someone has read the previous one: with many visitors the pages
            # poll less often, and views nobody will see would otherwise starve the training steps.
            if take_snapshot is not None and step % snap_every == 0 and self._view_wanted:
                self._store_snapshot(take_snapshot())

    def _record_eval(self, values: dict[str, float]) -> None:
        with self._cond:
            self._latest.update(values)
            self._evals.add(self.step, values)

    def _store_snapshot(self, view: Any) -> None:
        with self._cond:
            self._view, self._view_step = view, self.step
            self._view_wanted = False

    def _check_finite(self, out: dict[str, float], step: int) -> None:
        for key in ("loss", "grad_norm"):
            value = out.get(key)
            if value is not None and not math.isfinite(value):
                what = "common.jobs.what_loss" if key == "loss" else "common.jobs.what_grad"
                kind = "common.jobs.kind_nan" if math.isnan(value) else "common.jobs.kind_inf"
                raise TrainingDiverged("common.jobs.nan", step=step, what=Term(what), kind=Term(kind),
                                       advice=_lr_advice(out.get("lr")))

    def _check_growing(self, out: dict[str, float], step: int) -> None:
        """Fail a run whose loss, averaged over the last steps, is far above the untrained model's (step 1)."""
        loss = out["loss"]
        if self._loss_start is None:
            self._loss_start = loss
            return
        self._loss_recent.append(loss)
        if step % DIVERGE_WINDOW or len(self._loss_recent) < DIVERGE_WINDOW:
            return
        start, now = self._loss_start, sum(self._loss_recent) / DIVERGE_WINDOW
        if now > self.diverge_factor * start and now - start > 0.5:
            raise TrainingDiverged("common.jobs.diverging", start=start, now=now, step=step,
                                   advice=_lr_advice(out.get("lr")))


def run_config(factory: Any) -> Any:
    """The lab ``Config`` a job's factory was made from (``functools.partial(make_trainer, config, …)``), if any:
    what a lesson's challenge checks the run against."""
    from .config import LabConfig

    args = getattr(factory, "args", ())
    return next((a for a in args if isinstance(a, LabConfig)), None)


def _call(fn: Callable[..., Any], args: tuple, kwargs: dict, trainer: Any) -> Any:
    return fn(trainer, *args, **kwargs)


def build_seeded(factory: Callable[[], Any], seed: int | None) -> Any:
    """Call ``factory`` with torch's and numpy's global generators seeded, without disturbing others."""
    if seed is None:
        return factory()
    with _SEED_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            return factory()
        finally:
            np.random.set_state(state)


_SEED_LOCK = threading.Lock()


def env_int(name: str, default: int) -> int:
    """A positive whole number from the environment, else ``default``."""
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def default_compute_slots() -> int:
    """How many jobs compute at the same moment: ``PLAYGROUND_COMPUTE_SLOTS``, else the CPU count."""
    return env_int(SLOTS_ENV, max(1, os.cpu_count() or 1))


def default_per_session() -> int:
    """How many jobs one visitor may have training at once: ``PLAYGROUND_MAX_JOBS_PER_SESSION``, else 6."""
    return env_int(PER_SESSION_ENV, 6)


def admit(queue: deque, owner: Callable[[Any], str], running: Counter, capacity: int, per_session: int
          ) -> tuple[list, deque]:
    """First in, first out: the jobs at the head of the line start while there is room (``capacity`` in all), but
    a visitor who already has ``per_session`` jobs running waits without holding up the visitors behind.
    Returns the jobs to start and the new line."""
    started, waiting = [], deque()
    total = sum(running.values())
    for job in queue:
        if not job.state.active:
            continue
        who = owner(job)
        if total < capacity and running[who] < per_session:
            started.append(job)
            running[who] += 1
            total += 1
        else:
            waiting.append(job)
    return started, waiting


def default_capacity(slots: int | None = None) -> int:
    """How many jobs are admitted (share the compute slots): ``PLAYGROUND_MAX_JOBS``, else 8 per slot."""
    return env_int(CAPACITY_ENV, 8 * (slots or default_compute_slots()))


class JobBook:
    """What every backend's manager shares: each session owns its jobs (other sessions' are invisible), at most
    ``capacity`` jobs are admitted and ``per_session`` per visitor, the rest wait in one FIFO line.

    A backend says how a job starts (``_start``), whether it is still training (``_training``) and what to free
    when it is forgotten (``_release``).
    """

    def __init__(self, capacity: int, per_session: int | None = None) -> None:
        self.capacity = capacity
        self.per_session = per_session or default_per_session()
        self._lock = threading.RLock()
        self._owners: dict[int, str] = {}
        self._jobs: dict[str, dict[int, Any]] = {}
        self._queue: deque = deque()

    def _start(self, job: Any) -> None:
        job.start()

    def _training(self, job: Any) -> bool:
        return job.alive and job.state.active

    def _release(self, job: Any) -> None:
        """Free what the backend holds for a job the manager forgets."""

    def _enqueue(self, session_id: str, job: Any) -> Any:
        with self._lock:
            self._forget_unwatched()
            self._owners[job.id] = session_id
            self._jobs.setdefault(session_id, {})[job.id] = job
            self._queue.append(job)
            self._fill()
        return job

    def jobs(self, session_id: str) -> list:
        """This session's jobs, oldest first; other sessions' jobs are invisible."""
        with self._lock:
            return list(self._jobs.get(session_id, {}).values())

    def get(self, session_id: str, job_id: int) -> Any | None:
        with self._lock:
            return self._jobs.get(session_id, {}).get(job_id)

    def discard(self, session_id: str, job: Any) -> None:
        """Stop ``job`` if it runs and forget it, so its model can be freed."""
        with self._lock:
            owner = self._owners.get(job.id)
            if owner is not None and owner != session_id:
                raise PermissionError("this job belongs to another session")
            self._queue = deque(j for j in self._queue if j is not job)
        job.stop()  # also a job the manager already forgot (ended and unwatched): nothing else to free then
        with self._lock:
            if owner is not None:
                self._drop(session_id, job)
            self._fill()

    def end_session(self, session_id: str) -> None:
        """Stop and forget every job of a session that has gone."""
        for job in self.jobs(session_id):
            self.discard(session_id, job)

    def running(self) -> int:
        """Admitted jobs still training (a job ending right now no longer counts)."""
        with self._lock:
            return sum(1 for per in self._jobs.values() for j in per.values() if self._training(j))

    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def _drop(self, session_id: str, job: Any) -> None:
        self._owners.pop(job.id, None)
        per = self._jobs.get(session_id, {})
        per.pop(job.id, None)
        if not per:
            self._jobs.pop(session_id, None)
        self._release(job)

    def _forget_unwatched(self) -> None:
        """Drop ended jobs nobody has looked at for a while; their session may hold them still."""
        now = time.monotonic()
        for session_id, per in list(self._jobs.items()):
            for job in list(per.values()):
                if not job.state.active and now - job.last_seen > job.idle_timeout_s:
                    self._drop(session_id, job)

    def _fill(self) -> None:
        running = Counter(self._owners[j.id] for per in self._jobs.values() for j in per.values()
                          if self._training(j))
        started, self._queue = admit(self._queue, lambda job: self._owners[job.id], running, self.capacity,
                                     self.per_session)
        for job in started:
            self._start(job)
        for position, job in enumerate(self._queue, start=1):
            job.queue_position = position


class JobManager(JobBook):
    """The ``thread`` backend: jobs are threads of this interpreter.

    Admitted jobs take turns on ``compute_slots`` slots (time slicing), so a classroom of visitors on two
    cores all see their networks learn, each more slowly, rather than most of them waiting.
    """

    def __init__(self, capacity: int | None = None, compute_slots: int | None = None,
                 per_session: int | None = None) -> None:
        super().__init__(capacity or default_capacity(), per_session)
        self.slots = ComputeSlots(compute_slots or default_compute_slots())

    def submit(self, session_id: str, job: TrainingJob) -> TrainingJob:
        """Give ``job`` to ``session_id``; it starts now if a slot is free, else waits in line."""
        if job.threads is None:
            job.threads = max(1, (os.cpu_count() or 1) // self.slots.n)
        job.slots = self.slots
        job.on_exit(self._on_exit)
        return self._enqueue(session_id, job)

    def _on_exit(self, job: TrainingJob) -> None:
        with self._lock:
            self._fill()
