"""What every part of the training-craft page shares: the page's settings (the lab's ``Config`` plus the part shown),
switching parts (each part remembers its own settings), jobs, preset buttons and the same-initialisation switch."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import streamlit as st

from core.config import setting
from core.data.tabular import TabularData
from core.errors import PlaygroundError
from core.i18n import Message
from core.jobs import JobSnapshot, TrainingJob
from core.labs import craft
from ui.i18n import show, t
from ui.jobs import current_job, job_controls
from ui.settings import Form

PREFIX = "craft"
PAUSE_UNWATCHED_S = 60.0  # a run whose page is closed pauses itself after this long

# The parts of the page, the experiment each one trains, its preset experiments (the first one is where a first visit
# starts) and the settings it keeps for itself while the visitor looks at another part.
TABS = ("race", "optimizers", "schedules", "overfit", "poly", "pipeline", "search", "csv")
EXPERIMENT = {"race": "race", "optimizers": "optimizers", "schedules": "digits", "overfit": "digits", "poly": "poly",
              "pipeline": "pipeline", "search": "digits", "csv": "csv"}
TAB_PRESETS: dict[str, tuple[str, ...]] = {
    "race": ("race_rosenbrock", "race_beale", "race_saddle", "race_bowl", "race_camel"),
    "optimizers": ("optimizers_digits",),
    "schedules": ("schedule_onecycle", "schedule_cosine"),
    "overfit": ("overfit", "overfit_cured", "early_stopping", "batch_norm"),
    "poly": ("poly_overfit", "poly_right"),
    "pipeline": ("pipeline",),
    "search": ("search_tpe", "search_random", "search_grid"),
    "csv": (),
}
CSV_DEFAULT = craft.Config(experiment="csv", width=32, depth=2, lr=0.01, epochs=60, batch_size=32)
PER_TAB = ("steps", "optimizer", "lr", "schedule", "warmup_pct", "batch_size", "epochs", "subset", "width", "depth",
           "dropout", "l2", "augment", "batch_norm", "patience", "degree", "points", "noise", "budget", "method",
           "prune")


@dataclass(frozen=True)
class PageConfig(craft.Config):
    """The lab's settings plus the part of the page on show (in the link too, so a shared address opens it)."""

    LAB: ClassVar[str] = "craft"

    tab: str = setting("race", key="tab", choices=TABS, rebuild=False)

    def check(self) -> None:
        """As the lab's, except that the part for the visitor's table asks for its label itself (no table yet is
        not an error of the page; Train then says what is missing)."""
        waiting = self.experiment == "csv" and not self.label
        craft.Config.check(replace(self, experiment="digits") if waiting else self)

    @classmethod
    def repair(cls, values: dict[str, Any], params, warnings: list) -> None:
        """The part shown decides the experiment (a link may say otherwise)."""
        super().repair(values, params, warnings)
        values["experiment"] = EXPERIMENT[values["tab"]]

    def core(self) -> craft.Config:
        """The lab's own config (what jobs, figures and model cards get), experiment set by the part shown."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(craft.Config)}
        return craft.Config(**{**values, "experiment": EXPERIMENT[self.tab]})


def tab_defaults(tab: str) -> craft.Config:
    names = TAB_PRESETS[tab]
    return craft.PRESETS[names[0]] if names else CSV_DEFAULT


def form() -> Form[PageConfig]:
    """The page's settings; a link that names a part but not its settings opens that part's first preset."""
    tab = st.query_params.get("tab")
    if f"{PREFIX}__config" not in st.session_state and tab in TABS:
        defaults = tab_defaults(tab).to_query()
        for name in PER_TAB:
            url_key = PageConfig.field(name).setting.key
            if url_key not in st.query_params:
                st.query_params[url_key] = defaults[url_key]
    return Form(PageConfig, PREFIX)


def most(f: Form, name: str, cap: float) -> float:
    """A slider's upper end: ``cap``, or the value itself when a link asks for more (within the field's range)."""
    return max(cap, f.value(name))


def key(name: str) -> str:
    return f"{PREFIX}_{name}"


def job_key(tab: str) -> str:
    return f"{PREFIX}_job_{tab}"


# ---------------------------------------------------------------------------------------------- parts and presets
def _tab_changed(f: Form) -> None:
    """Each part keeps its own model and training settings; a first visit starts from its first preset."""
    state = st.session_state
    memo = state.setdefault(f"{PREFIX}__per_tab", {})
    before = state[f"{PREFIX}__config"].tab
    memo[before] = {name: f.value(name) for name in PER_TAB}
    tab = f.value("tab")
    defaults = tab_defaults(tab)
    for name, value in memo.get(tab, {n: getattr(defaults, n) for n in PER_TAB}).items():
        state[f.key(name)] = list(value) if isinstance(value, tuple) else value


def tab_picker(f: Form) -> str:
    f.segmented("tab", format_func=lambda v: t(f"craft.page.tab_{v}"), on_change=_tab_changed, args=(f,),
                label_visibility="collapsed")
    return f.value("tab")


def _apply_preset(f: Form, name: str) -> None:
    """A preset's experiment, keeping the visitor's own table choices and the part on show."""
    kept = {n: f.value(n) for n in ("label", "features", "task", "tab", "same_init", "init_seed")}
    core = craft.PRESETS[name]
    values = {fl.name: getattr(core, fl.name) for fl in dataclasses.fields(craft.Config)}
    f.apply(PageConfig(**{**values, **kept}))


def preset_buttons(f: Form, tab: str) -> None:
    names = TAB_PRESETS[tab]
    if not names:
        return
    with st.container(horizontal=True, gap="small"):
        st.markdown(t("craft.page.try"))
        for name in names:
            st.button(t(f"craft.presets.{name}"), key=f"{PREFIX}_preset_{name}", on_click=_apply_preset,
                      args=(f, name), help=t(f"craft.presets.{name}_about"), icon=":material/science:")


def part_of(config: craft.Config) -> str:
    """The part of the page that trains ``config.experiment`` (the digits: Schedules when a schedule is set, else
    Overfitting)."""
    if config.experiment == "digits":
        return "schedules" if config.schedule != "constant" else "overfit"
    return "schedules" if config.experiment == "range" else config.experiment


class LessonForm:
    """The form a lesson's "Set it up" fills: settings of another experiment open its part, and the part being left
    keeps its own settings, as the part picker does."""

    def __init__(self, f: Form[PageConfig]) -> None:
        self.form = f

    def config(self) -> PageConfig:
        return self.form.config()

    def apply(self, config: PageConfig) -> None:
        tab, before = part_of(config), self.form.value("tab")
        if tab != before:
            memo = st.session_state.setdefault(f"{PREFIX}__per_tab", {})
            memo[before] = {name: self.form.value(name) for name in PER_TAB}
        self.form.apply(replace(config, tab=tab, experiment=EXPERIMENT[tab]))


# ---------------------------------------------------------------------------------------------- widgets
def optional_int(f: Form, name: str, *, toggle_label: str, fallback: int, where: Any = st, **slider: Any) -> None:
    """A toggle and a slider for an ``int | None`` field (None: off); they follow the field when a preset, a part
    switch or the link changes it."""
    state = st.session_state
    field_key, on_key, value_key, seen_key = f.key(name), f"{f.key(name)}__on", f"{f.key(name)}__value", \
        f"{f.key(name)}__seen"
    value = state.get(field_key)
    if seen_key not in state or state[seen_key] != value:
        state[on_key] = value is not None
        state[value_key] = value if value is not None else state.get(value_key, fallback)
    low, high = f.field(name).setting.low, f.field(name).setting.high
    on = where.toggle(toggle_label, key=on_key, help=f.help(name))
    chosen = where.slider(f.label(name), int(low), int(high), key=value_key, disabled=not on, **slider)
    state[field_key] = state[seen_key] = chosen if on else None


def with_value(f: Form, name: str, options: tuple) -> list:
    """A select slider's options, with the value itself when a link asks for another one."""
    return sorted({*options, f.value(name)})


