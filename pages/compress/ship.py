"""Take the model home and bring it back: ONNX (checked with ``onnx.checker``, run with onnxruntime against
PyTorch), TorchScript, state_dict + JSON model card, with download buttons; and the re-import of a state_dict +
card (read with ``weights_only=True``, every field checked) back onto the shelf."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st

from core.compress.export import example_input, export_bundle, export_onnx, export_torchscript, import_bundle, run_onnx
from core.compress.measure import outputs
from core.errors import PlaygroundError
from core.explain.source import Explainable
from core.labs import compress
from core.viz import compress as viz
from ui.display import chart
from ui.i18n import lang, show, t
from ui.session import shelf
from ui.settings import Form

from .common import memo, settled
from .source import ENTRY_KEY, FROM_KEY, PINS, Chosen

WEIGHTS_KEY, CARD_KEY, RESULT_KEY = "cmp_up_weights", "cmp_up_card", "cmp__imported"
SHOWN_INPUTS, SHOWN_OUTPUTS = 2, 4


@dataclass
class Files:
    """The exported files of one model."""

    stem: str
    onnx: bytes
    torchscript: bytes
    weights: bytes
    card: str
    comparison: pd.DataFrame  # a few outputs of PyTorch and of onnxruntime side by side


def _stem(model: Explainable, card: dict) -> str:
    kind = str(card.get("model", {}).get("kind", "model"))
    return re.sub(r"[^a-z0-9]+", "-", f"{model.lab}-{kind}".lower()).strip("-") or "model"


def _comparison(model: Explainable, onnx: bytes) -> pd.DataFrame:
    x = example_input(model, SHOWN_INPUTS)
    torch_out = outputs(model.model, x).reshape(len(x), -1).numpy()
    onnx_out = np.asarray(run_onnx(onnx, x)).reshape(len(x), -1)
    rows = [{t("compress.page.col_input"): i + 1, t("compress.page.col_output"): j + 1,
             t("compress.page.col_pytorch"): float(torch_out[i, j]), t("compress.page.col_onnx"): float(onnx_out[i, j]),
             t("compress.page.col_diff"): float(abs(torch_out[i, j] - onnx_out[i, j]))}
            for i in range(len(x)) for j in range(min(SHOWN_OUTPUTS, torch_out.shape[1]))]
    return pd.DataFrame(rows)


def export_files(model: Explainable) -> Files:
    example = example_input(model, 1)
    onnx = export_onnx(model.model, example)
    weights, card = export_bundle(model)
    return Files(_stem(model, json.loads(card)), onnx, export_torchscript(model.model, example), weights, card,
                 _comparison(model, onnx))


# ---------------------------------------------------------------------------------------------- re-import
def _borrow_data(imported: Explainable, chosen: Explainable) -> tuple[Explainable, bool]:
    """The imported model takes the page's model's test and training sets when both read the same inputs and name
    the same classes (a model exported from here and brought back), so it can be scored and trained on."""
    same = (tuple(imported.spec.shape) == tuple(chosen.spec.shape) and imported.class_names == chosen.class_names
            and len(chosen.x_test) and chosen.x_test.dtype == imported.x_test.dtype)
    if not same:
        return imported, False
    extra = {**imported.extra, **({"y_train": chosen.extra["y_train"]} if "y_train" in chosen.extra else {})}
    return replace(imported, x_test=chosen.x_test, y_test=chosen.y_test, dataset=chosen.dataset,
                   x_train=chosen.x_train, y_train=chosen.y_train, extra=extra), True


def _import(chosen: Explainable) -> None:
    """Read the two uploaded files; a good pair goes on the shelf and becomes the page's model."""
    state = st.session_state
    weights, card = state.get(WEIGHTS_KEY), state.get(CARD_KEY)
    if weights is None or card is None:
        state[RESULT_KEY] = ("error", t("compress.page.import_both"))
        return
    try:
        model = import_bundle(weights.getvalue(), card.getvalue())
    except PlaygroundError as exc:
        state[RESULT_KEY] = ("error", show(exc))
        return
    model, borrowed = _borrow_data(model, chosen)
    entry = shelf().add(model, model.description)
    state[FROM_KEY], state[ENTRY_KEY] = "shelf", entry.id
    state.setdefault(PINS, {}).pop(entry.id, None)
    note = t("compress.page.import_borrowed") if borrowed else t("compress.page.import_no_data")
    state[RESULT_KEY] = ("ok", t("compress.page.import_ok", name=show(model.description), params=model.parameters(),
                                 note=note))


def reimport(chosen: Chosen) -> None:
    st.subheader(t("compress.page.import_title"), anchor=False)
    st.caption(t("compress.page.import_intro"))
    cols = st.columns(2)
    cols[0].file_uploader(t("compress.page.import_weights"), type=["pt", "pth", "bin"], key=WEIGHTS_KEY,
                          max_upload_size=64)
    cols[1].file_uploader(t("compress.page.import_card"), type=["json"], key=CARD_KEY, max_upload_size=1)
    st.button(t("compress.page.import_button"), icon=":material/upload:", key="cmp_import", type="primary",
              on_click=_import, args=(chosen.model,))
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        kind, message = result
        if kind == "ok":
            st.success(message, icon=":material/inventory_2:")
        else:
            st.error(message, icon=":material/gpp_bad:")


# ---------------------------------------------------------------------------------------------- export
def export(f: Form, chosen: Chosen) -> None:
    if settled(f) is None:
        return
    st.caption(t("compress.page.export_intro"))
    model = chosen.model
    try:
        with st.spinner(t("compress.page.exporting")):
            checks = memo("exports", chosen.token, compress.exports, model)
            files = memo("files", chosen.token, export_files, model)
    except PlaygroundError as exc:
        st.error(show(exc), icon=":material/error:")
        reimport(chosen)
        return
    left, right = st.columns([3, 2], gap="medium")
    chart(viz.export_figure(checks, lang(), height=200), key="cmp_export_table", where=left)
    with right:
        st.markdown(t("compress.page.onnx_outputs"))
        st.dataframe(files.comparison, hide_index=True, width="stretch",
                     column_config={t("compress.page.col_diff"): st.column_config.NumberColumn(format="%.1e")})
    st.markdown(t("compress.page.downloads"))
    cols = st.columns(4)
    cols[0].download_button(t("compress.page.download_onnx"), files.onnx, f"{files.stem}.onnx",
                            "application/octet-stream", key="cmp_dl_onnx", icon=":material/download:",
                            on_click="ignore", width="stretch")
    cols[1].download_button(t("compress.page.download_torchscript"), files.torchscript, f"{files.stem}.torchscript.pt",
                            "application/octet-stream", key="cmp_dl_ts", icon=":material/download:",
                            on_click="ignore", width="stretch")
    cols[2].download_button(t("compress.page.download_weights"), files.weights, f"{files.stem}.pt",
                            "application/octet-stream", key="cmp_dl_weights", icon=":material/download:",
                            on_click="ignore", width="stretch")
    cols[3].download_button(t("compress.page.download_card"), files.card.encode(), f"{files.stem}.json",
                            "application/json", key="cmp_dl_card", icon=":material/download:", on_click="ignore",
                            width="stretch")
    st.caption(t("compress.page.download_note"))
    with st.expander(t("compress.page.card_preview"), icon=":material/badge:"):
        st.json(json.loads(files.card), expanded=1)
    st.divider()
    reimport(chosen)
