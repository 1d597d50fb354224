"""Sequence lab: the long-term-dependency point in numbers, driven through ``TrainingJob`` as the page does.

1. Adding problem, lengths 10 / 20 / 50 (``--lengths``), RNN vs LSTM vs GRU raced on the same batches for
   ``--steps`` steps: validation MSE of each against the memoryless baseline (≈ 0.167). Target: at length 50
   the LSTM ends below 0.05 while the RNN stays above 0.12.
2. Character LSTM on the Zen of Python with the page's defaults: validation loss against the unigram entropy.
3. Training speed (steps/s) of each task's default single-LSTM run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.labs.sequences import TASKS, Config, make_job  # noqa: E402


def run(config: Config, threads: int) -> tuple[dict[str, float], float, int]:
    """Final evaluation numbers, wall seconds and steps of one job."""
    job = make_job(config, snapshot_every=10**9, eval_every=max(50, config.steps))
    job.threads = threads
    job.start()
    job.join()
    snap = job.snapshot()
    if snap.error:
        raise SystemExit(snap.error)
    return {k: v[-1] for k, v in snap.evals.items()}, snap.wall_s, snap.step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lengths", default="10,20,50")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--char-steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a job gets one on a 2-core box)")
    args = parser.parse_args()

    lstm_50 = rnn_50 = None
    for length in (int(v) for v in args.lengths.split(",")):
        config = Config.for_task("memory", seq_len=length, cells=("RNN", "LSTM", "GRU"), steps=args.steps)
        evals, wall, _ = run(config, args.threads)
        losses = {c: evals[f"val_loss/{c}"] for c in config.cells}
        print(f"adding T={length:3d} {args.steps} steps: " + "  ".join(f"{c} {v:.4f}" for c, v in losses.items())
              + f"  (baseline ≈ 0.167, {wall:.1f} s)", flush=True)
        if length == 50:
            lstm_50, rnn_50 = losses["LSTM"], losses["RNN"]

    config = Config.for_task("chars", steps=args.char_steps)
    evals, wall, steps = run(config, args.threads)
    from core.data.sequences import CharCorpus, zen_of_python

    entropy = CharCorpus.from_text(zen_of_python()).unigram_entropy()
    print(f"chars LSTM {steps} steps: val loss {evals['val_loss']:.3f} nats vs unigram entropy {entropy:.3f} "
          f"({wall:.1f} s)", flush=True)

    for task in TASKS:
        config = Config.for_task(task, steps=200)
        t0 = time.perf_counter()
        _, wall, steps = run(config, args.threads)
        print(f"speed {task:8s} LSTM {config.hidden_size} units: {steps / wall:.0f} steps/s "
              f"(job wall {wall:.1f} s, total {time.perf_counter() - t0:.1f} s)", flush=True)
    if lstm_50 is not None:
        ok = lstm_50 < 0.05 and rnn_50 > 0.12
        print(f"adding_T50_lstm={lstm_50:.4f} rnn={rnn_50:.4f} target={'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
