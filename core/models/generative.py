"""Generative models: the 2-D GAN's fully connected generator and discriminator, a small DCGAN for 16 × 16
digits, dense and convolutional (variational) autoencoders, and the losses that train them.

No batch normalisation anywhere: every sample is processed on its own, so a step of the discriminator never
touches the generator (not even running statistics), a fixed noise vector always gives the same picture, and the
WGAN-GP gradient penalty is well defined per sample.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from core.models import MODELS
from core.models.mlp import ACTIVATIONS

GAN_LOSSES = ("minimax", "nonsat", "lsgan", "wgan_gp")


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError("generative.errors.activation", value=name, choices=", ".join(ACTIVATIONS))
    return ACTIVATIONS[name]()


def dense_stack(n_in: int, depth: int, width: int, n_out: int, activation: str) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` neurons with ``activation``, then a linear output layer."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else width, width), _activation(activation)]
    layers.append(nn.Linear(width if depth else n_in, n_out))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------------- 2-D GAN
@MODELS.register("gan2d_generator", family="generative", description="generative.models.gan2d_generator")
def gan2d_generator(noise_dim: int = 2, depth: int = 3, width: int = 64, activation: str = "ReLU") -> nn.Sequential:
    """Noise ``z`` → a point on the plane."""
    return dense_stack(noise_dim, depth, width, 2, activation)


@MODELS.register("gan2d_discriminator", family="generative", description="generative.models.gan2d_discriminator")
def gan2d_discriminator(depth: int = 3, width: int = 64, activation: str = "ReLU") -> nn.Sequential:
    """A point → one raw score (a logit for the minimax and non-saturating losses, a critic value for WGAN)."""
    return dense_stack(2, depth, width, 1, activation)


# ---------------------------------------------------------------------------------------------- DCGAN
class DCGenerator(nn.Module):
    """Radford et al.'s DCGAN in miniature: ``z`` → 4 × 4 maps → 8 × 8 by a transposed convolution, a 3 × 3
    convolution (ReLU) and a tanh picture in [-1, 1], upscaled bilinearly to 16 × 16 — the way the 16 × 16
    digits were made from the 8 × 8 originals, so G only has to learn the 8 × 8 digit."""

    def __init__(self, noise_dim: int = 32, channels: int = 32) -> None:
        super().__init__()
        self.noise_dim, self.channels = noise_dim, channels
        self.project = nn.Linear(noise_dim, 4 * channels * 16)
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(4 * channels, 2 * channels, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(2 * channels, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, 1, 3, padding=1), nn.Tanh(),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(-1, 4 * self.channels, 4, 4))


class DCDiscriminator(nn.Module):
    """16 × 16 picture in [-1, 1] → strided convolutions (LeakyReLU 0.2) → one raw score."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * channels * 16, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@MODELS.register("dcgan_generator", family="generative", description="generative.models.dcgan_generator")
def dcgan_generator(noise_dim: int = 32, channels: int = 32) -> DCGenerator:
    return DCGenerator(noise_dim, channels)


@MODELS.register("dcgan_discriminator", family="generative", description="generative.models.dcgan_discriminator")
def dcgan_discriminator(channels: int = 32) -> DCDiscriminator:
    return DCDiscriminator(channels)


