"""Autoencoder trainers on the digits (16 × 16, pixels in 0..1): plain, variational (β-VAE), denoising, and
anomaly detection by reconstruction error (trained on the "normal" digits only)."""

from __future__ import annotations

import math

import numpy as np
import torch

from core.data.images import load_digits_dataset
from core.device import best_device
from core.models.generative import Autoencoder, kl_to_prior, reconstruction_loss
from core.training import gradient_norm, make_optimizer

from . import metrics
from .config import Config
from .views import AnomalyReport, AutoencoderView

SHOWN = 12  # input / reconstruction pairs in the view
PRIOR_SAMPLES = 16


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator) -> torch.Tensor:
    """Pictures in 0..1 with noise: ``gaussian`` (σ = level, clipped), ``salt_pepper`` (a ``level`` share of
    pixels set to 0 or 1) or ``masking`` (a ``level`` share of pixels set to 0)."""
    if level <= 0:
        return x
    if kind == "gaussian":
        return (x + level * torch.randn(x.shape, generator=generator).to(x.device)).clamp(0, 1)
    hit = (torch.rand(x.shape, generator=generator) < level).to(x.device)
    if kind == "salt_pepper":
        salt = (torch.rand(x.shape, generator=generator) < 0.5).to(x.device, x.dtype)
        return torch.where(hit, salt, x)
    return torch.where(hit, torch.zeros_like(x), x)


