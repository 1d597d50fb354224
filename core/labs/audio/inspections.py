"""Which time–frequency regions of a clip drove a digit recogniser's decision.

Integrated Gradients from the explain registry (``core.explain.attribute``), with *silence* as the baseline:
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
from core.models.audio import INPUTS, DigitTrainer


@dataclass
class DigitExplanation:
    """Attribution of one clip for one class; ``inputs`` and ``map`` are ``(rows, frames)``."""

    inputs: np.ndarray
    map: np.ndarray
    target: int
    probabilities: np.ndarray
    output_diff: float | None
    delta: float | None
    seconds: float

    @property
    def completeness_error(self) -> float | None:
        """|sum(map) − (f(clip) − f(silence))| / |f(clip) − f(silence)|."""
        if self.delta is None or self.output_diff is None:
            return None
        return abs(self.delta) / max(abs(self.output_diff), 1e-8)


def silence_input(trainer: DigitTrainer, x: np.ndarray) -> np.ndarray:
    """The model input of a silent clip at ``x``'s floor level (same shape as ``x``: rows × frames)."""
    p = trainer.spec.params
    if INPUTS[trainer.spec.kind] == "log-mel":
        return np.full_like(x, float(x.min()))
    # The MFCC input's floor: rebuild the silent log-mel at the level c0 implies for the quietest frame.
    frames = x.shape[-1]
    quiet = float(x[0].min()) / np.sqrt(p.n_mels)  # orthonormal DCT: c0 = √n_mels · (constant level)
    silent = librosa.feature.mfcc(S=np.full((p.n_mels, frames), quiet, np.float32), n_mfcc=p.n_mfcc, norm="ortho")
    return np.concatenate([silent] + [np.zeros_like(silent)] * p.deltas, axis=0).astype(np.float32)


IG_STEPS = {"cnn": 32, "lstm": 128, "gru": 128}


def explain_digit(trainer: DigitTrainer, x: torch.Tensor, target: int | None = None, steps: int | None = None
                  ) -> DigitExplanation:
    """Integrated Gradients of the ``target`` class (default: the predicted one) for one input ``(1, rows, frames)``.

    Runs on a private eval copy of the model (the training copy is untouched); call it through ``job.inspect``.
    The CNN's score grows smoothly along the path from silence and 32 steps integrate it to a few per cent; a
    recurrent net's score often jumps within a few per cent of the path (its gates saturate), so it gets 128
    steps and ``completeness_error`` tells how far the map still is from adding up.
    """
    steps = steps or IG_STEPS[trainer.spec.kind]
    x = torch.as_tensor(x, dtype=torch.float32)
    x1 = x[0].cpu().numpy()
    probs = torch.softmax(trainer.predict(x), dim=1)[0].numpy()
    target = int(probs.argmax()) if target is None else int(target)
    base = silence_input(trainer, x1)
    spec = InputSpec(shape=tuple(x1.shape), class_names=list(trainer.labels), low=float(x1.min()),
                     high=float(x1.max()), mean=base)
    with torch.backends.cudnn.flags(enabled=False):  # recurrent nets cannot backpropagate through cuDNN in eval mode
        result = attribute("IntegratedGradients", trainer.model, x, target, spec=spec, baseline="mean",
                           ig_steps=steps)
    return DigitExplanation(x1, np.asarray(result.map).reshape(x1.shape), target, probs, result.output_diff,
                            result.delta, result.seconds)
