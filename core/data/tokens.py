"""Token data for the attention lab: digit sequences to reverse or sort, character windows of a text for the
causal (GPT-style) and the masked (BERT-style) language model, and BERT's masking rule.

Digit tasks: ``x`` is a random sequence of ``vocab`` symbols, ``y`` its reversal (or sorted copy), position by
position, so an encoder that solves reversal must look from output position *i* at input position T−1−i (an
anti-diagonal attention map). Texts are split once: the first 90 % trains, and validation scores only
characters of the last 10 %, which the model never trained on.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import torch

from core.data import DATASETS
from core.data.sequences import MAX_TEXT_CHARS, MAX_VOCAB, MIN_TEXT_CHARS, CharCorpus, clean_text, zen_of_python
from core.errors import DataError

TEXTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "texts"
SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz"  # the tokens of the digit tasks, one character each
IGNORE = -100  # target of a position that is not scored (F.cross_entropy's ignore_index)
MASK_RATE = 0.15
BLANKS = ("[MASK]", "＿", "_")  # how a visitor writes a blank to fill in (the full-width one for Chinese input)
VAL_FRACTION = 0.1


# ----------------------------------------------------------------------------- digit tasks
@DATASETS.register("digit_reversal", family="attention", description="attention.datasets.reversal",
                   task="reversal")
def reversal(n: int, length: int, vocab: int = 10, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sequences of ``length`` symbols from ``vocab`` and their reversals, int64 (n, length)."""
    x = np.random.default_rng(seed).integers(0, vocab, (n, length))
    return x, x[:, ::-1].copy()