def rate_select(f: Form, name: str = "lr", where: Any = st, **kw: Any) -> None:
    f.select_slider(name, where=where, **kw)


def optimizer_select(f: Form, where: Any = st) -> None:
    f.select("optimizer", where=where, format_func=lambda v: t(f"craft.optimizers.{v}"))


def init_controls(f: Form, where: Any = st) -> None:
    """The starting weights (their seed, and whether Reset keeps them) and the data seed."""
    where.markdown(t("craft.page.start_point"))
    f.toggle("same_init", where=where)
    cols = where.columns(2)
    f.number("init_seed", where=cols[0])
    f.number("seed", where=cols[1])


def handle_resets(f: Form) -> None:
    """Reset with "same initialisation" off draws new starting weights (before the widgets are drawn)."""
    state = st.session_state
    for tab in (*TABS, "range"):
        if state.get(f"{job_key(tab)}__reset"):
            before = f.config().core()
            after = craft.reset(before)
            if after.init_seed != before.init_seed:
                state[f.key("init_seed")] = after.init_seed
                st.toast(t("craft.page.new_init", seed=after.init_seed), icon=":material/casino:")


# ---------------------------------------------------------------------------------------------- jobs
def new_job(config: craft.Config, tab: str, data: TabularData | None = None, **options: Any) -> TrainingJob:
    """A job for ``job_controls`` from the settings shown (it pauses itself a minute after its page is left)."""
    job = craft.make_job(config, data=data, pause_unwatched_s=PAUSE_UNWATCHED_S, **options)
    job.name = Message(f"craft.page.job_{tab}")  # the part of the page, in the visitor's job list and shelf
    st.session_state[f"{job_key(tab)}__config"] = config
    return job


def run_config(tab: str, config: craft.Config) -> craft.Config:
    """The settings the part's current run was started with (the page's when nothing runs)."""
    return st.session_state.get(f"{job_key(tab)}__config", config) if current_job(job_key(tab)) else config


def controls(tab: str, config: craft.Config, *, data: TabularData | None = None, label: str | None = None,
             **options: Any) -> None:
    job_controls(job_key(tab), lambda: new_job(config, tab, data, **options), lab="craft", play_label=label,
                 compact=True)


def view_of(snap: JobSnapshot | None, kind: type | tuple[type, ...]) -> Any:
    view = snap.view if snap is not None else None
    return view if isinstance(view, kind) else None


def inspect(tab: str, fn: Callable[..., Any], *args: Any, timeout: float = 10) -> Any:
    """``job.inspect(fn, *args)`` on the part's job; None (with a note) when it cannot run now."""
    job = current_job(job_key(tab))
    if job is None:
        return None
    try:
        return job.inspect(fn, *args, timeout=timeout)
    except PlaygroundError as exc:
        st.warning(show(exc), icon=":material/info:")
    except (RuntimeError, TimeoutError, AttributeError):
        st.caption(t("craft.page.not_yet"))
    return None


def titled(fig, metric: str):
    """A half-width curve chart with a short title (the gap is in the numbers above it)."""
    return fig.update_layout(title=t(f"craft.page.{metric}_title"))


def number(value: float, digits: int = 3) -> str:
    """A loss or a gap: ``digits`` significant digits (tiny training losses stay readable)."""
    return "–" if value is None or value != value else f"{value:.{digits}g}"


def same_config(a: craft.Config, b: craft.Config) -> bool:
    return replace(a, same_init=b.same_init) == b
