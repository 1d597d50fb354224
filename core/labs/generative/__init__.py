"""The generative lab: a 2-D GAN learning live (GAN Lab), a DCGAN on the digits, and autoencoders — plain,
variational, denoising — with anomaly detection by reconstruction error.

Public face (see ``core.labs``): ``Config``, ``make_trainer``, ``make_job``, the views (``Gan2dView``,
``ImageGanView``, ``AutoencoderView``), ``PRESETS``, the actions and inspections below (module-level functions
``fn(trainer, …)`` that a job runs between two steps) and ``explainable``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from core.errors import ConfigError
from core.explain.methods import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.jobs import TrainingJob, build_seeded

from .autoencoder import AutoencoderTrainer, corrupt
from .config import AE_MODES, GAN_MODES, MODE_PRESETS, MODES, PRESETS, Config, preset_for
from .gan import DcganTrainer, Gan2dTrainer, GanTrainer
from .metrics import threshold_metrics
from .views import AnomalyReport, AutoencoderView, Gan2dView, ImageGanView, LatentGrid

__all__ = [
    "AE_MODES", "GAN_MODES", "MODES", "MODE_PRESETS", "PRESETS", "AnomalyReport", "AutoencoderTrainer",
    "AutoencoderView", "Config", "DcganTrainer", "Gan2dTrainer", "Gan2dView", "ImageGanView", "LatentGrid",
    "anomaly_scores", "apply_config", "corrupt", "decode_grid", "decode_point", "explainable", "fresh_view",
    "initial_view", "interpolate", "latent_traversal", "make_job", "make_trainer", "preset_for",
    "reconstruct_images", "sample_prior", "step_discriminator", "step_generator", "threshold_metrics",
]

Trainer = Gan2dTrainer | DcganTrainer | AutoencoderTrainer
View = Gan2dView | ImageGanView | AutoencoderView
EVAL_EVERY = {"gan2d": 100, "dcgan": 100}  # autoencoder modes: 50
SNAPSHOT_EVERY = {"gan2d": 10}  # others: 25
MAX_INTERPOLATION = 32


def make_trainer(config: Config) -> Trainer:
    """The trainer for ``config.mode`` (everything, data included, is built here from the config)."""
    config.validate()
    if config.mode == "gan2d":
        return Gan2dTrainer(config)
    if config.mode == "dcgan":
        return DcganTrainer(config)
    return AutoencoderTrainer(config)


def make_job(config: Config, *, total_steps: int | None = -1, pause_unwatched_s: float | None = None,
             start_paused: bool = False) -> TrainingJob:
    """A training job for ``config`` (checked here, so a bad value fails in the page, not in the job thread).

    It runs ``config.steps`` steps (``total_steps`` overrides; None: until paused) with ``config.step_delay_ms``
    between them (the slow mode); with ``pause_unwatched_s`` it pauses itself when its page stops drawing it.
    GAN losses may rise and fall, so only the autoencoders get the "loss keeps growing" check."""
    config.validate()
    return TrainingJob(functools.partial(make_trainer, config),
                       name=Message("generative.job", mode=Term(f"generative.modes.{config.mode}")),
                       total_steps=config.steps if total_steps == -1 else total_steps,
                       eval_every=EVAL_EVERY.get(config.mode, 50), snapshot_every=SNAPSHOT_EVERY.get(config.mode, 25),
                       seed=config.seed, step_delay_s=config.step_delay_ms / 1000, start_paused=start_paused,
                       pause_unwatched_s=pause_unwatched_s, diverge_factor=None if config.is_gan else 3.0,
                       lab="generative")


def initial_view(config: Config) -> View:
    """The untrained models exactly as Play will start them (same seed), for the preview."""
    return build_seeded(functools.partial(make_trainer, config), config.seed).snapshot()


def fresh_view(trainer: Trainer) -> View:
    """The models right now (not the last rate-limited view): what a paused page shows."""
    return trainer.snapshot()


# ---------------------------------------------------------------------------------------------- actions
def _need(trainer: object, kind: type | tuple[type, ...], what: str) -> None:
    if not isinstance(trainer, kind):
        raise ConfigError("generative.errors.wrong_mode", action=Term(f"generative.actions.{what}"))


def step_discriminator(trainer: GanTrainer) -> View:
    """One discriminator step only (the generator's weights stay as they are); the new view."""
    _need(trainer, GanTrainer, "step_discriminator")
    trainer.d_step()
    return trainer.snapshot()


def step_generator(trainer: GanTrainer) -> View:
    """One generator step only (the discriminator's weights stay as they are); the new view."""
    _need(trainer, GanTrainer, "step_generator")
    trainer.g_step()
    return trainer.snapshot()


def apply_config(trainer: Trainer, config: Config) -> None:
    """Apply a changed config whose differences need no new model (``rebuild=False`` fields: learning rates,
    D steps, the gradient-penalty weight, β, the noise kind and level)."""
    config.validate()
    if config.structure() != trainer.config.structure():
        raise ConfigError("generative.errors.needs_rebuild")
    trainer.update(config)


def _index(i: int, n: int) -> int:
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
        raise ConfigError("generative.errors.index", value=i, high=n - 1)
    return int(i)


def _count(n: int, high: int = MAX_INTERPOLATION) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= high:
        raise ConfigError("generative.errors.count", value=n, low=2, high=high)
    return int(n)


def interpolate(trainer: Trainer, a: int, b: int, n: int = 8) -> np.ndarray:
    """``n`` outputs along the straight line between two latent points, ends included.

    2-D GAN: between the noise of generated points ``a`` and ``b`` of the view → ``(n, 2)`` points. DCGAN:
    between samples ``a`` and ``b`` of the fixed-noise grid → ``(n, 1, 16, 16)`` pictures. Autoencoders:
    between the codes of the view's inputs ``a`` and ``b`` → pictures.
    """
    n = _count(n)
    t = torch.linspace(0, 1, n)[:, None]
    if isinstance(trainer, Gan2dTrainer):
        z = trainer.shown_noise.cpu()
        za, zb = z[_index(a, len(z))], z[_index(b, len(z))]
        return trainer.generate((1 - t) * za + t * zb)
    if isinstance(trainer, DcganTrainer):
        z = trainer.grid_noise.cpu()
        za, zb = z[_index(a, len(z))], z[_index(b, len(z))]
        return trainer.generate((1 - t) * za + t * zb)
    _need(trainer, AutoencoderTrainer, "interpolate")
    shown = trainer.x_test[trainer.shown.to(trainer.device)]
    codes = torch.from_numpy(trainer.encode(shown))
    za, zb = codes[_index(a, len(codes))], codes[_index(b, len(codes))]
    return trainer.decode((1 - t) * za + t * zb)


def decode_point(trainer: Trainer, z: Sequence[float]) -> np.ndarray:
    """What the model makes of one latent point: a 2-D GAN point ``(2,)`` for a noise vector, a DCGAN picture
    ``(1, 16, 16)`` for a noise vector, an autoencoder's picture for a code. For an autoencoder whose latent map
    is a PCA projection, a 2-D ``z`` is a point on that map (mapped back to a full code)."""
    z_arr = np.asarray(z, dtype=np.float32).ravel()
    if not np.isfinite(z_arr).all():
        raise ConfigError("generative.errors.latent_values")
    if isinstance(trainer, AutoencoderTrainer):
        full = trainer.config.bottleneck
        if len(z_arr) == 2 and full > 2:
            z_arr = trainer.from_map(z_arr[None])[0]
        if len(z_arr) != full:
            raise ConfigError("generative.errors.latent_size", count=len(z_arr), n=full)
        return trainer.decode(torch.from_numpy(z_arr)[None])[0]
    _need(trainer, GanTrainer, "decode_point")
    if len(z_arr) != trainer.noise_dim:
        raise ConfigError("generative.errors.latent_size", count=len(z_arr), n=trainer.noise_dim)
    return trainer.generate(torch.from_numpy(z_arr)[None])[0]


def decode_grid(trainer: Trainer, n: int = 12, span: float | None = None) -> LatentGrid:
    """Pictures decoded over an ``n × n`` grid of the latent plane: an autoencoder's latent map (its range, or
    ±``span``), a VAE's prior (±2.5), a DCGAN's first two noise dimensions (±2, the rest 0)."""
    n = _count(n, 24)
    if isinstance(trainer, DcganTrainer):
        span = 2.0 if span is None else float(span)
        axis = np.linspace(-span, span, n, dtype=np.float32)
        z = np.zeros((n, n, trainer.noise_dim), dtype=np.float32)
        z[:, :, 0], z[:, :, 1] = axis[None, :], axis[::-1, None]
        return LatentGrid(trainer.generate(torch.from_numpy(z.reshape(n * n, -1))), axis, axis[::-1].copy())
    _need(trainer, AutoencoderTrainer, "decode_grid")
    if span is None and trainer.variational and trainer.config.bottleneck <= 2:
        span = 2.5
    if span is None:
        latent, _ = trainer.latent_map()
        lo, hi = np.quantile(latent, 0.02, axis=0), np.quantile(latent, 0.98, axis=0)
    else:
        lo, hi = np.full(2, -float(span)), np.full(2, float(span))
    ax, ay = (np.linspace(lo[i], hi[i], n, dtype=np.float32) for i in (0, 1))
    gx, gy = np.meshgrid(ax, ay[::-1])
    plane = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    bottleneck = trainer.config.bottleneck
    codes = trainer.from_map(plane) if bottleneck > 2 else plane[:, :bottleneck]
    return LatentGrid(trainer.decode(torch.from_numpy(codes)), ax, ay[::-1].copy())


def latent_traversal(trainer: AutoencoderTrainer, n: int = 9, span: float = 2.5, max_dims: int = 8) -> LatentGrid:
    """One row per code dimension (up to ``max_dims``): that dimension swept over ``n`` values while the others
    stay at the average code — for a VAE from −span to +span (its prior's σ units), for a plain autoencoder over
    ``span`` standard deviations of the test codes around their mean."""
    _need(trainer, AutoencoderTrainer, "latent_traversal")
    n = _count(n, 16)
    codes = trainer.encode(trainer.x_test)
    dims = min(trainer.config.bottleneck, max_dims)
    centre = np.zeros(codes.shape[1], np.float32) if trainer.variational else codes.mean(axis=0)
    scale = np.ones(codes.shape[1], np.float32) if trainer.variational else codes.std(axis=0) + 1e-6
    values = np.linspace(-span, span, n, dtype=np.float32)
    z = np.repeat(centre[None], dims * n, axis=0)
    for d in range(dims):
        z[d * n:(d + 1) * n, d] = centre[d] + values * scale[d]
    return LatentGrid(trainer.decode(torch.from_numpy(z)), values, np.arange(dims, dtype=np.float32))


def sample_prior(trainer: Trainer, n: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` pictures from fresh noise: a VAE decodes N(0, I) codes, a DCGAN generates from N(0, I) noise."""
    n = _count(n, 64)
    gen = torch.Generator().manual_seed(int(seed))
    if isinstance(trainer, DcganTrainer):
        return trainer.generate(torch.randn(n, trainer.noise_dim, generator=gen))
    if not (isinstance(trainer, AutoencoderTrainer) and trainer.variational):
        raise ConfigError("generative.errors.wrong_mode", action=Term("generative.actions.sample_prior"))
    return trainer.decode(torch.randn(n, trainer.config.bottleneck, generator=gen))


def anomaly_scores(trainer: AutoencoderTrainer) -> AnomalyReport:
    """Reconstruction errors of the held-out normal digits and of the anomalous classes, with ROC and AUC."""
    _need(trainer, AutoencoderTrainer, "anomaly_scores")
    if trainer.mode != "anomaly":
        raise ConfigError("generative.errors.wrong_mode", action=Term("generative.actions.anomaly_scores"))
    return trainer.anomaly_report()


def reconstruct_images(trainer: AutoencoderTrainer, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The autoencoder's reconstructions of the visitor's pictures ``(N, 1, 16, 16)`` in 0..1 (a drawn digit,
    say; corrupted first in denoising mode) and their anomaly scores (mean squared error)."""
    _need(trainer, AutoencoderTrainer, "reconstruct_images")
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[1:] != (1, 16, 16) or not np.isfinite(x).all():
        raise ConfigError("generative.errors.image_shape", shape="×".join(map(str, x.shape)))
    t = torch.from_numpy(np.clip(x, 0, 1))
    t_in = trainer.corrupt(t.to(trainer.device), trainer._fixed_noise()) if trainer.mode == "denoise" else t
    out = trainer.reconstruct(t_in)
    return out, ((out - x) ** 2).reshape(len(x), -1).mean(axis=1)


# ---------------------------------------------------------------------------------------------- explain
class AnomalyScorer(nn.Module):
    """An autoencoder read as a one-logit classifier: (reconstruction MSE − threshold) / scale > 0 = anomaly."""

    def __init__(self, autoencoder: nn.Module, threshold: float, scale: float) -> None:
        super().__init__()
        self.autoencoder, self.threshold, self.scale = autoencoder, threshold, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits, _, _ = self.autoencoder(x)
        mse = ((torch.sigmoid(logits) - x) ** 2).reshape(len(x), -1).mean(dim=1, keepdim=True)
        return (mse - self.threshold) / self.scale


def explainable(trainer: Trainer) -> Explainable:
    """The model the Explain page can open, as a one-logit classifier (``binary``): the 2-D GAN's and the
    DCGAN's discriminator (real vs generated); for every autoencoder its reconstruction error read as
    "anomaly" (error above the 95th percentile of the validation errors) — so attributions show which pixels the
    autoencoder fails to reproduce. The encoder itself is not offered: its code has no classes to explain."""
    cfg = trainer.config
    card = cfg.card()
    if isinstance(trainer, Gan2dTrainer):
        real = torch.from_numpy(trainer.shown_real)
        fake = torch.from_numpy(trainer.generate(trainer.shown_noise))
        spec = InputSpec(shape=(2,), class_names=_classes("generated", "real"), low=(-3.0, -3.0), high=(3.0, 3.0),
                         mean=trainer.eval_real.mean(axis=0), feature_names=["x₁", "x₂"])
        return Explainable("generative", "features", private_copy(trainer.D), spec, torch.cat([real, fake]),
                           _labels(len(real), len(fake)), Message("generative.explain.gan2d"),
                           x_train=torch.from_numpy(trainer.eval_real), binary=True, card=card)
    if isinstance(trainer, DcganTrainer):
        real = trainer.val_images[:128].cpu()
        fake = torch.from_numpy(trainer.generate(trainer.eval_noise[:128]) * 2 - 1)
        spec = InputSpec(shape=(1, 16, 16), class_names=_classes("generated", "real"), low=-1.0, high=1.0,
                         mean=trainer.images.mean(dim=0).cpu().numpy())
        return Explainable("generative", "image", private_copy(trainer.D), spec, torch.cat([real, fake]),
                           _labels(len(real), len(fake)), Message("generative.explain.dcgan"), binary=True, card=card)
    if isinstance(trainer, AutoencoderTrainer):
        report = trainer.anomaly_report()
        scale = float(np.std(report.scores)) or 1.0
        model = AnomalyScorer(private_copy(trainer.model), report.threshold, scale).eval()
        spec = InputSpec(shape=(1, 16, 16), class_names=_classes("normal", "anomaly"), low=0.0, high=1.0,
                         mean=trainer.x.mean(dim=0).cpu().numpy())
        if trainer.mode == "anomaly":
            truth = report.anomalous
            description = Message("generative.explain.anomaly", classes=", ".join(map(str, cfg.normal_digits)))
        else:  # no anomalies by construction: the labels are the model's own verdicts
            truth = report.scores >= report.threshold
            description = Message("generative.explain.recon_error", mode=Term(f"generative.modes.{trainer.mode}"))
        card = card | {"metrics": {"auc": report.auc} if trainer.mode == "anomaly" else {}}
        return Explainable("generative", "image", model, spec, trainer.x_test.cpu(),
                           torch.from_numpy(truth.astype(np.int64)), description, binary=True, card=card)
    raise ConfigError("generative.errors.wrong_mode", action=Term("generative.actions.explain"))


def _classes(negative: str, positive: str) -> list[str]:
    """Class names as catalogue terms (``Term`` is a ``str``; a page translates it with ``core.i18n.text``)."""
    return [Term(f"generative.classes.{negative}"), Term(f"generative.classes.{positive}")]


def _labels(n_pos: int, n_neg: int) -> torch.Tensor:
    return torch.cat([torch.ones(n_pos, dtype=torch.long), torch.zeros(n_neg, dtype=torch.long)])
