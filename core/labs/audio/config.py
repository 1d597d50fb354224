"""The audio lab's settings, each declared once.

- :class:`Config` is one training run (a log-mel CNN, or an MFCC LSTM / GRU): what ``make_trainer`` and
  ``make_job`` take, and what a model card records.
- :class:`PageConfig` is the whole audio page — both racers, the shared training choices and the "Listen and look"
  analysis — so the address bar holds all of it. Its model fields reuse the declarations of :class:`Config` under
  per-model URL keys (``cnn_lr``, ``rnn_lr`` …); :meth:`PageConfig.cnn` and :meth:`PageConfig.rnn` build the two
  runs from it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from core.config import LabConfig, setting
from core.data.audio import CLIP_SAMPLES, LANGUAGES, NOISES, SAMPLE_RATE
from core.errors import ConfigError
from core.models.audio import INPUTS, READOUTS
from core.training import OPTIMIZERS

from .features import FeatureParams, n_frames

KINDS = tuple(INPUTS)  # "cnn", "lstm", "gru"
CELLS = ("lstm", "gru")
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
MEL_BANDS = (16, 24, 32, 40, 64)
HIDDEN = (16, 32, 64, 128)
MFCCS = (13, 20)
CHANNELS = ((8, 16, 32), (16, 32, 64), (8, 16), (16, 32, 64, 64))  # the page's choices of conv blocks
N_FFTS = (64, 128, 256, 512, 1024)
HOPS = (10, 20, 40, 80, 160, 256, 512)
VIEWS = ("original", "noise", "shift", "pitch", "stretch", "all", "recording")
MODES = ("head", "all")  # teaching: the classifier alone on frozen features, or every layer
RNN_MELS = 40  # mel bands under the recurrent nets' MFCCs
CLIP_NORM = 5.0
SURE = 0.6  # a prediction below this probability is shown as "not sure"


@dataclass(frozen=True)
class Config(LabConfig):
    """One spoken-digit recogniser and how it trains on the speaker-independent split."""

    LAB: ClassVar[str] = "audio"

    kind: str = setting("cnn", key="model", choices=KINDS)
    language: str = setting("en", key="speech", choices=LANGUAGES)
    n_mels: int = setting(32, key="mels", low=MEL_BANDS[0], high=MEL_BANDS[-1], grid=MEL_BANDS)
    n_mfcc: int = setting(13, key="mfcc", low=MFCCS[0], high=MFCCS[-1], grid=MFCCS)
    deltas: int = setting(2, key="deltas", low=0, high=2)
    channels: tuple[int, ...] = setting((8, 16, 32), key="channels", low=1, high=256, min_items=1, max_items=5,
                                        unit="audio.units.channels")
    hidden: int = setting(64, key="hidden", low=HIDDEN[0], high=HIDDEN[-1], grid=HIDDEN)
    layers: int = setting(1, key="layers", low=1, high=4)
    bidirectional: bool = setting(False, key="bidir")
    readout: str = setting("mean", key="readout", choices=READOUTS)
    dropout: float = setting(0.2, key="dropout", low=0.0, high=0.9, digits=2)
    optimizer: str = setting("Adam", key="opt", choices=tuple(OPTIMIZERS))
    lr: float = setting(3e-3, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES)
    weight_decay: float = setting(1e-4, key="wd", low=0.0, high=0.1)
    batch_size: int = setting(64, key="batch", low=1, high=1024)
    epochs: int = setting(5, key="epochs", low=1, high=200,
                          messages={"range": "audio.errors.epochs", "integer": "audio.errors.epochs"})
    spec_augment: bool = setting(True, key="specaug")
    copies: int = setting(1, key="copies", low=0, high=4)
    seed: int = setting(0, key="seed", low=0, high=999_999)

    def check(self) -> None:
        self.params.validated()
        if self.kind == "cnn" and min(self.n_mels, self.frames) < 2 ** len(self.channels):
            raise ConfigError("audio.errors.pooling", n=len(self.channels), need=2 ** len(self.channels),
                              mels=self.n_mels, frames=self.frames)

    @property
    def params(self) -> FeatureParams:
        """The short-time analysis this model listens through."""
        return FeatureParams(n_mels=self.n_mels, n_mfcc=self.n_mfcc, deltas=self.deltas)

    @property
    def input(self) -> str:
        """``"log-mel"`` (the CNN) or ``"mfcc"`` (the recurrent nets)."""
        return INPUTS[self.kind]

    @property
    def rows(self) -> int:
        """Feature rows per frame of the model's input."""
        return self.n_mels if self.input == "log-mel" else self.n_mfcc * (1 + self.deltas)

    @property
    def frames(self) -> int:
        return n_frames(CLIP_SAMPLES, self.params.hop_length)

    def steps(self, n_train: int) -> int:
        """Optimisation steps of ``epochs`` passes over ``n_train`` clips."""
        return self.epochs * math.ceil(n_train / min(self.batch_size, n_train))


