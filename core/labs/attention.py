"""The attention lab: a tiny transformer trained live on a task where attention can be read.

- ``reversal`` / ``sorting``: an encoder (BERT-style, every position sees every other) maps a digit sequence to
  its reversal (a correct map is the anti-diagonal) or its sorted copy;
- ``masked_lm``: the encoder fills in characters hidden by BERT's 15 % / 80-10-10 rule, loss on those only;
- ``causal_lm``: a decoder (GPT-style, lower-triangular mask) predicts the next character and generates text
  with temperature, top-k and top-p.

Optionally an LSTM (the sequence lab's ``RecurrentNet``; bidirectional where the transformer sees both ways)
races on exactly the same batches. Every setting is declared once in :class:`Config`; the page draws the
:class:`View` of ``trainer.snapshot()`` and asks for the rest with the inspections at the bottom.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from torch import nn

from core.config import LabConfig, setting
from core.data.sequences import CharCorpus
from core.data.tokens import (
    IGNORE,
    SYMBOLS,
    TEXTS,
    TextWindows,
    bundled_corpus,
    char_label,
    digit_task,
    find_blanks,
    mask_tokens,
    parse_symbols,
    text_corpus,
    text_windows,
)
from core.device import best_device
from core.errors import ConfigError, DataError
from core.explain import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.jobs import TrainingJob, build_seeded
from core.models.recurrent import RecurrentNet
from core.models.transformer import NORMS, POSITIONS, Transformer, sampling_distribution
from core.training import OPTIMIZERS, gradient_norm, make_optimizer

TASKS = ("reversal", "sorting", "masked_lm", "causal_lm")
DIGIT_TASKS = ("reversal", "sorting")
TEXT_SOURCES = (*TEXTS, "custom")
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
SPEEDS = {"fastest": 0.0, "fast": 0.002, "medium": 0.02, "slow": 0.1}  # seconds slept per step
WARMUP_STEPS = 50  # the learning rate ramps up linearly over the first steps (transformers need it)
CLIP_NORM = 1.0
N_TRAIN, N_VAL = 10_000, 1_000  # digit sequences
VIEW_TOKENS = 32  # longest probe drawn live (layers × heads × T² numbers per map)
PATTERN_EXAMPLES = 64  # validation inputs that measure each head's pattern
PCA_TOKENS = 200  # most frequent tokens placed in the embedding plane
TOP_SHOWN = 20  # next-token candidates shown
MASK_LABEL = "▢"  # how a [MASK] input is drawn
PATTERNS = ("self", "previous", "mirror")  # the attention patterns measured per head (catalogue: attention.patterns)
EVAL_EVERY = 50
SNAPSHOT_EVERY = 10


@dataclass(frozen=True)
class Config(LabConfig):
    """One attention-lab experiment: the task and its data, the transformer, the race, training, generation."""

    LAB: ClassVar[str] = "attention"

    task: str = setting("reversal", key="task", choices=TASKS)
    seq_len: int = setting(8, key="len", low=2, high=24)  # digit tasks
    digits: int = setting(10, key="vocab", low=2, high=len(SYMBOLS))  # symbols of the digit tasks
    text: str = setting("zen", key="text", choices=TEXT_SOURCES)  # language-model tasks
    custom_text: str = setting("", key="paste", max_len=100_000, url=False)
    context: int = setting(32, key="ctx", low=8, high=128)
    layers: int = setting(2, key="layers", low=1, high=6)
    heads: int = setting(2, key="heads", low=1, high=8)
    width: int = setting(64, key="width", low=8, high=256)
    dropout: float = setting(0.0, key="drop", low=0.0, high=0.5, digits=2)
    norm: str = setting("pre", key="norm", choices=NORMS)
    positions: str = setting("learned", key="pos", choices=POSITIONS)
    race: bool = setting(False, key="race")
    lstm_hidden: int = setting(64, key="lstm", low=8, high=256)
    optimizer: str = setting("Adam", key="opt", choices=tuple(OPTIMIZERS))
    lr: float = setting(0.003, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES,
                        rebuild=False)
    batch_size: int = setting(64, key="batch", low=1, high=512)
    steps: int = setting(2000, key="steps", low=10, high=100_000)
    seed: int = setting(0, key="seed", low=0, high=999_999)
    probe: str = setting("", key="probe", max_len=128, rebuild=False)  # the input drawn live ("" = a default)
    prompt: str = setting("", key="prompt", max_len=200, rebuild=False)
    temperature: float = setting(0.8, key="temp", low=0.0, high=3.0, digits=2, rebuild=False)
    top_k: int | None = setting(None, key="topk", low=1, high=200, rebuild=False)
    top_p: float | None = setting(None, key="topp", low=0.05, high=1.0, digits=2, rebuild=False)
    gen_length: int = setting(200, key="gen", low=1, high=1000, rebuild=False)

    @property
    def digit_task(self) -> bool:
        return self.task in DIGIT_TASKS

    @property
    def causal(self) -> bool:
        return self.task == "causal_lm"

    def check(self) -> None:
        if self.width % self.heads:
            raise ConfigError("attention.errors.width_heads", width=self.width, heads=self.heads)
        if self.digit_task:
            if self.probe.strip():
                try:
                    probe = parse_symbols(self.probe, self.digits)
                except DataError as exc:
                    raise ConfigError(exc.key, **exc.params) from None
                if not 1 <= len(probe) <= self.seq_len:
                    raise ConfigError("attention.errors.probe_length", count=len(probe), n=self.seq_len)
        else:
            text_windows(self.corpus(), self.context)  # raises DataError when the text is too short

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """A pasted text never travels in the link: a link that asks for one falls back to the default text."""
        if values["text"] == "custom" and not values["custom_text"]:
            warnings.append(Message("attention.url.no_text", text=Term(f"attention.texts.{cls.text}")))
            values["text"] = cls.text
        if values["task"] in DIGIT_TASKS and values["probe"]:
            try:
                ok = 1 <= len(parse_symbols(values["probe"], values["digits"])) <= values["seq_len"]
            except DataError:
                ok = False
            if not ok:
                warnings.append(Message("attention.url.probe", text=values["probe"]))
                values["probe"] = ""

    def corpus(self) -> CharCorpus:
        """The text of a language-model task as a character corpus (DataError when a pasted text cannot work)."""
        return text_corpus(self.custom_text) if self.text == "custom" else bundled_corpus(self.text)

    def label(self) -> str:
        """A short description for legends, e.g. ``reversal · 2×2 heads · width 64 · pre-norm``."""
        data = f"{self.seq_len}×{self.digits}" if self.digit_task else self.text
        return f"{self.task} {data} · {self.layers}×{self.heads} · {self.width} · {self.norm}-norm · {self.positions}"


# Preset key → experiment; names and descriptions live in the catalogue (attention.presets.<key>, <key>_help).
PRESETS: dict[str, Config] = {
    "reversal": Config(),
    "reversal_race": Config(race=True, seq_len=12, steps=1500),
    "sorting": Config(task="sorting", layers=2, heads=2, steps=3000),
    "bert": Config(task="masked_lm", layers=2, heads=4, width=64, steps=3000, lr=0.003, dropout=0.1),
    "gpt": Config(task="causal_lm", layers=2, heads=4, width=64, steps=2000, lr=0.003, dropout=0.1),
    "gpt_race": Config(task="causal_lm", layers=2, heads=4, width=64, steps=1500, race=True, dropout=0.1),
    "gpt_tang": Config(task="causal_lm", text="tang", layers=2, heads=4, width=96, steps=3000, dropout=0.1,
                       prompt="春"),
    "post_norm_sinusoidal": Config(norm="post", positions="sinusoidal", seq_len=12),
}


# ---------------------------------------------------------------------------------------------- data
@dataclass
class TaskData:
    """The tensors and vocabulary of a config's task. Inputs and targets are token ids (N, T)."""

    task: str
    labels: list[str]  # display label of each input id
    out_size: int  # the output vocabulary (the inputs without [MASK])
    max_len: int
    x_val: torch.Tensor
    y_val: torch.Tensor  # IGNORE where a position is not scored
    baseline: float  # chance level in nats: log(vocab) for digits, the unigram entropy for a text
    x_train: torch.Tensor | None = None  # digit tasks
    y_train: torch.Tensor | None = None
    corpus: CharCorpus | None = None  # text tasks
    windows: TextWindows | None = None
    mask_id: int | None = None  # masked LM

    @property
    def in_size(self) -> int:
        return len(self.labels)

    @property
    def n_train(self) -> int:
        return len(self.x_train) if self.x_train is not None else len(self.windows.train)


