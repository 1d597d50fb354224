"""Real training runs for tests: a lab's job trained to its end, for checks that read its config and snapshot."""

from __future__ import annotations

from typing import Any

from core.jobs import JobSnapshot, JobState, TrainingJob


def finished(job: TrainingJob, timeout: float) -> tuple[Any, JobSnapshot]:
    """Start ``job``, wait for it to finish (within ``timeout`` seconds) and return its config and last snapshot."""
    job.start()
    assert job.join(timeout)
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED, snap.error
    return job.config, snap
