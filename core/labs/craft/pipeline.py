"""The data pipeline: why inputs are standardized (the same MLP, from the same weights, on scikit-learn's wine
measurements raw and standardized), how the rows are split into train / validation / test, and k-fold
cross-validation.

Wine suits the lesson: its 13 measurements range from about 0.1 (hue) to about 1,700 (proline), so on raw inputs
one feature dominates every gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_wine
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from core.data.tabular import TabularData
from core.errors import ConfigError
from core.training import SupervisedTrainer, make_optimizer

from .config import Config
from .fit import SideBySideTrainer, config_model

PIPELINE_NAMES = ("raw", "standardized")


@lru_cache(maxsize=1)
def wine() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """(x (178, 13) float32, y (178,) int64, feature names, class names)."""
    bunch = load_wine()
    return (bunch.data.astype(np.float32), bunch.target.astype(np.int64), tuple(bunch.feature_names),
            tuple(str(c) for c in bunch.target_names))


def split_indices(y: np.ndarray, val_pct: int, test_pct: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train / validation / test row indices (scikit-learn's ``train_test_split`` twice)."""
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=test_pct / 100, random_state=seed, stratify=y)
    train, val = train_test_split(rest, test_size=val_pct / (100 - test_pct), random_state=seed, stratify=y[rest])
    return train, val, test


def pipeline_trainer(config: Config) -> SideBySideTrainer:
    """Two copies of the same MLP with the same optimizer and rate: one on raw inputs, one on standardized ones
    (mean and spread measured on the training rows only)."""
    x, y, _, classes = wine()
    train, val, _ = split_indices(y, config.val_pct, config.test_pct, config.seed)
    scaler = StandardScaler().fit(x[train])
    raw = torch.as_tensor(x)
    std = torch.as_tensor(scaler.transform(x).astype(np.float32))
    models = [config_model(config, x.shape[1], len(classes)) for _ in PIPELINE_NAMES]
    inputs = [(raw[train], raw[val]), (std[train], std[val])]
    return SideBySideTrainer(config, PIPELINE_NAMES, (config.lr,) * 2, models, [config.optimizer] * 2, inputs,
                             torch.as_tensor(y[train]), torch.as_tensor(y[val]))


@dataclass
class PipelineView:
    """The data before training: split sizes and class counts per split, and every feature's mean and spread on
    the training rows, raw and standardized."""

    features: tuple[str, ...]
    classes: tuple[str, ...]
    split_sizes: np.ndarray  # (3,) train, validation, test
    class_counts: np.ndarray  # (3, classes)
    raw_mean: np.ndarray
    raw_std: np.ndarray
    standardized_mean: np.ndarray
    standardized_std: np.ndarray


def pipeline_view(config: Config) -> PipelineView:
    x, y, names, classes = wine()
    parts = split_indices(y, config.val_pct, config.test_pct, config.seed)
    scaler = StandardScaler().fit(x[parts[0]])
    z = scaler.transform(x[parts[0]])
    counts = np.stack([np.bincount(y[p], minlength=len(classes)) for p in parts])
    return PipelineView(names, classes, np.asarray([len(p) for p in parts]), counts, x[parts[0]].mean(0),
                        x[parts[0]].std(0), z.mean(0), z.std(0))


# ---------------------------------------------------------------------------------------------- k-fold
@dataclass
class KFoldView:
    """k-fold cross-validation on the rows outside the test split: ``fold_of[i]`` is the fold that validates
    row ``i`` (-1: a test row, never used until the end); per-fold scores, their mean and spread, and the score
    on the test rows of a model trained on all the others. ``metric`` is "accuracy" or "r2"."""

    metric: str
    folds: int
    fold_of: np.ndarray
    scores: np.ndarray
    val_loss: np.ndarray
    mean: float
    std: float
    test_score: float


