"""GAN trainers: the 2-D GAN of GAN Lab and a small DCGAN on the digits. Both alternate ``d_steps``
discriminator steps with one generator step; each half is also callable alone (``d_step`` / ``g_step``)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from core.data.generative import EXTENT, decode_points, mode_centres, sample_2d
from core.data.images import load_digits_dataset
from core.device import best_device
from core.models.generative import (
    dcgan_discriminator,
    dcgan_generator,
    discriminator_loss,
    gan2d_discriminator,
    gan2d_generator,
    generator_loss,
    gradient_penalty,
)
from core.training import gradient_norm, make_optimizer

from . import metrics
from .config import Config
from .views import Gan2dView, ImageGanView

GAN_BETAS = (0.5, 0.999)  # Adam's β₁ lowered to 0.5 (Radford et al. 2015): the usual choice for GANs
D_GRID = 48  # resolution of the discriminator heatmap
SHOWN = 400  # real and generated points drawn on the plane
EVAL_SAMPLES = 4000  # samples behind the divergence and coverage numbers
MANIFOLD = 21  # noise grid points per side


def make_gan_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """The shared optimizer registry, with Adam's β₁ at 0.5."""
    opt = make_optimizer(name, params, lr)
    if name in ("Adam", "AdamW"):
        for group in opt.param_groups:
            group["betas"] = GAN_BETAS
    return opt


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


