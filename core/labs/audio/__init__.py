"""The audio lab: spoken digits heard the way a model hears them (waveform, STFT, mel spectrogram, MFCCs), a
log-mel CNN raced against an MFCC LSTM / GRU on voices never heard in training, and what each heard in a clip.

- ``Config`` (one run) and ``PageConfig`` (the whole page, both racers) in :mod:`.config`;
- features in :mod:`.features`, the trainer and its ``View`` in :mod:`.trainer`;
- inspections (``predict_clip``, ``explain_clip`` …) in :mod:`.inspections`;
- "Teach it your voice" — few-shot fine-tuning on a visitor's clips — in :mod:`.teach`.
"""

from __future__ import annotations

import functools
import math

from core.explain import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.jobs import TrainingJob

from .config import KINDS, SURE, Config, PageConfig, TeachConfig, default_config, default_epochs
from .features import FeatureParams
from .inspections import (
    Explanation,
    ModelSummary,
    Prediction,
    clip_input,
    explain_clip,
    predict_clip,
    predict_proba,
    silence_input,
    summary,
)
from .teach import (
    TeachTrainer,
    TeachView,
    TrainedModel,
    VisitorClips,
    held_out,
    make_teach_job,
    make_teach_trainer,
    readiness,
    trained_model,
)
from .trainer import DigitTrainer, View, make_trainer, split_features, split_sizes

PAUSE_UNWATCHED_S = 60.0  # a run whose page is closed pauses itself after this long

__all__ = [
    "KINDS", "PAUSE_UNWATCHED_S", "SURE", "Config", "DigitTrainer", "Explanation", "FeatureParams", "ModelSummary",
    "PageConfig", "Prediction", "TeachConfig", "TeachTrainer", "TeachView", "TrainedModel", "View", "VisitorClips",
    "clip_input", "default_config", "default_epochs", "explain_clip", "explainable", "held_out", "make_job",
    "make_teach_job", "make_teach_trainer", "make_trainer", "predict_clip", "predict_proba", "readiness",
    "silence_input", "split_features", "split_sizes", "summary", "title", "trained_model",
]


def title(config: Config) -> Message:
    """``Log-mel CNN`` / ``MFCC LSTM`` / ``MFCC GRU`` in the visitor's language."""
    return Message(f"audio.models.{config.kind}")


def make_job(config: Config, *, threads: int | None = None, pause_unwatched_s: float | None = None) -> TrainingJob:
    """A job that trains ``config`` for its epochs, evaluating and drawing the test voices once per epoch."""
    config.validate()
    n_train = split_sizes(config)["train"]
    per_epoch = math.ceil(n_train / min(config.batch_size, n_train))
    name = Message("audio.job", model=Term(f"audio.models.{config.kind}"),
                   language=Term(f"audio.choices.language.{config.language}"))
    return TrainingJob(functools.partial(make_trainer, config), name=name, total_steps=config.steps(n_train),
                       eval_every=per_epoch, snapshot_every=per_epoch, seed=config.seed, threads=threads,
                       pause_unwatched_s=pause_unwatched_s, diverge_factor=3.0)


def explainable(trainer: DigitTrainer | TeachTrainer) -> Explainable:
    """The recogniser (or the one taught a visitor's voice) with held-out test clips of the bundled voices (log-mel
    bands or MFCC rows × frames) for the Explain page."""
    config = trainer.config
    x_test, y_test = trainer.test[0].detach().cpu(), trainer.test[1].detach().cpu()
    x_train, y_train = (t.detach().cpu() for t in trainer.bundled_training())
    low = x_test.amin(dim=(0, 2)).tolist()  # per row: each band's (or coefficient's) own range
    high = [max(h, lo + 1e-3) for h, lo in zip(x_test.amax(dim=(0, 2)).tolist(), low, strict=True)]
    spec = InputSpec(shape=tuple(x_test.shape[1:]), class_names=list(trainer.labels), low=tuple(low),
                     high=tuple(high), mean=x_train.mean(0).numpy())
    rows = Term("audio.units.mel_band" if config.input == "log-mel" else "audio.units.mfcc_row")
    card = {**config.card(), "model": {"kind": config.kind, "input": config.input, "rows": config.rows,
                                       "frames": config.frames}, "step": trainer.steps_done}
    if isinstance(trainer, TeachTrainer):
        card["taught"] = {**trainer.teach.card(), "clips": trainer.learned_from}
    return Explainable("audio", "grid", private_copy(trainer.model), spec, x_test, y_test,
                       Message("audio.describe", model=title(config), rows=config.rows, frames=config.frames,
                               row=rows, step=trainer.steps_done),
                       x_train=x_train, card=card,
                       extra={"rows": rows, "flip_rows": True, "what": "clip", "y_train": y_train})
