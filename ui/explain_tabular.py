"""The Explain page for the network builder's MLPs: input-feature importance over the data set (IG),
neuron importance per hidden layer (LayerConductance), and every applicable method on one point."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from core.errors import PlaygroundError
from core.explain import METHODS, attribute_many, predict_proba, unsupported
from core.explain.tabular import feature_importance, neuron_importance
from core.viz.explain import feature_importance_bars, neuron_importance_figure, point_attribution_bars

from .explain_sources import ExplainSource
from .explain_views import memo

POINT_DEFAULT = ["Saliency", "InputXGradient", "IntegratedGradients", "GradientShap", "Occlusion", "KernelShap"]


def _model_target(src: ExplainSource, cls: int | None) -> tuple[int | None, float]:
    """Captum target and sign: a binary network outputs logits [0, z], so class 1 is z and class 0 is −z."""
    if src.binary:
        return 1, (1.0 if cls in (None, 1) else -1.0)
    return (0 if len(src.spec.class_names) == 1 else cls), 1.0


def features_view(src: ExplainSource, methods_options: dict) -> None:
    names = src.spec.feature_names or [f"x{i + 1}" for i in range(src.spec.shape[0])]
    data = torch.cat([src.x_train, src.x_test])
    baseline = st.radio("Baseline", ["zeros", "mean"], horizontal=True, key="ex_nb_baseline",
                        help="The reference input: all features 0 (the centre of the plane) or their average.")
    target, _ = _model_target(src, None)
    what = ("the score z (positive: blue, negative: orange)" if src.binary else "the network's output")
    with st.spinner("Integrated Gradients over every point…"):
        fi = memo("nb_fi", (src.token, baseline),
                  lambda: feature_importance(src.model, data, names=names, target=target, baseline=baseline))
        layers = memo("nb_ni", (src.token, baseline),
                      lambda: neuron_importance(src.model, data, target=target, baseline=baseline))
    left, right = st.columns(2)
    left.plotly_chart(feature_importance_bars(names, fi.mean_abs, fi.mean_signed), width="stretch",
                      key="ex_nb_features")
    left.caption(f"Integrated Gradients of {what} for all {len(data)} points ({fi.seconds * 1000:.0f} ms); "
                 f"median completeness error {fi.delta_rel:.2%}. A feature whose bars stay near zero barely "
                 "matters; a large |attribution| with a small mean means it pushes both ways, point by point.")
    if layers:
        right.plotly_chart(neuron_importance_figure([(f"hidden layer {i + 1}", layer.mean_abs)
                                                     for i, layer in enumerate(layers)]),
                           width="stretch", key="ex_nb_neurons")
        right.caption("LayerConductance: how much of the output's change from the baseline flows through each "
                      "neuron, averaged over the points. Dark neurons could be pruned with little loss.")
    else:
        right.info("This network has no hidden layer, so there are no neurons to rank.", icon=":material/info:")

    st.subheader("One point", anchor=False)
    n = len(src.x_test)
    index = st.columns([1, 3])[0].number_input(f"Test point (0–{n - 1})", 0, n - 1, 0, key="ex_nb_index")
    x = src.x_test[index]
    probs = predict_proba(src.model, x.unsqueeze(0))[0]
    if src.binary:
        cls = int(np.argmax(probs))
        st.markdown(f"Features {', '.join(f'{nm} = {v:.2f}' for nm, v in zip(names, x.tolist(), strict=True))} · "
                    f"predicted **{src.spec.class_names[cls]}** (p = {probs[cls]:.2f}), "
                    f"true **{src.spec.class_names[int(src.y_test[index])]}**.")
    else:
        cls = None
        out = float(src.model(x.unsqueeze(0)).detach().reshape(-1)[0])
        st.markdown(f"Output **{out:.3f}**, target **{float(src.y_test[index]):.3f}**.")
    usable = [m for m in METHODS.names() if not unsupported(m, src.model, x.unsqueeze(0), src.spec,
                                                               methods_options.get("nt_method", "Saliency"))]
    chosen = st.multiselect("Methods", usable, default=[m for m in POINT_DEFAULT if m in usable],
                            key="ex_nb_methods")
    if not chosen:
        return
    target, factor = _model_target(src, cls)
    opts = {k: v for k, v in methods_options.items() if k not in ("occlusion_window", "occlusion_stride",
                                                                  "segmentation", "patch", "superpixels")}
    try:
        results = memo("nb_point", (src.token, index, tuple(chosen), str(sorted(opts.items()))),
                       lambda: attribute_many(chosen, src.model, x, target, spec=src.spec, **opts))
    except PlaygroundError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.plotly_chart(point_attribution_bars(names, {m: factor * a.map for m, a in results.items()}), width="stretch",
                    key="ex_nb_point")
    if src.binary:
        st.caption(f"Attributions of the log-odds of **{src.spec.class_names[cls]}** (the score z, negated for "
                   "orange): a positive bar pushes the point toward that class.")