class AutoencoderTrainer:
    """One trainer for the four autoencoder modes (``config.mode``)."""

    done = False

    def __init__(self, config: Config) -> None:
        self.config = config
        self.mode = config.mode
        self.device = best_device()
        self.variational = config.mode == "vae"
        self.model = Autoencoder(config.arch, config.bottleneck, config.ae_width, variational=self.variational)
        self.model.to(self.device)
        self.optimizer = make_optimizer("Adam", self.model.parameters(), config.ae_lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        ds = load_digits_dataset(size=16, seed=config.seed)
        raw = {name: (ds.raw(getattr(ds, f"x_{name}")), getattr(ds, f"y_{name}")) for name in ("train", "val", "test")}
        if self.mode == "anomaly":
            normal = torch.tensor(config.normal_digits)
            is_normal = {k: torch.isin(y, normal) for k, (_, y) in raw.items()}
            self.x, self.y = (t[is_normal["train"]] for t in raw["train"])
            self.x_val, self.y_val = (t[is_normal["val"]] for t in raw["val"])
            # held-out normal digits plus every digit of the classes never trained on
            parts = [(x[~is_normal[k]], y[~is_normal[k]]) for k, (x, y) in raw.items()]
            self.x_test = torch.cat([raw["test"][0][is_normal["test"]], *[p[0] for p in parts]])
            self.y_test = torch.cat([raw["test"][1][is_normal["test"]], *[p[1] for p in parts]])
            self.anomalous = ~torch.isin(self.y_test, normal)
        else:
            (self.x, self.y), (self.x_val, self.y_val) = raw["train"], raw["val"]
            self.x_test, self.y_test = raw["test"]
            self.anomalous = torch.zeros(len(self.y_test), dtype=torch.bool)
        self.x, self.x_val, self.x_test = (t.to(self.device) for t in (self.x, self.x_val, self.x_test))
        self.batch_size = min(config.batch_size, len(self.x))
        self.steps_per_epoch = math.ceil(len(self.x) / self.batch_size)
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self.step = 0
        fixed = torch.Generator().manual_seed(config.seed + 2)
        self.shown = torch.randperm(len(self.x_test), generator=fixed)[:SHOWN]
        self.prior_noise = torch.randn(PRIOR_SAMPLES, config.bottleneck, generator=fixed).to(self.device)
        self._fixed_noise_seed = config.seed + 3
        self._pca: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, config: Config) -> None:
        """Apply the settings that need no new model (learning rate, β, noise kind and level)."""
        self.config = config
        for group in self.optimizer.param_groups:
            group["lr"] = config.ae_lr

    # ------------------------------------------------------------------ training
    def _next_batch(self) -> torch.Tensor:
        if self._cursor >= len(self._order):
            self._order = torch.randperm(len(self.x), generator=self.generator).to(self.device)
            self._cursor = 0
        idx = self._order[self._cursor:self._cursor + self.batch_size]
        self._cursor += self.batch_size
        return self.x[idx]

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.mode != "denoise":
            return x
        return corrupt(x, self.config.noise_kind, self.config.noise_level, generator or self.generator)

    def losses(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """``loss`` (the mean over the batch of reconstruction + β·KL), ``recon`` and, for the VAE, ``kl``."""
        logits, mu, logvar = self.model(self.corrupt(x, generator), generator or self.generator)
        recon = reconstruction_loss(logits, x).mean()
        out = {"loss": recon, "recon": recon}
        if logvar is not None:
            kl = kl_to_prior(mu, logvar).mean()
            out |= {"kl": kl, "loss": recon + self.config.beta * kl}
        return out

    def train_step(self) -> dict[str, float]:
        self.model.train()
        parts = self.losses(self._next_batch())
        self.optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        grad = gradient_norm(list(self.model.parameters()))
        self.optimizer.step()
        self.step += 1
        return {k: v.item() for k, v in parts.items()} | {"grad_norm": grad.item(), "lr": self.config.ae_lr}

    # ------------------------------------------------------------------ reading the model
    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> np.ndarray:
        self.model.eval()
        return self.model.encode(x.to(self.device))[0].cpu().numpy().astype(np.float32)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> np.ndarray:
        self.model.eval()
        return torch.sigmoid(self.model.decode(z.to(self.device))).cpu().numpy().astype(np.float32)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> np.ndarray:
        """Reconstructions (0..1) of ``x`` as given (already corrupted, if that is the point)."""
        self.model.eval()
        logits, _, _ = self.model(x.to(self.device))
        return torch.sigmoid(logits).cpu().numpy().astype(np.float32)

    def scores(self, x: torch.Tensor) -> np.ndarray:
        """Mean squared reconstruction error per picture (the anomaly score)."""
        out = self.reconstruct(x)
        return ((out - x.cpu().numpy()) ** 2).reshape(len(out), -1).mean(axis=1)

    def _fixed_noise(self) -> torch.Generator:
        return torch.Generator().manual_seed(self._fixed_noise_seed)

    def evaluate(self) -> dict[str, float]:
        """Validation loss, mean squared error, and per mode: PSNR before / after denoising, the anomaly AUC."""
        self.model.eval()
        with torch.no_grad():
            parts = {k: v.item() for k, v in self.losses(self.x_val, self._fixed_noise()).items()}
        out = {"val_loss": parts["loss"], "val_recon": parts["recon"]}
        if "kl" in parts:
            out["val_kl"] = parts["kl"]
        clean = self.x_val.cpu().numpy()
        if self.mode == "denoise":
            noisy = self.corrupt(self.x_val, self._fixed_noise())
            out |= {"psnr_noisy": metrics.psnr(noisy.cpu().numpy(), clean),
                    "psnr_output": metrics.psnr(self.reconstruct(noisy), clean)}
        else:
            out["val_psnr"] = metrics.psnr(self.reconstruct(self.x_val), clean)
        if self.mode == "anomaly":
            out["auc"] = self.anomaly_report().auc
        return out

    def anomaly_report(self) -> AnomalyReport:
        scores = self.scores(self.x_test)
        fpr, tpr, thresholds = metrics.roc_curve(scores, self.anomalous.numpy())
        threshold = float(np.quantile(self.scores(self.x_val), 0.95))
        return AnomalyReport(scores=scores.astype(np.float32), anomalous=self.anomalous.numpy(),
                             labels=self.y_test.numpy(), fpr=fpr.astype(np.float32), tpr=tpr.astype(np.float32),
                             thresholds=thresholds.astype(np.float32), auc=metrics.auc(fpr, tpr), threshold=threshold,
                             normal_classes=self.config.normal_digits)

    def latent_map(self) -> tuple[np.ndarray, bool]:
        """The test pictures' codes in 2-D and whether they were projected (PCA) to get there."""
        codes = self.encode(self.x_test)
        if codes.shape[1] == 2:
            return codes, False
        if codes.shape[1] == 1:
            return np.concatenate([codes, np.zeros_like(codes)], axis=1), False
        mean = codes.mean(axis=0)
        _, _, vt = np.linalg.svd(codes - mean, full_matrices=False)
        self._pca = (mean, vt[:2])
        return ((codes - mean) @ vt[:2].T).astype(np.float32), True

    def from_map(self, plane: np.ndarray) -> np.ndarray:
        """Points of the 2-D latent map back to full codes (through the latest PCA projection)."""
        if self.config.bottleneck <= 2:
            return np.asarray(plane, np.float32)[:, :self.config.bottleneck]
        if self._pca is None:
            self.latent_map()
        mean, basis = self._pca
        return (mean + np.asarray(plane, np.float32) @ basis).astype(np.float32)

    def snapshot(self) -> AutoencoderView:
        x = self.x_test[self.shown.to(self.device)]
        nan = math.nan
        noisy = self.corrupt(x, self._fixed_noise()) if self.mode == "denoise" else x[:0]
        outputs = self.reconstruct(noisy if self.mode == "denoise" else x)
        clean = x.cpu().numpy()
        latent, projected = self.latent_map()
        self.model.eval()
        with torch.no_grad():
            parts = {k: v.item() for k, v in self.losses(self.x_val, self._fixed_noise()).items()}
        return AutoencoderView(
            mode=self.mode, inputs=clean, noisy=noisy.cpu().numpy(), outputs=outputs,
            labels=self.y_test[self.shown].numpy(), latent=latent, latent_labels=self.y_test.numpy(),
            latent_projected=projected, bottleneck=self.config.bottleneck,
            samples=self.decode(self.prior_noise) if self.variational else np.zeros((0, 1, 16, 16), np.float32),
            recon=parts["recon"], kl=parts.get("kl", nan),
            psnr_noisy=metrics.psnr(noisy.cpu().numpy(), clean) if self.mode == "denoise" else nan,
            psnr_output=metrics.psnr(outputs, clean) if self.mode == "denoise" else nan,
            anomaly=self.anomaly_report() if self.mode == "anomaly" else None, step=self.step)
