"""Generative lab: GAN losses and the WGAN-GP penalty by hand, the VAE loss as logged, anomaly AUC against
scikit-learn, D-only / G-only steps, short runs that learn, views, actions, figures, settings and their errors."""

import math
import pickle
import time

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from core.data import DATASETS
from core.data.generative import (
    DISTRIBUTIONS,
    decode_points,
    encode_points,
    mode_centres,
    parse_points_csv,
    sample_2d,
)
from core.errors import ConfigError, DataError
from core.i18n import catalogue, placeholders
from core.jobs import JobState, build_seeded
from core.labs import generative as gen
from core.labs.generative import metrics
from core.models import MODELS
from core.models.generative import (
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    kl_to_prior,
    reconstruction_loss,
)
from core.viz import generative as viz


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def trained(config: gen.Config, steps: int):
    trainer = build_seeded(lambda: gen.make_trainer(config), config.seed)
    for _ in range(steps):
        trainer.train_step()
    return trainer


def sig(v: float) -> float:
    return 1 / (1 + math.exp(-v))


# ---------------------------------------------------------------------------------------------- losses
REAL, FAKE = [2.0, -1.0], [0.5, -0.5]


@pytest.mark.parametrize(("kind", "d_expected", "g_expected"), [
    ("minimax", np.mean([-math.log(sig(r)) for r in REAL]) + np.mean([-math.log(1 - sig(f)) for f in FAKE]),
     np.mean([math.log(1 - sig(f)) for f in FAKE])),
    ("nonsat", np.mean([-math.log(sig(r)) for r in REAL]) + np.mean([-math.log(1 - sig(f)) for f in FAKE]),
     np.mean([-math.log(sig(f)) for f in FAKE])),
    ("lsgan", 0.5 * np.mean([(r - 1) ** 2 for r in REAL]) + 0.5 * np.mean([f**2 for f in FAKE]),
     0.5 * np.mean([(f - 1) ** 2 for f in FAKE])),
    ("wgan_gp", np.mean(FAKE) - np.mean(REAL), -np.mean(FAKE)),
])
def test_gan_losses_match_hand_computation(kind, d_expected, g_expected):
    real, fake = torch.tensor(REAL)[:, None], torch.tensor(FAKE)[:, None]
    assert discriminator_loss(kind, real, fake).item() == pytest.approx(d_expected, abs=1e-6)
    assert generator_loss(kind, fake).item() == pytest.approx(g_expected, abs=1e-6)
    per = generator_loss(kind, fake, reduce=False)
    assert per.shape == (2,) and per.mean().item() == pytest.approx(g_expected, abs=1e-6)


def test_unknown_loss_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        generator_loss("hinge", torch.zeros(2, 1))
    assert err.value.key == "generative.errors.loss"


def test_gradient_penalty_by_hand():
    linear = nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[3.0, 4.0]]))  # ∇D = (3, 4) everywhere: ‖∇D‖ = 5
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert gradient_penalty(linear, real, fake).item() == pytest.approx(16.0)

    class HalfSquare(nn.Module):  # D(x) = ‖x‖² / 2, ∇D(x) = x
        def forward(self, x):
            return 0.5 * (x**2).sum(dim=1, keepdim=True)

    real, fake, alpha = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([[0.0, 0.0], [0.0, 3.0]]), \
        torch.tensor([0.5, 0.25])
    mixed = np.array([[1.0, 0.0], [0.0, 0.25 * 1 + 0.75 * 3]])
    expected = np.mean((np.linalg.norm(mixed, axis=1) - 1) ** 2)
    assert gradient_penalty(HalfSquare(), real, fake, alpha).item() == pytest.approx(expected)


def test_wgan_gp_trainer_adds_the_weighted_penalty():
    trainer = gen.make_trainer(gen.Config(loss="wgan_gp", gp_weight=10.0, batch_size=32))
    torch.manual_seed(0)
    out = trainer.d_step()
    assert out["gp"] > 0 and math.isfinite(out["d_loss"])
    assert trainer.d_scale == "critic"


