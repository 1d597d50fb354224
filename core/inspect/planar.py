"""What a 2-D network computes, as detached numpy copies: the output over the input plane, every
neuron's output over the plane, the weights and biases, and the current train/test numbers.

``network_view`` runs in the training thread (through the trainer's ``snapshot()`` hook), so the page
only ever draws copies. ``table_view`` does the same for a visitor's table: the plane is spanned by two of its numeric
columns (in their own units), the other inputs held at their training mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.data.planar import EXTENT, grid, transform
from core.data.tabular import TabularData
from core.models.mlp import MLP


@dataclass
class NetworkView:
    """One picture of the network at ``step``.

    ``surface`` is the display output on a ``len(axis)²`` grid (rows = x₂ from bottom to top), in [-1, 1]:
    ``2·p(blue) − 1`` for classification, the prediction for regression. ``neurons[c]`` holds column ``c``
    of the diagram (input features, each hidden layer, the output), shape (neurons, g, g) on the coarser
    ``neuron_axis``. ``weights[l]`` has shape (out, in) like ``nn.Linear``.
    """

    step: int
    problem: str
    features: tuple[str, ...]
    axis: np.ndarray
    surface: np.ndarray
    neuron_axis: np.ndarray
    neurons: list[np.ndarray]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    metrics: dict[str, float] = field(default_factory=dict)
    state_dict: dict[str, torch.Tensor] = field(default_factory=dict)
    # a visitor's table (``table_view``): the plane's own axes and columns, and what a k-class output shows
    axis_y: np.ndarray | None = None  # None: the square plane, ``axis`` on both sides
    axis_names: tuple[str, ...] = ()  # the two columns spanning the plane ((): x₁, x₂; a table with fewer: no plane)
    exact_plane: bool = True  # the plane holds every input (False: other inputs at their mean)
    class_names: tuple[str, ...] = ()  # a table's classes
    confidence: np.ndarray | None = None  # > 2 classes: ``surface`` is the predicted class, this its probability
    value_range: tuple[float, float] | None = None  # regression on a table: the targets' range, label units
    confusion: np.ndarray | None = None  # classification on a table: test rows, true class i predicted as j

    @property
    def widths(self) -> list[int]:
        return [len(n) for n in self.neurons]


def display_output(z: torch.Tensor, problem: str) -> torch.Tensor:
    """The output neuron(s) as drawn: ``tanh(z/2) = 2σ(z) − 1`` for one classification output, ``2·softmax − 1``
    for several (one per class), ``z`` for regression."""
    if problem != "classification":
        return z
    return 2 * torch.softmax(z, dim=1) - 1 if z.shape[1] > 1 else torch.tanh(z / 2)


@torch.no_grad()
def set_metrics(model: MLP, loss_fn, x: torch.Tensor, y: torch.Tensor, classification: bool) -> dict[str, float]:
    """Loss (and accuracy) of ``model`` on a whole set, in eval mode (no dropout)."""
    out = model(x)
    result = {"loss": float(loss_fn(out, y))}
    if classification:
        result["accuracy"] = float((out.argmax(dim=1) == y).float().mean())
    return result


@torch.no_grad()
def network_view(model: MLP, features: tuple[str, ...], problem: str, *, step: int,
                 metrics: dict[str, float] | None = None, resolution: int = 79, neuron_stride: int = 3,
                 extent: float = EXTENT) -> NetworkView:
    """Evaluate ``model`` on a grid over the plane and copy out everything the page draws."""
    axis, points = grid(resolution, extent)
    inputs = transform(points, features)
    return _on_grid(model, inputs, problem, step, metrics, (resolution, resolution), neuron_stride,
                    features=tuple(features), axis=axis)


@torch.no_grad()
def _on_grid(model: MLP, inputs: torch.Tensor, problem: str, step: int, metrics: dict[str, float] | None,
             shape: tuple[int, int], neuron_stride: int, **fields) -> NetworkView:
    """Every layer of ``model`` on grid ``inputs`` (rows of a ``shape`` grid, x fastest), copied out."""
    was_training = model.training
    model.eval()
    outs = model.forward_all(inputs.to(next(model.parameters()).device))
    model.train(was_training)

    def planes(t: torch.Tensor) -> np.ndarray:  # (points, k) -> (k, rows, cols) on the coarse grid
        full = t.detach().cpu().T.reshape(-1, *shape)
        return full[:, ::neuron_stride, ::neuron_stride].numpy().astype(np.float32)

    shown = display_output(outs[-1], problem)
    if shown.shape[1] > 1:  # several classes: the surface is the predicted class, shaded by its probability
        top = shown.max(dim=1)
        surface = top.indices.float()
        fields["confidence"] = ((top.values + 1) / 2).cpu().reshape(shape).numpy().astype(np.float32)
    else:
        surface = shown[:, 0]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    axis = fields.pop("axis")
    return NetworkView(
        step=step,
        problem=problem,
        axis=axis,
        surface=surface.cpu().reshape(shape).numpy().astype(np.float32),
        neuron_axis=axis[::neuron_stride],
        neurons=[planes(inputs)] + [planes(o) for o in outs[:-1]] + [planes(shown)],
        weights=[m.weight.detach().cpu().numpy().copy() for m in linears],
        biases=[m.bias.detach().cpu().numpy().copy() for m in linears],
        metrics=dict(metrics or {}),
        state_dict={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        **fields,
    )


# ---------------------------------------------------------------------------------------------- a visitor's table
def plane_columns(data: TabularData) -> tuple[str, ...]:
    """The two numeric columns that span the plane: the first two numeric features (() when there are fewer)."""
    numeric = [f for f in data.features if f in data.ranges]
    return tuple(numeric[:2]) if len(numeric) >= 2 else ()


def _scaling(data: TabularData, column: str) -> tuple[int, float, float]:
    """The model input of a numeric column and its affine map from the column's units (x − mean) / scale."""
    index = data.feature_names.index(column)
    scale = data.encoder.named_transformers_["num"].named_steps["scale"]
    if not hasattr(scale, "mean_"):  # not standardized: passed through
        return index, 0.0, 1.0
    numeric = list(data.encoder.transformers_[0][2])
    k = numeric.index(column)
    return index, float(scale.mean_[k]), float(scale.scale_[k])


