"""What the attention lab hands to its page: typed, picklable dataclasses of numpy arrays and plain values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
