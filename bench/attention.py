"""Attention lab: the transformer's targets in numbers, with the page's default settings.

1. Reversal of 8 digits (vocabulary 10, 2 layers × 2 heads, width 64): steps and CPU seconds until the validation
   token accuracy reaches 99 % (checked every 10 steps, budget ``--budget`` steps), and the last layer's mean
   attention weight on the anti-diagonal (output i → input 7−i) at that moment. Targets: ≥ 99 %, mass ≥ 0.8.
2. The same with longer sequences (``--lengths``), and the LSTM of the race on the same batches (steps to 99 %).
3. The causal LM (the "gpt" preset, English poems, held-out characters only) against the unigram entropy of the
   text, with the racing LSTM; the masked LM (the "bert" preset, ``--mlm-steps`` steps) likewise.

Times are CPU seconds of this process (``time.process_time``) with one torch thread.
Last line: ``reversal_acc=<x> reversal_steps=<n> antidiag_mass=<y> seconds=<s>``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.jobs import build_seeded  # noqa: E402
from core.labs import attention as A  # noqa: E402

TARGET = 0.99


def steps_to(config: A.Config, budget: int, *, every: int = 10, key: str = "val_accuracy") -> dict[str, float]:
    """Train until ``key`` reaches TARGET (or ``budget`` steps); the evaluation at that moment plus steps, seconds."""
    trainer = build_seeded(functools.partial(A.make_trainer, config), config.seed)
    start = time.process_time()
    reached: dict[str, float] = {}
    while trainer.step < budget and not reached:
        for _ in range(every):
            trainer.train_step()
        ev = trainer.evaluate()
        if ev[key] >= TARGET:
            reached = {**ev, "steps": trainer.step, "seconds": time.process_time() - start}
    return reached or {**ev, "steps": trainer.step, "seconds": time.process_time() - start, "missed": 1.0}


def lm_run(config: A.Config) -> tuple[dict[str, float], float, float]:
    trainer = build_seeded(functools.partial(A.make_trainer, config), config.seed)
    start = time.process_time()
    for _ in range(config.steps):
        trainer.train_step()
    return trainer.evaluate(), trainer.data.baseline, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=500, help="step budget for reversal of 8")
    parser.add_argument("--lengths", default="16,24")
    parser.add_argument("--lstm-budget", type=int, default=3000)
    parser.add_argument("--lm-steps", type=int, default=A.PRESETS["gpt"].steps)
    parser.add_argument("--mlm-steps", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="only the reversal target")
    args = parser.parse_args()
    torch.set_num_threads(1)

    config = A.Config(seq_len=8, digits=10)
    rev = steps_to(config, args.budget)
    print(f"reversal T=8 ({config.label()}): {rev['val_accuracy']:.4f} token accuracy, "
          f"{rev['val_exact']:.4f} whole sequences, anti-diagonal mass {rev['val_mirror']:.3f} after "
          f"{rev['steps']:.0f} steps, {rev['seconds']:.2f} CPU s (budget {args.budget} steps; target ≥ {TARGET:.0%}, "
          f"mass ≥ 0.8: {'met' if 'missed' not in rev and rev['val_mirror'] >= 0.8 else 'MISSED'})", flush=True)

    if not args.quick:
        for length in (int(v) for v in args.lengths.split(",") if v):
            r = steps_to(replace(config, seq_len=length), 20 * args.budget)
            print(f"reversal T={length}: {r['val_accuracy']:.4f} after {r['steps']:.0f} steps, "
                  f"anti-diagonal mass {r['val_mirror']:.3f}, {r['seconds']:.1f} CPU s", flush=True)
        lstm = steps_to(replace(config, race=True), args.lstm_budget, every=50, key="val_accuracy/LSTM")
        print(f"race T=8, same batches: LSTM (hidden {config.lstm_hidden}, bidirectional) "
              f"{lstm['val_accuracy/LSTM']:.4f} after {lstm['steps']:.0f} steps "
              f"({'reached' if 'missed' not in lstm else 'not reached'}; checked every 50 steps); transformer "
              f"{rev['steps']:.0f} steps (checked every 10)"
              f" → attention needs {lstm['steps'] / rev['steps']:.0f}× fewer steps", flush=True)

        gpt = replace(A.PRESETS["gpt_race"], steps=args.lm_steps)
        ev, entropy, seconds = lm_run(gpt)
        print(f"causal LM ({gpt.text}, {gpt.steps} steps, held-out characters): val loss {ev['val_loss']:.3f} nats "
              f"vs unigram entropy {entropy:.3f} ({'beats it' if ev['val_loss'] < entropy else 'DOES NOT beat it'}); "
              f"next-char accuracy {ev['val_accuracy']:.3f}; racing LSTM val loss {ev['val_loss/LSTM']:.3f}; "
              f"{seconds:.1f} CPU s", flush=True)
        bert = replace(A.PRESETS["bert"], steps=args.mlm_steps)
        ev, entropy, seconds = lm_run(bert)
        print(f"masked LM ({bert.text}, {bert.steps} steps, masked held-out characters): val loss "
              f"{ev['val_loss']:.3f} nats vs unigram entropy {entropy:.3f}; masked accuracy {ev['val_accuracy']:.3f}; "
              f"{seconds:.1f} CPU s", flush=True)

    print(f"reversal_acc={rev['val_accuracy']:.4f} reversal_steps={rev['steps']:.0f} "
          f"antidiag_mass={rev['val_mirror']:.3f} seconds={rev['seconds']:.2f}")


if __name__ == "__main__":
    main()