def test_kl_and_reconstruction_terms():
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.2, -0.3]])
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    assert kl_to_prior(mu, logvar).item() == pytest.approx(torch.distributions.kl_divergence(q, p).sum().item())
    logits, target = torch.tensor([[[[0.0, 2.0]]]]), torch.tensor([[[[1.0, 0.0]]]])
    expected = -math.log(0.5) - math.log(1 - sig(2.0))
    assert reconstruction_loss(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_vae_loss_is_reconstruction_plus_beta_kl_as_logged():
    config = gen.PRESETS["vae"].replace(beta=0.5)
    trainer = trained(config, 5)
    out = trainer.train_step()
    assert out["kl"] > 0
    assert out["loss"] == pytest.approx(out["recon"] + 0.5 * out["kl"], rel=1e-6)
    ev = trainer.evaluate()
    assert ev["val_loss"] == pytest.approx(ev["val_recon"] + 0.5 * ev["val_kl"], rel=1e-6)
    gen.apply_config(trainer, config.replace(beta=2.0))  # β changes live
    out = trainer.train_step()
    assert out["loss"] == pytest.approx(out["recon"] + 2.0 * out["kl"], rel=1e-6)


# ---------------------------------------------------------------------------------------------- metrics
def test_roc_and_auc_match_sklearn_with_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=300), 1)  # many ties
    labels = rng.random(300) < 0.3
    scores[labels] += 0.8
    fpr, tpr, thresholds = metrics.roc_curve(scores, labels)
    assert metrics.auc(fpr, tpr) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1 and np.isinf(thresholds[0])
    precision, recall, false_pos = metrics.threshold_metrics(scores, labels, 0.5)
    flagged = scores >= 0.5
    assert precision == pytest.approx((flagged & labels).sum() / flagged.sum())
    assert recall == pytest.approx((flagged & labels).sum() / labels.sum())
    assert false_pos == pytest.approx((flagged & ~labels).sum() / (~labels).sum())


def test_divergences_and_coverage():
    rng = np.random.default_rng(0)
    real = sample_2d("ring", 4000, rng, spread=0.1)
    kl, js = metrics.binned_divergences(real, real, 3.0)
    assert kl == pytest.approx(0, abs=1e-9) and js == pytest.approx(0, abs=1e-9)
    far = rng.normal(0, 0.1, (4000, 2)).astype(np.float32)  # everything in the centre, no mode
    kl, js = metrics.binned_divergences(real, far, 3.0)
    assert kl > 5 and 0.6 < js <= math.log(2)
    centres = mode_centres("ring", spread=0.1)
    radii = metrics.mode_radii(real, centres)
    assert np.allclose(radii, 0.1 * math.sqrt(-2 * math.log(0.05)), rtol=0.15)  # 95 % of a 2-D Gaussian
    assert metrics.mode_coverage(real, centres, radii).n_covered == 8
    half = real[np.linalg.norm(real - centres[0], axis=1) < 0.5]
    cov = metrics.mode_coverage(half, centres, radii)
    assert cov.n_covered == 1 and cov.covered[0]
    assert metrics.mode_coverage(far, centres, radii).quality == 0


def test_psnr():
    a = np.zeros((2, 1, 4, 4))
    assert metrics.psnr(a + 0.1, a) == pytest.approx(20.0)


# ---------------------------------------------------------------------------------------------- GAN steps
@pytest.mark.parametrize("config", [gen.Config(batch_size=64), gen.PRESETS["dcgan"].replace(batch_size=16)],
                         ids=["gan2d", "dcgan"])
def test_d_only_steps_leave_the_generator_unchanged(config):
    trainer = trained(config, 2)
    g_before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    d_before = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    for _ in range(3):
        view = gen.step_discriminator(trainer)
    assert all(torch.equal(g_before[k], v) for k, v in trainer.G.state_dict().items())
    assert any(not torch.equal(d_before[k], v) for k, v in trainer.D.state_dict().items())
    d_now = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    before_samples = view.fake if hasattr(view, "fake") else view.samples
    view = gen.step_generator(trainer)
    assert all(torch.equal(d_now[k], v) for k, v in trainer.D.state_dict().items())
    assert any(not torch.equal(g_before[k], v) for k, v in trainer.G.state_dict().items())
    after = view.fake if hasattr(view, "fake") else view.samples
    assert np.abs(after - before_samples).max() > 0  # the generated samples moved


