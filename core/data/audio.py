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
from scipy.fft import irfft, next_fast_len, rfft

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
    """Clips of the ten digits with who said them and how; ``split`` keeps voice variants apart
    (speaker-independent: a validation or test variant is never heard in training, in any accent)."""

    waves: list[np.ndarray]
    digits: np.ndarray
    words: list[str]
    voices: list[str]
    speeds: np.ndarray
    pitches: np.ndarray
    splits: np.ndarray
    files: list[str]
    tones: list[str] = field(default_factory=list)
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

    @property
    def speakers(self) -> list[str]:
        """Each clip's voice variant (the timbre; ``default`` for an accent's own voice), across accents."""
        return [v.split("+", 1)[1] if "+" in v else "default" for v in self.voices]

    def describe(self, i: int) -> Message:
        """One line for a clip: word, voice, speed, pitch, intonation and split."""
        return Message("audio.data.clip", word=self.words[i], voice=self.voices[i], speed=int(self.speeds[i]),
                       pitch=int(self.pitches[i]), tone=Term(f"audio.tones.{self.tones[i]}"),
                       split=Term(f"audio.splits.{self.splits[i]}"))


def read_manifest(root: str | Path = ASSET_DIR) -> list[dict]:
    """The rows of ``root/manifest.csv`` (file, language, split, voice, digit, word, speed, pitch, tone, start,
    samples: the clip is ``samples`` samples of ``file`` from ``start``)."""
    path = Path(root) / "manifest.csv"
    if not path.exists():
        raise DataError("audio.errors.no_set", path=str(path))
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in ("digit", "speed", "pitch", "start", "samples"):
            row[key] = int(row[key])
    return rows


@lru_cache(maxsize=4)
def load_spoken_digits(language: str = "en", root: str | Path = ASSET_DIR) -> SpokenDigits:
    """Read the clips listed in ``root/manifest.csv`` for ``language`` (cached; treat as read-only)."""
    root = Path(root)
    clips = [c for c in read_manifest(root) if c["language"] == language]
    if not clips:
        raise DataError("audio.errors.no_language", language=language)
    files: dict[str, np.ndarray] = {}
    waves = []
    for clip in clips:
        if clip["file"] not in files:
            data, rate = sf.read(root / clip["file"], dtype="float32")
            files[clip["file"]] = data if rate == SAMPLE_RATE else resample(data, rate, SAMPLE_RATE)
        waves.append(files[clip["file"]][clip["start"]: clip["start"] + clip["samples"]])
    labels = [""] * 10
    for clip in clips:
        labels[clip["digit"]] = clip["word"] if language == "en" else f"{clip['digit']} {clip['word']}"
    return SpokenDigits(
        waves=waves, digits=np.array([c["digit"] for c in clips]), words=[c["word"] for c in clips],
        voices=[c["voice"] for c in clips], speeds=np.array([c["speed"] for c in clips]),
        pitches=np.array([c["pitch"] for c in clips]), splits=np.array([c["split"] for c in clips]),
        files=[f"{c['file']}@{c['start']}" for c in clips], tones=[c["tone"] for c in clips], language=language,
        labels=labels,
    )


@DATASETS.register("spoken_digits", family="audio",
                   description="“zero” … “nine” by 306 synthetic espeak-ng voices (every accent and voice variant, "
                               "at many speeds, pitches and intonations), 8 kHz; split by voice variant: the 6 "
                               "validation and 8 test variants are never heard in training, in any accent.",
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


# ------------------------------------------------------------------------------------- recordings, imitated
# What a microphone in a room does to a voice, each step on one clip ``(samples,)`` or a batch ``(clips, samples)``
# with one setting per clip, each length-preserving and, given its seed, deterministic. ``recording_like`` chains
# them with random settings, the way the audio lab makes its recording-like training copies and held-out set.

def _batch(waves: np.ndarray) -> tuple[np.ndarray, bool]:
    waves = np.asarray(waves, dtype=np.float32)
    return (waves[None, :], True) if waves.ndim == 1 else (waves, False)


def _per_clip(value: float | np.ndarray, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))