def build_task(config: Config) -> TaskData:
    """Generate or read the data of ``config.task`` (deterministic given ``config.seed``)."""
    if config.digit_task:
        x, y = digit_task(config.task, N_TRAIN + N_VAL, config.seq_len, config.digits, seed=config.seed)
        return TaskData(config.task, list(SYMBOLS[: config.digits]), config.digits, config.seq_len, x[N_TRAIN:],
                        y[N_TRAIN:], math.log(config.digits), x_train=x[:N_TRAIN], y_train=y[:N_TRAIN])
    corpus = config.corpus()
    windows = text_windows(corpus, config.context)
    labels = [char_label(ch) for ch in corpus.vocab]
    vocab = len(labels)
    val_in, val_out = windows.val[:, :-1], windows.val[:, 1:]
    unseen = windows.unseen(offset=1)  # positions of val_out (and of the masked LM's inputs) never trained on
    common = {"corpus": corpus, "windows": windows, "baseline": corpus.unigram_entropy()}
    if config.causal:
        return TaskData(config.task, labels, vocab, config.context, val_in.contiguous(),
                        torch.where(unseen, val_out, IGNORE), **common)
    inputs, targets = mask_tokens(val_out.contiguous(), mask_id=vocab, vocab_size=vocab, eligible=unseen,
                                  generator=torch.Generator().manual_seed(config.seed + 1))
    return TaskData(config.task, [*labels, MASK_LABEL], vocab, config.context, inputs, targets, mask_id=vocab,
                    **common)


