"""Bad input everywhere a visitor can give some: uploads (images, zips, audio), numeric settings, the network
builder's shareable URL and a diverging learning rate. Every case must end in a message a person can act on
(asserted by substring), never a traceback; a few page runs prove the message reaches the UI.

Streamlit's AppTest cannot drive a file uploader, so uploads go through the very functions the pages call
(``decode_image``, ``load_uploaded_dataset``, ``load_audio``) with bytes like an ``UploadedFile``'s."""

from __future__ import annotations

import ast
import io
import math
import struct
import tomllib
import wave
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.data import audio as audio_data
from core.data import images
from core.data.audio import load_audio, prepare_clip
from core.data.images import decode_image, load_digits_dataset, load_uploaded_dataset, read_image_zip
from core.data.sequences import make_series
from core.errors import ConfigError, DataError, PlaygroundError
from core.explain.methods import ExplainOptions
from core.jobs import JobState, TrainingJob
from core.labs import vision
from core.labs.audio import Config as AudioConfig
from core.labs.audio.features import FeatureParams
from core.labs.planar import Config as BuilderConfig
from core.labs.planar import make_job, make_trainer
from core.labs.sequences import Config as SequenceConfig
from core.labs.sequences import make_trainer as build_trainer
from core.models.cnn import CNNConfig, ConvBlock, layer_table, validate
from core.models.recurrent import RecurrentNet
from core.neuron import gradient_through_stack
from core.training import make_optimizer

ROOT = Path(__file__).resolve().parents[1]
NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------------------------- helpers
@dataclass
class FakeUpload:
    """What the pages read from ``st.file_uploader`` / ``st.audio_input``: name, size, getvalue(), read()."""

    name: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def getvalue(self) -> bytes:
        return self.data

    def read(self, n: int = -1) -> bytes:
        return self.data if n < 0 else self.data[:n]


def png(w: int = 12, h: int = 12, mode: str = "RGB", colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (w, h), colour if mode in ("RGB", "RGBA") else 128).save(buf, format="PNG")
    return buf.getvalue()


def png_header_claiming(w: int, h: int) -> bytes:
    """A tiny valid PNG whose IHDR says ``w × h`` (the classic decompression bomb: a few bytes, gigapixels)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = zlib.compress(b"\0" * 64)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
            + struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat)))


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()


def good_classes(n: int = 6) -> dict[str, bytes]:
    return {f"{c}/{i}.png": png(colour=col) for c, col in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200)))
            for i in range(n)}


def wav(samples: np.ndarray, rate: int = 8000, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def tone(seconds: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def expect(fn, message: str, error: type[Exception] = PlaygroundError) -> None:
    with pytest.raises(error) as info:
        fn()
    assert message.lower() in str(info.value).lower(), str(info.value)
    assert "Traceback" not in str(info.value)


# ------------------------------------------------------------------------------------- image uploads
# (CNN lab "Your images" files per class, CNN lab test upload, Explain upload: all go through decode_image)
IMAGE_FILES = [
    pytest.param("photo.png", b"", "not an image PIL can read", id="image-empty"),
    pytest.param("photo.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "", id="image-corrupt-after-signature"),
    pytest.param("photo.png", png(64, 64)[:80], "damaged or truncated", id="image-truncated-png"),
    pytest.param("photo.jpg", b"GIF89a" + b"\0" * 10, "", id="image-corrupt-gif-as-jpg"),
    pytest.param("notes.txt", b"hello", "not an image file", id="image-wrong-extension-txt"),
    pytest.param("model.pt", b"PK\x03\x04", "not an image file", id="image-wrong-extension-pt"),
    pytest.param("photo.png", b"just some text pretending", "not an image PIL can read", id="image-text-renamed-png"),
    pytest.param("photo.png", b"\0" * (images.MAX_FILE_BYTES + 1), "one image may be at most",
                 id="image-oversized-11mb"),
    pytest.param("bomb.png", png_header_claiming(40_000, 40_000), "decompression bomb", id="image-bomb-40000x40000"),
    pytest.param("bomb.png", png_header_claiming(1, 2**31 - 1), "decompression bomb", id="image-bomb-1x2G-strip"),
    pytest.param("bomb.png", png_header_claiming(0, 0), "", id="image-zero-size-header"),
]


@pytest.mark.parametrize(("name", "data", "message"), IMAGE_FILES)
def test_bad_image_file_is_rejected_with_a_message(name, data, message):
    upload = FakeUpload(name, data)
    with pytest.raises(DataError) as info:
        decode_image(upload.name, upload.getvalue())
    text = str(info.value)
    assert name in text and message.lower() in text.lower(), text


ODD_BUT_VALID = [
    pytest.param(png(1, 1), id="explain-upload-1x1"),
    pytest.param(png(3000, 2), id="explain-upload-3000x2-strip"),
    pytest.param(png(20, 20, mode="L"), id="explain-upload-greyscale"),
    pytest.param(png(20, 20, mode="RGBA", colour=(0, 0, 0, 0)), id="explain-upload-fully-transparent"),
    pytest.param(png(20, 20, mode="I;16"), id="explain-upload-16bit"),
]


@pytest.mark.parametrize("data", ODD_BUT_VALID)
@pytest.mark.parametrize("size", [8, 32])
def test_odd_but_valid_pictures_become_a_proper_input(data, size):
    """Explain / CNN-lab uploads: after decode_image, ds.preprocess must give the network's input shape."""
    ds = _digits(size)
    x, shown = ds.preprocess(decode_image("odd.png", data))
    assert tuple(x.shape) == (1, *ds.input_shape) and torch.isfinite(x).all() and np.isfinite(shown).all()


