"""Take a model home and bring it back: ONNX, TorchScript, and a ``state_dict`` with a JSON model card.

- **ONNX** through ``torch.onnx.export(..., dynamo=False)``: torch 2.13's default exporter is the ``torch.export``
  one, which needs the ``onnxscript`` package (not installed, and nothing can be downloaded at run time); the
  TorchScript-based exporter works offline for every lab's network (MLP, CNN, RNN/LSTM/GRU, embeddings). The file
  is checked with ``onnx.checker`` and run with ``onnxruntime`` to compare its outputs with PyTorch's.
- **TorchScript** through ``torch.jit.trace`` (runs without Python class definitions; the outputs are compared too).
- **state_dict + card**: the weights as a plain ``torch.save`` of tensors, and a JSON card naming the lab, the
  architecture (``core.compress.architectures``), the input, the settings and the metrics. :func:`import_bundle`
  reads them back with ``torch.load(..., weights_only=True)`` and checks everything against the card, so a wrong or
  malicious file is refused with a :class:`~core.errors.DataError` instead of running code.
"""

from __future__ import annotations

import io
import json
import math
import pickletools
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

import core.labs
from core.errors import ConfigError, DataError
from core.explain import InputSpec
from core.explain.source import Explainable
from core.i18n import Message

from .architectures import ARCHITECTURES, architecture_labs, architecture_of
from .measure import outputs, parameter_count, quiet
from .prune import finalize, is_pruned

FORMAT = "deep-learning-playground/model"
VERSION = 1
OPSET = 17
KINDS = ("image", "features", "grid", "sequence")
MAX_WEIGHTS_BYTES = 64 * 1024 * 1024
MAX_CARD_BYTES = 1024 * 1024
MAX_INPUT_VALUES = 10_000_000


def _plain(model: nn.Module) -> nn.Module:
    return (finalize(model) if is_pruned(model) else model).cpu().eval()


def example_input(source: Explainable, n: int = 2) -> torch.Tensor:
    """``n`` test inputs of ``source`` (zeros of the input shape when it has no test set)."""
    if len(source.x_test):
        return source.x_test[:n]
    return torch.zeros((n, *source.spec.shape))


