"""Teach it your voice (Teachable Machine's idea, on the lab's own models): a visitor's few clips of each digit
fine-tune a recogniser trained on the bundled voices.

Per digit, the visitor's latest ``holdout`` clips are kept aside to test on; the others (with recording-like copies,
and a replay of bundled clips so that the other voices are not forgotten) are learned from, either by the classifier
alone on frozen features or by the whole network. The job's view compares the held-out accuracy before and after,
clip by clip. The clips arrive as arrays and live only in the job: nothing is written anywhere.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.data.audio import CLIP_SAMPLES, load_spoken_digits, recording_like, stack_clips
from core.errors import DataError
from core.i18n import Message, Term
from core.jobs import TrainingJob
from core.training import SupervisedTrainer, make_optimizer

from .config import CLIP_NORM, Config, TeachConfig
from .trainer import DigitTrainer, build_model, features, spec_augment

REPLAY_PER_DIGIT = 8  # bundled training clips per digit mixed into the visitor's (so other voices stay known)
CHECK_PER_DIGIT = 8  # bundled test clips per digit to check that the other voices still work
MAX_CLIPS = 200


@dataclass
class TrainedModel:
    """A trained recogniser as plain arrays (picklable: a teaching job can rebuild it anywhere)."""

    config: Config
    state: dict[str, np.ndarray]
    labels: tuple[str, ...]
    step: int


@dataclass
class VisitorClips:
    """The visitor's prepared clips (``prepare_clip``: 1-second windows) and the digit each one says."""

    waves: np.ndarray  # (clips, CLIP_SAMPLES) float32
    digits: np.ndarray  # (clips,) int

    def __post_init__(self) -> None:
        self.waves = np.asarray(self.waves, dtype=np.float32).reshape(-1, CLIP_SAMPLES)
        self.digits = np.asarray(self.digits, dtype=np.int64).reshape(-1)
        if len(self.waves) != len(self.digits) or len(self.waves) > MAX_CLIPS:
            raise DataError("audio.errors.teach_clips", n=len(self.waves), most=MAX_CLIPS)
        if len(self.digits) and not ((0 <= self.digits) & (self.digits <= 9)).all():
            raise DataError("audio.errors.teach_digit")


def trained_model(trainer: DigitTrainer) -> TrainedModel:
    """The trainer's model as arrays (an inspection: run it through ``job.inspect``)."""
    state = {k: v.detach().cpu().numpy().copy() for k, v in trainer.model.state_dict().items()}
    return TrainedModel(trainer.config, state, tuple(trainer.labels), trainer.steps_done)


def held_out(digits: np.ndarray, holdout: int) -> np.ndarray:
    """Which clips are kept aside for testing: per digit the latest ``holdout`` ones, always leaving one to learn
    from."""
    digits = np.asarray(digits)
    test = np.zeros(len(digits), dtype=bool)
    for d in np.unique(digits):
        idx = np.flatnonzero(digits == d)
        k = min(holdout, len(idx) - 1)
        if k > 0:
            test[idx[-k:]] = True
    return test


def readiness(clips: VisitorClips, holdout: int) -> Message | None:
    """Why the clips cannot be taught from yet, or None: something to learn from and something to test on."""
    test = held_out(clips.digits, holdout)
    if not (~test).any():
        return Message("audio.teach.need_clips")
    if holdout and not test.any():
        return Message("audio.teach.need_test", holdout=holdout)
    return None


@dataclass
class TeachView:
    """The visitor's held-out clips before and after: accuracy, and per clip the digit, both answers and the
    probability of the answer after; plus the accuracy on bundled test voices (did it forget them?)."""

    before: float | None  # held-out accuracy of the model as trained on the bundled voices (None: no held-out clips)
    after: float | None  # … and now
    digits: np.ndarray  # held-out clips: what each says …
    predicted_before: np.ndarray  # … what the model heard before …
    predicted_after: np.ndarray  # … and hears now …
    probability_after: np.ndarray  # … how sure it is now
    bundled_before: float  # accuracy on a sample of the bundled test voices, before and now
    bundled_after: float
    learned_from: int  # the visitor's clips learned from
    mode: str
    step: int


