"""CNN lab, looking inside the trained network: live filters, feature maps of any picture, test-set
evaluation, and a canvas (or an upload) to test it on your own drawing. Everything about the model is
asked of the job (``job.inspect``), never of a live model held by the page."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from PIL import Image

from core.data.images import MAX_FILE_BYTES, ImageDataset, decode_image
from core.errors import DataError
from core.inspect.evaluation import Evaluation, evaluate_classifier
from core.inspect.feature_maps import FeatureFlow, feature_maps
from core.inspect.filters import FilterSet, conv_filters
from core.jobs import TrainingJob, build_seeded
from core.models.cnn import CNNConfig, build_cnn
from core.viz.images import channel_grid, class_probabilities, confusion_matrix, feature_flow, filter_grid, image_grid

DRAWING_KEY = "cnn_drawing"


@dataclass
class Trained:
    """What the current job was built from (kept by the page when it made the job)."""

    dataset: ImageDataset
    config: CNNConfig


@st.cache_resource(max_entries=8, show_spinner=False)
def initial_filters(config: CNNConfig, seed: int = 0) -> list[FilterSet]:
    """The filters of a freshly initialised network (what training starts from)."""
    return conv_filters(build_seeded(lambda: build_cnn(config), seed))


def filters_panel(filters: list[FilterSet], step: int | None) -> None:
    """Kernel grids of the first conv layer and of one chosen deeper layer."""
    if not filters:
        st.info("This network has no conv layers with a kernel larger than 1×1.")
        return
    labels = [f.label for f in filters]
    when = "random initialisation (before training)" if step is None else f"step {step:,}"
    st.markdown(f"**Filters** · {when}")
    with st.container(key="cnn_filters"):
        st.plotly_chart(filter_grid(filters[0]), width="stretch", key="cnn_filters_first",
                        config={"displayModeBar": False})
    if len(filters) > 1:
        choice = st.selectbox("Deeper layer", labels[1:], key="cnn_filters_layer")
        chosen = filters[labels.index(choice)]
        shown = min(8, chosen.out_channels)
        title = f"{chosen.label}" + (f" (first {shown})" if shown < chosen.out_channels else "")
        st.plotly_chart(filter_grid(chosen, max_filters=shown, title=title), width="stretch", key="cnn_filters_deep",
                        config={"displayModeBar": False})


def ask(job: TrainingJob, fn):
    """``job.inspect(fn)``, or ``None`` with a note while the model does not exist yet (queued job)."""
    try:
        return job.inspect(fn)
    except (RuntimeError, TimeoutError):
        st.info("The model is not built yet (the run is waiting for a free training slot).",
                icon=":material/hourglass_top:")
        return None


# ---------------------------------------------------------------------------------------- feature maps
def _probe_image(trained: Trained) -> tuple[torch.Tensor, np.ndarray, str] | None:
    ds = trained.dataset
    options = ["test picture"] + (["your drawing"] if st.session_state.get(DRAWING_KEY) is not None else [])
    cols = st.columns([1, 1, 2])
    source = cols[0].radio("Picture", options, key="cnn_fm_source", horizontal=True)
    if source == "your drawing":
        x, shown, label = st.session_state[DRAWING_KEY]
        if tuple(x.shape[1:]) != ds.input_shape:
            st.warning("The drawing was made for another dataset; draw again in the *Draw to test* tab.")
            return None
        return x, shown, label
    cls = cols[1].selectbox("Class", ds.classes, key="cnn_fm_class")
    members = np.flatnonzero(ds.y_test.numpy() == ds.classes.index(cls))
    if len(members) == 0:
        st.info("No test picture of this class.")
        return None
    k = cols[2].slider("Which one", 1, len(members), 1, key="cnn_fm_index") if len(members) > 1 else 1
    i = int(members[k - 1])
    x = ds.x_test[i:i + 1]
    return x, ds.raw(x)[0].permute(1, 2, 0).numpy(), f"test picture #{i} (true class {cls})"


def feature_maps_view(job: TrainingJob, trained: Trained) -> None:
    """Pick a picture; see every layer's maps from input to probabilities, then one layer in full."""
    probe = _probe_image(trained)
    if probe is None:
        return
    x, shown, label = probe
    cols = st.columns(2)
    show_bn = cols[0].toggle("Show batch-norm steps", False, key="cnn_fm_bn")
    channels = cols[1].slider("Channels per layer", 2, 12, 6, key="cnn_fm_channels")
    live = job.state.active

    @st.fragment(run_every=3.0 if live else None)
    def _maps() -> None:
        flow: FeatureFlow | None = ask(job, lambda t: feature_maps(t.model, x))
        if flow is None:
            return
        step = job.snapshot().step
        st.caption(f"{label} · weights of step {step:,}" + (" (refreshing while it trains)" if live else "")
                   + ". Each column is one layer's first channels, on its own colour scale: red positive, "
                   "blue negative, white zero. After ReLU only red (or white) remains.")
        skip = () if show_bn else ("batchnorm",)
        st.plotly_chart(feature_flow(flow, shown, trained.dataset.classes, max_channels=channels, skip_kinds=skip),
                        width="stretch", key="cnn_fm_flow")
        names = [m.label for m in flow.maps]
        chosen = st.selectbox("Look at one layer in full", names, key="cnn_fm_layer")
        st.plotly_chart(channel_grid(flow.maps[names.index(chosen)]), width="stretch", key="cnn_fm_layer_grid")

    _maps()


