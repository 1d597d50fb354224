"""Teach and reuse: knowledge distillation (a small student with and without the chosen model as its teacher,
trained live on the same batches) and transfer / few-shot learning (frozen, fine-tuned, from scratch and a
rotation-pretext backbone for every k, on built-in classes or the visitor's own pictures)."""

from __future__ import annotations

import functools
import math

import numpy as np
import streamlit as st

from core.data.images import MIN_PER_CLASS, ImageDataset, load_uploaded_dataset
from core.errors import PlaygroundError
from core.jobs import JobSnapshot
from core.labs import compress
from core.viz import compress as viz
from ui.display import chart
from ui.i18n import lang, show, t
from ui.jobs import job_controls, live_panel
from ui.pictures import class_uploads
from ui.settings import Form

from .common import JOBS, kb, new_job, settled, training_settings
from .source import Chosen

SHOTS = tuple(range(1, 21))
OWN_KEY = "cmp_own"
UPLOAD_SIZE = {"digits": 16, "shapes": 32}  # the built-in set's picture size (its backbone reads these)
UPLOAD_COLOR = {"digits": "gray", "shapes": "rgb"}


def _pct(value: float) -> str:
    return t("compress.page.percent", value=value * 100) if math.isfinite(value) else "–"


# ---------------------------------------------------------------------------------------------- distillation
def _distill_view(snap: JobSnapshot | None) -> None:
    view = snap.view if snap is not None else None
    if not isinstance(view, compress.DistillView):
        st.caption(t("compress.page.distill_waiting") if snap is not None else t("compress.page.distill_idle"))
        return
    cols = st.columns(3)
    cols[0].metric(t("compress.page.teacher"), _pct(view.teacher_accuracy),
                   help=t("compress.page.net_size", size=kb(view.teacher_bytes), params=view.teacher_params))
    gain = (view.accuracy_kd - view.accuracy_plain) * 100
    cols[1].metric(t("compress.students.kd"), _pct(view.accuracy_kd),
                   delta=t("compress.page.points_vs_plain", value=gain) if math.isfinite(gain) else None,
                   help=t("compress.page.net_size", size=kb(view.student_bytes), params=view.student_params))
    cols[2].metric(t("compress.students.plain"), _pct(view.accuracy_plain),
                   help=t("compress.page.net_size", size=kb(view.student_bytes), params=view.student_params))
    st.caption(t("compress.page.distill_sizes", teacher=kb(view.teacher_bytes), student=kb(view.student_bytes),
                 ratio=view.teacher_bytes / max(view.student_bytes, 1), tp=view.teacher_params,
                 sp=view.student_params))
    left, right = st.columns([3, 2])
    chart(viz.distillation_figure(snap.evals, view.teacher_accuracy, lang()), key="cmp_distill_curves", where=left)
    chart(viz.soft_targets_figure(view, lang()), key="cmp_soft", where=right)


def distillation(f: Form, chosen: Chosen) -> None:
    st.caption(t("compress.page.distill_intro", teacher=chosen.name))
    cols = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    f.segmented("student", where=cols[0], format_func=lambda s: t(f"compress.student_kinds.{s}"))
    f.slider("width", where=cols[1])
    f.slider("temperature", where=cols[2], step=0.5)
    f.slider("alpha", where=cols[3], step=0.05)
    if not chosen.trainable:
        st.info(t("compress.page.needs_train_data"), icon=":material/dataset:")
        settled(f)
        return
    training_settings(f)
    config = settled(f)
    if config is None:
        return
    job_controls(JOBS["distill"], functools.partial(new_job, config, chosen.model), lab="compress",
                 play_label=t("compress.page.distill_play"))
    live_panel(JOBS["distill"], _distill_view, every=1.0)


# ---------------------------------------------------------------------------------------------- few-shot
@st.cache_data(show_spinner=False, max_entries=4)
def _own_pictures(zip_bytes: bytes | None, files: dict | None, size: int, color: str, seed: int) -> ImageDataset:
    return load_uploaded_dataset(zip_bytes=zip_bytes, files=files, size=size, color=color, seed=seed)