def build_model(config: Config, data: TaskData) -> Transformer:
    return Transformer(data.in_size, data.max_len, out_size=data.out_size, width=config.width, heads=config.heads,
                       layers=config.layers, dropout=config.dropout, norm=config.norm, positions=config.positions,
                       causal=config.causal)


def build_lstm(config: Config, data: TaskData) -> RecurrentNet:
    """The race's LSTM: bidirectional for the encoder tasks (it sees what the transformer sees), else forward."""
    return RecurrentNet("LSTM", data.in_size, data.out_size, hidden_size=config.lstm_hidden,
                        vocab_size=data.in_size, embed_dim=config.width, bidirectional=not config.causal)


def lstm_logits(net: RecurrentNet, ids: torch.Tensor) -> torch.Tensor:
    """Per-position logits (B, T, out) of the race's LSTM (its layers, read at every step)."""
    output, _ = net.rnn(net.features(ids))
    return net.head(net.drop(output))


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the scored positions (targets ≠ IGNORE) of (B, T, V) logits."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE)


def token_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    scored = targets != IGNORE
    return ((logits.argmax(-1) == targets) & scored).sum().item() / max(1, scored.sum().item())


# ---------------------------------------------------------------------------------------------- views
@dataclass
class AttentionMaps:
    """One input through the transformer: every head's attention and what the model answered at each position."""

    tokens: list[str]  # input tokens as drawn on the axes
    targets: list[str]  # what each position should output ("" where nothing is asked)
    predictions: list[str]  # the most likely output at each position
    confidence: np.ndarray  # (T,) probability of that output
    weights: np.ndarray  # (layers, heads, T, T) softmax weights; row = query position, column = key position
    scores: np.ndarray  # (layers, heads, T, T) Q·Kᵀ/√d before the mask and the softmax
    mask: np.ndarray  # (T, T) True where a query may attend to a key
    unknown: str = ""  # characters left out because the training text never uses them


