"""CNN lab, looking inside: the live numbers, curves and filters while it trains, then feature maps of any picture,
the test-set evaluation and a canvas (or an upload) to test the network on your own drawing. Everything about the
model is asked of the job (``job.inspect(vision.<inspection>, …)``), never of a live model held by the page."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
import torch
from PIL import Image

from core.data.images import ImageDataset
from core.inspect.evaluation import Evaluation
from core.jobs import JobSnapshot, TrainingJob
from core.labs import vision
from core.viz.curves import training_curves
from core.viz.images import channel_grid, class_probabilities, confusion_matrix, feature_flow, filter_grid, image_grid
from ui.display import chart
from ui.i18n import lang, show, t
from ui.live import live
from ui.pictures import drawing_pad, picture_upload

from .data import names
from .model import Trained

DRAWING = "cnn_drawing"  # (input, what the network sees, label) of the last drawing or upload
NOT_BUILT = (RuntimeError, TimeoutError)  # a queued job has no model yet; a busy one may not answer in time


@st.cache_data(max_entries=8, show_spinner=False)
def initial_view(config: vision.Config, channels: int, size: int, classes: int) -> vision.View:
    return vision.initial_view(config, channels, size, classes)


def ask(job: TrainingJob, fn, *args):
    """``job.inspect(fn, *args)``, or ``None`` with a note while the model does not exist yet (queued job)."""
    try:
        return job.inspect(fn, *args, timeout=10)
    except NOT_BUILT:
        st.info(t("vision.page.not_built"), icon=":material/hourglass_top:")
        return None


# ---------------------------------------------------------------------------------------------- while it trains
def filters_panel(view: vision.View, trained: bool) -> None:
    """The first conv layer's kernels and those of one chosen deeper layer."""
    filters = view.filters
    if not filters:
        st.info(t("vision.page.no_filters"))
        return
    when = t("vision.page.filters_step", step=view.step) if trained else t("vision.page.filters_initial")
    st.markdown(t("vision.page.filters", when=when))
    with st.container(key="cnn_filters"):
        chart(filter_grid(filters[0], lang=lang()), key="cnn_filters_first")
    if len(filters) > 1:
        labels = [show(f.label) for f in filters]
        choice = st.selectbox(t("vision.page.deeper"), range(1, len(filters)), format_func=labels.__getitem__,
                              key="cnn_filters_layer")
        chosen = filters[choice]
        shown = min(8, chosen.out_channels)
        title = labels[choice] + (t("vision.page.first_n", n=shown) if shown < chosen.out_channels else "")
        chart(filter_grid(chosen, max_filters=shown, title=title, lang=lang()), key="cnn_filters_deep")


def live_view(snap: JobSnapshot | None, config: vision.Config, dataset: ImageDataset) -> None:
    """Numbers and curves on the left, the filters on the right."""
    left, right = st.columns([3, 2])
    with left:
        if snap is None:
            st.caption(t("vision.page.press_train"))
        elif snap.latest:
            cols = st.columns(3)
            cols[0].metric(t("vision.page.train_accuracy"), f"{snap.latest.get('accuracy', 0):.1%}")
            if "val_accuracy" in snap.latest:
                cols[1].metric(t("vision.page.val_accuracy"), f"{snap.latest['val_accuracy']:.1%}")
            cols[2].metric(t("vision.page.lr_now"), f"{snap.latest.get('lr', config.lr):.2g}")
        chart(training_curves(snap, lang=lang()), key="cnn_curves")
    with right:
        if snap is not None and snap.view is not None:
            filters_panel(snap.view, trained=True)
        else:
            filters_panel(initial_view(config, dataset.channels, dataset.size, dataset.num_classes), trained=False)


