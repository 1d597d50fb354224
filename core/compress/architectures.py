"""The architectures a model card may name: how to describe a live network as JSON, and how to build a fresh one
of the same shape back from that JSON (then ``load_state_dict`` fills in the weights; nothing is unpickled).

A lab whose models should be exported and re-imported registers each network class once, next to its builder::

    from core.compress.architectures import register_architecture

    register_architecture("mlp", MLP, labs=("planar",),   # or "core.models.mlp:MLP"
                          describe=lambda model, shape: {**asdict(model.spec), "hidden": list(model.spec.hidden)},
                          build=lambda arch: MLP(MLPSpec(**{**arch, "hidden": tuple(arch["hidden"])})))

- ``describe(model, input_shape) -> dict``: JSON-safe constructor arguments. The card stores
  ``{"kind": name, **describe(model, shape)}`` under ``"model"``;
- ``build(arch) -> nn.Module``: an untrained network from that dict (``"kind"`` removed). Raise ``ConfigError``,
  ``TypeError``, ``ValueError`` or ``KeyError`` for arguments that cannot work: the importer reports them as a
  ``DataError`` that names the card;
- ``labs``: the labs whose cards may use it (a card naming any other lab is refused).

The playground's own networks are registered below: the network builder's MLP, the CNN lab's ConvNet, the
sequence lab's RecurrentNet (bare, or wrapped in its ``GridInput`` as the lab hands it to the shelf), the audio lab's
log-mel CNN and MFCC LSTM/GRU, the attention lab's transformer readout, and this page's distillation student.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from core.registry import Registry


@dataclass(frozen=True)
class Architecture:
    """One registered network class (see the module docstring)."""

    name: str
    module: str  # "package.module:ClassName" of the class it describes (no import until a card is built)
    describe: Callable[[nn.Module, tuple[int, ...]], dict[str, Any]]
    build: Callable[[Mapping[str, Any]], nn.Module]
    labs: tuple[str, ...] = ()


ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def register_architecture(name: str, module: type[nn.Module] | str, *, describe: Callable, build: Callable,
                          labs: tuple[str, ...] = ()) -> Architecture:
    """Add ``name`` to :data:`ARCHITECTURES` (each name once); ``module`` is the class or its
    ``"package.module:ClassName"``."""
    arch = Architecture(name, module if isinstance(module, str) else class_path(module), describe, build, tuple(labs))
    ARCHITECTURES.register(name, family="architecture")(arch)
    return arch


def architecture_of(model: nn.Module) -> Architecture | None:
    """The registered architecture of ``model``'s exact class, if any."""
    path = class_path(type(model))
    return next((e.value for e in ARCHITECTURES if e.value.module == path), None)


def architecture_labs() -> set[str]:
    return {lab for e in ARCHITECTURES for lab in e.value.labs}


# ---------------------------------------------------------------------------------------------- the labs' networks
# Builders import their lab's module when a card is built, so this registry loads without them.
def _mlp_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    return {**dataclasses.asdict(model.spec), "hidden": list(model.spec.hidden)}


def _mlp_build(arch: Mapping[str, Any]) -> nn.Module:
    from core.models.mlp import MLP, MLPSpec

    return MLP(MLPSpec(**{**arch, "hidden": tuple(int(h) for h in arch["hidden"])}))


def _cnn_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    return {**dataclasses.asdict(model.config), "fc": list(model.config.fc)}


def _cnn_build(arch: Mapping[str, Any]) -> nn.Module:
    from core.models.cnn import CNNConfig, ConvBlock, build_cnn

    data = dict(arch)
    data["blocks"] = tuple(ConvBlock(**b) for b in data["blocks"])
    data["fc"] = tuple(int(f) for f in data["fc"])
    return build_cnn(CNNConfig(**data))