def _train_and_score(config: Config, x: torch.Tensor, y: torch.Tensor, xv: torch.Tensor, yv: torch.Tensor,
                     classification: bool, n_out: int) -> tuple[float, float]:
    model = config_model(config, x.shape[1], n_out)
    trainer = SupervisedTrainer(model, make_optimizer(config.optimizer, model.parameters(), config.lr),
                                F.cross_entropy if classification else F.mse_loss, (x, y), (xv, yv),
                                batch_size=config.batch_size, classification=classification, seed=config.seed)
    for _ in range(config.epochs * trainer.steps_per_epoch):
        trainer.train_step()
    loss = trainer.evaluate()["val_loss"]
    out = trainer.predict(xv)
    if classification:
        return float((out.argmax(1) == yv.cpu()).float().mean()), loss
    return float(r2_score(yv.numpy().ravel(), out.numpy().ravel())), loss


def kfold(config: Config, data: TabularData | None = None) -> KFoldView:
    """Cross-validate the config's MLP (``config.folds`` folds; on the visitor's table when ``data`` is given,
    else on wine with the scaler refitted inside every fold). Trains ``folds + 1`` models: about a second on wine."""
    if data is None:
        x_all, y_all, _, classes = wine()
        train, val, test = split_indices(y_all, config.val_pct, config.test_pct, config.seed)
        rest = np.concatenate([train, val])
        classification, n_out = True, len(classes)
        x_rest, y_rest, x_test, y_test = x_all[rest], y_all[rest], x_all[test], y_all[test]
        n_rows = len(y_all)
    else:
        classification = data.task == "classification"
        n_out = data.n_classes if classification else 1
        x_rest = torch.cat([data.x_train, data.x_val]).numpy()
        y_rest = torch.cat([data.y_train, data.y_val]).numpy()
        x_test, y_test = data.x_test.numpy(), data.y_test.numpy()
        rest = np.arange(len(y_rest))
        n_rows = len(y_rest) + len(y_test)
    if len(y_rest) < config.folds * 2:
        raise ConfigError("craft.errors.folds", folds=config.folds, rows=len(y_rest))
    if classification:
        _, counts = np.unique(y_rest, return_counts=True)
        splitter = (StratifiedKFold(config.folds, shuffle=True, random_state=config.seed)
                    if counts.min() >= config.folds else KFold(config.folds, shuffle=True, random_state=config.seed))
    else:
        splitter = KFold(config.folds, shuffle=True, random_state=config.seed)
    fold_of = np.full(n_rows, -1, dtype=np.int64)
    scores, losses = [], []
    as_y = (lambda a: torch.as_tensor(a)) if classification else (lambda a: torch.as_tensor(a, dtype=torch.float32))
    for k, (tr, va) in enumerate(splitter.split(x_rest, y_rest if classification else None)):
        fold_of[rest[va]] = k
        xt, xv = x_rest[tr], x_rest[va]
        if data is None:  # standardize with this fold's training rows only
            scaler = StandardScaler().fit(xt)
            xt, xv = scaler.transform(xt), scaler.transform(xv)
        score, loss = _train_and_score(config, torch.as_tensor(xt, dtype=torch.float32), as_y(y_rest[tr]),
                                       torch.as_tensor(xv, dtype=torch.float32), as_y(y_rest[va]), classification,
                                       n_out)
        scores.append(score)
        losses.append(loss)
    xt, xe = x_rest, x_test
    if data is None:
        scaler = StandardScaler().fit(xt)
        xt, xe = scaler.transform(xt), scaler.transform(xe)
    test_score, _ = _train_and_score(config, torch.as_tensor(xt, dtype=torch.float32), as_y(y_rest),
                                     torch.as_tensor(xe, dtype=torch.float32), as_y(y_test), classification, n_out)
    scores_a = np.asarray(scores)
    return KFoldView("accuracy" if classification else "r2", config.folds, fold_of, scores_a, np.asarray(losses),
                     float(scores_a.mean()), float(scores_a.std()), test_score)