@DATASETS.register("digit_sorting", family="attention", description="attention.datasets.sorting", task="sorting")
def sorting(n: int, length: int, vocab: int = 10, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sequences and the same symbols in ascending order, int64 (n, length)."""
    x = np.random.default_rng(seed).integers(0, vocab, (n, length))
    return x, np.sort(x, axis=1)


DIGIT_TASKS = {"reversal": reversal, "sorting": sorting}


def digit_task(kind: str, n: int, length: int, vocab: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One of ``DIGIT_TASKS`` as tensors."""
    x, y = DIGIT_TASKS[kind](n, length, vocab, seed=seed)
    return torch.from_numpy(x), torch.from_numpy(y)


def parse_symbols(text: str, vocab: int) -> list[int]:
    """``"3 1 4"`` or ``"314"`` → ``[3, 1, 4]``; a character outside the first ``vocab`` symbols is a DataError."""
    allowed = SYMBOLS[:vocab]
    chars = [ch for ch in text.strip().lower() if not ch.isspace() and ch not in ",;"]
    bad = sorted({ch for ch in chars if ch not in allowed})
    if bad:
        raise DataError("attention.errors.symbols", bad=" ".join(bad), symbols=f"{allowed[0]}–{allowed[-1]}")
    return [allowed.index(ch) for ch in chars]


# ----------------------------------------------------------------------------- texts
def _bundled(name: str) -> str:
    return (TEXTS_DIR / name).read_text(encoding="utf-8")


@DATASETS.register("english_poems", family="attention", description="attention.datasets.poems", task="chars")
def english_poems() -> str:
    """Thirteen English poems published before 1900 (public domain), bundled in ``assets/texts``."""
    return _bundled("english_poems.txt")


@DATASETS.register("gettysburg", family="attention", description="attention.datasets.gettysburg", task="chars")
def gettysburg() -> str:
    """Lincoln's Gettysburg Address (1863, public domain), bundled in ``assets/texts``."""
    return _bundled("gettysburg.txt")


@DATASETS.register("tang_poems", family="attention", description="attention.datasets.tang", task="chars")
def tang_poems() -> str:
    """43 five-character Tang poems (public domain), bundled in ``assets/texts``."""
    return _bundled("tang_poems.txt")


TEXTS = {"poems": english_poems, "zen": zen_of_python, "gettysburg": gettysburg, "tang": tang_poems}


@cache
def bundled_corpus(name: str) -> CharCorpus:
    return CharCorpus.from_text(TEXTS[name]())


def text_corpus(text: str) -> CharCorpus:
    """A pasted text as a character corpus; a ``DataError`` with a catalogue key says why it cannot be used."""
    if not isinstance(text, str):
        raise DataError("attention.errors.text_type")
    return _text_corpus(text)


@lru_cache(maxsize=4)  # settings are validated on every page run: a long pasted text is read once
def _text_corpus(text: str) -> CharCorpus:
    cleaned = clean_text(text)
    kept = cleaned[:MAX_TEXT_CHARS]  # CharCorpus keeps this much (and says it truncated)
    if len(kept) < MIN_TEXT_CHARS:
        raise DataError("attention.errors.text_short", count=len(kept), n=MIN_TEXT_CHARS)
    distinct = len(set(kept))
    if distinct > MAX_VOCAB:
        raise DataError("attention.errors.text_vocab", count=distinct, n=MAX_VOCAB)
    if distinct < 2:
        raise DataError("attention.errors.text_one_char")
    return CharCorpus.from_text(cleaned)


def char_label(ch: str) -> str:
    """A visible stand-in for a character: whitespace and control characters get a symbol."""
    return {"\n": "↵", " ": "␣", "\u3000": "□"}.get(ch, ch if unicodedata.category(ch)[0] != "Z" else "␣")


@dataclass
class TextWindows:
    """A text cut into windows of ``context + 1`` character ids.

    ``train`` windows lie inside the first ``split`` characters (strided views, no copy). ``val`` windows reach
    into the rest; ``val_start[k]`` is the text position of ``val[k, 0]``, so a position *p* of a window is
    scored only when ``val_start + p ≥ split`` (characters never trained on).
    """

    ids: torch.Tensor
    split: int
    context: int
    train: torch.Tensor  # (N, context + 1)
    val: torch.Tensor  # (M, context + 1)
    val_start: torch.Tensor  # (M,)

    def unseen(self, offset: int = 0) -> torch.Tensor:
        """(M, context) booleans: which positions of ``val[:, offset:offset + context]`` lie in the held-out part."""
        pos = self.val_start[:, None] + offset + torch.arange(self.context)[None, :]
        return pos >= self.split


def min_text_chars(context: int) -> int:
    """The shortest text that gives windows of ``context`` characters at least 8 training windows."""
    return int(np.ceil((context + 8) / (1 - VAL_FRACTION))) + 1


def text_windows(corpus: CharCorpus, context: int, *, max_val: int = 256) -> TextWindows:
    """Training and validation windows of ``context + 1`` characters (see :class:`TextWindows`)."""
    ids = torch.from_numpy(corpus.encode(corpus.text))
    split = int(len(ids) * (1 - VAL_FRACTION))
    if split - context < 8 or len(ids) - split < 1:
        raise DataError("attention.errors.text_context", count=len(ids), context=context, n=min_text_chars(context))
    train = ids[:split].unfold(0, context + 1, 1)
    first = split - context  # the first window whose last character is held out
    starts = torch.arange(first, len(ids) - context)
    if len(starts) > max_val:
        starts = starts[torch.linspace(0, len(starts) - 1, max_val).round().long()]
    val = torch.stack([ids[s : s + context + 1] for s in starts.tolist()])
    return TextWindows(ids, split, context, train, val, starts)


# ----------------------------------------------------------------------------- BERT's masking
def mask_tokens(ids: torch.Tensor, *, mask_id: int, vocab_size: int, generator: torch.Generator,
                rate: float = MASK_RATE, eligible: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masked-LM corruption of token ids (B, T): ``(inputs, targets)``.

    Each eligible position is chosen with probability ``rate`` (at least one per row, so every sequence teaches
    something); of the chosen ones 80 % become ``mask_id``, 10 % a random token of ``[0, vocab_size)`` and 10 %
    stay as they are. ``targets`` hold the original ids at chosen positions and ``IGNORE`` everywhere else, so
    the loss counts only the chosen positions.
    """
    eligible = torch.ones_like(ids, dtype=torch.bool) if eligible is None else eligible
    draw = torch.rand(ids.shape, generator=generator)
    chosen = (draw < rate) & eligible
    # rows with nothing chosen: take the eligible position with the smallest draw
    empty = ~chosen.any(dim=1) & eligible.any(dim=1)
    if empty.any():
        first = torch.where(eligible, draw, torch.full_like(draw, 2.0)).argmin(dim=1)
        chosen[empty, first[empty]] = True
    how = torch.rand(ids.shape, generator=generator)
    random_ids = torch.randint(0, vocab_size, ids.shape, generator=generator)
    inputs = torch.where(chosen & (how < 0.8), torch.full_like(ids, mask_id), ids)
    inputs = torch.where(chosen & (how >= 0.8) & (how < 0.9), random_ids, inputs)
    targets = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    return inputs, targets


def find_blanks(text: str) -> tuple[str, list[int]]:
    """``"Beautiful is b_tter"`` → (the text with each blank as one placeholder character, blank positions)."""
    marker = "\x00"
    for blank in BLANKS:
        text = text.replace(blank, marker)
    return text, [i for i, ch in enumerate(text) if ch == marker]
