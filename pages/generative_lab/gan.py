"""The GAN views: GAN Lab's layered plane with its numbers, the noise manifold and the curves (2-D GAN); samples
from fixed noise, their classifier verdicts and an interpolation between two of them (DCGAN)."""

from __future__ import annotations

import streamlit as st

from core.jobs import JobSnapshot
from core.labs import generative
from core.viz import generative as viz
from core.viz.curves import thin
from ui.display import chart
from ui.i18n import lang, t
from ui.jobs import current_job

from .common import last, number, pick_view, remembered
from .controls import JOB, half_steps, translated

LAYERS = ("d", "density", "real", "fake", "arrows", "modes")
DEFAULT_LAYERS = ("d", "density", "real", "fake", "arrows")


# ---------------------------------------------------------------------------------------------- 2-D GAN
def layer_picker() -> set[str]:
    """Which layers of the plane to draw (GAN Lab's checkboxes)."""
    st.session_state.setdefault("gen_layers", list(DEFAULT_LAYERS))
    chosen = st.pills(t("generative.page.layers"), LAYERS, selection_mode="multi", key="gen_layers",
                      format_func=translated(lambda v: f"generative.layers.{v}"), label_visibility="collapsed",
                      wrap=True)
    return set(chosen or ())


def plane(snap: JobSnapshot | None, config: generative.Config, layers: set[str]) -> None:
    view = pick_view(snap, config)
    if not isinstance(view, generative.Gan2dView):
        return
    fig = viz.gan_plane(view, lang(), show_d="d" in layers, show_density="density" in layers,
                        show_real="real" in layers, show_fake="fake" in layers, show_arrows="arrows" in layers,
                        show_modes="modes" in layers, height=520)
    chart(fig, key="gen_plane_chart", where=st.container(key="gen_plane"))
    if snap is None:
        st.caption(t("generative.page.untrained"))
    st.caption(t(f"generative.page.plane_caption_{view.d_scale}"))


def numbers(snap: JobSnapshot | None, config: generative.Config) -> None:
    view = pick_view(snap, config)
    if not isinstance(view, generative.Gan2dView):
        return
    cols = st.columns(2)
    cols[0].metric(t("generative.page.step"), f"{snap.step if snap else 0:,}")
    cols[1].metric(t("generative.page.modes_covered"), f"{int(view.covered.sum())} / {len(view.modes)}",
                   help=t("generative.page.modes_covered_help"))
    cols = st.columns(2)
    cols[0].metric(t("generative.page.kl"), number(view.kl), help=t("generative.page.kl_help", floor=view.kl_floor))
    cols[1].metric(t("generative.page.js"), number(view.js), help=t("generative.page.js_help", floor=view.js_floor))
    scale = "p" if view.d_scale == "probability" else "raw"
    cols = st.columns(2)
    cols[0].metric(t(f"generative.page.d_real_{scale}"), number(view.d_real))
    cols[1].metric(t(f"generative.page.d_fake_{scale}"), number(view.d_fake))
    cols = st.columns(2)
    cols[0].metric(t("generative.page.d_loss"), number(view.d_loss))
    cols[1].metric(t("generative.page.g_loss"), number(view.g_loss))
    if snap is not None:
        halves = half_steps(snap.job_id)
        if halves["d"] or halves["g"]:
            st.caption(t("generative.page.halves", d=halves["d"], g=halves["g"]))
    chart(viz.mode_bars(view, lang(), height=230), key="gen_mode_bars")


def curves(snap: JobSnapshot | None, config: generative.Config) -> None:
    view = pick_view(snap, config)
    if not isinstance(view, generative.Gan2dView):
        return
    left, right = st.columns([1, 1.45], gap="medium")
    with left:
        chart(viz.manifold(view, lang(), height=470), key="gen_manifold")
        st.caption(t("generative.page.manifold_caption"))
    with right:
        if snap is None or not snap.history.get("step"):
            st.caption(t("generative.page.curves_empty"))
            return
        chart(viz.gan_losses(thin(snap).history, lang(), height=250), key="gen_losses")
        if snap.evals.get("step"):
            chart(viz.divergence_curves(snap.evals, lang(), kl_floor=view.kl_floor, js_floor=view.js_floor,
                                        height=250), key="gen_divergence")
            st.caption(t("generative.page.divergence_caption"))


# ---------------------------------------------------------------------------------------------- DCGAN
def samples(snap: JobSnapshot | None, config: generative.Config) -> None:
    view = pick_view(snap, config)
    if not isinstance(view, generative.ImageGanView):
        return
    left, right = st.columns([2.2, 1], gap="medium")
    with left:
        chart(viz.judged_samples(view.samples, view.predicted, view.confidence, lang(), tile_px=52),
              key="gen_dcgan_samples")
        st.caption(t("generative.page.samples_caption"))
    with right:
        cols = st.columns(2)
        cols[0].metric(t("generative.page.step"), f"{snap.step if snap else 0:,}")
        evals = snap.evals if snap is not None else {}
        cols[1].metric(t("generative.page.digits_seen"), number(last(evals, "digits_seen"), "{:.0f}"),
                       help=t("generative.page.digits_seen_help"))
        cols = st.columns(2)
        cols[0].metric(t("generative.page.d_real_p"), number(view.d_real))
        cols[1].metric(t("generative.page.d_fake_p"), number(view.d_fake))
        cols = st.columns(2)
        cols[0].metric(t("generative.page.d_loss"), number(view.d_loss))
        cols[1].metric(t("generative.page.g_loss"), number(view.g_loss))
        chart(viz.sample_grid(view.real, lang(), cols=4, tile_px=40, title_key="real_title"), key="gen_dcgan_real")


def dcgan_curves(snap: JobSnapshot | None, config: generative.Config) -> None:
    if snap is None or not snap.history.get("step"):
        st.caption(t("generative.page.curves_empty"))
        return
    left, right = st.columns(2, gap="medium")
    with left:
        chart(viz.gan_losses(thin(snap).history, lang(), height=320), key="gen_dcgan_losses")
    with right:
        if snap.evals.get("step"):
            fig = viz.metric_curves(snap.evals, ("confidence", "digits_seen"), lang(), secondary=("digits_seen",),
                                    title=t("generative.page.recognisable_title"), height=320)
            chart(fig, key="gen_dcgan_confidence")


def interpolation_controls() -> tuple[int, int, int]:
    """Two samples of the fixed-noise grid (numbered from 1) and how many steps between them."""
    cols = st.columns(3)
    a = cols[0].number_input(t("generative.page.from_sample"), 1, 64, 1, key="gen_interp_a")
    b = cols[1].number_input(t("generative.page.to_sample"), 1, 64, 8, key="gen_interp_b")
    n = cols[2].slider(t("generative.page.interp_steps"), 3, 16, 10, key="gen_interp_n")
    return int(a), int(b), int(n)


def interpolation(snap: JobSnapshot | None, a: int, b: int, n: int) -> None:
    if current_job(JOB) is None or snap is None:
        st.caption(t("generative.page.train_first"))
        return
    images = remembered(snap, ("interpolate", a, b, n), generative.interpolate, a - 1, b - 1, n)
    if images is not None:
        chart(viz.sample_grid(images, lang(), cols=n, tile_px=52, title_key="interpolation_title", a=a, b=b),
              key="gen_interpolation")
