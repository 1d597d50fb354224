"""Deep Learning Playground: build a network in the browser, watch it train live, open it up."""
# ruff: noqa: E402  (process settings must come before torch is imported)

import os

# One intra-op thread per computation (set before torch starts its OpenMP pool): visitors share the cores
# through the job manager's compute slots, and OpenMP teams on an oversubscribed CPU slow tiny models down
# tenfold or more. PLAYGROUND_TORCH_THREADS overrides it for a single-user machine.
os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("PLAYGROUND_TORCH_THREADS", "1"))

import sys

# Training threads release and retake the GIL around every torch op; while page scripts build figures, each
# retake waits out the switch interval (5 ms by default). At 0.5 ms, five visitors training at once on two
# cores finished their runs in 61 s instead of 161 s (bench/concurrent_sessions.py).
sys.setswitchinterval(0.0005)

import streamlit as st
import torch

from core.device import best_device, device_label
from ui.catalog import sections
from ui.display import display_settings, projector, style
from ui.i18n import lang, language_switch, show, t
from ui.jobs import sidebar_jobs
from ui.shelf import sidebar_shelf

st.set_page_config(page_title="Deep Learning Playground", page_icon=":material/neurology:", layout="wide",
                   initial_sidebar_state="collapsed" if projector() else "auto")  # a projector needs the width

style()
language = lang()
navigation = st.navigation(
    {pages[0].section_title(language): [st.Page(p.path, title=p.title(language), icon=p.icon, url_path=p.name,
                                                default=p.name == "home") for p in pages]
     for pages in sections().values()}
)

with st.sidebar:
    language_switch()
    display_settings()
    st.markdown(t("common.ui.device", device=show(device_label(best_device()))))
    st.caption(t("common.ui.torch", version=torch.__version__))
    st.markdown(t("common.ui.jobs"))
    sidebar_jobs()
    sidebar_shelf()

navigation.run()