# ---------------------------------------------------------------------------------------------- autoencoders
class Autoencoder(nn.Module):
    """Encoder → bottleneck → decoder on 1 × 16 × 16 pictures in 0..1; the decoder returns logits.

    ``arch`` is ``"dense"`` (256 → width → width/2 → code) or ``"conv"`` (two stride-2 convolutions, then a
    linear layer to the code, mirrored by transposed convolutions). ``variational``: the encoder gives a mean and
    a log-variance per code dimension and training samples the code with the reparameterisation trick.
    """

    def __init__(self, arch: str = "dense", bottleneck: int = 2, width: int = 128, variational: bool = False,
                 size: int = 16) -> None:
        super().__init__()
        if arch not in ("dense", "conv"):
            raise ConfigError("generative.errors.arch", value=arch)
        self.arch, self.bottleneck, self.variational, self.size = arch, bottleneck, variational, size
        out = 2 * bottleneck if variational else bottleneck
        pixels = size * size
        if arch == "dense":
            half = max(8, width // 2)
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(pixels, width), nn.ReLU(), nn.Linear(width, half),
                                         nn.ReLU(), nn.Linear(half, out))
            self.decoder = nn.Sequential(nn.Linear(bottleneck, half), nn.ReLU(), nn.Linear(half, width), nn.ReLU(),
                                         nn.Linear(width, pixels), nn.Unflatten(1, (1, size, size)))
        else:
            c = max(4, width // 8)
            small = size // 4
            self.encoder = nn.Sequential(nn.Conv2d(1, c, 3, 2, 1), nn.ReLU(), nn.Conv2d(c, 2 * c, 3, 2, 1), nn.ReLU(),
                                         nn.Flatten(), nn.Linear(2 * c * small * small, out))
            self.decoder = nn.Sequential(nn.Linear(bottleneck, 2 * c * small * small), nn.ReLU(),
                                         nn.Unflatten(1, (2 * c, small, small)),
                                         nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),
                                         nn.ConvTranspose2d(c, 1, 4, 2, 1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The code's mean (the code itself for a plain autoencoder) and its log-variance (or None)."""
        h = self.encoder(x)
        if self.variational:
            mu, logvar = h.chunk(2, dim=1)
            return mu, logvar.clamp(-12, 8)
        return h, None

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits for codes ``z``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(logits, mu, logvar)``; in training a VAE decodes ``mu + σ·ε``, in eval mode its mean."""
        mu, logvar = self.encode(x)
        z = mu
        if logvar is not None and self.training:
            eps = torch.randn(mu.shape, generator=generator, device=generator.device if generator else None)
            z = mu + torch.exp(0.5 * logvar) * eps.to(mu.device)
        return self.decode(z), mu, logvar


@MODELS.register("autoencoder", family="generative", description="generative.models.autoencoder")
def autoencoder(arch: str = "dense", bottleneck: int = 2, width: int = 128) -> Autoencoder:
    return Autoencoder(arch, bottleneck, width, variational=False)


@MODELS.register("vae", family="generative", description="generative.models.vae")
def vae(arch: str = "dense", bottleneck: int = 2, width: int = 128) -> Autoencoder:
    return Autoencoder(arch, bottleneck, width, variational=True)


# ---------------------------------------------------------------------------------------------- losses
def _check_loss(kind: str) -> None:
    if kind not in GAN_LOSSES:
        raise ConfigError("generative.errors.loss", value=kind, choices=", ".join(GAN_LOSSES))


def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss from its raw outputs on real and generated samples (without the WGAN-GP penalty).

    minimax / non-saturating: −[log D(x) + log(1 − D(G(z)))] with D = σ(output); least squares (LSGAN):
    ½[(D(x) − 1)² + D(G(z))²]; WGAN: D(G(z)) − D(x) (the critic maximises the gap).
    """
    _check_loss(kind)
    if kind in ("minimax", "nonsat"):
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "lsgan":
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()
    return fake.mean() - real.mean()


def generator_loss(kind: str, fake: torch.Tensor, *, reduce: bool = True) -> torch.Tensor:
    """The generator's loss from the discriminator's raw outputs on generated samples (per sample unless
    ``reduce``).

    minimax: log(1 − D(G(z))) (Goodfellow's original, it saturates when D wins); non-saturating: −log D(G(z));
    least squares: ½(D(G(z)) − 1)²; WGAN: −D(G(z)).
    """
    _check_loss(kind)
    if kind == "minimax":
        per = -F.softplus(fake)
    elif kind == "nonsat":
        per = F.softplus(-fake)
    elif kind == "lsgan":
        per = 0.5 * (fake - 1) ** 2
    else:
        per = -fake
    return per.mean() if reduce else per.reshape(len(per), -1).mean(dim=1)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): mean over random interpolates x̂ = αx + (1 − α)x̃ of (‖∇D(x̂)‖₂ − 1)²."""
    if alpha is None:
        alpha = torch.rand(len(real), device=real.device)
    alpha = alpha.to(real.device).view(-1, *([1] * (real.dim() - 1)))
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()


def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Per-sample KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²)."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample binary cross-entropy between the decoder's pixel logits and the target picture, summed over
    pixels (the Bernoulli log-likelihood of the VAE; the plain autoencoders use it too, so the two compare)."""
    per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return per_pixel.reshape(len(per_pixel), -1).sum(dim=1)
