"""Evaluating a trained classifier on a held-out split: accuracy, loss, confusion matrix, per-class
accuracy and the most confidently wrong examples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class Evaluation:
    """Predictions for a whole split; ``confusion[i, j]`` counts images of true class i predicted as j."""

    accuracy: float
    loss: float
    confusion: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray

    @property
    def per_class_accuracy(self) -> np.ndarray:
        totals = self.confusion.sum(axis=1)
        return np.divide(np.diag(self.confusion), totals, out=np.zeros(len(totals)), where=totals > 0)

    def misclassified(self, limit: int = 24) -> np.ndarray:
        """Indices of wrong predictions, most confident first."""
        wrong = np.flatnonzero(self.y_pred != self.y_true)
        confidence = self.probs[wrong, self.y_pred[wrong]]
        return wrong[np.argsort(-confidence, kind="stable")][:limit]


@torch.no_grad()
def evaluate_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int,
                        batch_size: int = 512) -> Evaluation:
    """Accuracy, cross-entropy and confusion matrix of ``model`` on ``(x, y)`` in eval mode (mode restored)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        logits = torch.cat([model(x[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)
    y = y.cpu()
    pred = logits.argmax(1)
    confusion = torch.bincount(y * num_classes + pred, minlength=num_classes ** 2).view(num_classes, num_classes)
    return Evaluation(accuracy=(pred == y).float().mean().item() if len(y) else float("nan"),
                      loss=nn.functional.cross_entropy(logits, y).item() if len(y) else float("nan"),
                      confusion=confusion.numpy(), y_true=y.numpy(), y_pred=pred.numpy(),
                      probs=torch.softmax(logits, 1).numpy())
