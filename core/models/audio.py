"""Spoken-digit recognisers and how they train.

Two views of the same one-second clip:

- ``MelCNN`` looks at the log-mel spectrogram as an image (bands × frames) with small 2-D convolutions;
- ``MfccRNN`` reads the MFCC frames (with deltas) one 10 ms step at a time with an LSTM or GRU.

Both standardise their input with per-row statistics of the training set kept as buffers, so a visitor's
clip goes through exactly what the training clips went through. ``make_digit_trainer`` builds a
``SupervisedTrainer`` on the speaker-independent split (validation and test voices never heard in
training); its snapshot carries test accuracy, the confusion matrix and per-voice accuracy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.audio_features import FeatureParams, mel_db, mfcc
from core.data.audio import SpokenDigits, load_spoken_digits, noise, stack_clips
from core.errors import ConfigError
from core.training import SupervisedTrainer, make_optimizer

from . import MODELS

INPUTS = {"cnn": "log-mel", "lstm": "mfcc", "gru": "mfcc"}
READOUTS = ("mean", "last")
TITLES = {"cnn": "Log-mel CNN", "lstm": "MFCC LSTM", "gru": "MFCC GRU"}


class Standardize(nn.Module):
    """(x − mean) / std per feature row, with the statistics stored as buffers (saved with the model)."""

    def __init__(self, rows: int, mean: torch.Tensor | None = None, std: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(rows, 1) if mean is None else mean.reshape(rows, 1).float())
        self.register_buffer("std", torch.ones(rows, 1) if std is None else std.reshape(rows, 1).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class MelCNN(nn.Module):
    """Conv(3×3) → BN → ReLU → max-pool(2) blocks over (mel band, frame), then the last feature maps flattened into
    a linear classifier (as in keyword-spotting CNNs: *where* in time and frequency a pattern fires matters).
    Input ``(batch, n_mels, n_frames)`` in dB."""

    def __init__(self, n_mels: int = 32, n_frames: int = 101, channels: tuple[int, ...] = (8, 16, 32),
                 dropout: float = 0.2, n_classes: int = 10) -> None:
        super().__init__()
        if not 1 <= len(channels) <= 5 or any(not 1 <= c <= 256 for c in channels):
            raise ConfigError("The CNN needs 1–5 conv blocks of 1–256 channels each.")
        if min(n_mels, n_frames) < 2 ** len(channels):
            raise ConfigError(f"{len(channels)} pooling steps need at least {2 ** len(channels)} mel bands and "
                              f"frames (got {n_mels} × {n_frames}); use fewer blocks or more bands.")
        self.norm = Standardize(n_mels)
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.map_shape = (c_in, n_mels >> len(channels), n_frames >> len(channels))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(int(np.prod(self.map_shape)), n_classes)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(self.norm(x).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.feature_maps(x).flatten(1)))


class MfccRNN(nn.Module):
    """An LSTM or GRU over MFCC frames, then a linear classifier. Input ``(batch, n_features, frames)``.

    ``readout="last"`` classifies the last hidden state (both directions' when bidirectional): the network must
    carry what it heard through the trailing silence. ``"mean"`` averages the hidden states over all frames.
    """

    def __init__(self, n_features: int = 39, hidden: int = 64, layers: int = 1, cell: str = "LSTM",
                 bidirectional: bool = False, dropout: float = 0.0, n_classes: int = 10, readout: str = "mean"
                 ) -> None:
        super().__init__()
        if cell not in ("LSTM", "GRU"):
            raise ConfigError(f"Unknown recurrent cell {cell!r}; choose LSTM or GRU.")
        if readout not in READOUTS:
            raise ConfigError(f"Unknown readout {readout!r}; choose one of {', '.join(READOUTS)}.")
        self.readout = readout
        if not 4 <= hidden <= 512 or not 1 <= layers <= 4:
            raise ConfigError("The recurrent net needs 4–512 hidden units and 1–4 layers.")
        self.cell = cell
        self.norm = Standardize(n_features)
        self.rnn = getattr(nn, cell)(n_features, hidden, num_layers=layers, batch_first=True,
                                     bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, state = self.rnn(self.norm(x).transpose(1, 2))
        if self.readout == "mean":
            return self.head(self.dropout(out.mean(dim=1)))
        h = state[0] if self.cell == "LSTM" else state
        last = torch.cat([h[-2], h[-1]], dim=1) if self.rnn.bidirectional else h[-1]
        return self.head(self.dropout(last))


@MODELS.register("mel_cnn", family="audio", input="log-mel",
                 description="Small CNN on log-mel spectrograms: 3×3 conv blocks with batch norm and max pooling, "
                             "flattened into a linear classifier.")
def build_mel_cnn(n_mels: int = 32, n_frames: int = 101, channels: tuple[int, ...] = (8, 16, 32),
                  dropout: float = 0.2, n_classes: int = 10) -> MelCNN:
    return MelCNN(n_mels, n_frames, tuple(channels), dropout, n_classes)


@MODELS.register("mfcc_lstm", family="audio", input="mfcc", cell="LSTM",
                 description="LSTM over MFCC frames (with deltas); the last hidden state is classified.")
def build_mfcc_lstm(n_features: int = 39, hidden: int = 64, layers: int = 1, bidirectional: bool = False,
                    dropout: float = 0.0, n_classes: int = 10, readout: str = "mean") -> MfccRNN:
    return MfccRNN(n_features, hidden, layers, "LSTM", bidirectional, dropout, n_classes, readout)


@MODELS.register("mfcc_gru", family="audio", input="mfcc", cell="GRU",
                 description="GRU over MFCC frames (with deltas); the last hidden state is classified.")
def build_mfcc_gru(n_features: int = 39, hidden: int = 64, layers: int = 1, bidirectional: bool = False,
                   dropout: float = 0.0, n_classes: int = 10, readout: str = "mean") -> MfccRNN:
    return MfccRNN(n_features, hidden, layers, "GRU", bidirectional, dropout, n_classes, readout)


# --------------------------------------------------------------------------------------------------- features
def features(kind: str, waves: np.ndarray, params: FeatureParams) -> np.ndarray:
    """The model input for fixed-length clips ``(N, samples)``: log-mel (cnn) or MFCC + deltas (lstm/gru)."""
    if kind not in INPUTS:
        raise ConfigError(f"Unknown audio model {kind!r}; choose one of {', '.join(INPUTS)}.")
    return mel_db(waves, params) if INPUTS[kind] == "log-mel" else mfcc(waves, params)


@lru_cache(maxsize=8)
def _split_features(language: str, input_kind: str, params: FeatureParams, noisy_copies: int
                    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    data = load_spoken_digits(language)
    kind = "cnn" if input_kind == "log-mel" else "lstm"
    out = {}
    for split in ("train", "val", "test"):
        idx = data.indices(split)
        waves = stack_clips([data.waves[i] for i in idx])
        labels = data.digits[idx]
        if split == "train" and noisy_copies:
            waves, labels = _with_noisy_copies(waves, labels, noisy_copies)
        out[split] = (features(kind, waves, params), labels)
    return out


def _with_noisy_copies(waves: np.ndarray, labels: np.ndarray, copies: int, seed: int = 1234
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


def split_features(kind: str, params: FeatureParams, language: str = "en", noisy_copies: int = 0
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Features and labels of the train / val / test voices (cached; do not modify the arrays)."""
    return _split_features(language, INPUTS[kind], params.validated(), noisy_copies)


# --------------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class DigitSpec:
    """Everything one training run needs; ``make_digit_trainer(spec)`` turns it into a trainer."""

    kind: str = "cnn"  # "cnn", "lstm" or "gru"
    language: str = "en"
    params: FeatureParams = field(default_factory=lambda: FeatureParams(n_mels=32))
    channels: tuple[int, ...] = (8, 16, 32)
    hidden: int = 64
    layers: int = 1
    bidirectional: bool = False
    readout: str = "mean"
    dropout: float = 0.2
    optimizer: str = "Adam"
    lr: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int = 64
    epochs: int = 10
    spec_augment: bool = False
    noisy_copies: int = 0
    clip_norm: float | None = 5.0

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def checked(self) -> DigitSpec:
        if self.kind not in INPUTS:
            raise ConfigError(f"Unknown audio model {self.kind!r}; choose one of {', '.join(INPUTS)}.")
        if not 1 <= self.epochs <= 200:
            raise ConfigError(f"Train for 1–200 epochs (got {self.epochs}).")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"Dropout must be in [0, 1) (got {self.dropout}).")
        if not 0 <= self.noisy_copies <= 3:
            raise ConfigError("Add 0–3 noisy copies of the training clips.")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 100):  # fail before the features are computed
            raise ConfigError(f"The learning rate must be a number between 0 and 100 (got {self.lr}).")
        if not 1 <= self.batch_size <= 100_000:
            raise ConfigError(f"The batch size must be between 1 and 100000 (got {self.batch_size}).")
        self.params.validated()
        return self

    def steps(self, n_train: int) -> int:
        return self.epochs * math.ceil(n_train / min(self.batch_size, n_train))


