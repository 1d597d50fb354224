"""Where the Explain page gets a model: the bundled digits CNN, or a private copy of the model the visitor
trained in this session on the CNN lab or the network builder (taken between two training steps)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
import torch
from torch import nn

from core.data.images import ImageDataset
from core.explain import InputSpec, attribute
from core.explain.bundled import bundled_dataset, image_spec, load_bundled_digits

from .i18n import show
from .jobs import current_job

BUNDLED = "Bundled digits CNN (pretrained)"
CNN_LAB = "Your CNN (CNN lab)"
BUILDER = "Your network (network builder)"
CNN_JOB, NB_JOB = "cnn_job", "nb_job"
AUDIO_JOBS = {"audio_cnn_job": "Your log-mel CNN (audio lab)", "audio_rnn_job": "Your MFCC recurrent net (audio lab)"}


@dataclass
class ExplainSource:
    """A model ready to explain: ``model`` is a private CPU copy in eval mode, never the training one."""

    label: str
    kind: str  # "image", "features" or "grid" (a 2-D array such as a spectrogram, drawn as a heatmap)
    model: nn.Module
    spec: InputSpec
    x_test: torch.Tensor
    y_test: torch.Tensor
    token: str  # changes whenever the model changes (for caching results)
    description: str
    dataset: ImageDataset | None = None  # images: preprocess() and raw() for drawings, uploads, display
    x_train: torch.Tensor | None = None  # features: the training table
    binary: bool = False  # network builder: one output neuron z, logits [0, z]
    extra: dict[str, Any] = field(default_factory=dict)

    def display(self, x: torch.Tensor) -> np.ndarray:
        """An input as (H, W[, C]) values in 0..1 for drawing."""
        if self.dataset is None:
            lo, hi = np.asarray(self.spec.low, dtype=np.float32), np.asarray(self.spec.high, dtype=np.float32)
            if lo.ndim == 1 and x.ndim == 2:  # one range per row
                lo, hi = lo[:, None], hi[:, None]
            return np.clip((x.numpy() - lo) / np.maximum(hi - lo, 1e-6), 0, 1)
        return self.dataset.raw(x.reshape(1, *self.spec.shape))[0].permute(1, 2, 0).squeeze(-1).numpy()


@st.cache_resource(show_spinner="Loading the bundled digits CNN…")
def _bundled() -> tuple[nn.Module, dict, ImageDataset]:
    model, meta = load_bundled_digits()
    ds = bundled_dataset(meta)
    # Warm up once per process: DeepLift's first call pulls in lazy imports (about a second).
    attribute("DeepLift", model, ds.x_test[0], int(ds.y_test[0]), spec=image_spec(ds))
    return model, meta, ds


def bundled_source() -> ExplainSource:
    model, meta, ds = _bundled()
    acc = meta.get("test_accuracy")
    desc = (f"**{meta['name']}**, {meta['params']:,} parameters, test accuracy **{acc:.1%}** on "
            f"{len(ds.y_test)} held-out digits. Trained by `{meta['command']}`.")
    return ExplainSource(BUNDLED, "image", model, image_spec(ds), ds.x_test, ds.y_test, "bundled", desc, dataset=ds)


def _job_copy(key: str, grab) -> tuple[Any, str] | None:
    """``grab(trainer)`` run between two steps of this session's job under ``key``, memoised per job step."""
    job = current_job(key)
    if job is None or getattr(job, "trainer", None) is None:
        return None
    token = f"{key}:{job.id}:{job.step}"
    memo = st.session_state.get(f"ex_memo_{key}")
    if memo is not None and memo[0] == token:
        return memo[1], token
    try:
        value = job.inspect(grab, timeout=10.0)
    except (RuntimeError, TimeoutError):
        return None
    st.session_state[f"ex_memo_{key}"] = (token, value)
    return value, token


def _private(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).cpu().eval()


def cnn_lab_source() -> ExplainSource | None:
    """The CNN lab's model with the dataset it was trained on (``trainer.dataset``), if trained this session."""
    got = _job_copy(CNN_JOB, lambda t: (_private(t.model), getattr(t, "dataset", None)))
    if got is None:
        return None
    (model, ds), token = got
    if not isinstance(ds, ImageDataset):
        return None
    job = current_job(CNN_JOB)
    desc = (f"The CNN you trained in the CNN lab on **{ds.name}** ({ds.size}×{ds.size}), as of step "
            f"**{job.step:,}** (state: {job.state.value}).")
    return ExplainSource(CNN_LAB, "image", model, image_spec(ds), ds.x_test, ds.y_test, token, desc, dataset=ds)


def builder_source() -> ExplainSource | None:
    """The network builder's MLP with its feature tables, if a network was trained this session."""
    from core.data.planar import feature_label

    def grab(t):
        return _private(t.model), t.config, t.x.detach().cpu(), t.val[0].detach().cpu(), t.val[1].detach().cpu()

    got = _job_copy(NB_JOB, grab)
    if got is None:
        return None
    (model, config, x_train, x_test, y_test), token = got
    names = [feature_label(f) for f in config.features]
    binary = config.problem == "classification"
    classes = ["orange (0)", "blue (1)"] if binary else ["output"]
    lo, hi = x_train.min(0).values.numpy(), x_train.max(0).values.numpy()
    spec = InputSpec(shape=(x_train.shape[1],), class_names=classes, low=tuple(lo.tolist()),
                     high=tuple(np.maximum(hi, lo + 1e-3).tolist()), black=tuple([0.0] * x_train.shape[1]),
                     mean=x_train.mean(0).numpy(), feature_names=names)
    job = current_job(NB_JOB)
    desc = (f"The network you built: **{config.label()}**, inputs {', '.join(names)}, as of step "
            f"**{job.step:,}** (state: {job.state.value}).")
    return ExplainSource(BUILDER, "features", model, spec, x_test, y_test.reshape(-1), token, desc,
                         x_train=x_train, binary=binary, extra={"problem": config.problem})


def audio_source(key: str) -> ExplainSource | None:
    """An audio-lab digit recogniser with its held-out test clips (log-mel or MFCC frames)."""
    from core.labs.audio import explainable

    got = _job_copy(key, explainable)
    if got is None:
        return None
    src, token = got
    return ExplainSource(AUDIO_JOBS[key], "grid", src.model, src.spec, src.x_test, src.y_test, token,
                         show(src.description), extra=dict(src.extra))


def available_sources() -> dict[str, ExplainSource]:
    """Every model this visitor can explain right now, bundled first."""
    sources = {BUNDLED: bundled_source()}
    makers = [cnn_lab_source, builder_source] + [lambda key=key: audio_source(key) for key in AUDIO_JOBS]
    for make in makers:
        src = make()
        if src is not None:
            sources[src.label] = src
    return sources