def own_pictures(config: compress.Config) -> ImageDataset | None:
    """The visitor's pictures as the new classes (a zip of class folders, or a few files per class)."""
    st.caption(t("compress.page.own_not_in_link"))
    files = class_uploads("cmp_own", classes=t("compress.page.own_classes"),
                          class_name=t("compress.page.own_class_name"),
                          default_name=lambda n: t("compress.page.own_class", n=n),
                          images=t("compress.page.own_images"))
    zipped = st.file_uploader(t("compress.page.own_zip"), type=["zip"], key="cmp_own_zip")
    if zipped is None and not files:
        st.caption(t("compress.page.own_rules", per_class=MIN_PER_CLASS, k=max(config.shots)))
        return None
    try:
        with st.spinner(t("compress.page.own_checking")):
            return _own_pictures(zipped.getvalue() if zipped is not None else None, None if zipped else files,
                                 UPLOAD_SIZE[config.fewshot_data], UPLOAD_COLOR[config.fewshot_data], config.seed)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return None


def _fewshot_view(snap: JobSnapshot | None) -> None:
    view = snap.view if snap is not None else None
    if not isinstance(view, compress.FewShotView):
        st.caption(t("compress.page.fewshot_waiting") if snap is not None else t("compress.page.fewshot_idle"))
        return
    chart(viz.fewshot_figure(view, lang()), key="cmp_fewshot")
    shots = [int(k) for k in view.shots]
    done = [k for j, k in enumerate(shots) if not np.isnan(view.mean[:, j]).all()]
    cols = st.columns([2, 1, 1], vertical_alignment="bottom")
    cols[1].metric(t("compress.page.base_accuracy"), _pct(view.base_accuracy),
                   help=t("compress.page.base_accuracy_help", classes=", ".join(view.base_classes)))
    if "rotation" in view.methods:
        cols[2].metric(t("compress.page.pretext_accuracy"), _pct(view.pretext_accuracy),
                       help=t("compress.page.pretext_accuracy_help"))
    if not done:
        cols[0].caption(t("compress.page.fewshot_no_runs"))
        return
    with cols[0]:
        # no key: when a new k is done the slider moves on to it
        k = st.select_slider(t("compress.page.look_at_k"), options=done, value=done[-1]) if len(done) > 1 else done[0]
    j = shots.index(k)
    row = st.columns(len(view.methods))
    for col, (i, method) in zip(row, enumerate(view.methods), strict=True):
        mean, std = view.mean[i, j], view.std[i, j]
        col.metric(t(f"compress.fewshot_methods.{method}"), _pct(mean),
                   help=t("compress.page.repeats_help", std=std * 100) if math.isfinite(std) else None)
    if all(m in view.methods for m in ("finetune", "scratch")) and math.isfinite(view.at("scratch", k)):
        gain = (max(view.at("finetune", k), view.at("frozen", k)) - view.at("scratch", k)) * 100
        st.caption(t("compress.page.transfer_gain" if gain >= 0 else "compress.page.transfer_behind", k=k,
                     gain=abs(gain)))


def fewshot(f: Form, chosen: Chosen) -> None:
    st.caption(t("compress.page.fewshot_intro"))
    cols = st.columns(2, vertical_alignment="bottom")
    f.select("fewshot_data", where=cols[0], format_func=lambda d: t(f"compress.fewshot_sets.{d}"))
    f.select("backbone", where=cols[1], format_func=lambda b: t(f"compress.backbones.{b}"))
    st.pills(f.label("shots"), SHOTS, selection_mode="multi", key=f.key("shots"), help=f.help("shots"))
    cols = st.columns([1, 1, 1, 1.4], vertical_alignment="bottom")
    f.slider("repeats", where=cols[0])
    f.number("pretrain_steps", where=cols[1], step=50)
    f.number("run_steps", where=cols[2], step=10)
    f.toggle("rotation", where=cols[3])
    if f.value("backbone") == "shelf":
        st.caption(t("compress.page.backbone_from", model=chosen.name))
    config = settled(f)
    if config is None:
        return
    own = None
    if st.toggle(t("compress.page.own_toggle"), key=OWN_KEY, help=t("compress.page.own_help")):
        own = own_pictures(config)
        if own is None:
            st.caption(t("compress.page.own_until"))
        else:
            st.success(t("compress.page.own_ready", n=own.num_classes, classes=", ".join(own.classes),
                         train=len(own.x_train)), icon=":material/photo_library:")
    source = chosen.model if config.backbone == "shelf" else None
    job_controls(JOBS["fewshot"], functools.partial(new_job, config, source, own), lab="compress",
                 play_label=t("compress.page.fewshot_play"))
    live_panel(JOBS["fewshot"], _fewshot_view, every=1.0)