def default_spec(kind: str = "cnn", **changes) -> DigitSpec:
    """The lab's starting settings for ``kind`` ("cnn", "lstm" or "gru"), with ``changes`` applied."""
    base = {"cnn": {"epochs": 10}, "lstm": {"epochs": 15, "dropout": 0.1}, "gru": {"epochs": 15, "dropout": 0.1}}
    if kind not in base:
        raise ConfigError(f"Unknown audio model {kind!r}; choose one of {', '.join(base)}.")
    settings = {**base[kind], **changes}
    if changes.get("language", "en") == "zh" and "epochs" not in changes:
        settings["epochs"] *= 3  # the Mandarin set is 5× smaller: similar step counts need more epochs
    return DigitSpec(kind=kind, **settings).checked()


def build_model(spec: DigitSpec, n_rows: int, n_frames: int, n_classes: int = 10) -> nn.Module:
    """The network for ``spec`` on inputs of ``n_rows`` × ``n_frames``."""
    if spec.kind == "cnn":
        return MODELS.get("mel_cnn")(n_rows, n_frames, spec.channels, spec.dropout, n_classes)
    return MODELS.get(f"mfcc_{spec.kind}")(n_rows, spec.hidden, spec.layers, spec.bidirectional, spec.dropout,
                                           n_classes, spec.readout)


