"""Compression lab targets on one model of each lab's kind, trained here with the labs' own builders:

- export: ONNX (onnxruntime), TorchScript and state_dict + card re-import give PyTorch's outputs (≤ 1e-4) for the
  network builder's MLP, a digits MLP, the CNN lab's CNN, a digits LSTM, the sequence lab's character LSTM and
  adding-problem GRU, and the audio lab's log-mel CNN and MFCC LSTM;
- quantization: dynamic int8 makes the MLP and the LSTMs ≥ 3× smaller on disk with < 1 point of accuracy lost
  (latency as a ratio against float32 timed in the same run); static int8 for the CNNs;
- pruning: the accuracy-vs-sparsity curve, and 50 % magnitude pruning + fine-tuning within 1 point;
- distillation: a small student with and without the CNN teacher's soft targets;
- few-shot: pre-train on digits 0–4, learn 5–9 from k examples: at k = 5 transfer (fine-tuned) beats scratch.

Wall times are taken on whatever else the machine is doing; ratios are measured in the same run.

    python bench/compress.py [--quick]

Last line: ``onnx_max_abs_diff=<x> quant_size_ratio=<r> quant_acc_drop=<points> prune50_acc_drop=<points>
fewshot_k5_transfer=<a> fewshot_k5_scratch=<b>``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.compress import demo  # noqa: E402
from core.compress.export import check_exports, example_input, model_card  # noqa: E402
from core.compress.measure import metric_name, score  # noqa: E402
from core.jobs import build_seeded  # noqa: E402
from core.labs import compress as lab  # noqa: E402


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter training everywhere (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    q = args.quick
    t0, c0 = time.perf_counter(), time.process_time()

    section("shelf (trained here)")
    makers = {
        "planar_mlp": functools.partial(demo.planar_mlp, steps=500 if q else 1500),
        "digits_mlp": functools.partial(demo.digits_mlp, steps=500 if q else 1500),
        "digits_cnn": functools.partial(demo.digits_cnn, epochs=2 if q else 6),
        "digits_lstm": functools.partial(demo.digits_lstm, steps=400 if q else 1500),
        "chars_lstm": functools.partial(demo.sequence_model, "chars", steps=100 if q else 300),
        "memory_gru": functools.partial(demo.sequence_model, "memory", steps=100 if q else 300, cell="GRU"),
        "audio_cnn": functools.partial(demo.audio_model, "cnn", epochs=3 if q else 10),
        "audio_lstm": functools.partial(demo.audio_model, "lstm", epochs=3 if q else 15),
    }
    shelf = {}
    for name, make in makers.items():
        start = time.process_time()
        shelf[name] = source = make()
        value = score(source.model, source.x_test, source.y_test)
        metric = metric_name(source.y_test)
        print(f"{name:<11} {source.lab:<9} {type(source.model).__name__:<13} params={source.parameters():>7,} "
              f"test_{metric}={value:.3f} cpu={time.process_time() - start:.1f}s", flush=True)

    section("export: outputs against PyTorch on 64 test inputs")
    onnx_diffs = []
    for name, source in shelf.items():
        checks = check_exports(source.model, example_input(source, 64), model_card(source))
        onnx_diffs += [c.max_abs_diff for c in checks if c.format == "onnx"]
        print(f"{name:<11} " + "  ".join(f"{c.format}={c.max_abs_diff:.1e} ({c.bytes / 1024:.0f} KB)" for c in checks))

    section("quantization (size = torch.save bytes; latency = median of one 64-input batch, ratio vs float32)")
    ratios, drops = [], []
    for name in ("digits_mlp", "digits_lstm", "audio_lstm", "digits_cnn", "audio_cnn"):
        table = lab.quantization(shelf[name])
        for variant in table.variants:
            row = table.row(variant)
            print(f"{name:<11} {variant:<13} {row['bytes'] / 1024:7.1f} KB  {row['size_ratio']:4.2f}× smaller  "
                  f"{row['latency_s'] * 1e3:7.2f} ms  {row['speedup']:4.2f}× faster  acc={row['score']:.4f} "
                  f"({-row['drop_points']:+.2f} pts)")
            if variant == "dynamic_int8" and name in ("digits_mlp", "digits_lstm", "audio_lstm"):
                ratios.append(row["size_ratio"])
                drops.append(row["drop_points"])
        print(f"{'':<11} engine={table.engine}")

    section("pruning: accuracy against sparsity (no fine-tuning)")
    for name in ("digits_cnn", "digits_mlp", "audio_cnn"):
        result = lab.sweep(shelf[name])
        print(f"{name:<11} sparsity " + " ".join(f"{a:5.0%}" for a in result.amounts))
        for i, method in enumerate(result.methods):
            print(f"{'':<11} {method:<9}" + " ".join(f"{s:5.3f}" for s in result.scores[i]))

    section("pruning 50 % (magnitude), then fine-tuning with the mask held")
    prune_drops = []
    for name in ("digits_cnn", "digits_mlp", "digits_lstm", "audio_cnn"):
        config = lab.Config(task="finetune", prune_method="magnitude", sparsity=0.5, steps=100 if q else 300,
                            lr=0.001)
        trainer = build_seeded(functools.partial(lab.make_trainer, config, shelf[name]), config.seed)
        for _ in range(config.steps):
            trainer.train_step()
        view = trainer.snapshot()
        drop = (view.dense_score - view.score) * 100
        prune_drops.append(drop)
        print(f"{name:<11} dense={view.dense_score:.4f} pruned={view.pruned_score:.4f} fine-tuned={view.score:.4f} "
              f"({-drop:+.2f} pts) sparsity={view.sparsity:.3f} bytes {view.dense_bytes:,} → {view.sparse_bytes:,} "
              f"({view.dense_bytes / view.sparse_bytes:.2f}× smaller, bit-mask sparse storage)")

    section("distillation: CNN teacher → small students, with and without the soft targets (T=4, α=0.7)")
    teacher = shelf["digits_cnn"]
    for student, width in (("mlp", 16), ("mlp", 32), ("cnn", 4)):
        config = lab.Config(task="distill", student=student, width=width, temperature=4.0, alpha=0.7,
                            steps=200 if q else 800, lr=0.003)
        trainer = build_seeded(functools.partial(lab.make_trainer, config, teacher), config.seed)
        for _ in range(config.steps):
            trainer.train_step()
        view = trainer.snapshot()
        print(f"{student}-{width:<3} teacher={view.teacher_accuracy:.4f} ({view.teacher_params:,} params, "
              f"{view.teacher_bytes / 1024:.0f} KB)  with KD={view.accuracy_kd:.4f}  without={view.accuracy_plain:.4f}"
              f"  student {view.student_params:,} params, {view.student_bytes / 1024:.1f} KB")

    section("few-shot: pre-train on digits 0–4, learn 5–9 from k examples each (mean ± std over repeats)")
    config = lab.Config(task="fewshot", repeats=2 if q else 5, pretrain_steps=150 if q else 300)
    trainer = build_seeded(functools.partial(lab.make_trainer, config), config.seed)
    start = time.process_time()
    view = trainer.run_all()
    print(f"backbone on 0–4: {view.base_accuracy:.3f}; rotation pretext: {view.pretext_accuracy:.3f}; "
          f"cpu={time.process_time() - start:.1f}s")
    print(f"{'k':<34}" + " ".join(f"{k:>12}" for k in view.shots))
    for i, method in enumerate(view.methods):
        print(f"{method:<34}" + " ".join(f"{m:6.3f}±{s:.3f}" for m, s in zip(view.mean[i], view.std[i], strict=True)))

    print(f"\nwall={time.perf_counter() - t0:.0f}s cpu={time.process_time() - c0:.0f}s (machine shared: wall times "
          "are indicative only)")
    print(f"onnx_max_abs_diff={max(onnx_diffs):.2e} quant_size_ratio={min(ratios):.2f} quant_acc_drop={max(drops):.2f} "
          f"prune50_acc_drop={max(prune_drops):.2f} fewshot_k5_transfer={view.at('finetune', 5):.3f} "
          f"fewshot_k5_scratch={view.at('scratch', 5):.3f}")


if __name__ == "__main__":
    main()
