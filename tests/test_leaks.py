"""Many start/stop/reset cycles leave no threads behind and memory bounded."""

import gc
import resource
import threading
import time
import weakref

import torch
from torch import nn

from core.jobs import JobManager, TrainingJob
from core.training import SupervisedTrainer, make_optimizer


def small_trainer() -> SupervisedTrainer:
    x = torch.randn(2048, 8)
    y = (x.sum(dim=1) > 0).long()
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 2))
    return SupervisedTrainer(model, make_optimizer("Adam", model.parameters(), 0.01), nn.functional.cross_entropy,
                             (x, y), (x[:256], y[:256]), batch_size=64)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def test_hundred_start_stop_reset_cycles_leave_no_threads_and_bounded_memory():
    manager = JobManager(capacity=2)

    refs = []

    def cycle(i: int) -> None:
        job = manager.submit("visitor", TrainingJob(small_trainer, total_steps=None, name=f"cycle-{i}"))
        if i % 3 == 0:
            job.pause()
        job.step_once()
        manager.discard("visitor", job)  # Reset: stop and forget
        refs.append(weakref.ref(job))

    for i in range(10):  # warm-up: allocator pools, first optimizer step
        cycle(i)
    gc.collect()
    threads_before, rss_before = threading.active_count(), rss_mb()
    for i in range(100):
        cycle(i)
    deadline = time.monotonic() + 10  # stop() waits 1 s; on a loaded machine the last threads may need longer
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    gc.collect()
    assert manager.jobs("visitor") == [] and manager.running() == 0 and manager.queued() == 0
    assert threading.active_count() == threads_before
    assert not [t for t in threading.enumerate() if t.name.startswith("job-")]
    assert sum(ref() is not None for ref in refs) == 0, "discarded jobs are still referenced"
    assert rss_mb() - rss_before < 50, f"RSS grew by {rss_mb() - rss_before:.1f} MB over 100 cycles"
