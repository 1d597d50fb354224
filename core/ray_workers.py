"""The ``ray`` backend: the worker protocol of ``core.workers`` on Ray actors, so a school can point the
playground at its own cluster (``PLAYGROUND_RAY_ADDRESS``: ``auto`` on a cluster node, ``ray://host:10001`` from
outside, ``local`` for a private one-machine Ray). Actors ask for a GPU when the cluster has one."""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from .workers import PUSH_EVERY_S, Transport, Worker, WorkerHost, warm_up

ROOT = Path(__file__).resolve().parents[1]
_INIT_LOCK = threading.Lock()


def connect(address: str | None) -> None:
    """``ray.init`` once per process (a Streamlit rerun, a second manager or a test never calls it twice)."""
    import ray

    with _INIT_LOCK:
        if ray.is_initialized():
            return
        ray.init(address=None if address in (None, "", "local") else address, ignore_reinit_error=True,
                 include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"working_dir": str(ROOT), "excludes": [".git", "tests", "bench", "**/__pycache__",
                                                                    "*.png"]})


def cluster_gpus() -> float:
    import ray

    return float(ray.cluster_resources().get("GPU", 0))


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class _Actor:
    """Hosts jobs inside a Ray worker process; the server drains its outbox a few times a second."""

    def __init__(self) -> None:
        from .device import best_device, device_label

        warm_up()
        self.outbox: deque = deque()
        self.host = WorkerHost(self.outbox.append)
        self.outbox.append(("hello", device_label(best_device())))
        threading.Thread(target=self._pump, daemon=True, name="pump").start()

    def _pump(self) -> None:
        while True:
            self.host.pump()
            time.sleep(PUSH_EVERY_S / 2)

    def handle(self, msg: tuple) -> None:
        self.host.handle(msg)

    def drain(self) -> list:
        out = []
        while self.outbox:
            out.append(self.outbox.popleft())
        return out


class RayTransport(Transport):
    """One Ray actor per worker; messages go in as actor calls (in order) and come back by polling."""

    def __init__(self, worker: Worker, on_exit) -> None:
        import ray

        gpus = 1 if cluster_gpus() >= 1 else 0
        actor_class = ray.remote(num_cpus=1, num_gpus=gpus)(_Actor)
        self.actor = actor_class.remote()
        self._worker, self._on_exit = worker, on_exit
        self._closed = False
        threading.Thread(target=self._poll, daemon=True, name=f"ray-worker-{worker.index}").start()

    def send(self, msg: tuple) -> None:
        self.actor.handle.remote(msg)

    def _poll(self) -> None:
        import ray

        try:
            while not self._closed:
                for msg in ray.get(self.actor.drain.remote(), timeout=120):
                    self._worker.on_message(msg)
                time.sleep(PUSH_EVERY_S / 2)
        except Exception:  # noqa: BLE001 - RayActorError, a lost node, a timeout: the worker is gone
            pass
        if not self._closed:
            self._on_exit(self._worker)

    @property
    def alive(self) -> bool:
        return not self._closed

    def close(self) -> None:
        import ray

        self._closed = True
        try:
            ray.kill(self.actor)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def kill(self) -> None:
        """End the actor as a crash would (tests)."""
        import ray

        ray.kill(self.actor, no_restart=True)


def ray_manager(address: str | None, n_workers: int | None = None, **kwargs: Any):
    from .workers import RemoteManager

    connect(address)
    return RemoteManager(make_transport=RayTransport, n_workers=n_workers or cluster_cpus(), **kwargs)
