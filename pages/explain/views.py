"""The Explain page for pictures and grids (spectrograms, sequences): the input, the class or output to explain,
the method options, every method's map side by side, and the three trust checks (completeness, deletion curves,
the randomization sanity check). Settings are bound to ``core.explain.settings.Config`` through the page's Form."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core import i18n
from core.errors import PlaygroundError
from core.explain import BASELINES, METHODS, apply_sign, unsupported
from core.explain.readout import Prediction, deletion, explain, is_regression, predict, sanity
from core.explain.settings import INPUTS, TARGETS, Config
from core.explain.source import Explainable
from core.viz.explain import (
    attribution_grid,
    cascading_figure,
    deletion_figure,
    format_seconds,
    output_bars,
    probability_bars,
    randomization_bars,
)
from pages.explain.source import Picked
from ui.display import chart
from ui.i18n import lang, show, t
from ui.pictures import drawing_pad, picture_upload
from ui.settings import Form
from ui.tabs import setting_tabs


# ----------------------------------------------------------------------------------------------- caches
def memo(name: str, key: tuple, compute: Callable[[], Any]) -> Any:
    """The last result of ``compute()`` for ``name``, recomputed only when ``key`` changes (per session)."""
    store = st.session_state.setdefault("ex_memo", {})
    if name in store and store[name][0] == key:
        return store[name][1]
    value = compute()
    store[name] = (key, value)
    return value


def per_method(store: str, base: tuple, methods: list[str], opts: dict[str, Any],
               compute: Callable[[list[str]], dict]) -> dict:
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


def input_key(x: torch.Tensor) -> str:
    return hashlib.sha1(x.detach().cpu().numpy().tobytes()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------- texts
def class_names(src: Explainable) -> list[str]:
    """Class (or output) names in the visitor's language."""
    return [show(name) for name in src.spec.class_names]


def what(src: Explainable) -> str:
    """What one input is called: an image, a clip, a sequence…"""
    key = f"explain.what.{src.extra.get('what', 'image')}"
    return t(key) if i18n.has(key) else str(src.extra.get("what", "image"))


# ----------------------------------------------------------------------------------------------- options
def baseline_name(kind: str, baseline: str) -> str:
    """A baseline's name: "black" is "zeros" for inputs that are not pictures."""
    name = "zeros" if baseline == "black" and kind != "image" else baseline
    return t(f"explain.choices.baseline.{name}")


def method_options(f: Form[Config], kind: str) -> None:
    """The options expander (baseline, sign, explained output and every method's knobs)."""
    baselines = [b for b in BASELINES if kind == "image" or b != "blurred"]
    if f.value("baseline") not in baselines:
        st.session_state[f.key("baseline")] = "black"
    regression = kind == "regression"
    with st.expander(t("explain.options.title"), icon=":material/tune:"):
        c1, c2, c3, c4 = st.columns(4)
        f.select("baseline", where=c1, options=baselines, format_func=lambda b: baseline_name(kind, b),
                 help=" ".join(t(f"explain.baselines.{b}") for b in baselines))
        f.select("sign", where=c1, help=" ".join(t(f"explain.signs.{s}") for s in f.field("sign").setting.choices))
        if not regression:
            f.segmented("output", where=c1)
        f.slider("ig_steps", where=c2)
        if kind != "features":
            f.slider("occlusion_window", where=c2, on_change=_fit_stride, args=(f,))
            f.slider("occlusion_stride", where=c2, max_value=int(f.value("occlusion_window")))
        f.select("nt_method", where=c3)
        f.select("nt_type", where=c3)
        f.slider("nt_samples", where=c3)
        f.slider("nt_stdev", where=c3, step=0.01)
        f.slider("perturb_samples", where=c4, step=50)
        if kind == "image":
            f.segmented("segmentation", where=c4)
        if kind != "features":
            f.slider("patch", where=c4)
        if kind == "image":
            f.slider("superpixels", where=c4)


def _fit_stride(f: Form[Config]) -> None:
    window = st.session_state[f.key("occlusion_window")]
    if st.session_state[f.key("occlusion_stride")] > window:
        st.session_state[f.key("occlusion_stride")] = window