_DIGITS: dict[int, images.ImageDataset] = {}


def _digits(size: int) -> images.ImageDataset:
    if size not in _DIGITS:
        _DIGITS[size] = load_digits_dataset(8) if size == 8 else images.load_shapes_dataset(per_class=10, size=32)
    return _DIGITS[size]


# ------------------------------------------------------------------------------------------ zip uploads
def _bomb_member() -> bytes:
    return make_zip({"cats/a.png": b"\0" * (5 * 1024 * 1024), **{f"dogs/{i}.png": png() for i in range(5)}},
                    compression=zipfile.ZIP_DEFLATED)


ZIPS = [
    pytest.param(lambda: b"", "not a readable zip", id="zip-empty-bytes"),
    pytest.param(lambda: b"this is not a zip at all", "not a readable zip", id="zip-wrong-type-text"),
    pytest.param(lambda: png(), "not a readable zip", id="zip-wrong-type-png"),
    pytest.param(lambda: make_zip(good_classes())[:-40], "not a readable zip", id="zip-truncated"),
    pytest.param(lambda: make_zip({}), "holds no images", id="zip-no-entries"),
    pytest.param(lambda: make_zip({"../evil/x.png": png(), **good_classes()}), "points outside",
                 id="zip-path-traversal-dotdot"),
    pytest.param(lambda: make_zip({"cats/../../etc/passwd.png": png(), **good_classes()}), "points outside",
                 id="zip-path-traversal-nested"),
    pytest.param(lambda: make_zip({"/etc/cats/x.png": png(), **good_classes()}), "points outside",
                 id="zip-absolute-path"),
    pytest.param(lambda: make_zip({"C:/cats/x.png": png(), **good_classes()}), "points outside",
                 id="zip-windows-drive-path"),
    pytest.param(lambda: make_zip({"..\\cats\\x.png": png(), **good_classes()}), "points outside",
                 id="zip-backslash-traversal"),
    pytest.param(lambda: make_zip({f"c{i % 2}/{i}.png": b"x" for i in range(5000)}), "5,000 files",
                 id="zip-5000-tiny-files"),
    pytest.param(_bomb_member, "zip bomb", id="zip-bomb-member-ratio"),
    pytest.param(lambda: make_zip({"cats/big.png": b"\0" * (images.MAX_FILE_BYTES + 1), **good_classes()}),
                 "one image may be at most", id="zip-member-oversized"),
    pytest.param(lambda: b"PK" + b"\0" * (images.MAX_UPLOAD_BYTES + 1), "the limit is 50 MB", id="zip-oversized-50mb"),
    pytest.param(lambda: make_zip({"a.png": png(), "b.png": png()}), "not inside a class folder",
                 id="zip-files-without-class-folders"),
    pytest.param(lambda: make_zip({f"cats/{i}.png": png() for i in range(6)}), "at least two classes",
                 id="zip-one-class"),
    pytest.param(lambda: make_zip({**good_classes(), "birds/1.png": png()}), "at least 5 images",
                 id="zip-class-with-too-few"),
    pytest.param(lambda: make_zip({**good_classes(), "cats/broken.png": b"\x89PNG\r\n\x1a\nxx"}), "broken.png",
                 id="zip-one-corrupt-member"),
    pytest.param(lambda: make_zip({**good_classes(), "cats/bomb.png": png_header_claiming(40_000, 40_000)}),
                 "decompression bomb", id="zip-member-pixel-bomb"),
    pytest.param(lambda: make_zip({**good_classes(), "cats/readme.txt": b"hi"}), "not an image file",
                 id="zip-member-wrong-type"),
    pytest.param(lambda: make_zip({f"k{i}/{j}.png": png() for i in range(21) for j in range(5)}), "limit of 20",
                 id="zip-too-many-classes"),
]


@pytest.mark.parametrize(("build", "message"), ZIPS)
def test_bad_zip_upload_is_rejected_with_a_message(build, message):
    expect(lambda: load_uploaded_dataset(zip_bytes=build(), size=16), message, DataError)