def test_gan2d_learns_the_ring_in_a_short_run():
    trainer = build_seeded(lambda: gen.make_trainer(gen.Config()), 0)
    first = trainer.evaluate()
    for _ in range(800):
        trainer.train_step()
    last = trainer.evaluate()
    assert first["modes_covered"] <= 2 and last["modes_covered"] >= 6
    assert last["js"] < first["js"] - 0.2 and last["kl"] < first["kl"]
    view = trainer.snapshot()
    assert view.coverage >= 0.75 and view.js > view.js_floor
    assert view.d_grid.shape == (len(view.axis), len(view.axis)) and 0 <= view.d_grid.min() <= view.d_grid.max() <= 1
    assert view.manifold.shape == (21, 21, 2) and view.arrows.shape == view.fake.shape
    # the arrows are −∂L_G/∂x: a small step along them lowers the generator's loss
    x = torch.from_numpy(view.fake)
    before = generator_loss("nonsat", trainer.D(x)).item()
    after = generator_loss("nonsat", trainer.D(x + 1e-3 * torch.from_numpy(view.arrows))).item()
    assert after < before
    assert len(pickle.dumps(view)) < 1_000_000


@pytest.mark.slow
def test_collapse_preset_covers_fewer_modes_than_the_fix():
    def late_mean(config):
        trainer = build_seeded(lambda: gen.make_trainer(config), 0)
        counts = []
        for i in range(30):
            for _ in range(100):
                trainer.train_step()
            if i >= 15:
                counts.append(trainer.evaluate()["modes_covered"])
        return np.mean(counts)

    collapse, fixed = late_mean(gen.PRESETS["ring_collapse"]), late_mean(gen.PRESETS["ring_fixed"])
    assert collapse <= 5 and fixed >= 7.5


def test_dcgan_view_and_interpolation():
    trainer = trained(gen.PRESETS["dcgan"].replace(batch_size=16), 3)
    view = trainer.snapshot()
    assert view.samples.shape == (64, 1, 16, 16) and 0 <= view.samples.min() and view.samples.max() <= 1
    path = gen.interpolate(trainer, 3, 10, 5)
    assert path.shape == (5, 1, 16, 16)
    np.testing.assert_allclose(path[0], view.samples[3], atol=1e-5)
    np.testing.assert_allclose(path[-1], view.samples[10], atol=1e-5)
    z = trainer.grid_noise[7].cpu().numpy()
    np.testing.assert_allclose(gen.decode_point(trainer, z.tolist()), view.samples[7], atol=1e-5)
    assert set(trainer.evaluate()) >= {"confidence", "digits_seen"}
    grid = gen.decode_grid(trainer, 4)
    assert grid.images.shape == (16, 1, 16, 16)


# ---------------------------------------------------------------------------------------------- autoencoders
def test_autoencoder_loss_goes_down_and_latent_is_2d():
    trainer = build_seeded(lambda: gen.make_trainer(gen.PRESETS["autoencoder"]), 0)
    first = trainer.evaluate()["val_loss"]
    for _ in range(300):
        trainer.train_step()
    ev = trainer.evaluate()
    assert ev["val_loss"] < 0.8 * first
    view = trainer.snapshot()
    assert view.latent.shape == (len(view.latent_labels), 2) and not view.latent_projected
    assert view.inputs.shape == view.outputs.shape == (12, 1, 16, 16) and view.noisy.shape[0] == 0
    code = trainer.encode(torch.from_numpy(view.inputs[:1]))[0]
    np.testing.assert_allclose(gen.decode_point(trainer, code.tolist()), view.outputs[0], atol=1e-5)
    path = gen.interpolate(trainer, 0, 1, 4)
    np.testing.assert_allclose(path[0], view.outputs[0], atol=1e-5)
    grid = gen.decode_grid(trainer, 5)
    assert grid.images.shape == (25, 1, 16, 16) and grid.axis_y[0] > grid.axis_y[-1]


