"""Sequence datasets, all generated or bundled offline: forecasting series cut into windows, long-memory
tasks (the adding problem) and character-level text with its vocabulary.

Every generator is deterministic given ``seed``. Arrays are float32 numpy; the trainers turn them into tensors.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import math
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import torch

from core.data import DATASETS
from core.errors import ConfigError, DataError

SERIES_KINDS = ("sum_of_sines", "damped_oscillation", "seasonal_random_walk")
MEMORY_KINDS = ("adding_problem",)
MAX_TEXT_CHARS = 100_000
MIN_TEXT_CHARS = 64
MAX_VOCAB = 4_000


# ----------------------------------------------------------------------------- forecasting series
@DATASETS.register("sum_of_sines", family="sequences", description="Three sines with incommensurate periods "
                   "(25, 41 and 67 steps) plus a little noise: smooth, quasi-periodic, predictable.", task="forecast")
def sum_of_sines(n: int = 2000, *, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """Sum of three sines (periods 25, 41, 67 steps, random phases) plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    series = np.zeros(n)
    for period, amp in ((25, 1.0), (41, 0.7), (67, 0.5)):
        series += amp * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    return (series + noise * rng.standard_normal(n)).astype(np.float32)


@DATASETS.register("damped_oscillation", family="sequences", description="A damped oscillator (period ≈ 16 "
                   "steps) kicked at random moments: each kick rings and dies away.", task="forecast")
def damped_oscillation(n: int = 2000, *, noise: float = 0.02, seed: int = 0, period: float = 16.0,
                       half_life: float = 20.0) -> np.ndarray:
    """x_t = 2r·cos(θ)·x_{t−1} − r²·x_{t−2} + kick_t: a ringing AR(2) oscillator kicked every ~60 steps."""
    rng = np.random.default_rng(seed)
    theta, r = 2 * np.pi / period, 0.5 ** (1.0 / half_life)
    a1, a2 = 2 * r * math.cos(theta), -(r**2)
    kicks = np.where(rng.random(n) < 1 / 60, rng.normal(0, 1.0, n), 0.0)
    kicks[0] = 1.0
    x = np.zeros(n)
    for t in range(n):
        x[t] = kicks[t] + (a1 * x[t - 1] if t >= 1 else 0.0) + (a2 * x[t - 2] if t >= 2 else 0.0)
    return (x + noise * rng.standard_normal(n)).astype(np.float32)


@DATASETS.register("seasonal_random_walk", family="sequences", description="A noisy random walk plus a "
                   "24-step seasonal cycle, like hourly demand: the trend wanders, the season repeats.",
                   task="forecast")
def seasonal_random_walk(n: int = 2000, *, noise: float = 0.1, seed: int = 0, season: int = 24) -> np.ndarray:
    """Random walk (step σ = 0.05) + a 24-step seasonal pattern (two harmonics) + white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    walk = np.cumsum(rng.normal(0, 0.05, n))
    seasonal = np.sin(2 * np.pi * t / season) + 0.4 * np.sin(4 * np.pi * t / season + 1.0)
    return (walk + seasonal + noise * rng.standard_normal(n)).astype(np.float32)


def make_series(kind: str, n: int = 2000, *, seed: int = 0) -> np.ndarray:
    """One of ``SERIES_KINDS`` by name."""
    if kind not in SERIES_KINDS:
        raise ConfigError("sequences.errors.series", value=kind, choices=", ".join(SERIES_KINDS))
    if not 1 <= n <= 1_000_000:
        raise ConfigError("sequences.errors.series_length", low=1, high=1_000_000, value=n)
    return DATASETS.get(kind)(n, seed=seed)


@dataclass
class ForecastData:
    """Sliding windows over a z-scored series: ``x[k] = s[o−window:o]``, ``y[k] = s[o:o+horizon]`` for origin o.

    Windows whose targets lie before ``split`` train; the rest validate (a chronological split).
    """

    series: np.ndarray  # z-scored, shape (n,)
    window: int
    horizon: int
    split: int
    mean: float
    std: float
    x_train: np.ndarray  # (N, window, 1)
    y_train: np.ndarray  # (N, horizon)
    x_val: np.ndarray
    y_val: np.ndarray
    val_origins: np.ndarray  # the time index of each validation window's first target

    @property
    def naive_mse(self) -> float:
        """Validation MSE of the "tomorrow equals today" forecast (repeat the last seen value)."""
        return float(np.mean((self.y_val - self.x_val[:, -1, :]) ** 2))


def forecast_windows(series: np.ndarray, window: int, horizon: int, *, val_fraction: float = 0.2) -> ForecastData:
    """Cut ``series`` into (window → horizon) examples, z-scored with the training part's mean and std."""
    n = len(series)
    if not 2 <= window <= 400:
        raise ConfigError("sequences.errors.window", low=2, high=400, value=window)
    if not 1 <= horizon <= 100:
        raise ConfigError("sequences.errors.horizon", low=1, high=100, value=horizon)
    split = int(n * (1 - val_fraction))
    if split - window - horizon < 32 or n - split < horizon + 8:
        raise ConfigError("sequences.errors.too_few_windows", window=window, horizon=horizon, n=n)
    mean, std = float(series[:split].mean()), float(series[:split].std() or 1.0)
    z = ((series - mean) / std).astype(np.float32)
    origins = np.arange(window, n - horizon + 1)
    idx_x = origins[:, None] + np.arange(-window, 0)[None, :]
    idx_y = origins[:, None] + np.arange(horizon)[None, :]
    train = origins + horizon <= split
    val = origins >= split
    x, y = z[idx_x][..., None], z[idx_y]
    return ForecastData(z, window, horizon, split, mean, std, x[train], y[train], x[val], y[val], origins[val])


