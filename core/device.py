"""Which device trains the models: CUDA when present, else Apple MPS, else the CPU."""

from __future__ import annotations

import os

import torch

from core.i18n import Message

DEVICE_ENV = "PLAYGROUND_DEVICE"


def best_device() -> torch.device:
    """CUDA when available, else MPS, else CPU; ``PLAYGROUND_DEVICE=cpu|cuda|mps`` overrides."""
    forced = os.environ.get(DEVICE_ENV, "").strip().lower()
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_label(device: torch.device | None = None) -> Message:
    """A short human label: the GPU's name, or "CPU, N threads" (the machine's hardware threads)."""
    device = device or best_device()
    if device.type == "cuda":
        return Message("common.device.cuda", name=torch.cuda.get_device_name(device))
    if device.type == "mps":
        return Message("common.device.mps")
    return Message("common.device.cpu", n=os.cpu_count() or 1)
