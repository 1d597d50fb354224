"""Generative lab page (AppTest): every mode draws all its views, untrained and after a few steps, in English and
in Chinese (a picked latent point decoded, the plane's layers, the anomaly threshold, the interpolation, the VAE's
plain-autoencoder companion, the decoded grid); a shared address restores the experiment (drawn points
included), opening it writes the settings into the address, a new mode starts from its preset, "Step D only" changes
the discriminator and neither the generator nor the step count, "Step G only" the other way round, live learning
rates reach the running job, and Chinese half steps are counted in Chinese."""

from __future__ import annotations

import functools
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import i18n
from core.data.generative import MAX_POINTS, encode_points
from core.jobs import JobState, build_seeded
from core.labs import generative
from pages.generative_lab import drawing
from tests.apptest import open_app_page, query

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/generative_lab/page.py"
CJK = re.compile(r"[\u4e00-\u9fff]")
TRIANGLE = encode_points(torch.tensor([[-1.5, -1.0], [1.5, -1.0], [0.0, 1.6], [0.0, 0.0]]).numpy())
SHARED = {"mode": "gan2d", "dist": "drawn", "pts": ",".join(map(str, TRIANGLE)), "spread": "0.2", "z": "3",
          "gd": "2", "gw": "32", "ga": "Tanh", "dd": "4", "dw": "48", "loss": "lsgan", "opt": "RMSprop",
          "glr": "0.0003", "dlr": "0.002", "k": "2", "batch": "128", "steps": "600", "delay": "20", "seed": "7"}


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return open_app_page(PAGE, query)


def shown_config(at: AppTest) -> generative.Config:
    return at.session_state["gen__config"]


def texts(at: AppTest) -> list[str]:
    return [str(e.value) for e in [*at.title, *at.caption, *at.markdown, *at.info, *at.error]]


def stop_jobs(at: AppTest) -> None:
    for key in ("gen_job", "gen_compare_job"):
        job = at.session_state[key] if key in at.session_state else None
        if job is not None:
            job.stop()


@pytest.fixture(scope="module")
def default() -> AppTest:
    return open_page()


def test_opening_the_page_writes_every_setting_into_the_address(default):
    at = default
    assert shown_config(at) == generative.Config()
    q = query(at)
    assert q["mode"] == "gan2d" and q["dist"] == "ring" and q["dlr"] == "0.001" and q["lang"] == "en"
    assert set(generative.Config().to_query()) <= set(q)
    assert at.segmented_control(key="gen_mode").value == "gan2d"
    assert at.pills(key="gen_preset").value == "ring_fixed"  # the defaults are the fixed ring
    assert any("0.01 → 0.001" in x for x in texts(at)), "what changed from the collapse preset"
    labels = [b.label for b in at.button]
    assert "Step D only" in labels and "Step G only" in labels


def test_a_shared_address_restores_the_experiment_with_its_drawn_points():
    at = open_page(SHARED)
    expected, warnings = generative.Config.from_query(SHARED)
    assert warnings == [] and shown_config(at) == expected
    assert expected.points == TRIANGLE and expected.distribution == "drawn"
    assert at.pills(key="gen_distribution").value == "drawn"
    assert at.slider(key="gen_g_depth").value == 2 and at.slider(key="gen_d_width").value == 48
    assert at.selectbox(key="gen_loss").value == "lsgan" and at.selectbox(key="gen_optimizer").value == "RMSprop"
    assert at.select_slider(key="gen_g_lr").value == 0.0003 and at.select_slider(key="gen_d_lr").value == 0.002
    assert at.select_slider(key="gen_step_delay_ms").value == 20 and at.number_input(key="gen_seed").value == 7
    assert at.pills(key="gen_preset").value is None  # no preset is exactly this
    assert {k: query(at)[k] for k in SHARED} == SHARED
    assert any("Now 4 points" in x for x in texts(at))


def test_a_hand_edited_address_is_repaired_with_a_warning():
    at = open_page({"dist": "drawn", "pts": "10,20", "gw": "9999", "delay": "7"})
    config = shown_config(at)
    assert config.distribution == "ring" and config.g_width == 256  # too few points; clamped width
    assert at.select_slider(key="gen_step_delay_ms").value == 5  # the nearest speed the control offers
    assert len(at.warning) >= 2 and query(at)["dist"] == "ring"


def test_a_new_mode_starts_from_its_preset_and_shows_its_views():
    at = open_page()
    at.segmented_control(key="gen_mode").set_value("anomaly").run()
    assert not at.exception, [e.value for e in at.exception]
    config = shown_config(at)
    assert config == generative.PRESETS["anomaly"] and query(at)["mode"] == "anomaly"
    assert at.pills(key="gen_preset").value == "anomaly"
    assert "Step D only" not in [b.label for b in at.button]  # half steps are for GANs
    assert at.slider(key="gen_percentile").value == 95.0
    at.segmented_control(key="gen_mode").set_value("vae").run()
    assert shown_config(at).mode == "vae" and at.slider(key="gen_beta").value == 1.0