_DEFAULTS: dict[str, dict[str, Any]] = {
    "cnn": {"epochs": 5},  # as accurate on the recording-like validation voices as 6, in ≤ 30 s CPU
    "lstm": {"epochs": 10, "dropout": 0.1, "n_mels": RNN_MELS},
    "gru": {"epochs": 10, "dropout": 0.1, "n_mels": RNN_MELS},
}


def default_epochs(kind: str, language: str = "en") -> int:
    """The lab's starting epochs: the Mandarin set is far smaller (140 training clips against 2,640), so it gets 3×
    the epochs (still far fewer steps)."""
    return _DEFAULTS[kind]["epochs"] * (3 if language == "zh" else 1)


def default_config(kind: str = "cnn", language: str = "en", **changes: Any) -> Config:
    """The lab's starting settings for ``kind`` ("cnn", "lstm" or "gru") and ``language``, with ``changes``."""
    if kind not in _DEFAULTS:
        raise ConfigError("common.config.choice", field=Config.field("kind").label, value=kind,
                          choices=", ".join(KINDS))
    settings = {**_DEFAULTS[kind], "epochs": default_epochs(kind, language), **changes}
    return Config(kind=kind, language=language, **settings).validate()


# ---------------------------------------------------------------------------------------------- the page
_SAME: Any = object()


