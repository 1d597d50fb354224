"""Lessons of the CNN lab."""

from __future__ import annotations

from core.jobs import JobSnapshot
from core.labs.vision import Config
from core.models.cnn import layer_table

from . import Challenge, Lesson, Step, last

TINY = 2500  # parameters


def parameters(config: Config) -> int:
    """How many weights the run's network has for its pictures."""
    return sum(row.params for row in layer_table(config.cnn(*config.input_shape())))


def tiny_digits(config: Config, snap: JobSnapshot) -> bool:
    """The original 8×8 digits at ≥ 98 % validation accuracy with fewer than 2,500 parameters."""
    return (config.source == "digits" and config.digit_size == 8 and parameters(config) < TINY
            and last(snap, "evals", "val_accuracy") >= 0.98)


def shapes_augmented(config: Config, snap: JobSnapshot) -> bool:
    """The shapes at ≥ 95 % validation accuracy from only 100 pictures per shape, with augmentation on."""
    return (config.source == "shapes" and config.shapes_per_class <= 100
            and (config.aug_rotation > 0 or config.aug_shift > 0 or config.aug_flip)
            and last(snap, "evals", "val_accuracy") >= 0.95)


LESSONS = (
    Lesson("vision", "filters", steps=(
        Step("train", {"source": "digits", "digit_size": 16, "preset": "vgg", "blocks": "16k3x2-max,32k3x2-max",
                       "fc": (64,), "slow_motion": True}),
        Step("maps"),
        Step("pooling", {"blocks": "16k3x2-avg,32k3x2-avg"}),
        Step("augment", {"source": "shapes", "shapes_per_class": 100, "aug_rotation": 30, "aug_shift": 10}),
        Step("mistakes"),
    ), challenges=(
        Challenge("tiny", tiny_digits, {"source": "digits", "digit_size": 8}),
        Challenge("shapes", shapes_augmented, {"source": "shapes", "shapes_per_class": 100}),
    )),
)
