"""How much to trust a map: completeness (on the Attribution), the model-parameter randomization sanity
check (Adebayo et al. 2018) and the deletion curve (faithfulness)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from core.errors import ConfigError
from core.i18n import Message

from .methods import (
    Attribution,
    ExplainOptions,
    InputSpec,
    _batched,
    apply_sign,
    make_baseline,
    one_thread,
    prepare_model,
    run_method,
)


# ----------------------------------------------------------------------------------------- randomization
def _units(batched_map: np.ndarray, spec: InputSpec) -> np.ndarray:
    """One example's map per pixel (colour channels summed) or per element for non-image inputs."""
    return batched_map[0].sum(0) if spec.is_image else batched_map[0]


def rank_correlation(a: np.ndarray, b: np.ndarray, *, absolute: bool = True) -> float:
    """Spearman rank correlation of two maps (of their magnitudes by default, as Adebayo et al. do)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if absolute:
        a, b = np.abs(a), np.abs(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(spearmanr(a, b).statistic)


def parameter_layers(model: nn.Module) -> list[str]:
    """Names of the modules that own parameters directly, from the output back to the input."""
    names = [name for name, m in model.named_modules() if name and any(True for _ in m.parameters(recurse=False))]
    return names[::-1]


def cascade_groups(model: nn.Module) -> list[tuple[str, list[str]]]:
    """Cascading-randomization steps from the output down: each weight layer (conv, linear …) together with the
    normalisation layers that follow it, labelled by the weight layer's name."""
    modules = dict(model.named_modules())
    groups: list[tuple[str, list[str]]] = []
    pending: list[str] = []
    for name in parameter_layers(model):
        pending.append(name)
        if not isinstance(modules[name], nn.modules.batchnorm._NormBase | nn.LayerNorm | nn.GroupNorm):
            groups.append((name, pending))
            pending = []
    if pending:
        groups.append((pending[-1], pending))
    return groups


@torch.no_grad()
def randomize(model: nn.Module, layers: list[str] | None = None, *, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose ``layers`` (default: all) are re-initialised with their own default init."""
    clone = prepare_model(model)
    chosen = set(parameter_layers(clone) if layers is None else layers)
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for name, module in clone.named_modules():
            if name in chosen:
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
                else:
                    for p in module.parameters(recurse=False):
                        p.normal_(0, 0.05)
    finally:
        torch.random.set_rng_state(gen_state)
    return clone


def compare_models(name: str, model_a: nn.Module, model_b: nn.Module, x: torch.Tensor, target: int,
                   spec: InputSpec, **options: Any) -> float:
    """Spearman rank correlation between method ``name``'s maps on two models (1.0 for a model and itself:
    random methods are seeded identically)."""
    opts = ExplainOptions.make(**options)
    xb, _ = _batched(x, spec)
    maps = []
    for model in (model_a, model_b):
        prepared = prepare_model(model, opts.output)
        xd = xb.to(next(prepared.parameters()).device)
        maps.append(_units(run_method(name, prepared, xd, target, spec, opts,
                                      make_baseline(opts.baseline, xd, spec, seed=opts.seed)).map, spec))
    return rank_correlation(maps[0], maps[1])


@dataclass
class RandomizationResult:
    """Similarity of a method's map on the trained model to maps on progressively randomized copies."""

    method: str
    steps: list[str]  # "all layers" (full) or the layer randomized last (cascading, output first)
    correlations: list[float]
    original: Attribution
    maps: list[np.ndarray]


def randomization_check(name: str, model: nn.Module, x: torch.Tensor, target: int, spec: InputSpec, *,
                        mode: str = "full", on_step: Callable[[float], None] | None = None,
                        **options: Any) -> RandomizationResult:
    """Re-run ``name`` on copies of ``model`` with randomized weights; Spearman correlation to the original map.

    ``mode="full"`` randomizes every layer at once; ``"cascading"`` randomizes from the output layer down,
    one more weight layer (with its normalisation) per step. ``on_step(fraction done)`` reports progress.
    """
    opts = ExplainOptions.make(**options)
    xb, _ = _batched(x, spec)
    original_model = prepare_model(model, opts.output)
    device = next(original_model.parameters()).device
    xb = xb.to(device)
    baseline = make_baseline(opts.baseline, xb, spec, seed=opts.seed)
    original = run_method(name, original_model, xb, target, spec, opts, baseline)
    if mode == "full":
        plan = [(Message("explain.trust.all_layers"), parameter_layers(model))]
    elif mode == "cascading":
        plan, chosen = [], []
        for label, group in cascade_groups(model):
            chosen = chosen + group
            plan.append((label, chosen))
    else:
        raise ConfigError("explain.errors.mode", value=mode)
    steps, corrs, maps = [], [], []
    for i, (label, chosen) in enumerate(plan):
        if on_step is not None:
            on_step(i / len(plan))
        rand = prepare_model(randomize(model, chosen, seed=opts.seed + 1), opts.output)
        result = run_method(name, rand, xb, target, spec, opts, baseline)
        steps.append(label)
        corrs.append(rank_correlation(_units(original.map, spec), _units(result.map, spec)))
        maps.append(result.map[0])
    original.map = original.map[0]
    return RandomizationResult(name, steps, corrs, original, maps)