def method_picker(f: Form[Config], name: str, usable: list[str]) -> list[str]:
    """A multiselect over the methods that can explain this model (the others are dropped from the selection)."""
    key = f.key(name)
    st.session_state[key] = [m for m in st.session_state.get(key, []) if m in usable]
    help_text = " ".join(f"**{m}**: {show(METHODS.get(m).blurb)}" for m in usable)
    return st.multiselect(f.label(name), usable, key=key, help=t("explain.page.methods_help") + " " + help_text)


def usable_methods(src: Explainable, x: torch.Tensor, nt_method: str) -> list[str]:
    return [m for m in METHODS.names() if not unsupported(m, src.model, x.unsqueeze(0), src.spec, nt_method)]


# ----------------------------------------------------------------------------------------------- inputs
def _random_index(key: str, n: int) -> None:
    st.session_state[key] = int(np.random.default_rng().integers(n))


def pick_test_example(f: Form[Config], src: Explainable) -> tuple[torch.Tensor, torch.Tensor, str]:
    """One held-out example by index (or at random): ``(x, its truth, how to call it)``."""
    n = len(src.y_test)
    key = f.key("index")
    st.session_state[key] = min(int(st.session_state.get(key, 0)), n - 1)
    cols = st.columns([3, 2], vertical_alignment="bottom")
    index = f.number("index", where=cols[0], max_value=n - 1, label=t("explain.input.index", what=what(src), n=n - 1))
    cols[1].button(t("explain.input.random"), icon=":material/casino:", key="ex_random", on_click=_random_index,
                   args=(key, n))
    truth = src.y_test[index]
    if is_regression(src):
        return src.x_test[index], truth, t("explain.input.test_value", what=what(src), index=index)
    name = class_names(src)[int(truth)]
    return src.x_test[index], truth, t("explain.input.test", what=what(src), index=index, name=name)


def pick_input(f: Form[Config], src: Explainable) -> tuple[torch.Tensor | None, torch.Tensor | None, str]:
    """The input chosen by the visitor: ``(x, the test example's truth or None, how to call it)``."""
    modes = INPUTS if src.dataset is not None else ("test",)
    key = f.key("input_mode")
    if st.session_state.get(key) not in modes:
        st.session_state[key] = "test"
    if len(modes) > 1:
        f.segmented("input_mode", options=list(modes))
    mode = f.value("input_mode")
    if mode == "test":
        return pick_test_example(f, src)
    ds = src.dataset
    if mode == "upload":
        image = picture_upload("ex_upload", t("explain.input.upload"))
        st.caption(t("explain.input.not_in_link"))
        if image is None:
            st.info(t("explain.input.upload_hint"), icon=":material/upload:")
            return None, None, ""
        source, description = image, t("explain.input.your_upload")
    else:
        source = drawing_pad("ex_draw", ink=ds.ink, tools=not ds.ink, size=224)
        st.caption(t("explain.input.draw_digit" if ds.ink else "explain.input.draw_picture"))
        if source is None:
            st.info(t("explain.input.nothing_drawn"), icon=":material/draw:")
            return None, None, ""
        description = t("explain.input.your_drawing")
    try:
        x, _ = ds.preprocess(source)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        return None, None, ""
    return x[0], None, description


def _chose(f: Form[Config], predicted: int) -> None:
    if st.session_state[f.key("target")] == "chosen":
        st.session_state[f.key("chosen")] = predicted


def pick_target(f: Form[Config], src: Explainable, pred: Prediction) -> int:
    """Which class (predicted, true or any) — or, for regression, which output — the maps explain."""
    names = class_names(src)
    key = f.key("chosen")
    st.session_state[key] = min(int(st.session_state.get(key, 0)), len(names) - 1)
    if pred.regression:
        if len(names) == 1:
            return 0
        return f.select("chosen", options=list(range(len(names))), label=t("explain.target.output"),
                        format_func=lambda i: names[i])
    options = [m for m in TARGETS if m != "true" or pred.truth is not None]
    if f.value("target") not in options:
        st.session_state[f.key("target")] = "predicted"
    f.segmented("target", options=options, on_change=_chose, args=(f, pred.best))
    mode = f.value("target")
    if mode == "true" and pred.truth is not None:
        return pred.truth
    if mode == "chosen":
        return f.select("chosen", options=list(range(len(names))),
                        format_func=lambda i: t("explain.target.option", name=names[i], p=pred.values[i]))
    return pred.best


