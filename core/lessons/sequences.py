"""Lessons of the sequence lab."""

from __future__ import annotations

from core.jobs import JobSnapshot
from core.labs.sequences import CELLS, Config

from . import Challenge, Lesson, Step, last


def rnn_fails_lstm_succeeds(config: Config, snap: JobSnapshot) -> bool:
    """The adding problem at length ≥ 100: the LSTM below a quarter of the memoryless baseline, the RNN still at
    60 % of it or more (it cannot carry the two marked numbers that far)."""
    baseline = snap.view.task.baseline
    return (config.task == "memory" and config.seq_len >= 100 and {"RNN", "LSTM"} <= set(config.cells)
            and last(snap, "evals", "val_loss/LSTM") <= 0.25 * baseline
            and last(snap, "evals", "val_loss/RNN") >= 0.6 * baseline)


def clipped_rnn_survives(config: Config, snap: JobSnapshot) -> bool:
    """Exploding settings (recurrent weights ×3 or more, plain SGD at lr ≥ 0.1) and yet the RNN trains 500 steps
    without diverging: gradient clipping on."""
    return (config.init_scale >= 3 and config.optimizer == "SGD" and config.lr >= 0.1 and "RNN" in config.cells
            and config.clip_norm is not None and snap.step >= 500 and "RNN" not in snap.view.diverged)


LESSONS = (
    Lesson("sequences", "memory", steps=(
        Step("race", {"task": "memory", "cells": CELLS, "seq_len": 50, "init_scale": 1.0, "optimizer": "Adam",
                      "lr": 0.02, "clip_norm": None}),
        Step("gradients"),
        Step("gates", {"task": "memory", "cells": ("LSTM",), "seq_len": 50}),
        Step("explode", {"task": "memory", "cells": CELLS, "seq_len": 50, "init_scale": 3.0, "optimizer": "SGD",
                         "lr": 0.1, "clip_norm": None}),
        Step("text", {"task": "chars", "cells": ("LSTM",), "text_source": "zen"}),
    ), challenges=(
        Challenge("long", rnn_fails_lstm_succeeds, {"task": "memory", "cells": ("RNN", "LSTM"), "seq_len": 100}),
        Challenge("clip", clipped_rnn_survives, {"task": "memory", "cells": ("RNN",), "init_scale": 3.0,
                                                 "optimizer": "SGD", "lr": 0.1}),
    )),
)
