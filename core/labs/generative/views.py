"""What the generative lab's page draws besides the curves: small, picklable copies of the live models' outputs.

Pictures are ``(N, 1, H, W)`` float32 in 0..1; points are ``(N, 2)`` float32 on the plane; grids have rows
along x₂ from the bottom up (the layout of ``core.data.planar.grid``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Gan2dView:
    """The GAN Lab plane and its numbers.

    ``arrows`` is −∂L_G/∂x at each generated sample: where the generator's loss pushes that sample.
    ``d_scale`` says what ``d_grid`` holds: ``"probability"`` (p(real) = σ(D)), ``"target"`` (the least-squares
    discriminator's raw output, 1 = real, 0 = generated) or ``"critic"`` (the WGAN critic's unbounded score).
    ``manifold[i, j]`` is G of the noise grid point (row i, column j) over the first two noise dimensions (one
    row when the noise is 1-D; the other dimensions are 0). ``kl_floor`` / ``js_floor``: the same estimate
    between two real samples, i.e. what a perfect generator would score.
    """

    extent: float
    real: np.ndarray
    fake: np.ndarray
    arrows: np.ndarray
    axis: np.ndarray
    d_grid: np.ndarray
    d_scale: str
    density_axis: np.ndarray
    real_density: np.ndarray
    fake_density: np.ndarray
    manifold: np.ndarray
    noise_axis: np.ndarray
    modes: np.ndarray
    mode_radii: np.ndarray
    mode_counts: np.ndarray
    covered: np.ndarray
    kl: float
    js: float
    kl_floor: float
    js_floor: float
    coverage: float
    quality: float
    d_real: float
    d_fake: float
    d_loss: float
    g_loss: float
    step: int


@dataclass
class ImageGanView:
    """The DCGAN: ``samples`` from the same fixed noise every time (digits emerge in place), a few real digits,
    the discriminator's mean p(real) on both, and a digits classifier's verdict on the samples."""

    samples: np.ndarray
    real: np.ndarray
    predicted: np.ndarray  # the classifier's digit per sample
    confidence: np.ndarray  # its probability for that digit
    d_real: float
    d_fake: float
    d_loss: float
    g_loss: float
    step: int


@dataclass
class AnomalyReport:
    """Reconstruction errors of held-out normal and anomalous digits, and how well they separate."""

    scores: np.ndarray  # mean squared reconstruction error per picture
    anomalous: np.ndarray  # bool: the digit is of a class the model never saw
    labels: np.ndarray  # the digit of each picture
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float
    threshold: float  # a suggested threshold: the 95th percentile of the normal validation errors
    normal_classes: tuple[int, ...]


@dataclass
class AutoencoderView:
    """Autoencoder, VAE, denoising and anomaly modes: inputs beside reconstructions, the latent map, the numbers.

    ``latent`` holds the test pictures' codes (a VAE's means): the two code dimensions themselves when the
    bottleneck is 2-D (``latent_projected`` False; a 1-D code is paired with zeros), else their first two
    principal components. ``noisy`` is empty outside denoising, ``samples`` (pictures decoded from the prior)
    outside the VAE, ``psnr_*`` are NaN outside denoising, ``kl`` outside the VAE, ``anomaly`` None outside
    anomaly detection.
    """

    mode: str
    inputs: np.ndarray
    noisy: np.ndarray
    outputs: np.ndarray
    labels: np.ndarray
    latent: np.ndarray
    latent_labels: np.ndarray
    latent_projected: bool
    bottleneck: int
    samples: np.ndarray
    recon: float
    kl: float
    psnr_noisy: float
    psnr_output: float
    anomaly: AnomalyReport | None
    step: int


@dataclass
class LatentGrid:
    """Pictures decoded over a regular grid of the first two code (or noise) dimensions: ``images`` row by row,
    row i at ``axis_y[i]`` (top row first), column j at ``axis_x[j]``."""

    images: np.ndarray
    axis_x: np.ndarray
    axis_y: np.ndarray
