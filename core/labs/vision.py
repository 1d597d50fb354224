"""The CNN lab: pictures (handwritten digits, generated colour shapes or the visitor's own), a stack of conv blocks
and a small fully connected head, trained live with every filter copied after each step. Feature maps, test-set
evaluation and predictions for a drawing are inspections that run between two training steps.

Every setting is declared once in :class:`Config`, the architecture included: ``blocks`` holds the conv stack in
a compact text (``16k3x2-max,32k3x2-max``, see :func:`parse_blocks`), so the address bar carries the whole
experiment. Uploaded pictures cannot travel in a URL: they are handed to :func:`make_job` as a dataset.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from core.config import LabConfig, setting
from core.data.images import (
    Augmentation,
    ImageDataset,
    load_digits_dataset,
    load_shapes_dataset,
)
from core.errors import ConfigError
from core.explain.bundled import image_spec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.inspect.evaluation import Evaluation, evaluate_classifier
from core.inspect.feature_maps import FeatureFlow
from core.inspect.feature_maps import feature_maps as _feature_maps
from core.inspect.filters import FilterSet, conv_filters
from core.jobs import TrainingJob, build_seeded
from core.models import MODELS
from core.models.cnn import ACTIVATIONS, POOLS, CNNConfig, ConvBlock, build_cnn, count_params, layer_table, preset
from core.training import SupervisedTrainer, make_optimizer

# preset key (in the URL) → the registered model (core.models.cnn); names and descriptions in the catalogue
PRESETS: dict[str, str] = {"lenet": "LeNet-5", "vgg": "Tiny VGG", "resnet": "Tiny ResNet", "seed": "Seed ConvNet"}
SOURCES = ("digits", "shapes", "upload")
DIGIT_SIZES = (8, 16, 28)
SHAPE_COUNTS = (100, 250, 500, 1000)
SHAPE_NOISES = (0.0, 0.03, 0.06, 0.1, 0.15)
SHAPES_SIZE = 32
UPLOAD_SIZES = (16, 28, 32, 48, 64)
COLOURS = ("auto", "rgb", "gray")
OPTIMIZER_NAMES = ("Adam", "Momentum", "AdamW", "SGD")  # core.training.OPTIMIZERS names
LEARNING_RATES = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3)
BATCH_SIZES = (16, 32, 64, 128, 256)
WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
MAX_BLOCKS_TEXT = 300
MAX_FC_LAYERS = 4
EVALS_PER_EPOCH = 2  # validation twice an epoch; early-stopping patience counts whole epochs
SLOW_DELAY_S = 0.05  # slow motion: a pause after every step, to watch the filters form
DATA_SEED = 0  # the split (and the generated shapes) stay put when the training seed changes
ARCHITECTURE = ("blocks", "fc", "batch_norm", "activation", "dropout", "global_pool")

_BLOCK = re.compile(r"(r?)(\d{1,6})k(\d{1,3})(?:s(\d{1,3}))?(?:p(\d{1,3}))?(?:x(\d{1,3}))?(?:-([a-z]+))?")


# ---------------------------------------------------------------------------------------------- conv blocks
def format_blocks(blocks: tuple[ConvBlock, ...]) -> str:
    """The compact text of a conv stack, one token per block, comma-separated: ``[r]<channels>k<kernel>``, then
    ``s<stride>`` (if not 1), ``p<padding>`` (if not kernel // 2), ``x<convs>`` (if not 1) and ``-<pool>``.
    ``r`` marks a residual block (its padding is always kernel // 2 and it has two convs). Examples: Tiny VGG on
    16×16 digits is ``16k3x2-max,32k3x2-max``; a ResNet stage ``r32k3s2-none``."""
    tokens = []
    for b in blocks:
        token = ("r" if b.residual else "") + f"{b.channels}k{b.kernel}"
        token += f"s{b.stride}" if b.stride != 1 else ""
        if not b.residual:
            token += f"p{b.padding}" if b.padding != b.kernel // 2 else ""
            token += f"x{b.convs}" if b.convs != 1 else ""
        tokens.append(f"{token}-{b.pool}")
    return ",".join(tokens)


def parse_blocks(text: str) -> tuple[ConvBlock, ...]:
    """The conv stack of a :func:`format_blocks` text (``ConfigError`` naming the block that cannot be read);
    the numbers are checked later, with the rest of the network."""
    blocks = []
    for n, token in enumerate((t.strip().lower() for t in text.split(",") if t.strip()), 1):
        match = _BLOCK.fullmatch(token)
        if match is None or (match[7] is not None and match[7] not in POOLS):
            raise ConfigError("vision.errors.block_syntax", n=n, text=token)
        residual, channels, kernel, stride, padding, convs, pool = match.groups()
        kernel_ = int(kernel)
        blocks.append(ConvBlock(channels=int(channels), kernel=kernel_, stride=int(stride or 1),
                                padding=kernel_ // 2 if residual or padding is None else int(padding),
                                convs=1 if residual else int(convs or 1), pool=pool or "max",
                                residual=bool(residual)))
    return tuple(blocks)


def parse_widths(text: str) -> tuple[int, ...]:
    """``"120, 84"`` → ``(120, 84)``: the hidden fully connected widths typed by a visitor (empty: none)."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError("vision.errors.fc_text", text=text) from None


# ---------------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Config(LabConfig):
    """One CNN-lab experiment: pictures, augmentation, the network and how it trains."""

    LAB: ClassVar[str] = "vision"

    # pictures
    source: str = setting("digits", key="data", choices=SOURCES)
    digit_size: int = setting(16, key="size", low=DIGIT_SIZES[0], high=DIGIT_SIZES[-1], grid=DIGIT_SIZES)
    shapes_per_class: int = setting(500, key="shapes", low=SHAPE_COUNTS[0], high=SHAPE_COUNTS[-1], grid=SHAPE_COUNTS)
    shapes_noise: float = setting(0.06, key="shape_noise", low=0.0, high=SHAPE_NOISES[-1], grid=SHAPE_NOISES)
    upload_size: int = setting(32, key="up_size", low=UPLOAD_SIZES[0], high=UPLOAD_SIZES[-1], grid=UPLOAD_SIZES,
                               url=False)
    upload_color: str = setting("auto", key="up_color", choices=COLOURS, url=False)
    # augmentation of the training batches
    aug_shift: int = setting(0, key="shift", low=0, high=25)  # percent of the width
    aug_rotation: int = setting(0, key="rot", low=0, high=45)  # degrees
    aug_noise: float = setting(0.0, key="aug_noise", low=0.0, high=0.5, digits=2)  # normalised units
    aug_flip: bool = setting(False, key="flip")
    # the network
    preset: str = setting("vgg", key="preset", choices=tuple(PRESETS))
    blocks: str = setting("16k3x2-max,32k3x2-max", key="blocks", max_len=MAX_BLOCKS_TEXT)
    fc: tuple[int, ...] = setting((64,), key="fc", low=1, high=4096, max_items=MAX_FC_LAYERS, unit="vision.units.units",
                                  messages={"range": "vision.errors.fc"})
    batch_norm: bool = setting(True, key="bn")
    activation: str = setting("relu", key="act", choices=tuple(ACTIVATIONS))
    dropout: float = setting(0.2, key="dropout", low=0.0, high=0.7, digits=2)
    global_pool: bool = setting(False, key="gap")
    # training
    optimizer: str = setting("Adam", key="opt", choices=OPTIMIZER_NAMES)
    lr: float = setting(0.003, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES)
    batch_size: int = setting(64, key="batch", low=BATCH_SIZES[0], high=BATCH_SIZES[-1], grid=BATCH_SIZES)
    epochs: int = setting(8, key="epochs", low=1, high=200, messages=dict.fromkeys(
        ("range", "integer", "type"), "vision.errors.epochs"))
    patience: int = setting(0, key="patience", low=0, high=20)  # epochs without a better validation loss; 0: off
    weight_decay: float = setting(0.0, key="wd", low=0.0, high=WEIGHT_DECAYS[-1], grid=WEIGHT_DECAYS)
    seed: int = setting(0, key="seed", low=0, high=9999)
    slow_motion: bool = setting(False, key="slow", rebuild=False)

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        if self.digit_size not in DIGIT_SIZES:
            raise ConfigError("vision.errors.digit_size", value=self.digit_size)
        layer_table(self.cnn(*self.input_shape()))

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """A mirrored digit is another digit: no flips for digits. An architecture that does not fit the pictures
        (or cannot be read) becomes the preset's, with a warning."""
        if values["source"] == "digits" and values["aug_flip"]:
            warnings.append(Message("vision.url.flip"))
            values["aug_flip"] = False
        try:
            cls(**values).check()
        except ConfigError as exc:
            warnings.append(Message("vision.url.architecture", reason=exc.as_message(),
                                    preset=Term(f"vision.choices.preset.{values['preset']}")))
            values.update({name: getattr(cls(**values).with_preset(), name) for name in ARCHITECTURE})

    # ------------------------------------------------------------------ what the settings mean
    @property
    def image_size(self) -> int:
        return {"digits": self.digit_size, "shapes": SHAPES_SIZE}.get(self.source, self.upload_size)

    def input_shape(self) -> tuple[int, int, int]:
        """(channels, size, classes) of the pictures the source gives (an upload: the most its checks allow)."""
        if self.source == "digits":
            return 1, self.digit_size, 10
        if self.source == "shapes":
            return 3, SHAPES_SIZE, 4
        return 3, self.upload_size, 2

    def cnn(self, channels: int, size: int, classes: int) -> CNNConfig:
        """The network for pictures of this shape."""
        return CNNConfig(channels, size, classes, blocks=parse_blocks(self.blocks), fc=self.fc,
                         batch_norm=self.batch_norm, activation=self.activation, dropout=self.dropout,
                         global_pool=self.global_pool, name=PRESETS[self.preset])

    def with_preset(self, name: str | None = None, *, training: bool = False) -> Config:
        """This config with the architecture of preset ``name`` (default: its own) sized for its pictures;
        ``training``: also the optimizer and learning rate the preset trains well with."""
        name = name or self.preset
        channels, size, classes = self.input_shape()
        net = preset(PRESETS[name], channels, size, classes)
        changes = {"preset": name, "blocks": format_blocks(net.blocks), "fc": net.fc, "batch_norm": net.batch_norm,
                   "activation": net.activation, "dropout": net.dropout, "global_pool": net.global_pool}
        if training:
            optimizer, lr = recommended(name)
            changes.update(optimizer=optimizer, lr=lr)
        return replace(self, **changes)

    @property
    def edited(self) -> bool:
        """Whether the architecture differs from its preset's."""
        fresh = self.with_preset()
        return any(getattr(self, name) != getattr(fresh, name) for name in ARCHITECTURE)

    def augmentation(self, flip_ok: bool = True) -> Augmentation:
        return Augmentation(self.aug_shift / 100, float(self.aug_rotation), self.aug_flip and flip_ok,
                            float(self.aug_noise))

    @property
    def step_delay_s(self) -> float:
        return SLOW_DELAY_S if self.slow_motion else 0.0

    def title(self) -> Message:
        """The job's name, e.g. ``CNN · Tiny VGG · digits``."""
        return Message("vision.job_edited" if self.edited else "vision.job",
                       model=Term(f"vision.choices.preset.{self.preset}"),
                       data=Term(f"vision.sources.{self.source}"))


def recommended(name: str) -> tuple[str, float]:
    """The optimizer and learning rate preset ``name`` trains well with (its registry entry says)."""
    meta = MODELS.entry(PRESETS[name]).meta
    return meta.get("optimizer", "Adam"), float(meta.get("lr", 0.003))


def suggested_lr(name: str, optimizer: str) -> float:
    """A learning rate to start ``optimizer`` at for preset ``name``: the preset's own when it is the preset's
    optimizer, else 0.003 for the Adam family and 0.03 for plain SGD."""
    own, lr = recommended(name)
    return lr if optimizer == own else (0.003 if "Adam" in optimizer else 0.03)


# ---------------------------------------------------------------------------------------------- data
def load_data(config: Config) -> ImageDataset:
    """The built-in pictures ``config`` names (an upload has to be passed to :func:`make_job` instead)."""
    if config.source == "digits":
        return load_digits_dataset(config.digit_size, seed=DATA_SEED)
    if config.source == "shapes":
        return load_shapes_dataset(SHAPES_SIZE, seed=DATA_SEED, per_class=config.shapes_per_class,
                                   noise=config.shapes_noise)
    raise ConfigError("vision.errors.no_upload")


def class_names(dataset: ImageDataset) -> list[str]:
    """The class names to show: generated shapes are named in the catalogue (``Message``), the others as they are."""
    if dataset.name == "shapes":
        return [Message(f"vision.classes.{c}") for c in dataset.classes]
    return list(dataset.classes)


def _evals_per_epoch(steps_per_epoch: int) -> int:
    return max(1, min(EVALS_PER_EPOCH, steps_per_epoch))


# ---------------------------------------------------------------------------------------------- training
@dataclass
class View:
    """What the page draws besides the curves: every conv layer's kernels, as of ``step``."""

    filters: tuple[FilterSet, ...]
    step: int


class VisionTrainer(SupervisedTrainer):
    """The shared supervised trainer on a picture set, with a cosine learning-rate decay to 5 % by the last step
    and a :class:`View` of the filters after every step."""

    def __init__(self, config: Config, dataset: ImageDataset) -> None:
        self.config, self.dataset = config, dataset
        self.cnn = config.cnn(dataset.channels, dataset.size, dataset.num_classes)
        model = build_cnn(self.cnn)  # the first use of the seeded generator: initial_view() sees the same weights
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
        augment = config.augmentation(dataset.flip_ok)
        steps_per_epoch = math.ceil(len(dataset.y_train) / min(config.batch_size, len(dataset.y_train)))
        super().__init__(model, optimizer, F.cross_entropy, (dataset.x_train, dataset.y_train),
                         (dataset.x_val, dataset.y_val), batch_size=config.batch_size,
                         augment=augment if augment.active else None,
                         patience=config.patience * _evals_per_epoch(steps_per_epoch) or None, seed=config.seed)
        self.total_steps = config.epochs * self.steps_per_epoch
        self.eval_every = max(1, self.steps_per_epoch // _evals_per_epoch(self.steps_per_epoch))
        self.steps = 0
        # Dropout draws from torch's process-wide generator, which other threads use too: keep a private state
        # (seeded like the weights when the job builds this trainer) so the same seed gives the same run.
        self._rng = torch.get_rng_state()

    def train_step(self) -> dict[str, float]:
        progress = min(1.0, self.steps / max(1, self.total_steps))
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        self.steps += 1
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self._rng)
            out = super().train_step()
            self._rng = torch.get_rng_state()
        return out

    def snapshot(self) -> View:
        return View(tuple(conv_filters(self.model)), self.steps)


def make_trainer(config: Config, dataset: ImageDataset | None = None) -> VisionTrainer:
    """A trainer for ``config`` on ``dataset`` (default: the built-in pictures it names); call it seeded (as the
    job does) for a reproducible start."""
    config.validate()
    return VisionTrainer(config, dataset if dataset is not None else load_data(config))


def make_job(config: Config, dataset: ImageDataset | None = None) -> TrainingJob:
    """A job (not started) that trains ``config`` for its epochs, evaluating twice an epoch; the network is
    checked against the pictures here, so a bad setting fails in the page, not in the job thread."""
    config.validate()
    dataset = dataset if dataset is not None else load_data(config)
    layer_table(config.cnn(dataset.channels, dataset.size, dataset.num_classes))
    n_train = len(dataset.y_train)
    steps_per_epoch = math.ceil(n_train / min(config.batch_size, n_train))
    return TrainingJob(functools.partial(make_trainer, config, dataset), name=config.title(),
                       total_steps=config.epochs * steps_per_epoch,
                       eval_every=max(1, steps_per_epoch // _evals_per_epoch(steps_per_epoch)), snapshot_every=1,
                       seed=config.seed, step_delay_s=config.step_delay_s, diverge_factor=3.0, lab="vision")


def fit(config: Config, dataset: ImageDataset | None = None) -> VisionTrainer:
    """Train right here (no job thread) and return the finished trainer, its model in eval mode."""
    trainer = build_seeded(functools.partial(make_trainer, config, dataset), config.seed)
    while trainer.steps < trainer.total_steps and not trainer.done:
        trainer.train_step()
        if config.patience and trainer.steps % trainer.eval_every == 0:
            trainer.evaluate()
    trainer.model.eval()
    return trainer


# ---------------------------------------------------------------------------------------------- inspections
def initial_view(config: Config, channels: int, size: int, classes: int) -> View:
    """The filters of the untrained network exactly as Train will start it (same seed)."""
    model = build_seeded(functools.partial(build_cnn, config.cnn(channels, size, classes)), config.seed)
    return View(tuple(conv_filters(model)), 0)


def current_view(trainer: VisionTrainer) -> View:
    """The filters right now (what a paused page shows)."""
    return trainer.snapshot()


def feature_maps(trainer: VisionTrainer, x: torch.Tensor) -> FeatureFlow:
    """Every feature layer's output for the normalised picture ``x`` and the class probabilities."""
    return _feature_maps(trainer.model, x)


def predict_proba(trainer: VisionTrainer, x: torch.Tensor) -> np.ndarray:
    """The class probabilities for the normalised picture ``x`` (``(1, C, H, W)``)."""
    return torch.softmax(trainer.predict(x), 1)[0].numpy()


def evaluation(trainer: VisionTrainer, split: str = "test") -> Evaluation:
    """Accuracy, loss, confusion matrix and predictions on a held-out split (default: the test pictures)."""
    x, y = trainer.dataset.split(split)
    return evaluate_classifier(trainer.model, x, y, trainer.dataset.num_classes)


def explainable(trainer: VisionTrainer) -> Explainable:
    """The CNN with its pictures: every attribution method of the Explain page works on it."""
    ds, config = trainer.dataset, trainer.config
    result = evaluation(trainer)
    metrics = {"test_accuracy": result.accuracy, "test_loss": result.loss}
    spec = replace(image_spec(ds), class_names=class_names(ds))
    card = {**config.card(), "model": {"kind": "cnn", "input": list(ds.input_shape), "classes": list(ds.classes),
                                       "parameters": count_params(trainer.model)},
            "metrics": metrics, "step": trainer.steps}
    description = Message("vision.describe", model=Term(f"vision.choices.preset.{config.preset}"), data=ds.description,
                          step=trainer.steps,
                          accuracy=result.accuracy)
    return Explainable("vision", "image", private_copy(trainer.model), spec, ds.x_test, ds.y_test, description,
                       dataset=ds, card=card)
