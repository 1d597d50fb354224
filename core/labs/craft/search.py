"""Hyperparameter search with optuna: TPE (optuna's default Bayesian sampler) against random and grid search on
the same trial budget, over the digits MLP's learning rate, width, depth, dropout and batch size, with bad trials
pruned early (optuna's median pruner on the validation accuracy after every epoch).

The driver (:class:`Search`) uses optuna's ask-and-tell interface, so *who* trains a trial is the caller's choice:

- in this thread: ``Search(config).run(run_trial)`` (the benchmark, the tests);
- as jobs through ``core.jobs.JobManager`` (the page): call ``search.pump(submit)`` on every poll, with
  ``submit(config) -> TrainingJob`` submitting ``make_job(config)`` for the visitor's session. ``pump`` starts
  trials while fewer than ``parallel`` run, reports each finished epoch to optuna, stops the trials optuna prunes
  and tells optuna the score of each one that ends. Nothing blocks.

A trial's score is its best validation accuracy over the epochs (what early stopping would keep).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import optuna
import torch

from core.errors import ConfigError

from .config import Config
from .fit import DigitsTrainer, digits_steps_per_epoch

PARAMS = ("lr", "width", "depth", "dropout", "batch_size")
BATCH_SIZES = (16, 32, 64, 128, 256)
GRID: dict[str, tuple[Any, ...]] = {  # 3 × 2 × 2 × 2 × 2 = 48 points
    "lr": (1e-3, 1e-2, 1e-1),
    "width": (16, 128),
    "depth": (1, 3),
    "dropout": (0.0, 0.3),
    "batch_size": (32, 128),
}
PRUNER_STARTUP, PRUNER_WARMUP = 5, 1  # trials before pruning starts; epochs a trial always gets

optuna.logging.set_verbosity(optuna.logging.WARNING)

Report = Callable[[int, float], bool]  # (epoch, validation accuracy) -> prune this trial?


def grid_size() -> int:
    return math.prod(len(v) for v in GRID.values())


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    """The search space (the grid sampler picks from ``GRID`` within the same ranges)."""
    return {
        "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
        "width": trial.suggest_int("width", 8, 256, log=True),
        "depth": trial.suggest_int("depth", 1, 4),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
    }


def make_sampler(method: str, seed: int) -> optuna.samplers.BaseSampler:
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "grid":
        return optuna.samplers.GridSampler({k: list(v) for k, v in GRID.items()}, seed=seed)
    raise ConfigError("craft.errors.method", value=method, choices="tpe, random, grid")


def trial_config(base: Config, params: dict[str, Any]) -> Config:
    """The digits experiment of ``base`` with a trial's hyperparameters (no schedule, no early stopping)."""
    return replace(base, experiment="digits", lr=float(params["lr"]), width=int(params["width"]),
                   depth=int(params["depth"]), dropout=round(float(params["dropout"]), 3),
                   batch_size=int(params["batch_size"]), schedule="constant", patience=None).validate()


def run_trial(config: Config, report: Report | None = None) -> float:
    """Train one trial in this thread, evaluating every epoch; its best validation accuracy. ``report`` gets each
    epoch's accuracy and returns True to prune (then ``optuna.TrialPruned`` is raised)."""
    with torch.random.fork_rng(devices=[]):  # dropout draws from torch's generator: seed it for a repeatable score
        torch.manual_seed(config.seed)
        trainer = DigitsTrainer(config)
        best = 0.0
        for epoch in range(1, config.epochs + 1):
            for _ in range(trainer.steps_per_epoch):
                out = trainer.train_step()
                if not math.isfinite(out["loss"]):
                    return best  # diverged: what it reached so far
            accuracy = trainer.evaluate()["val_accuracy"]
            best = max(best, accuracy)
            if report is not None and report(epoch, accuracy):
                raise optuna.TrialPruned()
        return best


# ---------------------------------------------------------------------------------------------- the view
@dataclass
class SearchView:
    """The trial table: one row per trial asked so far. ``state`` is running / complete / pruned / failed;
    ``value`` the score (a pruned trial: its last reported accuracy; NaN while running); ``params[i, j]`` trial
    i's value of ``PARAMS[j]``; ``best_so_far`` the best completed score up to each trial."""

    method: str
    budget: int
    number: np.ndarray
    state: tuple[str, ...]
    value: np.ndarray
    epochs: np.ndarray  # epochs reported
    params: np.ndarray  # (trials, len(PARAMS)) float64
    param_names: tuple[str, ...]
    seconds: np.ndarray
    best_so_far: np.ndarray
    best_value: float
    best_number: int  # -1 before a trial completes


@dataclass
class _Running:
    trial: optuna.Trial
    config: Config
    job: Any = None
    reported: int = 0