class TeachTrainer(SupervisedTrainer):
    """Fine-tunes a copy of a trained recogniser on the visitor's clips; the model's own settings are ``config`` (so
    the lab's inspections — ``predict_clip``, ``explain_clip`` — work on it as on a ``DigitTrainer``)."""

    def __init__(self, teach: TeachConfig, base: TrainedModel, clips: VisitorClips) -> None:
        teach.validate()
        problem = readiness(clips, teach.holdout)
        if problem is not None:
            raise DataError(problem.key, **problem.params)
        self.teach, self.config, self.labels = teach, base.config, base.labels
        kind, params = base.config.kind, base.config.params
        model = build_model(base.config, len(base.labels))
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in base.state.items()})
        test = held_out(clips.digits, teach.holdout)
        learn_waves, learn_digits = clips.waves[~test], clips.digits[~test]
        copies = [recording_like(learn_waves, teach.seed * 101 + k) for k in range(teach.copies)]
        x = features(kind, np.concatenate([learn_waves, *copies]), params)
        y = np.tile(learn_digits, teach.copies + 1)
        replay_x, replay_y = _bundled(base.config, "train", REPLAY_PER_DIGIT, teach.seed)
        self.replay = (torch.from_numpy(replay_x), torch.from_numpy(replay_y).long())
        x, y = np.concatenate([x, replay_x]), np.concatenate([y, replay_y])
        self.test_waves, self.test_digits = clips.waves[test], clips.digits[test]
        self.check = _bundled(base.config, "test", CHECK_PER_DIGIT, 0)
        if teach.mode == "head":
            for name, p in model.named_parameters():
                p.requires_grad_(name.startswith("head."))
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = make_optimizer("Adam", trainable, teach.lr)
        augment = spec_augment() if kind == "cnn" else None
        super().__init__(model, optimizer, F.cross_entropy, (torch.from_numpy(x), torch.from_numpy(y).long()),
                         batch_size=32, augment=augment, clip_norm=CLIP_NORM, seed=teach.seed)
        self._test_x = torch.from_numpy(features(kind, self.test_waves, params)) if test.any() else None
        self._check_x = torch.from_numpy(self.check[0])
        self.test = (self._check_x, torch.from_numpy(self.check[1]).long())  # what the Explain page tests on
        self.before = self._answers()
        self.learned_from = int((~test).sum())
        self.steps_done = 0

    def bundled_training(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Training clips for the Explain page's baselines: the bundled replay only, never the visitor's voice."""
        return self.replay

    def _freeze_statistics(self) -> None:
        """Batch-norm statistics stay those of the bundled voices (a few clips would skew them)."""
        for m in self.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()

    def train_step(self) -> dict[str, float]:
        self.model.train()
        self._freeze_statistics()
        self.steps_done += 1
        return super().train_step()

    def _answers(self) -> tuple[np.ndarray, float]:
        """Probabilities on the held-out clips, and the accuracy on the bundled check clips."""
        probs = (torch.softmax(self.predict(self._test_x), 1).numpy() if self._test_x is not None
                 else np.zeros((0, len(self.labels)), np.float32))
        return probs, float((self.predict(self._check_x).argmax(1).numpy() == self.check[1]).mean())

    def evaluate(self) -> dict[str, float]:
        """Accuracy on the visitor's held-out clips (``val_accuracy``) and on the bundled check clips."""
        probs, bundled = self._answers()
        out = {"bundled_accuracy": bundled}
        if len(probs):
            out["val_accuracy"] = float((probs.argmax(1) == self.test_digits).mean())
            out["val_loss"] = float(F.nll_loss(torch.log(torch.from_numpy(probs) + 1e-9),
                                               torch.from_numpy(self.test_digits)))
        return out

    def snapshot(self) -> TeachView:
        probs, bundled = self._answers()
        before, bundled_before = self.before
        digits = self.test_digits
        accuracy = (lambda p: float((p.argmax(1) == digits).mean()) if len(digits) else None)
        after = probs.argmax(1) if len(probs) else np.zeros(0, np.int64)
        return TeachView(accuracy(before), accuracy(probs), digits.copy(), before.argmax(1) if len(before) else after,
                         after, probs.max(1) if len(probs) else np.zeros(0, np.float32), bundled_before, bundled,
                         self.learned_from, self.teach.mode, self.steps_done)


@functools.lru_cache(maxsize=8)
def _bundled(config: Config, split: str, per_digit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and digits of ``per_digit`` bundled clips per digit of ``split`` (the training replay also has a
    recording-like version of each)."""
    data = load_spoken_digits(config.language)
    rng = np.random.default_rng(seed)
    idx = data.indices(split)
    pick = np.concatenate([rng.permutation(idx[data.digits[idx] == d])[:per_digit] for d in range(10)])
    waves = stack_clips([data.waves[i] for i in pick])
    if split == "train":
        waves = np.concatenate([waves, recording_like(waves, seed + 17)])
        pick = np.concatenate([pick, pick])
    return features(config.kind, waves, config.params), data.digits[pick]


def make_teach_trainer(teach: TeachConfig, base: TrainedModel, clips: VisitorClips) -> TeachTrainer:
    return TeachTrainer(teach, base, clips)


def make_teach_job(teach: TeachConfig, base: TrainedModel, clips: VisitorClips, *,
                   pause_unwatched_s: float | None = None) -> TrainingJob:
    """A job that fine-tunes ``base`` on ``clips`` (validated first: bad settings or too few clips fail here)."""
    teach.validate()
    problem = readiness(clips, teach.holdout)
    if problem is not None:
        raise DataError(problem.key, **problem.params)
    every = max(1, teach.steps // 20)
    name = Message("audio.teach.job", model=Term(f"audio.models.{base.config.kind}"),
                   mode=Term(f"audio.choices.mode.{teach.mode}"))
    return TrainingJob(functools.partial(make_teach_trainer, teach, base, clips), name=name, total_steps=teach.steps,
                       eval_every=every, snapshot_every=every, seed=teach.seed, pause_unwatched_s=pause_unwatched_s)