def room_impulses(rt60: float | np.ndarray, rng: np.random.Generator, *, drr_db: float | np.ndarray = 3.0,
                  sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Synthetic room impulse responses ``(rooms, taps)``, one per ``rt60``: the direct sound (1 at t = 0), four
    early wall reflections within 20 ms, and a diffuse tail of noise that decays by 60 dB in ``rt60`` seconds and
    loses its highs as it goes (air and walls absorb them faster). ``drr_db``: the direct sound's energy over that of
    everything after it."""
    rt60s = np.atleast_1d(np.asarray(rt60, dtype=np.float64))
    drrs = _per_clip(drr_db, len(rt60s))
    if not ((0.05 <= rt60s) & (rt60s <= 3.0)).all():
        raise ConfigError("audio.errors.rt60", value=float(rt60s.max() if rt60s.max() > 3 else rt60s.min()))
    n = int(min(float(rt60s.max()), 1.0) * sample_rate)
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal((len(rt60s), n)) * 10 ** (-3 * t[None, :] / rt60s[:, None])
    tail = tail + 0.6 * np.roll(tail, 1, axis=1) + 0.3 * np.roll(tail, 2, axis=1)  # a gentle low-pass …
    dull = np.minimum(1.0, t[None, :] / rt60s[:, None])  # … that grows over time: the late tail is duller
    tail = (1 - dull) * tail + dull * 0.5 * (tail + np.roll(tail, 3, axis=1))
    tail[:, : int(0.005 * sample_rate)] = 0.0
    rooms = np.arange(len(rt60s))[:, None]
    early = rng.integers(int(0.002 * sample_rate), int(0.02 * sample_rate), (len(rt60s), 4))
    tail[rooms, early] += rng.choice([-1.0, 1.0], (len(rt60s), 4)) * rng.uniform(0.2, 0.6, (len(rt60s), 4))
    tail *= np.sqrt(10 ** (-drrs[:, None] / 10) / np.maximum(np.sum(tail ** 2, axis=1, keepdims=True), 1e-12))
    tail[:, 0] = 1.0
    return tail.astype(np.float32)


def reverb(waves: np.ndarray, rt60: float | np.ndarray, seed: int = 0, *, drr_db: float | np.ndarray = 3.0,
           sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The clip(s) as heard in a room of reverberation time ``rt60`` (s): convolved with :func:`room_impulses`
    (one room per clip, from ``seed``), cut back to the original length and peak."""
    x, single = _batch(waves)
    irs = room_impulses(_per_clip(rt60, len(x)), np.random.default_rng(seed), drr_db=drr_db, sample_rate=sample_rate)
    size = next_fast_len(x.shape[1] + irs.shape[1], real=True)
    out = irfft(rfft(x, size) * rfft(irs, size), size)[:, : x.shape[1]]
    peak = np.abs(x).max(axis=1, keepdims=True) / np.maximum(np.abs(out).max(axis=1, keepdims=True), 1e-9)
    out = (out * peak).astype(np.float32)
    return out[0] if single else out


def microphone(waves: np.ndarray, low_hz: float | np.ndarray = 100.0, high_hz: float | np.ndarray = 3400.0,
               gain_db: float | np.ndarray = 0.0, *, order: int = 2, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A cheap microphone and preamp: a Butterworth-shaped band-pass (``order`` poles at each edge, applied to the
    magnitude spectrum), then ``gain_db`` of gain into an ADC that clips at ±1."""
    x, single = _batch(waves)
    lows, highs, gains = (_per_clip(v, len(x)) for v in (low_hz, high_hz, gain_db))
    if not ((0 < lows) & (lows < highs) & (highs <= sample_rate / 2)).all():
        raise ConfigError("audio.errors.band", low=float(lows.min()), high=float(highs.max()),
                          nyquist=sample_rate / 2)
    if not ((-40 <= gains) & (gains <= 40)).all():
        raise ConfigError("audio.errors.gain", value=float(gains.max() if gains.max() > 40 else gains.min()))
    size = next_fast_len(2 * x.shape[1], real=True)
    f = np.fft.rfftfreq(size, 1 / sample_rate)[None, :].astype(np.float32)
    with np.errstate(divide="ignore"):
        response = 1 / np.sqrt((1 + (lows[:, None] / f) ** (2 * order)) * (1 + (f / highs[:, None]) ** (2 * order)))
    out = irfft(rfft(x, size) * response.astype(np.float32), size)[:, : x.shape[1]]
    out = np.clip(out * 10 ** (gains[:, None] / 20), -1.0, 1.0).astype(np.float32)
    return out[0] if single else out


def speed_perturb(waves: np.ndarray, factor: float | np.ndarray) -> np.ndarray:
    """Play the clip(s) ``factor`` times faster — tempo, pitch and formants move together, like a tape run fast
    (Ko et al. 2015) — by band-limited resampling; the result is cut or zero-padded back to the original length."""
    x, single = _batch(waves)
    factors = _per_clip(factor, len(x))
    if not ((0.5 <= factors) & (factors <= 2.0)).all():
        raise ConfigError("audio.errors.speed", value=float(factors.max() if factors.max() > 2 else factors.min()))
    from fractions import Fraction

    from scipy.signal import resample_poly

    out = np.zeros_like(x)
    for i, r in enumerate(factors):
        ratio = Fraction(float(r)).limit_denominator(50)
        y = resample_poly(x[i], ratio.denominator, ratio.numerator) if ratio != 1 else x[i]
        out[i, : min(len(y), x.shape[1])] = y[: x.shape[1]]
    return out[0] if single else out


def vtlp_warp(freqs: np.ndarray, alpha: float | np.ndarray, nyquist: float, f_hi: float = 0.8) -> np.ndarray:
    """Jaitly & Hinton's (2013) vocal-tract-length warp of frequencies: × ``alpha`` up to a knee, then a straight
    line to the Nyquist frequency (so the band edges stay put). An array of alphas warps along a new first axis."""
    a = np.asarray(alpha, dtype=np.float64)[..., None] if np.ndim(alpha) else float(alpha)
    edge = f_hi * nyquist * np.minimum(a, 1.0)
    knee = edge / a
    return np.where(freqs <= knee, freqs * a, nyquist - (nyquist - edge) / (nyquist - knee) * (nyquist - freqs))


def vtlp(waves: np.ndarray, alpha: float | np.ndarray, *, n_fft: int = 256, sample_rate: int = SAMPLE_RATE
         ) -> np.ndarray:
    """Vocal-tract-length perturbation: the short-time spectrum of the clip(s) is stretched along frequency by
    ``alpha`` (> 1: a shorter vocal tract, higher formants and pitch) with :func:`vtlp_warp`, at the same tempo.
    The warped magnitudes keep their source bins' phases and go back to a waveform by inverse STFT."""
    import librosa

    x, single = _batch(waves)
    alphas = _per_clip(alpha, len(x))
    if not ((0.7 <= alphas) & (alphas <= 1.4)).all():
        raise ConfigError("audio.errors.vtlp", value=float(alphas.max() if alphas.max() > 1.4 else alphas.min()))
    hop = n_fft // 2  # a Hann window at 50 % overlap adds up to a constant: the inverse STFT is exact
    spec = librosa.stft(x, n_fft=n_fft, hop_length=hop)  # (clips, bins, frames)
    bins = spec.shape[1]
    grid = np.arange(bins, dtype=np.float64)
    warped_grid = vtlp_warp(grid, alphas, bins - 1)  # (clips, bins): where each bin's energy goes
    source = np.stack([np.interp(grid, w, grid) for w in warped_grid])  # where each output bin's energy comes from
    lo = np.clip(np.floor(source).astype(int), 0, bins - 2)[:, :, None]
    frac = (source[:, :, None] - lo).astype(np.float32)
    mag = np.abs(spec)
    warped = np.take_along_axis(mag, lo, 1) * (1 - frac) + np.take_along_axis(mag, lo + 1, 1) * frac
    nearest = np.take_along_axis(spec, np.where(frac < 0.5, lo, lo + 1), 1)
    phase = nearest / np.maximum(np.abs(nearest), 1e-12)
    out = librosa.istft(warped * phase, hop_length=hop, n_fft=n_fft, length=x.shape[1]).astype(np.float32)
    return out[0] if single else out


@dataclass(frozen=True)
class Recording:
    """The ranges :func:`recording_like` draws each clip's imitated recording from."""

    speed: tuple[float, float] = (0.9, 1.1)  # speed perturbation factor
    alpha: tuple[float, float] = (0.88, 1.12)  # vocal-tract-length warp
    reverb: float = 0.7  # share of clips heard in a room …
    rt60: tuple[float, float] = (0.15, 0.9)  # … of this reverberation time (s)
    drr_db: tuple[float, float] = (-2.0, 12.0)  # … and direct-to-reverberant ratio (dB)
    low_hz: tuple[float, float] = (60.0, 500.0)  # microphone band-pass edges
    high_hz: tuple[float, float] = (2200.0, 3950.0)
    gain_db: tuple[float, float] = (-6.0, 14.0)  # preamp gain (clipping above 0 dBFS)
    snrs: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0)  # background noise levels (dB) …
    noises: tuple[str, ...] = NOISES  # … and kinds
    shift_s: float = 0.15  # time shift, either way


RECORDING = Recording()


def recording_like(waves: np.ndarray, seed: int = 0, settings: Recording = RECORDING) -> np.ndarray:
    """Clips ``(clips, samples)`` as if a person had said them into a microphone in a room: speed perturbation,
    vocal-tract-length perturbation, reverberation (in most rooms), a band-limited microphone with gain and clipping,
    background noise at one of several SNRs and a time shift — each clip with its own random settings from
    ``seed`` — then prepared like a visitor's recording (:func:`prepare_clip`)."""
    x, single = _batch(waves)
    n, s = len(x), settings
    rng = np.random.default_rng(seed)

    def uniform(bounds: tuple[float, float]) -> np.ndarray:
        return rng.uniform(*bounds, n)

    y = vtlp(speed_perturb(x, uniform(s.speed)), uniform(s.alpha))
    roomy = rng.random(n) < s.reverb
    if roomy.any():
        y[roomy] = reverb(y[roomy], uniform(s.rt60)[roomy], int(rng.integers(2 ** 31)),
                          drr_db=uniform(s.drr_db)[roomy])
    y = microphone(y, uniform(s.low_hz), uniform(s.high_hz), uniform(s.gain_db))
    snrs, kinds = rng.choice(s.snrs, n), rng.choice(len(s.noises), n)
    shifts = rng.uniform(-s.shift_s, s.shift_s, n)
    out = np.empty_like(y)
    for i in range(n):
        clip = time_shift(y[i], float(shifts[i]))
        level = float(np.sqrt(np.mean(np.square(clip, dtype=np.float64))))
        clip = clip + noise(s.noises[kinds[i]], len(clip), rng) * level / 10 ** (snrs[i] / 20)
        out[i] = prepare_clip(clip, len(clip)) if np.abs(clip).max() >= 1e-4 else clip
    return out[0] if single else out


# ---------------------------------------------------------------------------------------------- is it speech?
QUIET_DB = -50.0  # loudest 32 ms frame below this (dBFS): nothing anyone said
VOICED_S = 0.03  # at least this long voiced (periodic at a pitch of 60–400 Hz) …
VOICED_SHARE = 0.06  # … and at least this share of the sound (noise has a voiced-looking frame now and then)
MIN_CHANGE = 0.06  # mean spectral change between neighbouring frames: speech never holds still
ACTIVE_DB = 30.0  # frames within this of the loudest one are the sound being judged


@dataclass
class SpeechCheck:
    """Whether a clip sounds like someone saying a word: the level of its loudest 32 ms frame (dBFS), how long it
    is voiced (periodic at a pitch of 60–400 Hz, like vocal folds) and how much its spectrum moves from frame to
    frame (speech changes all the time; a tone or a hum holds still)."""

    peak_db: float
    voiced_s: float
    voiced_share: float  # of the frames within ACTIVE_DB of the loudest
    change: float

    def problem(self) -> str | None:
        """The catalogue key of what is wrong with the clip as a spoken word, or None."""
        if self.peak_db < QUIET_DB:
            return "audio.errors.too_quiet"
        if self.voiced_s < VOICED_S or self.voiced_share < VOICED_SHARE:
            return "audio.errors.no_voice"
        if self.change < MIN_CHANGE:
            return "audio.errors.steady"
        return None


def speech_check(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> SpeechCheck:
    """Measure whether ``wave`` (a visitor's clip, before ``prepare_clip``) sounds like a spoken word.

    Voicing is the normalised autocorrelation of each pre-emphasised frame (the first difference whitens rumble and
    brown noise, which would otherwise look periodic), corrected for the window as in Boersma (1993).
    """
    import librosa

    wave = np.asarray(wave, dtype=np.float32)
    frame, hop = int(0.032 * sample_rate), int(0.01 * sample_rate)
    wave = np.pad(wave, (0, max(0, frame - len(wave))))
    frames = librosa.util.frame(wave, frame_length=frame, hop_length=hop).T  # (n, frame)
    level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    peak = float(level.max())
    active = level > peak - ACTIVE_DB
    window = np.hanning(frame)
    x = np.diff(frames, axis=1, prepend=frames[:, :1]) * window
    size = 2 * frame
    r = np.fft.irfft(np.abs(np.fft.rfft(x, size)) ** 2, size)[:, :frame]
    w = np.fft.irfft(np.abs(np.fft.rfft(window, size)) ** 2, size)[:frame]
    r = r / np.maximum(r[:, :1], 1e-12) / np.maximum(w / w[0], 1e-3)
    voiced = (r[:, sample_rate // 400: sample_rate // 60].max(axis=1) > 0.5) & active
    spec = np.log1p(np.abs(np.fft.rfft(frames[active] * window, axis=1)) * (1000 / (np.abs(wave).max() + 1e-12)))
    spec /= np.linalg.norm(spec, axis=1, keepdims=True) + 1e-12
    change = float(np.mean(np.linalg.norm(np.diff(spec, axis=0), axis=1))) if len(spec) > 1 else 0.0
    return SpeechCheck(peak, float(voiced.sum() * hop / sample_rate), float(voiced.sum() / active.sum()), change)
