"""Recurrent networks for the sequence lab: a vanilla tanh RNN, an LSTM or a GRU (``nn.RNN``/``nn.LSTM``/
``nn.GRU``, batch first) between an input stage (identity or a character embedding) and a linear readout.

The split into ``features`` → ``rnn`` → ``readout`` lets ``core.inspect.gates`` re-run the recurrence by
hand with the same weights and feed its own hidden states to the same readout.
"""

from __future__ import annotations

import torch
from torch import nn

from core.errors import ConfigError
from core.models import MODELS

CELLS = ("RNN", "LSTM", "GRU")
CELL_LABELS = {"RNN": "vanilla RNN (tanh)", "LSTM": "LSTM", "GRU": "GRU"}
_RNN_CLASSES = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


class RecurrentNet(nn.Module):
    """``input → [embedding] → RNN/LSTM/GRU → [dropout] → linear``.

    ``per_step=False``: one output per sequence from the last hidden state (for a bidirectional net, the
    forward direction's last state and the backward direction's first); shape (B, output_size).
    ``per_step=True``: an output at every step, returned class-dimension-second as (B, output_size, T),
    which is what ``F.cross_entropy`` expects for per-step targets of shape (B, T).
    """

    def __init__(self, cell: str, input_size: int, output_size: int, *, hidden_size: int = 32, num_layers: int = 1,
                 dropout: float = 0.0, bidirectional: bool = False, vocab_size: int | None = None,
                 embed_dim: int = 32, per_step: bool = False, init_scale: float = 1.0) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ConfigError("sequences.errors.cell", value=cell, choices=", ".join(CELLS))
        if not 1 <= hidden_size <= 1024:
            raise ConfigError("sequences.errors.hidden_size", low=1, high=1024, value=hidden_size)
        if not 1 <= num_layers <= 6:
            raise ConfigError("sequences.errors.layers", low=1, high=6, value=num_layers)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError("sequences.errors.dropout", value=dropout)
        if not 0.0 < init_scale <= 20.0:
            raise ConfigError("sequences.errors.init_scale", value=init_scale)
        if per_step and bidirectional:
            raise ConfigError("sequences.errors.per_step_bidirectional")
        self.cell, self.per_step, self.init_scale = cell, per_step, init_scale
        self.hidden_size, self.num_layers, self.bidirectional = hidden_size, num_layers, bidirectional
        self.embedding = nn.Embedding(vocab_size, embed_dim) if vocab_size else None
        rnn_input = embed_dim if vocab_size else input_size
        kwargs = {"nonlinearity": "tanh"} if cell == "RNN" else {}
        self.rnn: nn.RNNBase = _RNN_CLASSES[cell](rnn_input, hidden_size, num_layers=num_layers, batch_first=True,
                                                  dropout=dropout if num_layers > 1 else 0.0,
                                                  bidirectional=bidirectional, **kwargs)
        if init_scale != 1.0:
            with torch.no_grad():
                for name, param in self.rnn.named_parameters():
                    if name.startswith("weight_hh"):
                        param.mul_(init_scale)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What the recurrent layers read: embedded character ids, or the float inputs as they are."""
        return self.embedding(x) if self.embedding is not None else x.float()

    def readout(self, output: torch.Tensor) -> torch.Tensor:
        """Predictions from the top layer's hidden states ``output`` (B, T, D·H)."""
        if self.per_step:
            return self.head(self.drop(output)).transpose(1, 2)
        if self.bidirectional:
            h = self.hidden_size
            last = torch.cat([output[:, -1, :h], output[:, 0, h:]], dim=1)
        else:
            last = output[:, -1]
        return self.head(self.drop(last))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(self.features(x))
        return self.readout(output)

    def recurrent_spectral_radius(self, layer: int = 0) -> float:
        """Largest |eigenvalue| of the first layer's recurrent matrix (of the candidate/tanh block for gated cells).

        Above ~1 a vanilla RNN's gradients can explode; well below 1 they vanish.
        """
        w = getattr(self.rnn, f"weight_hh_l{layer}").detach().cpu()
        h = self.hidden_size
        block = {"RNN": w, "LSTM": w[2 * h:3 * h], "GRU": w[2 * h:3 * h]}[self.cell]
        return float(torch.linalg.eigvals(block).abs().max())


@torch.no_grad()
def sample_text(model: RecurrentNet, prompt_ids: list[int], length: int, *, temperature: float = 1.0,
                generator: torch.Generator | None = None) -> list[int]:
    """Generate ``length`` character ids after ``prompt_ids`` by sampling softmax(logits / temperature).

    ``temperature`` → 0 is greedy; 1 samples the model's distribution; > 1 flattens it.
    """
    if not prompt_ids:
        raise ConfigError("sequences.errors.prompt")
    if not 0.0 <= temperature <= 10.0:
        raise ConfigError("sequences.errors.temperature", value=temperature)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    ids = torch.tensor([prompt_ids], device=device)
    output, state = model.rnn(model.features(ids))
    out: list[int] = []
    for _ in range(length):
        logits = model.head(output[:, -1])[0].float().cpu()
        if temperature < 1e-3:
            nxt = int(logits.argmax())
        else:
            probs = torch.softmax(logits / temperature, dim=0)
            nxt = int(torch.multinomial(probs, 1, generator=generator))
        out.append(nxt)
        output, state = model.rnn(model.features(torch.tensor([[nxt]], device=device)), state)
    model.train(was_training)
    return out


def _builder(cell: str):
    def build(input_size: int, output_size: int, **kwargs) -> RecurrentNet:
        return RecurrentNet(cell, input_size, output_size, **kwargs)

    build.__doc__ = f"A {CELL_LABELS[cell]} sequence model: ``RecurrentNet({cell!r}, input_size, output_size, ...)``."
    return build


MODELS.register("rnn_tanh", family="sequences", description="Vanilla recurrent net: h' = tanh(W x + U h + b).",
                cell="RNN")(_builder("RNN"))
MODELS.register("lstm", family="sequences", description="Long short-term memory: input, forget and output gates "
                "around an additive cell state.", cell="LSTM")(_builder("LSTM"))
MODELS.register("gru", family="sequences", description="Gated recurrent unit: reset and update gates, no separate "
                "cell state.", cell="GRU")(_builder("GRU"))
