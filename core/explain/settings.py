"""Every setting of the Explain page, declared once (``Config``): which model (the bundled CNN or one of the
visitor's, which cannot be in a link), which input and class, the methods and all their options, the trust check
shown. ``Config.options()`` are the :class:`~core.explain.methods.ExplainOptions` the page runs with — the
benchmark uses the same defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from core.config import LabConfig, setting
from core.errors import ConfigError
from core.i18n import Message

from .methods import BASELINES, METHODS, NT_BASES, NT_TYPES, OUTPUTS, SEGMENTATIONS, SIGNS

FAST_DEFAULT = ("Saliency", "InputXGradient", "IntegratedGradients", "DeepLift", "GradientShap", "GuidedBackprop",
                "Occlusion", "LayerGradCam", "NoiseTunnel")
POINT_DEFAULT = ("Saliency", "InputXGradient", "IntegratedGradients", "GradientShap", "Occlusion", "KernelShap")
SOURCES = ("bundled", "shelf")  # "shelf": the model picked from this visit's shelf (not part of a link)
INPUTS = ("test", "upload", "draw")
TARGETS = ("predicted", "true", "chosen")
CHECKS = ("completeness", "deletion", "sanity")
FEATURE_BASELINES = ("zeros", "mean")
NAMES = tuple(METHODS.names())


@dataclass(frozen=True)
class Config(LabConfig):
    LAB: ClassVar[str] = "explain"

    source: str = setting("bundled", key="model", choices=SOURCES)
    input_mode: str = setting("test", key="input", choices=INPUTS)
    index: int = setting(0, key="i", low=0, high=99_999)
    target: str = setting("predicted", key="target", choices=TARGETS)
    chosen: int = setting(0, key="class", low=0, high=9_999)
    methods: tuple[str, ...] = setting(FAST_DEFAULT, key="methods", choices=NAMES)
    overlays: bool = setting(True, key="overlays")
    baseline: str = setting("black", key="baseline", choices=BASELINES)
    sign: str = setting("all", key="sign", choices=SIGNS)
    output: str = setting("logit", key="output", choices=OUTPUTS)
    ig_steps: int = setting(50, key="ig", low=4, high=256)
    occlusion_window: int = setting(6, key="window", low=2, high=14)
    occlusion_stride: int = setting(3, key="stride", low=1, high=14)
    nt_method: str = setting("Saliency", key="nt", choices=NT_BASES)
    nt_type: str = setting("smoothgrad", key="nt_type", choices=NT_TYPES)
    nt_samples: int = setting(16, key="nt_samples", low=2, high=64)
    nt_stdev: float = setting(0.15, key="nt_noise", low=0.01, high=0.5, digits=2)
    perturb_samples: int = setting(200, key="samples", low=50, high=1000)
    segmentation: str = setting("patches", key="segments", choices=SEGMENTATIONS)
    patch: int = setting(4, key="patch", low=2, high=14)
    superpixels: int = setting(40, key="superpixels", low=8, high=120)
    trust: str = setting("completeness", key="check", choices=CHECKS)
    random_maps: bool = setting(False, key="random_maps")
    feature_baseline: str = setting("zeros", key="fbase", choices=FEATURE_BASELINES)
    point_methods: tuple[str, ...] = setting(POINT_DEFAULT, key="point", choices=NAMES)

    def check(self) -> None:
        if self.occlusion_stride > self.occlusion_window:
            raise ConfigError("explain.errors.stride", stride=self.occlusion_stride, window=self.occlusion_window)

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """An occlusion stride wider than its window becomes the window."""
        if values["occlusion_stride"] > values["occlusion_window"]:
            warnings.append(Message("explain.url.stride", stride=values["occlusion_stride"],
                                    window=values["occlusion_window"]))
            values["occlusion_stride"] = values["occlusion_window"]

    def options(self, kind: str = "image") -> dict[str, Any]:
        """The attribution options for a model whose inputs are of ``kind`` ("image", "grid", "features")."""
        opts: dict[str, Any] = {"baseline": self.baseline, "output": self.output, "ig_steps": self.ig_steps,
                                "nt_method": self.nt_method, "nt_type": self.nt_type, "nt_samples": self.nt_samples,
                                "nt_stdev": self.nt_stdev, "perturb_samples": self.perturb_samples}
        if kind != "features":
            opts.update(occlusion_window=self.occlusion_window, occlusion_stride=self.occlusion_stride,
                        patch=self.patch)
        if kind == "image":
            opts.update(segmentation=self.segmentation, superpixels=self.superpixels)
        return opts