def test_zip_skips_macos_metadata_and_reads_nothing_to_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = make_zip({"__MACOSX/cats/._1.png": b"junk", ".DS_Store": b"junk", **good_classes()})
    assert sorted(read_image_zip(data)) == ["cats", "dogs"]
    assert list(tmp_path.iterdir()) == []


FILES_PER_CLASS = [
    pytest.param({}, "upload a zip", id="files-nothing-uploaded"),
    pytest.param({"  ": [("a.png", png())] * 6, "dogs": [("b.png", png())] * 6}, "at least two classes",
                 id="files-blank-class-name"),
    pytest.param({"cats": [("a.png", png())] * 6, "dogs": [("b.png", b"")] * 6}, "b.png",
                 id="files-empty-files"),
    pytest.param({"cats": [("a.png", png())] * 3000, "dogs": [("b.png", png())] * 5}, "limit of 3,000",
                 id="files-too-many"),
    pytest.param({"cats": [("a.png", b"\0" * (9 * 1024 * 1024))] * 6, "dogs": [("b.png", png())] * 6},
                 "add up to", id="files-oversized-total"),
]


@pytest.mark.parametrize(("files", "message"), FILES_PER_CLASS)
def test_bad_files_per_class_are_rejected_with_a_message(files, message):
    expect(lambda: load_uploaded_dataset(files=files, size=16), message, DataError)


# ------------------------------------------------------------------------------------------ audio uploads
def _flac_truncated() -> bytes:
    return wav(tone(1.0), fmt="FLAC")[:60]


AUDIO = [
    pytest.param(lambda: b"", "empty", id="audio-empty"),
    pytest.param(lambda: b"RIFF this is really just text, not a wave", "not audio we can read", id="audio-text-as-wav"),
    pytest.param(lambda: png(), "not audio we can read", id="audio-png-as-wav"),
    pytest.param(lambda: make_zip(good_classes(1)), "not audio we can read", id="audio-zip-as-mp3"),
    pytest.param(_flac_truncated, "not audio we can read", id="audio-truncated-flac"),
    pytest.param(lambda: wav(tone(1.0))[:44], "no audio samples", id="audio-header-only-wav"),
    pytest.param(lambda: wav(np.zeros(8000, np.float32)), "silent", id="audio-silent"),
    pytest.param(lambda: wav(np.full(8000, 1e-6, np.float32), subtype="FLOAT"), "silent", id="audio-near-silent"),
    pytest.param(lambda: wav(np.full(800, np.nan, np.float32), subtype="FLOAT"), "nan", id="audio-nan-samples"),
    pytest.param(lambda: b"RIFF" + b"\0" * (audio_data.MAX_UPLOAD_BYTES + 1), "larger than 20 mb",
                 id="audio-oversized"),
    pytest.param(lambda: wav(tone(0.5, 500), rate=500), "declares 500 hz", id="audio-absurd-sample-rate"),
]


@pytest.mark.parametrize(("build", "message"), AUDIO)
@pytest.mark.parametrize("as_file", [False, True], ids=["bytes", "filelike"])
def test_bad_audio_is_rejected_with_a_message(build, message, as_file):
    data = build()
    source = io.BytesIO(data) if as_file else FakeUpload("clip.wav", data).getvalue()
    expect(lambda: load_audio(source), message, DataError)


def test_too_long_audio_is_cut_with_a_note():
    loaded = load_audio(wav(tone(15.0)))
    assert loaded.seconds == pytest.approx(audio_data.MAX_SECONDS)
    assert any("kept the first 10 s of 15.0 s" in n for n in loaded.notes)


def test_silent_recording_is_rejected_and_a_blip_is_not_a_word():
    """st.audio_input hands over a 16 kHz WAV: a silent recording, and a lone click that trims to nothing."""
    expect(lambda: load_audio(FakeUpload("recording.wav", wav(np.zeros(16000, np.float32), 16000)).getvalue()),
           "silent", DataError)
    expect(lambda: prepare_clip(np.zeros(8000, np.float32)), "silent", DataError)


# -------------------------------------------------------------------------------- numeric settings (core)
def _seq(**kw):
    return lambda: build_trainer(SequenceConfig(**kw).validate())


def _nb(**kw):
    def run():
        config = BuilderConfig(**kw)
        config.validate()
        return make_trainer(config)
    return run


def _cnn(**kw):
    return lambda: validate(CNNConfig(1, 16, 10, **kw))


def _block(**kw):
    return lambda: validate(CNNConfig(1, 16, 10, blocks=(ConvBlock(**kw),)))


def _opt(lr, wd=0.0):
    return lambda: make_optimizer("Adam", [torch.nn.Parameter(torch.zeros(1))], lr, wd)


