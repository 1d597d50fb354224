"""Home: what the playground is, one card per page, the device that trains, and this visit's model shelf."""

import streamlit as st

from core.device import best_device, device_label
from ui.catalog import PAGES
from ui.i18n import lang, show, t
from ui.shelf import shelf_table

st.title(t("home.title"))
st.markdown(t("home.intro"))
st.caption(t("home.device", device=show(device_label(best_device()))))

cards = [p for p in PAGES if p.name != "home"]
for row in range(0, len(cards), 3):
    for col, page in zip(st.columns(3), cards[row:row + 3], strict=False):
        with col.container(border=True):
            st.page_link(page.path, label=f"**{page.title(lang())}**", icon=page.icon)
            st.caption(f"{page.section_title(lang())} · {page.blurb(lang())}")

st.subheader(t("home.shelf"), anchor=False)
shelf_table()
