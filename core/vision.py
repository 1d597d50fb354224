"""Training a CNN on an :class:`~core.data.images.ImageDataset` in a ``TrainingJob``: the shared
``SupervisedTrainer`` plus an optional cosine learning-rate decay, augmentation, early stopping, and a
snapshot of every conv layer's filters so pages can watch them form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from torch import nn

from core.data.images import Augmentation, ImageDataset
from core.errors import ConfigError
from core.inspect.filters import conv_filters
from core.jobs import TrainingJob
from core.models.cnn import CNNConfig, build_cnn
from core.training import SupervisedTrainer, make_optimizer

OPTIMIZER_CHOICES = {"Adam": "Adam", "SGD + momentum": "Momentum", "AdamW": "AdamW", "SGD": "SGD"}


@dataclass(frozen=True)
class TrainSettings:
    """How to train: ``optimizer`` is a ``core.training.OPTIMIZERS`` name; ``patience`` counts epochs without a
    better validation loss (``None``: never stop early); ``cosine`` decays the learning rate to 5 % by the end."""

    optimizer: str = "Adam"
    lr: float = 0.003
    batch_size: int = 64
    epochs: int = 8
    patience: int | None = None
    weight_decay: float = 0.0
    cosine: bool = True
    augment: Augmentation = field(default_factory=Augmentation)
    evals_per_epoch: int = 2
    snapshot_every: int = 1  # filters are copied after every step (cheap), so Step shows each change


class CNNTrainer(SupervisedTrainer):
    """``SupervisedTrainer`` that remembers its dataset and config (for inspection) and decays the learning
    rate along a cosine over ``total_steps``."""

    def __init__(self, dataset: ImageDataset, config: CNNConfig, settings: TrainSettings, **kwargs) -> None:
        self.dataset, self.config, self.settings = dataset, config, settings
        model = build_cnn(config)
        optimizer = make_optimizer(settings.optimizer, model.parameters(), settings.lr, settings.weight_decay)
        super().__init__(model, optimizer, nn.functional.cross_entropy, (dataset.x_train, dataset.y_train),
                         (dataset.x_val, dataset.y_val), batch_size=settings.batch_size,
                         augment=settings.augment if settings.augment.active else None,
                         patience=settings.patience, snapshot=lambda t: {"filters": conv_filters(t.model)}, **kwargs)
        self.total_steps = settings.epochs * self.steps_per_epoch
        self.base_lr = settings.lr
        self.steps_taken = 0

    def train_step(self) -> dict[str, float]:
        if self.settings.cosine and self.total_steps:
            progress = min(1.0, self.steps_taken / self.total_steps)
            lr = self.base_lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
            for group in self.optimizer.param_groups:
                group["lr"] = lr
        self.steps_taken += 1
        return super().train_step()


def check_settings(settings: TrainSettings) -> None:
    if not 1 <= settings.epochs <= 200:
        raise ConfigError(f"Train for 1 to 200 epochs (got {settings.epochs}).")
    if not 1 <= settings.batch_size <= 1024:
        raise ConfigError(f"The batch size must be between 1 and 1024 (got {settings.batch_size}).")
    if settings.patience is not None and settings.patience < 1:
        raise ConfigError("Early-stopping patience must be at least one epoch.")


def make_trainer(dataset: ImageDataset, config: CNNConfig, settings: TrainSettings) -> CNNTrainer:
    """A ready trainer; the config is fitted to the dataset's channels, size and classes."""
    check_settings(settings)
    config = config.with_data(dataset.channels, dataset.size, dataset.num_classes)
    return CNNTrainer(dataset, config, settings)


def fit_cnn(dataset: ImageDataset, config: CNNConfig | None = None, settings: TrainSettings | None = None, *,
            seed: int = 0) -> CNNTrainer:
    """Train right here (no job thread) and return the finished trainer: ``trainer.model`` is the network in
    eval mode, ``trainer.dataset`` its data. ``config`` defaults to the default preset for the data."""
    from core.jobs import build_seeded
    from core.models.cnn import DEFAULT_PRESET, preset

    settings = settings or TrainSettings()
    config = config or preset(DEFAULT_PRESET, dataset.channels, dataset.size, dataset.num_classes)
    trainer = build_seeded(lambda: make_trainer(dataset, config, settings), seed)
    for step in range(1, trainer.total_steps + 1):
        trainer.train_step()
        if step % trainer.steps_per_epoch == 0 and settings.patience:
            trainer.evaluate()
            if trainer.done:
                break
    trainer.model.eval()
    return trainer


def make_cnn_job(dataset: ImageDataset, config: CNNConfig, settings: TrainSettings, *, seed: int = 0,
                 step_delay_s: float = 0.0, name: str = "CNN") -> TrainingJob:
    """A ``TrainingJob`` (not started) that trains ``config`` on ``dataset`` for ``settings.epochs`` epochs,
    evaluating ``evals_per_epoch`` times an epoch (early stopping counts whole epochs)."""
    check_settings(settings)
    config = config.with_data(dataset.channels, dataset.size, dataset.num_classes)
    build_cnn(config)  # raise ConfigError now, in the page, rather than in the job thread
    steps_per_epoch = math.ceil(len(dataset.y_train) / min(settings.batch_size, len(dataset.y_train)))
    evals = max(1, min(settings.evals_per_epoch, steps_per_epoch))
    patience = settings.patience * evals if settings.patience else None
    tuned = TrainSettings(**{**settings.__dict__, "patience": patience})
    return TrainingJob(lambda: CNNTrainer(dataset, config, tuned), name=name,
                       total_steps=settings.epochs * steps_per_epoch, eval_every=max(1, steps_per_epoch // evals),
                       snapshot_every=settings.snapshot_every, seed=seed, step_delay_s=step_delay_s)
