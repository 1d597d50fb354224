"""How a spoken-digit recogniser trains: features of the speaker-independent split (validation and test voices are
never heard in training), recording-like copies and SpecAugment, and a ``SupervisedTrainer`` whose view is the
test-voice result — on the clean test voices and on recording-like versions of them (accuracy, confusion matrix,
accuracy per unseen voice, how often it is sure and how often it is right when it is)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.data.audio import SPLITS, load_spoken_digits, recording_like, stack_clips
from core.models import MODELS
from core.models.audio import INPUTS
from core.training import STATS_EVERY, SupervisedTrainer, make_optimizer

from .config import CLIP_NORM, SURE, Config
from .features import FeatureParams, mel_db, mfcc

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
TRAIN_SEED = 1_000  # recording-like training copy k is made with seed TRAIN_SEED + k …
HELD_OUT_SEED = 7_000  # … and the held-out recording-like sets with seeds from here: never the same rooms
HELD_OUT_COPIES = 2  # recording-like versions of every validation and test clip
FINAL_LR = 0.05  # the cosine schedule ends at this share of the learning rate
CHUNK = 256  # clips augmented at a time (bounds the memory of the short-time spectra)


# ---------------------------------------------------------------------------------------------- features
def features(kind: str, waves: np.ndarray, params: FeatureParams) -> np.ndarray:
    """The model input for fixed-length clips ``(N, samples)``: log-mel (cnn) or MFCC + deltas (lstm / gru)."""
    return mel_db(waves, params) if INPUTS[kind] == "log-mel" else mfcc(waves, params)


def recording_features(kind: str, waves: np.ndarray, params: FeatureParams, seed: int) -> np.ndarray:
    """Features of ``recording_like`` versions of ``waves`` (made ``CHUNK`` clips at a time, each chunk seeded
    from ``seed``)."""
    parts = [features(kind, recording_like(waves[i: i + CHUNK], seed * 1009 + i // CHUNK), params)
             for i in range(0, len(waves), CHUNK)]
    return np.concatenate(parts) if parts else features(kind, waves, params)


@lru_cache(maxsize=4)
def _split_features(language: str, input_kind: str, params: FeatureParams, copies: int
                    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    data = load_spoken_digits(language)
    kind = "cnn" if input_kind == "log-mel" else "lstm"
    out = {}
    for split in SPLITS:
        idx = data.indices(split)
        waves = stack_clips([data.waves[i] for i in idx])
        labels = data.digits[idx]
        x = features(kind, waves, params)
        if split == "train":
            x = np.concatenate([x, *(recording_features(kind, waves, params, TRAIN_SEED + k) for k in range(copies))])
            labels = np.tile(labels, copies + 1)
        else:
            seed = HELD_OUT_SEED + 10 * SPLITS.index(split)
            held = [recording_features(kind, waves, params, seed + k) for k in range(HELD_OUT_COPIES)]
            out[f"rec_{split}"] = (np.concatenate(held), np.tile(labels, HELD_OUT_COPIES))
        out[split] = (x, labels)
    return out


def split_features(config: Config) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Features and labels of the train / val / test voices for ``config``, and of the recording-like versions of
    the validation and test voices (``rec_val``, ``rec_test``). Cached: do not modify the arrays."""
    return _split_features(config.language, config.input, config.params.validated(), config.copies)


def split_sizes(config: Config) -> dict[str, int]:
    """Clips per split (train with its recording-like copies)."""
    data = load_spoken_digits(config.language)
    return {s: len(data.indices(s)) * (1 + (config.copies if s == "train" else 0)) for s in SPLITS}


