"""Lessons of the compression lab: prune, quantize, distill, few-shot transfer against training from scratch, and
export to ONNX.

The checks read the run of the tab on show: a fine-tuning job's ``PruneView`` (its source model's score before
pruning, measured by the job itself) or a few-shot job's ``FewShotView``."""

from __future__ import annotations

import math

import numpy as np

from core.jobs import JobSnapshot
from core.labs.compress import Config, FewShotView, PruneView

from . import Challenge, Lesson, Step

SPARSITY = 0.8  # of the prunable weights, measured on the pruned model
POINT = 0.01  # one point of accuracy
SHOTS = 5
REPEATS = 3  # each (method, k) averaged over at least this many draws of the k examples


def pruned_and_recovered(config: Config, snap: JobSnapshot) -> bool:
    """A fine-tuned classifier with at least 80 % of its weights at zero whose test accuracy is within one point of
    the dense model's."""
    view = snap.view
    return (config.task == "finetune" and isinstance(view, PruneView) and view.metric == "accuracy"
            and view.step > 0 and view.sparsity >= SPARSITY - 0.005
            and math.isfinite(view.score) and view.score >= view.dense_score - POINT)


def _mean_at_k(view: FewShotView, method: str) -> float:
    """The mean accuracy of ``method`` at k = 5 once at least 3 of its repeats are done (NaN before)."""
    runs = view.accuracy[view.methods.index(method), [int(k) for k in view.shots].index(SHOTS)]
    done = runs[np.isfinite(runs)]
    return float(done.mean()) if len(done) >= REPEATS else math.nan


def transfer_beats_scratch(config: Config, snap: JobSnapshot) -> bool:
    """A few-shot run with k = 5 in which the better of the frozen and the fine-tuned backbone beats the same network
    trained from scratch on the same 5 examples per class, each averaged over at least 3 draws of the examples."""
    view = snap.view
    if not (config.task == "fewshot" and isinstance(view, FewShotView) and SHOTS in [int(k) for k in view.shots]
            and "scratch" in view.methods):
        return False
    transferred = [_mean_at_k(view, m) for m in ("frozen", "finetune") if m in view.methods]
    transferred = [a for a in transferred if math.isfinite(a)]
    scratch = _mean_at_k(view, "scratch")
    return bool(transferred and math.isfinite(scratch) and max(transferred) > scratch)


PRUNE = {"task": "finetune", "prune_method": "magnitude", "sparsity": 0.5, "steps": 400, "optimizer": "Adam",
         "lr": 0.001}
DISTILL = {"task": "distill", "student": "mlp", "width": 32, "temperature": 4.0, "alpha": 0.7, "steps": 400,
           "optimizer": "Adam", "lr": 0.001}
FEWSHOT = {"task": "fewshot", "fewshot_data": "digits", "backbone": "pretrain", "shots": (1, 2, 5, 10, 20),
           "repeats": 3, "pretrain_steps": 300, "run_steps": 60, "rotation": True}

LESSONS = (
    Lesson("compress", "first", steps=(
        Step("prune", PRUNE),
        Step("quantize"),
        Step("distill", DISTILL),
        Step("fewshot", FEWSHOT),
        Step("export"),
    ), challenges=(
        Challenge("prune80", pruned_and_recovered, PRUNE | {"sparsity": SPARSITY}),
        Challenge("transfer5", transfer_beats_scratch, FEWSHOT | {"shots": (SHOTS,), "rotation": False}),
    )),
)
