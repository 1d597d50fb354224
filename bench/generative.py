"""Generative lab targets, in CPU seconds (``time.process_time``, one thread):

1. the 2-D GAN with the default preset covers ≥ 7 of the 8 ring modes within 30 s (the collapse preset, same
   budget, as the baseline it should beat);
2. the autoencoder anomaly detector (trained on the digits 1–9, the held-out digit 0 is the anomaly) reaches an
   AUC ≥ 0.95 (checked against scikit-learn's ``roc_auc_score``); every other held-out digit for comparison;
3. the DCGAN's time to recognisable digits: a logistic-regression digits classifier's mean confidence on samples
   from fixed noise, as a ratio to its confidence on real validation digits (and on uniform noise pictures),
   reached with at least 9 different digits among the samples (a collapsed generator can be confident too).

Last line: ``ring_modes=<covered>/<total> ring_seconds=<s> anomaly_auc=<x>``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from core.jobs import build_seeded  # noqa: E402
from core.labs import generative as gen  # noqa: E402

RING_BUDGET_S = 30.0
RING_TARGET = 7
DCGAN_BUDGET_S = 120.0
DCGAN_TARGET = 0.75  # samples' confidence / real digits' confidence …
DCGAN_DIGITS = 9  # … with at least this many different digits among the samples (a collapsed G is confident too)


def ring_run(config: gen.Config, budget_s: float) -> tuple[int, list[tuple[int, float, dict]]]:
    """Train for ``budget_s`` CPU seconds, evaluating every 100 steps: (modes, [(step, CPU s, evaluation)])."""
    trainer = build_seeded(lambda: gen.make_trainer(config), config.seed)
    start, timeline = time.process_time(), []
    while time.process_time() - start < budget_s:
        for _ in range(100):
            trainer.train_step()
        timeline.append((trainer.step, time.process_time() - start, trainer.evaluate()))
    return len(trainer.modes), timeline


def ring() -> tuple[int, int, float]:
    config = gen.PRESETS["ring_fixed"]
    assert config == gen.Config(), "the default preset is the default config"
    total, timeline = ring_run(config, RING_BUDGET_S)
    counts = [int(ev["modes_covered"]) for _, _, ev in timeline]
    hit = next((i for i, c in enumerate(counts) if c >= RING_TARGET), None)
    if hit is None:
        best = max(range(len(counts)), key=counts.__getitem__)
        print(f"ring default preset: never {RING_TARGET}/{total} within {RING_BUDGET_S:.0f} CPU s "
              f"(best {counts[best]}/{total} at step {timeline[best][0]})")
        return counts[best], total, RING_BUDGET_S
    step, seconds, ev = timeline[hit]
    print(f"ring default preset: {counts[hit]}/{total} modes at step {step}, {seconds:.1f} CPU s (KL {ev['kl']:.2f}, "
          f"JS {ev['js']:.3f} nats, {ev['quality']:.0%} of samples near a mode)")
    full = next((i for i, c in enumerate(counts) if c == total), None)
    if full is not None:
        print(f"ring default preset: all {total} modes at step {timeline[full][0]}, {timeline[full][1]:.1f} CPU s")
    later = counts[hit:]
    step_end, seconds_end, ev_end = timeline[-1]
    print(f"ring default preset afterwards, to step {step_end} ({seconds_end:.1f} CPU s): {min(later)}–{max(later)} "
          f"modes covered (mean {np.mean(later):.2f}) over {len(later)} evaluations; at the end KL "
          f"{ev_end['kl']:.2f}, JS {ev_end['js']:.3f} nats, {ev_end['quality']:.0%} of samples near a mode")
    _, collapse = ring_run(gen.PRESETS["ring_collapse"], 10.0)
    late = [int(ev["modes_covered"]) for _, _, ev in collapse[len(collapse) // 2:]]
    print(f"ring collapse preset (D learning rate 0.01 instead of 0.001): {np.mean(late):.1f}/{total} modes on "
          f"average over its last {len(late)} evaluations of 10 CPU s (min {min(late)}, max {max(late)}); "
          f"default preset / collapse preset = {np.mean(later) / max(np.mean(late), 1e-9):.1f}× the modes")
    return counts[hit], total, seconds


def anomaly() -> float:
    config = gen.PRESETS["anomaly"]
    trainer = build_seeded(lambda: gen.make_trainer(config), config.seed)
    start = time.process_time()
    for _ in range(config.steps):
        trainer.train_step()
    report = gen.anomaly_scores(trainer)
    seconds = time.process_time() - start
    sk = roc_auc_score(report.anomalous, report.scores)
    held_out = sorted(set(range(10)) - set(config.normal_digits))
    print(f"anomaly detection, digit {held_out} held out as the anomaly (trained on {list(config.normal_digits)}): "
          f"AUC {report.auc:.4f} (sklearn roc_auc_score {sk:.4f}) after {config.steps} steps, {seconds:.1f} CPU s; "
          f"{int(report.anomalous.sum())} anomalous vs {int((~report.anomalous).sum())} normal test digits")
    aucs = []
    for digit in range(10):
        other = config.replace(normal_classes=tuple(str(d) for d in range(10) if d != digit))
        t = build_seeded(lambda c=other: gen.make_trainer(c), other.seed)
        for _ in range(other.steps):
            t.train_step()
        aucs.append(gen.anomaly_scores(t).auc)
    print("anomaly AUC per held-out digit: " + ", ".join(f"{d}: {a:.3f}" for d, a in enumerate(aucs))
          + f" (mean {np.mean(aucs):.3f})")
    return report.auc


def dcgan() -> None:
    config = gen.PRESETS["dcgan"]
    trainer = build_seeded(lambda: gen.make_trainer(config), config.seed)
    real = (trainer.val_images.cpu().numpy() + 1) / 2
    real_conf = float(trainer.judge.judge(real)[1].mean())
    noise_conf = float(trainer.judge.judge(np.random.default_rng(0).random((256, 1, 16, 16)))[1].mean())
    print(f"DCGAN judge (logistic regression on 8×8 block means): confidence {real_conf:.3f} on real validation "
          f"digits, {noise_conf:.3f} on uniform noise pictures")
    start = time.process_time()
    reached = None
    ev = trainer.evaluate()
    print(f"DCGAN step 0: samples' confidence {ev['confidence']:.3f} ({ev['confidence'] / real_conf:.2f}× real)")
    while time.process_time() - start < DCGAN_BUDGET_S:
        for _ in range(250):
            trainer.train_step()
        ev = trainer.evaluate()
        ratio = ev["confidence"] / real_conf
        elapsed = time.process_time() - start
        print(f"DCGAN step {trainer.step}: {elapsed:.1f} CPU s, samples' confidence {ev['confidence']:.3f} "
              f"({ratio:.2f}× real), {int(ev['digits_seen'])} different digits among 256 samples")
        if ratio >= DCGAN_TARGET and ev["digits_seen"] >= DCGAN_DIGITS:
            reached = (trainer.step, elapsed, ev["confidence"])
            break
    if reached is None:
        print(f"DCGAN: samples did not reach {DCGAN_TARGET:.0%} of the real digits' confidence with "
              f"{DCGAN_DIGITS}+ different digits within {DCGAN_BUDGET_S:.0f} CPU s")
    else:
        print(f"DCGAN time to recognisable digits: {reached[1]:.1f} CPU s (step {reached[0]}: confidence "
              f"{reached[2]:.3f} = {reached[2] / real_conf:.2f}× the real digits', noise pictures "
              f"{noise_conf / real_conf:.2f}×)")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    torch.set_num_threads(1)
    covered, total, seconds = ring()
    auc = anomaly()
    dcgan()
    print(f"ring_modes={covered}/{total} ring_seconds={seconds:.1f} anomaly_auc={auc:.3f}")


if __name__ == "__main__":
    main()
