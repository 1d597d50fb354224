"""Which job backend trains the models: ``PLAYGROUND_BACKEND`` = ``thread`` (in the server's own interpreter:
tests, notebooks, a fallback), ``process`` (worker processes on this machine: the default for ``streamlit run
app.py``) or ``ray`` (Ray actors; chosen by itself when ``PLAYGROUND_RAY_ADDRESS`` is set)."""

from __future__ import annotations

import os

from .jobs import JobManager

BACKEND_ENV = "PLAYGROUND_BACKEND"
RAY_ENV = "PLAYGROUND_RAY_ADDRESS"
BACKENDS = ("thread", "process", "ray")


def backend_name() -> str:
    name = os.environ.get(BACKEND_ENV, "").strip().lower()
    if name in BACKENDS:
        return name
    return "ray" if os.environ.get(RAY_ENV, "").strip() else "process"


def make_manager(name: str | None = None):
    """The job manager of backend ``name`` (default: from the environment); all share ``JobManager``'s contract."""
    name = name or backend_name()
    if name == "thread":
        return JobManager()
    if name == "ray":
        from .ray_workers import ray_manager

        return ray_manager(os.environ.get(RAY_ENV, "").strip() or None)
    from .workers import RemoteManager

    return RemoteManager()
