"""Inspections and actions a page runs between two training steps (``job.inspect(fn, *args)``), and the model
handed to the Explain page."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.data.tokens import IGNORE, parse_symbols
from core.errors import ConfigError, DataError
from core.explain import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.jobs import build_seeded
from core.models.transformer import Transformer, sampling_distribution

from .settings import DIGIT_TASKS, Config
from .task import MASK_LABEL, TaskData
from .trainer import (
    AttentionTrainer,
    digit_targets,
    encode_with_blanks,
    make_trainer,
    next_token_view,
    probe_input,
    require_task,
)
from .views import AttentionMaps, FillIn, Generation, NextToken, View


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
            ids, unknown = encode_with_blanks(data, text_or_tokens)
    else:
        ids = [int(i) for i in text_or_tokens]
        if any(not 0 <= i < data.in_size for i in ids):
            raise DataError("attention.errors.token_ids", n=data.in_size - 1)
    if not ids:
        raise DataError("attention.errors.empty_input")
    ids = ids[: data.max_len]
    if data.task in DIGIT_TASKS:
        targets = digit_targets(data.task, ids)
    elif data.mask_id is None:
        targets = [*ids[1:], IGNORE]
    else:
        targets = [IGNORE] * len(ids)
    return trainer.maps(ids, targets, unknown)


@torch.no_grad()
def fill_in_blank(trainer: AttentionTrainer, text_with_mask: str, top: int = 5) -> FillIn:
    """The masked LM's guesses for each blank (``_``, ``＿`` or ``[MASK]``) of a text, all filled at once.

    A text longer than the context is cut to ``context`` characters around its first blank.
    """
    require_task(trainer, "masked_lm")
    data = trainer.data
    ids, unknown = encode_with_blanks(data, text_with_mask)
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
    ids, unknown = encode_with_blanks(data, prompt)
    if not prompt:
        ids = [int(data.windows.ids[0])]  # an empty prompt starts where the text starts
    if not ids:
        raise DataError("attention.errors.prompt_unknown", chars=unknown)
    return ids, unknown


def next_token(trainer: AttentionTrainer, prompt: str, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None) -> NextToken:
    """The causal LM's distribution for the character after ``prompt``, before and after the sampling filters."""
    require_task(trainer, "causal_lm")
    _check_sampling(temperature, top_k, top_p)
    ids, _ = _prompt_ids(trainer, prompt)
    return trainer.next_token(ids, temperature, top_k, top_p, live=False)


@torch.no_grad()
def generate(trainer: AttentionTrainer, prompt: str, temperature: float = 0.8, top_k: int | None = None,
             top_p: float | None = None, length: int = 200, seed: int = 0) -> Generation:
    """Sample ``length`` characters after ``prompt`` (the last ``context`` characters are the model's window)."""
    require_task(trainer, "causal_lm")
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
            first = next_token_view(logits, data.labels, temperature, top_k, top_p, chosen=nxt)
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


def describe_readout(model: OneHotReadout, shape: tuple[int, ...] = ()) -> dict:
    """JSON-safe constructor arguments of a readout (for a model card; ``build_readout`` inverts it)."""
    m = model.model
    return {"vocab_size": m.vocab_size, "max_len": m.max_len, "out_size": m.head.out_features, "width": m.width,
            "heads": m.heads, "layers": m.layers, "dropout": m.drop.p, "norm": m.norm, "positions": m.positions,
            "causal": m.causal, "position": model.position}


def build_readout(arch: Mapping[str, Any]) -> OneHotReadout:
    """An untrained readout of the shape ``describe_readout`` wrote down (then ``load_state_dict``)."""
    arch = dict(arch)
    position = int(arch.pop("position"))
    model = Transformer(int(arch.pop("vocab_size")), int(arch.pop("max_len")), **arch)
    if not 0 <= position < model.max_len:
        raise ConfigError("attention.errors.too_long", count=position + 1, n=model.max_len)
    return OneHotReadout(model, position)


MAX_GRID_NUMBERS = 2_000_000  # one-hot training grids handed to the Explain page (8 MB of float32)


def readout_examples(data: TaskData, split: str, n: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Up to ``n`` examples of ``split`` ("train" or "val") as the readout sees them: token ids (N, T) with the
    masked LM's middle position masked, the target at the readout position (N,), and that position."""
    if data.task in DIGIT_TASKS:
        x, y = (data.x_train, data.y_train) if split == "train" else (data.x_val, data.y_val)
        pick = torch.linspace(0, len(x) - 1, min(n, len(x))).round().long()
        return x[pick], y[pick, 0], 0
    windows = data.windows.train if split == "train" else data.windows.val
    pick = torch.linspace(0, len(windows) - 1, min(n, len(windows))).round().long()
    w = windows[pick]
    t = w.size(1) - 1
    if data.mask_id is None:  # the character after the window: the last target, held out in validation windows
        return w[:, :-1], w[:, -1], t - 1
    x = w[:, 1:].clone()  # validation: the held-out characters sit at the end of a window
    y = x[:, t // 2].clone()
    x[:, t // 2] = data.mask_id
    return x, y, t // 2


def explainable(trainer: AttentionTrainer, examples: int = 64) -> Explainable:
    """The transformer as a grid model for the Explain page: input = one-hot tokens (vocabulary × positions),
    output = the answer at one position (digits: the first output; causal LM: the next character after the
    window; masked LM: a blank in the middle of the window). Training grids come along for fine-tuning."""
    data, config = trainer.data, trainer.config
    x, y, position = readout_examples(data, "val", examples)
    t = x.size(1)
    x_train, y_train, _ = readout_examples(data, "train", max(1, MAX_GRID_NUMBERS // (data.in_size * t)))
    grid = F.one_hot(x, data.in_size).transpose(1, 2).float()
    train_grid = F.one_hot(x_train, data.in_size).transpose(1, 2).float()
    spec = InputSpec(shape=(data.in_size, t), class_names=list(data.labels[: data.out_size]), low=0.0, high=1.0,
                     black=0.0, mean=train_grid.mean(0).numpy(), feature_names=list(data.labels))
    model = OneHotReadout(private_copy(trainer.model), position).eval()
    card = {**config.card(), "model": {"kind": "transformer", "layers": config.layers, "heads": config.heads,
                                       "width": config.width, "norm": config.norm, "positions": config.positions,
                                       "causal": config.causal,
                                       "parameters": sum(p.numel() for p in trainer.model.parameters())},
            "metrics": trainer.evaluate(), "step": trainer.step}
    return Explainable("attention", "grid", model, spec, grid, y.clone(),
                       Message("attention.describe", task=Term(f"attention.tasks.{data.task}"), label=config.label(),
                               position=position + 1, step=trainer.step),
                       x_train=train_grid, y_train=y_train.clone(), card=card,
                       extra={"rows": "token", "what": "sequence", "position": position})