def test_wide_bottleneck_maps_the_latent_plane_back_through_pca():
    trainer = trained(gen.PRESETS["autoencoder"].replace(bottleneck=6), 20)
    view = trainer.snapshot()
    assert view.latent_projected
    codes = trainer.encode(trainer.x_test)
    back = trainer.from_map(view.latent[:3])
    mean, basis = trainer._pca
    np.testing.assert_allclose(back, mean + (codes[:3] - mean) @ basis.T @ basis, atol=1e-4)
    assert gen.decode_point(trainer, [0.0, 0.0]).shape == (1, 16, 16)
    traversal = gen.latent_traversal(trainer, n=5)
    assert traversal.images.shape == (6 * 5, 1, 16, 16)


def test_denoising_improves_psnr():
    trainer = trained(gen.PRESETS["denoise"].replace(arch="dense"), 300)
    ev = trainer.evaluate()
    assert ev["psnr_output"] > ev["psnr_noisy"] + 2
    view = trainer.snapshot()
    assert view.noisy.shape == view.inputs.shape and view.psnr_output > view.psnr_noisy


def test_anomaly_auc_matches_sklearn_and_separates():
    trainer = trained(gen.PRESETS["anomaly"], 400)
    report = gen.anomaly_scores(trainer)
    assert report.auc == pytest.approx(roc_auc_score(report.anomalous, report.scores), abs=1e-9)
    assert report.auc > 0.85
    assert set(report.labels[report.anomalous]) == {0} and 0 not in set(report.labels[~report.anomalous])
    assert int(report.anomalous.sum()) == int((trainer.y_test == 0).sum()) == 178  # every 0 of the data set
    assert trainer.evaluate()["auc"] == pytest.approx(report.auc)
    recon, scores = gen.reconstruct_images(trainer, trainer.x_test[:4].cpu().numpy())
    np.testing.assert_allclose(scores, report.scores[:4], rtol=1e-5)
    ex = gen.explainable(trainer)
    out = ex.model(ex.x_test[:8])
    assert out.shape == (8, 1)
    assert torch.equal(out[:, 0] > 0, torch.from_numpy(report.scores[:8] > report.threshold))


def test_explainable_discriminators():
    ex = gen.explainable(trained(gen.Config(batch_size=32), 5))
    assert ex.kind == "features" and ex.binary and ex.spec.shape == (2,)
    assert ex.model(ex.x_test).shape == (len(ex.x_test), 1) and set(ex.y_test.tolist()) == {0, 1}


# ---------------------------------------------------------------------------------------------- actions
def test_actions_reject_the_wrong_mode_and_bad_arguments():
    ae = trained(gen.PRESETS["autoencoder"], 1)
    with pytest.raises(ConfigError) as err:
        gen.step_discriminator(ae)
    assert err.value.key == "generative.errors.wrong_mode"
    with pytest.raises(ConfigError) as err:
        gen.sample_prior(ae)
    assert err.value.key == "generative.errors.wrong_mode"
    with pytest.raises(ConfigError) as err:
        gen.interpolate(ae, 0, 99)
    assert err.value.key == "generative.errors.index"
    with pytest.raises(ConfigError) as err:
        gen.interpolate(ae, 0, 1, 1000)
    assert err.value.key == "generative.errors.count"
    with pytest.raises(ConfigError) as err:
        gen.decode_point(ae, [1.0, 2.0, 3.0])
    assert err.value.key == "generative.errors.latent_size"
    with pytest.raises(ConfigError) as err:
        gen.decode_point(ae, [math.nan, 0.0])
    assert err.value.key == "generative.errors.latent_values"
    with pytest.raises(ConfigError) as err:
        gen.reconstruct_images(ae, np.zeros((2, 3, 8, 8)))
    assert err.value.key == "generative.errors.image_shape"
    with pytest.raises(ConfigError) as err:
        gen.apply_config(ae, ae.config.replace(bottleneck=3))
    assert err.value.key == "generative.errors.needs_rebuild"