# ------------------------------------------------------------------------------------------ evaluation
def evaluation_view(job: TrainingJob, trained: Trained) -> None:
    """Test accuracy, confusion matrix and the misclassified gallery (computed once per finished run)."""
    ds = trained.dataset
    snap = job.snapshot()
    cache = st.session_state.get("cnn_eval")
    fresh = cache is not None and cache[0] == job.id and cache[1] == snap.step
    if not fresh and (not snap.state.active or st.button("Evaluate the current weights", key="cnn_eval_now",
                                                         icon=":material/fact_check:")):
        with st.spinner("Evaluating on the test set…"):
            result = ask(job, lambda t: evaluate_classifier(t.model, ds.x_test, ds.y_test, ds.num_classes))
        if result is None:
            return
        cache = st.session_state["cnn_eval"] = (job.id, snap.step, result)
    elif not fresh and cache is None:
        st.caption("Training is still running: the test set is evaluated automatically when it ends.")
        return
    if cache is None or cache[0] != job.id:
        return
    result: Evaluation = cache[2]
    wrong = result.misclassified(limit=32)
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{result.accuracy:.1%}")
    cols[1].metric("Test loss", f"{result.loss:.3f}", help="Cross-entropy on the test set")
    cols[2].metric("Misclassified", f"{int((result.y_pred != result.y_true).sum())} / {len(result.y_true)}")
    weakest = int(result.per_class_accuracy.argmin())
    cols[3].metric("Weakest class", f"{ds.classes[weakest]} · {result.per_class_accuracy[weakest]:.0%}"
                   if result.per_class_accuracy[weakest] < 1 else "none", help="The class with the lowest share "
                   "of its test pictures classified correctly")
    st.caption(f"Weights of step {cache[1]:,}; {len(result.y_true)} test pictures the network never trained on.")
    left, right = st.columns([1, 1])
    with left:
        normalize = st.toggle("Show shares of each true class", key="cnn_cm_norm")
        st.plotly_chart(confusion_matrix(result.confusion, ds.classes, normalize=normalize), width="stretch",
                        key="cnn_cm")
    with right:
        st.markdown("**Misclassified test pictures**, most confident mistakes first")
        if len(wrong) == 0:
            st.success("Every test picture is classified correctly.", icon=":material/celebration:")
        else:
            titles = [f"said {ds.classes[result.y_pred[i]]} ({result.probs[i, result.y_pred[i]]:.0%})<br>true "
                      f"{ds.classes[result.y_true[i]]}" for i in wrong]
            st.plotly_chart(image_grid(ds.raw(ds.x_test[wrong]).numpy(), titles, cols=4, tile_px=96,
                                       title_colors=["#c0392b"] * len(wrong)), width="stretch", key="cnn_wrong",
                            config={"displayModeBar": False})
            st.caption("Under each picture: what the network said (with its probability) and the true class.")


