"""The one registry of attribution methods (all from Captum) and the one way to call them.

``attribute(method, model, x, target, spec=spec, **options)`` returns an :class:`Attribution` whose
``map`` has the shape of ``x``. Every method runs on a private copy of the model in eval mode with
in-place activations replaced, so the visitor's model is never mutated.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from captum._utils.models.linear_model import SkLearnLasso
from captum.attr import (
    DeepLift,
    GradientShap,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    LayerAttribution,
    LayerGradCam,
    Lime,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from torch import nn
from torch.nn import functional as F

from core.device import best_device
from core.errors import ConfigError
from core.i18n import Message
from core.registry import Registry

BASELINES = ("black", "blurred", "noise", "mean")  # what each means: explain.baselines.<name> in the catalogue
SIGNS = ("all", "positive", "negative", "absolute")
SEGMENTATIONS = ("patches", "superpixels")
NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")
OUTPUTS = ("logit", "probability")


@dataclass
class InputSpec:
    """What a model's input means: one example's shape, its value range, what 'black' is, the training mean."""

    shape: tuple[int, ...]
    class_names: list[str]
    low: float | tuple[float, ...] = 0.0  # darkest value (per channel of an image, per row of a 2-D grid)
    high: float | tuple[float, ...] = 1.0
    black: float | tuple[float, ...] | None = None  # default: ``low``
    mean: np.ndarray | None = None  # the average training input, shape ``shape``
    feature_names: list[str] | None = None

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    @property
    def value_range(self) -> float:
        """The mean width of the value range (scales noise levels)."""
        return float(np.mean(np.asarray(self.high) - np.asarray(self.low))) or 1.0

    def per_channel(self, value: float | tuple[float, ...], like: torch.Tensor) -> torch.Tensor:
        """``value`` (a scalar or one number per channel) broadcastable against a batch ``like``."""
        t = torch.as_tensor(np.asarray(value, dtype=np.float32), device=like.device)
        if t.ndim == 0:
            return t
        if self.is_image:
            return t.view(1, -1, 1, 1)
        if len(self.shape) == 2 and len(t) == self.shape[0]:  # one value per row (a spectrogram's band)
            return t.view(1, -1, 1)
        return t


@dataclass
class ExplainOptions:
    """Every knob of every method; each method reads the ones it needs."""

    baseline: str = "black"
    ig_steps: int = 50
    occlusion_window: int = 6
    occlusion_stride: int = 3
    nt_method: str = "Saliency"
    nt_type: str = "smoothgrad"
    nt_samples: int = 16
    nt_stdev: float = 0.15  # fraction of the input's value range
    shap_samples: int = 24  # GradientShap
    shap_stdev: float = 0.09  # fraction of the input's value range
    perturb_samples: int = 200  # Lime / KernelShap
    segmentation: str = "patches"
    patch: int = 4
    superpixels: int = 40
    lime_alpha: float = 0.01
    output: str = "logit"  # or "probability"
    seed: int = 0
    progress: Callable[[float], None] | None = None

    @classmethod
    def make(cls, **options: Any) -> ExplainOptions:
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise ConfigError("explain.errors.unknown_option", names=", ".join(sorted(unknown)))
        opts = cls(**options)
        opts.check()
        return opts

    def check(self) -> None:
        if self.baseline not in BASELINES:
            raise ConfigError("explain.errors.baseline", value=self.baseline, choices=", ".join(BASELINES))
        if not 2 <= self.ig_steps <= 1000:
            raise ConfigError("explain.errors.ig_steps", low=2, high=1000, value=self.ig_steps)
        if not (1 <= self.occlusion_stride <= self.occlusion_window <= 28):
            raise ConfigError("explain.errors.occlusion", high=28, window=self.occlusion_window,
                              stride=self.occlusion_stride)
        if not 1 <= self.nt_samples <= 200:
            raise ConfigError("explain.errors.nt_samples", low=1, high=200, value=self.nt_samples)
        if not 0 < self.nt_stdev <= 2:
            raise ConfigError("explain.errors.nt_stdev", high=2, value=self.nt_stdev)
        if self.nt_type not in NT_TYPES:
            raise ConfigError("explain.errors.nt_type", value=self.nt_type, choices=", ".join(NT_TYPES))
        if not 10 <= self.perturb_samples <= 5000:
            raise ConfigError("explain.errors.perturb_samples", low=10, high=5000, value=self.perturb_samples)
        if self.segmentation not in SEGMENTATIONS:
            raise ConfigError("explain.errors.segmentation", value=self.segmentation)
        if not 1 <= self.patch <= 28 or not 2 <= self.superpixels <= 200:
            raise ConfigError("explain.errors.patches")
        if self.output not in OUTPUTS:
            raise ConfigError("explain.errors.output", value=self.output)


@dataclass
class Attribution:
    """One method's answer: ``map`` has the input's shape; ``delta`` is the completeness error when defined."""

    method: str
    map: np.ndarray
    seconds: float
    target: int
    signed: bool = True
    delta: float | None = None  # sum(attributions) − (f(x) − f(baseline))
    output_diff: float | None = None  # f(x) − f(baseline)
    notes: list[str] = field(default_factory=list)

    @property
    def delta_rel(self) -> float | None:
        if self.delta is None or self.output_diff is None:
            return None
        return abs(self.delta) / max(abs(self.output_diff), 1e-8)

    def pixels(self) -> np.ndarray:
        """The map summed over colour channels: (H, W) for images, (F,) for feature vectors."""
        return self.map.sum(axis=-3) if self.map.ndim >= 3 else self.map


@dataclass
class MethodInfo:
    fn: Callable[..., tuple[torch.Tensor, torch.Tensor | None]]
    kind: str  # "gradient", "perturbation", "layer", "wrapper"
    signed: bool
    slow: bool
    completeness: bool
    blurb: Message  # what the method does (explain.methods.<name>)
    uses: tuple[str, ...]  # the ExplainOptions fields the map depends on (for caching)

    def key(self, opts: ExplainOptions | dict[str, Any]) -> tuple:
        """The values of the options this method reads: equal keys give equal maps."""
        get = opts.get if isinstance(opts, dict) else lambda name: getattr(opts, name)
        return tuple((name, get(name)) for name in self.uses)


METHODS: Registry[MethodInfo] = Registry("attribution method")


def method(name: str, *, kind: str, uses: tuple[str, ...] = (), signed: bool = True,
           slow: bool = False, completeness: bool = False) -> Callable:
    """Register ``fn(model, x, target, baseline, spec, opts) -> (attributions, delta | None)``; ``uses`` names the
    options it reads besides ``output``. What the method does is ``explain.methods.<name>`` in the catalogue."""

    def add(fn: Callable) -> Callable:
        blurb = Message(f"explain.methods.{name}")
        info = MethodInfo(fn, kind, signed, slow, completeness, blurb, ("output", *uses))
        METHODS.register(name, family=kind, description=blurb)(info)
        return fn

    return add


# ----------------------------------------------------------------------------------------- model & inputs
@contextmanager
def one_thread() -> Iterator[None]:
    """Run one small example on a single CPU thread: on a shared 2-core box, two spinning threads per
    tiny op make attributions 10–100× slower than one."""
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def prepare_model(model: nn.Module, output: str = "logit", device: torch.device | None = None) -> nn.Module:
    """A private eval-mode copy with in-place activations made out-of-place (DeepLift/GuidedBackprop need it);
    ``output="probability"`` appends a softmax. The visitor's model is untouched."""
    clone = copy.deepcopy(model).to(device or best_device())
    for module in clone.modules():
        if hasattr(module, "inplace") and getattr(module, "inplace", False):
            module.inplace = False
    for p in clone.parameters():
        p.requires_grad_(False)
    if output == "probability":
        clone = nn.Sequential(clone, nn.Softmax(dim=1))
    return clone.eval()


