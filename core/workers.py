"""Training outside the web server's interpreter: worker processes (or Ray actors) each host many jobs as
background threads, and the server holds light proxies that pages use exactly like a ``TrainingJob``.

Why: every training thread in the server shares one interpreter lock with every visitor's page script. Measured on
2 cores, ten network-builder jobs made 516 steps/s in total as threads of one process and 1,240 as ten processes,
and one job with its page open trained 10–15× slower than with the page closed.

The protocol is a few picklable tuples, the same for a pipe and for a Ray actor:

- server → worker: ``("submit", job_id, spec)``, ``("control", job_id, action, value)``, ``("touch", job_id,
  page)``, ``("inspect", request_id, job_id, fn, args, kwargs)``, ``("forget", job_id)``;
- worker → server: ``("hello", device)``, ``("progress", Progress)``, ``("answer", request_id, ok, value)``.

A worker pushes each job's progress (only new history rows, a view only when it is new) about ten times a second
while someone watches it, so a page never waits for a worker: ``snapshot()`` returns what arrived last, and a
worker that has gone quiet shows as "waiting for the worker". A worker that dies fails its jobs with a message and
is replaced; other workers' jobs go on.
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .errors import PlaygroundError
from .i18n import Message
from .jobs import (
    ComputeSlots,
    JobBook,
    JobSnapshot,
    JobState,
    Progress,
    ProgressCursor,
    TrainingJob,
    default_capacity,
    env_int,
    run_config,
)

WORKERS_ENV = "PLAYGROUND_WORKERS"
PUSH_EVERY_S = 0.1  # progress of watched jobs reaches the server this often
IDLE_PUSH_EVERY_S = 1.0  # …and of jobs nobody has looked at for a few seconds
QUIET_AFTER_S = 3.0  # a running job whose worker sent nothing for this long shows "waiting for the worker"


ROOT = Path(__file__).resolve().parents[1]


def default_workers() -> int:
    """``PLAYGROUND_WORKERS``, else one worker per CPU core."""
    return env_int(WORKERS_ENV, max(1, os.cpu_count() or 1))


# ============================================================================================= worker side
class WorkerHost:
    """Runs the jobs sent to one worker as threads sharing the worker's compute slot (fair time slices), and
    reports their progress through ``send``."""

    def __init__(self, send: Callable[[tuple], None], slots: int = 1) -> None:
        self.send = send
        self.slots = ComputeSlots(slots)
        self.jobs: dict[int, TrainingJob] = {}
        self.cursors: dict[int, ProgressCursor] = {}
        self.pushed: dict[int, tuple] = {}  # job id -> (step, state, view step, time) of the last push
        self._lock = threading.Lock()

    def handle(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "submit":
            _, job_id, spec = msg
            job = TrainingJob(**spec)
            job.id = job_id  # the server's id, so both sides speak of the same job
            job.slots = self.slots
            with self._lock:
                self.jobs[job_id], self.cursors[job_id] = job, ProgressCursor()
            job.start()
        elif kind == "control":
            _, job_id, action, value = msg
            job = self.jobs.get(job_id)
            if job is not None:
                _control(job, action, value)
        elif kind == "touch":
            job = self.jobs.get(msg[1])
            if job is not None:
                job.touch(msg[2])
        elif kind == "inspect":
            threading.Thread(target=self._inspect, args=msg[1:], daemon=True, name="inspect").start()
        elif kind == "forget":
            with self._lock:
                job = self.jobs.pop(msg[1], None)
                self.cursors.pop(msg[1], None)
                self.pushed.pop(msg[1], None)
            if job is not None:
                job.stop(timeout=0)

    def _inspect(self, request_id: int, job_id: int, fn: Callable, args: tuple, kwargs: dict) -> None:
        job = self.jobs.get(job_id)
        try:
            if job is None:
                raise RuntimeError(Message("common.jobs.not_built"))
            value, ok = job.inspect(fn, *args, timeout=60.0, **kwargs), True
        except Exception as exc:  # noqa: BLE001 - handed back to the page that asked
            value, ok = _portable(exc), False
        self.send(("answer", request_id, ok, value))

    def pump(self) -> None:
        """Push the progress of every job that changed (watched jobs often, the others now and then)."""
        now = time.monotonic()
        with self._lock:
            jobs = list(self.jobs.items())
        for job_id, job in jobs:
            last = self.pushed.get(job_id)
            key = (job.step, job.state, job._view_step, job.error, job.pause_requested, job.idle_paused)
            if last is not None and last[0] == key:
                continue
            watched = now - job.last_seen < QUIET_AFTER_S
            if last is not None and now - last[1] < (PUSH_EVERY_S if watched else IDLE_PUSH_EVERY_S) \
                    and job.state == last[0][1]:
                continue
            self.pushed[job_id] = (key, now)
            self.send(("progress", job.progress(self.cursors[job_id])))


def _control(job: TrainingJob, action: str, value: Any) -> None:
    if action == "pause":
        job.pause()
    elif action == "resume":
        job.resume()
    elif action == "step":
        job.step_once(value)
    elif action == "stop":
        job.stop(timeout=0)
    elif action == "speed":
        job.step_delay_s = value


def _portable(exc: BaseException) -> BaseException:
    """An exception that survives pickling (a lab's own exception types may not)."""
    if isinstance(exc, (PlaygroundError, TimeoutError, RuntimeError, ValueError, KeyError, TypeError)):
        return exc
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def warm_up() -> None:
    """Build and step a tiny model once: the first optimizer of a process imports ``torch._dynamo`` (2–3.5 s
    here), which would otherwise hold a visitor's first step at 0 after pressing Play."""
    import torch

    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    for make in (torch.optim.Adam, torch.optim.SGD, torch.optim.RMSprop, torch.optim.AdamW):
        opt = make(model.parameters(), lr=0.01)
        loss = torch.nn.functional.cross_entropy(model(torch.randn(8, 2)), torch.zeros(8, dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        opt.step()


def worker_main(conn: Any, slots: int = 1) -> None:
    """Entry point of a worker process: answer the server's messages until its end of the pipe closes."""
    from .device import best_device, device_label

    send_lock = threading.Lock()

    def send(msg: tuple) -> None:
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)  # plain pickle: tensors travel by value
        with send_lock:
            conn.send_bytes(data)

    warm_up()
    send(("hello", device_label(best_device())))
    host = WorkerHost(send, slots)
    done = threading.Event()

    def pump() -> None:
        while not done.is_set():
            try:
                host.pump()
            except (OSError, EOFError, BrokenPipeError):
                done.set()
            time.sleep(PUSH_EVERY_S / 2)

    threading.Thread(target=pump, daemon=True, name="pump").start()
    try:
        while True:
            host.handle(pickle.loads(conn.recv_bytes()))
    except (EOFError, OSError):  # the server has gone: so does the worker, jobs and all
        pass
    finally:
        done.set()
        os._exit(0)


# ============================================================================================= server side
class RemoteJob:
    """The server's handle on a job that runs in a worker: the same controls and snapshot as a ``TrainingJob``,
    answered from the latest progress the worker pushed (never waiting for the worker)."""

    def __init__(self, job_id: int, spec: dict[str, Any], manager: RemoteManager) -> None:
        self.id, self.name, self.lab = job_id, spec["name"], spec.get("lab", "")
        self.total_steps = spec["total_steps"]
        self.idle_timeout_s = spec["idle_timeout_s"]
        self._spec, self._manager, self.worker = spec, manager, None
        self.config = run_config(spec["trainer"])
        self._lock = threading.Lock()
        self._state = JobState.QUEUED
        self._pause = bool(spec.get("start_paused"))
        self._pending = int(spec.get("pending_steps", 0))
        self._delay = spec.get("step_delay_s", 0.0)
        self.step, self.error, self.queue_position = 0, None, None
        self._progress: Progress | None = None
        self._history: dict[str, list[float]] = {}
        self._evals: dict[str, list[float]] = {}
        self._view, self._view_step = None, -1
        self._heard = time.monotonic()
        self._touched = 0.0
        self.last_seen = time.monotonic()
        self.trainer = None  # lives in the worker

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def pause_requested(self) -> bool:
        return self._pause

    @property
    def alive(self) -> bool:
        return self.worker is not None and self._state.active

    @property
    def idle_paused(self) -> bool:
        return self._progress is not None and self._progress.idle_paused

    # ------------------------------------------------------------------ controls
    def _control(self, action: str, value: Any = None) -> None:
        if self.worker is not None:
            self.worker.send(("control", self.id, action, value))

    def pause(self) -> None:
        self._pause = True
        if self._state == JobState.RUNNING:
            self._state = JobState.PAUSED
        self._control("pause")

    def resume(self) -> None:
        self._pause, self._pending = False, 0
        if self._state == JobState.PAUSED:
            self._state = JobState.RUNNING
        self._control("resume")

    def step_once(self, n: int = 1) -> None:
        self._pause = True
        if self.worker is None:
            self._pending += n
        self._control("step", n)

    def stop(self, timeout: float = 1.0) -> None:
        if self.worker is None and self._state.active:
            self._finish(JobState.STOPPED)
        self._control("stop")
        deadline = time.monotonic() + timeout
        while self.worker is not None and self._state.active and time.monotonic() < deadline:
            time.sleep(0.01)

    def join(self, timeout: float | None = None) -> bool:
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        while self._state.active and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._state.active

    @property
    def step_delay_s(self) -> float:
        return self._delay

    @step_delay_s.setter
    def step_delay_s(self, value: float) -> None:
        self._delay = value
        self._control("speed", value)

    def touch(self, page: bool = True) -> None:
        self.last_seen = time.monotonic()
        if self.worker is not None and self.last_seen - self._touched > 0.25:  # one message per poll, at most
            self._touched = self.last_seen
            self.worker.send(("touch", self.id, page))

    def inspect(self, fn: Callable[..., Any], *args: Any, timeout: float = 30.0, **kwargs: Any) -> Any:
        """Run ``fn(trainer, *args)`` in the worker between two steps and return its result."""
        if self.worker is None:
            raise RuntimeError(Message("common.jobs.not_built"))
        return self.worker.ask(self.id, fn, args, kwargs, timeout)

    # ------------------------------------------------------------------ snapshots
    def snapshot(self, page: bool = True) -> JobSnapshot:
        self.touch(page)
        with self._lock:
            p = self._progress
            waiting = (self.worker is not None and self._state == JobState.RUNNING
                       and time.monotonic() - self._heard > QUIET_AFTER_S)
            if waiting and self.error is None:
                error = Message("common.jobs.waiting" if self.worker.ready.is_set() else "common.jobs.starting")
            else:
                error = self.error
            return JobSnapshot(
                job_id=self.id, name=self.name, state=self._state, step=self.step,
                epoch=p.epoch if p else 0.0, total_steps=self.total_steps,
                history={k: list(v) for k, v in self._history.items()},
                evals={k: list(v) for k, v in self._evals.items()}, latest=dict(p.latest) if p else {},
                steps_per_s=p.steps_per_s if p else 0.0, wall_s=p.wall_s if p else 0.0, error=error,
                queue_position=self.queue_position, view=self._view, view_step=self._view_step,
                idle_paused=bool(p and p.idle_paused))

    def apply(self, p: Progress) -> None:
        """Merge progress pushed by the worker."""
        with self._lock:
            self._heard = time.monotonic()
            self._progress, self.step, self.error = p, p.step, p.error
            self._pause = p.pause_requested
            self._state = p.state
            _merge(self._history, p.history)
            _merge(self._evals, p.evals)
            if p.view is not None:
                self._view, self._view_step = p.view, p.view_step
        if not p.state.active:
            self._manager.job_ended(self)

    def _finish(self, state: JobState, error: str | None = None) -> None:
        with self._lock:
            self._state, self.error = state, error if error is not None else self.error
        self._manager.job_ended(self)


def _merge(table: dict[str, list[float]], update: tuple[bool, dict[str, list[float]]]) -> None:
    replace, columns = update
    if replace:
        table.clear()
    n = len(table.get("step", ()))
    for key, values in columns.items():
        col = table.setdefault(key, [math.nan] * n)
        col.extend(values)
    width = len(table.get("step", ()))
    for col in table.values():  # a column that appeared late is padded like the worker's own table
        if len(col) < width:
            col[:0] = [math.nan] * (width - len(col))


class Transport:
    """How the server talks to one worker: ``send(msg)``; incoming messages go to ``on_message``; ``on_exit``
    runs once when the worker is gone."""

    device: str = ""

    def send(self, msg: tuple) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def alive(self) -> bool:
        raise NotImplementedError


class Worker:
    """One worker as the server sees it: its jobs, its transport and the questions waiting for an answer."""

    _requests = itertools.count(1)

    def __init__(self, index: int, make_transport: Callable[[Worker], Transport]) -> None:
        self.index = index
        self.jobs: dict[int, RemoteJob] = {}
        self.answers: dict[int, tuple[threading.Event, list]] = {}
        self.ready = threading.Event()
        self.device = ""
        self.transport = make_transport(self)

    def send(self, msg: tuple) -> None:
        try:
            self.transport.send(msg)
        except (OSError, EOFError, ValueError):
            pass  # a dead worker is noticed by its reader, which fails its jobs

    def ask(self, job_id: int, fn: Callable, args: tuple, kwargs: dict, timeout: float) -> Any:
        request = next(self._requests)
        done, box = threading.Event(), []
        self.answers[request] = (done, box)
        self.send(("inspect", request, job_id, fn, args, kwargs))
        if not done.wait(timeout):
            self.answers.pop(request, None)
            raise TimeoutError(Message("common.jobs.no_answer"))
        ok, value = box
        if not ok:
            raise value
        return value

    def on_message(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "progress":
            job = self.jobs.get(msg[1].job_id)
            if job is not None:
                job.apply(msg[1])
        elif kind == "answer":
            _, request, ok, value = msg
            waiting = self.answers.pop(request, None)
            if waiting is not None:
                waiting[1].extend((ok, value))
                waiting[0].set()
        elif kind == "hello":
            self.device = msg[1]
            self.ready.set()

    def fail_all(self, message: Message) -> None:
        """The worker is gone: its jobs fail with ``message``; questions waiting for it get an error."""
        for job in list(self.jobs.values()):
            if job.state.active:
                job.worker = None
                job._finish(JobState.FAILED, message)
        for done, box in list(self.answers.values()):
            box.extend((False, RuntimeError(message)))
            done.set()
        self.answers.clear()


class PipeTransport(Transport):
    """A worker process on this machine (``python -m core.workers``), spoken to over a socket pair.

    A plain subprocess rather than ``multiprocessing``: Streamlit runs each page script as the ``__main__``
    module, which multiprocessing's spawn would re-run in every child.
    """

    def __init__(self, worker: Worker, on_exit: Callable[[Worker], None]) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-m", "core.workers", str(theirs.fileno())],
                                        cwd=ROOT, pass_fds=(theirs.fileno(),), env=_worker_env())
        theirs.close()
        self._conn = Connection(ours.detach())
        self._send_lock = threading.Lock()
        self._worker, self._on_exit = worker, on_exit
        threading.Thread(target=self._read, daemon=True, name=f"worker-{worker.index}-reader").start()

    def send(self, msg: tuple) -> None:
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        with self._send_lock:
            self._conn.send_bytes(data)

    def _read(self) -> None:
        try:
            while True:
                self._worker.on_message(pickle.loads(self._conn.recv_bytes()))
        except (EOFError, OSError):
            pass
        except Exception:  # noqa: BLE001 - a message that cannot be read ends this worker, not the server
            traceback.print_exc()
        self._on_exit(self._worker)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self._conn.close()
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # one intra-op thread per job: the cores are shared through slots
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


class RemoteManager(JobBook):
    """The job manager of the ``process`` (and ``ray``) backends: the same contract as ``JobManager`` (one
    ``JobBook``: sessions, capacity, per-visitor limit, FIFO line) across all workers; each admitted job goes to the
    worker with the fewest jobs."""

    def __init__(self, make_transport: Callable[[Worker, Callable[[Worker], None]], Transport] | None = None,
                 n_workers: int | None = None, capacity: int | None = None, per_session: int | None = None) -> None:
        self.n_workers = n_workers or default_workers()
        super().__init__(capacity or default_capacity(self.n_workers), per_session)
        self.make_transport = make_transport or PipeTransport
        self._ids = itertools.count(1)
        self._closing = False
        self.restarts = 0
        self.workers = [self._start_worker(i) for i in range(self.n_workers)]

    # ------------------------------------------------------------------ workers
    def _start_worker(self, index: int) -> Worker:
        return Worker(index, lambda w: self.make_transport(w, self._worker_exited))

    def _worker_exited(self, worker: Worker) -> None:
        with self._lock:
            if self.workers[worker.index] is not worker:
                return
            worker.fail_all(Message("common.jobs.worker_lost"))
            if self._closing:
                return
            self.restarts += 1
            self.workers[worker.index] = self._start_worker(worker.index)
            self._fill()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every worker has started and warmed up (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        return all(w.ready.wait(max(0.0, deadline - time.monotonic())) for w in self.workers)

    @property
    def devices(self) -> list[str]:
        return [w.device for w in self.workers]

    def close(self) -> None:
        self._closing = True
        for worker in self.workers:
            worker.transport.close()

    # ------------------------------------------------------------------ the JobManager contract
    def submit(self, session_id: str, job: TrainingJob) -> RemoteJob:
        """Send ``job`` (built by a lab, not started) to a worker as soon as there is room; returns its handle."""
        spec = job.spec()
        spec["threads"] = 1
        return self._enqueue(session_id, RemoteJob(next(self._ids), spec, self))

    def job_ended(self, job: RemoteJob) -> None:
        with self._lock:
            self._fill()

    def _training(self, job: RemoteJob) -> bool:
        return job.alive

    def _release(self, job: RemoteJob) -> None:
        if job.worker is not None:
            job.worker.jobs.pop(job.id, None)
            job.worker.send(("forget", job.id))
            job.worker = None

    def _start(self, job: RemoteJob) -> None:
        self._place(job)

    def _place(self, job: RemoteJob) -> None:
        worker = min(self.workers, key=lambda w: (sum(j.state.active for j in w.jobs.values()), w.index))
        job.worker, job.queue_position = worker, None
        worker.jobs[job.id] = job
        spec = dict(job._spec, start_paused=job._pause, pending_steps=job._pending, step_delay_s=job._delay)
        job._state = JobState.PAUSED if job._pause else JobState.RUNNING
        job._heard = time.monotonic()
        worker.send(("submit", job.id, spec))


if __name__ == "__main__":  # a worker process: python -m core.workers <socket fd>
    worker_main(Connection(int(sys.argv[1])))