@dataclass
class NextToken:
    """How the next character is drawn: the most likely candidates before and after temperature, top-k, top-p."""

    labels: list[str]  # candidates, most likely first (at most TOP_SHOWN)
    raw: np.ndarray  # the model's probabilities (temperature 1)
    probs: np.ndarray  # softmax(logits / temperature)
    kept: np.ndarray  # bool: survives top-k and top-p
    final: np.ndarray  # what sampling draws from (probs renormalised over the kept tokens)
    kept_count: int  # tokens kept over the whole vocabulary
    chosen: int = -1  # index into labels of the drawn token (-1: not drawn yet or not among those shown)


@dataclass
class Embeddings:
    """Token embeddings projected on their first two principal components."""

    points: np.ndarray  # (n, 2)
    labels: list[str]
    variance: np.ndarray  # (2,) fraction of the variance each component explains


@dataclass
class View:
    """What the page draws live (small numpy copies taken in the job thread)."""

    step: int
    task: str
    causal: bool
    probe: AttentionMaps
    positions: np.ndarray  # (max_len, width) positional encodings added to the token embeddings
    positions_kind: str  # "learned" | "sinusoidal"
    embeddings: Embeddings
    patterns: np.ndarray  # (layers, heads, len(PATTERNS)) mean weight on self / previous / mirror keys, validation
    next_token: NextToken | None = None  # causal LM: the character after the probe


@dataclass
class FillIn:
    """The masked LM's answer for each blank of a text."""

    text: str  # the text as the model read it (blanks as MASK_LABEL)
    filled: str  # the same with each blank replaced by the most likely character
    blanks: list[int]  # positions of the blanks
    candidates: list[list[str]]  # per blank, the most likely characters
    probs: np.ndarray  # (blanks, top)
    maps: AttentionMaps


@dataclass
class Generation:
    """Text sampled from the causal LM after a prompt."""

    prompt: str  # the prompt as the model read it
    text: str  # the generated characters
    chosen_probs: np.ndarray  # (length,) probability (after the filters) of each drawn character
    first: NextToken  # the distribution of the first generated character, with the drawn one marked
    unknown: str = ""


