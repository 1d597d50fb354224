"""A small transformer built from ``torch.nn`` parts with attention that can be read.

Scaled dot-product attention is written out (``attention``): the scores ``Q·Kᵀ/√d`` before the softmax, the
mask and the weights after it are all returned, so a page can show every head of every layer. The same model is
an encoder (BERT-style: every position sees every other) or a decoder (GPT-style: ``causal=True``, position *t*
sees positions ≤ *t* only, through a lower-triangular mask whose blocked scores become exactly zero weights).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from core.models import MODELS

POSITIONS = ("learned", "sinusoidal")
NORMS = ("pre", "post")
FFN_MULT = 4  # hidden width of each block's feed-forward part, in multiples of the model width


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """The fixed encodings of "Attention is all you need": PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    pe = torch.zeros(length, width)
    pe[:, 0::2] = torch.sin(position * rate)
    pe[:, 1::2] = torch.cos(position * rate)[:, : width // 2]
    return pe


def causal_mask(length: int, device: torch.device | None = None) -> torch.Tensor:
    """(T, T) booleans, True where query *i* may attend to key *j* (j ≤ i): the lower triangle."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None, *,
              dropout: float = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """softmax(Q·Kᵀ/√d + mask)·V written out; returns ``(output, weights, scores)``.

    ``mask`` is boolean (True = may attend), broadcast over (…, T_q, T_k); blocked scores become −∞, so their
    weights are exactly 0 and the values behind them cannot change the output. ``scores`` are the scaled dot
    products before the mask and the softmax; ``weights`` (rows sum to 1) are before dropout.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    logits = scores if mask is None else scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(logits, dim=-1)
    used = F.dropout(weights, dropout) if dropout > 0 else weights
    return used @ v, weights, scores


class SelfAttention(nn.Module):
    """Multi-head self-attention: one linear map to queries, keys and values, ``heads`` heads, one output map."""

    def __init__(self, width: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, keys and values of ``x`` (B, T, C), each (B, heads, T, C / heads)."""
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        return q, k, v

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self.project(x)
        out, weights, scores = attention(q, k, v, mask, dropout=self.dropout if self.training else 0.0)
        b, _, t, _ = out.shape
        return self.proj(out.transpose(1, 2).reshape(b, t, -1)), weights, scores


class Block(nn.Module):
    """Attention then a feed-forward part, each in a residual branch; layer norm before (pre) or after (post)."""

    def __init__(self, width: int, heads: int, dropout: float, norm: str) -> None:
        super().__init__()
        self.pre = norm == "pre"
        self.attn = SelfAttention(width, heads, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.ffn = nn.Sequential(nn.Linear(width, FFN_MULT * width), nn.GELU(), nn.Linear(FFN_MULT * width, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.pre:
            a, weights, scores = self.attn(self.norm1(x), mask)
            x = x + self.drop(a)
            x = x + self.drop(self.ffn(self.norm2(x)))
        else:
            a, weights, scores = self.attn(x, mask)
            x = self.norm1(x + self.drop(a))
            x = self.norm2(x + self.drop(self.ffn(x)))
        return x, weights, scores


class Trace(NamedTuple):
    """What a forward pass computed: logits (B, T, out) and, per layer, weights and scores (B, heads, T, T)."""

    logits: torch.Tensor
    weights: list[torch.Tensor]
    scores: list[torch.Tensor]


class Transformer(nn.Module):
    """Token embedding + positions → ``layers`` blocks → [final norm] → a linear readout at every position.

    ``causal=False`` is an encoder (every position sees all others; masked LM, reversal, sorting);
    ``causal=True`` a decoder (each position sees itself and the past; next-token prediction).
    """

    def __init__(self, vocab_size: int, max_len: int, *, out_size: int | None = None, width: int = 64,
                 heads: int = 2, layers: int = 2, dropout: float = 0.0, norm: str = "pre",
                 positions: str = "learned", causal: bool = False) -> None:
        super().__init__()
        if norm not in NORMS or positions not in POSITIONS:
            raise ConfigError("attention.errors.model_kind", norm=norm, positions=positions)
        if width % heads:
            raise ConfigError("attention.errors.width_heads", width=width, heads=heads)
        if not (1 <= vocab_size and 1 <= max_len and 1 <= layers and 0.0 <= dropout < 1.0):
            raise ConfigError("attention.errors.model_size", vocab=vocab_size, length=max_len, layers=layers)
        self.vocab_size, self.max_len, self.width, self.heads = vocab_size, max_len, width, heads
        self.causal, self.norm, self.positions = causal, norm, positions
        self.token = nn.Embedding(vocab_size, width)
        if positions == "learned":
            self.position = nn.Parameter(torch.randn(max_len, width) * 0.5)
        else:
            self.register_buffer("position", sinusoidal_positions(max_len, width), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(width, heads, dropout, norm) for _ in range(layers))
        self.final_norm = nn.LayerNorm(width) if norm == "pre" else nn.Identity()
        self.head = nn.Linear(width, out_size or vocab_size)

    @property
    def layers(self) -> int:
        return len(self.blocks)

    def mask(self, length: int) -> torch.Tensor | None:
        """The attention mask for ``length`` tokens: lower-triangular when causal, None (all allowed) otherwise."""
        return causal_mask(length, self.token.weight.device) if self.causal else None

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings plus the positional encodings of positions 0 … T−1."""
        if ids.size(-1) > self.max_len:
            raise ConfigError("attention.errors.too_long", count=ids.size(-1), n=self.max_len)
        return self.drop(self.token(ids) + self.position[: ids.size(-1)])

    def trace(self, ids: torch.Tensor) -> Trace:
        """Logits and every layer's attention weights and pre-softmax scores for token ids (B, T)."""
        x = self.embed(ids)
        mask = self.mask(ids.size(-1))
        weights, scores = [], []
        for block in self.blocks:
            x, w, s = block(x, mask)
            weights.append(w)
            scores.append(s)
        return Trace(self.head(self.final_norm(x)), weights, scores)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.trace(ids).logits


def sampling_distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                          top_p: float | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """How the next token is drawn from 1-D ``logits``: ``(probs, kept, final)``.

    ``probs`` = softmax(logits / temperature); ``kept`` marks the tokens that survive top-k (the k most likely)
    and top-p (the smallest set of most likely tokens whose probability reaches p; the most likely one always
    stays); ``final`` is ``probs`` renormalised over the kept tokens. Temperature 0 is greedy (one token kept).
    """
    if temperature < 1e-3:
        probs = torch.softmax(logits.float(), dim=-1)
        kept = torch.zeros_like(probs, dtype=torch.bool)
        kept[int(probs.argmax())] = True
    else:
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        order = probs.argsort(descending=True)
        keep_sorted = torch.ones_like(probs, dtype=torch.bool)
        if top_k is not None:
            keep_sorted[top_k:] = False
        if top_p is not None:
            before = probs[order].cumsum(0) - probs[order]  # mass of the more likely tokens
            keep_sorted &= before < top_p
        keep_sorted[0] = True
        kept = torch.zeros_like(keep_sorted)
        kept[order] = keep_sorted
    final = torch.where(kept, probs, torch.zeros_like(probs))
    return probs, kept, final / final.sum()


@MODELS.register("transformer", family="attention", description="attention.models.transformer")
def build_transformer(vocab_size: int, max_len: int, **kwargs) -> Transformer:
    """``Transformer(vocab_size, max_len, width=…, heads=…, layers=…, causal=…, …)``."""
    return Transformer(vocab_size, max_len, **kwargs)