# ---------------------------------------------------------------------------------------------- feature maps
def _probe(trained: Trained) -> tuple[torch.Tensor, np.ndarray, str] | None:
    ds, labels = trained.dataset, names(trained.dataset)
    options = ["test"] + (["drawing"] if st.session_state.get(DRAWING) is not None else [])
    cols = st.columns([1, 1, 2])
    source = cols[0].radio(t("vision.page.picture"), options, key="cnn_fm_source", horizontal=True,
                           format_func=lambda o: t(f"vision.page.picture_{o}"))
    if source == "drawing":
        x, shown, label = st.session_state[DRAWING]
        if tuple(x.shape[1:]) != ds.input_shape:
            st.warning(t("vision.page.drawing_other_data"))
            return None
        return x, shown, label
    cls = cols[1].selectbox(t("vision.page.class"), range(ds.num_classes), format_func=labels.__getitem__,
                            key="cnn_fm_class")
    members = np.flatnonzero(ds.y_test.numpy() == cls)
    if len(members) == 0:
        st.info(t("vision.page.no_test_picture"))
        return None
    k = cols[2].slider(t("vision.page.which"), 1, len(members), 1, key="cnn_fm_index") if len(members) > 1 else 1
    i = int(members[min(k, len(members)) - 1])
    x = ds.x_test[i:i + 1]
    return x, ds.raw(x)[0].permute(1, 2, 0).numpy(), t("vision.page.test_picture", i=i, name=labels[cls])


def feature_maps_view(job: TrainingJob, trained: Trained) -> None:
    """Pick a picture; see every layer's maps from input to probabilities, then one layer in full."""
    probe = _probe(trained)
    if probe is None:
        return
    x, shown, label = probe
    cols = st.columns(2)
    show_bn = cols[0].toggle(t("vision.page.show_bn"), False, key="cnn_fm_bn")
    channels = cols[1].slider(t("vision.page.channels_per_layer"), 2, 12, 6, key="cnn_fm_channels")

    def draw() -> bool:
        running = job.state.active
        flow = ask(job, vision.feature_maps, x)
        if flow is None:
            return running
        st.caption(t("vision.page.maps_caption", label=label, step=job.snapshot().step,
                     live=t("vision.page.maps_live") if running else ""))
        skip = () if show_bn else ("batchnorm",)
        chart(feature_flow(flow, shown, names(trained.dataset), max_channels=channels, skip_kinds=skip,
                           lang=lang()), key="cnn_fm_flow")
        layers = [m.label for m in flow.maps]
        chosen = st.selectbox(t("vision.page.one_layer"), layers, key="cnn_fm_layer")
        chart(channel_grid(flow.maps[layers.index(chosen)], lang=lang()), key="cnn_fm_layer_grid")
        return running

    live(draw, active=job.state.active, every=3.0)


# ---------------------------------------------------------------------------------------------- evaluation
def evaluation_view(job: TrainingJob, trained: Trained) -> None:
    """Test accuracy, confusion matrix and the misclassified gallery (computed once per finished run)."""
    ds, labels = trained.dataset, names(trained.dataset)
    snap = job.snapshot()
    cache = st.session_state.get("cnn_eval")
    fresh = cache is not None and cache[0] == job.id and cache[1] == snap.step
    if not fresh and (not snap.state.active or st.button(t("vision.page.evaluate_now"), key="cnn_eval_now",
                                                         icon=":material/fact_check:")):
        with st.spinner(t("vision.page.evaluating")):
            result = ask(job, vision.evaluation)
        if result is None:
            return
        cache = st.session_state["cnn_eval"] = (job.id, snap.step, result)
    elif not fresh and (cache is None or cache[0] != job.id):
        st.caption(t("vision.page.evaluate_later"))
        return
    result: Evaluation = cache[2]
    wrong = result.misclassified(limit=32)
    cols = st.columns(4)
    cols[0].metric(t("vision.page.test_accuracy"), f"{result.accuracy:.1%}")
    cols[1].metric(t("vision.page.test_loss"), f"{result.loss:.3f}", help=t("vision.page.test_loss_help"))
    cols[2].metric(t("vision.page.misclassified"), f"{int((result.y_pred != result.y_true).sum())} / "
                   f"{len(result.y_true)}")
    weakest = int(result.per_class_accuracy.argmin())
    worst = result.per_class_accuracy[weakest]
    cols[3].metric(t("vision.page.weakest"), t("vision.page.weakest_value", name=labels[weakest], share=worst)
                   if worst < 1 else t("vision.page.none"), help=t("vision.page.weakest_help"))
    st.caption(t("vision.page.evaluated", step=cache[1], n=len(result.y_true)))
    left, right = st.columns([1, 1])
    with left:
        normalize = st.toggle(t("vision.page.shares"), key="cnn_cm_norm")
        chart(confusion_matrix(result.confusion, labels, normalize=normalize, lang=lang()), key="cnn_cm")
    with right:
        st.markdown(t("vision.page.wrong_title"))
        if len(wrong) == 0:
            st.success(t("vision.page.all_right"), icon=":material/celebration:")
            return
        titles = [t("vision.page.wrong_tile", said=labels[result.y_pred[i]], p=result.probs[i, result.y_pred[i]],
                    true=labels[result.y_true[i]]) for i in wrong]
        chart(image_grid(ds.raw(ds.x_test[wrong]).numpy(), titles, cols=4, tile_px=96,
                         title_colors=["#c0392b"] * len(wrong)), key="cnn_wrong")
        st.caption(t("vision.page.wrong_caption"))