def _recurrent_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    emb = model.embedding
    return {"cell": model.cell, "input_size": emb.num_embeddings if emb is not None else model.rnn.input_size,
            "output_size": model.head.out_features, "hidden_size": model.hidden_size, "num_layers": model.num_layers,
            "dropout": float(model.drop.p), "bidirectional": model.bidirectional,
            "vocab_size": emb.num_embeddings if emb is not None else None,
            "embed_dim": emb.embedding_dim if emb is not None else 32, "per_step": model.per_step}


def _recurrent_build(arch: Mapping[str, Any]) -> nn.Module:
    from core.models.recurrent import RecurrentNet

    args = dict(arch)
    return RecurrentNet(args.pop("cell"), args.pop("input_size"), args.pop("output_size"), **args)


def _grid_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    return {"recurrent": _recurrent_describe(model.model, shape)}


def _grid_build(arch: Mapping[str, Any]) -> nn.Module:
    from core.labs.sequences import GridInput

    return GridInput(_recurrent_build(arch["recurrent"]))


def _mel_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    channels = [m.out_channels for m in model.features if isinstance(m, nn.Conv2d)]
    return {"n_mels": int(model.norm.mean.shape[0]), "n_frames": int(shape[-1]), "channels": channels,
            "dropout": float(model.dropout.p), "n_classes": model.head.out_features}


def _mel_build(arch: Mapping[str, Any]) -> nn.Module:
    from core.models.audio import build_mel_cnn

    return build_mel_cnn(arch["n_mels"], arch["n_frames"], tuple(arch["channels"]), arch["dropout"], arch["n_classes"])


def _mfcc_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    return {"cell": model.cell, "n_features": int(model.norm.mean.shape[0]), "hidden": model.rnn.hidden_size,
            "layers": model.rnn.num_layers, "bidirectional": model.rnn.bidirectional,
            "dropout": float(model.dropout.p), "n_classes": model.head.out_features, "readout": model.readout}


def _mfcc_build(arch: Mapping[str, Any]) -> nn.Module:
    from core.models.audio import build_mfcc_gru, build_mfcc_lstm

    args = dict(arch)
    builder = {"LSTM": build_mfcc_lstm, "GRU": build_mfcc_gru}[args.pop("cell")]
    return builder(**args)


def _student_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    return {"n_inputs": int(model.mean.shape[0]), "hidden": list(model.hidden), "n_classes": model.net[-1].out_features}


def _student_build(arch: Mapping[str, Any]) -> nn.Module:
    from .distill import StudentMLP

    return StudentMLP(int(arch["n_inputs"]), tuple(int(h) for h in arch["hidden"]), int(arch["n_classes"]))


def _readout_describe(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    from core.labs.attention.inspections import describe_readout

    return describe_readout(model, shape)


def _readout_build(arch: Mapping[str, Any]) -> nn.Module:
    from core.labs.attention.inspections import build_readout

    return build_readout(arch)


for _name, _path, _describe, _build, _labs in (
        ("mlp", "core.models.mlp:MLP", _mlp_describe, _mlp_build, ("planar",)),
        ("cnn", "core.models.cnn:ConvNet", _cnn_describe, _cnn_build, ("vision", "explain", "compress")),
        ("recurrent", "core.models.recurrent:RecurrentNet", _recurrent_describe, _recurrent_build, ("sequences",)),
        ("sequence_grid", "core.labs.sequences:GridInput", _grid_describe, _grid_build, ("sequences",)),
        ("mel_cnn", "core.models.audio:MelCNN", _mel_describe, _mel_build, ("audio", "compress")),
        ("mfcc_rnn", "core.models.audio:MfccRNN", _mfcc_describe, _mfcc_build, ("audio",)),
        ("student_mlp", "core.compress.distill:StudentMLP", _student_describe, _student_build, ("compress",)),
        ("attention_readout", "core.labs.attention.inspections:OneHotReadout", _readout_describe, _readout_build,
         ("attention",))):
    register_architecture(_name, _path, describe=_describe, build=_build, labs=_labs)