NUMERIC = [
    # optimizer registry (every page's learning rate and weight decay ends here)
    pytest.param(_opt(1e6), "learning rate must be a number between 0 and 100", id="lr-1e6"),
    pytest.param(_opt(NAN), "learning rate", id="lr-nan"),
    pytest.param(_opt(INF), "learning rate", id="lr-inf"),
    pytest.param(_opt(-0.1), "learning rate", id="lr-negative"),
    pytest.param(_opt(0.0), "learning rate", id="lr-zero"),
    pytest.param(_opt(0.01, -1.0), "weight decay", id="weight-decay-negative"),
    pytest.param(_opt(0.01, NAN), "weight decay", id="weight-decay-nan"),
    # network builder
    pytest.param(_nb(batch_size=0), "batch size must be between 1 and 64", id="nb-batch-0"),
    pytest.param(_nb(batch_size=10**9), "batch size", id="nb-batch-1e9"),
    pytest.param(_nb(hidden=(0,)), "1 to 8 neurons", id="nb-neurons-0"),
    pytest.param(_nb(hidden=(10**6,)), "1 to 8 neurons", id="nb-neurons-1e6"),
    pytest.param(_nb(hidden=(4,) * 50), "at most 6 hidden layers", id="nb-layers-50"),
    pytest.param(_nb(lr=1e6), "learning rate", id="nb-lr-1e6"),
    pytest.param(_nb(lr=NAN), "learning rate", id="nb-lr-nan"),
    pytest.param(_nb(noise=-5), "noise", id="nb-noise-negative"),
    pytest.param(_nb(noise=10**6), "noise", id="nb-noise-huge"),
    pytest.param(_nb(train_pct=0), "training share", id="nb-train-pct-0"),
    pytest.param(_nb(train_pct=150), "training share", id="nb-train-pct-150"),
    pytest.param(_nb(dropout=NAN), "dropout", id="nb-dropout-nan"),
    pytest.param(_nb(dropout=1.0), "dropout", id="nb-dropout-1"),
    pytest.param(_nb(reg_rate=-1.0), "regularization rate", id="nb-reg-rate-negative"),
    pytest.param(_nb(reg_rate=NAN), "regularization rate", id="nb-reg-rate-nan"),
    pytest.param(_nb(seed=-1), "seed", id="nb-seed-negative"),
    pytest.param(_nb(features=()), "at least one input feature", id="nb-no-features"),
    # sequence lab
    pytest.param(_seq(batch_size=0), "batch size", id="seq-batch-0"),
    pytest.param(_seq(batch_size=10**9), "batch size", id="seq-batch-1e9"),
    pytest.param(_seq(hidden_size=0), "hidden size", id="seq-hidden-0"),
    pytest.param(_seq(hidden_size=10**6), "hidden size", id="seq-hidden-1e6"),
    pytest.param(_seq(num_layers=0), "number of layers", id="seq-layers-0"),
    pytest.param(_seq(num_layers=100), "number of layers", id="seq-layers-100"),
    pytest.param(_seq(lr=1e6), "learning rate", id="seq-lr-1e6"),
    pytest.param(_seq(lr=NAN), "learning rate", id="seq-lr-nan"),
    pytest.param(_seq(seq_len=0), "sequence length", id="seq-memory-length-0"),
    pytest.param(_seq(seq_len=10**6), "sequence length", id="seq-memory-length-1e6"),
    pytest.param(_seq(task="forecast", window=0), "window", id="seq-window-0"),
    pytest.param(_seq(task="forecast", window=10**6), "window", id="seq-window-1e6"),
    pytest.param(_seq(task="forecast", horizon=-1), "horizon", id="seq-horizon-negative"),
    pytest.param(lambda: make_series("sum_of_sines", 0), "1,000,000 points", id="seq-series-length-0"),
    pytest.param(_seq(task="chars", text_source="own", text="short"), "too short", id="seq-text-too-short"),
    pytest.param(_seq(task="chars", char_seq_len=0), "sequence length", id="seq-char-length-0"),
    pytest.param(_seq(task="chars", embed_dim=0), "embedding", id="seq-embed-0"),
    pytest.param(_seq(dropout=NAN), "dropout", id="seq-dropout-nan"),
    pytest.param(_seq(dropout=1.5), "dropout", id="seq-dropout-1.5"),
    pytest.param(_seq(init_scale=NAN), "recurrent weight scale", id="seq-init-scale-nan"),
    pytest.param(_seq(init_scale=1e9), "recurrent weight scale", id="seq-init-scale-1e9"),
    pytest.param(_seq(clip_norm=NAN), "max-norm", id="seq-clip-nan"),
    pytest.param(_seq(clip_norm=-1.0), "max-norm", id="seq-clip-negative"),
    pytest.param(_seq(steps=0), "number of steps", id="seq-steps-0"),
    pytest.param(_seq(steps=NAN), "number of steps", id="seq-steps-nan"),
    pytest.param(_seq(steps=10**12), "number of steps", id="seq-steps-1e12"),
    pytest.param(_seq(seed=-1), "seed", id="seq-seed-negative"),
    pytest.param(lambda: make_series("sum_of_sines", 10**12), "1,000,000 points", id="seq-series-length-1e12"),
    pytest.param(lambda: RecurrentNet("LSTM", 1, 1).eval() and _sample_bad_temperature(), "temperature",
                 id="seq-temperature-nan"),
    # CNN lab (layer table, FC text, training settings)
    pytest.param(_cnn(fc=(-5,)), "between 1 and 4096 units", id="cnn-fc-negative"),
    pytest.param(_cnn(fc=(10**9,)), "between 1 and 4096 units", id="cnn-fc-1e9"),
    pytest.param(_cnn(blocks=()), "between 1 and 6 conv blocks", id="cnn-no-blocks"),
    pytest.param(_cnn(blocks=(ConvBlock(),) * 20), "between 1 and 6 conv blocks", id="cnn-20-blocks"),
    pytest.param(_cnn(dropout=NAN), "dropout", id="cnn-dropout-nan"),
    pytest.param(_block(channels=0), "between 1 and 512 channels", id="cnn-channels-0"),
    pytest.param(_block(channels=10**6), "between 1 and 512 channels", id="cnn-channels-1e6"),
    pytest.param(_block(kernel=0), "kernel size", id="cnn-kernel-0"),
    pytest.param(_block(kernel=99), "kernel size", id="cnn-kernel-99"),
    pytest.param(_block(stride=0), "stride", id="cnn-stride-0"),
    pytest.param(_block(padding=-1), "padding", id="cnn-padding-negative"),
    pytest.param(_block(convs=0), "convolutions per block", id="cnn-convs-0"),
    pytest.param(lambda: layer_table(CNNConfig(1, 8, 10, blocks=(ConvBlock(kernel=11, padding=0),))), "does not fit",
                 id="cnn-kernel-bigger-than-image"),
    pytest.param(lambda: layer_table(CNNConfig(3, 64, 10, blocks=(ConvBlock(channels=512, convs=3, pool="none"),) * 6)),
                 "limit", id="cnn-too-big-to-train"),
    pytest.param(lambda: vision.Config(epochs=0).validate(), "1 to 200 epochs", id="cnn-epochs-0"),
    pytest.param(lambda: vision.Config(epochs=10**9).validate(), "1 to 200 epochs", id="cnn-epochs-1e9"),
    pytest.param(lambda: vision.Config(epochs=NAN).validate(), "epochs", id="cnn-epochs-nan"),
    pytest.param(lambda: vision.Config(batch_size=0).validate(), "batch size", id="cnn-batch-0"),
    pytest.param(lambda: vision.Config(batch_size=10**9).validate(), "batch size", id="cnn-batch-1e9"),
    pytest.param(lambda: vision.Config(patience=-3).validate(), "patience", id="cnn-patience-negative"),
    pytest.param(lambda: load_digits_dataset(size=0), "8, 16 or 28", id="cnn-digit-size-0"),
    pytest.param(lambda: images.load_shapes_dataset(per_class=10**7), "between 10 and 5000", id="cnn-shapes-1e7"),
    pytest.param(lambda: load_uploaded_dataset(files={"a": [], "b": []}, size=10**4), "image size",
                 id="cnn-upload-resize-10000"),
    # audio lab
    pytest.param(lambda: AudioConfig(epochs=0).validate(), "1–200 epochs", id="audio-epochs-0"),
    pytest.param(lambda: AudioConfig(epochs=10**9).validate(), "1–200 epochs", id="audio-epochs-1e9"),
    pytest.param(lambda: AudioConfig(lr=1e6).validate(), "learning rate", id="audio-lr-1e6"),
    pytest.param(lambda: AudioConfig(lr=NAN).validate(), "learning rate", id="audio-lr-nan"),
    pytest.param(lambda: AudioConfig(batch_size=0).validate(), "batch size", id="audio-batch-0"),
    pytest.param(lambda: AudioConfig(batch_size=10**9).validate(), "batch size", id="audio-batch-1e9"),
    pytest.param(lambda: AudioConfig(dropout=NAN).validate(), "dropout", id="audio-dropout-nan"),
    pytest.param(lambda: AudioConfig(copies=99).validate(), "recording-like copies", id="audio-copies-99"),
    pytest.param(lambda: FeatureParams(n_fft=0).validated(), "n_fft", id="audio-nfft-0"),
    pytest.param(lambda: FeatureParams(n_fft=NAN).validated(), "n_fft", id="audio-nfft-nan"),
    pytest.param(lambda: FeatureParams(hop_length=0).validated(), "hop length", id="audio-hop-0"),
    pytest.param(lambda: FeatureParams(hop_length=10**6).validated(), "hop length", id="audio-hop-1e6"),
    pytest.param(lambda: FeatureParams(n_mels=10**4).validated(), "mel bands", id="audio-mels-1e4"),
    pytest.param(lambda: FeatureParams(n_mfcc=0).validated(), "n_mfcc", id="audio-mfcc-0"),
    pytest.param(lambda: FeatureParams(fmax=-1).validated(), "fmax", id="audio-fmax-negative"),
    pytest.param(lambda: FeatureParams(fmax=10**6).validated(), "fmax", id="audio-fmax-above-nyquist"),
    pytest.param(lambda: audio_data.add_noise(tone(0.1), NAN), "signal-to-noise", id="audio-snr-nan"),
    pytest.param(lambda: audio_data.add_noise(tone(0.1), 1e6), "signal-to-noise", id="audio-snr-1e6"),
    pytest.param(lambda: audio_data.pitch_shift(tone(0.1), 99), "semitones", id="audio-pitch-99"),
    pytest.param(lambda: audio_data.time_stretch(tone(0.1), 0), "stretch rate", id="audio-stretch-0"),
    pytest.param(lambda: audio_data.time_stretch(tone(0.1), NAN), "stretch rate", id="audio-stretch-nan"),
    # neurons page
    pytest.param(lambda: gradient_through_stack("Sigmoid", 0), "depth", id="neurons-depth-0"),
    pytest.param(lambda: gradient_through_stack("Sigmoid", 10**6), "depth", id="neurons-depth-1e6"),
    pytest.param(lambda: gradient_through_stack("Sigmoid", NAN), "depth", id="neurons-depth-nan"),
    # explain page
    pytest.param(lambda: ExplainOptions.make(ig_steps=0), "integrated gradients", id="explain-ig-steps-0"),
    pytest.param(lambda: ExplainOptions.make(ig_steps=10**9), "integrated gradients", id="explain-ig-steps-1e9"),
    pytest.param(lambda: ExplainOptions.make(ig_steps=NAN), "integrated gradients", id="explain-ig-steps-nan"),
    pytest.param(lambda: ExplainOptions.make(occlusion_window=500), "occlusion", id="explain-occlusion-window-500"),
    pytest.param(lambda: ExplainOptions.make(occlusion_stride=0), "occlusion", id="explain-occlusion-stride-0"),
    pytest.param(lambda: ExplainOptions.make(nt_samples=0), "noisetunnel", id="explain-nt-samples-0"),
    pytest.param(lambda: ExplainOptions.make(nt_stdev=NAN), "noise level", id="explain-nt-noise-nan"),
    pytest.param(lambda: ExplainOptions.make(nt_stdev=-1), "noise level", id="explain-nt-noise-negative"),
    pytest.param(lambda: ExplainOptions.make(perturb_samples=10**7), "lime", id="explain-lime-samples-1e7"),
    pytest.param(lambda: ExplainOptions.make(patch=0), "patches", id="explain-patch-0"),
    pytest.param(lambda: ExplainOptions.make(superpixels=10**5), "superpixels", id="explain-superpixels-1e5"),
]


