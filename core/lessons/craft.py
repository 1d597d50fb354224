"""Lessons of the training-craft lab: optimizers on loss surfaces, learning-rate schedules, overfitting and its
cures, bias and variance.

A step's settings are a whole preset of the lab (all but the visitor's own table and starting weights), so "Set it
up" gives the same experiment whatever the part on show had; the page opens the part that trains them
(``pages.training_craft.common.lesson_form``)."""

from __future__ import annotations

import math

from core.jobs import JobSnapshot
from core.labs.craft import PRESETS, SURFACES, Config, FitView, RaceView

from . import Challenge, Lesson, Step, last

KEPT = ("label", "features", "task", "same_init", "init_seed")  # the visitor's, as the page's preset buttons keep
CURED_LOSS = 0.6  # validation loss at the end of the overfitting run (it ends near 0.9 without a cure)
OVERFIT = PRESETS["overfit"]


def preset(name: str, **changes: object) -> dict:
    """A preset of the lab as "set it up" settings, with ``changes``."""
    config = PRESETS[name]
    return {f.name: getattr(config, f.name) for f in Config.declared() if f.name not in KEPT} | changes


def sgd_reaches_rosenbrock(config: Config, snap: JobSnapshot) -> bool:
    """A whole race on Rosenbrock from its usual start in which plain SGD ends within the minimum's radius and
    stays there (``RaceView.reached``) without blowing up."""
    view = snap.view
    if not (config.experiment == "race" and config.surface == "rosenbrock" and isinstance(view, RaceView)
            and config.start == SURFACES["rosenbrock"].start and view.step >= config.steps):
        return False
    k = view.names.index("SGD")
    return bool(view.reached[k] >= 0 and view.diverged[k] < 0)


def overfit_cured(config: Config, snap: JobSnapshot) -> bool:
    """The overfitting preset's 60 digits and 256 × 3 network through all its 100 (or more) epochs, cured by dropout
    or L2 alone (no augmentation, batch norm or early stopping): the validation loss at the end ≤ 0.6."""
    view = snap.view
    model = (config.experiment == "digits" and config.subset <= OVERFIT.subset and config.width >= OVERFIT.width
             and config.depth >= OVERFIT.depth and config.epochs >= OVERFIT.epochs)
    cure = (config.dropout > 0 or config.l2 > 0) and not (config.augment or config.batch_norm
                                                         or config.patience is not None)
    if not (model and cure and isinstance(view, FitView) and len(view.epoch)):
        return False
    through = view.epoch[-1] >= config.epochs - 1e-9  # the end of the run: early on every run looks healthy
    loss = last(snap, "evals", "val_loss")
    return bool(through and math.isfinite(loss) and loss <= CURED_LOSS)


LESSONS = (
    Lesson("craft", "first", steps=(
        Step("race", preset("race_rosenbrock")),
        Step("saddle", preset("race_saddle")),
        Step("schedule", preset("schedule_onecycle")),
        Step("overfit", preset("overfit")),
        Step("cures", preset("overfit", dropout=0.5, l2=0.01)),
        Step("degree", preset("poly_overfit")),
    ), challenges=(
        Challenge("sgd", sgd_reaches_rosenbrock, preset("race_rosenbrock", optimizers=("SGD", "Adam"))),
        Challenge("cure", overfit_cured, preset("overfit")),
    )),
)