# ------------------------------------------------------------------------------------------ draw to test
def _canvas(ds: ImageDataset) -> np.ndarray | None:
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # noqa: BLE001 - the component is optional; uploads still work
        st.info("The drawing canvas is unavailable here; upload a picture instead.")
        return None
    if ds.ink:
        stroke, background, mode, fill = "#ffffff", "#000000", "freedraw", "#ffffff"
        width = st.slider("Pen width", 8, 40, 22, key="cnn_pen")
        st.caption("Draw one digit, large, in the middle. It is cropped, centred and shrunk like the training digits.")
    else:
        cols = st.columns(4)
        mode = cols[0].selectbox("Tool", ["polygon", "rect", "circle", "freedraw"], key="cnn_tool",
                                 help="Polygon: click the corners, then click the first one again to close it.")
        fill = cols[1].color_picker("Colour", "#ffd400", key="cnn_fill")
        background = cols[2].color_picker("Background", "#1f3b73", key="cnn_bg")
        width = cols[3].slider("Pen width", 2, 40, 16, key="cnn_pen_rgb")
        stroke = fill
    result = st_canvas(fill_color=fill, stroke_width=width, stroke_color=stroke, background_color=background,
                       height=280, width=280, drawing_mode=mode, return_image_data=True,
                       key=f"cnn_canvas_{'ink' if ds.ink else 'rgb'}")
    data = result.image_data
    if data is None or (ds.ink and np.asarray(data)[..., :3].max() == 0):
        return None
    return np.asarray(data)


def _uploaded_picture() -> Image.Image | None:
    upload = st.file_uploader("…or upload a picture", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                              key="cnn_test_upload")
    if upload is None:
        return None
    try:
        if upload.size > MAX_FILE_BYTES:
            raise DataError(f"“{upload.name}” is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
        return decode_image(upload.name, upload.getvalue())
    except DataError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def draw_view(job: TrainingJob, trained: Trained) -> None:
    """Canvas or upload → preprocessed input → class probabilities, from the trained model."""
    ds = trained.dataset
    left, right = st.columns([1, 1])
    with left:
        drawn = _canvas(ds)
        picture = _uploaded_picture()
    source = picture if picture is not None else drawn
    with right:
        if source is None:
            st.info("Draw on the canvas (or upload a picture) to see what the network makes of it.",
                    icon=":material/draw:")
            return
        x, shown = ds.preprocess(source)
        probs = ask(job, lambda t: torch.softmax(t.predict(x), 1)[0].numpy())
        if probs is None:
            return
        best = int(probs.argmax())
        label = f"your {'upload' if picture is not None else 'drawing'} (predicted {ds.classes[best]})"
        st.session_state[DRAWING_KEY] = (x, shown, label)
        st.markdown(f"The network says **{ds.classes[best]}** ({probs[best]:.0%} sure).")
        st.image(_enlarge(shown), caption=f"What the network sees: {ds.size}×{ds.size}, as in training",
                 width=168)
        st.plotly_chart(class_probabilities(probs, ds.classes, height=260), width="stretch", key="cnn_draw_probs",
                        config={"displayModeBar": False})
        st.caption("Its feature maps are in the *Feature maps* tab (choose “your drawing”).")


def _enlarge(shown: np.ndarray, px: int = 168) -> bytes:
    arr = (np.clip(shown, 0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
    buf = io.BytesIO()
    image.resize((px, px), Image.Resampling.NEAREST).save(buf, format="PNG")
    return buf.getvalue()
