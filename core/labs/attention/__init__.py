"""The attention lab: a tiny transformer trained live on a task where attention can be read.

- ``reversal`` / ``sorting``: an encoder (BERT-style, every position sees every other) maps a digit sequence to
  its reversal (a correct map is the anti-diagonal) or its sorted copy;
- ``masked_lm``: the encoder fills in characters hidden by BERT's 15 % / 80-10-10 rule, loss on those only;
- ``causal_lm``: a decoder (GPT-style, lower-triangular mask) predicts the next character and generates text
  with temperature, top-k and top-p.

Optionally an LSTM (the sequence lab's ``RecurrentNet``; bidirectional where the transformer sees both ways)
races on exactly the same batches. Every setting is declared once in :class:`Config` (``settings``); the page
draws the :class:`View` of ``trainer.snapshot()`` (``views``) and asks for the rest with the functions of
``inspections``. The task's data and models are in ``task``, the trainer and its job in ``trainer``.
"""

from .inspections import (
    OneHotReadout,
    attention_maps,
    build_readout,
    current_view,
    describe_readout,
    explainable,
    fill_in_blank,
    generate,
    initial_view,
    next_token,
    set_live,
)
from .settings import DIGIT_TASKS, LEARNING_RATES, PRESETS, SPEEDS, TASKS, TEXT_SOURCES, Config
from .task import MASK_LABEL, TaskData, build_lstm, build_model, build_task, lstm_logits, sequence_loss
from .trainer import EVAL_EVERY, PATTERNS, SNAPSHOT_EVERY, AttentionTrainer, make_job, make_trainer, pattern_mass
from .views import AttentionMaps, Embeddings, FillIn, Generation, NextToken, View

__all__ = [
    "DIGIT_TASKS", "EVAL_EVERY", "LEARNING_RATES", "MASK_LABEL", "PATTERNS", "PRESETS", "SNAPSHOT_EVERY", "SPEEDS",
    "TASKS", "TEXT_SOURCES", "AttentionMaps", "AttentionTrainer", "Config", "Embeddings", "FillIn", "Generation",
    "NextToken", "OneHotReadout", "TaskData", "View", "attention_maps", "build_lstm", "build_model", "build_readout",
    "build_task", "current_view", "describe_readout", "explainable", "fill_in_blank", "generate", "initial_view",
    "lstm_logits", "make_job", "make_trainer", "next_token", "pattern_mass", "sequence_loss", "set_live",
]