def _sample_bad_temperature():
    from core.models.recurrent import sample_text

    return sample_text(RecurrentNet("LSTM", 4, 4, per_step=True), [0, 1], 5, temperature=NAN)


@pytest.mark.parametrize(("call", "message"), NUMERIC)
def test_bad_number_gets_a_human_config_error(call, message):
    expect(call, message)


def test_occlusion_window_bigger_than_a_small_image_still_explains():
    """An 8×8 digit with the largest window the UI allows (14 px) must give a full-size map, not a crash."""
    from core.explain import attribute
    from core.explain.bundled import image_spec

    ds = _digits(8)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)).eval()
    out = attribute("Occlusion", model, ds.x_test[0], 0, spec=image_spec(ds), occlusion_window=14,
                    occlusion_stride=14)
    assert tuple(out.map.shape[-2:]) == (8, 8) and np.isfinite(np.asarray(out.map)).all()


# ------------------------------------------------------------------------------- hand-edited shared URL
URLS = [
    pytest.param({"lr": "1e6"}, "lr", "outside", "lr", 3.0, id="url-lr-1e6"),
    pytest.param({"lr": "NaN"}, "lr", "not a number", "lr", 0.03, id="url-lr-nan"),
    pytest.param({"lr": "fast"}, "lr", "not a number", "lr", 0.03, id="url-lr-word"),
    pytest.param({"batch": "0"}, "batch", "outside", "batch_size", 1, id="url-batch-0"),
    pytest.param({"batch": "1000000000"}, "batch", "outside", "batch_size", 64, id="url-batch-1e9"),
    pytest.param({"batch": "-inf"}, "batch", "not a number", "batch_size", 10, id="url-batch-minus-inf"),
    pytest.param({"noise": "-20"}, "noise", "outside", "noise", 0, id="url-noise-negative"),
    pytest.param({"noise": "1e308"}, "noise", "outside", "noise", 50, id="url-noise-1e308"),
    pytest.param({"seed": "-1"}, "seed", "outside", "seed", 0, id="url-seed-negative"),
    pytest.param({"seed": "0x1f"}, "seed", "not a number", "seed", 0, id="url-seed-hex"),
    pytest.param({"layers": "999,0,-3"}, "layers", "allows up to", "hidden", (8, 1, 1), id="url-layers-out-of-range"),
    pytest.param({"layers": "1,1,1,1,1,1,1,1,1,1"}, "layers", "allows up to", "hidden", (1,) * 6,
                 id="url-layers-too-many"),
    pytest.param({"layers": "four,two"}, "layers", "not a list of numbers", "hidden", (4, 2), id="url-layers-words"),
    pytest.param({"layers": "nan"}, "layers", "not a list of numbers", "hidden", (4, 2), id="url-layers-nan"),
    pytest.param({"dropout": "0.9"}, "dropout", "outside", "dropout", 0.5, id="url-dropout-0.9"),
    pytest.param({"data": "../../etc/passwd"}, "data", "is not one of", "dataset", "circle",
                 id="url-dataset-unknown"),
    pytest.param({"act": "<script>"}, "act", "is not one of", "activation", "Tanh",
                 id="url-activation-html"),
    pytest.param({"features": "x1,rm -rf"}, "features", "unknown features", "features", ("x1",),
                 id="url-features-unknown"),
]


