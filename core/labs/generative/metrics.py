"""Numbers the generative lab reports: a binned KL / JS divergence and mode coverage for the 2-D GAN, PSNR for
denoising, and the ROC curve, AUC and precision / recall at a threshold for anomaly detection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 30  # the divergence grid is BINS × BINS cells over the plane
PSEUDO_COUNT = 0.01  # added to every cell so that an empty cell keeps KL finite
COVER_SHARE = 0.2  # a mode counts as covered when it holds at least this share of its fair 1/K of the samples


def histogram_2d(xy: np.ndarray, extent: float, bins: int = BINS) -> np.ndarray:
    """Counts of points ``(n, 2)`` on a ``bins × bins`` grid over [-extent, extent]² (row = x₂, bottom first);
    points outside land in the border cells."""
    clipped = np.clip(np.asarray(xy, dtype=np.float64), -extent, extent)
    counts, _, _ = np.histogram2d(clipped[:, 1], clipped[:, 0], bins=bins, range=[[-extent, extent]] * 2)
    return counts


def _probabilities(counts: np.ndarray) -> np.ndarray:
    smoothed = counts + PSEUDO_COUNT
    return smoothed / smoothed.sum()


def binned_divergences(real: np.ndarray, fake: np.ndarray, extent: float, bins: int = BINS) -> tuple[float, float]:
    """``(KL(real ‖ generated), JS(real, generated))`` in nats between the two samples' histograms on a
    ``bins × bins`` grid (JS is at most ln 2 ≈ 0.693)."""
    p = _probabilities(histogram_2d(real, extent, bins))
    q = _probabilities(histogram_2d(fake, extent, bins))
    m = 0.5 * (p + q)
    kl = float(np.sum(p * np.log(p / q)))
    js = float(0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m)))
    return kl, js


def mode_radii(real: np.ndarray, centres: np.ndarray, quantile: float = 0.95) -> np.ndarray:
    """Per mode, the distance within which ``quantile`` of the real samples nearest to it lie."""
    d = np.linalg.norm(real[:, None, :] - centres[None], axis=2)
    nearest = d.argmin(axis=1)
    radii = np.empty(len(centres), dtype=np.float32)
    for k in range(len(centres)):
        mine = d[nearest == k, k]
        radii[k] = np.quantile(mine, quantile) if len(mine) else np.median(d.min(axis=1))
    return radii


@dataclass(frozen=True)
class Coverage:
    """Which modes the generated samples reach: ``counts`` per mode, ``covered`` per mode, ``quality`` the share
    of samples that lie near some mode."""

    counts: np.ndarray
    covered: np.ndarray
    quality: float

    @property
    def n_covered(self) -> int:
        return int(self.covered.sum())

    @property
    def fraction(self) -> float:
        return float(self.covered.mean()) if len(self.covered) else 0.0


def mode_coverage(fake: np.ndarray, centres: np.ndarray, radii: np.ndarray, share: float = COVER_SHARE) -> Coverage:
    """A generated sample belongs to its nearest mode when it lies within that mode's radius; a mode is covered
    when it holds at least ``share`` × n / K samples."""
    d = np.linalg.norm(fake[:, None, :] - centres[None], axis=2)
    nearest = d.argmin(axis=1)
    near = d[np.arange(len(fake)), nearest] <= radii[nearest]
    counts = np.bincount(nearest[near], minlength=len(centres))
    covered = counts >= share * len(fake) / len(centres)
    return Coverage(counts.astype(np.int64), covered, float(near.mean()) if len(fake) else 0.0)


def psnr(images: np.ndarray, reference: np.ndarray) -> float:
    """Mean over pictures of the peak signal-to-noise ratio in dB, for pixel values in 0..1 (capped at 60 dB)."""
    a = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    b = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    mse = np.maximum(((a - b) ** 2).mean(axis=1), 1e-6)
    return float(np.mean(10 * np.log10(1.0 / mse)))


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(false positive rate, true positive rate, thresholds)`` flagging ``score >= threshold`` as positive,
    one point per distinct score (ties move together), starting at (0, 0) with threshold +∞."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last index of each run of equal scores
    tps = np.cumsum(y)[last]
    fps = last + 1 - tps
    n_pos, n_neg = max(int(y.sum()), 1), max(int((~y).sum()), 1)
    return np.r_[0.0, fps / n_neg], np.r_[0.0, tps / n_pos], np.r_[np.inf, s[last]]


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under the ROC curve by the trapezoid rule."""
    return float(np.trapezoid(tpr, fpr))


def threshold_metrics(scores: np.ndarray, positive: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """``(precision, recall, false positive rate)`` when ``score >= threshold`` is flagged as an anomaly."""
    flagged = np.asarray(scores) >= threshold
    positive = np.asarray(positive, dtype=bool)
    tp = int((flagged & positive).sum())
    precision = tp / int(flagged.sum()) if flagged.any() else 1.0
    recall = tp / int(positive.sum()) if positive.any() else 0.0
    fpr = int((flagged & ~positive).sum()) / max(int((~positive).sum()), 1)
    return precision, recall, fpr