def test_live_learning_rates_apply_to_the_running_gan():
    trainer = trained(gen.Config(batch_size=32), 1)
    gen.apply_config(trainer, trainer.config.replace(g_lr=1e-2, d_lr=3e-4, d_steps=3))
    assert trainer.g_opt.param_groups[0]["lr"] == 1e-2 and trainer.d_opt.param_groups[0]["lr"] == 3e-4
    assert trainer.g_opt.param_groups[0]["betas"] == (0.5, 0.999)
    assert trainer.train_step()["lr"] == 1e-2


# ---------------------------------------------------------------------------------------------- data
def test_distributions_are_registered_and_drawn_points_round_trip():
    assert {DATASETS.entry(n).family for n in DISTRIBUTIONS.values()} == {"gan2d"}
    assert {e.family for e in MODELS if e.name.startswith(("gan2d", "dcgan", "autoencoder", "vae"))} == {"generative"}
    xy = np.array([[0.5, -1.25], [2.0, 2.0], [-3.5, 0.0]])
    values = encode_points(xy)
    assert values == (50, -125, 200, 200, -300, 0)  # clipped to the plane
    np.testing.assert_allclose(decode_points(values), [[0.5, -1.25], [2, 2], [-3, 0]])
    fitted = decode_points(parse_points_csv(b"x,y\n10,10\n20,10\n30,40\n"))
    assert len(fitted) == 3 and np.abs(fitted).max() == pytest.approx(2.4)
    drawn = gen.Config(distribution="drawn", points=values).validate()
    trainer = gen.make_trainer(drawn.replace(batch_size=32))
    assert len(trainer.modes) == 3
    trainer.train_step()


@pytest.mark.parametrize(("data", "key"), [
    (b"", "generative.errors.csv_empty"),
    (b"1,2,3\n4,5,6\n", "generative.errors.csv_columns"),
    (b"x,y\n1,2\nfoo,3\n", "generative.errors.csv_number"),
    (b"1,2\n3,4\n", "generative.errors.too_few_points"),
    (b"\xff\xfe\x00garbage", "generative.errors.csv_text"),
    (b"1,2\n" * 2_000_000, "generative.errors.csv_size"),
])
def test_bad_csv_uploads(data, key):
    with pytest.raises(DataError) as err:
        parse_points_csv(data)
    assert err.value.key == key


# ---------------------------------------------------------------------------------------------- settings
def test_config_url_round_trip():
    config = gen.Config(mode="anomaly", distribution="drawn", points=(0, 0, 100, 100, -100, 50), noise_dim=4,
                        prior="uniform", g_activation="Tanh", loss="lsgan", optimizer="RMSprop", g_lr=2e-4,
                        d_lr=5e-4, d_steps=3, arch="conv", bottleneck=8, beta=0.25, noise_kind="masking",
                        noise_level=0.5, normal_classes=("1", "7"), step_delay_ms=50, seed=7)
    back, warnings = gen.Config.from_query(config.to_query())
    assert back == config and warnings == []
    assert gen.Config.from_card(config.card())[0] == config
    for name, preset in gen.PRESETS.items():
        assert gen.Config.from_query(preset.to_query()) == (preset, []), name


@pytest.mark.parametrize(("changes", "key"), [
    ({"g_width": 0}, "common.config.range"),
    ({"loss": "hinge"}, "common.config.choice"),
    ({"normal_classes": tuple("0123456789")}, "common.config.max_items"),
    ({"normal_classes": ()}, "common.config.min_items"),
    ({"distribution": "drawn"}, "generative.errors.too_few_points"),
    ({"points": (1, 2, 3)}, "generative.errors.odd_points"),
    ({"points": (1000, 0, 0, 0)}, "common.config.items_range"),
    ({"g_lr": 0.0}, "common.config.range"),
])
def test_bad_values_are_config_errors_with_catalogue_keys(changes, key):
    config = gen.Config(**changes)
    with pytest.raises(ConfigError) as err:
        gen.make_job(config)
    assert err.value.key == key
    assert key in catalogue("en") and key in catalogue("zh")


def test_bad_url_values_are_repaired_with_warnings():
    config, warnings = gen.Config.from_query({"dist": "drawn", "pts": "10,20", "gw": "9999", "loss": "nope"})
    assert config.distribution == "ring" and config.g_width == 256 and config.loss == "nonsat"
    assert "generative.url.no_points" in {w.key for w in warnings}
    assert len(warnings) == 3