# ---------------------------------------------------------------------------------------------- ONNX / TorchScript
def export_onnx(model: nn.Module, example: torch.Tensor, opset: int = OPSET) -> bytes:
    """The model as ONNX bytes (batch size left free), checked with ``onnx.checker``."""
    import onnx

    buf = io.BytesIO()
    with quiet():
        torch.onnx.export(_plain(model), (example,), buf, dynamo=False, opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    return data


def run_onnx(data: bytes, x: torch.Tensor) -> np.ndarray:
    """Outputs of an ONNX model for ``x`` under onnxruntime (CPU)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


def export_torchscript(model: nn.Module, example: torch.Tensor) -> bytes:
    """The model traced to TorchScript, as the bytes of ``torch.jit.save``."""
    buf = io.BytesIO()
    with quiet(), torch.no_grad():
        torch.jit.save(torch.jit.trace(_plain(model), (example,), check_trace=False), buf)
    return buf.getvalue()


def run_torchscript(data: bytes, x: torch.Tensor) -> np.ndarray:
    """Outputs of our own TorchScript export (never load TorchScript from strangers: it is code)."""
    with quiet(), torch.no_grad():
        return torch.jit.load(io.BytesIO(data), map_location="cpu")(x).numpy()


@dataclass
class ExportCheck:
    """One exported format: its size and how far its outputs are from PyTorch's on the same inputs."""

    format: str  # "onnx", "torchscript" or "state_dict"
    bytes: int
    max_abs_diff: float
    n_inputs: int


def check_exports(model: nn.Module, x: torch.Tensor, card: dict[str, Any] | None = None) -> list[ExportCheck]:
    """Export to ONNX and TorchScript (and, given a ``card``, state_dict round trip through
    :func:`import_bundle`), run each on ``x`` and compare with the PyTorch model's outputs."""
    reference = outputs(_plain(model), x).numpy()

    def check(name: str, data: bytes, out: np.ndarray) -> ExportCheck:
        return ExportCheck(name, len(data), float(np.abs(out - reference).max()), len(x))

    onnx_bytes = export_onnx(model, x[:1])
    script = export_torchscript(model, x[:1])
    checks = [check("onnx", onnx_bytes, run_onnx(onnx_bytes, x)),
              check("torchscript", script, run_torchscript(script, x))]
    if card is not None:
        weights = state_bytes(model)
        checks.append(check("state_dict", weights, outputs(import_bundle(weights, card).model, x).numpy()))
    return checks


# ---------------------------------------------------------------------------------------------- state_dict + card
def state_bytes(model: nn.Module) -> bytes:
    """``torch.save`` of the plain state_dict (pruning masks folded in)."""
    buf = io.BytesIO()
    torch.save(_plain(model).state_dict(), buf)
    return buf.getvalue()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return str(value) if isinstance(value, Message) else value
    return str(value)


def _spec_card(spec: InputSpec, dtype: torch.dtype) -> dict[str, Any]:
    return {"shape": list(spec.shape), "dtype": "int64" if dtype == torch.int64 else "float32",
            "class_names": list(spec.class_names), "low": spec.low, "high": spec.high, "black": spec.black,
            "feature_names": spec.feature_names}


def model_card(source: Explainable) -> dict[str, Any]:
    """The JSON card for ``source``: the lab's own card (settings, metrics …) plus what re-import needs."""
    model = _plain(source.model)
    arch = architecture_of(model)
    lab_model = source.card.get("model") if isinstance(source.card.get("model"), Mapping) else None
    if arch is not None:
        described = {"kind": arch.name, **arch.describe(model, tuple(source.spec.shape))}
    elif lab_model is not None and lab_model.get("kind") in ARCHITECTURES:
        described = dict(lab_model)
    else:
        raise DataError("compress.errors.not_exportable", model=type(model).__name__)
    card = {k: v for k, v in source.card.items() if k not in ("model", "format", "version")}
    if lab_model is not None and dict(lab_model) != described:
        card["lab_model"] = dict(lab_model)  # the lab's own words for it (its page may read them back)
    card.update({
        "format": FORMAT, "version": VERSION, "lab": source.lab, "kind": source.kind, "binary": source.binary,
        "model": described, "input": _spec_card(source.spec, source.x_test.dtype),
        "parameters": parameter_count(model),
        "tensors": {name: list(t.shape) for name, t in model.state_dict().items()},
        "description": str(source.description),
    })
    return _jsonable(card)


def export_bundle(source: Explainable) -> tuple[bytes, str]:
    """``(weights, card)``: ``torch.save`` bytes of the state_dict and the card as pretty JSON."""
    return state_bytes(source.model), json.dumps(model_card(source), indent=2, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------- re-import
def known_labs() -> set[str]:
    """Labs a card may name: the lab modules and the labs architectures are registered for."""
    return set(core.labs.LABS) | architecture_labs()


def read_card(card: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """The card as a dict, or a ``DataError`` saying what is wrong with it."""
    if isinstance(card, (bytes, bytearray)):
        if len(card) > MAX_CARD_BYTES:
            raise DataError("compress.errors.card_too_big", size=len(card), limit=MAX_CARD_BYTES)
        try:
            card = bytes(card).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError("compress.errors.card_json", detail="not UTF-8 text") from exc
    if isinstance(card, str):
        if len(card) > MAX_CARD_BYTES:
            raise DataError("compress.errors.card_too_big", size=len(card), limit=MAX_CARD_BYTES)
        try:
            card = json.loads(card)
        except ValueError as exc:
            raise DataError("compress.errors.card_json", detail=str(exc)[:120]) from exc
    if not isinstance(card, Mapping):
        raise DataError("compress.errors.card_json", detail="not a JSON object")
    if card.get("format") != FORMAT:
        raise DataError("compress.errors.card_format", format=FORMAT)
    if not isinstance(card.get("version"), int) or not 1 <= card["version"] <= VERSION:
        raise DataError("compress.errors.card_version", version=card.get("version"), supported=VERSION)
    lab = card.get("lab")
    known = known_labs()
    if lab not in known:
        raise DataError("compress.errors.unknown_lab", lab=str(lab)[:40], known=", ".join(sorted(known)))
    model = card.get("model")
    if not isinstance(model, Mapping) or model.get("kind") not in ARCHITECTURES:
        kind = model.get("kind") if isinstance(model, Mapping) else None
        raise DataError("compress.errors.unknown_model", kind=str(kind)[:40],
                        known=", ".join(ARCHITECTURES.names()))
    if card.get("kind") not in KINDS:
        raise DataError("compress.errors.bad_input", detail=f"kind {str(card.get('kind'))[:20]!r}")
    _input_spec(card)  # raises on a bad input section
    return dict(card)


def _input_spec(card: Mapping[str, Any]) -> InputSpec:
    data = card.get("input")
    if not isinstance(data, Mapping):
        raise DataError("compress.errors.bad_input", detail="no input section")
    shape = data.get("shape")
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
            or math.prod(shape) > MAX_INPUT_VALUES):
        raise DataError("compress.errors.bad_input", detail=f"shape {str(shape)[:40]}")
    names = data.get("class_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) > 10_000:
        raise DataError("compress.errors.bad_input", detail="class_names")
    if data.get("dtype", "float32") not in ("float32", "int64"):
        raise DataError("compress.errors.bad_input", detail=f"dtype {str(data.get('dtype'))[:20]}")

    def bound(value: Any, default: float) -> float | tuple[float, ...]:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
            return tuple(float(v) for v in value)
        return default

    features = data.get("feature_names")
    features = [str(f) for f in features] if isinstance(features, list) else None
    black = data.get("black")
    return InputSpec(tuple(shape), list(names), bound(data.get("low"), 0.0), bound(data.get("high"), 1.0),
                     None if black is None else bound(black, 0.0), feature_names=features)


_CODE_OPS = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX"}


def _imports_code(data: bytes) -> bool:
    """Whether a file torch refused is a pickle that imports or calls Python objects (read with ``pickletools``,
    which runs nothing), as opposed to bytes that are no pickle at all."""
    stream = data
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [n for n in archive.namelist() if n.endswith("data.pkl")]
                stream = archive.open(names[0]).read(MAX_CARD_BYTES * 10) if names else b""
        for op, _, _ in pickletools.genops(io.BytesIO(stream)):
            if op.name in _CODE_OPS:
                return True
    except Exception:  # not a pickle (or damaged): nothing that could run
        return False
    return False


def read_weights(data: bytes) -> dict[str, torch.Tensor]:
    """A state_dict from ``torch.save`` bytes, loaded with ``weights_only=True`` (no code can run)."""
    if len(data) > MAX_WEIGHTS_BYTES:
        raise DataError("compress.errors.weights_too_big", size=len(data), limit=MAX_WEIGHTS_BYTES)
    try:
        with quiet():
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged file: all mean "not usable"
        if "Unsupported global" in str(exc) or _imports_code(data):
            raise DataError("compress.errors.unsafe_weights") from exc
        raise DataError("compress.errors.bad_weights") from exc
    if not isinstance(state, Mapping) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise DataError("compress.errors.not_state_dict")
    return dict(state)


def build_model(card: Mapping[str, Any]) -> nn.Module:
    """A fresh network of the card's architecture."""
    arch = dict(card["model"])
    entry = ARCHITECTURES.get(arch.pop("kind"))
    try:
        return entry.build(arch)
    except (ConfigError, TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise DataError("compress.errors.bad_model_card", kind=entry.name, detail=str(exc)[:160]) from exc


def import_bundle(weights: bytes, card: bytes | str | Mapping[str, Any], *,
                  test: tuple[torch.Tensor, torch.Tensor] | None = None) -> Explainable:
    """An ``Explainable`` back from :func:`export_bundle`'s files; ``test`` gives it a test set to score on."""
    card = read_card(card)
    state = read_weights(weights)
    model = build_model(card)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise DataError("compress.errors.state_keys", missing=", ".join(missing[:5]) or "–",
                        unexpected=", ".join(unexpected[:5]) or "–")
    for name, tensor in expected.items():
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise DataError("compress.errors.shape_mismatch", name=name, expected=list(tensor.shape),
                            got=list(state[name].shape))
        if state[name].is_floating_point() and not torch.isfinite(state[name]).all():
            raise DataError("compress.errors.not_finite", name=name)
    model.load_state_dict(state)
    model.eval()
    spec = _input_spec(card)
    dtype = torch.int64 if card["input"].get("dtype") == "int64" else torch.float32
    probe = torch.zeros((1, *spec.shape), dtype=dtype)
    try:
        out = outputs(model, probe)
    except (RuntimeError, IndexError, ValueError) as exc:
        raise DataError("compress.errors.bad_input", detail=str(exc)[:120]) from exc
    if spec.class_names and out.shape[1] != len(spec.class_names):
        raise DataError("compress.errors.class_count", outputs=int(out.shape[1]), classes=len(spec.class_names))
    x_test, y_test = test if test is not None else (probe[:0], torch.zeros(0, dtype=torch.long))
    name = str(card.get("description") or card["model"]["kind"])[:200]
    return Explainable(card["lab"], card["kind"], model, spec, x_test, y_test,
                       Message("compress.describe.imported", name=name), binary=bool(card.get("binary", False)),
                       card=card, extra={"imported": True})