def reused_modules(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Names of leaf modules that one forward pass of ``x`` calls more than once (DeepLift cannot handle them)."""
    calls: dict[str, int] = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, name=name: calls.__setitem__(name, calls.get(name, 0) + 1))
             for name, m in model.named_modules() if name and not list(m.children())]
    try:
        with torch.no_grad():
            model(x[:1])
    finally:
        for h in hooks:
            h.remove()
    return [name for name, n in calls.items() if n > 1]


def unsupported(name: str, model: nn.Module, x: torch.Tensor, spec: InputSpec,
                nt_method: str = "Saliency") -> Message | str:
    """Why method ``name`` cannot explain this model (a ``Message``; "" when it can)."""
    if name == "LayerGradCam" and not (len(spec.shape) >= 2 and any(isinstance(m, nn.Conv2d) for m in model.modules())):
        return Message("explain.unsupported.gradcam")
    if name == "DeepLift" or (name == "NoiseTunnel" and nt_method == "DeepLift"):
        reused = reused_modules(model, x)
        if reused:
            return Message("explain.unsupported.deeplift", module=reused[0], n=len(reused))
    return ""


def last_conv(model: nn.Module) -> tuple[str, nn.Module]:
    """The last ``Conv2d`` (in registration order): Grad-CAM's layer."""
    convs = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ConfigError("explain.errors.no_conv")
    return convs[-1]


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(padded, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(out, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def make_baseline(kind: str, x: torch.Tensor, spec: InputSpec, *, n: int = 1, seed: int = 0) -> torch.Tensor:
    """``n`` baselines of ``x``'s shape (batch first) for ``kind`` in :data:`BASELINES`."""
    if kind == "black":
        base = torch.zeros_like(x) + spec.per_channel(spec.low if spec.black is None else spec.black, x)
    elif kind == "blurred":
        if not spec.is_image:
            raise ConfigError("explain.errors.blurred")
        sigmas = [4.0] if n == 1 else np.linspace(1.5, 6.0, n)
        return torch.cat([_gaussian_blur(x, float(s)) for s in sigmas])
    elif kind == "noise":
        gen = torch.Generator().manual_seed(seed)
        noise = torch.rand((n, *x.shape[1:]), generator=gen, dtype=x.dtype).to(x.device)
        low, high = spec.per_channel(spec.low, x), spec.per_channel(spec.high, x)
        return low + noise * (high - low)
    elif kind == "mean":
        if spec.mean is None:
            base = torch.zeros_like(x) + (spec.per_channel(spec.low, x) + spec.per_channel(spec.high, x)) / 2
        else:
            base = torch.as_tensor(np.asarray(spec.mean), dtype=x.dtype, device=x.device).reshape(x.shape)
    else:
        raise ConfigError("explain.errors.baseline", value=kind, choices=", ".join(BASELINES))
    return base.expand(n, *x.shape[1:]).clone()


def feature_mask(x: torch.Tensor, spec: InputSpec, opts: ExplainOptions) -> torch.Tensor:
    """Interpretable features for Lime/KernelShap: square patches or k-means superpixels (position +
    intensity) of images, the same id across colour channels; patches over the last two axes of other 2-D
    inputs (sequences, spectrograms); each input feature on its own for vectors."""
    if len(spec.shape) == 1:
        return torch.arange(x[0].numel(), device=x.device).reshape(x.shape)
    h, w = x.shape[-2:]
    if not spec.is_image or opts.segmentation == "patches":
        p = opts.patch
        rows = torch.arange(h, device=x.device) // p
        cols = torch.arange(w, device=x.device) // p
        ids = rows[:, None] * ((w + p - 1) // p) + cols[None, :]
    else:
        from sklearn.cluster import KMeans

        img = x[0].mean(0).detach().cpu().numpy()
        rr, cc = np.mgrid[0:h, 0:w]
        scale = max(h, w) / max(float(np.ptp(img)), 1e-6) * 0.35
        pts = np.stack([rr.ravel(), cc.ravel(), img.ravel() * scale], axis=1)
        k = min(opts.superpixels, h * w)
        labels = KMeans(n_clusters=k, n_init=1, random_state=opts.seed).fit_predict(pts)
        _, labels = np.unique(labels, return_inverse=True)
        ids = torch.as_tensor(labels.reshape(h, w), device=x.device)
    return ids.long().expand(x.shape).contiguous()


class _Counting:
    """A forward function that reports how many perturbed samples it has evaluated."""

    def __init__(self, model: nn.Module, expected: int, progress: Callable[[float], None] | None) -> None:
        self.model, self.expected, self.progress, self.seen = model, max(1, expected), progress, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        self.seen += len(x)
        if self.progress is not None:
            self.progress(min(1.0, self.seen / self.expected))
        return out


# ----------------------------------------------------------------------------------------- the methods
@method("Saliency", kind="gradient", signed=False)
def _saliency(model, x, target, baseline, spec, opts):
    return Saliency(model).attribute(x, target=target, abs=True), None


@method("InputXGradient", kind="gradient")
def _input_x_gradient(model, x, target, baseline, spec, opts):
    return InputXGradient(model).attribute(x, target=target), None


@method("IntegratedGradients", kind="gradient", completeness=True, uses=("baseline", "ig_steps"))
def _integrated_gradients(model, x, target, baseline, spec, opts):
    return IntegratedGradients(model).attribute(x, baselines=baseline, target=target, n_steps=opts.ig_steps,
                                                internal_batch_size=256, return_convergence_delta=True)


@method("DeepLift", kind="gradient", completeness=True, uses=("baseline",))
def _deeplift(model, x, target, baseline, spec, opts):
    if reason := unsupported("DeepLift", model, x, spec):
        raise ConfigError("explain.errors.deeplift", reason=reason)
    return DeepLift(model).attribute(x, baselines=baseline, target=target, return_convergence_delta=True)


@method("GradientShap", kind="gradient", uses=("baseline", "shap_samples", "shap_stdev", "seed"))
def _gradient_shap(model, x, target, baseline, spec, opts):
    bases = make_baseline(opts.baseline, x, spec, n=8, seed=opts.seed)
    attr = GradientShap(model).attribute(x, baselines=bases, n_samples=opts.shap_samples,
                                         stdevs=opts.shap_stdev * spec.value_range, target=target)
    return attr, None  # its completeness holds only in expectation over the random baselines


@method("GuidedBackprop", kind="gradient")
def _guided_backprop(model, x, target, baseline, spec, opts):
    return GuidedBackprop(model).attribute(x, target=target), None


@method("Occlusion", kind="perturbation", uses=("baseline", "occlusion_window", "occlusion_stride"))
def _occlusion(model, x, target, baseline, spec, opts):
    if spec.is_image:
        c = x.shape[1]
        win = min(opts.occlusion_window, x.shape[-1], x.shape[-2])
        window, strides = (c, win, win), (c, min(opts.occlusion_stride, win), min(opts.occlusion_stride, win))
    elif len(spec.shape) == 1:
        window, strides = (1,), (1,)
    else:  # e.g. (time, features) or (frequency, frames): a square window over the last two axes
        lead = tuple(1 for _ in spec.shape[:-2])
        win = tuple(min(opts.occlusion_window, d) for d in spec.shape[-2:])
        window, strides = lead + win, lead + tuple(min(opts.occlusion_stride, w) for w in win)
    return Occlusion(model).attribute(x, sliding_window_shapes=window, strides=strides, baselines=baseline,
                                      target=target, perturbations_per_eval=64), None


@method("LayerGradCam", kind="layer")
def _grad_cam(model, x, target, baseline, spec, opts):
    if len(spec.shape) < 2:
        raise ConfigError("explain.errors.gradcam")
    _, layer = last_conv(model)
    cam = LayerGradCam(model, layer).attribute(x, target=target)
    cam = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")
    if spec.is_image:  # spread over the colour channels
        return cam.expand_as(x) / x.shape[1], None
    return cam.reshape(x.shape), None  # e.g. a spectrogram the model unsqueezes itself


NT_BASES = ("Saliency", "InputXGradient", "IntegratedGradients", "DeepLift", "GuidedBackprop")


@method("NoiseTunnel", kind="wrapper",
        uses=("nt_method", "nt_type", "nt_samples", "nt_stdev", "baseline", "ig_steps", "seed"))
def _noise_tunnel(model, x, target, baseline, spec, opts):
    if opts.nt_method not in NT_BASES:
        raise ConfigError("explain.errors.nt_method", choices=", ".join(NT_BASES), value=opts.nt_method)
    if reason := unsupported("NoiseTunnel", model, x, spec, opts.nt_method):
        raise ConfigError("explain.errors.nt_unsupported", reason=reason)
    base = {"Saliency": Saliency, "InputXGradient": InputXGradient, "IntegratedGradients": IntegratedGradients,
            "DeepLift": DeepLift, "GuidedBackprop": GuidedBackprop}[opts.nt_method](model)
    kwargs: dict[str, Any] = {}
    if opts.nt_method in ("IntegratedGradients", "DeepLift"):
        kwargs["baselines"] = baseline
    if opts.nt_method == "IntegratedGradients":
        kwargs.update(n_steps=max(2, min(opts.ig_steps, 16)), internal_batch_size=256)
    attr = NoiseTunnel(base).attribute(x, nt_type=opts.nt_type, nt_samples=opts.nt_samples,
                                       nt_samples_batch_size=opts.nt_samples if opts.nt_method != "DeepLift" else 1,
                                       stdevs=opts.nt_stdev * spec.value_range, target=target, **kwargs)
    return attr, None


@method("Lime", kind="perturbation", slow=True,
        uses=("baseline", "perturb_samples", "segmentation", "patch", "superpixels", "lime_alpha", "seed"))
def _lime(model, x, target, baseline, spec, opts):
    counter = _Counting(model, opts.perturb_samples, opts.progress)
    lime = Lime(counter, interpretable_model=SkLearnLasso(alpha=opts.lime_alpha))
    attr = lime.attribute(x, baselines=baseline, target=target, feature_mask=feature_mask(x, spec, opts),
                          n_samples=opts.perturb_samples, perturbations_per_eval=50)
    return attr, None


@method("KernelShap", kind="perturbation", slow=True,
        uses=("baseline", "perturb_samples", "segmentation", "patch", "superpixels", "seed"))
def _kernel_shap(model, x, target, baseline, spec, opts):
    counter = _Counting(model, opts.perturb_samples, opts.progress)
    attr = KernelShap(counter).attribute(x, baselines=baseline, target=target,
                                         feature_mask=feature_mask(x, spec, opts),
                                         n_samples=opts.perturb_samples, perturbations_per_eval=50)
    return attr, None


# ----------------------------------------------------------------------------------------- the one entry point
def apply_sign(values: np.ndarray, sign: str) -> np.ndarray:
    """Keep the positive part, the negative part's magnitude, the absolute value, or everything."""
    if sign == "all":
        return values
    if sign == "positive":
        return np.clip(values, 0, None)
    if sign == "negative":
        return np.clip(-values, 0, None)
    if sign == "absolute":
        return np.abs(values)
    raise ConfigError("explain.errors.sign", value=sign, choices=", ".join(SIGNS))


def _batched(x: torch.Tensor, spec: InputSpec) -> tuple[torch.Tensor, bool]:
    x = torch.as_tensor(x, dtype=torch.float32)
    if tuple(x.shape) == tuple(spec.shape):
        return x.unsqueeze(0), True
    if x.ndim == len(spec.shape) + 1 and x.shape[0] == 1 and tuple(x.shape[1:]) == tuple(spec.shape):
        return x, False
    raise ConfigError("explain.errors.shape", shape=tuple(x.shape), expected=tuple(spec.shape))


def default_spec(x: torch.Tensor, n_classes: int) -> InputSpec:
    """A spec guessed from one input (value range [min, max], black = min)."""
    shape = tuple(x.shape[1:]) if x.ndim in (2, 4) else tuple(x.shape)
    lo, hi = float(x.min()), float(x.max())
    return InputSpec(shape=shape, class_names=[str(i) for i in range(n_classes)], low=lo,
                     high=hi if hi > lo else lo + 1)


def run_method(name: str, prepared: nn.Module, x: torch.Tensor, target: int, spec: InputSpec,
               opts: ExplainOptions, baseline: torch.Tensor | None = None) -> Attribution:
    """One method on an already prepared model copy and a batched input (used by :func:`attribute`)."""
    info = METHODS.get(name)
    if baseline is None:
        baseline = make_baseline(opts.baseline, x, spec, seed=opts.seed)
    start = time.perf_counter()
    np_state = np.random.get_state()  # Captum draws some samples (GradientShap) from numpy's global generator
    try:
        # cuDNN cannot backpropagate through recurrent layers in eval mode: use the native kernels for them.
        rnn = any(isinstance(m, nn.RNNBase) for m in prepared.modules())
        no_cudnn = torch.backends.cudnn.flags(enabled=False) if rnn else nullcontext()
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings(), one_thread(), no_cudnn:
            warnings.simplefilter("ignore")
            torch.manual_seed(opts.seed)
            np.random.seed(opts.seed)
            attr, delta = info.fn(prepared, x, target, baseline, spec, opts)
    finally:
        np.random.set_state(np_state)
    result = attr.detach().float().cpu().numpy()
    seconds = time.perf_counter() - start
    out = Attribution(name, result, seconds, target, signed=info.signed)
    if delta is not None:
        out.delta = float(torch.as_tensor(delta).float().abs().max())
        if info.completeness:
            with torch.no_grad():
                f = prepared(torch.cat([x, baseline[:1]]))[:, target]
            out.output_diff = float(f[0] - f[1])
    if opts.progress is not None:
        opts.progress(1.0)
    return out


def attribute(name: str, model: nn.Module, x: torch.Tensor, target: int, *, spec: InputSpec | None = None,
              **options: Any) -> Attribution:
    """Attribute ``model``'s output ``target`` for input ``x`` (one example, batched or not) with method ``name``.

    ``options`` are :class:`ExplainOptions` fields (baseline, ig_steps, occlusion_window, …). The returned
    ``map`` has the shape of ``x``.
    """
    if name not in METHODS:
        raise ConfigError("explain.errors.method", value=name, choices=", ".join(METHODS.names()))
    return attribute_many([name], model, x, target, spec=spec, **options)[name]


def attribute_many(names: list[str], model: nn.Module, x: torch.Tensor, target: int, *,
                   spec: InputSpec | None = None,
                   on_method: Callable[[str, int], None] | None = None, **options: Any) -> dict[str, Attribution]:
    """Several methods on one prepared copy of the model; ``on_method(name, index)`` is called before each."""
    opts = ExplainOptions.make(**options)
    x = torch.as_tensor(x, dtype=torch.float32)
    spec = spec or default_spec(x, _n_outputs(model, x))
    xb, unbatched = _batched(x, spec)
    prepared = prepare_model(model, opts.output)
    device = next(prepared.parameters()).device
    xb = xb.to(device)
    baseline = make_baseline(opts.baseline, xb, spec, seed=opts.seed)
    results = {}
    for i, name in enumerate(names):
        if on_method is not None:
            on_method(name, i)
        out = run_method(name, prepared, xb, int(target), spec, opts, baseline)
        if unbatched:
            out.map = out.map[0]
        results[name] = out
    return results


def _n_outputs(model: nn.Module, x: torch.Tensor) -> int:
    prepared = prepare_model(model)
    device = next(prepared.parameters()).device
    xb = x if x.ndim in (2, 4) else x.unsqueeze(0)
    with torch.no_grad():
        return int(prepared(xb[:1].to(device)).shape[-1])


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Class probabilities (softmax of the outputs) for a batch, on a private eval copy."""
    prepared = prepare_model(model)
    device = next(prepared.parameters()).device
    with one_thread():
        return torch.softmax(prepared(torch.as_tensor(x, dtype=torch.float32).to(device)), dim=1).cpu().numpy()