def prediction_chart(src: Explainable, pred: Prediction, target: int) -> None:
    names = class_names(src)
    if pred.regression:
        fig = output_bars(pred.values, names, target=target, true_values=pred.true_values, lang=lang())
    else:
        fig = probability_bars(pred.values, names, target=target, true_label=pred.truth, lang=lang())
    chart(fig, key="ex_probs")


# ----------------------------------------------------------------------------------------------- maps
def run_attributions(picked: Picked, x: torch.Tensor, target: int, methods: list[str],
                     opts: dict[str, Any]) -> dict:
    """The selected methods' maps, computing only what changed, with a progress bar (per sample for Lime and
    KernelShap)."""

    def compute(missing: list[str]) -> dict:
        bar = st.progress(0.0, text=t("explain.page.explaining"))
        n = len(missing)
        state = {"i": 0}

        def on_method(name: str, i: int) -> None:
            state["i"] = i
            bar.progress(i / n, text=t("explain.page.method_progress", name=name, i=i + 1, n=n))

        def progress(frac: float) -> None:
            bar.progress(min(1.0, (state["i"] + frac) / n),
                         text=t("explain.page.sample_progress", name=missing[state["i"]], frac=frac))

        try:
            return explain(picked.model, x, target, missing, opts, on_method=on_method, progress=progress)
        finally:
            bar.empty()

    return per_method("ex_attr_cache", (picked.token, input_key(x), target), methods, opts, compute)


def _pixels(values: np.ndarray, src: Explainable) -> np.ndarray:
    return values.sum(0) if src.spec.is_image else values


def _oriented(src: Explainable, values: np.ndarray) -> np.ndarray:
    """Spectrograms are drawn with low frequencies (row 0) at the bottom."""
    return np.flipud(values) if src.extra.get("flip_rows") else values


def show_maps(src: Explainable, x: torch.Tensor, results: dict, sign: str, overlays: bool) -> None:
    maps = [(name, _oriented(src, apply_sign(a.pixels(), sign)), a.seconds) for name, a in results.items()]
    signed = [a.signed for a in results.values()]
    fig = attribution_grid(_oriented(src, src.display(x)), maps, sign=sign, signed=signed, overlays=overlays,
                           lang=lang())
    chart(fig, key="ex_maps")
    total = sum(a.seconds for a in results.values())
    st.caption(t("explain.page.maps_caption", seconds=format_seconds(total, lang())))


# ----------------------------------------------------------------------------------------------- trust checks
def completeness_table(results: dict) -> None:
    columns = {k: t(f"explain.completeness.{k}") for k in ("method", "total", "diff", "delta", "relative")}
    rows = [{columns["method"]: name, columns["total"]: float(a.map.sum()), columns["diff"]: a.output_diff,
             columns["delta"]: float(a.map.sum()) - a.output_diff, columns["relative"]: a.delta_rel}
            for name, a in results.items() if a.output_diff is not None]
    if not rows:
        st.info(t("explain.completeness.none"), icon=":material/info:")
        return
    st.dataframe(pd.DataFrame(rows).style.format({columns["total"]: "{:.4f}", columns["diff"]: "{:.4f}",
                                                  columns["delta"]: "{:+.2e}", columns["relative"]: "{:.2%}"}),
                 hide_index=True, width="stretch")
    st.caption(t("explain.completeness.caption"))


