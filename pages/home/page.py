"""Home: what the playground is, one card per page, and the device that trains."""

import streamlit as st

from core.device import best_device, device_label
from ui.catalog import PAGES

st.title("Deep Learning Playground")
st.markdown(
    "Build a neural network in your browser, **watch it train live**, then open it up: the decision surface of "
    "every neuron, convolution filters and feature maps, LSTM gates over time, and attributions that show what "
    "the model looked at. Every number on every chart comes from a real PyTorch model training right now."
)
st.caption(f"Models train in the background on **{device_label(best_device())}**; "
           "the page stays responsive and you can pause, step or stop at any time.")

cards = [p for p in PAGES if p.path != "pages/home.py"]
for row in range(0, len(cards), 3):
    for col, page in zip(st.columns(3), cards[row:row + 3], strict=False):
        with col.container(border=True):
            st.page_link(page.path, label=f"**{page.title}**", icon=page.icon)
            st.caption(f"{page.section} · {page.blurb}")
