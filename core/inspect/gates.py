"""Open a recurrent layer: re-run the cell equations of ``nn.RNN`` (tanh), ``nn.LSTM`` and ``nn.GRU`` step by
step with the module's own weights and keep every gate, the cell state and the hidden state.

PyTorch's equations (gate blocks stacked in ``weight_ih_l{k}`` / ``weight_hh_l{k}`` in this order):

- RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
- LSTM: i, f, g, o = σ, σ, tanh, σ of (W_i* x + b_i* + W_h* h + b_h*);  c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
- GRU:  r = σ(W_ir x + b_ir + W_hr h + b_hr);  z = σ(W_iz x + b_iz + W_hz h + b_hz);
        n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn));  h' = (1 − z)⊙n + z⊙h

Layers above the first read the concatenated outputs of the layer below (both directions). Inter-layer
dropout is a training-time thing: traces follow the module in eval mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError

# Gates and states of each cell, in PyTorch's order (their names: catalogue texts sequences.gates.<name>).
GATES: dict[str, tuple[str, ...]] = {"RNN": ("h",), "LSTM": ("i", "f", "g", "o", "c", "h"),
                                     "GRU": ("r", "z", "n", "h")}
SIGMOID_GATES = frozenset({"i", "f", "o", "r", "z"})  # in (0, 1)
TANH_STATES = frozenset({"g", "n", "h"})  # in (−1, 1); the LSTM cell state c is unbounded


def cell_type(rnn: nn.RNNBase) -> str:
    """"RNN" (tanh), "LSTM" or "GRU"; raises ``ConfigError`` for what the tracer cannot follow."""
    if isinstance(rnn, nn.LSTM):
        if rnn.proj_size:
            raise ConfigError("sequences.errors.proj_size")
        return "LSTM"
    if isinstance(rnn, nn.GRU):
        return "GRU"
    if isinstance(rnn, nn.RNN):
        if rnn.nonlinearity != "tanh":
            raise ConfigError("sequences.errors.tanh_only")
        return "RNN"
    raise ConfigError("sequences.errors.cannot_trace", kind=type(rnn).__name__)


@dataclass
class CellTrace:
    """Every intermediate of a recurrent module on a batch.

    ``states[layer][direction][name]`` is a (B, T, H) tensor indexed by input time (the reverse direction's
    step t is the state after reading x_t … x_{T−1}). ``hidden[layer][direction][t]`` are the individual h_t
    tensors (graph nodes, for gradients). ``output``, ``h_n`` and ``c_n`` match what the module returns
    (batch first).
    """

    cell: str
    states: list[list[dict[str, torch.Tensor]]]
    hidden: list[list[list[torch.Tensor]]]
    output: torch.Tensor
    h_n: torch.Tensor
    c_n: torch.Tensor | None

    @property
    def num_layers(self) -> int:
        return len(self.states)

    @property
    def num_directions(self) -> int:
        return len(self.states[0])

    def numpy(self, index: int = 0) -> list[list[dict[str, np.ndarray]]]:
        """Sequence ``index`` of the batch as numpy arrays: ``[layer][direction][name] -> (T, H)``."""
        return [[{k: v[index].detach().cpu().numpy() for k, v in d.items()} for d in layer] for layer in self.states]


def _step(cell: str, xg: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None, w_hh: torch.Tensor,
          b_hh: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """One time step. ``xg`` = W_ih x + b_ih (B, G·H), already computed for all steps."""
    hg = F.linear(h, w_hh, b_hh)
    if cell == "RNN":
        return {"h": torch.tanh(xg + hg)}
    if cell == "LSTM":
        gi, gf, gg, go = (xg + hg).chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(gi), torch.sigmoid(gf), torch.tanh(gg), torch.sigmoid(go)
        c_new = f * c + i * g
        return {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": o * torch.tanh(c_new)}
    xr, xz, xn = xg.chunk(3, dim=1)
    hr, hz, hn = hg.chunk(3, dim=1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}


def trace_cells(rnn: nn.RNNBase, x: torch.Tensor,
                hx: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None) -> CellTrace:
    """Run ``rnn``'s equations by hand on ``x`` (B, T, F) — or (T, B, F) when ``rnn.batch_first`` is False.

    Gradients flow through the trace when enabled (``hidden`` holds each h_t as a graph node).
    """
    cell = cell_type(rnn)
    if not rnn.batch_first:
        x = x.transpose(0, 1)
    if x.dim() != 3:
        raise ConfigError("sequences.errors.trace_shape", shape=tuple(x.shape))
    batch, steps, _ = x.shape
    dirs, hidden_size = (2 if rnn.bidirectional else 1), rnn.hidden_size
    if hx is None:
        zeros = x.new_zeros(rnn.num_layers * dirs, batch, hidden_size)
        h0, c0 = zeros, (zeros if cell == "LSTM" else None)
    elif cell == "LSTM":
        h0, c0 = hx
    else:
        h0, c0 = hx, None
    states: list[list[dict[str, torch.Tensor]]] = []
    hidden: list[list[list[torch.Tensor]]] = []
    h_last, c_last = [], []
    layer_input = x
    for layer in range(rnn.num_layers):
        layer_states, layer_hidden, outputs = [], [], []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = getattr(rnn, "weight_ih" + sfx), getattr(rnn, "weight_hh" + sfx)
            b_ih, b_hh = (getattr(rnn, "bias_ih" + sfx), getattr(rnn, "bias_hh" + sfx)) if rnn.bias else (None, None)
            xg = F.linear(layer_input, w_ih, b_ih)
            h = h0[layer * dirs + d]
            c = c0[layer * dirs + d] if c0 is not None else None
            per_step: list[dict[str, torch.Tensor]] = [{}] * steps
            order = range(steps) if d == 0 else range(steps - 1, -1, -1)
            for t in order:
                values = _step(cell, xg[:, t], h, c, w_hh, b_hh)
                h, c = values["h"], values.get("c")
                per_step[t] = values
            layer_states.append({k: torch.stack([s[k] for s in per_step], dim=1) for k in GATES[cell]})
            layer_hidden.append([s["h"] for s in per_step])
            outputs.append(layer_states[-1]["h"])
            h_last.append(h)
            if c is not None:
                c_last.append(c)
        states.append(layer_states)
        hidden.append(layer_hidden)
        layer_input = torch.cat(outputs, dim=2) if dirs == 2 else outputs[0]
    output = layer_input if rnn.batch_first else layer_input.transpose(0, 1)
    return CellTrace(cell, states, hidden, output, torch.stack(h_last), torch.stack(c_last) if c_last else None)


def hidden_grad_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, classification: bool,
                      direction: int = 0) -> np.ndarray:
    """‖∂L/∂h_t‖ for every layer and step: an array (layers, T), averaged over the batch.

    ``model`` is a ``core.models.recurrent.RecurrentNet``. L is the loss of each example at the last time
    step (for per-step models, the prediction of the last character), so the curve shows how much of
    that error signal reaches each earlier hidden state — the vanishing/exploding-gradient picture.
    Parameter ``.grad`` fields are left untouched.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            trace = trace_cells(model.rnn, model.features(x))
            out = model.readout(trace.output)
            if getattr(model, "per_step", False):
                out, y = out[:, :, -1], y[:, -1]
            if classification:
                loss = F.cross_entropy(out, y, reduction="sum")
            else:
                loss = F.mse_loss(out, y.to(out.dtype), reduction="sum")
            nodes = [h for layer in trace.hidden for h in layer[direction]]
            grads = torch.autograd.grad(loss, nodes, allow_unused=True)
    finally:
        model.train(was_training)
    steps = x.shape[1]
    norms = np.zeros((trace.num_layers, steps))
    for k, g in enumerate(grads):
        if g is not None:
            norms[k // steps, k % steps] = float(g.norm(dim=1).mean())
    return norms


def top_units_for_span(activations: np.ndarray, start: int, end: int, k: int = 10) -> list[tuple[int, float]]:
    """Units whose activation on steps [start, end) differs most from the rest of the sequence (LSTMVis-style).

    ``activations`` is (T, H). Returns up to ``k`` (unit, score) pairs, score = mean on the span − mean
    elsewhere (the mean on the span when it covers everything), ranked by |score|.
    """
    steps = activations.shape[0]
    start, end = max(0, start), min(steps, end)
    if end <= start:
        raise ConfigError("sequences.errors.empty_span")
    inside = activations[start:end].mean(axis=0)
    mask = np.ones(steps, dtype=bool)
    mask[start:end] = False
    score = inside - activations[mask].mean(axis=0) if mask.any() else inside
    order = np.argsort(-np.abs(score))[:k]
    return [(int(u), float(score[u])) for u in order]
