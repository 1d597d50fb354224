"""The job runner's contract, the same on every backend: ``thread`` (in this interpreter), ``process`` (worker
processes) and ``ray`` (Ray actors, on a private local Ray where ray is installed).

Pages only ever use this contract: submit, snapshot, pause / resume / step / stop, inspect by a lab's module-level
function, fetch the trained model, sessions that cannot see each other, capacity and per-visitor limits, and a
worker that dies failing its own jobs with a message while a fresh worker takes its place.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time

import pytest

from core.errors import ConfigError
from core.jobs import JobManager, JobState, TrainingJob
from core.labs import planar
from core.workers import RemoteManager

BACKENDS = ["thread", "process", "ray"]


def _ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    name = request.param
    if name == "thread":
        manager = JobManager(capacity=6, compute_slots=2, per_session=3)
    elif name == "process":
        manager = RemoteManager(n_workers=2, capacity=6, per_session=3)
    else:
        if not _ray_available():
            pytest.skip("ray is not installed (requirements-ray.txt)")
        import sys

        from ray import cloudpickle

        from core.ray_workers import ray_manager

        cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors do not ship tests/
        manager = ray_manager("local", n_workers=2, capacity=6, per_session=3)
    if hasattr(manager, "wait_ready"):
        assert manager.wait_ready(180), "the workers did not start"
    yield name, manager
    for session in ("alice", "bob", "carol", "dave"):
        manager.end_session(session)
    if hasattr(manager, "close"):
        manager.close()
    if name == "ray":
        import ray

        ray.shutdown()


def job(total_steps: int | None = None, **changes) -> TrainingJob:
    return planar.make_job(planar.Config(**changes), total_steps=total_steps)


def child_processes() -> list[int]:
    """Processes whose parent is this one (worker processes, Ray's own helpers)."""
    me, out = os.getpid(), []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open(f"/proc/{stat}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                        out.append(int(stat))
            except (OSError, IndexError, ValueError):
                continue
    return out


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_job_trains_and_reports_its_numbers_and_view(backend):
    _, manager = backend
    j = manager.submit("alice", job(600, dataset="gauss"))
    assert j.join(120)
    snap = j.snapshot()
    assert snap.state == JobState.FINISHED and snap.step == 600
    assert len(snap.history["step"]) == 600 and snap.history["step"][-1] == 600
    assert snap.evals["val_accuracy"][-1] > 0.9 and snap.latest["val_loss"] < snap.history["loss"][0]
    assert snap.view is not None and snap.view.step > 0 and snap.view.surface.shape == (79, 79)
    manager.discard("alice", j)


def test_pause_step_resume_and_stop(backend):
    _, manager = backend
    j = manager.submit("alice", job())
    assert wait_for(lambda: j.snapshot().step > 5)
    j.pause()
    assert wait_for(lambda: j.snapshot().state == JobState.PAUSED)
    time.sleep(0.3)
    frozen = j.snapshot().step
    time.sleep(0.5)
    assert j.snapshot().step == frozen
    j.step_once()
    assert wait_for(lambda: j.snapshot().step == frozen + 1, 10)
    time.sleep(0.3)
    assert j.snapshot().step == frozen + 1 and j.snapshot().state == JobState.PAUSED
    j.resume()
    assert wait_for(lambda: j.snapshot().step > frozen + 20)
    started = time.monotonic()
    j.stop()
    assert wait_for(lambda: j.snapshot().state == JobState.STOPPED, 5)
    assert time.monotonic() - started < 2.0
    manager.discard("alice", j)


def test_inspect_runs_a_labs_function_between_steps_and_fetches_the_model(backend):
    _, manager = backend
    j = manager.submit("alice", job())
    assert wait_for(lambda: j.snapshot().step > 10)
    j.pause()
    assert wait_for(lambda: j.snapshot().state == JobState.PAUSED)
    time.sleep(0.3)
    view = j.inspect(planar.fresh_view)
    assert view.step == j.snapshot().step
    j.inspect(planar.set_live, 0.3, 0.0)
    assert j.inspect(functools.partial(_lr)) == 0.3
    model = j.inspect(planar.explainable)
    assert model.parameters() == 25 and model.card["settings"]["hidden"] == [4, 2]
    with pytest.raises(ConfigError):  # an error in the worker arrives as itself, message and all
        j.inspect(_refuse)
    manager.discard("alice", j)


def _lr(trainer) -> float:
    return trainer.optimizer.param_groups[0]["lr"]


def _refuse(trainer) -> None:
    raise ConfigError("common.config.range", field="x", low=0, high=1, value=2)


def test_sessions_never_see_or_stop_each_others_jobs(backend):
    _, manager = backend
    a = manager.submit("alice", job())
    b = manager.submit("bob", job())
    try:
        assert [x.id for x in manager.jobs("alice")] == [a.id] and [x.id for x in manager.jobs("bob")] == [b.id]
        assert manager.get("bob", a.id) is None
        with pytest.raises(PermissionError):
            manager.discard("bob", a)
        assert wait_for(lambda: a.snapshot().step > 0 and b.snapshot().step > 0)
        manager.discard("bob", b)
        before = a.snapshot().step
        assert wait_for(lambda: a.snapshot().step > before)  # bob leaving does not touch alice's run
    finally:
        manager.end_session("alice")
        manager.end_session("bob")


def test_a_visitor_beyond_the_per_session_limit_waits_without_holding_up_others(backend):
    _, manager = backend
    mine = [manager.submit("carol", job()) for _ in range(4)]
    other = manager.submit("dave", job())
    try:
        assert wait_for(lambda: other.snapshot().step > 0), "dave's job must not wait behind carol's fourth"
        assert mine[3].snapshot().state == JobState.QUEUED and mine[3].snapshot().queue_position == 1
        manager.discard("carol", mine[0])
        assert wait_for(lambda: mine[3].snapshot().step > 0)
    finally:
        manager.end_session("carol")
        manager.end_session("dave")


def test_bad_settings_fail_before_a_job_exists_and_a_failing_trainer_fails_its_job_in_words(backend):
    _, manager = backend
    with pytest.raises(ConfigError):
        planar.make_job(planar.Config(lr=1000.0))
    j = manager.submit("alice", TrainingJob(functools.partial(_broken_trainer), total_steps=10))
    assert j.join(60)
    snap = j.snapshot()
    assert snap.state == JobState.FAILED and "between 1 and 64" in snap.error, snap.error
    assert not snap.error.startswith(("ConfigError", "RuntimeError", "Traceback"))
    manager.discard("alice", j)


def _broken_trainer():
    raise ConfigError("common.config.range", field="Batch size", low=1, high=64, value=0)


def _kill_worker(name: str, manager, worker) -> None:
    if name == "process":
        os.kill(worker.transport.process.pid, signal.SIGKILL)
    else:
        worker.transport.kill()


def test_a_killed_worker_fails_its_jobs_with_a_message_and_is_replaced(backend):
    name, manager = backend
    if name == "thread":
        pytest.skip("the thread backend has no worker to lose")
    a = manager.submit("alice", job())
    b = manager.submit("bob", job())
    assert wait_for(lambda: a.snapshot().step > 0 and b.snapshot().step > 0)
    assert a.worker is not b.worker  # spread over the workers
    restarts = manager.restarts
    _kill_worker(name, manager, a.worker)
    assert wait_for(lambda: a.snapshot().state == JobState.FAILED, 60)
    assert "stopped unexpectedly" in a.snapshot().error
    before = b.snapshot().step
    assert wait_for(lambda: b.snapshot().step > before), "the other visitor's job goes on"
    assert wait_for(lambda: manager.restarts == restarts + 1 and all(w.transport.alive for w in manager.workers))
    fresh = manager.submit("alice", job(50))
    assert fresh.join(120) and fresh.snapshot().state == JobState.FINISHED
    manager.end_session("alice")
    manager.end_session("bob")


def test_no_thread_or_process_leak_after_100_start_stop_cycles(backend):
    name, manager = backend
    threads_before = threading.active_count()
    children_before = set(child_processes())
    for _ in range(100):
        j = manager.submit("alice", job())
        j.stop(timeout=0.5)
        manager.discard("alice", j)
    assert wait_for(lambda: threading.active_count() <= threads_before + 2, 30), threading.enumerate()
    # no new process is left (a process that other tests started may end meanwhile)
    assert wait_for(lambda: set(child_processes()) <= children_before, 30), set(child_processes()) - children_before
    assert manager.jobs("alice") == []
    if name != "thread":
        assert all(not w.jobs for w in manager.workers)


def test_the_first_step_reaches_the_page_soon_after_play_on_a_warm_server(backend):
    _, manager = backend
    pressed = time.monotonic()
    j = manager.submit("alice", job())
    assert wait_for(lambda: j.snapshot().step > 0, 10)
    latency = time.monotonic() - pressed
    manager.discard("alice", j)
    assert latency < 2.0, latency  # 0.5 s on a quiet machine (bench/throughput.py reports it)
