"""The attention lab's trainer (the transformer and the racing LSTM on the same batches), its live view, and the
job that runs it."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from core.data.tokens import IGNORE, find_blanks, mask_tokens, parse_symbols
from core.device import best_device
from core.errors import ConfigError
from core.i18n import Message, Term
from core.jobs import TrainingJob
from core.models.transformer import Transformer, sampling_distribution
from core.training import STATS_EVERY, gradient_norm, make_optimizer

from .settings import DIGIT_TASKS, SPEEDS, Config
from .task import TaskData, build_lstm, build_model, build_task, lstm_logits, sequence_loss, token_accuracy
from .views import AttentionMaps, Embeddings, NextToken, View

WARMUP_STEPS = 50  # the learning rate ramps up linearly over the first steps (transformers need it)
CLIP_NORM = 1.0
VIEW_TOKENS = 32  # longest probe drawn live (layers × heads × T² numbers per map)
PATTERN_EXAMPLES = 64  # validation inputs that measure each head's pattern
PCA_TOKENS = 200  # most frequent tokens placed in the embedding plane
TOP_SHOWN = 20  # next-token candidates shown
PATTERNS = ("self", "previous", "mirror")  # the attention patterns measured per head (catalogue: attention.patterns)
EVAL_EVERY = 50
SNAPSHOT_EVERY = 10


class AttentionTrainer:
    """One transformer (and optionally the racing LSTM) trained on the same batches of the config's task.

    History keys: ``loss``, ``grad_norm``, ``lr`` and (every ``STATS_EVERY`` steps) ``accuracy`` for the
    transformer, and ``loss/LSTM``, ``grad_norm/LSTM``, ``accuracy/LSTM`` in a race. ``evaluate`` gives
    ``val_loss``, ``val_accuracy`` (and ``val_exact``: whole sequences right, digit tasks; ``val_mirror``: the
    last layer's anti-diagonal mass, reversal), with ``/LSTM`` twins.
    """

    def __init__(self, config: Config, data: TaskData | None = None) -> None:
        self.config = config.validate()
        self.data = data or build_task(config)
        self.device = best_device()
        self.model = build_model(config, self.data).to(self.device)
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters(), config.lr)
        self.lstm = build_lstm(config, self.data).to(self.device) if config.race else None
        self.lstm_optimizer = (make_optimizer(config.optimizer, self.lstm.parameters(), config.lr)
                               if self.lstm is not None else None)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.batch_size = min(config.batch_size, self.data.n_train)
        self.steps_per_epoch = math.ceil(self.data.n_train / self.batch_size)
        self.step = 0
        self.done = False
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self._probe_ids, self._probe_targets = probe_input(config, self.data)

    # ------------------------------------------------------------------ batches
    def _indices(self) -> torch.Tensor:
        if self._cursor >= len(self._order):
            self._order = torch.randperm(self.data.n_train, generator=self.generator)
            self._cursor = 0
        idx = self._order[self._cursor : self._cursor + self.batch_size]
        self._cursor += self.batch_size
        return idx

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next training batch (inputs, targets); masked-LM batches are masked afresh each time."""
        idx, data = self._indices(), self.data
        if data.x_train is not None:
            x, y = data.x_train[idx], data.y_train[idx]
        elif data.mask_id is None:
            window = data.windows.train[idx]
            x, y = window[:, :-1], window[:, 1:]
        else:
            x, y = mask_tokens(data.windows.train[idx, :-1], mask_id=data.mask_id, vocab_size=data.out_size,
                               generator=self.generator)
        return x.to(self.device), y.to(self.device)

    # ------------------------------------------------------------------ steps
    def _lr(self) -> float:
        return self.config.lr * min(1.0, (self.step + 1) / WARMUP_STEPS)

    def _update(self, model: nn.Module, optimizer: torch.optim.Optimizer, logits: torch.Tensor,
                y: torch.Tensor, lr: float, measured: bool) -> dict[str, float]:
        loss = sequence_loss(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = gradient_norm([p for p in model.parameters() if p.grad is not None], CLIP_NORM)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        with torch.no_grad():  # every number in one transfer: each .item() is a device sync of its own
            numbers = [loss.detach(), norm.to(loss.dtype)]
            if measured:
                scored = y != IGNORE
                right = ((logits.argmax(-1) == y) & scored).sum().to(loss.dtype)
                numbers.append(right / scored.sum().clamp(min=1))
            values = torch.stack(numbers).tolist()
        return dict(zip(("loss", "grad_norm", "accuracy"), values, strict=False))

    def train_step(self) -> dict[str, float]:
        """One step of the transformer (and the LSTM, on the same batch); batch accuracy every STATS_EVERY steps."""
        x, y = self.batch()
        lr = self._lr()
        measured = self.step % STATS_EVERY == 0
        if not self.model.training:
            self.model.train()
        out = {**self._update(self.model, self.optimizer, self.model(x), y, lr, measured), "lr": lr}
        if self.lstm is not None:
            if not self.lstm.training:
                self.lstm.train()
            lstm = self._update(self.lstm, self.lstm_optimizer, lstm_logits(self.lstm, x), y, lr, measured)
            out.update({f"{k}/LSTM": v for k, v in lstm.items()})
        self.step += 1
        return out

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Validation numbers on held-out sequences (texts: characters never trained on)."""
        x, y = self.data.x_val.to(self.device), self.data.y_val.to(self.device)
        self.model.eval()
        trace = self.model.trace(x)
        out = _scores(trace.logits, y, self.data.task)
        if self.data.task == "reversal":
            out["val_mirror"] = float(pattern_mass(trace.weights[-1])[:, 2].mean())
        if self.lstm is not None:
            self.lstm.eval()
            out.update({f"{k}/LSTM": v for k, v in _scores(lstm_logits(self.lstm, x), y, self.data.task).items()})
        return out

    @torch.no_grad()
    def snapshot(self) -> View:
        self.model.eval()
        probe = self.maps(self._probe_ids, self._probe_targets)
        return View(self.step, self.data.task, self.config.causal, probe, positional_encodings(self.model),
                    self.config.positions, self.embeddings(), self.patterns(),
                    self.next_token(self._probe_ids) if self.config.causal else None)

    # ------------------------------------------------------------------ reading the model
    @torch.no_grad()
    def maps(self, ids: list[int], targets: list[int] | None = None, unknown: str = "") -> AttentionMaps:
        """Attention maps of one input (token ids) with the model's answers."""
        self.model.eval()
        trace = self.model.trace(torch.tensor([ids], device=self.device))
        probs = torch.softmax(trace.logits[0].float(), dim=-1)
        conf, pred = probs.max(dim=-1)
        n = len(ids)
        mask = self.model.mask(n)
        out_labels = self.data.labels
        return AttentionMaps(
            tokens=[self.data.labels[i] for i in ids],
            targets=[out_labels[t] if t is not None and t >= 0 else "" for t in (targets or [None] * n)],
            predictions=[out_labels[i] for i in pred.tolist()],
            confidence=conf.cpu().numpy().astype(np.float32),
            weights=torch.stack([w[0] for w in trace.weights]).cpu().numpy().astype(np.float32),
            scores=torch.stack([s[0] for s in trace.scores]).cpu().numpy().astype(np.float32),
            mask=(mask.cpu().numpy() if mask is not None else np.ones((n, n), dtype=bool)),
            unknown=unknown)

    @torch.no_grad()
    def patterns(self) -> np.ndarray:
        """(layers, heads, 3): each head's mean weight on the query itself, the previous and the mirrored key."""
        self.model.eval()
        x = self.data.x_val[:PATTERN_EXAMPLES].to(self.device)
        return np.stack([pattern_mass(w) for w in self.model.trace(x).weights]).astype(np.float32)

    def embeddings(self) -> Embeddings:
        weight = self.model.token.weight.detach().cpu().numpy()
        rows = list(range(min(len(weight), PCA_TOKENS)))
        if self.data.mask_id is not None and self.data.mask_id not in rows:
            rows.append(self.data.mask_id)
        pca = PCA(n_components=2, random_state=0).fit(weight[rows])
        return Embeddings(pca.transform(weight[rows]).astype(np.float32), [self.data.labels[i] for i in rows],
                          pca.explained_variance_ratio_.astype(np.float32))

    @torch.no_grad()
    def next_token(self, ids: list[int], temperature: float | None = None, top_k: int | None = None,
                   top_p: float | None = None, *, live: bool = True) -> NextToken:
        """The distribution of the character after ``ids`` (the config's sampling settings unless given)."""
        if live:
            temperature, top_k, top_p = self.config.temperature, self.config.top_k, self.config.top_p
        self.model.eval()
        logits = self.model(torch.tensor([ids[-self.data.max_len:]], device=self.device))[0, -1].cpu()
        return next_token_view(logits, self.data.labels, temperature, top_k, top_p)


def _scores(logits: torch.Tensor, y: torch.Tensor, task: str) -> dict[str, float]:
    out = {"val_loss": sequence_loss(logits, y).item(), "val_accuracy": token_accuracy(logits, y)}
    if task in DIGIT_TASKS:
        out["val_exact"] = (logits.argmax(-1) == y).all(dim=1).float().mean().item()
    return out


def pattern_mass(weights: torch.Tensor) -> np.ndarray:
    """(heads, 3) mean attention weight of (B, heads, T, T) maps on key i (self), i−1 (previous), T−1−i (mirror).

    The previous-token mass is averaged over queries 1 … T−1 (query 0 has no previous token).
    """
    t = weights.size(-1)
    q = torch.arange(t, device=weights.device)
    own = weights[..., q, q].mean(dim=(0, 2))
    prev = weights[..., q[1:], q[1:] - 1].mean(dim=(0, 2)) if t > 1 else torch.zeros_like(own)
    mirror = weights[..., q, t - 1 - q].mean(dim=(0, 2))
    return torch.stack([own, prev, mirror], dim=1).cpu().numpy()


def positional_encodings(model: Transformer) -> np.ndarray:
    return model.position.detach().cpu().numpy().astype(np.float32)


def next_token_view(logits: torch.Tensor, labels: list[str], temperature: float, top_k: int | None,
                    top_p: float | None, chosen: int | None = None) -> NextToken:
    """The most likely next tokens of 1-D ``logits`` before and after the sampling filters (``chosen``: drawn id)."""
    raw = torch.softmax(logits.float(), dim=-1)
    probs, kept, final = sampling_distribution(logits, temperature, top_k, top_p)
    order = probs.argsort(descending=True)[:TOP_SHOWN]
    shown = order.tolist()
    return NextToken([labels[i] for i in shown], raw[order].numpy(), probs[order].numpy(), kept[order].numpy(),
                     final[order].numpy(), int(kept.sum()), shown.index(chosen) if chosen in shown else -1)


def probe_input(config: Config, data: TaskData) -> tuple[list[int], list[int]]:
    """The input drawn live and its targets (IGNORE where nothing is asked): the config's probe or a default."""
    if data.task in DIGIT_TASKS:
        ids = parse_symbols(config.probe, config.digits) if config.probe.strip() else data.x_val[0].tolist()
        return ids, digit_targets(data.task, ids)
    n = min(VIEW_TOKENS, data.max_len)
    ids, _ = encode_with_blanks(data, config.probe or data.corpus.text[: 4 * n])
    ids = ids[:n] or data.windows.train[0, :n].tolist()
    if data.mask_id is None:
        return ids, [*ids[1:], IGNORE]
    if data.mask_id in ids:  # the visitor's own blanks: nothing to compare the guesses with
        return ids, [IGNORE] * len(ids)
    blanks = _default_blanks(len(ids), config.seed)
    return ([data.mask_id if i in blanks else t for i, t in enumerate(ids)],
            [t if i in blanks else IGNORE for i, t in enumerate(ids)])


def digit_targets(task: str, ids: list[int]) -> list[int]:
    return list(reversed(ids)) if task == "reversal" else sorted(ids)


def _default_blanks(n: int, seed: int) -> set[int]:
    """About 15 % of ``n`` positions (at least one), the same ones on every snapshot."""
    g = torch.Generator().manual_seed(seed)
    return set(torch.randperm(n, generator=g)[: max(1, round(0.15 * n))].tolist())


def encode_with_blanks(data: TaskData, text: str) -> tuple[list[int], str]:
    """Character ids of ``text`` and the characters left out (not in the vocabulary, whitespace not counted);
    for the masked LM each blank (``_``, ``＿``, ``[MASK]``) becomes the mask id."""
    marked, blanks = find_blanks(text) if data.mask_id is not None else (text, [])
    stoi, ids, unknown = data.corpus.stoi, [], []
    for i, ch in enumerate(marked):
        if i in blanks:
            ids.append(data.mask_id)
        elif ch in stoi:
            ids.append(stoi[ch])
        elif not ch.isspace():
            unknown.append(ch)
    return ids, "".join(dict.fromkeys(unknown))


def require_task(trainer: AttentionTrainer, task: str) -> None:
    if trainer.data.task != task:
        raise ConfigError("attention.errors.task_only", task=Term(f"attention.tasks.{trainer.data.task}"),
                          needed=Term(f"attention.tasks.{task}"))


def make_trainer(config: Config, data: TaskData | None = None) -> AttentionTrainer:
    """A trainer for ``config`` (call it seeded, e.g. through ``build_seeded``, for a reproducible start)."""
    return AttentionTrainer(config, data)


def make_job(config: Config, *, speed: str = "fastest", total_steps: int | None = None) -> TrainingJob:
    """A job that trains ``config.steps`` steps (or ``total_steps``), evaluating every 50 and drawing every 10."""
    config.validate()
    if speed not in SPEEDS:
        raise ConfigError("attention.errors.speed", value=speed, choices=", ".join(SPEEDS))
    return TrainingJob(functools.partial(make_trainer, config),
                       name=Message("attention.job", task=Term(f"attention.tasks.{config.task}")),
                       total_steps=total_steps or config.steps, eval_every=EVAL_EVERY,
                       snapshot_every=SNAPSHOT_EVERY, seed=config.seed, step_delay_s=SPEEDS[speed])
