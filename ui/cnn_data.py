"""CNN lab, step 1: choose the pictures (digits, generated shapes or your own), see the split, the
normalisation and some samples, and set up augmentation with a preview."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.images import (
    MAX_CLASSES,
    MAX_FILES,
    MIN_PER_CLASS,
    Augmentation,
    ImageDataset,
    augmentation_preview,
    load_digits_dataset,
    load_shapes_dataset,
    load_uploaded_dataset,
)
from core.errors import PlaygroundError
from core.viz.images import image_grid

SOURCES = {"digits": ":material/pin: Digits", "shapes": ":material/category: Shapes",
           "upload": ":material/upload: Your images"}


@st.cache_resource(show_spinner="Loading the digits…", max_entries=6)
def cached_digits(size: int, seed: int = 0) -> ImageDataset:
    return load_digits_dataset(size, seed=seed)


@st.cache_resource(show_spinner="Drawing the shapes…", max_entries=4)
def cached_shapes(per_class: int, noise: float, seed: int = 0) -> ImageDataset:
    return load_shapes_dataset(per_class=per_class, noise=noise, seed=seed)


@st.cache_data(show_spinner="Checking and resizing your images…", max_entries=4)
def cached_upload(zip_bytes: bytes | None, files: dict | None, size: int, color: str) -> ImageDataset:
    return load_uploaded_dataset(zip_bytes=zip_bytes, files=files, size=size, color=color)


def _upload_source() -> ImageDataset | None:
    mode = st.radio("How", ["A zip of class folders", "Files per class"], horizontal=True, key="cnn_up_mode",
                    label_visibility="collapsed")
    cols = st.columns(2)
    size = cols[0].selectbox("Resize to (pixels)", [16, 28, 32, 48, 64], index=2, key="cnn_up_size")
    color = cols[1].selectbox("Colour", ["auto", "rgb", "gray"], key="cnn_up_color",
                              format_func={"auto": "as uploaded", "rgb": "RGB", "gray": "greyscale"}.get)
    zip_bytes, files = None, None
    if mode == "A zip of class folders":
        upload = st.file_uploader("Zip with one folder per class (e.g. cats/\\*.jpg, dogs/\\*.jpg)", type=["zip"],
                                  key="cnn_up_zip")
        if upload is None:
            st.caption(f"At least two classes and {MIN_PER_CLASS} images per class; up to {MAX_FILES:,} images, "
                       f"{MAX_CLASSES} classes. Pictures are centre-cropped to squares.")
            return None
        zip_bytes = upload.getvalue()
    else:
        n = st.number_input("Classes", 2, 6, 2, key="cnn_up_n")
        files = {}
        for k, col in enumerate(st.columns(int(n))):
            name = col.text_input("Class name", f"class {k + 1}", key=f"cnn_up_name{k}", max_chars=30)
            chosen = col.file_uploader("Images", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                       accept_multiple_files=True, key=f"cnn_up_files{k}")
            if chosen:
                files.setdefault(name.strip() or f"class {k + 1}", []).extend((f.name, f.getvalue()) for f in chosen)
        if not files:
            st.caption(f"Name each class and drop at least {MIN_PER_CLASS} pictures into each.")
            return None
    try:
        return cached_upload(zip_bytes, files, size, color)
    except PlaygroundError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def _samples(ds: ImageDataset, n: int = 16) -> None:
    per_class = max(1, n // ds.num_classes)
    n = per_class * ds.num_classes if ds.num_classes <= 10 else n
    idx = np.concatenate([np.flatnonzero(ds.y_train.numpy() == c)[:per_class] for c in range(ds.num_classes)])[:n]
    images = ds.raw(ds.x_train[idx]).numpy()
    st.plotly_chart(image_grid(images, [ds.classes[int(ds.y_train[i])] for i in idx], cols=min(10, len(idx)),
                               tile_px=64), width="stretch", key="cnn_samples", config={"displayModeBar": False})


def augmentation_controls(ds: ImageDataset) -> Augmentation:
    """Sliders for shift / rotation / flip / noise and, when any is on, a grid of augmented samples."""
    with st.expander("Augmentation (random changes to each training batch)", icon=":material/auto_fix_high:"):
        cols = st.columns(4)
        shift = cols[0].slider("Shift (% of width)", 0, 25, 0, 5, key="cnn_aug_shift")
        rotation = cols[1].slider("Rotation (°)", 0, 45, 0, 5, key="cnn_aug_rot")
        noise = cols[2].slider("Noise (σ)", 0.0, 0.5, 0.0, 0.05, key="cnn_aug_noise",
                               help="Gaussian noise added in normalised units (1 = one standard deviation).")
        flip = cols[3].toggle("Mirror left–right", key="cnn_aug_flip", disabled=not ds.flip_ok,
                              help=None if ds.flip_ok else "A mirrored digit is not the same digit (think of 2 and 5).")
        augment = Augmentation(shift / 100, float(rotation), bool(flip and ds.flip_ok), float(noise))
        if augment.active:
            images, titles = augmentation_preview(ds, augment, n_images=4, n_versions=7)
            st.plotly_chart(image_grid(images, titles, cols=8, tile_px=64), width="stretch", key="cnn_aug_preview",
                            config={"displayModeBar": False})
            st.caption("Each row: a training picture, then what the network might see instead in one batch. "
                       "Validation and test pictures are never changed.")
        else:
            st.caption("Off: the network sees the training pictures exactly as they are. Augmentation helps most "
                       "when there are few pictures.")
    return augment


def data_section() -> tuple[ImageDataset | None, Augmentation]:
    """Dataset choice, split sizes, normalisation, sample grid and augmentation."""
    source = st.segmented_control("Pictures", list(SOURCES), format_func=SOURCES.get, default="digits",
                                  key="cnn_source", required=True)
    ds: ImageDataset | None
    if source == "shapes":
        cols = st.columns(2)
        per_class = cols[0].select_slider("Pictures per shape", [100, 250, 500, 1000], 500, key="cnn_shapes_n")
        noise = cols[1].select_slider("Background noise (σ)", [0.0, 0.03, 0.06, 0.1, 0.15], 0.06,
                                      key="cnn_shapes_noise")
        ds = cached_shapes(per_class, noise)
    elif source == "upload":
        ds = _upload_source()
    else:
        size = st.segmented_control("Digit size (pixels)", [8, 16, 28], default=16, key="cnn_digit_size",
                                    required=True, format_func=lambda s: f"{s}×{s}" + (" (original)" if s == 8 else ""))
        ds = cached_digits(int(size))
    if ds is None:
        return None, Augmentation()
    sizes = ds.split_sizes()
    cols = st.columns(4)
    for col, (label, n) in zip(cols, sizes.items(), strict=False):
        col.metric(label.capitalize(), f"{n:,}", help=f"{n / sum(sizes.values()):.0%} of the pictures")
    cols[3].metric("Classes", ds.num_classes)
    stats = ", ".join(f"{m:.3f} ± {s:.3f}" for m, s in zip(ds.mean, ds.std, strict=True))
    st.caption(f"{ds.description}. Input {ds.channels}×{ds.size}×{ds.size}. Normalised per channel with the "
               f"training split's mean ± std ({stats}) so every input has mean 0 and spread 1.")
    _samples(ds)
    return ds, augmentation_controls(ds)
