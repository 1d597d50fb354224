"""Lessons of the generative lab."""

from __future__ import annotations

from core.jobs import JobSnapshot
from core.labs.generative import PRESETS, AutoencoderView, Config, Gan2dView
from core.labs.generative.config import DIGITS

from . import Challenge, Lesson, Step

AUC_BAR = 0.9


def all_ring_modes(config: Config, snap: JobSnapshot) -> bool:
    """The 2-D GAN on the ring of 8 Gaussians with generated samples near every one of the 8 modes."""
    view = snap.view
    return (config.mode == "gan2d" and config.distribution == "ring" and isinstance(view, Gan2dView)
            and len(view.modes) == 8 and bool(view.covered.all()))


def hard_anomaly(config: Config, snap: JobSnapshot) -> bool:
    """Anomaly detection with one held-out digit other than 0 (the easy one), at an AUC of at least 0.9."""
    view = snap.view
    held_out = set(DIGITS) - set(config.normal_classes)
    return (config.mode == "anomaly" and len(held_out) == 1 and held_out != {"0"}
            and isinstance(view, AutoencoderView) and view.anomaly is not None and view.anomaly.auc >= AUC_BAR)


def preset(name: str, **changes: object) -> dict:
    """A preset as "set it up" settings: all of it but the visitor's drawn points, seed and speed."""
    config = PRESETS[name]
    kept = ("points", "seed", "step_delay_ms")
    return {f.name: getattr(config, f.name) for f in Config.declared() if f.name not in kept} | changes


RING = preset("ring_fixed")
COLLAPSE = preset("ring_collapse")
NINE_IS_ODD = preset("anomaly", normal_classes=tuple(d for d in DIGITS if d != "9"))

LESSONS = (
    Lesson("generative", "gan", steps=(
        Step("play", RING),
        Step("halves", RING | {"step_delay_ms": 100}),
        Step("collapse", COLLAPSE),
        Step("fix", RING),
        Step("manifold", preset("moons")),
        Step("autoencoder", preset("autoencoder")),
    ), challenges=(
        Challenge("ring8", all_ring_modes, COLLAPSE),
        Challenge("anomaly9", hard_anomaly, NINE_IS_ODD),
    )),
)
