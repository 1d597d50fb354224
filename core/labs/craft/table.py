"""The visitor's own table: an MLP on the columns they picked (softmax over any number of classes, or
regression), with the confusion matrix, predicted-vs-true values and, when two numeric columns are the inputs,
the decision boundary over them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.data.tabular import Table, TabularData, prepare
from core.errors import ConfigError

from .config import Config
from .fit import FitView, ModelTrainer, config_model

BOUNDARY_GRID = 60
MAX_POINTS = 500  # points drawn on the boundary and in the scatter


def table_data(config: Config, data: Table | TabularData | None) -> TabularData:
    """The prepared inputs for ``config`` (its label, features, task and split) from a table or prepared data."""
    if isinstance(data, TabularData):
        return data
    if data is None:
        raise ConfigError("craft.errors.no_table")
    return prepare(data, config.label, list(config.features) or None, task=config.task,
                   val_fraction=config.val_pct / 100, test_fraction=config.test_pct / 100,
                   standardize=config.standardize, seed=config.seed)


@dataclass
class TableView:
    """What the model does with the table now. Classification: ``confusion[i, j]`` counts validation rows of class
    i predicted as j. Regression: up to ``MAX_POINTS`` validation rows, true against predicted, in the label's
    units, and R². With exactly two numeric feature columns: the prediction over a grid of them (``surface``: class
    index or value; ``confidence``: the top class probability) and some training points."""

    fit: FitView
    task: str
    class_names: tuple[str, ...]
    confusion: np.ndarray  # (classes, classes) int64; (0, 0) for regression
    y_true: np.ndarray
    y_pred: np.ndarray
    r2: float
    boundary_features: tuple[str, ...]  # () when there is no boundary to draw
    axis_x: np.ndarray
    axis_y: np.ndarray
    surface: np.ndarray  # (grid, grid), row i at axis_y[i]
    confidence: np.ndarray
    points: np.ndarray  # (n, 2) training points in the columns' own units
    point_labels: np.ndarray  # their class index or target value


class TableTrainer(ModelTrainer):
    def __init__(self, config: Config, data: Table | TabularData | None = None) -> None:
        self.data = table_data(config, data)
        d = self.data
        classification = d.task == "classification"
        model = config_model(config, d.n_inputs, d.n_classes if classification else 1)
        val = (d.x_val, d.y_val) if len(d.y_val) else (d.x_test, d.y_test)
        super().__init__(config, model, (d.x_train, d.y_train), val, classification=classification)
        self._boundary = self._boundary_grid()

    def _boundary_grid(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, torch.Tensor | None]:
        d = self.data
        if len(d.features) != 2 or any(f not in d.ranges for f in d.features):
            return (), np.zeros(0), np.zeros(0), None
        axes = []
        for f in d.features:
            lo, hi = d.ranges[f]
            pad = 0.05 * (hi - lo) or 0.5
            axes.append(np.linspace(lo - pad, hi + pad, BOUNDARY_GRID))
        gx, gy = np.meshgrid(*axes)
        frame = pd.DataFrame({d.features[0]: gx.ravel(), d.features[1]: gy.ravel()})
        return tuple(d.features), axes[0], axes[1], d.encode(frame)

    def snapshot(self) -> TableView:
        d = self.data
        x_val, y_val = self.val
        out = self.predict(x_val)
        classification = d.task == "classification"
        confusion = np.zeros((0, 0), dtype=np.int64)
        y_true = y_pred = np.zeros(0, dtype=np.float32)
        r2 = math.nan
        if classification:
            n = d.n_classes
            t, p = y_val.cpu().numpy(), out.argmax(1).numpy()
            confusion = np.bincount(t * n + p, minlength=n * n).reshape(n, n)
        else:
            y_true, y_pred = d.target(y_val)[:MAX_POINTS], d.target(out)[:MAX_POINTS]
            full_t, full_p = d.target(y_val), d.target(out)
            denom = float(((full_t - full_t.mean()) ** 2).sum())
            r2 = 1 - float(((full_t - full_p) ** 2).sum()) / denom if denom > 0 else math.nan
        names, ax, ay, grid = self._boundary
        surface = confidence = np.zeros((0, 0), dtype=np.float32)
        points, labels = np.zeros((0, 2), dtype=np.float32), np.zeros(0, dtype=np.float32)
        if grid is not None:
            g = self.predict(grid)
            if classification:
                prob = torch.softmax(g, dim=1)
                surface = prob.argmax(1).numpy().reshape(len(ay), len(ax)).astype(np.float32)
                confidence = prob.max(1).values.numpy().reshape(len(ay), len(ax)).astype(np.float32)
            else:
                surface = d.target(g).reshape(len(ay), len(ax)).astype(np.float32)
            raw = self._raw_points()
            points, labels = raw
        return TableView(self.fit_view(), d.task, tuple(d.class_names), confusion, y_true.astype(np.float32),
                         y_pred.astype(np.float32), r2, names, ax.astype(np.float32), ay.astype(np.float32), surface,
                         confidence, points, labels)

    def _raw_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Training points back in the columns' own units (numeric columns are standardized or passed through)."""
        d = self.data
        x = d.x_train[:MAX_POINTS].cpu().numpy()
        num = d.encoder.named_transformers_["num"]
        scale = num.named_steps["scale"]
        raw = scale.inverse_transform(x[:, :2]) if hasattr(scale, "inverse_transform") else x[:, :2]
        labels = d.y_train[:MAX_POINTS].cpu().numpy().reshape(-1)
        if d.task == "regression":
            labels = labels * d.y_std + d.y_mean
        return raw.astype(np.float32), labels.astype(np.float32)
