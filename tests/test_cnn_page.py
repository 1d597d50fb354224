"""CNN lab page (AppTest): a shared address restores the whole experiment — pictures, architecture, training — on
a fresh session; opening the page puts its settings in the address bar; presets and edits update it; Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.labs import vision
from tests.apptest import open_app_page, query

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/cnn_lab/page.py"
SHARED = {"data": "digits", "size": "8", "preset": "resnet", "blocks": "8k3-none,r8k3-none,r16k3s2-none",
          "fc": "32,16", "bn": "0", "act": "gelu", "dropout": "0.3", "gap": "1", "opt": "Momentum", "lr": "0.01",
          "batch": "32", "epochs": "5", "patience": "2", "wd": "0.0001", "seed": "42", "shift": "10", "rot": "15"}


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return open_app_page(PAGE, query)


def layer_table(at: AppTest):
    return next(d for d in at.dataframe if not d.key).value


def shown_config(at: AppTest) -> vision.Config:
    return at.session_state["cnn__config"]


@pytest.fixture(scope="module")
def shared() -> AppTest:
    return open_page(SHARED)


def test_a_shared_address_restores_the_experiment_in_the_widgets(shared):
    at = shared
    expected, warnings = vision.Config.from_query(SHARED)
    assert warnings == [] and shown_config(at) == expected
    assert at.segmented_control(key="cnn_digit_size").value == 8
    assert at.selectbox(key="cnn_preset").value == "resnet"
    assert at.text_input(key="cnn_fc_text").value == "32, 16"
    assert at.toggle(key="cnn_batch_norm").value is False and at.toggle(key="cnn_global_pool").value is True
    assert at.selectbox(key="cnn_activation").value == "gelu" and at.slider(key="cnn_dropout").value == 0.3
    assert at.selectbox(key="cnn_optimizer").value == "Momentum" and at.select_slider(key="cnn_lr").value == 0.01
    assert at.select_slider(key="cnn_batch_size").value == 32 and at.number_input(key="cnn_epochs").value == 5
    assert at.number_input(key="cnn_seed").value == 42 and at.slider(key="cnn_aug_rotation").value == 15
    blocks = next(d for d in at.dataframe if (d.key or "").startswith("cnn_blocks_editor")).value
    assert list(blocks["channels"]) == [8, 8, 16] and list(blocks["residual"]) == [False, True, True]
    assert list(blocks["stride"]) == [1, 1, 2] and set(blocks["pool"]) == {"none"}
    layers = list(layer_table(at).iloc[:, 0])
    assert layers[:3] == ["input", "conv1", "gelu1"] and "res2" in layers and "bn1" not in layers
    assert query(at) == {**vision.Config.from_query(SHARED)[0].to_query(), "lang": "en"}  # nothing lost or added


def test_changing_a_setting_updates_the_address_bar(shared):
    at = shared
    at.number_input(key="cnn_epochs").set_value(12).run()
    at.text_input(key="cnn_fc_text").set_value("48").run()
    assert not at.exception and query(at)["epochs"] == "12" and query(at)["fc"] == "48"
    at.selectbox(key="cnn_preset").set_value("seed").run()  # a preset: its blocks, head and training
    q = query(at)
    assert q["preset"] == "seed" and q["blocks"] == "64k3-max,128k3-max" and q["fc"] == "512"
    assert (q["opt"], q["lr"]) == ("Momentum", "0.01") and at.text_input(key="cnn_fc_text").value == "512"
    at.selectbox(key="cnn_optimizer").set_value("Adam").run()
    assert query(at)["lr"] == "0.003"


def test_opening_the_page_writes_its_settings_into_the_address_bar():
    at = open_page()
    assert query(at) == {**vision.Config().to_query(), "lang": "en"}
    assert at.title[0].value == "CNN lab" and not at.error


def test_bad_hand_edited_address_warns_and_serves_the_fixed_settings():
    at = open_page({"blocks": "16k3-max,32k3-swirl", "lr": "9", "epochs": "x"})
    warnings = " | ".join(w.value for w in at.warning)
    assert "not a conv block" in warnings and "lr=9" in warnings and "epochs=x" in warnings, warnings
    q = query(at)
    assert q["blocks"] == vision.Config().blocks and q["lr"] == "0.3" and q["epochs"] == "8"


def test_the_page_in_chinese():
    at = open_page({"lang": "zh", "data": "shapes"})
    assert at.title[0].value == "卷积神经网络实验室"
    assert [h.value for h in at.subheader][:3] == ["1 · 图片", "2 · 网络", "3 · 训练"]
    assert "SGD + 动量" in at.selectbox(key="cnn_optimizer").options
    assert query(at)["lang"] == "zh" and query(at)["data"] == "shapes"
    assert layer_table(at).iloc[1, 1] == "卷积"


def test_uploads_are_not_part_of_the_link_and_the_page_says_so():
    at = open_page({"data": "upload", "epochs": "3"})
    assert any("not part of the link" in c.value for c in at.caption)
    assert any("Choose or upload pictures" in i.value for i in at.info)  # nothing to train on yet
    q = query(at)
    assert q["data"] == "upload" and q["epochs"] == "3" and "up_size" not in q and "up_color" not in q
