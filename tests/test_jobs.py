"""The background runner: training really happens, pause/step/stop really work, failures surface."""

import threading
import time

import pytest
import torch
from torch import nn

from core.jobs import JobManager, JobState, TrainingJob
from core.training import SupervisedTrainer, make_optimizer


def xor_trainer(lr: float = 0.05, optimizer: str = "Adam", seed: int = 0) -> SupervisedTrainer:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(512, 2, generator=gen) * 2 - 1
    y = (x[:, 0] * x[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    return SupervisedTrainer(model, make_optimizer(optimizer, model.parameters(), lr), nn.functional.cross_entropy,
                             (x, y), (x, y), batch_size=32)


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_loss_decreases_and_job_finishes():
    job = TrainingJob(xor_trainer, total_steps=600, eval_every=100).start()
    assert job.join(30)
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED and snap.step == 600
    losses = snap.history["loss"]
    assert sum(losses[-50:]) / 50 < 0.5 * sum(losses[:20]) / 20
    assert snap.evals["val_accuracy"][-1] > 0.9
    assert {"grad_norm", "lr", "wall_s", "epoch"} <= set(snap.history)
    assert snap.epoch == pytest.approx(600 / 16)


def test_pause_stops_steps_and_step_once_advances_exactly_one():
    job = TrainingJob(xor_trainer, total_steps=None).start()
    wait_for(lambda: job.step > 20)
    job.pause()
    time.sleep(0.1)
    paused_at = job.step
    time.sleep(0.4)
    assert job.step == paused_at and job.state == JobState.PAUSED
    job.step_once()
    wait_for(lambda: job.step == paused_at + 1)
    time.sleep(0.2)
    assert job.step == paused_at + 1
    job.resume()
    wait_for(lambda: job.step > paused_at + 10)
    job.stop()


def test_stop_returns_promptly_and_thread_is_gone():
    job = TrainingJob(xor_trainer, total_steps=None).start()
    wait_for(lambda: job.step > 5)
    t0 = time.monotonic()
    job.stop()
    assert time.monotonic() - t0 < 1.0
    assert not job.alive and job.state == JobState.STOPPED
    assert not [t for t in threading.enumerate() if t.name.startswith(f"job-{job.id}-")]


def regression_trainer(lr: float) -> SupervisedTrainer:
    x = torch.randn(256, 4) * 3
    y = x.sum(dim=1, keepdim=True)
    model = nn.Linear(4, 1)
    return SupervisedTrainer(model, make_optimizer("SGD", model.parameters(), lr), nn.functional.mse_loss,
                             (x, y), batch_size=32, classification=False)


def test_nan_loss_fails_with_a_message_a_person_understands():
    job = TrainingJob(lambda: regression_trainer(lr=50.0), total_steps=2000).start()
    job.join(30)
    assert job.state == JobState.FAILED
    assert "at step" in job.error and "learning rate 50 is too high" in job.error


def test_exception_in_thread_becomes_the_job_error():
    class Broken:
        def train_step(self):
            raise ValueError("shapes do not match")

    job = TrainingJob(Broken(), total_steps=10).start()
    job.join(5)
    assert job.state == JobState.FAILED and "shapes do not match" in job.error


def test_seeded_runs_are_reproducible():
    losses = []
    for _ in range(2):
        job = TrainingJob(xor_trainer, total_steps=50, seed=7).start()
        job.join(30)
        losses.append(job.snapshot().history["loss"])
    assert losses[0] == losses[1]


def test_snapshot_hook_and_inspect_run_between_steps():
    def make():
        trainer = xor_trainer()
        trainer._snapshot = lambda t: t.model[0].weight.detach().clone()
        return trainer

    job = TrainingJob(make, total_steps=None, snapshot_every=10).start()
    wait_for(lambda: job.step > 30)
    snap = job.snapshot()
    assert snap.view.shape == (16, 2) and snap.view_step % 10 == 0
    step_seen = job.inspect(lambda t: t.model[0].weight.shape)
    assert step_seen == (16, 2)
    job.stop()


def test_capacity_queue_is_fifo_with_positions():
    manager = JobManager(capacity=1)
    jobs = [manager.submit("alice", TrainingJob(xor_trainer, total_steps=None, name=f"j{i}")) for i in range(3)]
    assert jobs[0].state == JobState.RUNNING
    assert [j.state for j in jobs[1:]] == [JobState.QUEUED, JobState.QUEUED]
    assert [j.snapshot().queue_position for j in jobs[1:]] == [1, 2]
    jobs[0].stop()
    wait_for(lambda: jobs[1].state == JobState.RUNNING)
    assert jobs[2].snapshot().queue_position == 1
    manager.end_session("alice")
    assert all(j.join(5) for j in jobs) and manager.jobs("alice") == []


def test_sessions_are_isolated():
    manager = JobManager(capacity=2)
    mine = manager.submit("alice", TrainingJob(xor_trainer, total_steps=None))
    manager.submit("bob", TrainingJob(xor_trainer, total_steps=None))
    assert manager.jobs("alice") == [mine]
    assert manager.get("bob", mine.id) is None
    with pytest.raises(PermissionError):
        manager.discard("bob", mine)
    assert mine.state == JobState.RUNNING
    manager.end_session("alice")
    manager.end_session("bob")


def test_unwatched_job_stops_itself():
    job = TrainingJob(xor_trainer, total_steps=None, idle_timeout_s=0.3).start()
    job.join(5)
    assert job.state == JobState.STOPPED and "nobody watched" in job.error


def test_admitted_jobs_share_compute_slots_round_robin():
    manager = JobManager(capacity=3, compute_slots=1)
    jobs = [manager.submit("class", TrainingJob(xor_trainer, total_steps=None, name=f"s{i}")) for i in range(3)]
    try:
        assert all(j.state == JobState.RUNNING for j in jobs)
        wait_for(lambda: all(j.step > 20 for j in jobs), timeout=20)
        start = [j.step for j in jobs]
        time.sleep(1.0)
        steps = [j.step - s for j, s in zip(jobs, start, strict=True)]  # steps in the same second
        assert min(steps) > 0.3 * max(steps), f"unfair time slicing: {steps}"
        jobs[0].pause()
        time.sleep(0.3)
        before = [j.step for j in jobs]
        time.sleep(0.5)
        after = [j.step for j in jobs]
        assert after[0] == before[0] and after[1] > before[1] and after[2] > before[2]
    finally:
        manager.end_session("class")
    assert all(j.join(5) for j in jobs)


def test_page_views_are_computed_only_after_someone_read_the_last_one():
    calls = []

    def make():
        trainer = xor_trainer()
        trainer._snapshot = lambda t: calls.append(1) or len(calls)
        return trainer

    job = TrainingJob(make, total_steps=None, snapshot_every=1).start()
    wait_for(lambda: job.step > 200)
    assert len(calls) == 1  # the starting view only: nobody has looked yet
    job.snapshot()
    wait_for(lambda: len(calls) == 2)
    time.sleep(0.2)
    assert len(calls) == 2 and job.snapshot().view == 2
    job.stop()