# ---------------------------------------------------------------------------------------------- draw to test
def _enlarge(shown: np.ndarray, px: int = 168) -> bytes:
    arr = (np.clip(shown, 0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
    buf = io.BytesIO()
    image.resize((px, px), Image.Resampling.NEAREST).save(buf, format="PNG")
    return buf.getvalue()


def draw_view(job: TrainingJob, trained: Trained) -> None:
    """Canvas or upload → preprocessed input → class probabilities, from the trained model."""
    ds, labels = trained.dataset, names(trained.dataset)
    left, right = st.columns([1, 1])
    with left:
        if ds.ink:
            st.caption(t("vision.page.draw_digit"))
        drawn = drawing_pad("cnn_draw", ink=ds.ink, tools=not ds.ink)
        picture = picture_upload("cnn_test_upload")
    source = picture if picture is not None else drawn
    with right:
        if source is None:
            st.info(t("vision.page.draw_hint"), icon=":material/draw:")
            return
        x, shown = ds.preprocess(source)
        probs = ask(job, vision.predict_proba, x)
        if probs is None:
            return
        best = int(probs.argmax())
        label = t("vision.page.yours_upload" if picture is not None else "vision.page.yours_drawing", name=labels[best])
        st.session_state[DRAWING] = (x, shown, label)
        st.markdown(t("vision.page.says", name=labels[best], p=probs[best]))
        st.image(_enlarge(shown), caption=t("vision.page.sees", size=ds.size), width=168)
        chart(class_probabilities(probs, labels, height=260, lang=lang()), key="cnn_draw_probs")
        st.caption(t("vision.page.see_maps"))


# ---------------------------------------------------------------------------------------------- the section
def inside_section(job: TrainingJob | None, trained: Trained | None, config: vision.Config,
                   dataset: ImageDataset) -> None:
    st.subheader(t("vision.page.inside"), anchor=False)
    if job is None or trained is None:
        st.info(t("vision.page.inside_hint"), icon=":material/visibility:")
        return
    if trained.dataset.description != dataset.description or trained.config.structure() != config.structure():
        st.caption(t("vision.page.showing_last", model=trained.config.title(), data=trained.dataset.description))
    icons = {"maps": "layers", "eval": "grid_view", "draw": "draw"}
    tabs = st.tabs([f":material/{icon}: {t(f'vision.page.tab_{name}')}" for name, icon in icons.items()],
                   key="cnn_tabs", on_change="rerun")
    for tab, view in zip(tabs, (feature_maps_view, evaluation_view, draw_view), strict=True):
        if tab.open:
            with tab:
                view(job, trained)
