"""CNN lab, steps 2–3: the network (a preset, then edited block by block, with a live layer table) and how it
trains; the page's ``Form`` and the job it starts."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.data.images import ImageDataset
from core.errors import ConfigError, PlaygroundError
from core.jobs import TrainingJob
from core.labs import vision
from core.models.cnn import POOLS, ConvBlock, LayerRow, layer_table
from ui.i18n import show, t
from ui.jobs import current_job
from ui.settings import Form

JOB = "cnn_job"
TRAINED = "cnn_trained"
BLOCK_COLUMNS = ("residual", "convs", "channels", "kernel", "stride", "padding", "pool")


@dataclass
class Trained:
    """What the current job was built from (the page keeps it to show and test the trained network)."""

    config: vision.Config
    dataset: ImageDataset


def form() -> Form[vision.Config]:
    return Form(vision.Config, "cnn")


def new_job(config: vision.Config, dataset: ImageDataset) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown (already checked by the page)."""
    job = vision.make_job(config, dataset)
    st.session_state[TRAINED] = Trained(config, dataset)
    return job


def follow_settings(config: vision.Config) -> None:
    """Slow motion applies to the running job at once; everything else waits for the next Train."""
    job = current_job(JOB)
    if job is not None and job.state.active:
        job.step_delay_s = config.step_delay_s


# ---------------------------------------------------------------------------------------------- presets
def apply_architecture(f: Form, config: vision.Config) -> None:
    """Show ``config`` in every widget, the block table and the FC text included."""
    f.apply(config)
    st.session_state["cnn_fc_text"] = ", ".join(map(str, config.fc))


def _preset_chosen(f: Form) -> None:
    apply_architecture(f, f.config().with_preset(training=True))


def _optimizer_chosen(f: Form) -> None:
    st.session_state[f.key("lr")] = vision.suggested_lr(f.value("preset"), f.value("optimizer"))


# ---------------------------------------------------------------------------------------------- the network
def _frame(blocks: tuple[ConvBlock, ...]) -> pd.DataFrame:
    return pd.DataFrame([{c: getattr(b, c) for c in BLOCK_COLUMNS} for b in blocks], columns=list(BLOCK_COLUMNS))


def _blocks_of(frame: pd.DataFrame) -> tuple[ConvBlock, ...]:
    blocks = []
    for n, row in enumerate(frame.to_dict("records"), 1):
        if any(pd.isna(row.get(c)) for c in BLOCK_COLUMNS if c != "residual"):
            raise ConfigError("vision.errors.empty_cell", n=n)
        blocks.append(ConvBlock(channels=int(row["channels"]), kernel=int(row["kernel"]), stride=int(row["stride"]),
                                padding=int(row["padding"]), convs=int(row["convs"]), pool=str(row["pool"]),
                                residual=bool(row["residual"])))
    return tuple(blocks)


def _block_editor() -> str:
    """The conv blocks as an editable table; returns the blocks as the config's compact text."""
    state = st.session_state
    shown = state["cnn_blocks"]
    version = state.get("cnn_blocks_version", 0)
    if f"cnn_blocks_editor_{version}" not in state or shown != state.get("cnn_blocks_made"):
        version += 1  # new blocks from outside (a preset, other pictures, a link): start a fresh editor
        state["cnn_blocks_version"], state["cnn_blocks_base"] = version, shown
    try:
        base = vision.parse_blocks(state["cnn_blocks_base"])
    except ConfigError as exc:
        st.error(show(exc), icon=":material/error:")
        base = ()
    number = st.column_config.NumberColumn
    frame = st.data_editor(
        _frame(base), num_rows="dynamic", hide_index=False, key=f"cnn_blocks_editor_{version}", width="stretch",
        column_config={
            "residual": st.column_config.CheckboxColumn(t("vision.blocks.residual"), default=False,
                                                        help=t("vision.blocks.residual_help")),
            "convs": number(t("vision.blocks.convs"), min_value=1, max_value=3, default=1,
                            help=t("vision.blocks.convs_help")),
            "channels": number(t("vision.blocks.channels"), min_value=1, max_value=512, default=16,
                               help=t("vision.blocks.channels_help")),
            "kernel": number(t("vision.blocks.kernel"), min_value=1, max_value=11, default=3),
            "stride": number(t("vision.blocks.stride"), min_value=1, max_value=4, default=1),
            "padding": number(t("vision.blocks.padding"), min_value=0, max_value=11, default=1,
                              help=t("vision.blocks.padding_help")),
            "pool": st.column_config.SelectboxColumn(t("vision.blocks.pool"), options=list(POOLS), default="max",
                                                     help=t("vision.blocks.pool_help")),
        })
    text = vision.format_blocks(_blocks_of(frame))
    state["cnn_blocks"] = state["cnn_blocks_made"] = text
    return text


