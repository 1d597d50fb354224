"""The visitor's own 2-D distribution: drawn on a canvas laid over the plane (ink pixels → plane coordinates) or
uploaded as a two-column CSV. The points travel in the config (and so in the link) as hundredths."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from core.data.generative import EXTENT, MAX_POINTS, decode_points, encode_points, parse_points_csv
from core.errors import DataError
from ui.i18n import show, t
from ui.settings import Form

CANVAS_PX = 300
TICK_COLOUR, AXIS_COLOUR, POINT_COLOUR = (225, 225, 225), (170, 170, 170), (27, 158, 119)


def to_plane(rows: np.ndarray, cols: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pixel rows/columns of a ``height × width`` picture of the plane → ``(n, 2)`` points on [-E, E]²."""
    x = (np.asarray(cols, dtype=np.float64) + 0.5) / width * 2 * EXTENT - EXTENT
    y = EXTENT - (np.asarray(rows, dtype=np.float64) + 0.5) / height * 2 * EXTENT
    return np.stack([x, y], axis=1)


def to_pixels(xy: np.ndarray, size: int) -> np.ndarray:
    """Plane points → ``(n, 2)`` pixel (column, row) positions on a ``size × size`` picture."""
    xy = np.asarray(xy, dtype=np.float64)
    col = (xy[:, 0] + EXTENT) / (2 * EXTENT) * size
    row = (EXTENT - xy[:, 1]) / (2 * EXTENT) * size
    return np.stack([col, row], axis=1)


def ink_points(image: np.ndarray, seed: int = 0) -> np.ndarray | None:
    """The plane points under the ink of an RGBA drawing (at most ``MAX_POINTS``, a fixed random subset), or
    None when nothing is drawn."""
    alpha = np.asarray(image)[..., 3]
    rows, cols = np.nonzero(alpha > 40)
    if len(rows) == 0:
        return None
    xy = to_plane(rows, cols, *alpha.shape)
    if len(xy) > MAX_POINTS:
        xy = xy[np.sort(np.random.default_rng(seed).choice(len(xy), MAX_POINTS, replace=False))]
    return xy


def plane_picture(points: tuple[int, ...], size: int = CANVAS_PX) -> Image.Image:
    """The canvas' background: the plane's unit grid and axes, and the current points as green dots."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for v in range(-int(EXTENT), int(EXTENT) + 1):
        (c, r), = to_pixels(np.array([[v, v]]), size)
        colour = AXIS_COLOUR if v == 0 else TICK_COLOUR
        draw.line([(c, 0), (c, size)], fill=colour)
        draw.line([(0, r), (size, r)], fill=colour)
    if points:
        for c, r in to_pixels(decode_points(points), size):
            draw.ellipse([c - 2, r - 2, c + 2, r + 2], fill=POINT_COLOUR)
    return image


def _canvas() -> Any | None:
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # noqa: BLE001 - the component is optional; the CSV upload still works
        return None
    return st_canvas


PENDING = "gen__pending_points"


def _use(points: tuple[int, ...]) -> None:
    """Take a new drawn set on the next run of the page (the distribution widget is already drawn in this one)."""
    st.session_state[PENDING] = points
    st.rerun()


def take_pending(f: Form) -> None:
    """Before the widgets are drawn: a set drawn or uploaded in the previous run becomes the distribution."""
    points = st.session_state.pop(PENDING, None)
    if points is not None:
        st.session_state[f.key("points")] = list(points)
        st.session_state[f.key("distribution")] = "drawn"


def draw_or_upload(f: Form) -> None:
    """A canvas over the plane and a CSV upload; either replaces the drawn set (shown on the canvas)."""
    state = st.session_state
    points = tuple(f.value("points"))
    st.caption(t("generative.page.draw_hint", n=len(points) // 2, most=MAX_POINTS))
    st_canvas = _canvas()
    if st_canvas is None:
        st.info(t("common.pictures.no_canvas"), icon=":material/draw:")
    else:
        version = state.setdefault("gen_canvas_version", 0)
        result = st_canvas(stroke_width=state.get("gen_pen", 12), stroke_color="#1b9e77", background_color="",
                           background_image=plane_picture(points), height=CANVAS_PX, width=CANVAS_PX,
                           drawing_mode="freedraw", return_image_data=True, key=f"gen_canvas_{version}")
        data = result.image_data if result is not None else None
        xy = ink_points(data) if data is not None else None
        if xy is not None:
            digest = hashlib.sha1(np.ascontiguousarray(np.asarray(data)[..., 3])).hexdigest()
            if state.get("gen_canvas_seen") != digest:
                state["gen_canvas_seen"] = digest
                try:
                    new = encode_points(xy)
                except DataError as exc:
                    st.error(show(exc), icon=":material/error:")
                else:
                    if new != points:
                        _use(new)
    cols = st.columns([2, 1], vertical_alignment="bottom")
    cols[0].slider(t("common.pictures.pen"), 4, 30, 12, key="gen_pen")
    cols[1].button(t("generative.page.clear_points"), icon=":material/delete:", key="gen_clear",
                   on_click=_clear, args=(f,), disabled=not points, width="stretch")
    upload = st.file_uploader(t("generative.page.upload_csv"), type=["csv", "txt"], key="gen_csv",
                              help=t("generative.page.upload_csv_help"))
    if upload is not None:
        digest = hashlib.sha1(upload.getvalue()).hexdigest()
        if state.get("gen_csv_seen") != digest:
            try:
                new = parse_points_csv(upload.getvalue())
            except DataError as exc:
                st.error(show(exc), icon=":material/error:")
            else:
                state["gen_csv_seen"] = digest
                _use(new)
    st.caption(t("generative.page.points_in_link"))


def _clear(f: Form) -> None:
    state = st.session_state
    state[f.key("points")] = []
    state["gen_canvas_version"] = state.get("gen_canvas_version", 0) + 1  # a fresh, empty canvas
    state.pop("gen_canvas_seen", None)
    if state.get(f.key("distribution")) == "drawn":
        state[f.key("distribution")] = "ring"