@dataclass(frozen=True)
class TeachConfig(LabConfig):
    """How a visitor's own clips fine-tune a trained model ("Teach it your voice")."""

    LAB: ClassVar[str] = "audio"

    mode: str = setting("head", key="teach", choices=MODES)
    steps: int = setting(80, key="teach_steps", low=5, high=1000)
    lr: float = setting(1e-3, key="teach_lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES)
    copies: int = setting(6, key="teach_copies", low=0, high=16)
    holdout: int = setting(1, key="teach_holdout", low=0, high=5)
    seed: int = setting(0, key="teach_seed", low=0, high=999_999)


def _like(name: str, key: str, default: Any = _SAME, cls: type[LabConfig] = Config) -> Any:
    """A page field declared exactly like ``cls.<name>`` (same range, label and messages), under ``key``."""
    f = cls.field(name)
    s = dataclasses.replace(f.setting, key=key, label=str(f.label))
    return setting(f.default if default is _SAME else default,
                   **{k.name: getattr(s, k.name) for k in dataclasses.fields(s)})


@dataclass(frozen=True)
class PageConfig(LabConfig):
    """Every setting of the audio page: the CNN and the recurrent racer, what both train on, and the
    "Listen and look" tab's clip, augmentations and analysis."""

    LAB: ClassVar[str] = "audio"

    # what both models train on
    language: str = _like("language", "speech")
    spec_augment: bool = _like("spec_augment", "specaug")
    copies: int = _like("copies", "copies")
    seed: int = _like("seed", "seed")
    # the CNN on log-mel spectrograms
    cnn_channels: tuple[int, ...] = _like("channels", "cnn_ch")
    cnn_mels: int = _like("n_mels", "cnn_mels")
    cnn_epochs: int = _like("epochs", "cnn_epochs", default=default_epochs("cnn"))
    cnn_lr: float = _like("lr", "cnn_lr")
    # the LSTM / GRU on MFCC frames
    rnn_cell: str = setting("gru", key="rnn", choices=CELLS)  # chosen by recording-like validation accuracy
    rnn_hidden: int = _like("hidden", "rnn_hidden")
    rnn_epochs: int = _like("epochs", "rnn_epochs", default=default_epochs("gru"))
    rnn_lr: float = _like("lr", "rnn_lr")
    rnn_readout: str = _like("readout", "rnn_readout")
    rnn_mfcc: int = _like("n_mfcc", "rnn_mfcc")
    rnn_deltas: int = _like("deltas", "rnn_deltas")
    rnn_bidir: bool = _like("bidirectional", "rnn_bidir")
    # "Teach it your voice"
    teach_mode: str = _like("mode", "teach", cls=TeachConfig)
    teach_steps: int = _like("steps", "teach_steps", cls=TeachConfig)
    teach_lr: float = _like("lr", "teach_lr", cls=TeachConfig)
    teach_copies: int = _like("copies", "teach_copies", cls=TeachConfig)
    teach_holdout: int = _like("holdout", "teach_holdout", cls=TeachConfig)
    # "Listen and look": which bundled clip, its augmentations, the analysis settings
    digit: int = setting(7, key="digit", low=0, high=9, rebuild=False)
    voice: str = setting("", key="voice", max_len=40, rebuild=False)  # "" or unknown: the first voice
    take: int = setting(0, key="take", low=0, high=5, rebuild=False)  # which speed · pitch setting of that voice
    noise: str = setting("white", key="noise", choices=NOISES, rebuild=False)
    snr: int = setting(10, key="snr", low=-5, high=40, rebuild=False)
    shift: float = setting(0.15, key="shift", low=-0.3, high=0.3, digits=2, rebuild=False)
    semitones: int = setting(4, key="semitones", low=-8, high=8, rebuild=False)
    stretch: float = setting(0.75, key="stretch", low=0.5, high=2.0, digits=2, rebuild=False)
    show: str = setting("original", key="show", choices=VIEWS, rebuild=False)
    n_fft: int = setting(256, key="fft", low=N_FFTS[0], high=N_FFTS[-1], grid=N_FFTS, rebuild=False)
    hop: int = setting(80, key="hop", low=HOPS[0], high=HOPS[-1], grid=HOPS, rebuild=False)
    bands: int = setting(40, key="bands", low=8, high=128, rebuild=False)
    fmax: int = setting(SAMPLE_RATE // 2, key="fmax", low=1000, high=SAMPLE_RATE // 2, rebuild=False)
    coeffs: int = setting(13, key="coeffs", low=4, high=40, rebuild=False)
    deltas: int = setting(2, key="deltas", low=0, high=2, rebuild=False)

    def check(self) -> None:
        self.cnn().validate()
        self.rnn().validate()
        self.teach().validate()

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """A link without epochs starts from the lab's epochs for its language."""
        for name, kind in (("cnn_epochs", "cnn"), ("rnn_epochs", values["rnn_cell"])):
            if params.get(cls.field(name).setting.key) is None:
                values[name] = default_epochs(kind, values["language"])

    def _shared(self) -> dict[str, Any]:
        return {"language": self.language, "spec_augment": self.spec_augment, "copies": self.copies,
                "seed": self.seed}

    def cnn(self) -> Config:
        """The log-mel CNN this page trains."""
        return dataclasses.replace(default_config("cnn"), channels=self.cnn_channels, n_mels=self.cnn_mels,
                                   epochs=self.cnn_epochs, lr=self.cnn_lr, **self._shared())

    def rnn(self) -> Config:
        """The MFCC LSTM or GRU this page trains."""
        return dataclasses.replace(default_config(self.rnn_cell), hidden=self.rnn_hidden, epochs=self.rnn_epochs,
                                   lr=self.rnn_lr, readout=self.rnn_readout, n_mfcc=self.rnn_mfcc,
                                   deltas=self.rnn_deltas, bidirectional=self.rnn_bidir, **self._shared())

    def teach(self) -> TeachConfig:
        """How the "Teach it your voice" tab fine-tunes."""
        return TeachConfig(mode=self.teach_mode, steps=self.teach_steps, lr=self.teach_lr, copies=self.teach_copies,
                           holdout=self.teach_holdout, seed=self.seed)

    def analysis(self) -> FeatureParams:
        """The "Listen and look" analysis settings (not validated: ``validated()`` says what does not fit)."""
        return FeatureParams(n_fft=self.n_fft, hop_length=self.hop, n_mels=self.bands, fmax=self.fmax,
                             n_mfcc=min(self.coeffs, self.bands), deltas=self.deltas)
