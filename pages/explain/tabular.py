"""The Explain page for models on a table of named numbers (the network builder's MLPs, the training-craft
classifiers, a reinforcement-learning policy, a 2-D GAN's discriminator): input-feature importance over the data
set (IG), neuron importance per hidden layer (LayerConductance), and every applicable method on one point."""

from __future__ import annotations

import streamlit as st

from core.explain.readout import explain, feature_report, is_regression, predict
from core.explain.settings import Config
from core.viz.explain import feature_importance_bars, neuron_importance_figure, point_attribution_bars
from pages.explain.source import Picked
from pages.explain.views import class_names, memo, method_options, method_picker, usable_methods
from ui.display import chart
from ui.i18n import lang, show, t
from ui.settings import Form


def features_view(f: Form[Config], picked: Picked) -> None:
    src = picked.model
    method_options(f, "features")
    f.segmented("feature_baseline")
    config = f.config().validate()
    with st.spinner(t("explain.features.running")):
        report = memo("nb_report", (picked.token, config.feature_baseline),
                      lambda: feature_report(src, config.feature_baseline))
    names = [show(n) for n in report.names]
    regression = is_regression(src)
    explained = t("explain.features.score" if src.binary else
                  "explain.features.output" if regression else "explain.features.predicted")
    fi = report.importance
    left, right = st.columns(2)
    chart(feature_importance_bars(names, fi.mean_abs, fi.mean_signed, lang=lang()), key="ex_nb_features", where=left)
    left.caption(t("explain.features.importance_caption", what=explained, n=report.examples, ms=fi.seconds * 1000,
                   error=fi.delta_rel))
    if report.layers:
        layers = [(t("explain.features.layer", n=i + 1), layer.mean_abs) for i, layer in enumerate(report.layers)]
        chart(neuron_importance_figure(layers, lang=lang()), key="ex_nb_neurons", where=right)
        right.caption(t("explain.features.neurons_caption"))
    else:
        right.info(t("explain.features.no_hidden"), icon=":material/info:")

    st.subheader(t("explain.features.one_point"), anchor=False)
    n = len(src.x_test)
    key = f.key("index")
    st.session_state[key] = min(int(st.session_state.get(key, 0)), n - 1)
    index = f.number("index", where=st.columns([1, 3])[0], max_value=n - 1,
                     label=t("explain.features.index", n=n - 1))
    x = src.x_test[index]
    pred = predict(src, x, src.y_test[index])
    classes = class_names(src)
    values = ", ".join(f"{nm} = {v:.2f}" for nm, v in zip(names, x.tolist(), strict=True))
    if regression:
        target = 0
        st.markdown(t("explain.features.regression_point", values=values, output=float(pred.values[0]),
                      truth=float(pred.true_values[0])))
    else:
        target = pred.best
        st.markdown(t("explain.features.class_point", values=values, predicted=classes[target],
                      p=float(pred.values[target]), truth=classes[pred.truth]))
    usable = usable_methods(src, x, config.nt_method)
    chosen = method_picker(f, "point_methods", usable)
    if not chosen:
        return
    opts = config.options("features")
    results = memo("nb_point", (picked.token, index, tuple(chosen), str(sorted(opts.items()))),
                   lambda: explain(src, x, target, chosen, opts))
    chart(point_attribution_bars(names, {m: a.map for m, a in results.items()}, lang=lang()), key="ex_nb_point")
    if src.binary:
        st.caption(t("explain.features.binary_caption", name=classes[target]))
    elif not regression:
        st.caption(t("explain.features.class_caption", name=classes[target]))