# ---------------------------------------------------------------------------------------------- training
class AttentionTrainer:
    """One transformer (and optionally the racing LSTM) trained on the same batches of the config's task.

    History keys: ``loss``, ``accuracy``, ``grad_norm``, ``lr`` for the transformer and ``loss/LSTM``,
    ``accuracy/LSTM``, ``grad_norm/LSTM`` in a race; ``evaluate`` gives ``val_loss``, ``val_accuracy`` (and
    ``val_exact``: whole sequences right, digit tasks; ``val_mirror``: the last layer's anti-diagonal mass,
    reversal), with ``/LSTM`` twins.
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
                y: torch.Tensor, lr: float) -> tuple[float, float, float]:
        loss = sequence_loss(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = gradient_norm([p for p in model.parameters() if p.grad is not None], CLIP_NORM)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        return loss.item(), norm.item(), token_accuracy(logits.detach(), y)

    def train_step(self) -> dict[str, float]:
        x, y = self.batch()
        lr = self._lr()
        self.model.train()
        loss, norm, acc = self._update(self.model, self.optimizer, self.model(x), y, lr)
        out = {"loss": loss, "accuracy": acc, "grad_norm": norm, "lr": lr}
        if self.lstm is not None:
            self.lstm.train()
            loss, norm, acc = self._update(self.lstm, self.lstm_optimizer, lstm_logits(self.lstm, x), y, lr)
            out.update({"loss/LSTM": loss, "accuracy/LSTM": acc, "grad_norm/LSTM": norm})
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
        return _next_token(logits, self.data.labels, temperature, top_k, top_p)


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


def _next_token(logits: torch.Tensor, labels: list[str], temperature: float, top_k: int | None,
                top_p: float | None, chosen: int | None = None) -> NextToken:
    raw = torch.softmax(logits.float(), dim=-1)
    probs, kept, final = sampling_distribution(logits, temperature, top_k, top_p)
    order = probs.argsort(descending=True)[:TOP_SHOWN]
    shown = order.tolist()
    return NextToken([labels[i] for i in shown], raw[order].numpy(), probs[order].numpy(), kept[order].numpy(),
                     final[order].numpy(), int(kept.sum()), shown.index(chosen) if chosen in shown else -1)


# ---------------------------------------------------------------------------------------------- inputs
def probe_input(config: Config, data: TaskData) -> tuple[list[int], list[int]]:
    """The input drawn live and its targets (IGNORE where nothing is asked): the config's probe or a default."""
    if data.task in DIGIT_TASKS:
        ids = parse_symbols(config.probe, config.digits) if config.probe.strip() else data.x_val[0].tolist()
        return ids, _digit_targets(data.task, ids)
    text = config.probe or data.corpus.text
    ids, _ = _encode(data, text)
    ids = ids[: min(VIEW_TOKENS, data.max_len)] or data.windows.train[0, : min(VIEW_TOKENS, data.max_len)].tolist()
    if data.mask_id is None:
        return ids, [*ids[1:], IGNORE]
    blanks = _default_blanks(len(ids), config.seed)
    return [data.mask_id if i in blanks else t for i, t in enumerate(ids)], [
        t if i in blanks else IGNORE for i, t in enumerate(ids)]


def _digit_targets(task: str, ids: list[int]) -> list[int]:
    return list(reversed(ids)) if task == "reversal" else sorted(ids)


def _default_blanks(n: int, seed: int) -> set[int]:
    """About 15 % of ``n`` positions (at least one), the same ones on every snapshot."""
    g = torch.Generator().manual_seed(seed)
    return set(torch.randperm(n, generator=g)[: max(1, round(0.15 * n))].tolist())


def _encode(data: TaskData, text: str) -> tuple[list[int], str]:
    """Character ids of ``text`` and the characters left out (not in the vocabulary)."""
    stoi = data.corpus.stoi
    ids = [stoi[ch] for ch in text if ch in stoi]
    unknown = "".join(dict.fromkeys(ch for ch in text if ch not in stoi and not ch.isspace()))
    return ids, unknown


def _require(trainer: AttentionTrainer, task: str) -> None:
    if trainer.data.task != task:
        raise ConfigError("attention.errors.task_only", task=Term(f"attention.tasks.{trainer.data.task}"),
                          needed=Term(f"attention.tasks.{task}"))


# ---------------------------------------------------------------------------------------------- the lab's face
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


# ---------------------------------------------------------------------------------------------- inspections
def initial_view(config: Config) -> View:
    """The untrained model exactly as Play will start it (same seed), for the preview."""
    return build_seeded(functools.partial(make_trainer, config), config.seed).snapshot()


def current_view(trainer: AttentionTrainer) -> View:
    """The view right now (not the last one the job stored): what a paused page shows after a change."""
    return trainer.snapshot()


def set_live(trainer: AttentionTrainer, config: Config) -> None:
    """Apply the settings that need no new model (learning rate, probe, prompt, sampling) between two steps."""
    config.validate()
    if config.structure() != trainer.config.structure():
        raise ConfigError("attention.errors.needs_rebuild")
    trainer.config = config
    trainer._probe_ids, trainer._probe_targets = probe_input(config, trainer.data)


