"""Explain: every Captum attribution method side by side on the visitor's own model (any lab's, from the model
shelf) or the bundled digits CNN, with the checks that say how far to trust each map. Every setting is in the
URL; the shelf model (this visit's) and uploads or drawings are not."""

import streamlit as st

from core.errors import PlaygroundError
from pages.explain import source, tabular, views
from ui.display import header
from ui.i18n import show, t
from ui.settings import share_note

header(t("explain.page.title"), lede=t("explain.page.lede"), small=False)

form = source.form()
form.warnings()
picked = source.pick(form)
try:
    if picked is not None:
        if picked.model.kind == "features":
            tabular.features_view(form, picked)
        else:
            views.picture_view(form, picked)
except PlaygroundError as exc:
    st.error(show(exc), icon=":material/error:")
form.checked(stop=False)  # the page has drawn: a bad value only stays out of the link
share_note()
