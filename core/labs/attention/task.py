"""The data and models of a config's task: token tensors, the transformer, the racing LSTM, the losses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.data.sequences import CharCorpus
from core.data.tokens import IGNORE, SYMBOLS, TextWindows, char_label, digit_task, mask_tokens, text_windows
from core.models.recurrent import RecurrentNet
from core.models.transformer import Transformer

from .settings import Config

N_TRAIN, N_VAL = 10_000, 1_000  # digit sequences
MASK_LABEL = "▢"  # how a [MASK] input is drawn


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
