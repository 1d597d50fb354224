"""Streamlit pieces that several pages share: session identity, job controls, live panels.

Importing this package also makes sure every page is served through ``app.py``'s navigation: until
``app.py`` has called ``st.navigation`` once in this server, Streamlit serves a deep link such as
``/cnn_lab`` by running the page file alone (its older pages-folder mode: no wide layout, no sidebar).
The first page that imports ``ui`` switches that mode off and reruns, so the run goes through ``app.py``.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()