@pytest.mark.parametrize(("params", "key", "message", "field", "expected"), URLS)
def test_hand_edited_url_gives_a_warning_and_a_sane_value(params, key, message, field, expected):
    config, warnings = BuilderConfig.from_query(params)
    assert any(f"`{key}=" in w and message in w for w in warnings), warnings
    assert getattr(config, field) == expected
    config.validate()  # whatever the URL said, the result can be trained


def _url_keys() -> dict[str, str]:
    return BuilderConfig.url_keys()


def test_url_keys_used_above_exist():
    used = {next(iter(p.values[0])) for p in URLS}
    assert used <= set(_url_keys().values())


# ------------------------------------------------------------------------------------- diverging training
def test_huge_learning_rate_fails_the_job_with_the_nan_message():
    config = BuilderConfig(problem="regression", dataset="plane", hidden=(8, 8), activation="ReLU",
                           optimizer="SGD", lr=3.0, batch_size=10)
    trainer = make_trainer(config)
    trainer.set_live(100.0, 0.0)  # beyond what a page accepts: only a live change gets it into a job
    job = TrainingJob(trainer, total_steps=500).start()
    assert job.join(30)
    assert job.state == JobState.FAILED
    assert ("NaN" in job.error or "infinite" in job.error) and "learning rate 100 is too high" in job.error
    assert "Traceback" not in job.error