CHARTS = {  # every chart of each mode, untrained and after a few steps (a picked point decoded, the curves drawn)
    "gan2d": ({"gen_plane_chart", "gen_mode_bars", "gen_manifold"}, {"gen_losses", "gen_divergence"}),
    "dcgan": ({"gen_dcgan_samples", "gen_dcgan_real"},
              {"gen_dcgan_losses", "gen_dcgan_confidence", "gen_interpolation"}),
    "autoencoder": ({"gen_recon", "gen_latent"}, {"gen_decoded", "gen_ae_loss", "gen_ae_val"}),
    "vae": ({"gen_recon", "gen_latent", "gen_prior", "gen_compare_vae"},
            {"gen_decoded", "gen_traversal", "gen_vae_terms", "gen_ae_val"}),
    "denoise": ({"gen_recon", "gen_latent"}, {"gen_decoded", "gen_ae_loss", "gen_psnr"}),
    "anomaly": ({"gen_recon", "gen_latent", "gen_errors", "gen_roc"}, {"gen_decoded", "gen_ae_loss", "gen_auc"}),
}


def charts(at: AppTest) -> dict[str, dict]:
    """The Plotly charts on the page by key, as their figures."""
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def title_of(fig: dict) -> str:
    title = fig["layout"].get("title", {})
    return title.get("text", "") if isinstance(title, dict) else str(title)


def in_language(at: AppTest, language: str) -> None:
    """The page's own texts, its metric labels and its chart titles are in ``language`` (zh: Chinese; en: none)."""
    assert at.title[0].value == i18n.text("generative.page.title", language)
    titles = [title_of(f) for f in charts(at).values() if title_of(f)]
    labels = [*metrics(at), *(b.label for b in at.button), *titles]
    assert titles and labels
    if language == "zh":
        acronyms = re.compile(r"[A-Z]{2,4}")  # KL, JS, AUC, PSNR: the same in both languages
        assert all(CJK.search(x) or acronyms.fullmatch(x) for x in [*metrics(at), *titles]), [*metrics(at), *titles]
    else:
        assert not any(CJK.search(x) for x in labels), labels


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("mode", [pytest.param("dcgan", marks=pytest.mark.slow), "gan2d", "autoencoder", "vae",
                                  "denoise", "anomaly"])
def test_every_mode_draws_its_views_untrained_and_trained_in_both_languages(mode, language):
    preset = generative.preset_for(mode)
    at = open_page({**preset.replace(steps=30).to_query(), "lang": language})
    untrained, trained = CHARTS[mode]
    assert set(charts(at)) == untrained  # the untrained models, drawn before any run
    assert metrics(at)[i18n.text("generative.page.step", language)] == "0"
    in_language(at, language)
    if mode == "gan2d":
        assert title_of(charts(at)["gen_plane_chart"]) == i18n.text("generative.viz.plane_title", language, step=0)
    at.button(key="gen_job__play").click().run()
    job = at.session_state["gen_job"]
    assert job.join(120) and job.state == JobState.FINISHED and job.step == 30
    at.run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    view = job.snapshot().view
    assert view.step == 30
    assert set(charts(at)) == untrained | trained
    assert metrics(at)[i18n.text("generative.page.step", language)] == "30"
    in_language(at, language)
    figures = charts(at)
    if mode == "gan2d":
        assert title_of(figures["gen_plane_chart"]) == i18n.text("generative.viz.plane_title", language, step=30)
        covered = metrics(at)[i18n.text("generative.page.modes_covered", language)]
        assert covered == f"{int(view.covered.sum())} / 8"
        assert any(tr["type"] == "heatmap" for tr in figures["gen_plane_chart"]["data"])
        at.pills(key="gen_layers").set_value(["real", "fake"]).run()  # the layers of the plane are switchable
        shown = charts(at)["gen_plane_chart"]["data"]
        assert not any(tr["type"] == "heatmap" for tr in shown) and len(shown) == 2
    elif mode == "dcgan":
        assert metrics(at)[i18n.text("generative.page.d_loss", language)] == f"{view.d_loss:.3f}"
        before = figures["gen_interpolation"]
        at.slider(key="gen_interp_n").set_value(4).run()  # fewer steps between the two samples
        assert not at.exception and charts(at)["gen_interpolation"] != before
    else:
        assert metrics(at)[i18n.text("generative.page.recon", language)] == f"{view.recon:.4f}"
        before = figures["gen_decoded"]
        at.number_input(key="gen_z1").set_value(1.5).run()  # a picked latent point is decoded by the trained model
        assert not at.exception and charts(at)["gen_decoded"] != before
        assert charts(at)["gen_latent"]["data"][-2]["x"] == [1.5]  # and marked on the map (under the click layer)
    if mode == "denoise":
        out = metrics(at)[i18n.text("generative.page.psnr_output", language)]
        assert out == f"{view.psnr_output:.1f} dB"
    if mode == "anomaly":
        label = i18n.text("generative.page.recall", language)
        strict = metrics(at)[label]
        at.slider(key="gen_percentile").set_value(60.0).run()  # a lower threshold flags more digits
        assert int(metrics(at)[label].rstrip("%")) >= int(strict.rstrip("%"))
        assert float(metrics(at)[i18n.text("generative.page.threshold", language)]) < view.anomaly.threshold
    if mode == "vae":  # the plain autoencoder beside it, trained from the page
        at.button(key="gen_compare_job__play").click().run()
        assert at.session_state["gen_compare_job"].join(120)
        at.run()
        assert {"gen_compare_vae", "gen_compare_ae"} <= set(charts(at))
    if mode == "autoencoder":  # the decoded grid over the latent plane
        at.toggle(key="gen_grid_on").set_value(True).run()
        assert not at.exception and "gen_latent_grid" in charts(at)
    stop_jobs(at)


