"""Stand-ins for the visitor's shelf: one ``Explainable`` per kind of network the labs train (the network
builder's MLP, a wider digits MLP, the CNN lab's CNN, a row-by-row digits LSTM, the sequence lab's character LSTM
and adding-problem GRU, the audio lab's log-mel CNN and MFCC LSTM), each trained briefly with the labs' own
trainers and, where the lab has one, handed over by the lab's own ``explainable``.

For the benchmark, the tests, and a page whose shelf is still empty. Most carry their training set (``dataset``,
or ``x_train`` with ``extra["y_train"]``) so they can be fine-tuned, distilled and calibrated; the sequence lab's
grid models do not (yet).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.explain import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message
from core.jobs import build_seeded
from core.training import SupervisedTrainer, make_optimizer

from .distill import StudentMLP

KINDS = ("planar_mlp", "digits_mlp", "digits_cnn", "digits_lstm", "chars_lstm", "memory_gru", "audio_cnn", "audio_lstm")


def _fit(trainer, steps: int):
    for _ in range(steps):
        trainer.train_step()
    trainer.model.eval()
    return trainer


def _tabular(lab: str, kind: str, model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor,
             x_test: torch.Tensor, y_test: torch.Tensor, classes: list[str], description: str,
             binary: bool = False, card: dict | None = None) -> Explainable:
    flat = x_train.float().reshape(len(x_train), *x_train.shape[1:])
    spec = InputSpec(tuple(x_train.shape[1:]), classes, low=float(flat.min()), high=float(flat.max()),
                     mean=flat.mean(0).numpy())
    return Explainable(lab, kind, private_copy(model), spec, x_test, y_test, Message("compress.describe.demo",
                       name=description), x_train=x_train, binary=binary, card=card or {"lab": lab},
                       extra={"y_train": y_train})


def _digit_rows(seed: int = 0) -> tuple[torch.Tensor, ...]:
    """sklearn's 8×8 digits as (N, 8, 8) in 0..1, split 70 / 30 (stratified by the dataset's own order)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = bunch.images.astype(np.float32) / 16.0
    xtr, xte, ytr, yte = train_test_split(x, bunch.target, test_size=0.3, random_state=seed, stratify=bunch.target)
    return torch.from_numpy(xtr), torch.from_numpy(ytr).long(), torch.from_numpy(xte), torch.from_numpy(yte).long()


def planar_mlp(steps: int = 1500, seed: int = 0) -> Explainable:
    """The network builder's MLP (2 → 8 → 8 → 1, binary) on the circle data set, through the lab's own
    ``explainable`` (plus its training labels)."""
    from core.labs import planar

    config = planar.Config(dataset="circle", hidden=(8, 8), activation="Tanh", lr=0.03, seed=seed)
    trainer = _fit(build_seeded(functools.partial(planar.make_trainer, config), seed), steps)
    source = planar.explainable(trainer)
    source.extra["y_train"] = trainer.y.detach().cpu().reshape(-1)
    return source


def digits_mlp(width: int = 256, steps: int = 1500, seed: int = 0) -> Explainable:
    """A 64 → width → width → 10 MLP on the flattened 8×8 digits (big enough for int8 to pay off on disk)."""
    xtr, ytr, xte, yte = _digit_rows(seed)
    xtr, xte = xtr.flatten(1), xte.flatten(1)

    def build() -> SupervisedTrainer:
        model = StudentMLP(64, (width, width), 10).fit_scaler(xtr)
        return SupervisedTrainer(model, make_optimizer("Adam", model.parameters(), 1e-3), F.cross_entropy,
                                 (xtr, ytr), (xte, yte), batch_size=64, seed=seed)

    trainer = _fit(build_seeded(build, seed), steps)
    return _tabular("compress", "features", trainer.model, xtr, ytr, xte, yte, [str(i) for i in range(10)],
                    f"digits MLP 64-{width}-{width}-10")


def digits_lstm(hidden: int = 128, steps: int = 1500, seed: int = 0) -> Explainable:
    """The sequence lab's ``RecurrentNet`` (LSTM) reading each 8×8 digit row by row: 8 steps of 8 pixels."""
    from core.models.recurrent import RecurrentNet

    xtr, ytr, xte, yte = _digit_rows(seed)

    def build() -> SupervisedTrainer:
        model = RecurrentNet("LSTM", 8, 10, hidden_size=hidden)
        return SupervisedTrainer(model, make_optimizer("Adam", model.parameters(), 3e-3), F.cross_entropy,
                                 (xtr, ytr), (xte, yte), batch_size=64, clip_norm=5.0, seed=seed)

    trainer = _fit(build_seeded(build, seed), steps)
    return _tabular("sequences", "grid", trainer.model, xtr, ytr, xte, yte, [str(i) for i in range(10)],
                    f"LSTM ({hidden}) reading digits row by row")


def sequence_model(task: str = "chars", steps: int = 300, seed: int = 0, cell: str = "LSTM") -> Explainable:
    """The sequence lab's recurrent net on one of its tasks (``chars``: next character; ``memory``: the adding
    problem, a regression), through the lab's own ``explainable`` (a grid model; it carries no training set)."""
    from core.labs import sequences

    config = sequences.Config.for_task(task, cells=(cell,), steps=steps, seed=seed)
    trainer = build_seeded(functools.partial(sequences.make_trainer, config), seed)
    for _ in range(steps):
        trainer.train_step()
    return sequences.explainable(trainer)


def digits_cnn(epochs: int = 4, seed: int = 0, preset: str = "vgg") -> Explainable:
    """The CNN lab's network (a preset) trained on 16×16 digits, through the lab's own ``fit`` and ``explainable``."""
    from core.labs import vision

    trainer = vision.fit(vision.Config(source="digits", preset=preset, epochs=epochs, seed=seed))
    return vision.explainable(trainer)


def audio_model(kind: str = "cnn", epochs: int = 6, seed: int = 0) -> Explainable:
    """The audio lab's log-mel CNN (``kind="cnn"``) or MFCC LSTM / GRU on the spoken digits (unseen test voices),
    through the lab's own ``explainable``."""
    from core.labs import audio

    config = audio.default_config(kind, epochs=epochs, seed=seed)
    trainer = build_seeded(functools.partial(audio.make_trainer, config), seed)
    _fit(trainer, config.steps(len(trainer.x)))
    return audio.explainable(trainer)


def build(kind: str, **kwargs) -> Explainable:
    """One of :data:`KINDS` by name."""
    makers = {"planar_mlp": planar_mlp, "digits_mlp": digits_mlp, "digits_cnn": digits_cnn,
              "digits_lstm": digits_lstm, "chars_lstm": functools.partial(sequence_model, "chars"),
              "memory_gru": functools.partial(sequence_model, "memory", cell="GRU"),
              "audio_cnn": functools.partial(audio_model, "cnn"), "audio_lstm": functools.partial(audio_model, "lstm")}
    return makers[kind](**kwargs)
