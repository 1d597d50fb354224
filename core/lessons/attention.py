"""Lessons of the attention lab."""

from __future__ import annotations

from core.jobs import JobSnapshot
from core.labs.attention import Config

from . import Challenge, Lesson, Step, last

TARGET_ACCURACY = 0.99
ANTI_DIAGONAL = 0.8  # the last layer's mean attention weight on the mirrored position


def reversal_anti_diagonal(config: Config, snap: JobSnapshot) -> bool:
    """Reversal of 8 symbols at ≥ 99 % held-out token accuracy, the last layer's attention ≥ 0.8 on the
    anti-diagonal (output i → input 7 − i)."""
    return (config.task == "reversal" and config.seq_len == 8
            and last(snap, "evals", "val_accuracy") >= TARGET_ACCURACY
            and last(snap, "evals", "val_mirror") >= ANTI_DIAGONAL)


def gpt_uses_context(config: Config, snap: JobSnapshot) -> bool:
    """A GPT-style model whose held-out loss is below the unigram entropy of its text: it uses the context."""
    return config.task == "causal_lm" and last(snap, "evals", "val_loss") < config.corpus().unigram_entropy()


LESSONS = (
    Lesson("attention", "first", steps=(
        Step("reverse", {"task": "reversal", "seq_len": 8, "digits": 10, "layers": 2, "heads": 2, "probe": ""}),
        Step("scores", {"task": "reversal", "seq_len": 8, "digits": 10, "probe": "12345678"}),
        Step("one_head", {"task": "reversal", "seq_len": 8, "layers": 1, "heads": 1, "probe": ""}),
        Step("bert", {"task": "masked_lm", "layers": 2, "heads": 4, "dropout": 0.1, "probe": ""}),
        Step("gpt", {"task": "causal_lm", "layers": 2, "heads": 4, "dropout": 0.2, "probe": "", "temperature": 0.8}),
    ), challenges=(
        Challenge("reversal", reversal_anti_diagonal, {"task": "reversal", "seq_len": 8, "probe": ""}),
        Challenge("gpt_context", gpt_uses_context, {"task": "causal_lm", "heads": 4, "dropout": 0.2, "probe": ""}),
    )),
)