def test_a_bad_learning_rate_is_refused_before_a_job_exists():
    with pytest.raises(ConfigError) as info:
        make_job(BuilderConfig(lr=1000.0))
    assert str(info.value).startswith("Learning rate must be between") and "1000" in str(info.value)


def test_a_finite_but_diverging_run_is_flagged_not_finished():
    trainer = make_trainer(BuilderConfig(lr=3.0, optimizer="SGD"))
    trainer.set_live(100.0, 0.0)  # Tanh saturates: the loss stays finite but ends far above where it started
    job = TrainingJob(trainer, total_steps=2000, diverge_factor=3.0).start()
    assert job.join(60)
    assert job.state == JobState.FAILED and "growing instead of falling" in job.error, job.error
    assert "learning rate 100 is too high" in job.error and not job.error.split(":")[0].endswith("Error")


def test_discarding_a_job_the_manager_forgot_is_not_another_sessions():
    from core.jobs import JobManager

    manager = JobManager(capacity=2, compute_slots=1)
    job = TrainingJob(make_trainer(BuilderConfig()), total_steps=5, idle_timeout_s=0.0)
    manager.submit("alice", job)
    assert job.join(30)
    manager.submit("alice", TrainingJob(make_trainer(BuilderConfig()), total_steps=1))  # forgets the ended job
    assert job not in manager.jobs("alice")
    manager.discard("alice", job)  # no PermissionError: it was alice's own
    with pytest.raises(PermissionError):
        manager.discard("bob", manager.jobs("alice")[0])


