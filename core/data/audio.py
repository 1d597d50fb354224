"""Audio data: the bundled spoken-digits set, the visitor's own clips, and waveform augmentations.

Everything is mono float32 at ``SAMPLE_RATE`` (8 kHz, telephone quality: plenty for spoken digits and
4× fewer samples than CD audio). Models see fixed ``CLIP_SECONDS`` windows made by ``fit_clip``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from core.data import DATASETS
from core.errors import ConfigError, DataError
from core.i18n import Message, Term

SAMPLE_RATE = 8000
CLIP_SECONDS = 1.0
CLIP_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)
ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "spoken_digits"
MAX_UPLOAD_BYTES = 20_000_000
MAX_SECONDS = 10.0
AUDIO_TYPES = ["wav", "flac", "ogg", "mp3"]
SPLITS = ("train", "val", "test")
LANGUAGES = ("en", "zh")  # names: audio.choices.language.<code>


@dataclass
class SpokenDigits:
    """Clips of the ten digits with who said them; ``split`` keeps voices apart (speaker-independent)."""

    waves: list[np.ndarray]
    digits: np.ndarray
    words: list[str]
    voices: list[str]
    speeds: np.ndarray
    pitches: np.ndarray
    splits: np.ndarray
    files: list[str]
    language: str = "en"
    sample_rate: int = SAMPLE_RATE
    labels: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.waves)

    def indices(self, split: str) -> np.ndarray:
        """Positions of the clips in ``split`` ("train", "val" or "test")."""
        return np.flatnonzero(self.splits == split)

    def split_voices(self, split: str) -> list[str]:
        return sorted({self.voices[i] for i in self.indices(split)})

    def describe(self, i: int) -> Message:
        """One line for a clip: word, voice, speed, pitch and split."""
        return Message("audio.data.clip", word=self.words[i], voice=self.voices[i], speed=int(self.speeds[i]),
                       pitch=int(self.pitches[i]), split=Term(f"audio.splits.{self.splits[i]}"))


def read_manifest(root: str | Path = ASSET_DIR) -> list[dict]:
    """The rows of ``root/manifest.csv`` (file, language, digit, word, voice, speed, pitch, split, samples)."""
    path = Path(root) / "manifest.csv"
    if not path.exists():
        raise DataError("audio.errors.no_set", path=str(path))
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in ("digit", "speed", "pitch", "samples"):
            row[key] = int(row[key])
    return rows


@lru_cache(maxsize=4)
def load_spoken_digits(language: str = "en", root: str | Path = ASSET_DIR) -> SpokenDigits:
    """Read the clips listed in ``root/manifest.csv`` for ``language`` (cached; treat as read-only)."""
    root = Path(root)
    clips = [c for c in read_manifest(root) if c["language"] == language]
    if not clips:
        raise DataError("audio.errors.no_language", language=language)
    waves = []
    for clip in clips:
        data, rate = sf.read(root / clip["file"], dtype="float32")
        if rate != SAMPLE_RATE:
            data = resample(data, rate, SAMPLE_RATE)
        waves.append(data)
    labels = [""] * 10
    for clip in clips:
        labels[clip["digit"]] = clip["word"] if language == "en" else f"{clip['digit']} {clip['word']}"
    return SpokenDigits(
        waves=waves, digits=np.array([c["digit"] for c in clips]), words=[c["word"] for c in clips],
        voices=[c["voice"] for c in clips], speeds=np.array([c["speed"] for c in clips]),
        pitches=np.array([c["pitch"] for c in clips]), splits=np.array([c["split"] for c in clips]),
        files=[c["file"] for c in clips], language=language, labels=labels,
    )


@DATASETS.register("spoken_digits", family="audio",
                   description="“zero” … “nine” by 34 synthetic espeak-ng voices (24 train, 4 validation, 6 test) "
                               "at 3 speed/pitch settings each, 8 kHz; validation and test voices are never "
                               "heard in training.",
                   sample_rate=SAMPLE_RATE, classes=10)
def spoken_digits() -> SpokenDigits:
    return load_spoken_digits("en")


@DATASETS.register("spoken_digits_zh", family="audio",
                   description="零 … 九 by 11 synthetic Mandarin espeak-ng voices (7 train, 2 validation, 2 test) "
                               "at 2 speed/pitch settings each, 8 kHz; split by voice.",
                   sample_rate=SAMPLE_RATE, classes=10)
def spoken_digits_zh() -> SpokenDigits:
    return load_spoken_digits("zh")


# ----------------------------------------------------------------------------------------- the visitor's audio
@dataclass
class LoadedAudio:
    """A decoded clip as mono float32 at ``sample_rate``, with what was done to it."""

    wave: np.ndarray
    sample_rate: int
    original_rate: int
    channels: int
    original_seconds: float
    notes: list[Message] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.wave) / self.sample_rate

    @property
    def cut(self) -> bool:
        """Longer than the limit: only the first part is kept."""
        return any(note.key == "audio.notes.cut" for note in self.notes)


def resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr) of a mono or (channels, samples) array."""
    if orig_sr == target_sr:
        return wave.astype(np.float32, copy=False)
    import librosa

    return librosa.resample(wave, orig_sr=orig_sr, target_sr=target_sr, res_type="soxr_hq").astype(np.float32)


