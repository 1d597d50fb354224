"""CNN lab, steps 2–3: build the conv stack (from a preset, then edit block by block) with a live layer
table, and choose how to train it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data.images import Augmentation, ImageDataset
from core.errors import ConfigError
from core.models import MODELS
from core.models.cnn import (
    ACTIVATIONS,
    DEFAULT_PRESET,
    CNNConfig,
    ConvBlock,
    LayerRow,
    layer_table,
    preset,
    recommended_training,
)
from core.vision import OPTIMIZER_CHOICES, TrainSettings

LEARNING_RATES = [0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3]
BLOCK_COLUMNS = ["residual", "convs", "channels", "kernel", "stride", "padding", "pool"]


def _blocks_frame(config: CNNConfig) -> pd.DataFrame:
    return pd.DataFrame([{c: getattr(b, c) for c in BLOCK_COLUMNS} for b in config.blocks], columns=BLOCK_COLUMNS)


def _blocks_from(frame: pd.DataFrame) -> tuple[ConvBlock, ...]:
    blocks = []
    for i, row in enumerate(frame.to_dict("records"), 1):
        if any(pd.isna(row.get(c)) for c in BLOCK_COLUMNS if c != "residual"):
            raise ConfigError(f"Block {i} has an empty cell; fill it in or delete the row.")
        blocks.append(ConvBlock(channels=int(row["channels"]), kernel=int(row["kernel"]), stride=int(row["stride"]),
                                padding=int(row["padding"]), convs=int(row["convs"]), pool=str(row["pool"]),
                                residual=bool(row["residual"])))
    if not blocks:
        raise ConfigError("Add at least one conv block (the + under the table).")
    return tuple(blocks)


def _parse_fc(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"Hidden layers must be whole numbers separated by commas, e.g. 120, 84 (got {text!r}).") \
            from None


def _shape(row: LayerRow) -> str:
    return " × ".join(map(str, row.out_shape))


def table_frame(rows: list[LayerRow], config: CNNConfig) -> pd.DataFrame:
    """The layer table as shown: input row first, then one row per layer."""
    data = [{"layer": "input", "type": "image", "what it does": "the normalised picture",
             "output shape": f"{config.in_channels} × {config.image_size} × {config.image_size}", "parameters": 0,
             "receptive field": "1×1", "multiply-adds": 0}]
    for r in rows:
        data.append({"layer": r.name.split(".", 1)[1], "type": r.kind, "what it does": r.detail,
                     "output shape": _shape(r), "parameters": r.params,
                     "receptive field": f"{r.receptive_field}×{r.receptive_field}" if r.receptive_field else "",
                     "multiply-adds": r.macs})
    return pd.DataFrame(data)


def model_section(ds: ImageDataset) -> CNNConfig | None:
    """Preset + block editor + head settings → a checked config (``None`` with an error shown if impossible)."""
    names = MODELS.names("cnn")
    cols = st.columns([1, 2])
    name = cols[0].selectbox("Start from a preset", names, index=names.index(DEFAULT_PRESET), key="cnn_preset")
    cols[1].caption(MODELS.entry(name).description)
    base = preset(name, ds.channels, ds.size, ds.num_classes)
    tag = f"{name}_{ds.channels}_{ds.size}"  # a new preset or input shape resets the editors below
    st.markdown("**Conv blocks** — one row per block; edit cells, add rows with + or delete them.")
    frame = st.data_editor(
        _blocks_frame(base), num_rows="dynamic", hide_index=False, key=f"cnn_blocks_{tag}", width="stretch",
        column_config={
            "residual": st.column_config.CheckboxColumn("residual", help="ResNet block: two convs + a shortcut "
                                                        "that adds the block's input to its output", default=False),
            "convs": st.column_config.NumberColumn("convs", min_value=1, max_value=3, default=1,
                                                   help="Conv layers in the block (VGG uses 2)"),
            "channels": st.column_config.NumberColumn("channels", min_value=1, max_value=512, default=16,
                                                      help="Number of filters = output channels"),
            "kernel": st.column_config.NumberColumn("kernel", min_value=1, max_value=11, default=3),
            "stride": st.column_config.NumberColumn("stride", min_value=1, max_value=4, default=1),
            "padding": st.column_config.NumberColumn("padding", min_value=0, max_value=11, default=1,
                                                     help="Zeros added around the map; kernel // 2 keeps the size. "
                                                     "Residual blocks always use kernel // 2."),
            "pool": st.column_config.SelectboxColumn("pool", options=["max", "avg", "none"], default="max",
                                                     help="2×2 pooling after the block"),
        })
    cols = st.columns(5)
    batch_norm = cols[0].toggle("Batch norm", base.batch_norm, key=f"cnn_bn_{tag}")
    activation = cols[1].selectbox("Activation", list(ACTIVATIONS), index=list(ACTIVATIONS).index(base.activation),
                                   key=f"cnn_act_{tag}")
    fc_text = cols[2].text_input("Hidden FC layers", ", ".join(map(str, base.fc)), key=f"cnn_fc_{tag}",
                                 help="Widths of the fully connected layers before the class layer, e.g. 120, 84. "
                                 "Empty: straight to the classes.")
    dropout = cols[3].slider("Dropout", 0.0, 0.7, float(base.dropout), 0.05, key=f"cnn_drop_{tag}",
                             help="Before each fully connected layer, while training")
    global_pool = cols[4].toggle("Global avg pool", base.global_pool, key=f"cnn_gap_{tag}",
                                 help="Average each channel over the whole map before the FC layers (ResNet)")
    try:
        config = CNNConfig(ds.channels, ds.size, ds.num_classes, blocks=_blocks_from(frame), fc=_parse_fc(fc_text),
                           batch_norm=batch_norm, activation=activation, dropout=dropout, global_pool=global_pool,
                           name=name)
        rows = layer_table(config)
    except ConfigError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    total = sum(r.params for r in rows)
    biggest = max(rows, key=lambda r: r.params)
    rf = max((r.receptive_field or 0) for r in rows)
    cols = st.columns(4)
    cols[0].metric("Parameters", f"{total:,}")
    cols[1].metric("Multiply-adds / image", f"{sum(r.macs for r in rows) / 1e6:.2f} M")
    cols[2].metric("Largest layer", biggest.name.split(".", 1)[1], f"{biggest.params / max(total, 1):.0%} of params",
                   delta_color="off")
    cols[3].metric("Receptive field", f"{rf}×{rf} px", help="How much of the input one value of the last conv "
                   "map can see")
    st.dataframe(table_frame(rows, config), hide_index=True, width="stretch", key="cnn_table",
                 height=min(36 * (len(rows) + 2), 640),
                 column_config={"parameters": st.column_config.NumberColumn(format="localized"),
                                "multiply-adds": st.column_config.NumberColumn(format="localized")})
    st.caption("Conv arithmetic: output = ⌊(input + 2·padding − kernel) / stride⌋ + 1. A conv layer has "
               "filters × (input channels × kernel² + 1 bias) parameters (no bias when batch norm follows).")
    return config


def train_settings(augment: Augmentation, preset_name: str) -> tuple[TrainSettings, float, int]:
    """Optimizer, learning rate, batch size, epochs, early stopping, weight decay, seed, and a slow-motion delay.
    The optimizer and learning rate start at what the chosen preset trains well with."""
    labels = list(OPTIMIZER_CHOICES)
    opt_name, opt_lr = recommended_training(preset_name)
    cols = st.columns(4)
    optimizer = cols[0].selectbox("Optimizer", labels, index=list(OPTIMIZER_CHOICES.values()).index(opt_name),
                                  key=f"cnn_opt_{preset_name}")
    default_lr = opt_lr if OPTIMIZER_CHOICES[optimizer] == opt_name else (0.003 if "Adam" in optimizer else 0.03)
    lr = cols[1].select_slider("Learning rate", LEARNING_RATES, default_lr, key=f"cnn_lr_{preset_name}_{optimizer}",
                               help="Decays along a cosine to 5 % by the last step.")
    batch = cols[2].select_slider("Batch size", [16, 32, 64, 128, 256], 64, key="cnn_batch")
    epochs = cols[3].number_input("Epochs", 1, 100, 8, key="cnn_epochs")
    cols = st.columns(4)
    patience = cols[0].number_input("Early-stop patience", 0, 20, 0, key="cnn_patience",
                                    help="Stop after this many epochs without a better validation loss and keep "
                                    "the best weights; 0 = train all epochs.")
    decay = cols[1].select_slider("Weight decay", [0.0, 1e-5, 1e-4, 1e-3, 1e-2], 0.0, key="cnn_wd",
                                  help="L2 penalty on the weights (a regulariser).")
    seed = cols[2].number_input("Seed", 0, 9999, 0, key="cnn_seed", help="Picks the random initial weights and "
                                "the order of the batches; change it to train the same network again from another "
                                "start.")
    speed = cols[3].selectbox("Speed", ["full", "slow motion"], key="cnn_speed",
                              help="Slow motion waits 50 ms after each step so you can watch the filters form.")
    settings = TrainSettings(optimizer=OPTIMIZER_CHOICES[optimizer], lr=float(lr), batch_size=int(batch),
                             epochs=int(epochs), patience=int(patience) or None, weight_decay=float(decay),
                             augment=augment)
    return settings, 0.05 if speed == "slow motion" else 0.0, int(seed)
