"""How a spoken-digit recogniser trains: features of the speaker-independent split (validation and test voices are
never heard in training), noisy copies and SpecAugment, and a ``SupervisedTrainer`` whose view is the test-voice
result (accuracy, confusion matrix, accuracy per unseen voice)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.data.audio import SPLITS, load_spoken_digits, noise, stack_clips
from core.models import MODELS
from core.models.audio import INPUTS
from core.training import SupervisedTrainer, make_optimizer

from .config import CLIP_NORM, Config
from .features import FeatureParams, mel_db, mfcc

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


# ---------------------------------------------------------------------------------------------- features
def features(kind: str, waves: np.ndarray, params: FeatureParams) -> np.ndarray:
    """The model input for fixed-length clips ``(N, samples)``: log-mel (cnn) or MFCC + deltas (lstm / gru)."""
    return mel_db(waves, params) if INPUTS[kind] == "log-mel" else mfcc(waves, params)


def with_noisy_copies(waves: np.ndarray, labels: np.ndarray, copies: int, seed: int = 1234
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Append ``copies`` noisy versions of every clip (white, pink or brown noise at 5–30 dB SNR)."""
    rng = np.random.default_rng(seed)
    extra = []
    for _ in range(copies):
        kinds = rng.integers(0, 3, len(waves))
        snr = rng.uniform(5, 30, len(waves))
        bg = np.stack([noise(("white", "pink", "brown")[k], waves.shape[1], rng) for k in kinds])
        rms = np.sqrt(np.mean(waves.astype(np.float64) ** 2, axis=1, keepdims=True))
        extra.append((waves + bg * rms / 10 ** (snr[:, None] / 20)).astype(np.float32))
    return np.concatenate([waves, *extra]), np.concatenate([labels] * (copies + 1))


@lru_cache(maxsize=8)
def _split_features(language: str, input_kind: str, params: FeatureParams, noisy_copies: int
                    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    data = load_spoken_digits(language)
    kind = "cnn" if input_kind == "log-mel" else "lstm"
    out = {}
    for split in SPLITS:
        idx = data.indices(split)
        waves = stack_clips([data.waves[i] for i in idx])
        labels = data.digits[idx]
        if split == "train" and noisy_copies:
            waves, labels = with_noisy_copies(waves, labels, noisy_copies)
        out[split] = (features(kind, waves, params), labels)
    return out


def split_features(config: Config) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Features and labels of the train / val / test voices for ``config`` (cached: do not modify the arrays)."""
    return _split_features(config.language, config.input, config.params.validated(), config.noisy_copies)


def split_sizes(config: Config) -> dict[str, int]:
    """Clips per split (train with its noisy copies)."""
    data = load_spoken_digits(config.language)
    return {s: len(data.indices(s)) * (1 + (config.noisy_copies if s == "train" else 0)) for s in SPLITS}


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
    """What the page draws besides the curves: the model's results on the unseen test voices, as it is now."""

    test_accuracy: float
    confusion: np.ndarray  # (classes, classes) counts; rows: true digit, columns: predicted digit
    voices: tuple[str, ...]  # the test voices …
    voice_accuracy: np.ndarray  # … and the accuracy on each
    labels: tuple[str, ...]  # class names ("zero" … or "0 零" …)
    step: int = 0

    def per_voice(self) -> dict[str, float]:
        return dict(zip(self.voices, self.voice_accuracy.tolist(), strict=True))


class DigitTrainer(SupervisedTrainer):
    """``SupervisedTrainer`` plus the held-out test voices, the settings and the class names."""

    def __init__(self, config: Config) -> None:
        config.validate()
        self.config = config
        data = load_spoken_digits(config.language)
        feats = split_features(config)
        (xt, yt), (xv, yv), (xs, ys) = feats["train"], feats["val"], feats["test"]
        model = build_model(config, len(data.labels))
        model.norm.mean.copy_(torch.from_numpy(xt.mean(axis=(0, 2))).reshape(-1, 1))
        model.norm.std.copy_(torch.from_numpy(xt.std(axis=(0, 2)) + 1e-3).reshape(-1, 1))
        augment = None
        if config.spec_augment:
            augment = spec_augment() if config.kind == "cnn" else mfcc_augment()
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
        super().__init__(model, optimizer, F.cross_entropy, (torch.from_numpy(xt), torch.from_numpy(yt).long()),
                         (torch.from_numpy(xv), torch.from_numpy(yv).long()), batch_size=config.batch_size,
                         augment=augment, clip_norm=CLIP_NORM, seed=config.seed)
        self.test = (torch.from_numpy(xs).to(self.device), torch.from_numpy(ys).long().to(self.device))
        self.test_voices = tuple(data.voices[i] for i in data.indices("test"))
        self.labels = tuple(data.labels)
        self.steps_done = 0

    def train_step(self) -> dict[str, float]:
        self.steps_done += 1
        return super().train_step()

    @torch.no_grad()
    def snapshot(self) -> View:
        pred = self.predict(self.test[0]).argmax(1).numpy()
        true = self.test[1].cpu().numpy()
        n = len(self.labels)
        confusion = np.bincount(true * n + pred, minlength=n * n).reshape(n, n)
        voices = np.array(self.test_voices)
        names = tuple(sorted(set(self.test_voices)))
        per_voice = np.array([(pred[voices == v] == true[voices == v]).mean() for v in names])
        return View(float((pred == true).mean()), confusion, names, per_voice, self.labels, self.steps_done)


def make_trainer(config: Config) -> DigitTrainer:
    """Model, optimiser and the speaker-independent split for ``config`` (call it seeded, inside the job)."""
    return DigitTrainer(config)