def spec_augment(max_rows: int = 6, max_frames: int = 12, max_shift: int = 10, max_band_shift: int = 2
                 ) -> callable:
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


def mfcc_augment(max_shift: int = 10, max_frames: int = 12) -> callable:
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


@dataclass
class DigitSnapshot:
    """What the page draws besides the curves: test-voice results of the model as it is now."""

    test_accuracy: float
    confusion: np.ndarray  # rows: true digit, columns: predicted digit
    voice_accuracy: dict[str, float]
    step: int = 0
    labels: list[str] = field(default_factory=list)


class DigitTrainer(SupervisedTrainer):
    """``SupervisedTrainer`` plus the held-out test voices, the feature settings and the class names."""

    spec: DigitSpec
    test: tuple[torch.Tensor, torch.Tensor]
    test_voices: list[str]
    labels: list[str]
    steps_done: int = 0

    def train_step(self) -> dict[str, float]:
        self.steps_done += 1
        return super().train_step()

    @torch.no_grad()
    def test_results(self) -> DigitSnapshot:
        logits = self.predict(self.test[0])
        pred = logits.argmax(1).numpy()
        true = self.test[1].cpu().numpy()
        n = len(self.labels)
        confusion = np.bincount(true * n + pred, minlength=n * n).reshape(n, n)
        voices = np.array(self.test_voices)
        per_voice = {v: float((pred[voices == v] == true[voices == v]).mean()) for v in sorted(set(self.test_voices))}
        return DigitSnapshot(float((pred == true).mean()), confusion, per_voice, self.steps_done, list(self.labels))


def make_digit_trainer(spec: DigitSpec, seed: int = 0) -> DigitTrainer:
    """Model, optimiser and the speaker-independent split for ``spec`` (call inside the job, seeded)."""
    spec = spec.checked()
    data = load_spoken_digits(spec.language)
    feats = split_features(spec.kind, spec.params, spec.language, spec.noisy_copies)
    (xt, yt), (xv, yv), (xs, ys) = feats["train"], feats["val"], feats["test"]
    model = build_model(spec, xt.shape[1], xt.shape[2], len(data.labels))
    mean = xt.mean(axis=(0, 2))
    std = xt.std(axis=(0, 2)) + 1e-3
    model.norm.mean.copy_(torch.from_numpy(mean).reshape(-1, 1))
    model.norm.std.copy_(torch.from_numpy(std).reshape(-1, 1))
    augment = None
    if spec.spec_augment:
        augment = spec_augment() if spec.kind == "cnn" else mfcc_augment()
    tensors = [torch.from_numpy(a) for a in (xt, yt, xv, yv)]
    optimizer = make_optimizer(spec.optimizer, model.parameters(), spec.lr, spec.weight_decay)
    trainer = DigitTrainer(model, optimizer, F.cross_entropy, (tensors[0], tensors[1].long()),
                           (tensors[2], tensors[3].long()), batch_size=spec.batch_size, augment=augment,
                           clip_norm=spec.clip_norm, snapshot=lambda tr: tr.test_results(), seed=seed)
    trainer.spec = spec
    trainer.test = (torch.from_numpy(xs).to(trainer.device), torch.from_numpy(ys).long().to(trainer.device))
    trainer.test_voices = [data.voices[i] for i in data.indices("test")]
    trainer.labels = data.labels
    return trainer


def test_split_size(spec: DigitSpec) -> dict[str, int]:
    """Clips per split for ``spec`` (train includes noisy copies)."""
    data = load_spoken_digits(spec.language)
    return {s: len(data.indices(s)) * (1 + (spec.noisy_copies if s == "train" else 0)) for s in ("train", "val",
                                                                                                  "test")}


# ------------------------------------------------------------------------------------------------ prediction
def clip_input(trainer: DigitTrainer, wave: np.ndarray) -> torch.Tensor:
    """The model input ``(1, rows, frames)`` for one prepared clip (``core.data.audio.prepare_clip``)."""
    return torch.from_numpy(features(trainer.spec.kind, wave[None, :], trainer.spec.params))


def predict_proba(trainer: DigitTrainer, x: torch.Tensor) -> np.ndarray:
    """Class probabilities for a batch of model inputs."""
    return torch.softmax(trainer.predict(x), dim=1).numpy()


def with_spec(spec: DigitSpec, **changes) -> DigitSpec:
    return replace(spec, **changes).checked()


def dataset_summary(data: SpokenDigits) -> dict[str, list[str]]:
    """Voices per split (to show that test voices are new)."""
    return {s: data.split_voices(s) for s in ("train", "val", "test")}
