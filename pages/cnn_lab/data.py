"""CNN lab, step 1: the pictures (digits, generated shapes or the visitor's own), their split, normalisation and
samples, and augmentation with a preview."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.images import MAX_CLASSES, MAX_FILES, MIN_PER_CLASS, ImageDataset, augmentation_preview
from core.data.images import load_uploaded_dataset as _load_upload
from core.errors import PlaygroundError
from core.labs import vision
from core.viz.images import image_grid
from ui.display import chart
from ui.i18n import lang, show, t
from ui.pictures import class_uploads
from ui.settings import Form

from .model import apply_architecture

UPLOAD_MODES = ("zip", "files")


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_builtin(source: str, digit_size: int, per_class: int, noise: float) -> ImageDataset:
    config = vision.Config(source=source, digit_size=digit_size, shapes_per_class=per_class, shapes_noise=noise)
    return vision.load_data(config)


@st.cache_data(show_spinner=False, max_entries=4)
def cached_upload(zip_bytes: bytes | None, files: dict | None, size: int, color: str) -> ImageDataset:
    return _load_upload(zip_bytes=zip_bytes, files=files, size=size, color=color, seed=vision.DATA_SEED)


def names(ds: ImageDataset) -> list[str]:
    """The class names in the visitor's language."""
    return [show(c) for c in vision.class_names(ds)]


def _pictures_changed(f: Form) -> None:
    """Other pictures: an unedited preset is sized for them again (as the preset would be), and digits never flip."""
    before: vision.Config | None = st.session_state.get("cnn__config")
    now = f.config()
    if now.source == "digits":
        st.session_state[f.key("aug_flip")] = False
    if before is None or not before.edited:
        apply_architecture(f, now.with_preset())


# ---------------------------------------------------------------------------------------------- sources
def _upload(f: Form) -> ImageDataset | None:
    st.caption(t("vision.page.upload_not_in_link"), help=t("vision.page.upload_not_in_link_help"))
    mode = st.radio(t("vision.page.upload_how"), UPLOAD_MODES, horizontal=True, key="cnn_up_mode",
                    format_func=lambda m: t(f"vision.page.mode_{m}"), label_visibility="collapsed")
    cols = st.columns(2)
    f.select("upload_size", where=cols[0], options=vision.UPLOAD_SIZES, on_change=_pictures_changed, args=(f,))
    f.select("upload_color", where=cols[1])
    zip_bytes, files = None, None
    if mode == "zip":
        upload = st.file_uploader(t("vision.page.upload_zip"), type=["zip"], key="cnn_up_zip")
        if upload is None:
            st.caption(t("vision.page.upload_rules", per_class=MIN_PER_CLASS, files=MAX_FILES, classes=MAX_CLASSES))
            return None
        zip_bytes = upload.getvalue()
    else:
        files = class_uploads("cnn_up", classes=t("vision.page.upload_classes"), class_name=t("vision.page.class_name"),
                              default_name=lambda n: t("vision.page.class_n", n=n), images=t("vision.page.images"))
        if not files:
            st.caption(t("vision.page.upload_files_rules", per_class=MIN_PER_CLASS))
            return None
    try:
        with st.spinner(t("vision.page.checking_upload")):
            return cached_upload(zip_bytes, files, f.value("upload_size"), f.value("upload_color"))
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return None


def _samples(ds: ImageDataset, n: int = 16) -> None:
    per_class = max(1, n // ds.num_classes)
    n = per_class * ds.num_classes if ds.num_classes <= 10 else n
    idx = np.concatenate([np.flatnonzero(ds.y_train.numpy() == c)[:per_class] for c in range(ds.num_classes)])[:n]
    labels = names(ds)
    chart(image_grid(ds.raw(ds.x_train[idx]).numpy(), [labels[int(ds.y_train[i])] for i in idx],
                     cols=min(10, len(idx)), tile_px=64), key="cnn_samples")


def augmentation_controls(f: Form, ds: ImageDataset) -> None:
    """Shift / rotation / noise / mirror and, when any is on, a grid of augmented samples."""
    with st.expander(t("vision.page.augmentation"), icon=":material/auto_fix_high:"):
        cols = st.columns(4)
        f.slider("aug_shift", where=cols[0], step=5)
        f.slider("aug_rotation", where=cols[1], step=5)
        f.slider("aug_noise", where=cols[2], step=0.05)
        f.toggle("aug_flip", where=cols[3], disabled=not ds.flip_ok,
                 help=f.help("aug_flip") if ds.flip_ok else t("vision.page.no_flip"))
        augment = f.config().augmentation(ds.flip_ok)
        if augment.active:
            images, titles = augmentation_preview(ds, augment, n_images=4, n_versions=7, classes=names(ds),
                                                  lang=lang())
            chart(image_grid(images, titles, cols=8, tile_px=64), key="cnn_aug_preview")
            st.caption(t("vision.page.augmentation_on"))
        else:
            st.caption(t("vision.page.augmentation_off"))


def data_section(f: Form) -> ImageDataset | None:
    """Source, its settings, split sizes, normalisation, samples and augmentation; ``None`` until an upload is in."""
    f.segmented("source", on_change=_pictures_changed, args=(f,))
    source = f.value("source")
    if source == "shapes":
        cols = st.columns(2)
        f.select_slider("shapes_per_class", where=cols[0], on_change=_pictures_changed, args=(f,))
        f.select_slider("shapes_noise", where=cols[1])
        with st.spinner(t("vision.page.drawing_shapes")):
            ds = cached_builtin("shapes", 16, f.value("shapes_per_class"), f.value("shapes_noise"))
    elif source == "upload":
        ds = _upload(f)
    else:
        f.segmented("digit_size", options=vision.DIGIT_SIZES, on_change=_pictures_changed, args=(f,))
        ds = cached_builtin("digits", f.value("digit_size"), 500, 0.06)
    if ds is None:
        return None
    sizes = ds.split_sizes()
    cols = st.columns(4)
    for col, (split, n) in zip(cols, sizes.items(), strict=False):
        col.metric(t(f"vision.page.split_{split}"), f"{n:,}", help=t("vision.page.split_share",
                                                                    share=n / sum(sizes.values())))
    cols[3].metric(t("vision.page.classes"), ds.num_classes)
    stats = ", ".join(f"{m:.3f} ± {s:.3f}" for m, s in zip(ds.mean, ds.std, strict=True))
    st.caption(t("vision.page.normalised", description=ds.description, c=ds.channels, size=ds.size, stats=stats))
    _samples(ds)
    augmentation_controls(f, ds)
    return ds
