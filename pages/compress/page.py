"""Compress, transfer, export: prune, quantize and distill a model from the visitor's shelf, reuse it for new
classes from few examples, and take it home as ONNX, TorchScript or weights + model card (and bring it back)."""

import streamlit as st

from pages.compress import common, ship, shrink, source, teach
from ui.i18n import t
from ui.lessons import lesson_panel
from ui.settings import share_note

SECTIONS = {"prune": (":material/content_cut:", shrink.pruning),
            "quantize": (":material/compress:", shrink.quantization),
            "distill": (":material/school:", teach.distillation),
            "fewshot": (":material/model_training:", teach.fewshot),
            "export": (":material/ios_share:", ship.export)}

st.title(t("compress.title"))
st.caption(t("compress.intro"))

form = common.form()
form.warnings()
lesson_panel("compress", common.LessonForm(form), common.JOBS[form.value("task")])
chosen = source.choose()

labels = {name: f"{icon} {t(f'compress.page.tab_{name}')}" for name, (icon, _) in SECTIONS.items()}
tabs = st.tabs(list(labels.values()), key=common.TAB_KEY, default=labels[common.open_section(form)],
               on_change=common.tab_changed, args=(form, labels))
for tab, (_, render) in zip(tabs, SECTIONS.values(), strict=True):
    if tab.open:
        with tab:
            render(form, chosen)
share_note()
