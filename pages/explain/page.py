"""Explain: every Captum attribution method side by side on the visitor's own model (or the bundled digits
CNN), with the checks that say how far to trust each map."""

import streamlit as st

from core.errors import PlaygroundError
from core.explain import METHODS, unsupported
from ui.explain_sources import available_sources
from ui.explain_tabular import features_view
from ui.explain_views import (
    FAST_DEFAULT,
    completeness_table,
    deletion_panel,
    input_key,
    method_options,
    pick_image,
    pick_target,
    probabilities,
    probability_chart,
    run_attributions,
    sanity_panel,
    show_maps,
)

st.title("Explain: what did the model look at?")
st.markdown(
    "An **attribution** method gives every input pixel (or feature) a share of the model's score for one class. "
    "There are many, and they disagree: here they all run on the same picture **side by side**, each with its "
    "computing time. Three checks say how far to trust each map: **completeness** (does it add up to the score?), "
    "a **sanity check** (does it change when the model's weights are randomized?) and a **deletion curve** (does "
    "removing the pixels it ranks highest really destroy the prediction?)."
)

sources = available_sources()
label = st.selectbox("Model to explain", list(sources), key="ex_source",
                     help="The bundled CNN is always here; the models you train in the CNN lab and the network "
                          "builder appear once they have taken a step.")
src = sources[label]
st.caption(src.description)
if len(sources) == 1:
    st.caption("Train a network in the **CNN lab** or the **network builder** and it shows up in this list.")

opts, sign = method_options(src.kind)

if src.kind == "features":
    features_view(src, opts)
    st.stop()

classes = src.spec.class_names
left, right = st.columns([2, 3], gap="large")
with left:
    x, true_label, what = pick_image(src)
if x is None:
    st.stop()
probs = probabilities(src, x)
with right:
    target = pick_target(probs, true_label, classes)
    probability_chart(probs, classes, target, true_label)

usable = [m for m in METHODS.names() if not unsupported(m, src.model, x.unsqueeze(0), src.spec, opts["nt_method"])]
methods = st.multiselect("Methods", usable, default=[m for m in FAST_DEFAULT if m in usable], key="ex_methods",
                         help="Lime and KernelShap fit a surrogate model to hundreds of perturbed copies of the "
                              "input: slower, so they are off by default. "
                              + " ".join(f"**{e.name}**: {e.description}" for e in METHODS))
overlays = st.toggle("Show overlays on the input", value=True, key="ex_overlays")
if not methods:
    st.info("Pick at least one method.", icon=":material/checklist:")
    st.stop()

key = (src.token, input_key(x), target, tuple(methods), str(sorted(opts.items())))
try:
    results = run_attributions(src, x, target, methods, opts)
except PlaygroundError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()

st.subheader(f"Why “{classes[target]}” for {what}?", anchor=False)
show_maps(src, x, results, sign, overlays, key="ex_maps")

tabs = st.tabs([":material/functions: Completeness", ":material/trending_down: Deletion curves",
                ":material/shuffle: Sanity check"], key="ex_tabs", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        completeness_table(results)
if tabs[1].open:
    with tabs[1]:
        deletion_panel(src, x, target, results, sign, opts["baseline"], key + (sign,))
if tabs[2].open:
    with tabs[2]:
        sanity_panel(src, x, target, results, opts, sign, key)
