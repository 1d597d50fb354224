"""Widgets and result panels of the Explain page for image models: input picker, target, options, the
side-by-side maps and the trust signals (completeness, deletion curves, randomization sanity check)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.data.images import decode_image
from core.errors import PlaygroundError
from core.explain import (
    BASELINES,
    METHODS,
    NT_BASES,
    SIGNS,
    apply_sign,
    attribute_many,
    deletion_curve,
    predict_proba,
    random_deletion_curve,
    randomization_check,
)
from core.viz.explain import (
    attribution_grid,
    cascading_figure,
    deletion_figure,
    format_seconds,
    probability_bars,
    randomization_bars,
)

from .explain_sources import ExplainSource

FAST_DEFAULT = ["Saliency", "InputXGradient", "IntegratedGradients", "DeepLift", "GradientShap", "GuidedBackprop",
                "Occlusion", "LayerGradCam", "NoiseTunnel"]
SIGN_LABEL = {"all": "all (signed)", "positive": "positive only", "negative": "negative only",
              "absolute": "absolute value"}
SIGN_HELP = {"all": "signed (red for, blue against the class)", "positive": "only evidence for the class",
             "negative": "only evidence against the class", "absolute": "magnitude, whatever the sign"}


# ----------------------------------------------------------------------------------------------- memo
def memo(name: str, key: tuple, compute) -> Any:
    """The last result of ``compute()`` for ``name``, recomputed only when ``key`` changes (per session)."""
    store = st.session_state.setdefault("ex_memo", {})
    if name in store and store[name][0] == key:
        return store[name][1]
    value = compute()
    store[name] = (key, value)
    return value


def input_key(x: torch.Tensor) -> str:
    return hashlib.sha1(x.detach().cpu().numpy().tobytes()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------- inputs
def _random_index(n: int) -> None:
    st.session_state["ex_index"] = int(np.random.default_rng().integers(n))


def pick_test_example(src: ExplainSource) -> tuple[torch.Tensor, int, str]:
    """One held-out example by index (or at random)."""
    what = src.extra.get("what", "image")
    n = len(src.y_test)
    st.session_state["ex_index"] = min(st.session_state.get("ex_index", 0), n - 1)
    cols = st.columns([3, 2], vertical_alignment="bottom")
    index = cols[0].number_input(f"Test {what} (0–{n - 1})", 0, n - 1, key="ex_index")
    cols[1].button("Random", icon=":material/casino:", key="ex_random", on_click=_random_index, args=(n,))
    label = int(src.y_test[index])
    return src.x_test[index], label, f"test {what} #{index} (true class {src.spec.class_names[label]})"


def pick_image(src: ExplainSource) -> tuple[torch.Tensor | None, int | None, str]:
    """The input chosen by the visitor: ``(x of shape (C, H, W), true label or None, description)``."""
    if src.dataset is None:
        return pick_test_example(src)
    mode = st.segmented_control("Input", ["Test image", "Upload", "Draw"], key="ex_input", default="Test image")
    ds = src.dataset
    if mode == "Upload":
        file = st.file_uploader("A picture (PNG, JPEG, BMP, GIF, WebP; up to 10 MB)", key="ex_upload",
                                type=["png", "jpg", "jpeg", "bmp", "gif", "webp"])
        if file is None:
            st.info("Upload a picture; it is resized and normalised exactly like the training images.",
                    icon=":material/upload:")
            return None, None, ""
        try:
            image = decode_image(file.name, file.getvalue())
            x, _ = ds.preprocess(image)
        except PlaygroundError as exc:
            st.error(str(exc), icon=":material/error:")
            return None, None, ""
        return x[0], None, f"your upload “{file.name}”"
    if mode == "Draw":
        return _drawing(src)
    return pick_test_example(src)


def _drawing(src: ExplainSource) -> tuple[torch.Tensor | None, int | None, str]:
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # noqa: BLE001 - the component may be unavailable in some hosts
        st.error(f"The drawing canvas is unavailable here ({type(exc).__name__}); use a test image or an upload.")
        return None, None, ""
    ink = src.dataset.ink
    result = st_canvas(stroke_width=16 if ink else 10, stroke_color="#FFFFFF" if ink else "#000000",
                       background_color="#000000" if ink else "#FFFFFF", height=224, width=224,
                       drawing_mode="freedraw", key="ex_canvas", return_image_data=True)
    st.caption("Draw a digit, large and centred; it is cropped and centred like the training digits." if ink
               else "Draw a picture of one of the classes.")
    data = result.image_data if result is not None else None
    if data is None or np.asarray(data)[..., :3].std() < 1e-3:
        st.info("Nothing drawn yet.", icon=":material/draw:")
        return None, None, ""
    x, _ = src.dataset.preprocess(np.asarray(data))
    return x[0], None, "your drawing"


def pick_target(probs: np.ndarray, true_label: int | None, classes: list[str]) -> int:
    """Predicted, true or any chosen class."""
    options = ["predicted", "true", "chosen"] if true_label is not None else ["predicted", "chosen"]
    if st.session_state.get("ex_target_mode") not in options:
        st.session_state["ex_target_mode"] = "predicted"
    mode = st.segmented_control("Explain which class?", options, key="ex_target_mode")
    predicted = int(np.argmax(probs))
    if mode == "true" and true_label is not None:
        return true_label
    if mode == "chosen":
        return st.selectbox("Class", range(len(classes)), format_func=lambda i: f"{classes[i]} "
                            f"(p = {probs[i]:.2f})", key="ex_class", index=predicted)
    return predicted


# ----------------------------------------------------------------------------------------------- options
def method_options(kind: str) -> tuple[dict[str, Any], str]:
    """The options expander: ``(ExplainOptions fields, sign)``."""
    baselines = [b for b in BASELINES if kind == "image" or b != "blurred"]
    names = {"black": "black" if kind == "image" else "zeros", "blurred": "blurred input", "noise": "uniform noise",
             "mean": "training mean"}
    with st.expander("Method options", icon=":material/tune:"):
        c1, c2, c3, c4 = st.columns(4)
        opts: dict[str, Any] = {}
        opts["baseline"] = c1.selectbox("Baseline", baselines, key="ex_baseline", format_func=names.get,
                                        help="The 'absence' of the input that IG, DeepLift, GradientShap, Occlusion, "
                                             "Lime and KernelShap compare against. "
                                             + " ".join(f"**{names[b]}**: {BASELINES[b]}." for b in baselines))
        sign = c1.selectbox("Sign to show", SIGNS, key="ex_sign", format_func=SIGN_LABEL.get,
                            help=" ".join(f"**{SIGN_LABEL[s]}**: {SIGN_HELP[s]}." for s in SIGNS))
        opts["output"] = c1.radio("Explained output", ["logit", "probability"], key="ex_output", horizontal=True,
                                  help="The raw class score (logit) or its softmax probability.")
        opts["ig_steps"] = c2.slider("Integrated Gradients steps", 4, 256, 50, key="ex_ig_steps",
                                     help="More steps → smaller completeness error, proportionally slower.")
        if kind == "image":
            opts["occlusion_window"] = c2.slider("Occlusion window (pixels)", 2, 14, 6, key="ex_occ_window")
            opts["occlusion_stride"] = c2.slider("Occlusion stride (pixels)", 1, 14, 3, key="ex_occ_stride")
            opts["occlusion_stride"] = min(opts["occlusion_stride"], opts["occlusion_window"])
        opts["nt_method"] = c3.selectbox("NoiseTunnel wraps", NT_BASES, key="ex_nt_method")
        opts["nt_type"] = c3.selectbox("NoiseTunnel type", ["smoothgrad", "smoothgrad_sq", "vargrad"], key="ex_nt_type")
        opts["nt_samples"] = c3.slider("NoiseTunnel samples", 2, 64, 16, key="ex_nt_samples")
        opts["nt_stdev"] = c3.slider("NoiseTunnel noise (× value range)", 0.01, 0.5, 0.15, key="ex_nt_stdev")
        opts["perturb_samples"] = c4.slider("Lime / KernelShap samples", 50, 1000, 200, step=50,
                                            key="ex_perturb_samples")
        if kind == "image":
            opts["segmentation"] = c4.radio("Lime / KernelShap features", ["patches", "superpixels"],
                                            key="ex_segmentation", horizontal=True)
            opts["patch"] = c4.slider("Patch size (pixels)", 2, 14, 4, key="ex_patch")
            opts["superpixels"] = c4.slider("Superpixels (k-means)", 8, 120, 40, key="ex_superpixels")
    return opts, sign


# ----------------------------------------------------------------------------------------------- results
def per_method(store: str, base: tuple, methods: list[str], opts: dict[str, Any], compute) -> dict:
    """Per-method results cached in the session: ``compute(missing_methods)`` runs only for methods whose own
    options (``MethodInfo.uses``) changed since they were last computed for this model, input and target."""
    cache = st.session_state.setdefault(store, {})
    if cache.get("__base__") != base or len(cache) > 80:
        cache.clear()
        cache["__base__"] = base
    keys = {m: (m, METHODS.get(m).key(opts)) for m in methods}
    missing = [m for m in methods if keys[m] not in cache]
    if missing:
        fresh = compute(missing)
        cache.update({keys[m]: fresh[m] for m in missing})
    return {m: cache[keys[m]] for m in methods}


def run_attributions(src: ExplainSource, x: torch.Tensor, target: int, methods: list[str],
                     opts: dict[str, Any]) -> dict:
    """The selected methods' maps, computing only what changed, with a progress bar (per sample for Lime and
    KernelShap)."""

    def compute(missing: list[str]) -> dict:
        bar = st.progress(0.0, text="Explaining…")
        n = len(missing)
        state = {"i": 0}

        def on_method(name: str, i: int) -> None:
            state["i"] = i
            bar.progress(i / n, text=f"{name} ({i + 1}/{n})…")

        def progress(frac: float) -> None:
            bar.progress(min(1.0, (state["i"] + frac) / n), text=f"{missing[state['i']]}: {frac:.0%} of the samples")

        try:
            return attribute_many(missing, src.model, x, target, spec=src.spec, on_method=on_method,
                                  progress=progress, **opts)
        finally:
            bar.empty()

    return per_method("ex_attr_cache", (src.token, input_key(x), target), methods, opts, compute)


def _pixels(values: np.ndarray, src: ExplainSource) -> np.ndarray:
    return values.sum(0) if src.spec.is_image else values


def _oriented(src: ExplainSource, values: np.ndarray) -> np.ndarray:
    """Spectrograms are drawn with low frequencies (row 0) at the bottom."""
    return np.flipud(values) if src.extra.get("flip_rows") else values


def show_maps(src: ExplainSource, x: torch.Tensor, results: dict, sign: str, overlays: bool, key: str) -> None:
    maps = [(name, _oriented(src, apply_sign(a.pixels(), sign)), a.seconds) for name, a in results.items()]
    signed = [a.signed for a in results.values()]
    fig = attribution_grid(_oriented(src, src.display(x)), maps, sign=sign, signed=signed, overlays=overlays)
    st.plotly_chart(fig, width="stretch", key=key)
    total = sum(a.seconds for a in results.values())
    st.caption(f"The maps took **{format_seconds(total)}** of computing altogether. Each map is scaled to its own "
               "largest value (99.5th percentile), so compare shapes, not colours, across methods.")


def completeness_table(results: dict) -> None:
    rows = []
    for name, a in results.items():
        if a.output_diff is None:
            continue
        total = float(a.map.sum())
        rows.append({"method": name, "Σ attributions": total, "f(x) − f(baseline)": a.output_diff,
                     "delta": total - a.output_diff, "relative error": a.delta_rel})
    if not rows:
        st.info("Select Integrated Gradients or DeepLift to check completeness.", icon=":material/info:")
        return
    st.dataframe(pd.DataFrame(rows).style.format({"Σ attributions": "{:.4f}", "f(x) − f(baseline)": "{:.4f}",
                                                  "delta": "{:+.2e}", "relative error": "{:.2%}"}),
                 hide_index=True, width="stretch")
    st.caption("Both methods promise that the map adds up to how much the output moves from the baseline to the "
               "input. A relative error under 1 % means the map accounts for the whole change; raise the IG steps "
               "if it is larger. DeepLift's rescale rule is exact for ReLU chains but only approximate through "
               "max pooling.")


def deletion_panel(src: ExplainSource, x: torch.Tensor, target: int, results: dict, sign: str, baseline: str,
                   key: tuple) -> None:
    def compute():
        curves = {}
        for name, a in results.items():
            c = deletion_curve(src.model, x, target, a.pixels(), src.spec, baseline=baseline, sign=sign)
            curves[name] = (c.fractions, c.probs, c.auc)
        ref = random_deletion_curve(src.model, x, target, src.spec, baseline=baseline)
        return curves, (ref.fractions, ref.probs, ref.auc)

    curves, ref = memo("deletion", key, compute)
    st.plotly_chart(deletion_figure(curves, ref, class_name=src.spec.class_names[target]),
                    width="stretch", key="ex_deletion_fig")
    st.caption(f"Pixels are replaced by the **{baseline}** baseline in the order each map ranks them (for sign "
               f"“{sign}”). A faithful map makes the probability collapse early; the dashed line removes pixels in "
               "random order, the bar every method should beat.")


def sanity_panel(src: ExplainSource, x: torch.Tensor, target: int, results: dict, opts: dict[str, Any],
                 sign: str, key: tuple) -> None:
    def compute(missing: list[str]) -> dict:
        return {n: randomization_check(n, src.model, x, target, src.spec, mode="full", **opts) for n in missing}

    with st.spinner("Re-running the methods on a copy with random weights…"):
        checks = per_method("ex_sanity_cache", key[:3], list(results), opts, compute)
    st.plotly_chart(randomization_bars({n: r.correlations[0] for n, r in checks.items()}),
                    width="stretch", key="ex_sanity_bars")
    if st.toggle("Show the maps of the randomized model", key="ex_show_random_maps"):
        maps = [(n, _oriented(src, apply_sign(_pixels(r.maps[0], src), sign)), None) for n, r in checks.items()]
        st.plotly_chart(attribution_grid(_oriented(src, src.display(x)), maps, sign=sign, overlays=False,
                                         signed=[results[n].signed for n in checks]),
                        width="stretch", key="ex_random_maps")
    st.caption("Adebayo et al. (2018): if a map looks the same after the model's learned weights are replaced by "
               "random ones, it shows the input (edges, ink) rather than what the model learned — low similarity is "
               "good here. Note that Integrated Gradients, DeepLift and Input × Gradient (with the black baseline) are "
               "exactly 0 wherever the input equals the baseline, in *any* model, so the input's silhouette alone "
               "makes their maps rank-similar; try another baseline.")
    heavy = [n for n in results if METHODS.get(n).slow]
    cascade = [n for n in results if n not in heavy]
    if cascade and st.button("Run the cascading check (layer by layer, output first)", key="ex_cascade",
                             icon=":material/layers:"):
        bar = st.progress(0.0, text="Randomizing one layer more at a time…")
        cascading = {}
        for i, n in enumerate(cascade):
            def step(frac: float, i: int = i, n: str = n) -> None:
                bar.progress((i + frac) / len(cascade), text=f"{n}: randomizing layer after layer…")
            cascading[n] = randomization_check(n, src.model, x, target, src.spec, mode="cascading", on_step=step,
                                               **opts)
        bar.empty()
        st.session_state["ex_cascading"] = (key, {n: (r.steps, r.correlations) for n, r in cascading.items()})
    stored = st.session_state.get("ex_cascading")
    if stored is not None and stored[0] == key:
        st.plotly_chart(cascading_figure(stored[1]), width="stretch", key="ex_cascade_fig")


def probabilities(src: ExplainSource, x: torch.Tensor) -> np.ndarray:
    return predict_proba(src.model, x.unsqueeze(0))[0]


def probability_chart(probs: np.ndarray, classes: list[str], target: int, true_label: int | None) -> None:
    st.plotly_chart(probability_bars(probs, classes, target=target, true_label=true_label),
                    width="stretch", key="ex_probs")