def attention_maps(trainer: AttentionTrainer, text_or_tokens: str | list[int]) -> AttentionMaps:
    """Every head's attention for an input: digits ("31415926"), a text (blanks ``_`` for the masked LM), or ids.

    A text longer than the model's context keeps its first ``context`` characters.
    """
    data = trainer.data
    unknown = ""
    if isinstance(text_or_tokens, str):
        if data.task in DIGIT_TASKS:
            ids = parse_symbols(text_or_tokens, len(data.labels))
        else:
            ids, unknown = _encode_with_blanks(data, text_or_tokens)
    else:
        ids = [int(i) for i in text_or_tokens]
        if any(not 0 <= i < data.in_size for i in ids):
            raise DataError("attention.errors.token_ids", n=data.in_size - 1)
    if not ids:
        raise DataError("attention.errors.empty_input")
    ids = ids[: data.max_len]
    if data.task in DIGIT_TASKS:
        targets = _digit_targets(data.task, ids)
    elif data.mask_id is None:
        targets = [*ids[1:], IGNORE]
    else:
        targets = [IGNORE] * len(ids)
    return trainer.maps(ids, targets, unknown)


def _encode_with_blanks(data: TaskData, text: str) -> tuple[list[int], str]:
    """Character ids with each blank (``_``, ``＿``, ``[MASK]``) as the mask id (masked LM only)."""
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


