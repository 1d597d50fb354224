"""The autoencoder views (plain, VAE, denoising, anomaly detection): inputs beside reconstructions, the latent map
with a point the visitor picks decoded, a decoded grid, the VAE's two loss terms, traversal and prior samples and
its latent map beside a plain autoencoder's, PSNR before and after denoising, the anomaly detector's errors,
threshold and ROC, and the visitor's own digit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.data.images import load_digits_dataset
from core.jobs import JobSnapshot
from core.labs import generative
from core.labs.generative import threshold_metrics
from core.viz import generative as viz
from core.viz.curves import thin
from ui.display import chart
from ui.i18n import lang, t
from ui.jobs import current_job, job_controls
from ui.pictures import drawing_pad, picture_upload

from .common import last, number, pick_view, remembered
from .controls import COMPARE, JOB, PAUSE_UNWATCHED_S

PICK_GRID = 41  # invisible points per side over the latent map: a click anywhere picks the nearest one
Z1, Z2 = "gen_z1", "gen_z2"


def _view(snap: JobSnapshot | None, config: generative.Config) -> generative.AutoencoderView | None:
    view = pick_view(snap, config)
    return view if isinstance(view, generative.AutoencoderView) else None


# ---------------------------------------------------------------------------------------------- reconstructions
def reconstructions(snap: JobSnapshot | None, config: generative.Config) -> None:
    view = _view(snap, config)
    if view is None:
        return
    left, right = st.columns([3, 1], gap="medium")
    with left:
        chart(viz.reconstructions(view, lang(), tile_px=52), key="gen_recon")
        st.caption(t(f"generative.page.recon_caption_{'denoise' if view.mode == 'denoise' else 'plain'}"))
    with right:
        cols = st.columns(2)
        cols[0].metric(t("generative.page.step"), f"{snap.step if snap else 0:,}")
        cols[1].metric(t("generative.page.recon"), number(view.recon, "{:.4f}"), help=t("generative.page.recon_help"))
        if view.mode == "vae":
            st.metric(t("generative.page.kl_term"), number(view.kl), help=t("generative.page.kl_term_help"))
        if view.mode == "denoise":
            cols = st.columns(2)
            cols[0].metric(t("generative.page.psnr_noisy"), number(view.psnr_noisy, "{:.1f} dB"))
            cols[1].metric(t("generative.page.psnr_output"), number(view.psnr_output, "{:.1f} dB"),
                           delta=number(view.psnr_output - view.psnr_noisy, "{:+.1f} dB"))
        if view.mode == "anomaly" and view.anomaly is not None:
            st.metric(t("generative.page.auc"), number(view.anomaly.auc), help=t("generative.page.auc_help"))
        if view.mode != "denoise":
            psnr = last(snap.evals, "val_psnr") if snap is not None else float("nan")
            st.metric(t("generative.page.psnr"), number(psnr, "{:.1f} dB"), help=t("generative.page.psnr_help"))


def curves(snap: JobSnapshot | None, config: generative.Config) -> None:
    if snap is None or not snap.history.get("step"):
        st.caption(t("generative.page.curves_empty"))
        return
    left, right = st.columns(2, gap="medium")
    with left:
        if config.mode == "vae":
            chart(viz.vae_terms(thin(snap).history, lang(), height=320), key="gen_vae_terms")
            st.caption(t("generative.page.vae_terms_caption"))
        else:
            chart(viz.metric_curves(thin(snap).history, ("loss",), lang(), title=t("generative.page.loss_title"),
                                    height=320), key="gen_ae_loss")
    with right:
        if not snap.evals.get("step"):
            return
        if config.mode == "denoise":
            chart(viz.psnr_curves(snap.evals, lang(), height=320), key="gen_psnr")
        elif config.mode == "anomaly":
            chart(viz.metric_curves(snap.evals, ("auc",), lang(), title=t("generative.page.auc_title"), height=320),
                  key="gen_auc")
        else:
            keys = ("val_recon", "val_kl") if config.mode == "vae" else ("val_recon",)
            chart(viz.metric_curves(snap.evals, keys, lang(), title=t("generative.page.val_title"), height=320,
                                    secondary=("val_kl",) if config.mode == "vae" else ()), key="gen_ae_val")


# ---------------------------------------------------------------------------------------------- the latent map
def _pick_layer(fig: go.Figure, latent: np.ndarray) -> None:
    """Invisible points over the map, so that a click anywhere on it picks a latent point."""
    lo, hi = np.quantile(latent, 0.0, axis=0), np.quantile(latent, 1.0, axis=0)
    pad = (hi - lo) * 0.08 + 1e-3
    ax, ay = (np.linspace(lo[i] - pad[i], hi[i] + pad[i], PICK_GRID) for i in (0, 1))
    gx, gy = np.meshgrid(ax, ay)
    fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", showlegend=False,
                             marker={"size": 9, "opacity": 0}, hovertemplate="%{x:.2f}, %{y:.2f}<extra></extra>"))


def latent(snap: JobSnapshot | None, config: generative.Config) -> None:
    """The latent map coloured by digit; a click (or the two numbers) picks a point, which is decoded beside it."""
    view = _view(snap, config)
    if view is None:
        return
    state = st.session_state
    anomalies = [d for d in range(10) if d not in config.normal_digits] if view.mode == "anomaly" else []
    left, mid = st.columns([2, 1], gap="medium")
    picked = (float(state.get(Z1, 0.0)), float(state.get(Z2, 0.0)))
    with left:
        fig = viz.latent_scatter(view.latent, view.latent_labels, lang(), projected=view.latent_projected,
                                 highlight=anomalies, picked=picked, height=430)
        _pick_layer(fig, view.latent)
        event = chart(fig, key="gen_latent", on_select="rerun", selection_mode="points")
        caption = "latent_caption_pca" if view.latent_projected else "latent_caption"
        st.caption(t(f"generative.page.{caption}", n=view.bottleneck))
    points = getattr(getattr(event, "selection", None), "points", None) or []
    if points:
        click = (round(float(points[0]["x"]), 2), round(float(points[0]["y"]), 2))
        if click != state.get("gen_click_seen"):
            state["gen_click_seen"] = click
            state[Z1], state[Z2] = click
            st.rerun(scope="fragment")
    with mid:
        st.markdown(t("generative.page.decode_title"))
        cols = st.columns(2)
        z1 = cols[0].number_input(t("generative.page.z1"), step=0.1, format="%.2f", key=Z1)
        z2 = cols[1].number_input(t("generative.page.z2"), step=0.1, format="%.2f", key=Z2)
        if snap is None:
            st.caption(t("generative.page.train_first"))
            return
        point = [z1, z2] if view.bottleneck >= 2 else [z1]
        image = remembered(snap, ("decode_point", z1, z2), generative.decode_point, point)
        if image is not None:
            chart(viz.sample_grid(image[None], lang(), cols=1, tile_px=150, title_key="decoded_title"),
                  key="gen_decoded")


def grid(snap: JobSnapshot | None, config: generative.Config, n: int) -> None:
    if snap is None:
        st.caption(t("generative.page.train_first"))
        return
    decoded = remembered(snap, ("decode_grid", n), generative.decode_grid, n)
    if decoded is not None:
        chart(viz.latent_grid(decoded, lang(), tile_px=34), key="gen_latent_grid")
        st.caption(t("generative.page.grid_caption"))


# ---------------------------------------------------------------------------------------------- VAE
def vae_extras(snap: JobSnapshot | None, config: generative.Config) -> None:
    view = _view(snap, config)
    if view is None or view.mode != "vae":
        return
    left, right = st.columns([3, 2], gap="medium")
    with left:
        if snap is None:
            st.caption(t("generative.page.train_first"))
        else:
            traversal = remembered(snap, ("traversal",), generative.latent_traversal, 9)
            if traversal is not None:
                chart(viz.latent_grid(traversal, lang(), tile_px=34, traversal=True), key="gen_traversal")
                st.caption(t("generative.page.traversal_caption"))
    with right:
        if len(view.samples):
            chart(viz.sample_grid(view.samples, lang(), cols=4, tile_px=48, title_key="prior_title"),
                  key="gen_prior")
            st.caption(t("generative.page.prior_caption"))


def compare_config(config: generative.Config) -> generative.Config:
    """The plain autoencoder a VAE is compared with: the same network and training, no sampling, no KL."""
    return replace(config, mode="autoencoder")


def compare_controls(config: generative.Config) -> None:
    st.markdown(t("generative.page.compare_title"))
    st.caption(t("generative.page.compare_help"))
    job_controls(COMPARE, lambda: generative.make_job(compare_config(config), pause_unwatched_s=PAUSE_UNWATCHED_S),
                 lab="generative", play_label=t("generative.page.compare_play"), compact=True)


def compare(snap: JobSnapshot | None, config: generative.Config) -> None:
    """The VAE's latent map (the main run) beside the plain autoencoder's (the companion run)."""
    main = current_job(JOB)
    main_snap = main.snapshot() if main is not None else None
    vae_view = _view(main_snap, config)
    ae_view = snap.view if snap is not None and isinstance(snap.view, generative.AutoencoderView) else None
    left, right = st.columns(2, gap="medium")
    for col, view, name, key in ((left, vae_view, "vae", "gen_compare_vae"), (right, ae_view, "autoencoder",
                                                                              "gen_compare_ae")):
        with col:
            st.markdown(t(f"generative.page.compare_{name}", step=view.step if view is not None else 0))
            if view is None:
                st.caption(t("generative.page.compare_empty"))
                continue
            chart(viz.latent_scatter(view.latent, view.latent_labels, lang(), projected=view.latent_projected,
                                     height=360), key=key)


# ---------------------------------------------------------------------------------------------- anomaly detection
def anomaly(snap: JobSnapshot | None, config: generative.Config, percentile: float) -> None:
    view = _view(snap, config)
    if view is None or view.anomaly is None:
        return
    report = view.anomaly
    normal = report.scores[~report.anomalous]
    threshold = float(np.quantile(normal, percentile / 100)) if len(normal) else report.threshold
    precision, recall, fpr = threshold_metrics(report.scores, report.anomalous, threshold)
    cols = st.columns(4)
    cols[0].metric(t("generative.page.threshold"), f"{threshold:.4f}")
    cols[1].metric(t("generative.page.precision"), f"{precision:.0%}", help=t("generative.page.precision_help"))
    cols[2].metric(t("generative.page.recall"), f"{recall:.0%}", help=t("generative.page.recall_help"))
    cols[3].metric(t("generative.page.auc"), f"{report.auc:.3f}")
    left, right = st.columns([3, 2], gap="medium")
    with left:
        chart(viz.error_histogram(report, lang(), threshold=threshold), key="gen_errors")
    with right:
        chart(viz.roc(report, lang(), threshold=threshold), key="gen_roc")
    st.caption(t("generative.page.anomaly_caption", normal=", ".join(map(str, report.normal_classes)),
                 fpr=fpr))


# ---------------------------------------------------------------------------------------------- your own digit
@st.cache_resource(show_spinner=False)
def _digits():
    return load_digits_dataset(size=16)


def own_digit(config: generative.Config) -> None:
    """A digit the visitor draws or uploads, reconstructed by the trained autoencoder, with its error."""
    left, right = st.columns([1, 2], gap="medium")
    with left:
        source = drawing_pad("gen_own", ink=True, size=220)
        upload = picture_upload("gen_own_upload", t("generative.page.own_upload"))
    picture = upload if upload is not None else source
    with right:
        job = current_job(JOB)
        if job is None:
            st.caption(t("generative.page.train_first"))
            return
        if picture is None:
            st.caption(t("generative.page.own_empty"))
            return
        _, shown = _digits().preprocess(picture)
        x = np.asarray(shown, dtype=np.float32).transpose(2, 0, 1)[None]
        snap = job.snapshot()
        result = remembered(snap, ("own", x.tobytes()), generative.reconstruct_images, x)
        if result is None:
            return
        out, error = result
        chart(viz.sample_grid(np.concatenate([x, out]), lang(), cols=2, tile_px=110, title_key="own_title"),
              key="gen_own_result")
        threshold = view_threshold(snap)
        verdict = "" if threshold is None else t("generative.page.own_anomaly" if error[0] >= threshold
                                                 else "generative.page.own_normal", threshold=threshold)
        st.markdown(t("generative.page.own_error", error=float(error[0])) + " " + verdict)


def view_threshold(snap: JobSnapshot | None) -> float | None:
    view = snap.view if snap is not None else None
    if isinstance(view, generative.AutoencoderView) and view.anomaly is not None:
        return view.anomaly.threshold
    return None