# ----------------------------------------------------------------------------------------- deletion
@dataclass
class DeletionCurve:
    fractions: np.ndarray
    probs: np.ndarray
    auc: float


def _score_pixels(pixel_map: np.ndarray, sign: str) -> np.ndarray:
    return apply_sign(pixel_map, sign) if sign != "all" else pixel_map


MEASURES = ("probability", "output")


@torch.no_grad()
def deletion_curve(model: nn.Module, x: torch.Tensor, target: int, pixel_map: np.ndarray | None, spec: InputSpec,
                   *, baseline: str = "black", steps: int = 24, sign: str = "all", seed: int = 0,
                   measure: str = "probability") -> DeletionCurve:
    """Replace the most-attributed pixels first with the baseline and record the target's probability
    (``measure="output"``, for regression: the share of the output's change from the baseline still left,
    (f(x_k) − f(baseline)) / (f(x) − f(baseline)), which goes from 1 to 0).

    ``pixel_map`` is (H, W) for images (all channels of a pixel go together), else the input's own shape
    (feature vectors, sequences, spectrograms);
    ``None`` removes pixels in a random order (the reference a useful map should beat). A low area under
    the curve means the map found the pixels the model really relies on.
    """
    prepared = prepare_model(model)
    device = next(prepared.parameters()).device
    xb, _ = _batched(x, spec)
    xb = xb.to(device)
    base = make_baseline(baseline, xb, spec, seed=seed)
    unit_shape = tuple(xb.shape[-2:]) if spec.is_image else tuple(xb.shape[1:])  # a pixel keeps its channels
    n_units = int(np.prod(unit_shape))
    if pixel_map is None:
        order = np.random.default_rng(seed).permutation(n_units)
    else:
        scores = _score_pixels(np.asarray(pixel_map, dtype=np.float64).ravel(), sign)
        order = np.argsort(-scores, kind="stable")
    counts = np.unique(np.linspace(0, n_units, steps + 1).round().astype(int))
    keep = torch.ones((len(counts), n_units), device=device)
    for row, k in enumerate(counts):
        keep[row, torch.as_tensor(order[:k], device=device)] = 0
    keep = keep.view(len(counts), *((1,) if spec.is_image else ()), *unit_shape)
    batch = xb * keep + base * (1 - keep)
    if measure not in MEASURES:
        raise ConfigError("explain.errors.measure", value=measure)
    with one_thread():
        out = prepared(batch).reshape(len(batch), -1)
        if measure == "probability":
            probs = torch.softmax(out, dim=1)[:, target].cpu().numpy()
        else:
            f = out[:, target].double()
            reference = float(prepared(base[:1]).reshape(-1)[target])
            change = float(f[0]) - reference
            probs = ((f - reference) / (change if abs(change) > 1e-9 else 1e-9)).float().cpu().numpy()
    fractions = counts / n_units
    return DeletionCurve(fractions, probs, float(np.trapezoid(probs, fractions)))


def random_deletion_curve(model: nn.Module, x: torch.Tensor, target: int, spec: InputSpec, *,
                          baseline: str = "black", steps: int = 24, repeats: int = 8,
                          measure: str = "probability") -> DeletionCurve:
    """The deletion curve averaged over ``repeats`` random pixel orders."""
    curves = [deletion_curve(model, x, target, None, spec, baseline=baseline, steps=steps, seed=s, measure=measure)
              for s in range(repeats)]
    probs = np.mean([c.probs for c in curves], axis=0)
    return DeletionCurve(curves[0].fractions, probs, float(np.trapezoid(probs, curves[0].fractions)))
