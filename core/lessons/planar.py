"""Lessons of the network builder."""

from __future__ import annotations

from core.jobs import JobSnapshot
from core.labs.planar import Config

from . import Challenge, Lesson, Step


def spiral_raw_95(config: Config, snap: JobSnapshot) -> bool:
    """The spiral, seen only through x₁ and x₂, classified at ≥ 95 % on the test points."""
    return (config.source == "generated" and config.dataset == "spiral" and set(config.features) == {"x1", "x2"}
            and snap.view is not None and snap.view.metrics["test_accuracy"] >= 0.95)


def xor_no_hidden(config: Config, snap: JobSnapshot) -> bool:
    """XOR with no hidden layer at all (only a clever feature can make that work), ≥ 95 % on the test points."""
    return (config.source == "generated" and config.dataset == "xor" and config.hidden == () and snap.view is not None
            and snap.view.metrics["test_accuracy"] >= 0.95)


def generated(**settings) -> dict:
    """Settings on one of the generated 2-D data sets (not the visitor's table)."""
    return {"source": "generated", **settings}


LESSONS = (
    Lesson("planar", "first", steps=(
        Step("play", generated(dataset="circle", features=("x1", "x2"), hidden=(4, 2), activation="Tanh")),
        Step("neurons"),
        Step("features", generated(dataset="xor", features=("x1", "x2"), hidden=())),
        Step("depth", generated(dataset="spiral", hidden=(8, 8, 8), activation="GELU", batch_size=32, show_test=True)),
        Step("overfit", generated(dataset="moons", noise=35, train_pct=20, hidden=(8, 8, 8), activation="ReLU",
                                  show_test=True)),
    ), challenges=(
        Challenge("spiral", spiral_raw_95, generated(dataset="spiral", features=("x1", "x2"))),
        Challenge("xor", xor_no_hidden, generated(dataset="xor", hidden=())),
    )),
)
