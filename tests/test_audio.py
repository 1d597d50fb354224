"""Audio lab: features, loading and rejecting audio, augmentation (the explore tab's and the recording-like
pipeline's, each step on its own), telling speech from silence and noise, the bundled set and its generator, models,
a short training run on unseen voices (clean and recording-like), Integrated Gradients over a spectrogram, few-shot
teaching of a new voice, the lab's settings and its page (a shared link restores every setting; the page writes its
settings into the address bar)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from core.data import DATASETS
from core.data.audio import (
    ASSET_DIR,
    CLIP_SAMPLES,
    SAMPLE_RATE,
    Recording,
    add_noise,
    fit_clip,
    load_audio,
    load_spoken_digits,
    microphone,
    noise,
    pitch_shift,
    prepare_clip,
    read_manifest,
    recording_like,
    reverb,
    room_impulses,
    speech_check,
    speed_perturb,
    stack_clips,
    time_shift,
    time_stretch,
    to_wav_bytes,
    vtlp,
    vtlp_warp,
)
from core.errors import ConfigError, DataError
from core.labs.audio import (
    Config,
    PageConfig,
    TeachConfig,
    TeachView,
    View,
    VisitorClips,
    clip_input,
    default_config,
    explain_clip,
    explainable,
    held_out,
    make_job,
    make_teach_job,
    make_teach_trainer,
    make_trainer,
    predict_clip,
    predict_proba,
    readiness,
    silence_input,
    trained_model,
)
from core.labs.audio.features import (
    FeatureParams,
    feature_shape,
    mel_db,
    mel_frequencies,
    mfcc,
    mfcc_labels,
    n_frames,
    stft_db,
    stft_frequencies,
)
from core.labs.audio.trainer import spec_augment
from core.models import MODELS

ROOT = Path(__file__).resolve().parents[1]


def sine(freq: float, seconds: float = 1.0, sr: int = SAMPLE_RATE, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def encode(data: np.ndarray, sr: int, fmt: str, subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, data, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def dominant_hz(wave: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.fft.rfftfreq(len(wave), 1 / sr)[spectrum.argmax()])


# ------------------------------------------------------------------------------------------------- features
@pytest.mark.parametrize(("n_samples", "n_fft", "hop", "n_mels", "n_mfcc", "deltas"), [
    (8000, 256, 80, 40, 13, 2), (8000, 512, 160, 64, 20, 1), (4000, 128, 40, 16, 8, 0), (12345, 1024, 256, 80, 30, 2),
])
def test_feature_shapes_follow_the_parameters(n_samples, n_fft, hop, n_mels, n_mfcc, deltas):
    p = FeatureParams(n_fft=n_fft, hop_length=hop, n_mels=n_mels, n_mfcc=n_mfcc, deltas=deltas)
    wave = np.random.default_rng(0).standard_normal(n_samples).astype(np.float32) * 0.1
    frames = 1 + n_samples // hop
    assert n_frames(n_samples, hop) == frames
    assert stft_db(wave, p).shape == feature_shape("stft", n_samples, p) == (1 + n_fft // 2, frames)
    assert mel_db(wave, p).shape == feature_shape("mel", n_samples, p) == (n_mels, frames)
    assert mfcc(wave, p).shape == feature_shape("mfcc", n_samples, p) == (n_mfcc * (1 + deltas), frames)
    assert len(stft_frequencies(p)) == 1 + n_fft // 2 and len(mel_frequencies(p)) == n_mels
    assert len(mfcc_labels(p)) == n_mfcc * (1 + deltas)
    batch = np.stack([wave, wave * 0.5, wave * 0.25])
    assert mel_db(batch, p).shape == (3, n_mels, frames)
    assert mfcc(batch, p).shape == (3, n_mfcc * (1 + deltas), frames)


def test_a_tone_lands_at_its_frequency_and_level():
    p = FeatureParams()
    spec = stft_db(sine(1000, amp=1.0), p)
    assert abs(stft_frequencies(p)[spec[:, 50].argmax()] - 1000) <= 8000 / 256
    assert abs(spec.max()) < 0.5  # a full-scale sine is 0 dB
    mel = mel_db(sine(1000, amp=1.0), p)
    centre = mel_frequencies(p)[mel[:, 50].argmax()]
    assert 850 < centre < 1150
    quieter = mel_db(sine(1000, amp=0.1), p)
    assert abs((mel.max() - quieter.max()) - 20) < 0.5  # 10× quieter = 20 dB lower
    # the mel bands are denser at low frequencies, like the ear
    gaps = np.diff(mel_frequencies(p))
    assert gaps[0] < gaps[-1] / 3


def test_each_clip_is_floored_relative_to_its_own_peak():
    p = FeatureParams(top_db=60)
    batch = np.stack([sine(500), sine(500) * 1e-3])
    mel = mel_db(batch, p)
    for clip in mel:
        assert clip.max() - clip.min() <= 60 + 1e-3


@pytest.mark.parametrize(("changes", "words"), [
    ({"hop_length": 600, "n_fft": 512}, "hop length"),
    ({"n_mels": 128, "n_fft": 64, "hop_length": 32}, "mel bands"),
    ({"fmax": 6000}, "Nyquist"),
    ({"n_mfcc": 50, "n_mels": 40}, "n_mfcc"),
    ({"n_fft": 16}, "n_fft"),
])
def test_impossible_settings_are_explained(changes, words):
    with pytest.raises(ConfigError, match=words):
        FeatureParams(**changes).validated()


# ----------------------------------------------------------------------------------------- loading audio
def test_stereo_44k_wav_becomes_mono_8k():
    left, right = sine(440, 1.5, 44_100, 0.4), sine(440, 1.5, 44_100, 0.2)
    loaded = load_audio(encode(np.stack([left, right], axis=1), 44_100, "WAV", "PCM_16"))
    assert loaded.sample_rate == SAMPLE_RATE and loaded.original_rate == 44_100 and loaded.channels == 2
    assert abs(len(loaded.wave) - 1.5 * SAMPLE_RATE) <= 2
    assert abs(dominant_hz(loaded.wave) - 440) < 3
    assert abs(np.abs(loaded.wave[1000:-1000]).max() - 0.3) < 0.02  # the average of the two channels
    assert any("mono" in n for n in loaded.notes) and any("44,100 Hz" in n for n in loaded.notes)


@pytest.mark.parametrize(("fmt", "subtype", "sr"), [("FLAC", "PCM_16", 16_000), ("OGG", "VORBIS", 22_050),
                                                     ("WAV", "FLOAT", 8_000), ("MP3", "MPEG_LAYER_III", 48_000)])
def test_other_formats_and_rates_load(fmt, subtype, sr):
    if fmt not in sf.available_formats():
        pytest.skip(f"libsndfile without {fmt}")
    loaded = load_audio(encode(sine(700, 1.0, sr), sr, fmt, subtype))
    assert loaded.sample_rate == SAMPLE_RATE and loaded.original_rate == sr
    assert abs(dominant_hz(loaded.wave) - 700) < 5
    assert 0.9 * SAMPLE_RATE < len(loaded.wave) < 1.2 * SAMPLE_RATE


def test_long_clips_are_cut_with_a_note():
    loaded = load_audio(encode(sine(300, 14.0, 16_000), 16_000, "WAV", "PCM_16"), max_seconds=10)
    assert len(loaded.wave) == 10 * SAMPLE_RATE
    assert loaded.original_seconds == pytest.approx(14.0)
    assert any("first 10 s of 14.0 s" in n for n in loaded.notes)


@pytest.mark.parametrize(("payload", "words"), [
    (b"", "empty"),
    (b"hello, this is plainly a text file and not a sound" * 10, "not audio"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not audio"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not audio"),  # a WAV header cut short
    (bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)), "not audio"),
])
def test_non_audio_and_corrupt_files_are_rejected_with_a_message(payload, words):
    with pytest.raises(DataError, match=words):
        load_audio(payload)


def test_silent_and_oversized_files_are_rejected():
    with pytest.raises(DataError, match="silent"):
        load_audio(encode(np.zeros(8000, np.float32), 8000, "WAV", "PCM_16"))
    with pytest.raises(DataError, match="larger than"):
        load_audio(encode(sine(200, 2.0, 48_000), 48_000, "WAV", "PCM_16"), max_bytes=10_000)
    with pytest.raises(DataError, match="no audio samples"):
        load_audio(encode(np.zeros((0,), np.float32), 8000, "WAV", "PCM_16"))


def test_wav_round_trip():
    wave = sine(440, 0.5)
    again = load_audio(to_wav_bytes(wave)).wave
    assert np.abs(again - wave).max() < 1e-3


# ----------------------------------------------------------------------------------------- fixed windows
def test_prepare_clip_trims_normalises_and_centres():
    wave = np.concatenate([np.zeros(6000), sine(500, 0.3, amp=0.2), np.zeros(20_000)]).astype(np.float32)
    out = prepare_clip(wave)
    assert out.shape == (CLIP_SAMPLES,)
    assert np.abs(out).max() == pytest.approx(0.9, abs=1e-3)
    loud = np.flatnonzero(np.abs(out) > 0.05)
    assert abs((loud[0] + loud[-1]) / 2 - CLIP_SAMPLES / 2) < 200
    long = fit_clip(np.concatenate([np.zeros(9000), np.ones(2000), np.zeros(9000)]).astype(np.float32))
    assert long.shape == (CLIP_SAMPLES,) and long.sum() == 2000  # the loudest second is kept
    with pytest.raises(DataError, match="silent"):
        prepare_clip(np.zeros(5000, np.float32))


# ------------------------------------------------------------------------------------------ augmentation
def test_noise_hits_the_requested_snr():
    wave = sine(300, 1.0)
    for kind in ("white", "pink", "brown", "hum"):
        for snr in (0, 10, 25):
            noisy = add_noise(wave, snr, kind, seed=3)
            measured = 10 * np.log10(np.mean(wave.astype(np.float64) ** 2) / np.mean((noisy - wave) ** 2))
            assert measured == pytest.approx(snr, abs=0.05)
    white = add_noise(np.zeros(8000, np.float32) + 1e-3, 0, "white", seed=0) - 1e-3
    pink = add_noise(np.zeros(8000, np.float32) + 1e-3, 0, "pink", seed=0) - 1e-3
    assert dominant_hz(pink) < 200 < 1500 < np.average(np.fft.rfftfreq(8000, 1 / 8000),
                                                       weights=np.abs(np.fft.rfft(white)))
    with pytest.raises(ConfigError):
        add_noise(wave, 100)


def test_shift_pitch_and_stretch_do_what_they_say():
    wave = np.concatenate([sine(400, 0.5), np.zeros(4000, np.float32)])
    shifted = time_shift(wave, 0.1)
    assert np.allclose(shifted[800:4800], wave[:4000]) and not shifted[:800].any()
    assert np.allclose(time_shift(wave, -0.1)[:3200], wave[800:4000])
    up = pitch_shift(sine(400, 1.0), 12)
    assert len(up) == SAMPLE_RATE and abs(dominant_hz(up) - 800) < 15
    fast = time_stretch(sine(400, 1.0), 2.0)
    assert abs(len(fast) - SAMPLE_RATE / 2) < 50 and abs(dominant_hz(fast) - 400) < 15
    with pytest.raises(ConfigError):
        time_stretch(wave, 10)


def _level_db(wave: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(wave, dtype=np.float64)) + 1e-20)


def _speech_batch(n: int = 6) -> np.ndarray:
    data = load_spoken_digits("en")
    return stack_clips([data.waves[i] for i in data.indices("test")[:n]])


def test_room_impulses_decay_at_their_reverberation_time_with_their_direct_to_reverberant_ratio():
    rt60s = np.array([0.2, 0.5, 0.9])
    irs = room_impulses(rt60s, np.random.default_rng(0), drr_db=np.array([0.0, 6.0, 12.0]))
    assert irs.shape == (3, int(0.9 * SAMPLE_RATE)) and irs.dtype == np.float32
    assert (irs[:, 0] == 1).all()  # the direct sound
    for h, rt60, drr in zip(irs, rt60s, (0.0, 6.0, 12.0), strict=True):
        assert 10 * np.log10(1 / np.sum(h[1:].astype(np.float64) ** 2)) == pytest.approx(drr, abs=0.01)
        t = np.arange(len(h)) / SAMPLE_RATE
        early, late = (np.sum(h[(t > a) & (t < a + 0.05)].astype(np.float64) ** 2) for a in (0.05, 0.05 + rt60 / 3))
        assert 10 * np.log10(early / late) == pytest.approx(20, abs=4)  # 60 dB per rt60: 20 dB in a third
    again = room_impulses(rt60s, np.random.default_rng(0), drr_db=np.array([0.0, 6.0, 12.0]))
    assert np.array_equal(irs, again)
    with pytest.raises(ConfigError, match="reverberation time"):
        room_impulses(5.0, np.random.default_rng(0))


def test_reverb_smears_a_click_over_the_room_and_keeps_shape_and_peak():
    click = np.zeros(SAMPLE_RATE, np.float32)
    click[1000] = 0.8
    wet = reverb(click, 0.5, seed=1)
    assert wet.shape == click.shape and np.abs(wet).max() == pytest.approx(0.8, rel=1e-5)
    tail = wet[1000 + int(0.05 * SAMPLE_RATE): 1000 + int(0.3 * SAMPLE_RATE)]
    assert _level_db(tail) > _level_db(click[2000:4000] + 1e-9) + 100  # silence became a decaying tail
    assert np.abs(wet[:1000]).max() < 1e-6  # nothing before the sound (but FFT round-off)
    batch = _speech_batch()
    assert reverb(batch, np.full(len(batch), 0.4), seed=2).shape == batch.shape
    assert np.array_equal(reverb(batch, 0.4, seed=2), reverb(batch, 0.4, seed=2))
    assert not np.array_equal(reverb(batch, 0.4, seed=2), reverb(batch, 0.4, seed=3))


def test_microphone_passes_its_band_with_its_gain_and_clips_at_full_scale():
    inside = microphone(sine(1000, amp=0.1), 300, 3400, 6.0)
    assert np.abs(inside[1000:-1000]).max() / 0.1 == pytest.approx(10 ** (6 / 20), rel=0.02)
    below = microphone(sine(60, amp=0.1), 300, 3400, 0.0)
    above = microphone(sine(3900, amp=0.1), 300, 2000, 0.0)
    assert 20 * np.log10(np.abs(below[2000:-2000]).max() / 0.1) < -20
    assert 20 * np.log10(np.abs(above[2000:-2000]).max() / 0.1) < -10
    loud = microphone(sine(1000, amp=0.5), 100, 3900, 20.0)
    assert np.abs(loud).max() == 1.0 and np.mean(np.abs(loud) == 1.0) > 0.3  # the ADC clips
    batch = _speech_batch()
    many = microphone(batch, np.linspace(100, 400, 6), np.linspace(2500, 3900, 6), np.linspace(-6, 6, 6))
    assert many.shape == batch.shape and not np.array_equal(many[0], many[1])
    with pytest.raises(ConfigError, match="microphone band"):
        microphone(batch, 500, 200)
    with pytest.raises(ConfigError, match="gain"):
        microphone(batch, gain_db=90)


def test_speed_perturbation_moves_pitch_and_tempo_together():
    fast = speed_perturb(sine(400), 1.25)
    assert fast.shape == (SAMPLE_RATE,) and abs(dominant_hz(fast[:6000]) - 500) < 8
    assert not fast[int(SAMPLE_RATE / 1.25) + 5:].any()  # a shorter sound, padded with silence
    burst = np.concatenate([sine(300, 0.5), np.zeros(4000, np.float32)])
    slow = speed_perturb(burst, 0.8)
    assert abs(np.flatnonzero(np.abs(slow) > 0.01)[-1] - 0.5 / 0.8 * SAMPLE_RATE) < 40
    batch = _speech_batch()
    assert speed_perturb(batch, np.linspace(0.9, 1.1, 6)).shape == batch.shape
    assert np.array_equal(speed_perturb(batch, 1.0), batch)
    with pytest.raises(ConfigError, match="speed factor"):
        speed_perturb(batch, 3.0)


def test_vtlp_moves_formants_by_alpha_and_keeps_the_tempo():
    freqs = np.linspace(0, 4000, 9)
    warped = vtlp_warp(freqs, 1.1, 4000.0)
    assert warped[0] == 0 and warped[-1] == pytest.approx(4000) and np.all(np.diff(warped) > 0)
    assert warped[2] == pytest.approx(1100)  # below the knee: × alpha
    assert vtlp_warp(freqs, np.array([0.9, 1.1]), 4000.0).shape == (2, 9)
    bin_hz = SAMPLE_RATE / 256
    for alpha in (0.9, 1.12):
        out = vtlp(sine(1000), alpha)
        assert out.shape == (SAMPLE_RATE,) and abs(dominant_hz(out) - 1000 * alpha) <= bin_hz
    same = vtlp(sine(1000), 1.0)
    assert np.abs(same - sine(1000))[300:-300].max() < 1e-4
    burst = np.concatenate([np.zeros(2000), sine(500, 0.3), np.zeros(3600)]).astype(np.float32)
    loud = np.flatnonzero(np.abs(vtlp(burst, 1.1)) > 0.05)
    assert abs(loud[0] - 2000) < 160 and abs(loud[-1] - 4400) < 160  # same timing
    batch = _speech_batch()
    assert vtlp(batch, np.linspace(0.9, 1.1, 6)).shape == batch.shape
    with pytest.raises(ConfigError, match="warp factor"):
        vtlp(batch, 2.0)


def test_recording_like_is_a_deterministic_prepared_mix_of_every_step():
    batch = _speech_batch()
    out = recording_like(batch, seed=4)
    assert out.shape == batch.shape and out.dtype == np.float32
    assert np.abs(out).max(axis=1) == pytest.approx(0.9, abs=1e-4)  # prepared like a visitor's clip
    assert np.array_equal(out, recording_like(batch, seed=4)) and not np.array_equal(out, recording_like(batch, 5))
    assert recording_like(batch[0], seed=4).shape == (CLIP_SAMPLES,)
    quiet = Recording(snrs=(40.0,), reverb=0.0, gain_db=(0.0, 0.0), speed=(1.0, 1.0), alpha=(1.0, 1.0),
                      low_hz=(50.0, 50.0), high_hz=(3990.0, 3990.0), shift_s=0.0)
    gentle = recording_like(batch, seed=4, settings=quiet)
    noisy = recording_like(batch, seed=4, settings=Recording(snrs=(0.0,)))
    silence = np.abs(batch).max(axis=0) == 0  # samples outside every word: only noise there
    assert _level_db(gentle[:, silence]) < _level_db(noisy[:, silence]) - 25
    for clip, clean in zip(gentle, batch, strict=True):  # a nearly clean recording is the clip, re-prepared
        ref = prepare_clip(clean)
        similarity = np.correlate(clip, ref[400:-400], "valid") / (np.linalg.norm(clip) * np.linalg.norm(ref))
        assert similarity.max() > 0.95  # the same waveform, give or take the trimming's 20 ms frames


def test_spec_augment_is_on_by_default_masks_and_shifts_reproducibly():
    assert default_config("cnn").spec_augment and default_config("lstm").spec_augment
    x = torch.randn(8, 32, 101)
    augment = spec_augment()
    a, b = augment(x, torch.Generator().manual_seed(1)), augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, augment(x, torch.Generator().manual_seed(2)))
    floor = x.amin(dim=(1, 2), keepdim=True)
    assert ((a == floor).float().mean(dim=(1, 2)) > 0).all()  # every clip has masked cells at its floor


# -------------------------------------------------------------------------------------- is it speech?
def test_silence_noise_clicks_and_tones_are_not_words_but_speech_is():
    rng = np.random.default_rng(0)
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    click = np.zeros(2 * SAMPLE_RATE, np.float32)
    click[8000:8040] = 0.5
    cases = {"audio.errors.too_quiet": [noise("pink", 16000, rng) * 1e-3],
             "audio.errors.no_voice": [noise(k, 16000, rng) * 0.1 for k in ("white", "pink", "brown", "hum")]
             + [click],
             "audio.errors.steady": [0.3 * np.sin(2 * np.pi * f * t) for f in (150, 440)]}
    for key, waves in cases.items():
        for wave in waves:
            assert speech_check(np.asarray(wave, np.float32)).problem() == key
    data = load_spoken_digits("en")
    idx = [i for i in data.indices("test") if "whisper" not in data.voices[i]]
    waves = stack_clips([data.waves[i] for i in idx])
    assert all(speech_check(w).problem() is None for w in waves)  # every (voiced) test clip is speech …
    in_room = np.concatenate([np.zeros(6000), waves[0], np.zeros(4000)]) + 3e-3 * noise("pink", 18000, rng)
    assert speech_check(in_room.astype(np.float32)).problem() is None  # … also inside a quiet recording
    rec = recording_like(waves[:60], seed=1, settings=Recording(snrs=(10.0, 20.0, 30.0)))
    assert np.mean([speech_check(w).problem() is None for w in rec]) >= 0.95


# -------------------------------------------------------------------------------------- the bundled set
def test_bundled_set_is_registered_small_and_speaker_independent():
    assert {"spoken_digits", "spoken_digits_zh"} <= set(DATASETS.names("audio"))
    data = DATASETS.get("spoken_digits")()
    assert data is load_spoken_digits("en")
    assert len(data) == 3060 and data.sample_rate == SAMPLE_RATE
    voices = {s: set(data.split_voices(s)) for s in ("train", "val", "test")}
    assert (len(voices["train"]), len(voices["val"]), len(voices["test"])) == (264, 18, 24)
    assert not voices["train"] & voices["test"] and not voices["train"] & voices["val"]
    assert not voices["val"] & voices["test"]
    speakers = np.array(data.speakers)
    variants = {s: set(speakers[data.indices(s)]) for s in ("train", "val", "test")}
    assert len(set(speakers)) == 102  # every espeak-ng variant and each accent's own voice
    assert not variants["train"] & (variants["val"] | variants["test"])  # unseen timbres in any accent
    families = {re.sub(r"\d+$", "", v).lower() for v in variants["val"] | variants["test"]} - {"m", "f"}
    assert not families & {re.sub(r"\d+$", "", v).lower() for v in variants["train"]}  # no steph2 for steph
    accents = {v.split("+")[0] for v in data.voices}
    assert len(accents) == 8 and all({v.split("+")[0] for v in voices[s]} == accents for s in voices)
    assert set(data.tones) == {"statement", "question", "list", "exclamation"}
    assert len(set(data.speeds)) >= 6 and len(set(data.pitches)) >= 5
    for split in ("train", "val", "test"):
        assert np.bincount(data.digits[data.indices(split)], minlength=10).min() > 0
    assert all(w.dtype == np.float32 and 0.15 * SAMPLE_RATE < len(w) <= 1.6 * SAMPLE_RATE for w in data.waves)
    assert max(np.abs(w).max() for w in data.waves) <= 0.91
    size = sum(p.stat().st_size for p in ASSET_DIR.rglob("*") if p.is_file())
    assert size < 12_000_000, f"the bundled audio grew to {size / 1e6:.1f} MB"
    assert len(list(ASSET_DIR.rglob("*.flac"))) < 400  # one file per voice
    zh = load_spoken_digits("zh")
    assert zh.labels[7] == "7 七" and set(zh.split_voices("test")).isdisjoint(zh.split_voices("train"))
    assert "question" in str(data.describe(int(np.flatnonzero(np.array(data.tones) == "question")[0])))


def _generator():
    spec = importlib.util.spec_from_file_location("make_spoken_digits", ROOT / "scripts" / "make_spoken_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "meta.json"}


def test_generator_plans_every_variant_in_three_accents_and_reproducible_takes():
    gen = _generator()
    rows = [r for r in read_manifest() if r["language"] == "en"]
    voices = sorted({r["voice"] for r in rows})
    assert len(voices) == 3 * 102
    for split, names in gen.HELD_OUT.items():
        assert {r["voice"].split("+")[-1] for r in rows if r["split"] == split} == set(names)
    for row in rows[:: 97]:  # each take is drawn from a generator seeded by the voice and the digit
        assert gen.english_take(row["voice"], row["digit"]) == (row["speed"], row["pitch"], row["tone"])
    assert gen.voice_file("en", "en-us+Mr serious") == "en/en-us_Mr-serious.flac"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_dataset_script_is_deterministic(tmp_path):
    gen = _generator()
    voices = [v for _, v, _ in gen.english_voices()][:: 150][:2]
    subset = {"voices": voices, "digits": [3, 8], "quiet": True}
    first = gen.make(tmp_path / "a", ["en"], **subset)
    gen.make(tmp_path / "b", ["en"], **subset)
    hashes = _hashes(tmp_path / "a")
    assert len(hashes) == 1 + 2 and len(first["clips"]) == 2 * 2  # manifest + a file per voice; 2 × 2 clips
    assert hashes == _hashes(tmp_path / "b")
    committed_meta = json.loads((ASSET_DIR / "meta.json").read_text())
    if committed_meta["espeak_ng"] == first["espeak_ng"]:  # same synthesiser: the committed clips are reproduced
        committed = {(r["voice"], r["digit"]): r for r in read_manifest()}
        for row in read_manifest(tmp_path / "a"):
            old = committed[(row["voice"], row["digit"])]
            assert {k: v for k, v in row.items() if k not in ("file", "start")} == \
                {k: v for k, v in old.items() if k not in ("file", "start")}
            mine = sf.read(tmp_path / "a" / row["file"], dtype="int16")[0][row["start"]: row["start"] + row["samples"]]
            theirs = sf.read(ASSET_DIR / old["file"], dtype="int16")[0][old["start"]: old["start"] + old["samples"]]
            assert np.array_equal(mine, theirs)


# ------------------------------------------------------------------------------------------------ models
def test_models_are_registered_and_map_inputs_to_ten_logits():
    for name in ("mel_cnn", "mfcc_lstm", "mfcc_gru"):
        assert MODELS.entry(name).family == "audio"
    cnn = MODELS.get("mel_cnn")(n_mels=32, n_frames=101)
    assert cnn(torch.randn(4, 32, 101)).shape == (4, 10)
    assert cnn.feature_maps(torch.randn(2, 32, 101)).shape == (2, *cnn.map_shape) == (2, 32, 4, 12)
    for name in ("mfcc_lstm", "mfcc_gru"):
        for readout in ("mean", "last"):
            rnn = MODELS.get(name)(n_features=39, hidden=16, bidirectional=True, readout=readout)
            assert rnn(torch.randn(3, 39, 101)).shape == (3, 10)
    with pytest.raises(ConfigError, match="pooling"):
        MODELS.get("mel_cnn")(n_mels=8, channels=(8, 16, 32, 64))
    with pytest.raises(ConfigError):
        default_config("cnn", epochs=0)


FAST = {"copies": 0}  # the tests' runs: no recording-like training copies (their features take a while to make)


@pytest.fixture(scope="module")
def trained():
    """A CNN and an LSTM after a short training run (seeded; one thread, as in the app on 2 cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        for kind, epochs in (("cnn", 2), ("lstm", 3)):
            torch.manual_seed(0)
            trainer = make_trainer(default_config(kind, epochs=epochs, **FAST))
            for _ in range(trainer.config.steps(len(trainer.x))):
                trainer.train_step()
            out[kind] = trainer
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.mark.slow
def test_short_training_recognises_unseen_voices(trained):
    cnn, lstm = trained["cnn"].snapshot(), trained["lstm"].snapshot()
    assert cnn.test_accuracy >= 0.9, cnn
    assert lstm.test_accuracy >= 0.7, lstm
    assert cnn.confusion.sum() == 2 * 240 and np.trace(cnn.confusion) == round(cnn.recording_accuracy * 480)
    assert 0.2 < cnn.recording_accuracy < cnn.test_accuracy  # the held-out kind of audio is harder
    speakers = np.array(load_spoken_digits("en").speakers)
    assert set(cnn.per_voice()) == set(cnn.per_voice_recording()) == set(speakers[load_spoken_digits("en")
                                                                                  .indices("test")])
    assert np.mean(list(cnn.per_voice().values())) == pytest.approx(cnn.test_accuracy)  # 30 clips per variant
    assert 0 < cnn.sure_share <= 1 and cnn.sure_accuracy > cnn.recording_accuracy  # sure answers are better ones
    evaluation = trained["cnn"].evaluate()
    assert evaluation["clean_val_accuracy"] >= 0.85 and evaluation["val_accuracy"] < evaluation["clean_val_accuracy"]


@pytest.mark.slow
def test_learning_rate_follows_a_cosine_from_lr_to_a_twentieth():
    torch.manual_seed(0)
    trainer = make_trainer(default_config("cnn", epochs=1, **FAST))
    lrs = [trainer.train_step()["lr"] for _ in range(trainer.total_steps)]
    assert lrs[0] == pytest.approx(3e-3) and lrs[-1] == pytest.approx(3e-3 * 0.05)
    assert lrs[len(lrs) // 2] == pytest.approx(3e-3 * 0.525, rel=0.05) and np.all(np.diff(lrs) <= 1e-12)


@pytest.mark.slow
def test_a_prepared_clip_is_recognised_and_explained(trained):
    data = load_spoken_digits("en")
    trainer = trained["cnn"]
    right = 0
    for i in data.indices("test")[::15]:
        x = clip_input(trainer, prepare_clip(data.waves[i]))
        assert x.shape == (1, 32, 101)
        right += int(predict_proba(trainer, x)[0].argmax() == data.digits[i])
    assert right >= 10  # of 12
    i = data.indices("test")[7]
    exp = explain_clip(trainer, prepare_clip(data.waves[i]))
    assert exp.map.shape == exp.inputs.shape == (32, 101)
    assert exp.probabilities.sum() == pytest.approx(1, abs=1e-5) and exp.target == exp.probabilities.argmax()
    assert exp.completeness_error < 0.1  # the CNN's map adds up to f(clip) − f(silence)
    speech = np.abs(exp.map).sum(axis=0)
    quiet = exp.inputs.max(axis=0) < exp.inputs.max() - 60  # frames with no speech in them
    assert speech[~quiet].mean() > 5 * speech[quiet].mean()  # the word, not the silence, drove the decision
    base = silence_input(trained["lstm"], clip_input(trained["lstm"], prepare_clip(data.waves[i]))[0].numpy())
    assert base.shape == (39, 101) and not base[13:].any() and np.allclose(base[1:13], 0, atol=1e-4)


def test_figures_label_seconds_hertz_and_decibels():
    from core.viz.audio import attribution_figure, mfcc_figure, spectrogram_figure, waveform_figure

    p = FeatureParams()
    wave = sine(440, 1.0)
    assert waveform_figure(wave, SAMPLE_RATE).layout.xaxis.title.text == "time (s)"
    times = np.arange(101) * 0.01
    mel = spectrogram_figure(mel_db(wave, p), times, mel_frequencies(p), title="mel", mel=True)
    assert "Hz" in mel.layout.yaxis.title.text and mel.data[0].colorbar.title.text == "dB"
    assert all(t.endswith("k") or t.isdigit() for t in mel.layout.yaxis.ticktext)  # band centres in Hz
    stft = spectrogram_figure(stft_db(wave, p), times, stft_frequencies(p), title="stft")
    assert stft.layout.yaxis.title.text == "frequency (Hz)" and stft.data[0].y[-1] == 4000
    cep = mfcc_figure(mfcc(wave, p), times, p.n_mfcc, p.deltas)
    assert len(cep.data) == 3 and all(tr.zmid == 0 for tr in cep.data)
    long = spectrogram_figure(np.zeros((513, 8001)), np.arange(8001) / 800, np.arange(513), title="long")
    assert np.asarray(long.data[0].z).size <= 250_000  # long clips are thinned for the browser
    attr = attribution_figure(np.zeros((32, 101)), np.random.default_rng(0).standard_normal((32, 101)), times,
                              freqs=mel_frequencies(p.with_(n_mels=32)))
    assert attr.data[1].zmid == 0 and attr.data[1].zmin == -attr.data[1].zmax  # signed map, centred colours


# ------------------------------------------------------------------------------------------------ the lab shape
def test_settings_are_declared_once_and_round_trip_the_url():
    page = PageConfig()
    assert page.cnn() == default_config("cnn") and page.rnn() == default_config("gru")
    assert PageConfig.from_query(page.to_query()) == (page, [])
    zh = PageConfig.from_query({"speech": "zh", "rnn": "gru"})[0]  # no epochs in the link: the language's own
    assert (zh.cnn_epochs, zh.rnn_epochs) == (15, 30) and zh.rnn().kind == "gru" and zh.cnn().language == "zh"
    config = Config(kind="gru", channels=(4, 8), hidden=32, bidirectional=True, readout="last", lr=1e-3,
                    spec_augment=False, copies=3, seed=7)
    assert Config.from_query(config.to_query()) == (config, [])
    fixed, warnings = PageConfig.from_query({"cnn_lr": "5", "rnn": "transformer", "cnn_epochs": "1e9", "fft": "300",
                                             "voice": "x" * 99})
    assert (fixed.cnn_lr, fixed.rnn_cell, fixed.cnn_epochs, fixed.n_fft) == (0.03, "gru", 200, 256)  # the default
    assert len(fixed.voice) == 40
    assert len(warnings) == 4 and all(w.startswith("URL parameter `") for w in warnings), warnings
    fixed.validate()


@pytest.mark.parametrize(("config", "words"), [
    (Config(epochs=0), "Train for 1–200 epochs (got 0)"),
    (Config(lr=1e6), "Learning rate must be between"),
    (Config(n_mels=16, channels=(8,) * 5), "5 pooling steps need at least 32 mel bands"),
    (Config(kind="lstm", n_mfcc=20, n_mels=16), "n_mfcc must be between 1 and n_mels = 16"),
])
def test_bad_settings_are_refused_before_a_job_exists(config, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        make_job(config)


@pytest.mark.slow
def test_job_views_and_inspections_are_small_typed_and_picklable(trained):
    import pickle

    job = make_job(default_config("cnn", epochs=1, seed=3, **FAST))
    assert pickle.loads(pickle.dumps(job._factory)).args == job._factory.args  # another process can build it
    job.start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.state.value == "finished" and snap.step == snap.total_steps and snap.evals["val_accuracy"]
    view = snap.view
    assert isinstance(view, View) and view.step == snap.step and view.confusion.sum() == 480
    assert view.voice_accuracy.shape == view.voice_recording_accuracy.shape == (len(view.voices),) == (8,)
    assert len(pickle.dumps(view)) < 20_000 and "clean_val_accuracy" in snap.evals
    data = load_spoken_digits("en")
    wave = prepare_clip(data.waves[data.indices("test")[3]])
    trainer = trained["cnn"]
    pred = predict_clip(trainer, wave)
    assert np.allclose(pred.probabilities, predict_proba(trainer, clip_input(trainer, wave))[0])
    assert pred.labels[pred.digit] == data.labels[data.digits[data.indices("test")[3]]]
    exp = explain_clip(trainer, wave, target=pred.digit)
    assert exp.times.shape == (101,) and exp.freqs.shape == (32,) and len(pickle.dumps(exp)) < 200_000
    rnn = explain_clip(trained["lstm"], wave)
    assert rnn.freqs is None and rnn.row_labels[:2] == ("c0", "c1") and rnn.map.shape == (39, 101)


@pytest.mark.slow
def test_explainable_is_a_private_copy_with_the_test_clips_and_a_card(trained):
    trainer = trained["cnn"]
    src = explainable(trainer)
    assert src.lab == "audio" and src.kind == "grid" and src.spec.shape == (32, 101) and len(src.class_names) == 10
    assert src.model is not trainer.model and not src.model.training
    with torch.no_grad():
        accuracy = (src.model(src.x_test).argmax(1) == src.y_test).float().mean().item()
    assert accuracy == pytest.approx(trainer.snapshot().test_accuracy)
    assert Config.from_card(src.card)[0] == trainer.config and src.card["step"] == trainer.steps_done
    assert "Log-mel CNN" in src.description and "32 mel bands × 101 frames" in src.description
    assert len(src.extra["y_train"]) == len(src.x_train) and src.extra["flip_rows"]


# ------------------------------------------------------------------------------------ teach it your voice
def new_speaker(takes: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A voice unlike every bundled one — an unseen test voice with a much shorter vocal tract, spoken slowly into a
    narrow-band microphone — recorded ``takes`` times per digit (each take in its own quiet room), digit by digit."""
    data = load_spoken_digits("en")
    voice = data.split_voices("test")[0]
    idx = [i for i in data.indices("test") if data.voices[i] == voice]
    person = microphone(vtlp(speed_perturb(stack_clips([data.waves[i] for i in idx]), 0.85), 1.28), 300, 2400)
    room = Recording(snrs=(20.0, 30.0, 40.0), reverb=0.3)
    waves = np.concatenate([recording_like(person, seed=k, settings=room) for k in range(takes)])
    digits = np.tile(data.digits[idx], takes)
    order = np.argsort(digits, kind="stable")
    return waves[order], digits[order]


def test_held_out_clips_are_each_digits_latest_and_leave_one_to_learn_from():
    digits = np.array([0, 0, 0, 1, 1, 2])
    assert held_out(digits, 1).tolist() == [False, False, True, False, True, False]
    assert held_out(digits, 2).tolist() == [False, True, True, False, True, False]
    assert not held_out(digits, 0).any()
    assert readiness(VisitorClips(np.zeros((1, CLIP_SAMPLES)), [4]), 1).key == "audio.teach.need_test"
    assert readiness(VisitorClips(np.zeros((0, CLIP_SAMPLES)), []), 1).key == "audio.teach.need_clips"
    assert readiness(VisitorClips(np.zeros((2, CLIP_SAMPLES)), [4, 4]), 1) is None
    with pytest.raises(DataError, match="digit from 0 to 9"):
        VisitorClips(np.zeros((1, CLIP_SAMPLES)), [12])
    with pytest.raises(DataError, match="Nothing to test on"):
        make_teach_job(TeachConfig(), None, VisitorClips(np.zeros((1, CLIP_SAMPLES)), [4]))
    with pytest.raises(ConfigError, match="Steps"):
        make_teach_job(TeachConfig(steps=0), None, VisitorClips(np.zeros((2, CLIP_SAMPLES)), [4, 4]))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["head", "all"])
def test_a_few_clips_of_a_new_voice_teach_the_model_that_voice(trained, mode):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        waves, digits = new_speaker()
        teach = TeachConfig(mode=mode, steps=60, holdout=2)
        torch.manual_seed(0)
        trainer = make_teach_trainer(teach, trained_model(trained["cnn"]), VisitorClips(waves, digits))
        frozen = {k: v.clone() for k, v in trainer.model.state_dict().items() if not k.startswith("head.")}
        for _ in range(teach.steps):
            trainer.train_step()
    finally:
        torch.set_num_threads(threads)
    view = trainer.snapshot()
    assert isinstance(view, TeachView) and len(view.digits) == 20 and view.learned_from == 30
    assert view.before <= 0.75, view  # the bundled voices did not prepare it for this one …
    assert view.after >= view.before + 0.15, view  # … a few of its clips did
    assert view.bundled_after >= view.bundled_before - 0.1  # and the other voices are still heard
    assert view.after == pytest.approx(np.mean(view.predicted_after == view.digits))
    assert np.allclose(view.probability_after, predict_proba(trainer, torch.from_numpy(
        mel_db(waves[held_out(digits, 2)], trainer.config.params))).max(1), atol=1e-5)
    changed = [k for k, v in trainer.model.state_dict().items() if k in frozen and not torch.equal(v, frozen[k])]
    assert (changed == []) == (mode == "head")  # frozen features stay put; fine-tuning moves them
    src = explainable(trainer)
    assert src.card["taught"]["settings"]["mode"] == mode and src.card["taught"]["clips"] == 30
    assert predict_clip(trainer, waves[0]).probabilities.shape == (10,)


@pytest.mark.slow
def test_a_teaching_job_is_picklable_and_reports_before_and_after(trained):
    import pickle

    waves, digits = new_speaker(takes=2)
    job = make_teach_job(TeachConfig(steps=10), trained_model(trained["cnn"]), VisitorClips(waves, digits))
    assert pickle.loads(pickle.dumps(job._factory)).args[0] == TeachConfig(steps=10)
    job.start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.state.value == "finished" and snap.step == 10 and "bundled_accuracy" in snap.evals
    assert snap.view.step == 10 and snap.view.before is not None and len(pickle.dumps(snap.view)) < 20_000


def _lab(params: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(params or {})
    at.run()
    at.switch_page("pages/audio_lab/page.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _query(at) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_page_restores_a_shared_link_in_chinese():
    at = _lab({"speech": "zh", "rnn": "gru", "cnn_ch": "16,32,64", "cnn_lr": "0.001", "rnn_hidden": "128",
               "rnn_readout": "last", "specaug": "1", "copies": "2", "fft": "512", "show": "noise", "digit": "3",
               "lang": "zh"})
    state = at.session_state
    assert state["audio_language"] == "zh" and state["audio_rnn_cell"] == "gru"
    assert list(state["audio_cnn_channels"]) == [16, 32, 64] and at.selectbox(key="audio_digit").value == 3
    assert at.select_slider(key="audio_cnn_lr").value == 0.001 and at.toggle(key="audio_spec_augment").value
    assert at.select_slider(key="audio_n_fft").value == 512 and state["audio_show"] == "noise"
    assert at.title[0].value == "音频实验室" and any("声谱图" in m.value for m in at.markdown)
    assert any("梅尔频谱" in i.value for i in at.info) and at.tabs[1].label.endswith("循环神经网络")
    config = PageConfig.from_query(_query(at))[0]
    shared = {"spec_augment": True, "copies": 2}
    assert config.cnn() == default_config("cnn", "zh", channels=(16, 32, 64), lr=0.001, **shared)
    assert config.rnn() == default_config("gru", "zh", hidden=128, readout="last", **shared)


def test_page_default_run_writes_its_settings_and_follows_changes():
    at = _lab()
    query = _query(at)
    assert {"speech": "en", "cnn_epochs": "5", "rnn": "gru", "rnn_epochs": "10", "fft": "256", "lang": "en",
            "specaug": "1", "copies": "1", "teach": "head", "teach_holdout": "1"}.items() <= query.items()
    voice = load_spoken_digits("en").voices[0]
    assert query["voice"] == voice and PageConfig.from_query(query) == (PageConfig(voice=voice), [])
    at.segmented_control(key="audio_language").set_value("zh").run()  # epochs follow the smaller Mandarin set
    assert not at.exception, [e.value for e in at.exception]
    query = _query(at)
    assert (query["speech"], query["cnn_epochs"], query["rnn_epochs"]) == ("zh", "15", "30")
    assert query["voice"] in load_spoken_digits("zh").voices
    fresh = _lab(query)  # the copied address on a fresh server
    assert fresh.session_state["audio__config"] == at.session_state["audio__config"]


def test_page_race_starts_both_models_with_the_settings_shown():
    at = _lab({"rnn": "gru", "cnn_lr": "0.01", "copies": "0"})  # no recording-like copies: quick to stop
    next(b for b in at.button if b.label == "Race both").click().run()
    assert not at.exception, [e.value for e in at.exception]
    jobs = [at.session_state["audio_cnn_job"], at.session_state["audio_rnn_job"]]
    try:
        config = PageConfig.from_query(_query(at))[0]
        assert at.session_state["audio_cnn_job__config"] == config.cnn() and config.cnn().lr == 0.01
        assert at.session_state["audio_rnn_job__config"] == config.rnn() and config.rnn().kind == "gru"
        assert [str(j.name) for j in jobs] == ["Log-mel CNN (English)", "MFCC GRU (English)"]
    finally:
        for job in jobs:
            job.stop()
        for job in jobs:
            assert job.join(120)  # no thread left behind in the middle of computing features


@pytest.mark.slow
def test_page_teaches_a_trained_model_the_visitors_clips_and_shows_before_and_after():
    from pages.audio_lab.teach import TeachClip

    base_config = default_config("cnn", epochs=1, **FAST)
    base = make_job(base_config)
    base.start()
    assert base.join(180)
    waves, digits = new_speaker(takes=3)
    at = _lab({"teach_steps": "20", "teach": "all"})
    assert any("Train a model in tab 2 first" in i.value for i in at.info)  # nothing to teach yet
    at.session_state["audio_cnn_job"], at.session_state["audio_cnn_job__config"] = base, base_config
    at.session_state["audio_teach_clips"] = [TeachClip(w, int(d), f"clip {i}") for i, (w, d) in
                                             enumerate(zip(waves, digits, strict=True))]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("30 clips: 20 to learn from, 10 held out" in c.value for c in at.caption)
    assert at.radio(key="audio_teach_base").value == "audio_cnn_job"
    next(b for b in at.button if b.label == "Teach it").click().run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["audio_teach_job"]
    try:
        assert job.join(120) and job.snapshot().state.value == "finished"
        assert str(job.name) == "Log-mel CNN · your voice (all layers)" and job.total_steps == 20
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        view = job.snapshot().view
        mine = next(m for m in at.metric if m.label == "Your held-out clips")
        assert mine.value == f"{view.before:.0%} → {view.after:.0%}"
        assert any(m.label == "Bundled test voices" for m in at.metric)
        assert at.session_state["audio_teach_job__config"] == base_config  # the predict tab lists it too
    finally:
        job.stop()
        job.join(60)
