"""Neurons & activations: what one neuron computes, activation functions and their derivatives, why deep
sigmoid stacks stop learning, backpropagation by hand checked against torch.autograd, and MSE vs
cross-entropy. The open section and every number are in the URL."""

import streamlit as st

from core.errors import PlaygroundError
from pages.neurons import sections
from pages.neurons.config import SECTIONS
from ui.display import header
from ui.i18n import show, t
from ui.settings import share_note
from ui.tabs import setting_tabs

header(t("neurons.page.title"), lede=t("neurons.page.lede"), small=False)

form = sections.form()
form.warnings()
tabs = setting_tabs(form, "section", {name: t(f"neurons.sections.{name}") for name in SECTIONS})
for name, tab in tabs.items():
    if tab.open:
        with tab:
            try:
                sections.SECTIONS[name](form)
            except PlaygroundError as exc:
                st.error(show(exc), icon=":material/error:")

form.checked(stop=False)  # the page has drawn: a bad value only stays out of the link
share_note()
