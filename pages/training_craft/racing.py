"""The optimizer race on a 2-D loss surface (animated contour) and the same optimizers on a real model."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.jobs import JobSnapshot
from core.labs import craft
from core.training import OPTIMIZERS
from core.viz.craft import race_figure, race_losses, side_by_side_figure
from core.viz.curves import thin
from ui.display import chart
from ui.i18n import lang, t
from ui.jobs import live_panel
from ui.settings import Form

from . import common

RACE_SECONDS = 8.0  # a race of any length takes about this long to watch


@st.cache_data(show_spinner=False, max_entries=8)
def cached_grid(surface: str) -> craft.SurfaceGrid:
    return craft.surface_grid(surface)


def start_view(config: craft.Config) -> craft.RaceView:
    """The race before its first step: every optimizer at the start (no ``torch.optim`` here: the first optimizer
    a process builds imports torch's compiler stack, seconds the page should not wait)."""
    surface = craft.SURFACES[config.surface]
    rates = config.race_rates()
    k = len(rates)
    x, y = config.start
    height = float(surface.fn(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))
    never = np.full(k, -1, dtype=np.int64)
    return craft.RaceView(config.surface, tuple(rates), tuple(rates.values()), 0,
                          np.tile(np.float32([x, y]), (k, 1, 1)), np.full((k, 1), height, dtype=np.float32), never,
                          never.copy(), np.asarray(surface.minima, dtype=np.float64), surface.box, surface.radius,
                          surface.f_min)


def _rates_input(f: Form) -> None:
    st.text_input(f.label("rates"), key=f.key("rates"), max_chars=300, help=t("craft.page.rates_help"),
                  placeholder=t("craft.page.rates_placeholder"))


# ---------------------------------------------------------------------------------------------- race
def race_settings(f: Form) -> None:
    f.select("surface", format_func=lambda v: t(f"craft.surfaces.{v}"))
    f.pills("optimizers", format_func=lambda v: t(f"craft.optimizers.{v}"), wrap=True)
    f.slider("steps", step=10)
    box = craft.SURFACES[f.value("surface")].box
    sx, sy = craft.SURFACES[f.value("surface")].start
    cols = st.columns(2)
    for col, name, default, (low, high) in ((cols[0], "start_x", sx, box[:2]), (cols[1], "start_y", sy, box[2:])):
        f.number(name, where=col, min_value=float(low), max_value=float(high), step=0.1, format="%.3f",
                 placeholder=t("craft.page.start_default", value=default))
    _rates_input(f)


def race_live(config: craft.Config) -> None:
    steps = max(1, config.steps)
    common.controls("race", config, label=t("craft.page.start_race"), step_delay_s=min(0.01, RACE_SECONDS / steps))
    st.toggle(t("craft.page.animate"), key="craft_animate", help=t("craft.page.animate_help"))
    live_panel(common.job_key("race"), functools.partial(_race, config=config), every=0.5)


def _race(snap: JobSnapshot | None, config: craft.Config) -> None:
    run = common.run_config("race", config)
    view = common.view_of(snap, craft.RaceView) or start_view(run)
    animate = st.session_state.get("craft_animate") and snap is not None and not snap.state.active
    fig = race_figure(view, cached_grid(view.surface), lang=lang(), frames=40 if animate else 0)
    fig.update_layout(legend={"y": -0.16})  # below the x axis title
    chart(fig, key="craft_race")
    if view.step > 0:
        chart(race_losses(view, lang=lang()), key="craft_race_losses")
    st.dataframe(race_table(view), hide_index=True, key="craft_race_table")


def race_table(view: craft.RaceView) -> pd.DataFrame:
    last = view.loss[:, -1].astype(np.float64) - view.f_min
    return pd.DataFrame({
        t("craft.page.col_optimizer"): [t(f"craft.optimizers.{n}") for n in view.names],
        t("craft.page.col_rate"): [f"{r:g}" for r in view.rates],
        t("craft.page.col_reached"): [str(int(r)) if r >= 0 else "–" for r in view.reached],
        t("craft.page.col_above"): [f"{v:.3g}" if math.isfinite(v) else "–" for v in last],
        t("craft.page.col_diverged"): [str(int(d)) if d >= 0 else "–" for d in view.diverged],
    })


# ---------------------------------------------------------------------------------------------- a real model
def optimizers_settings(f: Form) -> None:
    f.pills("optimizers", format_func=lambda v: t(f"craft.optimizers.{v}"), wrap=True)
    _rates_input(f)
    f.slider("subset", step=10)
    cols = st.columns(2)
    f.slider("width", where=cols[0])
    f.slider("depth", where=cols[1])
    f.slider("epochs", max_value=common.most(f, "epochs", 100))
    f.select_slider("batch_size", options=common.with_value(f, "batch_size", (8, 16, 32, 64, 128, 256)))


def optimizers_live(config: craft.Config) -> None:
    rates = config.model_rates()
    st.caption(t("craft.page.model_rates", rates=", ".join(f"{t(f'craft.optimizers.{n}')} {r:g}"
                                                             for n, r in rates.items())))
    common.controls("optimizers", config)
    live_panel(common.job_key("optimizers"), functools.partial(_optimizers, config=config), every=1.0)


def _optimizers(snap: JobSnapshot | None, config: craft.Config) -> None:
    view = common.view_of(snap, craft.SideBySideView)
    if view is None:
        st.caption(t("craft.page.press_train"))
        return
    chart(side_by_side_figure(view, thin(snap, 400).history, lang=lang()), key="craft_opt_curves")
    cols = st.columns(min(6, len(view.names)) or 1)
    for k, name in enumerate(view.names):
        acc = view.val_accuracy[k, -1] if view.val_accuracy.shape[1] else math.nan
        label = t(f"craft.optimizers.{name}") if name in OPTIMIZERS else name
        if view.diverged[k] >= 0:
            cols[k % len(cols)].metric(label, "∞", help=t("craft.page.diverged_help", step=int(view.diverged[k])))
        else:
            cols[k % len(cols)].metric(label, f"{acc:.1%}" if math.isfinite(acc) else "–",
                                       help=t("craft.page.val_accuracy_help"))
