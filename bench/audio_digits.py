"""Spoken digits on unseen voices: the audio lab's default CNN (log-mel) and recurrent net (MFCC GRU) trained through
``TrainingJob`` exactly as the page does, one after the other, then both at once (the race).

Prints, per model: accuracy on the clean unseen test voices and on their recording-like versions (room, microphone,
noise), the validation accuracy (recording-like validation voices), wall seconds and CPU seconds (the features,
computed once per process and cached as on the page, separately), and when it first reached 90 % validation
accuracy. The target: CNN ≥ 90 % clean test accuracy with ≤ 30 s of CPU for its training (alone, one thread).

``--predict DIR`` trains the page's default CNN exactly as the page does, then prints for every ``.wav`` file in DIR
(sorted by name) a line ``<file name> <predicted digit> <probability>`` and, last, ``predicted=<n>``.

    python bench/audio_digits.py [--threads N] [--no-race] [--kinds cnn gru lstm] [--language en|zh]
    python bench/audio_digits.py --predict DIR [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.device import best_device, device_label  # noqa: E402
from core.jobs import TrainingJob  # noqa: E402
from core.labs import audio  # noqa: E402

TARGET_ACC, TARGET_CPU_S = 0.90, 30.0


def job_for(config: audio.Config, threads: int) -> TrainingJob:
    """The job the page starts for ``config`` (``audio.make_job``), with ``threads`` torch threads."""
    return audio.make_job(config, threads=threads)


def follow(*jobs: TrainingJob) -> None:
    """Start the jobs and watch them to the end, as the page does (an unwatched job would stop itself)."""
    for job in jobs:
        job.start()
    while True:
        states = [job.snapshot().state for job in jobs]  # every job, every time (``any`` would stop at the first)
        if not any(state.active for state in states):
            break
        time.sleep(1.0)
    for job in jobs:
        job.join()


def first_time_over(snap, level: float) -> float | None:
    steps, acc = np.array(snap.evals.get("step", [])), np.array(snap.evals.get("val_accuracy", []))
    hist_steps, wall = snap.history.get("step", []), snap.history.get("wall_s", [])
    hits = np.flatnonzero(acc >= level)
    if not len(hits) or not hist_steps:
        return None
    return float(np.interp(steps[hits[0]], [0.0, *hist_steps], [0.0, *wall]))


def report(label: str, snap, cpu_s: float | None) -> bool:
    view = snap.view
    t90 = first_time_over(snap, TARGET_ACC)
    cpu = f" cpu={cpu_s:.1f}s" if cpu_s is not None else ""
    print(f"{label:<24} test_acc={view.test_accuracy:.3f} recording_acc={view.recording_accuracy:.3f} "
          f"val_acc={snap.latest.get('val_accuracy', 0):.3f} sure={view.sure_share:.0%}@{view.sure_accuracy:.1%} "
          f"wall={snap.wall_s:.1f}s{cpu} steps={snap.step} val90_at={'-' if t90 is None else f'{t90:.1f}s'} "
          f"state={snap.state.value}" + (f" error={snap.error}" if snap.error else ""))
    print(f"{'':<24} per voice (clean / recording-like): " + ", ".join(
        f"{v} {a:.0%}/{r:.0%}" for (v, a), r in zip(view.per_voice().items(), view.voice_recording_accuracy,
                                                   strict=True)))
    return view.test_accuracy >= TARGET_ACC and (cpu_s is None or cpu_s <= TARGET_CPU_S)


def train_default(threads: int) -> TrainingJob:
    """The page's default CNN trained by ``audio.make_job`` (as the page's Train button does) and watched to the
    end; returns the job (its trainer holds the model as trained)."""
    config = audio.PageConfig().cnn()
    job = job_for(config, threads)
    cpu0 = time.process_time()
    audio.split_features(config)
    prep = time.process_time() - cpu0
    follow(job)
    snap = job.snapshot()
    if snap.error:
        sys.exit(f"training failed: {snap.error}")
    print(f"# trained {audio.title(config)}: {snap.step} steps, clean test {snap.view.test_accuracy:.1%}, "
          f"recording-like {snap.view.recording_accuracy:.1%}, features {prep:.1f} s + training "
          f"{time.process_time() - cpu0 - prep:.1f} s CPU", file=sys.stderr)
    return job


def predict_dir(folder: Path, threads: int) -> None:
    """``<file name> <predicted digit> <probability>`` for every .wav in ``folder``, then ``predicted=<n>``."""
    from core.data.audio import load_audio, prepare_clip
    from core.errors import PlaygroundError

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav" and p.is_file())
    job = train_default(threads)
    n = 0
    for path in files:
        try:
            wave = prepare_clip(load_audio(path).wave)
        except PlaygroundError as exc:
            print(f"# {path.name}: {exc}", file=sys.stderr)
            continue
        pred = job.inspect(audio.predict_clip, wave)
        print(f"{path.name} {pred.digit} {pred.probabilities[pred.digit]:.4f}")
        n += 1
    print(f"predicted={n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per job (the app gives each job cores // capacity: 1 on a 2-core box)")
    parser.add_argument("--kinds", nargs="+", default=["cnn", audio.PageConfig().rnn_cell],
                        help="the page's two racers by default")
    parser.add_argument("--language", default="en", choices=["en", "zh"])
    parser.add_argument("--no-race", action="store_true")
    parser.add_argument("--predict", type=Path, metavar="DIR", help="predict every .wav file in DIR")
    args = parser.parse_args()
    if args.predict is not None:
        if not args.predict.is_dir():
            sys.exit(f"--predict: {args.predict} is not a folder")
        predict_dir(args.predict, args.threads)
        return
    configs = {k: audio.default_config(k, language=args.language) for k in args.kinds}
    print(f"device: {device_label(best_device())}; torch threads per job: {args.threads}")
    for config in configs.values():  # features are computed once and cached, as on the page after the first run
        audio.split_features(config)
    ok = True
    for kind, config in configs.items():
        job = job_for(config, args.threads)
        cpu0 = time.process_time()
        follow(job)
        passed = report(f"{audio.title(config)} alone", job.snapshot(), time.process_time() - cpu0)
        ok &= passed if kind == "cnn" else True
    if not args.no_race and len(configs) > 1:
        jobs = {kind: job_for(config, max(1, args.threads // len(configs))) for kind, config in configs.items()}
        follow(*jobs.values())
        for kind, job in jobs.items():
            report(f"{audio.title(configs[kind])} in race", job.snapshot(), None)
    print(f"target: CNN test accuracy >= {TARGET_ACC:.0%} with <= {TARGET_CPU_S:.0f} s CPU -> "
          f"{'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