class GanTrainer:
    """Generator ``G``, discriminator ``D`` and their optimizers; subclasses say where real samples come from."""

    steps_per_epoch = 0
    done = False

    def __init__(self, config: Config, generator: nn.Module, discriminator: nn.Module, noise_dim: int) -> None:
        self.config = config
        self.device = best_device()
        self.G, self.D = generator.to(self.device), discriminator.to(self.device)
        self.noise_dim = noise_dim
        self.g_opt = make_gan_optimizer(config.optimizer, self.G.parameters(), config.g_lr)
        self.d_opt = make_gan_optimizer(config.optimizer, self.D.parameters(), config.d_lr)
        self.torch_gen = torch.Generator().manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.step = 0
        self.last: dict[str, float] = {}

    # ------------------------------------------------------------------ pieces
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` noise vectors from the prior: a standard Gaussian, or for the 2-D GAN optionally uniform on
        [-1, 1]."""
        gen = generator or self.torch_gen
        if self.config.mode == "gan2d" and self.config.prior == "uniform":
            z = torch.rand(n, self.noise_dim, generator=gen) * 2 - 1
        else:
            z = torch.randn(n, self.noise_dim, generator=gen)
        return z.to(self.device)

    def real_batch(self, n: int) -> torch.Tensor:
        raise NotImplementedError

    def update(self, config: Config) -> None:
        """Apply the settings that need no new model (learning rates, D steps, penalty weight)."""
        self.config = config
        set_lr(self.g_opt, config.g_lr)
        set_lr(self.d_opt, config.d_lr)

    # ------------------------------------------------------------------ the two halves
    def d_step(self) -> dict[str, float]:
        """One discriminator step on a real and a generated batch; the generator is not touched."""
        cfg = self.config
        real = self.real_batch(cfg.batch_size)
        with torch.no_grad():
            fake = self.G(self.noise(cfg.batch_size))
        d_real, d_fake = self.D(real), self.D(fake)
        loss = discriminator_loss(cfg.loss, d_real, d_fake)
        total = loss
        out: dict[str, float] = {}
        if cfg.loss == "wgan_gp":
            alpha = torch.rand(len(real), generator=self.torch_gen)
            gp = gradient_penalty(self.D, real, fake, alpha)
            total = loss + cfg.gp_weight * gp
            out["gp"] = gp.item()
        self.d_opt.zero_grad(set_to_none=True)
        total.backward()
        out["d_grad_norm"] = gradient_norm(list(self.D.parameters())).item()
        self.d_opt.step()
        out |= {"d_loss": total.item(), "d_real": self._realness(d_real), "d_fake": self._realness(d_fake)}
        self.last |= out
        return out

    def g_step(self) -> dict[str, float]:
        """One generator step through the (fixed) discriminator; only G's weights change."""
        cfg = self.config
        fake = self.G(self.noise(cfg.batch_size))
        loss = generator_loss(cfg.loss, self.D(fake))
        g_params = list(self.G.parameters())
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward(inputs=g_params)
        out = {"g_loss": loss.item(), "grad_norm": gradient_norm(g_params).item()}
        self.g_opt.step()
        self.last |= out
        return out

    def train_step(self) -> dict[str, float]:
        """``d_steps`` discriminator steps, then one generator step. ``loss`` is the discriminator's (penalty
        included), ``g_loss`` the generator's."""
        for _ in range(self.config.d_steps):
            d = self.d_step()
        g = self.g_step()
        self.step += 1
        return {"loss": d["d_loss"], **d, **g, "lr": self.config.g_lr}

    def _realness(self, out: torch.Tensor) -> float:
        """Mean of what D says about a batch: p(real) for the logistic losses, the raw output otherwise."""
        if self.config.loss in ("minimax", "nonsat"):
            return torch.sigmoid(out).mean().item()
        return out.mean().item()

    @torch.no_grad()
    def d_map(self, x: torch.Tensor) -> np.ndarray:
        """D's output on ``x`` on the scale the page shows (see ``Gan2dView.d_scale``)."""
        out = self.D(x.to(self.device)).squeeze(1)
        if self.config.loss in ("minimax", "nonsat"):
            out = torch.sigmoid(out)
        return out.cpu().numpy().astype(np.float32)

    @property
    def d_scale(self) -> str:
        return {"minimax": "probability", "nonsat": "probability", "lsgan": "target"}.get(self.config.loss, "critic")


class Gan2dTrainer(GanTrainer):
    """The GAN Lab model: MLP generator and discriminator on a 2-D distribution sampled afresh every step."""

    def __init__(self, config: Config) -> None:
        G = gan2d_generator(config.noise_dim, config.g_depth, config.g_width, config.g_activation)
        D = gan2d_discriminator(config.d_depth, config.d_width, config.d_activation)
        super().__init__(config, G, D, config.noise_dim)
        self.points = decode_points(config.points) if config.distribution == "drawn" else None
        fixed = np.random.default_rng(config.seed + 1)
        self.shown_real = self._sample(SHOWN, fixed)
        self.eval_real = self._sample(EVAL_SAMPLES, fixed)
        other_real = self._sample(EVAL_SAMPLES, fixed)
        self.modes = mode_centres(config.distribution, spread=config.spread, points=self.points, seed=config.seed)
        self.radii = metrics.mode_radii(self.eval_real, self.modes)
        self.kl_floor, self.js_floor = metrics.binned_divergences(self.eval_real, other_real, EXTENT)
        fixed_gen = torch.Generator().manual_seed(config.seed + 2)
        self.shown_noise = self.noise(SHOWN, fixed_gen)
        self.eval_noise = self.noise(EVAL_SAMPLES, fixed_gen)
        self.axis = np.linspace(-EXTENT, EXTENT, D_GRID, dtype=np.float32)
        gx, gy = np.meshgrid(self.axis, self.axis)
        self.grid = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1))
        self.noise_axis, self.manifold_noise = self._noise_grid()
        edges = np.linspace(-EXTENT, EXTENT, metrics.BINS + 1, dtype=np.float32)
        self.density_axis = (edges[:-1] + edges[1:]) / 2
        self.real_density = metrics.histogram_2d(self.eval_real, EXTENT) / len(self.eval_real)

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        return sample_2d(cfg.distribution, n, rng, spread=cfg.spread, points=self.points)

    def _noise_grid(self) -> tuple[np.ndarray, torch.Tensor]:
        """A grid over the first two noise dimensions (±2 for Gaussian noise, ±1 for uniform), the rest 0."""
        span = 1.0 if self.config.prior == "uniform" else 2.0
        axis = np.linspace(-span, span, MANIFOLD, dtype=np.float32)
        rows = 1 if self.noise_dim == 1 else MANIFOLD
        z = np.zeros((rows, MANIFOLD, self.noise_dim), dtype=np.float32)
        z[:, :, 0] = axis[None, :]
        if self.noise_dim > 1:
            z[:, :, 1] = axis[:, None]
        return axis, torch.from_numpy(z.reshape(-1, self.noise_dim)).to(self.device)

    def real_batch(self, n: int) -> torch.Tensor:
        return torch.from_numpy(self._sample(n, self.rng)).to(self.device)

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> np.ndarray:
        return self.G(z.to(self.device)).cpu().numpy().astype(np.float32)

    def evaluate(self) -> dict[str, float]:
        """KL and JS (binned) between real and generated samples, mode coverage and sample quality."""
        fake = self.generate(self.eval_noise)
        kl, js = metrics.binned_divergences(self.eval_real, fake, EXTENT)
        cov = metrics.mode_coverage(fake, self.modes, self.radii)
        return {"kl": kl, "js": js, "coverage": cov.fraction, "modes_covered": float(cov.n_covered),
                "quality": cov.quality}

    def generator_arrows(self, z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Generated points G(z) and −∂L_G/∂x at each of them (the direction the generator's loss moves it)."""
        with torch.no_grad():
            x = self.G(z)
        x.requires_grad_(True)
        per = generator_loss(self.config.loss, self.D(x), reduce=False)
        (grad,) = torch.autograd.grad(per.sum(), x)
        return x.detach().cpu().numpy().astype(np.float32), (-grad).cpu().numpy().astype(np.float32)

    def snapshot(self) -> Gan2dView:
        fake, arrows = self.generator_arrows(self.shown_noise)
        eval_fake = self.generate(self.eval_noise)
        kl, js = metrics.binned_divergences(self.eval_real, eval_fake, EXTENT)
        cov = metrics.mode_coverage(eval_fake, self.modes, self.radii)
        rows = 1 if self.noise_dim == 1 else MANIFOLD
        real_t = torch.from_numpy(self.shown_real)
        return Gan2dView(
            extent=EXTENT, real=self.shown_real, fake=fake, arrows=arrows, axis=self.axis,
            d_grid=self.d_map(self.grid).reshape(D_GRID, D_GRID), d_scale=self.d_scale,
            density_axis=self.density_axis, real_density=self.real_density.astype(np.float32),
            fake_density=(metrics.histogram_2d(eval_fake, EXTENT) / len(eval_fake)).astype(np.float32),
            manifold=self.generate(self.manifold_noise).reshape(rows, MANIFOLD, 2), noise_axis=self.noise_axis,
            modes=self.modes, mode_radii=self.radii, mode_counts=cov.counts, covered=cov.covered,
            kl=kl, js=js, kl_floor=self.kl_floor, js_floor=self.js_floor, coverage=cov.fraction,
            quality=cov.quality, d_real=float(self.d_map(real_t).mean()), d_fake=float(self.d_map(
                torch.from_numpy(fake)).mean()), d_loss=self.last.get("d_loss", math.nan),
            g_loss=self.last.get("g_loss", math.nan), step=self.step)


# ---------------------------------------------------------------------------------------------- DCGAN
class DigitJudge:
    """A logistic-regression digits classifier on 8 × 8 pictures (trained on the real training digits): its
    confidence on generated digits says how recognisable they are."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=0.5, max_iter=500, random_state=seed)
        self.model.fit(self.features(images), labels)

    @staticmethod
    def features(images: np.ndarray) -> np.ndarray:
        """(N, 1, 16, 16) in 0..1 → the 8 × 8 block means the UCI digits were made of."""
        x = np.asarray(images, dtype=np.float32)
        n, _, h, w = x.shape
        return x.reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4)).reshape(n, -1)

    def judge(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The predicted digit and its probability per picture."""
        p = self.model.predict_proba(self.features(images))
        return p.argmax(axis=1), p.max(axis=1).astype(np.float32)


GRID_SAMPLES = 64


class DcganTrainer(GanTrainer):
    """A small DCGAN on the digits upscaled to 16 × 16 (pixels scaled to [-1, 1] for the tanh generator)."""

    def __init__(self, config: Config) -> None:
        G = dcgan_generator(config.image_noise_dim, config.image_channels)
        D = dcgan_discriminator(config.image_channels)
        super().__init__(config, G, D, config.image_noise_dim)
        ds = load_digits_dataset(size=16, seed=config.seed)
        self.images = ds.raw(ds.x_train).to(self.device) * 2 - 1
        self.val_images = ds.raw(ds.x_val).to(self.device) * 2 - 1
        self.judge = DigitJudge(ds.raw(ds.x_train).numpy(), ds.y_train.numpy(), config.seed)
        fixed = torch.Generator().manual_seed(config.seed + 2)
        self.grid_noise = self.noise(GRID_SAMPLES, fixed)
        self.eval_noise = self.noise(256, fixed)
        self.steps_per_epoch = math.ceil(len(self.images) / config.batch_size)

    def real_batch(self, n: int) -> torch.Tensor:
        idx = torch.randint(len(self.images), (n,), generator=self.torch_gen)
        return self.images[idx.to(self.device)]

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> np.ndarray:
        """Pictures in 0..1 for noise ``z``."""
        return ((self.G(z.to(self.device)) + 1) / 2).clamp(0, 1).cpu().numpy().astype(np.float32)

    def evaluate(self) -> dict[str, float]:
        """The digits classifier's mean confidence on 256 samples and how many digits it sees among them; D's
        mean output on validation digits and on samples."""
        samples = self.generate(self.eval_noise)
        digit, conf = self.judge.judge(samples)
        sure = conf >= 0.5
        fake = torch.from_numpy(samples * 2 - 1).to(self.device)
        return {"confidence": float(conf.mean()), "digits_seen": float(len(np.unique(digit[sure]))),
                "val_d_real": float(self.d_map(self.val_images).mean()), "val_d_fake": float(self.d_map(fake).mean())}

    def snapshot(self) -> ImageGanView:
        samples = self.generate(self.grid_noise)
        digit, conf = self.judge.judge(samples)
        real = self.images[:16]
        return ImageGanView(
            samples=samples, real=((real + 1) / 2).cpu().numpy().astype(np.float32), predicted=digit.astype(np.int64),
            confidence=conf, d_real=float(self.d_map(real).mean()),
            d_fake=float(self.d_map(torch.from_numpy(samples * 2 - 1)).mean()),
            d_loss=self.last.get("d_loss", math.nan), g_loss=self.last.get("g_loss", math.nan), step=self.step)