# ----------------------------------------------------------------------------- long-memory tasks
@dataclass
class MemoryData:
    """A long-memory task: inputs (N, T, features), targets (N, 1)."""

    kind: str
    length: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    chance_loss: float  # MSE of always answering the mean (what a model that remembers nothing reaches)
    feature_names: list[str] = field(default_factory=list)


@DATASETS.register("adding_problem", family="sequences", description="Hochreiter's adding problem: random "
                   "numbers, two of them marked (one in each half); output the sum of the two marked numbers.",
                   task="memory")
def adding_problem(n: int, length: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Channel 0: U(0, 1) numbers; channel 1: a 1 at one position in each half. Target: the marked sum, (n, 1)."""
    rng = np.random.default_rng(seed)
    values = rng.random((n, length)).astype(np.float32)
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    marks = np.zeros((n, length), dtype=np.float32)
    marks[np.arange(n), first] = 1.0
    marks[np.arange(n), second] = 1.0
    y = (values * marks).sum(axis=1, keepdims=True).astype(np.float32)
    return np.stack([values, marks], axis=-1), y


def memory_task(kind: str, length: int, *, n_train: int = 4096, n_val: int = 512, seed: int = 0) -> MemoryData:
    """Train and validation sets of a long-memory task of sequence length ``length``."""
    if not 5 <= length <= 500:
        raise ConfigError("sequences.errors.seq_len", low=5, high=500, value=length)
    if kind == "adding_problem":
        x, y = adding_problem(n_train + n_val, length, seed=seed)
        return MemoryData(kind, length, x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                          float(np.var(y[:n_train])), ["value", "marker"])
    raise ConfigError("sequences.errors.memory_kind", value=kind, choices=", ".join(MEMORY_KINDS))


# ----------------------------------------------------------------------------- characters
@DATASETS.register("zen_of_python", family="sequences", description="The Zen of Python (PEP 20), read from the "
                   "standard library's `this` module and decoded with its own rot13 table.", task="chars")
def zen_of_python() -> str:
    """The Zen of Python: ``this.s`` decoded with ``this.d`` (importing ``this`` prints it, so stdout is muted)."""
    with contextlib.redirect_stdout(io.StringIO()):
        this = importlib.import_module("this")
    return "".join(this.d.get(ch, ch) for ch in this.s)


def clean_text(text: str) -> str:
    """NFC-normalise, unify line ends, turn tabs into spaces and drop other control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C").strip()


@dataclass
class CharCorpus:
    """A text with its character vocabulary (sorted by frequency, then code point)."""

    text: str
    vocab: list[str]
    truncated: bool = False

    @classmethod
    def from_text(cls, text: str) -> CharCorpus:
        """Validate and clean ``text``; raises ``DataError`` with a readable reason when it cannot be used."""
        if not isinstance(text, str):
            raise DataError("sequences.errors.text_type")
        text = clean_text(text)
        truncated = len(text) > MAX_TEXT_CHARS
        if truncated:
            text = text[:MAX_TEXT_CHARS]
        if len(text) < MIN_TEXT_CHARS:
            raise DataError("sequences.errors.text_short", count=len(text), n=MIN_TEXT_CHARS)
        counts: dict[str, int] = {}
        for ch in text:
            counts[ch] = counts.get(ch, 0) + 1
        if len(counts) > MAX_VOCAB:
            raise DataError("sequences.errors.text_vocab", count=len(counts), n=MAX_VOCAB)
        if len(counts) < 2:
            raise DataError("sequences.errors.text_one_char")
        vocab = sorted(counts, key=lambda ch: (-counts[ch], ch))
        return cls(text, vocab, truncated)

    @property
    def stoi(self) -> dict[str, int]:
        return {ch: i for i, ch in enumerate(self.vocab)}

    def encode(self, text: str) -> np.ndarray:
        """Character ids; characters outside the vocabulary are dropped."""
        stoi = self.stoi
        return np.array([stoi[ch] for ch in text if ch in stoi], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def counts(self) -> np.ndarray:
        return np.bincount(self.encode(self.text), minlength=len(self.vocab))

    def unigram_entropy(self) -> float:
        """Entropy of the character frequencies in nats: the loss of a model that ignores all context."""
        p = self.counts() / len(self.text)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    def windows(self, seq_len: int, *, val_fraction: float = 0.1, max_val: int = 256
                ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """Next-character examples: ``x`` = ids[k:k+seq_len], ``y`` = ids[k+1:k+seq_len+1] (int64 tensors).

        Training windows (every offset, as strided views: no copy) come from the first 90 % of the text,
        validation windows (at most ``max_val``) from the rest.
        """
        if not 4 <= seq_len <= 512:
            raise ConfigError("sequences.errors.char_len", low=4, high=512, value=seq_len)
        ids = torch.from_numpy(self.encode(self.text))
        split = int(len(ids) * (1 - val_fraction))
        if split < seq_len + 8 or len(ids) - split < 2:
            raise ConfigError("sequences.errors.text_windows", count=len(ids), n=seq_len)
        train = ids[:split].unfold(0, seq_len + 1, 1)
        val = ids[max(0, split - seq_len):].unfold(0, seq_len + 1, 1)
        if len(val) > max_val:
            val = val[torch.linspace(0, len(val) - 1, max_val).long()]
        return (train[:, :-1], train[:, 1:]), (val[:, :-1].contiguous(), val[:, 1:].contiguous())