def deletion_panel(src: Explainable, x: torch.Tensor, target: int, results: dict, config: Config,
                   key: tuple) -> None:
    maps = {name: a.pixels() for name, a in results.items()}
    found = memo("deletion", key, lambda: deletion(src, x, target, maps, baseline=config.baseline,
                                                   sign=config.sign))
    curves = {name: (c.fractions, c.probs, c.auc) for name, c in found.curves.items()}
    ref = found.reference
    unit = "pixels" if src.kind == "image" else "cells"
    fig = deletion_figure(curves, (ref.fractions, ref.probs, ref.auc), class_name=class_names(src)[target],
                          measure=found.measure, unit=unit, lang=lang())
    chart(fig, key="ex_deletion_fig")
    st.caption(t(f"explain.deletion.caption_{found.measure}", baseline=baseline_name(src.kind, config.baseline),
                 sign=t(f"explain.choices.sign.{config.sign}"), unit=t(f"explain.deletion.{unit}")))


def sanity_panel(f: Form[Config], src: Explainable, x: torch.Tensor, target: int, results: dict, config: Config,
                 key: tuple) -> None:
    opts = config.options(src.kind)

    def compute(missing: list[str]) -> dict:
        return sanity(src, x, target, missing, opts)

    with st.spinner(t("explain.sanity.running")):
        checks = per_method("ex_sanity_cache", key[:3], list(results), opts, compute)
    chart(randomization_bars({n: r.correlations[0] for n, r in checks.items()}, lang=lang()), key="ex_sanity_bars")
    if f.toggle("random_maps"):
        maps = [(n, _oriented(src, apply_sign(_pixels(r.maps[0], src), config.sign)), None) for n, r in checks.items()]
        chart(attribution_grid(_oriented(src, src.display(x)), maps, sign=config.sign, overlays=False,
                               signed=[results[n].signed for n in checks], lang=lang()), key="ex_random_maps")
    st.caption(t("explain.sanity.caption"))
    cascade = [n for n in results if not METHODS.get(n).slow]
    if cascade and st.button(t("explain.sanity.cascade"), key="ex_cascade", icon=":material/layers:"):
        bar = st.progress(0.0, text=t("explain.sanity.cascading"))

        def step(name: str, frac: float) -> None:
            i = cascade.index(name)
            bar.progress((i + frac) / len(cascade), text=t("explain.sanity.cascade_step", name=name))

        found = sanity(src, x, target, cascade, opts, mode="cascading", on_step=step)
        bar.empty()
        st.session_state["ex_cascading"] = (key, {n: ([show(s) for s in r.steps], r.correlations)
                                                  for n, r in found.items()})
    stored = st.session_state.get("ex_cascading")
    if stored is not None and stored[0] == key:
        chart(cascading_figure(stored[1], lang=lang()), key="ex_cascade_fig")


# ----------------------------------------------------------------------------------------------- the view
def picture_view(f: Form[Config], picked: Picked) -> None:
    """Everything for an image or grid model: input, prediction, options, maps and checks."""
    src = picked.model
    regression = is_regression(src)
    method_options(f, "regression" if regression else src.kind)
    left, right = st.columns([2, 3], gap="large")
    with left:
        x, truth, description = pick_input(f, src)
    if x is None:
        return
    pred = predict(src, x, truth)
    with right:
        target = pick_target(f, src, pred)
        prediction_chart(src, pred, target)
    config = f.config().validate()
    usable = usable_methods(src, x, config.nt_method)
    methods = method_picker(f, "methods", usable)
    f.toggle("overlays")
    if not methods:
        st.info(t("explain.page.pick_one"), icon=":material/checklist:")
        return
    config = f.config().validate()
    opts = config.options(src.kind)
    results = run_attributions(picked, x, target, methods, opts)
    name = class_names(src)[target]
    st.subheader(t("explain.page.why_value" if regression else "explain.page.why", name=name, what=description),
                 anchor=False)
    show_maps(src, x, results, config.sign, config.overlays)

    key = (picked.token, input_key(x), target, tuple(methods), str(sorted(opts.items())))
    tabs = setting_tabs(f, "trust", {c: t(f"explain.checks.{c}") for c in f.field("trust").setting.choices})
    if tabs["completeness"].open:
        with tabs["completeness"]:
            completeness_table(results)
    if tabs["deletion"].open:
        with tabs["deletion"]:
            deletion_panel(src, x, target, results, config, key + (config.sign,))
    if tabs["sanity"].open:
        with tabs["sanity"]:
            sanity_panel(f, src, x, target, results, config, key)
