"""How the Explain page reads any ``Explainable`` — classes or values, which output a map explains — and the page's
computations on one input, each with a typed result: :func:`predict`, :func:`explain`, :func:`deletion`,
:func:`sanity`, :func:`feature_report`.

Three kinds of output are read alike:

- classifiers (``class_names`` are the classes): a map explains one class's logit (or probability);
- binary classifiers (``binary``: one score z, given as one output or as the logits [0, z]): the map of class 1
  explains z and the map of class 0 explains −z, through :class:`Oriented`, so every method (Guided Backprop
  too) sees the class it explains as a real output;
- regression models (``extra["problem"] == "regression"``, ``class_names`` name the outputs): a map explains
  one output's value, targets are numbers, and deletion curves follow the output instead of a probability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import ConfigError

from .methods import Attribution, attribute_many, one_thread, predict_proba
from .source import Explainable
from .tabular import FeatureImportance, LayerImportance, feature_importance, hidden_linears, neuron_importance
from .trust import DeletionCurve, RandomizationResult, deletion_curve, random_deletion_curve, randomization_check


class Oriented(nn.Module):
    """A binary classifier's score z as the logits [0, sign·z]: output 1 is the score of the class explained
    (z for class 1, −z for class 0) and its softmax the probability of that class."""

    def __init__(self, net: nn.Module, sign: float = 1.0) -> None:
        super().__init__()
        self.net, self.sign = net, sign

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x).reshape(len(x), -1)
        z = out[:, 1:2] - out[:, 0:1] if out.shape[1] == 2 else out[:, 0:1]
        return torch.cat([torch.zeros_like(z), self.sign * z], dim=1)


def is_regression(src: Explainable) -> bool:
    return src.extra.get("problem") == "regression"


def model_for(src: Explainable, output: int) -> tuple[nn.Module, int]:
    """The model and the output index whose attributions explain class (or output) ``output``."""
    if src.binary:
        return Oriented(src.model, 1.0 if output == 1 else -1.0).eval(), 1
    return src.model, int(output)


# ---------------------------------------------------------------------------------------------- prediction
@dataclass
class Prediction:
    """What the model says about one input: class probabilities, or output values for regression."""

    values: np.ndarray
    regression: bool
    best: int | None  # the predicted class (classifiers)
    truth: int | None = None  # the true class of a test example
    true_values: np.ndarray | None = None  # the true outputs of a test example (regression)


def predict(src: Explainable, x: torch.Tensor, truth: torch.Tensor | None = None) -> Prediction:
    """The model's answer for one input ``x`` (the input's own shape), with the test example's truth if given."""
    xb = torch.as_tensor(x, dtype=torch.float32).unsqueeze(0)
    if is_regression(src):
        with torch.no_grad(), one_thread():
            values = src.model.eval()(xb).reshape(-1).double().numpy()
        true = None if truth is None else np.atleast_1d(np.asarray(truth, dtype=np.float64)).ravel()
        return Prediction(values, True, None, None, true)
    model = Oriented(src.model) if src.binary else src.model
    probs = predict_proba(model, xb)[0]
    return Prediction(probs, False, int(np.argmax(probs)), None if truth is None else int(truth))


# ---------------------------------------------------------------------------------------------- maps
def explain(src: Explainable, x: torch.Tensor, output: int, methods: Sequence[str], options: dict[str, Any], *,
            on_method: Callable[[str, int], None] | None = None,
            progress: Callable[[float], None] | None = None) -> dict[str, Attribution]:
    """Every method's map of class (or output) ``output`` for input ``x``; a regression output is explained as
    its value (never through a softmax)."""
    model, target = model_for(src, output)
    if is_regression(src):
        options = {**options, "output": "logit"}
    results = attribute_many(list(methods), model, x, target, spec=src.spec, on_method=on_method,
                             progress=progress, **options)
    for a in results.values():
        a.target = int(output)
    return results


@dataclass
class Deletion:
    """Deletion curves per method and the random-order reference; ``measure`` says what the curves follow."""

    curves: dict[str, DeletionCurve]
    reference: DeletionCurve
    measure: str  # "probability" | "output"


def deletion(src: Explainable, x: torch.Tensor, output: int, maps: dict[str, np.ndarray], *, baseline: str,
             sign: str = "all") -> Deletion:
    """Remove the most-attributed cells first (per map in ``maps``, summed over colour channels) and follow the
    explained class's probability — or, for regression, the share of the output's change still left."""
    model, target = model_for(src, output)
    measure = "output" if is_regression(src) else "probability"
    curves = {name: deletion_curve(model, x, target, m, src.spec, baseline=baseline, sign=sign, measure=measure)
              for name, m in maps.items()}
    reference = random_deletion_curve(model, x, target, src.spec, baseline=baseline, measure=measure)
    return Deletion(curves, reference, measure)


def sanity(src: Explainable, x: torch.Tensor, output: int, methods: Sequence[str], options: dict[str, Any], *,
           mode: str = "full", on_step: Callable[[str, float], None] | None = None) -> dict[str, RandomizationResult]:
    """The randomization check of every method: how similar its map stays when the learned weights are replaced
    by random ones (``mode="cascading"``: one more layer at a time, from the output down)."""
    model, target = model_for(src, output)
    if is_regression(src):
        options = {**options, "output": "logit"}
    out = {}
    for name in methods:
        step = None if on_step is None else (lambda frac, name=name: on_step(name, frac))
        out[name] = randomization_check(name, model, x, target, src.spec, mode=mode, on_step=step, **options)
    return out


# ---------------------------------------------------------------------------------------------- feature tables
@dataclass
class FeatureReport:
    """Integrated Gradients of every example per input feature, and each hidden neuron's conductance."""

    names: list[str]  # as given by the model (catalogue texts are translated by the page)
    importance: FeatureImportance
    layers: list[LayerImportance]
    examples: int


def feature_report(src: Explainable, baseline: str = "zeros", max_examples: int = 2000) -> FeatureReport:
    """Over the training and test tables together (at most ``max_examples`` rows, evenly spaced): binary
    classifiers explain their score z, regression models their output, other classifiers each example's
    predicted class."""
    data = torch.cat([src.x_train, src.x_test]) if src.x_train is not None else src.x_test
    if len(data) > max_examples:
        data = data[torch.linspace(0, len(data) - 1, max_examples).round().long()]
    names = list(src.spec.feature_names or [f"x{i + 1}" for i in range(src.spec.shape[0])])
    if src.binary:
        model, target = Oriented(src.model), 1
    else:
        model, target = src.model, (0 if is_regression(src) else None)
    importance = feature_importance(model, data, names=names, target=target, baseline=baseline)
    try:
        hidden = hidden_linears(model)
    except ConfigError:  # no Linear layer at all: no neurons to rank
        hidden = []
    layers = neuron_importance(model, data, target=target, baseline=baseline) if hidden else []
    return FeatureReport(names, importance, layers, len(data))