def plane_points(data: TabularData, x: torch.Tensor) -> np.ndarray:
    """Rows of model inputs → their two plane columns in the columns' own units, shape (n, 2)."""
    out = []
    for column in plane_columns(data):
        index, mean, scale = _scaling(data, column)
        out.append(x[:, index].detach().cpu().numpy() * scale + mean)
    return np.stack(out, axis=1).astype(np.float32) if out else np.zeros((len(x), 0), dtype=np.float32)


@torch.no_grad()
def table_view(model: MLP, data: TabularData, problem: str, *, step: int, metrics: dict[str, float] | None = None,
               resolution: int = 61, neuron_stride: int = 3) -> NetworkView:
    """``network_view`` for a table: the plane spanned by :func:`plane_columns` over their training range (a
    little padded), every other input at its training mean; with fewer than two numeric columns there is no
    plane (one grey tile per neuron). Classification also counts the test rows' confusion matrix."""
    columns = plane_columns(data)
    base = data.x_train.mean(dim=0)
    fields: dict = {"features": tuple(data.feature_names), "axis_names": columns,
                    "exact_plane": len(columns) == 2 == len(data.features), "class_names": tuple(data.class_names)}
    if columns:
        axes, coded = [], []
        for column in columns:
            lo, hi = data.ranges[column]
            pad = 0.05 * (hi - lo) or 0.5
            axis = np.linspace(lo - pad, hi + pad, resolution, dtype=np.float32)
            index, mean, scale = _scaling(data, column)
            axes.append(axis)
            coded.append((index, (axis - mean) / scale))
        inputs = base.repeat(resolution * resolution, 1)
        gx, gy = np.meshgrid(coded[0][1], coded[1][1])
        inputs[:, coded[0][0]] = torch.as_tensor(gx.ravel(), dtype=inputs.dtype)
        inputs[:, coded[1][0]] = torch.as_tensor(gy.ravel(), dtype=inputs.dtype)
        shape, stride, fields["axis"], fields["axis_y"] = (resolution, resolution), neuron_stride, axes[0], axes[1]
    else:
        inputs, shape, stride, fields["axis"] = base[None], (1, 1), 1, np.zeros(1, dtype=np.float32)
    if problem == "regression":
        y = data.target(data.y_train)
        fields["value_range"] = (float(y.min()), float(y.max()))
    else:
        fields["confusion"] = _confusion(model, data)
    view = _on_grid(model, inputs, problem, step, metrics, shape, stride, **fields)
    if problem == "regression":  # the surface in the label's own units
        view.surface = (view.surface * data.y_std + data.y_mean).astype(np.float32)
    return view


def _confusion(model: MLP, data: TabularData) -> np.ndarray:
    n = max(2, data.n_classes)
    x, y = data.x_test, data.y_test
    if not len(y):
        return np.zeros((n, n), dtype=np.int64)
    was_training = model.training
    model.eval()
    predicted = model(x.to(next(model.parameters()).device)).argmax(dim=1).cpu().numpy()
    model.train(was_training)
    return np.bincount(y.numpy() * n + predicted, minlength=n * n).reshape(n, n)
