"""Datasets, one module per family, all listed in the one ``DATASETS`` registry."""

from core.registry import Registry

DATASETS: Registry = Registry("dataset")