def _weights(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.state_dict().values()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_step_d_only_changes_the_discriminator_not_the_generator_nor_the_step_count():
    at = open_page({"steps": "50"})
    at.button(key="gen_step_d").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    job = at.session_state["gen_job"]
    untrained = build_seeded(functools.partial(generative.make_trainer, job.config), job.config.seed)
    assert job.state == JobState.PAUSED and job.step == 0
    assert _same(_weights(job.trainer.G), _weights(untrained.G))
    assert not _same(_weights(job.trainer.D), _weights(untrained.D))
    assert any("D × 1, G × 0" in x for x in texts(at))
    shown = at.session_state["gen_fresh"][1]
    assert shown.step == 0 and shown.d_loss == pytest.approx(job.trainer.last["d_loss"])

    g_before, d_before = _weights(job.trainer.G), _weights(job.trainer.D)
    at.button(key="gen_step_g").click().run()
    assert job.step == 0 and _same(_weights(job.trainer.D), d_before)
    assert not _same(_weights(job.trainer.G), g_before)
    assert any("D × 1, G × 1" in x for x in texts(at))

    at.button(key="gen_job__step").click().run()  # a whole step is counted; the half steps were not
    deadline = time.monotonic() + 30
    while job.step < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job.step == 1
    stop_jobs(at)


def test_half_steps_wait_for_a_paused_run():
    at = open_page({"steps": "100000"})
    at.button(key="gen_job__play").click().run()
    assert at.button(key="gen_step_d").disabled and at.button(key="gen_step_g").disabled
    stop_jobs(at)


def test_live_learning_rates_reach_the_running_gan_and_rebuilds_wait_for_a_new_run():
    at = open_page({"steps": "100000", "delay": "5"})
    at.button(key="gen_job__play").click().run()
    job = at.session_state["gen_job"]
    deadline = time.monotonic() + 30
    while job.trainer is None or job.step < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.select_slider(key="gen_d_lr").set_value(0.01).run()
    assert job.trainer.d_opt.param_groups[0]["lr"] == 0.01 and job.trainer.config.d_lr == 0.01
    at.select_slider(key="gen_step_delay_ms").set_value(50).run()
    assert job.step_delay_s == 0.05
    at.slider(key="gen_g_width").set_value(32).run()
    assert any("Generator neurons per layer" in x for x in [i.value for i in at.info])
    assert at.session_state["gen_job"] is job  # still the same run
    stop_jobs(at)


def test_a_drawing_maps_onto_the_plane_coordinates():
    """Ink pixels → plane points (pixel centres, y up), and the canvas background draws the points where they are."""
    image = np.zeros((300, 300, 4), np.uint8)
    image[0, 0, 3] = image[299, 299, 3] = image[150, 75, 3] = 255
    xy = drawing.ink_points(image)
    step = 6 / 300
    expected = [[-3 + step / 2, 3 - step / 2], [-1.5 + step / 2, -step / 2], [3 - step / 2, -3 + step / 2]]
    assert np.allclose(xy, expected)
    assert drawing.ink_points(np.zeros((300, 300, 4), np.uint8)) is None
    many = np.zeros((300, 300, 4), np.uint8)
    many[100:200, 100:200, 3] = 255
    assert len(drawing.ink_points(many)) == MAX_POINTS
    picture = np.asarray(drawing.plane_picture(encode_points(np.array([[1.0, 2.0], [-2.0, -1.0], [0.5, 0.5]]))))
    for x, y in ((1.0, 2.0), (-2.0, -1.0)):
        col, row = (x + 3) / 6 * 300, (3 - y) / 6 * 300
        assert tuple(picture[int(row), int(col)]) == drawing.POINT_COLOUR


def test_the_page_speaks_chinese():
    at = open_page({"lang": "zh"})
    assert CJK.search(at.title[0].value)
    assert "仅训练判别器" in [b.label for b in at.button]
    assert query(at)["lang"] == "zh"
    at.button(key="gen_step_d").click().run()  # a half step from the Chinese page: counted in Chinese
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert at.session_state["gen_job"].state == JobState.PAUSED
    assert i18n.text("generative.page.halves", "zh", d=1, g=0) in texts(at)
    stop_jobs(at)