# ---------------------------------------------------------------------------------------------- augmentation
def spec_augment(max_rows: int = 6, max_frames: int = 12, max_shift: int = 10, max_band_shift: int = 2) -> Augment:
    """A training-batch transform: random time shift (±``max_shift`` frames), a shift of the whole spectrum by
    ±``max_band_shift`` mel bands (like a longer or shorter vocal tract), then one band mask and one time mask
    per clip, filled with the clip's quietest value (SpecAugment, Park et al. 2019)."""

    def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        b, rows, frames = x.shape
        floor = x.amin(dim=(1, 2), keepdim=True)
        shifts = torch.randint(-max_shift, max_shift + 1, (b,), generator=gen)
        idx = (torch.arange(frames)[None, :] - shifts[:, None]).clamp(0, frames - 1)
        x = torch.gather(x, 2, idx[:, None, :].expand(b, rows, frames).to(x.device))
        if max_band_shift:
            bands = torch.randint(-max_band_shift, max_band_shift + 1, (b,), generator=gen)
            idx = (torch.arange(rows)[None, :] - bands[:, None]).clamp(0, rows - 1)
            x = torch.gather(x, 1, idx[:, :, None].expand(b, rows, frames).to(x.device))
        r = torch.arange(rows, device=x.device)[None, :, None]
        t = torch.arange(frames, device=x.device)[None, None, :]
        r0 = torch.randint(0, rows, (b, 1, 1), generator=gen).to(x.device)
        rw = torch.randint(0, max_rows + 1, (b, 1, 1), generator=gen).to(x.device)
        t0 = torch.randint(0, frames, (b, 1, 1), generator=gen).to(x.device)
        tw = torch.randint(0, max_frames + 1, (b, 1, 1), generator=gen).to(x.device)
        mask = ((r >= r0) & (r < r0 + rw)) | ((t >= t0) & (t < t0 + tw))
        return torch.where(mask, floor, x)

    return augment


def mfcc_augment(max_shift: int = 10, max_frames: int = 12) -> Augment:
    """Time shift and one time mask (the frame's values set to the clip's per-row mean) for MFCC sequences."""

    def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        b, rows, frames = x.shape
        shifts = torch.randint(-max_shift, max_shift + 1, (b,), generator=gen)
        idx = (torch.arange(frames)[None, :] - shifts[:, None]).clamp(0, frames - 1)
        x = torch.gather(x, 2, idx[:, None, :].expand(b, rows, frames).to(x.device))
        t = torch.arange(frames, device=x.device)[None, None, :]
        t0 = torch.randint(0, frames, (b, 1, 1), generator=gen).to(x.device)
        tw = torch.randint(0, max_frames + 1, (b, 1, 1), generator=gen).to(x.device)
        return torch.where((t >= t0) & (t < t0 + tw), x.mean(dim=2, keepdim=True), x)

    return augment


# ---------------------------------------------------------------------------------------------- the trainer
def build_model(config: Config, n_classes: int = 10) -> nn.Module:
    """The (untrained) network for ``config``."""
    if config.kind == "cnn":
        return MODELS.get("mel_cnn")(config.rows, config.frames, config.channels, config.dropout, n_classes)
    return MODELS.get(f"mfcc_{config.kind}")(config.rows, config.hidden, config.layers, config.bidirectional,
                                             config.dropout, n_classes, config.readout)


@dataclass
class View:
    """What the page draws besides the curves: the model's results on the unseen test voices, as it is now — on
    their clean clips and on their recording-like versions (the held-out kind of audio the defaults were chosen on)."""

    test_accuracy: float  # clean test voices
    recording_accuracy: float  # recording-like versions of the test voices
    confusion: np.ndarray  # (classes, classes) counts on the recording-like test clips; rows: true, columns: predicted
    voices: tuple[str, ...]  # the test voice variants (each in several accents) …
    voice_accuracy: np.ndarray  # … the clean accuracy on each …
    voice_recording_accuracy: np.ndarray  # … and the recording-like one
    labels: tuple[str, ...]  # class names ("zero" … or "0 零" …)
    sure_share: float  # share of recording-like test clips whose top probability reaches SURE …
    sure_accuracy: float  # … and the accuracy on those
    step: int = 0

    def per_voice(self) -> dict[str, float]:
        return dict(zip(self.voices, self.voice_accuracy.tolist(), strict=True))

    def per_voice_recording(self) -> dict[str, float]:
        return dict(zip(self.voices, self.voice_recording_accuracy.tolist(), strict=True))