def network_section(f: Form) -> tuple[dict, PlaygroundError | None]:
    """Preset, block table and head; returns the values the widgets cannot hold themselves (the blocks and the FC
    widths) and the error of a table or text that cannot be read."""
    cols = st.columns([1, 2])
    f.select("preset", where=cols[0], on_change=_preset_chosen, args=(f,))
    cols[1].caption(t(f"vision.presets.{f.value('preset')}"))
    st.markdown(t("vision.page.blocks"))
    overrides, error = {}, None
    try:
        overrides["blocks"] = _block_editor()
    except PlaygroundError as exc:
        error = exc
    cols = st.columns(5)
    f.toggle("batch_norm", where=cols[0])
    f.select("activation", where=cols[1])
    st.session_state.setdefault("cnn_fc_text", ", ".join(map(str, f.value("fc"))))
    fc_text = cols[2].text_input(f.label("fc"), key="cnn_fc_text", help=f.help("fc"))
    try:
        overrides["fc"] = vision.parse_widths(fc_text)
        st.session_state[f.key("fc")] = list(overrides["fc"])
    except PlaygroundError as exc:
        error = error or exc
    f.slider("dropout", where=cols[3], step=0.05)
    f.toggle("global_pool", where=cols[4])
    return overrides, error


def train_section(f: Form) -> None:
    """Optimizer, learning rate, batch size, epochs, early stopping, weight decay, seed and slow motion."""
    cols = st.columns(4)
    f.select("optimizer", where=cols[0], on_change=_optimizer_chosen, args=(f,))
    f.select_slider("lr", where=cols[1])
    f.select_slider("batch_size", where=cols[2])
    f.number("epochs", where=cols[3])
    cols = st.columns(4)
    f.number("patience", where=cols[0])
    f.select_slider("weight_decay", where=cols[1])
    f.number("seed", where=cols[2])
    with cols[3]:
        st.space("small")
        f.toggle("slow_motion")


# ---------------------------------------------------------------------------------------------- layer table
def _rf(size: int | None) -> str:
    return f"{size}×{size}" if size else ""


def table_frame(rows: list[LayerRow], channels: int, size: int) -> pd.DataFrame:
    """The layer table as shown: the input first, then one row per layer."""
    head = [t("vision.table.layer"), t("vision.table.type"), t("vision.table.what"), t("vision.table.shape"),
            t("vision.table.params"), t("vision.table.rf"), t("vision.table.macs")]
    data = [(t("vision.table.input"), t("vision.kinds.image"), t("vision.table.input_what"),
             f"{channels} × {size} × {size}", 0, "1×1", 0)]
    data += [(r.name.split(".", 1)[1], t(f"vision.kinds.{r.kind}"), show(r.detail), " × ".join(map(str, r.out_shape)),
              r.params, _rf(r.receptive_field), r.macs) for r in rows]
    return pd.DataFrame(data, columns=head)


def layer_summary(config: vision.Config, dataset: ImageDataset) -> None:
    """Totals, the largest layer and the receptive field, then the whole layer table (conv arithmetic by hand)."""
    rows = layer_table(config.cnn(dataset.channels, dataset.size, dataset.num_classes))
    total = sum(r.params for r in rows)
    biggest = max(rows, key=lambda r: r.params)
    rf = max((r.receptive_field or 0) for r in rows)
    cols = st.columns(4)
    cols[0].metric(t("vision.page.params"), f"{total:,}")
    cols[1].metric(t("vision.page.macs"), t("vision.page.macs_value", value=sum(r.macs for r in rows) / 1e6))
    cols[2].metric(t("vision.page.largest"), biggest.name.split(".", 1)[1],
                   t("vision.page.largest_share", share=biggest.params / max(total, 1)), delta_color="off")
    cols[3].metric(t("vision.page.rf"), t("vision.page.rf_value", size=rf), help=t("vision.page.rf_help"))
    frame = table_frame(rows, dataset.channels, dataset.size)
    number = st.column_config.NumberColumn(format="localized")
    st.dataframe(frame, hide_index=True, width="stretch", key="cnn_table", height=min(36 * (len(rows) + 2), 640),
                 column_config={frame.columns[4]: number, frame.columns[6]: number})
    st.caption(t("vision.page.arithmetic"))