# ------------------------------------------------------------------------------------ pages (AppTest)
def _page(path: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> str:
    return " | ".join(e.value for e in [*at.error, *at.warning])


def test_page_network_builder_bad_url_shows_warnings_and_keeps_serving():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"lr": "1e6", "batch": "0", "layers": "999,x", "noise": "NaN", "data": "nope"})
    at.run()
    at.switch_page("pages/network_builder/page.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    for key in ("lr=1e6", "batch=0", "layers=999,x", "noise=NaN", "data=nope"):
        assert key in shown, shown
    assert at.session_state["nb_lr"] == 3.0 and at.session_state["nb_batch_size"] == 1


def test_page_sequence_lab_empty_and_short_pasted_text_show_an_error():
    at = _page("pages/sequence_lab/page.py", seq_task="chars", seq_text_source="own", seq_text="")
    assert "paste some text first" in _shown(at).lower(), _shown(at)  # empty: a warning, not a silent default
    at.text_area(key="seq_text").set_value("abc").run()
    at.button(key="seq_job__play").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "too short (3 characters)" in _shown(at), _shown(at)
    at.text_area(key="seq_text").set_value("长" * 200_000).run()  # beyond max_chars: trimmed, never a crash
    assert not at.exception, [e.value for e in at.exception]


def test_page_cnn_lab_bad_fc_text_shows_an_error():
    at = _page("pages/cnn_lab/page.py")
    fc = next(t for t in at.text_input if t.key.startswith("cnn_fc_"))
    for text, message in (("120, abc", "whole numbers"), ("-5", "between 1 and 4096"), ("9" * 30, "4096")):
        fc.set_value(text).run()
        assert not at.exception, [e.value for e in at.exception]
        assert message in _shown(at), (text, _shown(at))
        fc = next(t for t in at.text_input if t.key.startswith("cnn_fc_"))


# ---------------------------------------------------------------------------------------------- security
SOURCES = sorted(p for d in ("core", "ui", "pages") for p in (ROOT / d).rglob("*.py")) + [ROOT / "app.py"]


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            yield node, owner, name


# The one place that pickles: the private socket pair between the server and the worker processes it starts
# itself (no listening socket; nothing a visitor sends travels as a pickle). Checked below.
WORKER_CHANNEL = ROOT / "core" / "workers.py"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_source_never_unpickles_executes_or_writes_user_files(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and path != WORKER_CHANNEL:
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not any(n.split(".")[0] in ("pickle", "dill", "marshal", "shelve", "cloudpickle") for n in names), \
                f"{path}:{node.lineno} imports an unpickler"
    for node, owner, name in _calls(tree):
        if path == WORKER_CHANNEL and owner in ("pickle", "subprocess"):
            continue  # checked by test_the_worker_channel_is_private
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        if owner == "torch" and name == "load":
            kw = {k.arg: k.value for k in node.keywords}
            assert isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True, \
                f"{where}: torch.load without weights_only=True"
        assert name not in ("eval", "exec", "compile") or isinstance(node.func, ast.Attribute), \
            f"{where}: {name}() on text"
        assert not (owner in ("os", "subprocess") and name in ("system", "popen", "Popen", "run", "call")), \
            f"{where}: runs a shell command"
        assert name not in ("write_bytes", "write_text", "tofile", "extractall", "extract"), \
            f"{where}: writes to disk ({name}); user files stay in memory (or a per-session tempfile dir)"
        if name == "open" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            assert not set(str(node.args[1].value)) & set("wax+"), f"{where}: opens a file for writing"


def test_the_worker_channel_is_private():
    """Pickles only cross a socketpair to a worker started with a fixed command line (no shell, no port)."""
    tree = ast.parse(WORKER_CHANNEL.read_text())
    loads = [n for n, owner, name in _calls(tree) if owner == "pickle" and name == "loads"]
    assert loads and all(isinstance(n.args[0], ast.Call) and n.args[0].func.attr == "recv_bytes" for n in loads)
    popens = [n for n, owner, name in _calls(tree) if owner == "subprocess" and name == "Popen"]
    assert len(popens) == 1 and isinstance(popens[0].args[0], ast.List)  # argv, not a shell string
    assert not any(k.arg == "shell" for k in popens[0].keywords)
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert "socketpair" in names and not names & {"listen", "bind", "Listener"}


def test_streamlit_config_limits_uploads_and_keeps_xsrf_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["enableXsrfProtection"] is True
    assert 1 <= server["maxUploadSize"] <= 200
    limit = server["maxUploadSize"] * 1024 * 1024
    assert images.MAX_UPLOAD_BYTES <= limit and audio_data.MAX_UPLOAD_BYTES <= limit
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS and math.isfinite(images.MAX_PIXELS)


def test_wave_module_helper_builds_real_wavs():  # guards the generators above: a good file does load
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44_100)
        w.writeframes((tone(0.5, 44_100)[:, None].repeat(2, 1) * 30000).astype("<i2").tobytes())
    loaded = load_audio(buf.getvalue())
    assert loaded.sample_rate == 8000 and "mixed 2 channels down to mono" in loaded.notes
    assert isinstance(ConfigError("x"), PlaygroundError)
