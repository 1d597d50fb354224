"""What a speech model sees: STFT magnitude, mel spectrogram and MFCCs (librosa), with predictable shapes.

Every function accepts one clip ``(samples,)`` or a batch ``(..., samples)``; frames are centred
(``center=True``), so a clip of ``n`` samples gives ``1 + n // hop_length`` frames. Levels are in dB
relative to full scale (a sine at amplitude 1 is about 0 dB), floored ``top_db`` below each clip's peak.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import librosa
import numpy as np

from core.errors import ConfigError

AMIN = 1e-10  # -100 dB floor before the per-clip top_db floor


@dataclass(frozen=True)
class FeatureParams:
    """Short-time analysis settings. At 8 kHz the defaults are 32 ms windows every 10 ms."""

    sample_rate: int = 8000
    n_fft: int = 256
    hop_length: int = 80
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float | None = None  # None = Nyquist (sample_rate / 2)
    n_mfcc: int = 13
    deltas: int = 2  # 0: MFCC only, 1: + Δ, 2: + Δ and ΔΔ
    top_db: float = 80.0

    @property
    def f_max(self) -> float:
        return float(self.fmax if self.fmax is not None else self.sample_rate / 2)

    def validated(self) -> FeatureParams:
        """Self, after checking every setting; raises ``ConfigError`` with what to change."""
        nyquist = self.sample_rate / 2
        if not 32 <= self.n_fft <= 8192:
            raise ConfigError("audio.errors.n_fft", value=self.n_fft)
        if not 1 <= self.hop_length <= self.n_fft:
            raise ConfigError("audio.errors.hop", n_fft=self.n_fft, value=self.hop_length)
        if not 0 <= self.fmin < self.f_max <= nyquist:
            raise ConfigError("audio.errors.fmax", nyquist=nyquist, rate=self.sample_rate, fmin=self.fmin,
                              fmax=self.f_max)
        bins = (self.f_max - self.fmin) / (self.sample_rate / self.n_fft)
        if not 1 <= self.n_mels <= max(1, int(bins)):
            raise ConfigError("audio.errors.mel_bands", n_mels=self.n_mels, n_fft=self.n_fft, fmin=self.fmin,
                              fmax=self.f_max, bins=int(bins))
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise ConfigError("audio.errors.n_mfcc", n_mels=self.n_mels, value=self.n_mfcc)
        if self.deltas not in (0, 1, 2):
            raise ConfigError("audio.errors.deltas", value=self.deltas)
        return self

    def with_(self, **changes) -> FeatureParams:
        return replace(self, **changes).validated()


def n_frames(n_samples: int, hop_length: int) -> int:
    """Frames of a centred short-time analysis."""
    return 1 + n_samples // hop_length


def feature_shape(kind: str, n_samples: int, p: FeatureParams) -> tuple[int, int]:
    """(rows, frames) of ``kind`` ("stft", "mel" or "mfcc") for one clip of ``n_samples``."""
    rows = {"stft": 1 + p.n_fft // 2, "mel": p.n_mels, "mfcc": p.n_mfcc * (1 + p.deltas)}[kind]
    return rows, n_frames(n_samples, p.hop_length)


def frame_times(frames: int, p: FeatureParams) -> np.ndarray:
    """Centre time (s) of each frame."""
    return np.arange(frames) * p.hop_length / p.sample_rate


def stft_frequencies(p: FeatureParams) -> np.ndarray:
    return librosa.fft_frequencies(sr=p.sample_rate, n_fft=p.n_fft)


def mel_frequencies(p: FeatureParams) -> np.ndarray:
    """Centre frequency (Hz) of each mel band."""
    return librosa.mel_frequencies(n_mels=p.n_mels + 2, fmin=p.fmin, fmax=p.f_max)[1:-1]


def _db(power: np.ndarray, top_db: float) -> np.ndarray:
    db = 10.0 * np.log10(np.maximum(power, AMIN))
    peak = db.max(axis=(-2, -1), keepdims=True)
    return np.maximum(db, peak - top_db).astype(np.float32)


def _wave(wave: np.ndarray) -> np.ndarray:
    wave = np.asarray(wave, dtype=np.float32)
    if wave.shape[-1] == 0:
        raise ConfigError("audio.errors.no_samples")
    return wave


def stft_db(wave: np.ndarray, p: FeatureParams = FeatureParams()) -> np.ndarray:
    """|STFT| in dB: ``(..., 1 + n_fft // 2, frames)``."""
    p = p.validated()
    spec = librosa.stft(_wave(wave), n_fft=p.n_fft, hop_length=p.hop_length, window="hann", center=True)
    return _db(np.abs(spec) ** 2 * (2.0 / p.n_fft) ** 2 * 4, p.top_db)  # ×4: a full-scale sine ≈ 0 dB


def mel_power(wave: np.ndarray, p: FeatureParams = FeatureParams()) -> np.ndarray:
    """Mel-band power (not in dB): ``(..., n_mels, frames)``."""
    p = p.validated()
    power = librosa.feature.melspectrogram(y=_wave(wave), sr=p.sample_rate, n_fft=p.n_fft, hop_length=p.hop_length,
                                           n_mels=p.n_mels, fmin=p.fmin, fmax=p.f_max, power=2.0, center=True,
                                           norm=None)  # peak-1 triangles: a sine at a band centre ≈ 0 dB
    return power * (2.0 / p.n_fft) ** 2 * 4


def mel_db(wave: np.ndarray, p: FeatureParams = FeatureParams()) -> np.ndarray:
    """Log-mel spectrogram in dB: ``(..., n_mels, frames)`` — the CNN's input image."""
    return _db(mel_power(wave, p), p.top_db)


def mfcc(wave: np.ndarray, p: FeatureParams = FeatureParams()) -> np.ndarray:
    """MFCCs with ``p.deltas`` orders of time derivatives stacked below: ``(..., n_mfcc·(1+deltas), frames)``.

    The cepstrum is the DCT of the log-mel spectrum across bands: coefficient 0 is loudness, the next few
    the spectral envelope (vocal-tract shape), largely independent of the voice's pitch.
    """
    p = p.validated()
    coeffs = librosa.feature.mfcc(S=mel_db(wave, p), n_mfcc=p.n_mfcc, dct_type=2, norm="ortho")
    frames = coeffs.shape[-1]
    parts = [coeffs]
    if p.deltas:
        width = min(9, frames if frames % 2 else frames - 1)
        if width < 3:
            raise ConfigError("audio.errors.delta_frames", frames=frames)
        parts += [librosa.feature.delta(coeffs, width=width, order=k, axis=-1, mode="interp")
                  for k in range(1, p.deltas + 1)]
    return np.concatenate(parts, axis=-2).astype(np.float32)


def mfcc_labels(p: FeatureParams) -> list[str]:
    """Row labels for ``mfcc``: c0…, Δc0…, ΔΔc0…"""
    return [f"{prefix}c{i}" for prefix in ("", "Δ", "ΔΔ")[: 1 + p.deltas] for i in range(p.n_mfcc)]
