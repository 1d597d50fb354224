"""Model builders and presets, one module per family, all listed in the one ``MODELS`` registry."""

from core.registry import Registry

MODELS: Registry = Registry("model")
