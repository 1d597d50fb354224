"""What a trained digit recogniser hears in one clip, and which time–frequency regions drove its decision.

Functions of a trainer that a page runs between two training steps (``job.inspect(fn, *args)``); each returns a
small picklable result.

Integrated Gradients comes from the explain registry (``core.explain.attribute``), with *silence* as the baseline:
for the log-mel CNN a spectrogram at the clip's quietest level everywhere, for the MFCC recurrent net the MFCCs
of that same silent spectrogram (c0 low, every other coefficient and every delta zero). The map then adds up to
f(clip) − f(silence): how much each (band or coefficient, frame) cell moved the class score away from silence.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch

from core.explain import InputSpec, attribute

from .config import Config
from .features import frame_times, mel_frequencies, mfcc_labels
from .trainer import DigitTrainer, build_model, features, split_sizes

IG_STEPS = {"cnn": 32, "lstm": 128, "gru": 128}


@dataclass
class ModelSummary:
    """What a configuration builds, before it trains: input shape, size and length of the run."""

    kind: str
    rows: int
    frames: int
    parameters: int
    steps: int


@dataclass
class Prediction:
    """One clip's class probabilities."""

    probabilities: np.ndarray
    labels: tuple[str, ...]

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())


@dataclass
class Explanation:
    """Attribution of one clip for one class; ``inputs`` and ``map`` are ``(rows, frames)``; ``times`` the frame
    centres (s), ``freqs`` the mel band centres (Hz; the CNN) or ``row_labels`` the MFCC rows (the recurrent nets)."""

    kind: str
    inputs: np.ndarray
    map: np.ndarray
    target: int
    probabilities: np.ndarray
    output_diff: float | None
    delta: float | None
    seconds: float
    times: np.ndarray
    freqs: np.ndarray | None
    row_labels: tuple[str, ...]

    @property
    def completeness_error(self) -> float | None:
        """|sum(map) − (f(clip) − f(silence))| / |f(clip) − f(silence)|."""
        if self.delta is None or self.output_diff is None:
            return None
        return abs(self.delta) / max(abs(self.output_diff), 1e-8)


def summary(config: Config) -> ModelSummary:
    """Input rows × frames, parameter count and training steps of ``config`` (no training data is computed)."""
    config.validate()
    params = sum(p.numel() for p in build_model(config).parameters())
    return ModelSummary(config.kind, config.rows, config.frames, params, config.steps(split_sizes(config)["train"]))


def clip_input(trainer: DigitTrainer, wave: np.ndarray) -> torch.Tensor:
    """The model input ``(1, rows, frames)`` for one prepared clip (``core.data.audio.prepare_clip``)."""
    return torch.from_numpy(features(trainer.config.kind, np.asarray(wave, np.float32)[None, :],
                                     trainer.config.params))


def predict_proba(trainer: DigitTrainer, x: torch.Tensor) -> np.ndarray:
    """Class probabilities for a batch of model inputs."""
    return torch.softmax(trainer.predict(x), dim=1).numpy()


def predict_clip(trainer: DigitTrainer, wave: np.ndarray) -> Prediction:
    """What the model hears in one prepared clip."""
    return Prediction(predict_proba(trainer, clip_input(trainer, wave))[0], trainer.labels)


def silence_input(trainer: DigitTrainer, x: np.ndarray) -> np.ndarray:
    """The model input of a silent clip at ``x``'s floor level (same shape as ``x``: rows × frames)."""
    p = trainer.config.params
    if trainer.config.input == "log-mel":
        return np.full_like(x, float(x.min()))
    # The MFCC input's floor: rebuild the silent log-mel at the level c0 implies for the quietest frame.
    frames = x.shape[-1]
    quiet = float(x[0].min()) / np.sqrt(p.n_mels)  # orthonormal DCT: c0 = √n_mels · (constant level)
    silent = librosa.feature.mfcc(S=np.full((p.n_mels, frames), quiet, np.float32), n_mfcc=p.n_mfcc, norm="ortho")
    return np.concatenate([silent] + [np.zeros_like(silent)] * p.deltas, axis=0).astype(np.float32)


def explain_clip(trainer: DigitTrainer, wave: np.ndarray, target: int | None = None, steps: int | None = None
                 ) -> Explanation:
    """Integrated Gradients of the ``target`` class (default: the predicted one) for one prepared clip.

    Runs on a private eval copy of the model (the training one is untouched). The CNN's score grows smoothly along
    the path from silence and 32 steps integrate it to a few per cent; a recurrent net's score often jumps within a
    few per cent of the path (its gates saturate), so it gets 128 steps and ``completeness_error`` tells how far the
    map still is from adding up.
    """
    config = trainer.config
    steps = steps or IG_STEPS[config.kind]
    x = clip_input(trainer, wave)
    x1 = x[0].numpy()
    probs = predict_proba(trainer, x)[0]
    target = int(probs.argmax()) if target is None else int(target)
    base = silence_input(trainer, x1)
    spec = InputSpec(shape=tuple(x1.shape), class_names=list(trainer.labels), low=float(x1.min()),
                     high=float(x1.max()), mean=base)
    result = attribute("IntegratedGradients", trainer.model, x, target, spec=spec, baseline="mean", ig_steps=steps)
    p = config.params
    is_cnn = config.input == "log-mel"
    return Explanation(config.kind, x1, np.asarray(result.map).reshape(x1.shape), target, probs, result.output_diff,
                       result.delta, result.seconds, frame_times(x1.shape[1], p),
                       mel_frequencies(p) if is_cnn else None, () if is_cnn else tuple(mfcc_labels(p)))
