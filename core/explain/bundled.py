"""The bundled pretrained digits CNN (``assets/digits_cnn.pt`` + ``assets/digits_cnn.json``), trained by
``scripts/train_bundled_digits.py``, and the :class:`InputSpec` of any image dataset.

The weights are a plain ``state_dict`` loaded with ``torch.load(..., weights_only=True)``; the architecture
is rebuilt from the JSON config, so nothing is unpickled.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from core.data.images import ImageDataset, load_digits_dataset
from core.errors import DataError
from core.i18n import Message
from core.models.cnn import CNNConfig, ConvBlock, ConvNet, build_cnn

from .methods import InputSpec
from .source import Explainable

ASSETS = Path(__file__).resolve().parents[2] / "assets"
WEIGHTS = ASSETS / "digits_cnn.pt"
CONFIG = ASSETS / "digits_cnn.json"


def config_to_json(config: CNNConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_json(data: dict[str, Any]) -> CNNConfig:
    """The inverse of :func:`config_to_json` (blocks become ``ConvBlock`` tuples again)."""
    data = dict(data)
    data["blocks"] = tuple(ConvBlock(**b) for b in data["blocks"])
    data["fc"] = tuple(data["fc"])
    return CNNConfig(**data)


def bundled_meta(path: Path = CONFIG) -> dict[str, Any]:
    """The JSON next to the weights: ``config``, ``dataset`` (name, size, seed), ``test_accuracy``, ``command``."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError("explain.errors.bundled_meta", name=path.name) from exc


def load_bundled_digits(weights: Path = WEIGHTS, config: Path = CONFIG) -> tuple[ConvNet, dict[str, Any]]:
    """The pretrained digits CNN in eval mode (state_dict loaded with ``weights_only=True``) and its metadata."""
    meta = bundled_meta(config)
    model = build_cnn(config_from_json(meta["config"]))
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise DataError("explain.errors.bundled_weights", name=weights.name) from exc
    model.load_state_dict(state)
    return model.eval(), meta


def bundled_dataset(meta: dict[str, Any] | None = None) -> ImageDataset:
    """The digits split the bundled model was trained on (its test split was never seen in training)."""
    meta = meta or bundled_meta()
    data = meta["dataset"]
    return load_digits_dataset(size=data["size"], seed=data["seed"])


def image_spec(ds: ImageDataset) -> InputSpec:
    """What the network's (normalised) input means for an image dataset: per-channel value range, black and
    the training mean image."""
    mean = torch.tensor(ds.mean).view(-1, 1, 1)
    std = torch.tensor(ds.std).view(-1, 1, 1)
    low = tuple(float(v) for v in (-mean / std).flatten())
    high = tuple(float(v) for v in ((1 - mean) / std).flatten())
    return InputSpec(shape=ds.input_shape, class_names=list(ds.classes), low=low, high=high,
                     mean=ds.x_train.mean(dim=0).numpy())


def bundled_explainable() -> Explainable:
    """The bundled CNN with its held-out digits, ready for the Explain page."""
    model, meta = load_bundled_digits()
    ds = bundled_dataset(meta)
    description = Message("explain.bundled.describe", params=meta["params"],
                          accuracy=meta.get("test_accuracy", 0.0), n=len(ds.y_test), command=meta["command"])
    card = {"lab": "vision", "model": {"kind": "cnn", "name": meta["name"], "parameters": meta["params"]},
            "metrics": {"test_accuracy": meta.get("test_accuracy", 0.0)}}
    return Explainable("vision", "image", model, image_spec(ds), ds.x_test, ds.y_test, description, dataset=ds,
                       card=card)