def load_audio(source: bytes | str | Path | io.IOBase, *, sample_rate: int = SAMPLE_RATE,
               max_seconds: float = MAX_SECONDS, max_bytes: int = MAX_UPLOAD_BYTES) -> LoadedAudio:
    """Decode WAV / FLAC / OGG / MP3 (any rate, any channel count) into mono float32 at ``sample_rate``.

    Clips longer than ``max_seconds`` keep their first ``max_seconds`` (a note says so). Anything that is
    empty, too large, not audio, corrupt or silent raises ``DataError`` with a message for a person.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError("audio.errors.no_file", path=str(path))
        data = path.read_bytes() if path.stat().st_size <= max_bytes else None
        if data is None:
            raise DataError("audio.errors.too_big", mb=max_bytes / 1e6)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read(max_bytes + 1)
    if not data:
        raise DataError("audio.errors.empty")
    if len(data) > max_bytes:
        raise DataError("audio.errors.too_big", mb=max_bytes / 1e6)
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            rate, channels, frames = f.samplerate, f.channels, f.frames
            if not (1000 <= rate <= 384_000 and 1 <= channels <= 32):
                raise DataError("audio.errors.bad_format", rate=rate, channels=channels)
            keep = int(min(frames, max_seconds * rate)) if frames > 0 else int(max_seconds * rate)
            wave = f.read(frames=keep, dtype="float32", always_2d=True)
    except DataError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        detail = str(exc).strip().rsplit(": ", 1)[-1][:120]  # libsndfile's reason, without the stream's repr
        raise DataError("audio.errors.not_audio", detail=detail) from exc
    if len(wave) == 0:
        raise DataError("audio.errors.no_audio_samples")
    if not np.isfinite(wave).all():
        raise DataError("audio.errors.not_finite")
    original_seconds = frames / rate if frames > 0 else len(wave) / rate
    notes: list[Message] = []
    if channels > 1:
        notes.append(Message("audio.notes.mono", channels=channels))
    mono = wave.mean(axis=1)
    if rate != sample_rate:
        notes.append(Message("audio.notes.resampled", rate=rate, target=sample_rate))
        mono = resample(mono, rate, sample_rate)
    if original_seconds > max_seconds + 1e-6:
        notes.append(Message("audio.notes.cut", seconds=max_seconds, total=original_seconds))
    if np.abs(mono).max() < 1e-4:
        raise DataError("audio.errors.silent_file")
    return LoadedAudio(mono.astype(np.float32), sample_rate, rate, channels, original_seconds, notes)


def to_wav_bytes(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit WAV bytes of a float clip (clipped to [-1, 1]) — for downloads and tests."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(wave, -1, 1), sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ fixed windows
def trim_silence(wave: np.ndarray, top_db: float = 30.0, frame: int = 160) -> np.ndarray:
    """Drop leading and trailing frames quieter than the loudest frame − ``top_db`` dB."""
    n = len(wave) // frame
    if n == 0:
        return wave
    energy = np.sqrt(np.mean(wave[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(energy / energy.max()) > -top_db)
    return wave[loud[0] * frame: (loud[-1] + 1) * frame]


def fit_clip(wave: np.ndarray, n: int = CLIP_SAMPLES) -> np.ndarray:
    """Centre ``wave`` in a window of ``n`` samples: zero-pad short clips, keep the loudest ``n`` of long ones."""
    wave = np.asarray(wave, dtype=np.float32)
    if len(wave) <= n:
        out = np.zeros(n, dtype=np.float32)
        start = (n - len(wave)) // 2
        out[start: start + len(wave)] = wave
        return out
    energy = np.cumsum(np.concatenate([[0.0], wave.astype(np.float64) ** 2]))
    start = int(np.argmax(energy[n:] - energy[:-n]))
    return wave[start: start + n].copy()


def prepare_clip(wave: np.ndarray, n: int = CLIP_SAMPLES, top_db: float = 30.0) -> np.ndarray:
    """What a model hears: silence trimmed, peak-normalised to 0.9, centred in an ``n``-sample window.

    The bundled clips went through the same steps, so a visitor's recording is treated alike.
    """
    wave = trim_silence(np.asarray(wave, dtype=np.float32), top_db)
    peak = float(np.abs(wave).max()) if len(wave) else 0.0
    if peak < 1e-4:
        raise DataError("audio.errors.silent_clip")
    return fit_clip(wave * (0.9 / peak), n)


def stack_clips(waves: list[np.ndarray], n: int = CLIP_SAMPLES) -> np.ndarray:
    """(clips, n) float32 array of fixed windows (``fit_clip`` on each)."""
    return np.stack([fit_clip(w, n) for w in waves]) if waves else np.zeros((0, n), np.float32)


# ------------------------------------------------------------------------------------------------- augmentation
NOISES = ("white", "pink", "brown", "hum")


def noise(kind: str, n: int, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Unit-RMS background noise: white (flat spectrum), pink (1/f), brown (1/f²) or mains hum (50 Hz + harmonics)."""
    if kind == "hum":
        t = np.arange(n) / sample_rate
        y = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in range(1, 8))
        y = y + 0.05 * rng.standard_normal(n)
    elif kind in ("white", "pink", "brown"):
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.arange(len(spectrum), dtype=np.float64)
        f[0] = 1.0
        spectrum /= {"white": 1.0, "pink": np.sqrt(f), "brown": f}[kind]
        y = np.fft.irfft(spectrum, n)
    else:
        raise ConfigError("audio.errors.noise", value=kind, choices=", ".join(NOISES))
    return (y / (np.sqrt(np.mean(y ** 2)) + 1e-12)).astype(np.float32)


