"""Runner overhead: the same MLP, data and step count trained (a) in a plain PyTorch loop and
(b) through ``TrainingJob`` while another thread polls ``snapshot()`` 4 times a second.

Prints steps/s for both, per wall-clock second and per CPU second of the whole process (the poller's
work included), and, last, ``ratio=<job/plain>`` of the CPU-time rates (1.0 means no overhead). CPU time
is the measure because these machines are shared: wall-clock rates swing by ±30 % between identical runs
when other work lands on the cores, while the CPU a run burns does not. A second comparison shows the full
``SupervisedTrainer`` (gradient norm, accuracy, validation) against the plain loop, i.e. what the extra
live numbers cost.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.jobs import TrainingJob  # noqa: E402
from core.training import STATS_EVERY, SupervisedTrainer  # noqa: E402

STEPS, BATCH, REPEATS = 3000, 64, 7


def make_problem(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(4096, 2, generator=gen)
    y = ((x[:, 0] ** 2 + x[:, 1] ** 2) < 1.0).long()
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return x, y, model, opt


class PlainStep:
    """Exactly the plain loop's body, packaged as a trainer."""

    def __init__(self, seed: int = 0) -> None:
        self.x, self.y, self.model, self.opt = make_problem(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.i = 0

    def train_step(self) -> dict[str, float]:
        idx = torch.randint(0, len(self.x), (BATCH,), generator=self.gen)
        loss = nn.functional.cross_entropy(self.model(self.x[idx]), self.y[idx])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.item()}


def plain_loop() -> tuple[float, float]:
    step = PlainStep()
    x, y, model, opt, gen = step.x, step.y, step.model, step.opt, step.gen
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(STEPS):
        idx = torch.randint(0, len(x), (BATCH,), generator=gen)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()
    return STEPS / (time.perf_counter() - t0), STEPS / (time.process_time() - c0)


def through_job(trainer) -> tuple[float, float]:
    job = TrainingJob(trainer, total_steps=STEPS, eval_every=STEPS, snapshot_every=STEPS, threads=1)
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            job.snapshot()
            time.sleep(0.25)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    t0, c0 = time.perf_counter(), time.process_time()
    job.start()
    job.join()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    stop.set()
    poller.join()
    assert job.step == STEPS, job.error
    return STEPS / elapsed, STEPS / cpu


def full_trainer() -> SupervisedTrainer:
    x, y, model, opt = make_problem()
    return SupervisedTrainer(model, opt, nn.functional.cross_entropy, (x, y), (x[:512], y[:512]), batch_size=BATCH,
                             stats_every=STATS_EVERY)


def main() -> None:
    torch.set_num_threads(1)
    plain_loop()  # warm-up: first optimizer step and kernels
    plain, job, full = [], [], []
    for _ in range(REPEATS):  # interleaved so machine noise hits all three alike
        plain.append(plain_loop())
        job.append(through_job(PlainStep()))
        full.append(through_job(full_trainer()))
    (p, pc), (j, jc), (f, fc) = ((statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
                                 for v in (plain, job, full))
    print("                           steps/s (wall)   steps per CPU-second")
    print(f"plain loop:               {p:10.0f}       {pc:10.0f}")
    print(f"TrainingJob + polling:    {j:10.0f}       {jc:10.0f}   (wall ratio {j / p:.3f})")
    print(f"SupervisedTrainer in job: {f:10.0f}       {fc:10.0f}   (as the labs run it: grad norm and accuracy "
          f"every {STATS_EVERY} steps, validation; CPU ratio {fc / pc:.3f})")
    print(f"ratio={jc / pc:.3f}")


if __name__ == "__main__":
    main()