@torch.no_grad()
def fill_in_blank(trainer: AttentionTrainer, text_with_mask: str, top: int = 5) -> FillIn:
    """The masked LM's guesses for each blank (``_``, ``＿`` or ``[MASK]``) of a text, all filled at once.

    A text longer than the context is cut to ``context`` characters around its first blank.
    """
    _require(trainer, "masked_lm")
    data = trainer.data
    ids, unknown = _encode_with_blanks(data, text_with_mask)
    if data.mask_id not in ids:
        raise DataError("attention.errors.no_blank")
    first = ids.index(data.mask_id)
    start = max(0, min(first - data.max_len // 2, len(ids) - data.max_len))
    ids = ids[start : start + data.max_len]
    maps = trainer.maps(ids, None, unknown)
    blanks = [i for i, t in enumerate(ids) if t == data.mask_id]
    logits = trainer.model(torch.tensor([ids], device=trainer.device))[0].cpu()
    probs = torch.softmax(logits[blanks].float(), dim=-1)
    top = max(1, min(top, data.out_size))
    best_p, best = probs.topk(top, dim=-1)
    labels = data.corpus.vocab
    filled = "".join(labels[int(best[blanks.index(i), 0])] if t == data.mask_id else labels[t]
                     for i, t in enumerate(ids))
    text = "".join(MASK_LABEL if t == data.mask_id else labels[t] for t in ids)
    return FillIn(text, filled, blanks, [[data.labels[int(j)] for j in row] for row in best],
                  best_p.numpy().astype(np.float32), maps)


def _prompt_ids(trainer: AttentionTrainer, prompt: str) -> tuple[list[int], str]:
    data = trainer.data
    ids, unknown = _encode(data, prompt)
    if not prompt:
        ids = [int(data.windows.ids[0])]  # an empty prompt starts where the text starts
    if not ids:
        raise DataError("attention.errors.prompt_unknown", chars=unknown)
    return ids, unknown


def next_token(trainer: AttentionTrainer, prompt: str, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None) -> NextToken:
    """The causal LM's distribution for the character after ``prompt``, before and after the sampling filters."""
    _require(trainer, "causal_lm")
    _check_sampling(temperature, top_k, top_p)
    ids, _ = _prompt_ids(trainer, prompt)
    return trainer.next_token(ids, temperature, top_k, top_p, live=False)


@torch.no_grad()
def generate(trainer: AttentionTrainer, prompt: str, temperature: float = 0.8, top_k: int | None = None,
             top_p: float | None = None, length: int = 200, seed: int = 0) -> Generation:
    """Sample ``length`` characters after ``prompt`` (the last ``context`` characters are the model's window)."""
    _require(trainer, "causal_lm")
    _check_sampling(temperature, top_k, top_p)
    if not 1 <= length <= 1000:
        raise ConfigError("attention.errors.gen_length", value=length, n=1000)
    data, model = trainer.data, trainer.model
    ids, unknown = _prompt_ids(trainer, prompt)
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    out, chosen_probs, first = [], [], None
    window = list(ids)
    for _ in range(length):
        logits = model(torch.tensor([window[-data.max_len:]], device=trainer.device))[0, -1].cpu()
        _, _, final = sampling_distribution(logits, temperature, top_k, top_p)
        nxt = int(torch.multinomial(final, 1, generator=generator))
        if first is None:
            first = _next_token(logits, data.labels, temperature, top_k, top_p, chosen=nxt)
        out.append(nxt)
        chosen_probs.append(float(final[nxt]))
        window.append(nxt)
    vocab = data.corpus.vocab
    return Generation("".join(vocab[i] for i in ids), "".join(vocab[i] for i in out),
                      np.asarray(chosen_probs, dtype=np.float32), first, unknown)


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    for name in ("temperature", "top_k", "top_p"):
        value = {"temperature": temperature, "top_k": top_k, "top_p": top_p}[name]
        if value is not None:
            replace(Config(), **{name: value}).validate()


# ---------------------------------------------------------------------------------------------- explaining
class OneHotReadout(nn.Module):
    """The transformer read at one position, fed one-hot token grids (B, vocab, T) so attributions can flow."""

    def __init__(self, model: Transformer, position: int) -> None:
        super().__init__()
        self.model, self.position = model, position

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m.drop(grid.transpose(1, 2) @ m.token.weight + m.position[: grid.size(-1)])
        mask = m.mask(grid.size(-1))
        for block in m.blocks:
            x, _, _ = block(x, mask)
        return m.head(m.final_norm(x))[:, self.position]


def explainable(trainer: AttentionTrainer, examples: int = 64) -> Explainable:
    """The transformer as a grid model for the Explain page: input = one-hot tokens (vocabulary × positions),
    output = the answer at one position (digits: the first output; causal LM: the next character after the
    window; masked LM: a blank in the middle of the window)."""
    data, config = trainer.data, trainer.config
    x = data.x_val[:examples].clone()
    t = x.size(1)
    if data.task in DIGIT_TASKS:
        position, y = 0, data.y_val[:examples, 0]
    elif data.mask_id is None:
        position, y = t - 1, data.y_val[:examples, t - 1]  # the last target of a validation window is never IGNORE
    else:
        position, y = t // 2, data.windows.val[:examples, 1 + t // 2]
        x = data.windows.val[:examples, 1:].clone()
        x[:, position] = data.mask_id
    grid = F.one_hot(x, data.in_size).transpose(1, 2).float()
    spec = InputSpec(shape=(data.in_size, t), class_names=list(data.labels[: data.out_size]), low=0.0, high=1.0,
                     black=0.0, mean=grid.mean(0).numpy(), feature_names=list(data.labels))
    model = OneHotReadout(private_copy(trainer.model), position).eval()
    metrics = trainer.evaluate()
    card = {**config.card(), "model": {"kind": "transformer", "layers": config.layers, "heads": config.heads,
                                       "width": config.width, "norm": config.norm, "positions": config.positions,
                                       "causal": config.causal, "parameters": sum(p.numel() for p in
                                                                                  trainer.model.parameters())},
            "metrics": metrics, "step": trainer.step}
    return Explainable("attention", "grid", model, spec, grid, y.clone(),
                       Message("attention.describe", task=Term(f"attention.tasks.{data.task}"), label=config.label(),
                               position=position + 1, step=trainer.step),
                       card=card, extra={"rows": "token", "what": "sequence", "position": position})
