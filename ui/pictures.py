"""Picture input widgets that several pages share (the CNN lab's "draw to test", the Explain page): a drawing
pad and an image upload, both returning something ``ImageDataset.preprocess`` accepts; and a few pictures per class
named by the visitor (the CNN lab's and the compression page's own pictures)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st
from PIL import Image

from core.data.images import IMAGE_EXTENSIONS, MAX_FILE_BYTES, decode_image
from core.errors import DataError

from .i18n import show, t


def drawing_pad(key: str, *, ink: bool, size: int = 280, tools: bool = False) -> np.ndarray | None:
    """A canvas: white ink on black for digits (``ink``), else shapes in colour (``tools``: tool, colours and
    pen width). Returns the RGBA drawing, or None while nothing is drawn."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # noqa: BLE001 - the component is optional; uploads still work
        st.info(t("common.pictures.no_canvas"), icon=":material/draw:")
        return None
    mode, fill, background = "freedraw", "#ffffff", "#000000"
    if ink:
        width = st.slider(t("common.pictures.pen"), 8, 40, 22, key=f"{key}_pen")
        stroke = "#ffffff"
    elif tools:
        cols = st.columns(4)
        mode = cols[0].selectbox(t("common.pictures.tool"), ["polygon", "rect", "circle", "freedraw"],
                                 key=f"{key}_tool", format_func=lambda m: t(f"common.pictures.tools.{m}"),
                                 help=t("common.pictures.tool_help"))
        fill = cols[1].color_picker(t("common.pictures.colour"), "#ffd400", key=f"{key}_fill")
        background = cols[2].color_picker(t("common.pictures.background"), "#1f3b73", key=f"{key}_bg")
        width = cols[3].slider(t("common.pictures.pen"), 2, 40, 16, key=f"{key}_pen_rgb")
        stroke = fill
    else:
        width, stroke, background = 10, "#000000", "#ffffff"
    result = st_canvas(fill_color=fill, stroke_width=width, stroke_color=stroke, background_color=background,
                       height=size, width=size, drawing_mode=mode, return_image_data=True, key=f"{key}_canvas")
    data = result.image_data if result is not None else None
    if data is None or np.asarray(data)[..., :3].std() < 1e-3:
        return None
    return np.asarray(data)


def picture_upload(key: str, label: str | None = None) -> Image.Image | None:
    """One uploaded picture, checked (type, size, decompression bombs); a bad file shows its message."""
    types = [e.lstrip(".") for e in IMAGE_EXTENSIONS]
    upload = st.file_uploader(label or t("common.pictures.upload"), type=types, key=key)
    if upload is None:
        return None
    try:
        if upload.size > MAX_FILE_BYTES:
            raise DataError("common.pictures.too_big", name=upload.name, mb=MAX_FILE_BYTES // 1024 // 1024)
        return decode_image(upload.name, upload.getvalue())
    except DataError as exc:
        st.error(show(exc), icon=":material/error:")
        return None


def class_uploads(prefix: str, *, classes: str, class_name: str, default_name: Callable[[int], str],
                  images: str) -> dict[str, list[tuple[str, bytes]]]:
    """How many classes (2 to 6, key ``{prefix}_n``), then a column per class with its name (key
    ``{prefix}_name{k}``) and its pictures (key ``{prefix}_files{k}``). Returns ``{class name: [(file name,
    bytes), ...]}`` for the classes with pictures (an empty name is the default one, ``default_name(k + 1)``); the
    texts come in the visitor's language."""
    types = [e.lstrip(".") for e in IMAGE_EXTENSIONS]
    n = st.number_input(classes, 2, 6, 2, key=f"{prefix}_n")
    files: dict[str, list[tuple[str, bytes]]] = {}
    for k, col in enumerate(st.columns(int(n))):
        default = default_name(k + 1)
        name = col.text_input(class_name, default, key=f"{prefix}_name{k}", max_chars=30)
        chosen = col.file_uploader(images, type=types, accept_multiple_files=True, key=f"{prefix}_files{k}")
        if chosen:
            files.setdefault(name.strip() or default, []).extend((c.name, c.getvalue()) for c in chosen)
    return files
