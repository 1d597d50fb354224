"""Which model the Explain page opens: the bundled digits CNN (part of a link) or one of the visitor's models from
this visit's shelf (``Shelf.explainable``: a detached copy as of its latest step; not part of a link)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.errors import PlaygroundError
from core.explain import attribute
from core.explain.bundled import bundled_explainable
from core.explain.settings import Config
from core.explain.source import Explainable
from ui.i18n import show, t
from ui.session import shelf
from ui.settings import Form
from ui.shelf import pick_entry

BUNDLED = "bundled"


@dataclass
class Picked:
    model: Explainable
    token: str  # changes whenever the model does (results are cached per token)


def form() -> Form[Config]:
    """The page's settings; on the first visit without ``model=`` in the link, a visitor who has trained a model
    sees theirs first."""
    state = st.session_state
    if not state.get("ex__visited"):
        state["ex__visited"] = True
        if "model" not in st.query_params and shelf().trained():
            state["ex_source"] = "shelf"
    return Form(Config, "ex")


@st.cache_resource(show_spinner=False)
def _bundled() -> Explainable:
    model = bundled_explainable()
    # Warm up once per process: DeepLift's first call pulls in lazy imports (about a second).
    attribute("DeepLift", model.model, model.x_test[0], int(model.y_test[0]), spec=model.spec)
    return model


def pick(f: Form[Config]) -> Picked | None:
    """The source switch, the shelf picker and the model's description; None when there is nothing to explain."""
    trained = shelf().trained()
    names = {BUNDLED: t("explain.source.bundled"), "shelf": t("explain.source.shelf", n=len(trained))}
    f.segmented("source", format_func=names.get)
    picked = None
    if f.value("source") == "shelf":
        entry = pick_entry("ex_entry")
        if entry is None:
            st.info(t("explain.source.empty"), icon=":material/inventory_2:")
        else:
            try:
                with st.spinner(t("explain.source.copying")):
                    model = shelf().explainable(entry.id)
            except PlaygroundError as exc:
                st.error(show(exc), icon=":material/error:")
                return None
            if model is None:
                st.info(t("explain.source.not_ready"), icon=":material/hourglass_top:")
                return None
            picked = Picked(model, f"{entry.id}:{entry.model_step}")
    if picked is None:
        with st.spinner(t("explain.source.loading")):
            picked = Picked(_bundled(), BUNDLED)
    st.caption(show(picked.model.description))
    if not trained:
        st.caption(t("explain.source.hint"))
    return picked