def test_job_runs_in_the_thread_and_pickles():
    job = gen.make_job(gen.Config(steps=30, batch_size=32))
    pickle.dumps(job.spec())
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED and snap.step == 30
    assert isinstance(snap.view, gen.Gan2dView) and "coverage" in snap.evals
    assert job.inspect(gen.fresh_view).step == 30
    assert isinstance(gen.initial_view(gen.PRESETS["vae"]), gen.AutoencoderView)


def test_catalogues_agree():
    en = {k: v for k, v in catalogue("en").items() if k.startswith("generative.")}
    zh = {k: v for k, v in catalogue("zh").items() if k.startswith("generative.")}
    assert set(en) == set(zh)
    assert all(placeholders(en[k]) == placeholders(zh[k]) for k in en)
    for f in gen.Config.declared():
        assert f"generative.fields.{f.name}" in en
    for name in gen.PRESETS:
        assert f"generative.presets.{name}" in en and f"generative.presets.{name}_note" in en


# ---------------------------------------------------------------------------------------------- figures
def test_figures_use_the_views_and_the_catalogue():
    trainer = trained(gen.Config(batch_size=64), 50)
    view = trainer.snapshot()
    fig = viz.gan_plane(view, "zh", show_modes=True, max_arrows=100)
    assert isinstance(fig, go.Figure) and len(fig.layout.shapes) == 8
    names = {t.name for t in fig.data}
    assert {"真实", "生成", "生成器梯度"} <= names
    heat = next(t for t in fig.data if isinstance(t, go.Heatmap))
    np.testing.assert_allclose(np.asarray(heat.z, dtype=float), np.round(view.d_grid, 4))
    assert viz.manifold(view).data[1].x.count(None) == 42  # 21 rows + 21 columns of the noise grid
    history = {"step": [1.0, 2.0], "d_loss": [1.0, 0.9], "g_loss": [0.7, 0.8], "recon": [5.0, 4.0], "kl": [1.0, 2.0]}
    assert len(viz.gan_losses(history).data) == 2 and len(viz.vae_terms(history).data) == 2
    evals = {"step": [0.0, 100.0], "kl": [8.0, 1.0], "js": [0.6, 0.1], "coverage": [0.1, 1.0]}
    assert len(viz.divergence_curves(evals, kl_floor=0.1).data) == 4
    ae = trained(gen.PRESETS["anomaly"], 30)
    report = gen.anomaly_scores(ae)
    hist = viz.error_histogram(report, "en", threshold=float(np.median(report.scores)))
    assert len(hist.data) == 2 and "precision" in hist.layout.title.text
    assert f"{report.auc:.3f}" in viz.roc(report).layout.title.text
    aview = ae.snapshot()
    assert len(viz.latent_scatter(aview.latent, aview.latent_labels, highlight=[0]).data) == 10
    assert len(viz.reconstructions(aview).data) == 2
    assert isinstance(viz.latent_grid(gen.latent_traversal(ae, n=4), traversal=True), go.Figure)


@pytest.mark.slow
def test_the_lab_runs_in_a_worker_process():
    from core.workers import RemoteManager

    manager = RemoteManager(n_workers=1, capacity=2, per_session=2)
    try:
        assert manager.wait_ready(180)
        job = manager.submit("alice", gen.make_job(gen.Config(batch_size=32), total_steps=None))
        deadline = time.monotonic() + 60
        while job.snapshot().step < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        job.pause()
        view = job.inspect(gen.step_discriminator)
        assert isinstance(view, gen.Gan2dView)
        moved = job.inspect(gen.step_generator)
        assert np.abs(moved.fake - view.fake).max() > 0
        assert job.inspect(gen.explainable).binary
        assert job.inspect(gen.interpolate, 0, 1, 4).shape == (4, 2)
        with pytest.raises(ConfigError):
            job.inspect(gen.anomaly_scores)
        manager.discard("alice", job)
    finally:
        manager.end_session("alice")
        manager.close()