def add_noise(wave: np.ndarray, snr_db: float, kind: str = "white", seed: int = 0,
              sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mix in background noise so that signal power / noise power = ``snr_db`` (over the whole clip)."""
    if not -20 <= snr_db <= 60:
        raise ConfigError("audio.errors.snr", value=snr_db)
    signal_rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64))))
    bg = noise(kind, len(wave), np.random.default_rng(seed), sample_rate)
    return (wave + bg * signal_rms / 10 ** (snr_db / 20)).astype(np.float32)


def time_shift(wave: np.ndarray, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Delay (positive) or advance (negative) the clip by ``seconds``, filling with silence; length unchanged."""
    k = int(round(seconds * sample_rate))
    out = np.zeros_like(wave)
    if k >= 0:
        out[k:] = wave[: len(wave) - k] if k < len(wave) else []
    else:
        out[:k] = wave[-k:]
    return out


def pitch_shift(wave: np.ndarray, semitones: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Raise or lower the pitch by ``semitones`` keeping the duration (librosa phase vocoder + resampling)."""
    if not -12 <= semitones <= 12:
        raise ConfigError("audio.errors.pitch", value=semitones)
    if semitones == 0:
        return wave.copy()
    import librosa

    return librosa.effects.pitch_shift(wave, sr=sample_rate, n_steps=semitones, n_fft=512).astype(np.float32)


def time_stretch(wave: np.ndarray, rate: float) -> np.ndarray:
    """Speed up (``rate`` > 1) or slow down (< 1) keeping the pitch (librosa phase vocoder)."""
    if not 0.25 <= rate <= 4:
        raise ConfigError("audio.errors.stretch", value=rate)
    if rate == 1:
        return wave.copy()
    import librosa

    return librosa.effects.time_stretch(wave, rate=rate, n_fft=512).astype(np.float32)
