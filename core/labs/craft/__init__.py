"""The training-craft lab: the decisions around a model rather than the model itself.

- **Optimizer race** (``race``): SGD, Momentum, Nesterov, RMSprop, Adam, AdamW stepped by ``torch.optim`` on 2-D
  surfaces (Rosenbrock, Beale, a saddle, a tilted ill-conditioned bowl, the three-hump camel with local minima),
  from the same start; and the same optimizers on a real model (``optimizers``: one digits MLP per optimizer, same
  start, same batches).
- **Learning-rate schedules** (``schedule_curves``; applied to a run through ``Config.schedule``) and the
  **range test** (``range``) with its suggested rate.
- **Overfitting and its cures** (``digits``: a subset of the digits, dropout, L2, augmentation, early stopping that
  restores the best epoch, batch norm, model size; ``poly``: polynomial regression with a degree slider), weight
  histograms, the generalization gap, the bias–variance trade-off over the degree (``bias_variance``).
- **Data pipeline** (``pipeline``: the same MLP on raw and standardized inputs; ``pipeline_view``: the split;
  ``kfold``: k-fold cross-validation).
- **Hyperparameter search** (``Search``: optuna TPE against random and grid search, pruning; trials as jobs).
- **Your own table** (``csv``: a CSV through ``core.data.tabular``).

``Config.init_seed`` alone decides the starting weights: :func:`reset` keeps it when ``same_init`` is on, so
runs with different settings start from the same point.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np

from core.data.tabular import Table, TabularData
from core.errors import ConfigError
from core.explain import InputSpec
from core.explain.bundled import image_spec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.jobs import TrainingJob

from .config import EXPERIMENTS, LEARNING_RATES, METHODS, REG_RATES, SCHEDULES, Config, format_rates, parse_rates
from .fit import (
    DigitsTrainer,
    FitView,
    ModelTrainer,
    RangeTrainer,
    SideBySideTrainer,
    SideBySideView,
    WeightHistograms,
    classifier,
    digits_steps_per_epoch,
    optimizer_race_trainer,
)
from .fit import weight_histograms as _weight_histograms
from .pipeline import KFoldView, PipelineView, kfold, pipeline_trainer, pipeline_view, split_indices, wine
from .poly import BiasVarianceView, PolyTrainer, PolyView, bias_variance
from .schedules import RangeView, ScheduleView, lr_curve, make_scheduler, schedule_curves
from .search import (
    GRID,
    PARAMS,
    Search,
    SearchComparison,
    SearchView,
    compare_searches,
    grid_size,
    run_trial,
    trial_config,
)
from .surfaces import (
    SURFACES,
    TUNED_RATES,
    RaceTrainer,
    RaceView,
    SurfaceGrid,
    TunedRates,
    race,
    surface_grid,
    tune_rates,
    tuned_rates,
)
from .table import TableTrainer, TableView, table_data

View = RaceView | SideBySideView | FitView | PolyView | RangeView | TableView

# Preset key → experiment; names and descriptions live in the catalogue (craft.presets.<key>, .<key>_about).
PRESETS: dict[str, Config] = {
    "race_rosenbrock": Config(experiment="race", surface="rosenbrock", steps=1000),
    "race_beale": Config(experiment="race", surface="beale", steps=600),
    "race_saddle": Config(experiment="race", surface="saddle", steps=200),
    "race_bowl": Config(experiment="race", surface="bowl", steps=300),
    "race_camel": Config(experiment="race", surface="camel", steps=300),
    "optimizers_digits": Config(experiment="optimizers", epochs=10, width=64, depth=2, batch_size=32),
    "overfit": Config(experiment="digits", subset=60, width=256, depth=3, epochs=100, lr=3e-3, batch_size=32),
    "overfit_cured": Config(experiment="digits", subset=60, width=256, depth=3, epochs=100, lr=3e-3, batch_size=32,
                            dropout=0.3, l2=1e-3, augment=True),
    "early_stopping": Config(experiment="digits", subset=60, width=256, depth=3, epochs=100, lr=3e-3, batch_size=32,
                             patience=10),
    "batch_norm": Config(experiment="digits", subset=600, width=128, depth=4, epochs=20, lr=0.05, optimizer="SGD",
                         batch_norm=True),
    "poly_overfit": Config(experiment="poly", degree=15, points=15, noise=0.3, epochs=1500, lr=0.02, batch_size=15),
    "poly_right": Config(experiment="poly", degree=3, points=15, noise=0.3, epochs=1500, lr=0.02, batch_size=15),
    "schedule_onecycle": Config(experiment="digits", schedule="onecycle", lr=0.01, epochs=10, warmup_pct=30),
    "schedule_cosine": Config(experiment="digits", schedule="cosine", lr=3e-3, epochs=10),
    "range_test": Config(experiment="range", optimizer="SGD", steps=300, batch_size=32),
    "pipeline": Config(experiment="pipeline", optimizer="SGD", lr=0.01, epochs=60, width=32, depth=1, batch_size=16),
    "search_tpe": Config(experiment="digits", method="tpe", budget=30, epochs=5, subset=600),
    "search_random": Config(experiment="digits", method="random", budget=30, epochs=5, subset=600),
    "search_grid": Config(experiment="digits", method="grid", budget=30, epochs=5, subset=600),
}


# ---------------------------------------------------------------------------------------------- trainers and jobs
def make_trainer(config: Config, data: Table | TabularData | None = None):
    """The trainer of ``config.experiment`` (``data``: the visitor's table for ``csv``)."""
    config.validate()
    kind = config.experiment
    if kind == "race":
        return RaceTrainer(config.surface, config.start, config.race_rates(), config.steps)
    if kind == "optimizers":
        return optimizer_race_trainer(config)
    if kind == "digits":
        return DigitsTrainer(config)
    if kind == "poly":
        return PolyTrainer(config)
    if kind == "range":
        return RangeTrainer(config)
    if kind == "pipeline":
        return pipeline_trainer(config)
    return TableTrainer(config, data)


def steps_per_epoch(config: Config, data: Table | TabularData | None = None) -> int:
    """Batches per pass over the training rows (0 for the race: no data set)."""
    kind = config.experiment
    if kind == "race":
        return 0
    if kind in ("digits", "optimizers", "range"):
        return digits_steps_per_epoch(config)
    if kind == "poly":
        n = config.points
    elif kind == "pipeline":
        n = len(split_indices(wine()[1], config.val_pct, config.test_pct, config.seed)[0])
    else:
        n = len(table_data(config, data).y_train)
    return math.ceil(n / min(config.batch_size, n))


def planned_steps(config: Config, data: Table | TabularData | None = None) -> int:
    """The steps of a whole run: the race's or range test's steps, else epochs × steps per epoch."""
    if config.experiment in ("race", "range"):
        return config.steps
    return config.epochs * steps_per_epoch(config, data)


def make_job(config: Config, *, data: Table | TabularData | None = None, step_delay_s: float = 0.0,
             **options) -> TrainingJob:
    """A job for ``config`` (checked here, and the visitor's table prepared here, so bad values fail in the page);
    ``options`` go to ``TrainingJob`` (``pause_unwatched_s``, ``start_paused`` …)."""
    config.validate()
    if config.experiment == "csv":
        data = table_data(config, data)
    per_epoch = steps_per_epoch(config, data)
    every = per_epoch or None
    return TrainingJob(functools.partial(make_trainer, config, data), name=Message(f"craft.jobs.{config.experiment}"),
                       total_steps=planned_steps(config, data), eval_every=every,
                       snapshot_every=1 if config.experiment in ("race", "range") else every, seed=config.seed,
                       step_delay_s=step_delay_s, **options)


def reset(config: Config) -> Config:
    """The config for Reset: the same starting weights when ``same_init`` is on, fresh ones otherwise."""
    return config if config.same_init else replace(config, init_seed=(config.init_seed + 1) % 1_000_000)


# ---------------------------------------------------------------------------------------------- in this thread
def range_test(config: Config) -> RangeView:
    """The whole range test in this thread (a few seconds for 300 batches)."""
    trainer = RangeTrainer(replace(config, experiment="range").validate())
    while not trainer.done:
        trainer.train_step()
    return trainer.snapshot()


def run_schedule_curves(config: Config, data: Table | TabularData | None = None) -> ScheduleView:
    """Every schedule over the run ``config`` describes (its rate, its number of batches)."""
    steps = planned_steps(replace(config, experiment="digits") if config.experiment in ("race", "range") else config,
                          data)
    return schedule_curves(config.lr, steps, config.warmup_pct)


def race_now(config: Config) -> RaceView:
    """The whole race of ``config`` in this thread."""
    config.validate()
    return race(config.surface, config.start, config.race_rates(), config.steps)


# ---------------------------------------------------------------------------------------------- inspections
def current_view(trainer) -> View:
    """The view right now (what a paused page shows)."""
    return trainer.snapshot()


def weights(trainer) -> WeightHistograms:
    """Histograms of every layer's weights of the (first) model."""
    model = trainer.models[0] if isinstance(trainer, SideBySideTrainer) else trainer.model
    return _weight_histograms(model)


def test_metrics(trainer: ModelTrainer) -> dict[str, float]:
    """Loss and accuracy on the held-out test rows (digits and the visitor's table), measured once at the end."""
    from .fit import set_numbers

    if isinstance(trainer, DigitsTrainer):
        x, y = trainer.dataset.x_test, trainer.dataset.y_test
    elif isinstance(trainer, TableTrainer):
        x, y = trainer.data.x_test, trainer.data.y_test
    else:
        raise ConfigError("craft.errors.no_test")
    loss, acc = set_numbers(trainer.model, trainer.loss_fn, x.to(trainer.device), y.to(trainer.device),
                            trainer.classification)
    return {"test_loss": loss, "test_accuracy": acc} if trainer.classification else {"test_loss": loss}


def explainable(trainer: ModelTrainer) -> Explainable:
    """The digits MLP (pictures) or the visitor's classifier (a table of named features) for the Explain page."""
    config = trainer.config
    if isinstance(trainer, DigitsTrainer):
        ds = trainer.dataset
        spec, kind, dataset, x_train = image_spec(ds), "image", ds, None
        x_test, y_test = ds.x_test, ds.y_test
        description = Message("craft.describe.digits", width=config.width, depth=config.depth, n=len(trainer.y))
    elif isinstance(trainer, TableTrainer) and trainer.data.task == "classification":
        d = trainer.data
        x_train = d.x_train
        lo, hi = x_train.min(0).values.numpy(), x_train.max(0).values.numpy()
        spec = InputSpec(shape=(d.n_inputs,), class_names=list(d.class_names), low=tuple(lo.tolist()),
                         high=tuple(np.maximum(hi, lo + 1e-3).tolist()), black=tuple([0.0] * d.n_inputs),
                         mean=x_train.mean(0).numpy(), feature_names=list(d.feature_names))
        kind, dataset, x_test, y_test = "features", None, d.x_test, d.y_test
        description = Message("craft.describe.table", label=d.label, inputs=", ".join(d.features),
                              classes=len(d.class_names))
    else:
        raise ConfigError("craft.errors.not_explainable", experiment=Term(f"craft.experiments.{config.experiment}"))
    card = {**config.card(), "model": {"kind": "craft_mlp", "width": config.width, "depth": config.depth,
                                       "dropout": config.dropout, "batch_norm": config.batch_norm},
            "metrics": test_metrics(trainer), "step": trainer.steps}
    return Explainable("craft", kind, private_copy(trainer.model), spec, x_test.cpu(), y_test.cpu().reshape(-1),
                       description, dataset=dataset, x_train=None if x_train is None else x_train.cpu(), card=card)


__all__ = [
    "EXPERIMENTS", "GRID", "LEARNING_RATES", "METHODS", "PARAMS", "PRESETS", "REG_RATES", "SCHEDULES", "SURFACES",
    "TUNED_RATES", "BiasVarianceView", "Config", "DigitsTrainer", "FitView", "KFoldView", "ModelTrainer",
    "PipelineView", "PolyTrainer", "PolyView", "RaceTrainer", "RaceView", "RangeTrainer", "RangeView",
    "ScheduleView", "Search", "SearchComparison", "SearchView", "SideBySideTrainer", "SideBySideView", "SurfaceGrid",
    "TableTrainer", "TableView", "TunedRates", "View", "WeightHistograms", "bias_variance", "classifier",
    "compare_searches", "current_view", "explainable", "format_rates", "grid_size", "kfold", "lr_curve",
    "make_job", "make_scheduler", "make_trainer", "parse_rates", "pipeline_view", "planned_steps", "race",
    "race_now", "range_test", "reset", "run_schedule_curves", "run_trial", "schedule_curves", "steps_per_epoch",
    "surface_grid", "table_data", "test_metrics", "trial_config", "tune_rates", "tuned_rates", "weights",
]