class DigitTrainer(SupervisedTrainer):
    """``SupervisedTrainer`` validating on the recording-like validation voices, plus the clean validation voices,
    the held-out test voices (clean and recording-like), the settings and the class names."""

    def __init__(self, config: Config) -> None:
        config.validate()
        self.config = config
        data = load_spoken_digits(config.language)
        feats = split_features(config)
        xt, yt = feats["train"]
        model = build_model(config, len(data.labels))
        model.norm.mean.copy_(torch.from_numpy(xt.mean(axis=(0, 2))).reshape(-1, 1))
        model.norm.std.copy_(torch.from_numpy(xt.std(axis=(0, 2)) + 1e-3).reshape(-1, 1))
        augment = None
        if config.spec_augment:
            augment = spec_augment() if config.kind == "cnn" else mfcc_augment()
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
        tensors = {name: (torch.from_numpy(x), torch.from_numpy(y).long()) for name, (x, y) in feats.items()}
        super().__init__(model, optimizer, F.cross_entropy, tensors["train"], tensors["rec_val"],
                         batch_size=config.batch_size, augment=augment, clip_norm=CLIP_NORM, seed=config.seed,
                         stats_every=STATS_EVERY)
        self.clean_val = tuple(t.to(self.device) for t in tensors["val"])
        self.test = tuple(t.to(self.device) for t in tensors["test"])
        self.recording_test = tuple(t.to(self.device) for t in tensors["rec_test"])
        speakers = data.speakers
        self.test_voices = tuple(speakers[i] for i in data.indices("test"))
        self.labels = tuple(data.labels)
        self.steps_done = 0
        self.total_steps = config.steps(len(self.x))

    def bundled_training(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The training features and digits (for the Explain page's baselines)."""
        return self.x, self.y

    def train_step(self) -> dict[str, float]:
        """One step at the learning rate of a cosine schedule: ``lr`` at first, ``FINAL_LR`` × ``lr`` at the end."""
        progress = min(self.steps_done / max(self.total_steps - 1, 1), 1.0)
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr * (FINAL_LR + (1 - FINAL_LR) * 0.5 * (1 + math.cos(math.pi * progress)))
        self.steps_done += 1
        return super().train_step()

    def evaluate(self) -> dict[str, float]:
        """Loss and accuracy on the recording-like validation voices, and the accuracy on their clean clips."""
        result = super().evaluate()
        clean = self.predict(self.clean_val[0]).argmax(1)
        return {**result, "clean_val_accuracy": float((clean == self.clean_val[1].cpu()).float().mean())}

    @torch.no_grad()
    def snapshot(self) -> View:
        true = self.test[1].cpu().numpy()
        pred = self.predict(self.test[0]).argmax(1).numpy()
        probs = torch.softmax(self.predict(self.recording_test[0]), dim=1).numpy()
        rec_true, rec_pred = self.recording_test[1].cpu().numpy(), probs.argmax(1)
        n = len(self.labels)
        confusion = np.bincount(rec_true * n + rec_pred, minlength=n * n).reshape(n, n)
        voices = np.array(self.test_voices)
        rec_voices = np.tile(voices, len(rec_true) // len(voices))
        names = tuple(sorted(set(self.test_voices)))
        per_voice = np.array([(pred[voices == v] == true[voices == v]).mean() for v in names])
        per_voice_rec = np.array([(rec_pred[rec_voices == v] == rec_true[rec_voices == v]).mean() for v in names])
        sure = probs.max(1) >= SURE
        return View(float((pred == true).mean()), float((rec_pred == rec_true).mean()), confusion, names, per_voice,
                    per_voice_rec, self.labels, float(sure.mean()),
                    float((rec_pred[sure] == rec_true[sure]).mean()) if sure.any() else 0.0, self.steps_done)


def make_trainer(config: Config) -> DigitTrainer:
    """Model, optimiser and the speaker-independent split for ``config`` (call it seeded, inside the job)."""
    return DigitTrainer(config)