class Search:
    """One search: ``budget`` trials sampled by ``method`` (``config.method`` / ``config.budget`` by default)."""

    def __init__(self, config: Config, *, method: str | None = None, budget: int | None = None,
                 seed: int | None = None, prune: bool | None = None) -> None:
        config.validate()
        self.config = config
        self.method = method or config.method
        self.budget = budget or config.budget
        if self.method == "grid" and self.budget > grid_size():
            raise ConfigError("craft.errors.grid_budget", budget=self.budget, size=grid_size())
        prune = config.prune if prune is None else prune
        pruner = (optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP, n_warmup_steps=PRUNER_WARMUP)
                  if prune else optuna.pruners.NopPruner())
        self.study = optuna.create_study(direction="maximize", sampler=make_sampler(self.method, config.seed
                                         if seed is None else seed), pruner=pruner)
        self.running: dict[int, _Running] = {}
        self._asked = 0
        self._started: dict[int, float] = {}
        self._seconds: dict[int, float] = {}

    # ------------------------------------------------------------------ ask / report / tell
    @property
    def asked(self) -> int:
        return self._asked

    @property
    def done(self) -> bool:
        return self._asked >= self.budget and not self.running

    def ask(self) -> tuple[int, Config]:
        """The next trial: its number and the config to train."""
        trial = self.study.ask()
        config = trial_config(self.config, suggest(trial))
        self._asked += 1
        self.running[trial.number] = _Running(trial, config)
        self._started[trial.number] = time.monotonic()
        return trial.number, config

    def report(self, number: int, epoch: int, accuracy: float) -> bool:
        """Tell optuna a trial's accuracy after ``epoch``; True when it should be pruned."""
        trial = self.running[number].trial
        trial.report(accuracy, epoch)
        return trial.should_prune()

    def tell(self, number: int, value: float | None = None, *, pruned: bool = False) -> None:
        """End a trial: its score, or pruned (optuna keeps its last report), or failed (``value=None``)."""
        run = self.running.pop(number)
        self._seconds[number] = time.monotonic() - self._started.pop(number, time.monotonic())
        if pruned:
            self.study.tell(run.trial, state=optuna.trial.TrialState.PRUNED)
        elif value is None or not math.isfinite(value):
            self.study.tell(run.trial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(run.trial, value)

    # ------------------------------------------------------------------ drivers
    def run(self, train: Callable[..., float] = run_trial) -> Search:
        """Every remaining trial in this thread: ``train(config, report=...) -> score``."""
        while self._asked < self.budget:
            number, config = self.ask()
            try:
                value = train(config, report=lambda epoch, acc, n=number: self.report(n, epoch, acc))
            except optuna.TrialPruned:
                self.tell(number, pruned=True)
            else:
                self.tell(number, value)
        return self

    def pump(self, submit: Callable[[Config], Any], parallel: int = 1) -> None:
        """Advance the search by what the trial jobs have done since the last call (see the module docstring)."""
        for number, run in list(self.running.items()):
            if run.job is None:
                continue
            snap = run.job.snapshot()
            evals = snap.evals
            accs = evals.get("val_accuracy", [])
            steps = evals.get("step", [])
            per_epoch = digits_steps_per_epoch(run.config)
            pruned = False
            for step, acc in list(zip(steps, accs, strict=False))[run.reported:]:
                run.reported += 1
                if step <= 0 or not math.isfinite(acc):
                    continue
                if self.report(number, round(step / per_epoch), acc):
                    pruned = True
                    break
            if pruned:
                run.job.stop()
                self.tell(number, pruned=True)
            elif not snap.state.active:
                finite = [a for a in accs if math.isfinite(a)]
                self.tell(number, max(finite) if finite else None)
        while self._asked < self.budget and len(self.running) < parallel:
            number, config = self.ask()
            self.running[number].job = submit(config)

    def stop(self) -> None:
        """Stop the running trial jobs and tell optuna they failed."""
        for number, run in list(self.running.items()):
            if run.job is not None:
                run.job.stop()
            self.tell(number, None)

    # ------------------------------------------------------------------ results
    @property
    def best_value(self) -> float:
        complete = [t.value for t in self.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        return max(complete) if complete else math.nan

    def view(self) -> SearchView:
        trials = self.study.trials
        rows = len(trials)
        params = np.full((rows, len(PARAMS)), np.nan)
        value, epochs, seconds, best = (np.full(rows, np.nan) for _ in range(4))
        states = []
        running_best = -math.inf
        best_number = -1
        for i, t in enumerate(trials):
            for j, name in enumerate(PARAMS):
                if name in t.params:
                    params[i, j] = float(t.params[name])
            state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}.get(t.state.name, "running")
            states.append(state)
            if state == "complete":
                value[i] = t.value
            elif t.intermediate_values:
                value[i] = t.intermediate_values[max(t.intermediate_values)]
            epochs[i] = len(t.intermediate_values)
            seconds[i] = self._seconds.get(t.number, math.nan)
            if state == "complete" and t.value > running_best:
                running_best, best_number = t.value, t.number
            best[i] = running_best if math.isfinite(running_best) else np.nan
        return SearchView(self.method, self.budget, np.arange(rows), tuple(states), value, epochs, params, PARAMS,
                          seconds, best, self.best_value, best_number)


# ---------------------------------------------------------------------------------------------- methods compared
@dataclass
class SearchComparison:
    """Searches of every method on the same budget, once per seed: ``best[m, s]`` and the best-so-far curve
    ``curves[m, s, t]`` after trial t."""

    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: int
    best: np.ndarray
    curves: np.ndarray

    def median(self, method: str) -> float:
        return float(np.nanmedian(self.best[self.methods.index(method)]))


def compare_searches(config: Config, methods: tuple[str, ...] = ("tpe", "random"), seeds: tuple[int, ...] = (0, 1, 2,
                     3, 4), budget: int | None = None, train: Callable[..., float] = run_trial) -> SearchComparison:
    """The same budget for every method and seed, trained in this thread (minutes: for the benchmark)."""
    budget = budget or config.budget
    best = np.full((len(methods), len(seeds)), np.nan)
    curves = np.full((len(methods), len(seeds), budget), np.nan)
    for m, method in enumerate(methods):
        for s, seed in enumerate(seeds):
            view = Search(config, method=method, budget=budget, seed=seed).run(train).view()
            best[m, s] = view.best_value
            curves[m, s, : len(view.best_so_far)] = view.best_so_far
    return SearchComparison(tuple(methods), tuple(seeds), budget, best, curves)
