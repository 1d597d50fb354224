"""The sequence lab's training setup: a task (forecasting, long memory, characters), one or three recurrent
cells trained on exactly the same batches (race mode), and the snapshot the page draws from.

``SequenceConfig`` holds the settings; ``build_trainer(config)`` makes a ``RaceTrainer`` (one
``SupervisedTrainer`` per cell); ``make_job(config)`` wraps it in a ``TrainingJob``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.data.sequences import (
    MEMORY_KINDS,
    SERIES_KINDS,
    CharCorpus,
    ForecastData,
    MemoryData,
    forecast_windows,
    make_series,
    memory_task,
    zen_of_python,
)
from core.errors import ConfigError, TrainingDiverged
from core.inspect.gates import CellTrace, hidden_grad_norms, trace_cells
from core.jobs import TrainingJob
from core.models.recurrent import CELLS, RecurrentNet, sample_text
from core.training import SupervisedTrainer, make_optimizer

TASKS = ("forecast", "memory", "chars")
TASK_LABELS = {"forecast": "Forecasting", "memory": "Long memory", "chars": "Characters"}
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "forecast": {"hidden_size": 32, "lr": 0.005, "steps": 1500, "batch_size": 32},
    "memory": {"hidden_size": 32, "lr": 0.02, "steps": 1500, "batch_size": 64},
    "chars": {"hidden_size": 64, "lr": 0.005, "steps": 2000, "batch_size": 32},
}
PROBE_SIZE = 32
SAMPLE_LENGTH = 240
SAMPLE_LOG = 6


@dataclass(frozen=True)
class SequenceConfig:
    """Every setting of one sequence-lab run (frozen, so it can key caches)."""

    task: str = "memory"
    cells: tuple[str, ...] = ("LSTM",)
    # forecasting
    series: str = "sum_of_sines"
    series_length: int = 2000
    window: int = 40
    horizon: int = 10
    # long memory
    memory_kind: str = "adding_problem"
    seq_len: int = 50
    # characters
    text: str = ""
    char_seq_len: int = 64
    embed_dim: int = 32
    prompt: str = ""
    temperature: float = 0.8
    # model and optimisation
    hidden_size: int = 32
    num_layers: int = 1
    dropout: float = 0.0
    bidirectional: bool = False
    init_scale: float = 1.0
    optimizer: str = "Adam"
    lr: float = 0.01
    clip_norm: float | None = None
    batch_size: int = 64
    steps: int = 1500
    seed: int = 0

    def validated(self) -> SequenceConfig:
        """The config, or a ``ConfigError`` naming the first setting that cannot work."""
        if self.task not in TASKS:
            raise ConfigError(f"Unknown task {self.task!r}; choose one of {', '.join(TASKS)}.")
        if not self.cells or any(c not in CELLS for c in self.cells) or len(set(self.cells)) != len(self.cells):
            raise ConfigError(f"Choose one or more different cells among {', '.join(CELLS)}.")
        if self.task == "forecast" and self.series not in SERIES_KINDS:
            raise ConfigError(f"Unknown series {self.series!r}.")
        if self.task == "memory" and self.memory_kind not in MEMORY_KINDS:
            raise ConfigError(f"Unknown long-memory task {self.memory_kind!r}.")
        if self.bidirectional and self.task != "forecast":
            raise ConfigError("Bidirectional cells only make sense for forecasting here: on the long-memory task "
                              "the backward direction reads the first symbol last (no memory needed), and a "
                              "language model must not see the future.")
        if self.clip_norm is not None and not (math.isfinite(self.clip_norm) and self.clip_norm > 0):
            raise ConfigError(f"The clipping max-norm must be a positive number (got {self.clip_norm}).")
        if not 1 <= self.steps <= 1_000_000:
            raise ConfigError(f"The number of steps must be between 1 and 1,000,000 (got {self.steps}).")
        if not 1 <= self.embed_dim <= 512:
            raise ConfigError(f"The character embedding needs 1 to 512 dimensions (got {self.embed_dim}).")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"The seed must be a whole number from 0 to 4,294,967,295 (got {self.seed}).")
        return self


@dataclass
class TaskData:
    """Tensors and facts of the task a config describes."""

    task: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    input_size: int
    output_size: int
    classification: bool
    baseline: float  # loss of the best context-free answer (naive forecast, chance, unigram entropy)
    baseline_label: str
    forecast: ForecastData | None = None
    memory: MemoryData | None = None
    corpus: CharCorpus | None = None


def build_task(config: SequenceConfig) -> TaskData:
    """Generate (or read) the data of ``config.task``."""
    if config.task == "forecast":
        data = forecast_windows(make_series(config.series, config.series_length, seed=config.seed), config.window,
                                config.horizon)
        t = torch.from_numpy
        return TaskData("forecast", t(data.x_train), t(data.y_train), t(data.x_val), t(data.y_val), 1,
                        config.horizon, False, data.naive_mse, "repeat the last value", forecast=data)
    if config.task == "memory":
        mem = memory_task(config.memory_kind, config.seq_len, seed=config.seed)
        return TaskData("memory", torch.from_numpy(mem.x_train), torch.from_numpy(mem.y_train),
                        torch.from_numpy(mem.x_val), torch.from_numpy(mem.y_val), mem.x_train.shape[-1], 1,
                        False, mem.chance_loss, "always answer the mean (≈ 1/6)", memory=mem)
    corpus = CharCorpus.from_text(config.text or zen_of_python())
    (x, y), (xv, yv) = corpus.windows(config.char_seq_len)
    return TaskData("chars", x, y, xv, yv, len(corpus.vocab), len(corpus.vocab), True, corpus.unigram_entropy(),
                    "unigram entropy", corpus=corpus)


def build_model(config: SequenceConfig, data: TaskData, cell: str) -> RecurrentNet:
    """A fresh model of ``cell`` for the task (uses the global torch RNG: seed before calling)."""
    chars = data.task == "chars"
    return RecurrentNet(cell, data.input_size, data.output_size, hidden_size=config.hidden_size,
                        num_layers=config.num_layers, dropout=config.dropout, bidirectional=config.bidirectional,
                        vocab_size=data.output_size if chars else None, embed_dim=config.embed_dim,
                        per_step=chars, init_scale=config.init_scale)


def loss_fn_for(data: TaskData):
    return F.cross_entropy if data.classification else F.mse_loss


@dataclass
class SequenceSnapshot:
    """What the page draws; numpy copies taken in the job thread."""

    step: int
    cells: list[str]
    config: SequenceConfig
    data: TaskData  # shared, never modified
    grad_now: dict[str, np.ndarray]  # cell -> (layers, T) ‖∂L/∂h_t‖
    grad_init: dict[str, np.ndarray]
    predictions: dict[str, np.ndarray] = field(default_factory=dict)  # cell -> val outputs
    samples: dict[str, list[tuple[int, float, str]]] = field(default_factory=dict)  # cell -> (step, temp, text)
    diverged: dict[str, str] = field(default_factory=dict)
    diverged_at: dict[str, int] = field(default_factory=dict)
    spectral_radius: dict[str, float] = field(default_factory=dict)


class RaceTrainer:
    """Steps one ``SupervisedTrainer`` per cell on the very same batches (their shufflers share a seed).

    History keys: ``loss`` (mean over cells still training), ``loss/<cell>``, ``grad_norm/<cell>`` (before
    clipping), ``accuracy/<cell>``; with a single cell also the plain ``grad_norm`` and ``accuracy``.
    A cell whose loss or gradient stops being finite is frozen and reported; the run fails only when
    every cell has diverged.
    """

    def __init__(self, config: SequenceConfig, data: TaskData | None = None) -> None:
        self.config = config.validated()
        self.data = data or build_task(self.config)
        self.members: dict[str, SupervisedTrainer] = {}
        for cell in self.config.cells:
            model = build_model(self.config, self.data, cell)
            opt = make_optimizer(self.config.optimizer, model.parameters(), self.config.lr)
            self.members[cell] = SupervisedTrainer(
                model, opt, loss_fn_for(self.data), (self.data.x_train, self.data.y_train),
                (self.data.x_val, self.data.y_val), batch_size=self.config.batch_size,
                classification=self.data.classification, clip_norm=self.config.clip_norm, seed=self.config.seed)
        first = next(iter(self.members.values()))
        self.steps_per_epoch = first.steps_per_epoch
        self.diverged: dict[str, str] = {}
        self.diverged_at: dict[str, int] = {}
        self.step = 0
        self.temperature = self.config.temperature
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self._probe = (self.data.x_val[:PROBE_SIZE], self.data.y_val[:PROBE_SIZE])
        self._grad_init: dict[str, np.ndarray] = {}
        self._samples: dict[str, list[tuple[int, float, str]]] = {c: [] for c in self.members}

    @property
    def active(self) -> dict[str, SupervisedTrainer]:
        return {c: m for c, m in self.members.items() if c not in self.diverged}

    @property
    def done(self) -> bool:
        return False

    def train_step(self) -> dict[str, float]:
        self.step += 1
        row: dict[str, float] = {}
        losses = []
        for cell, member in self.active.items():
            out = member.train_step()
            if not (math.isfinite(out["loss"]) and math.isfinite(out["grad_norm"])):
                what = "loss" if not math.isfinite(out["loss"]) else "gradient norm"
                self.diverged[cell] = (f"The {cell}'s {what} stopped being a finite number at step {self.step}"
                                       f"{'' if self.config.clip_norm else ' — turn on gradient clipping'}"
                                       " or lower the learning rate / recurrent weight scale.")
                self.diverged_at[cell] = self.step
                continue
            losses.append(out["loss"])
            row[f"loss/{cell}"] = out["loss"]
            row[f"grad_norm/{cell}"] = out["grad_norm"]
            if "accuracy" in out:
                row[f"accuracy/{cell}"] = out["accuracy"]
            row["lr"] = out["lr"]
        if not losses:
            raise TrainingDiverged(" ".join(self.diverged.values()))
        row["loss"] = float(np.mean(losses))
        if len(self.members) == 1 and not self.diverged:
            cell = self.config.cells[0]
            row["grad_norm"] = row[f"grad_norm/{cell}"]
            if f"accuracy/{cell}" in row:
                row["accuracy"] = row[f"accuracy/{cell}"]
        return row

    def evaluate(self) -> dict[str, float]:
        row: dict[str, float] = {}
        losses = []
        for cell, member in self.active.items():
            values = member.evaluate()
            for key, value in values.items():
                row[f"{key}/{cell}"] = value
            losses.append(values["val_loss"])
        if losses:
            row["val_loss"] = float(np.mean(losses))
        if len(self.members) == 1 and self.active:
            cell = self.config.cells[0]
            if f"val_accuracy/{cell}" in row:
                row["val_accuracy"] = row[f"val_accuracy/{cell}"]
        return row

    # ------------------------------------------------------------------ inspection (job thread)
    def model(self, cell: str) -> RecurrentNet:
        return self.members[cell].model

    def grad_norms(self, cell: str) -> np.ndarray:
        """‖∂L/∂h_t‖ per layer and step on the probe batch (validation examples)."""
        member = self.members[cell]
        x, y = (t.to(member.device) for t in self._probe)
        return hidden_grad_norms(member.model, x, y, classification=self.data.classification)

    def trace(self, cell: str, x: torch.Tensor) -> CellTrace:
        """Gates and states of ``cell``'s model on inputs ``x`` (B, T, …), detached, on the CPU."""
        model = self.model(cell)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                tr = trace_cells(model.rnn, model.features(x.to(self.members[cell].device)))
        finally:
            model.train(was_training)
        tr.states = [[{k: v.cpu() for k, v in d.items()} for d in layer] for layer in tr.states]
        tr.hidden = []
        return tr

    def sample(self, cell: str, prompt: str | None = None, temperature: float | None = None,
               length: int = SAMPLE_LENGTH) -> str:
        """Text generated by ``cell``'s character model after ``prompt`` (default: the text's first characters)."""
        corpus = self.data.corpus
        if corpus is None:
            raise ConfigError("Sampling needs the character task.")
        prompt = prompt if prompt else (self.config.prompt or corpus.text[:8])
        ids = corpus.encode(prompt).tolist()
        temp = self.temperature if temperature is None else temperature
        return prompt + corpus.decode(sample_text(self.model(cell), ids, length, temperature=temp,
                                                  generator=self.generator))

    def predictions(self, cell: str) -> np.ndarray:
        """Validation outputs: forecasts (N, horizon), sums (N, 1) or class probabilities (N, classes)."""
        out = self.members[cell].predict(self.data.x_val)
        return torch.softmax(out, dim=1).numpy() if self.data.classification else out.numpy()

    def snapshot(self) -> SequenceSnapshot:
        grads = {}
        for cell in self.active:
            grads[cell] = self.grad_norms(cell)
            self._grad_init.setdefault(cell, grads[cell])
        snap = SequenceSnapshot(self.step, list(self.members), self.config, self.data, grads, dict(self._grad_init),
                                diverged=dict(self.diverged), diverged_at=dict(self.diverged_at),
                                spectral_radius={c: m.model.recurrent_spectral_radius() for c, m in
                                                 self.members.items()})
        for cell in self.active:
            if self.data.task == "chars":
                log = self._samples[cell]
                log.append((self.step, self.temperature, self.sample(cell)))
                del log[:-SAMPLE_LOG]
            else:
                snap.predictions[cell] = self.predictions(cell)
        snap.samples = {c: list(v) for c, v in self._samples.items()}
        return snap


def build_trainer(config: SequenceConfig) -> RaceTrainer:
    """A ``RaceTrainer`` for ``config`` (call seeded: ``TrainingJob`` does)."""
    return RaceTrainer(config)


def make_job(config: SequenceConfig, *, snapshot_every: int = 25, eval_every: int = 25,
             step_delay_s: float = 0.0) -> TrainingJob:
    """A ``TrainingJob`` that trains ``config``'s cells; raises ``ConfigError``/``DataError`` up front."""
    config = config.validated()
    data = build_task(config)  # bad settings fail here, as a message, not in the thread
    cells = " vs ".join(config.cells)
    return TrainingJob(lambda: RaceTrainer(config, data), name=f"{TASK_LABELS[config.task]} · {cells}",
                       total_steps=config.steps, eval_every=eval_every, snapshot_every=snapshot_every,
                       seed=config.seed, step_delay_s=step_delay_s)


def init_grad_norms(config: SequenceConfig, cells: tuple[str, ...] = CELLS) -> dict[str, np.ndarray]:
    """‖∂L/∂h_t‖ at initialisation (untrained models, same seed) for each cell: layers × T arrays."""
    config = replace(config, cells=cells).validated()
    data = build_task(config)
    out = {}
    for cell in cells:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            model = build_model(config, data, cell)
        out[cell] = hidden_grad_norms(model, data.x_val[:PROBE_SIZE], data.y_val[:PROBE_SIZE],
                                      classification=data.classification)
    return out


@dataclass
class GateView:
    """Everything the gate heatmaps need for one input sequence (numpy, detached)."""

    cell: str
    states: list[list[dict[str, np.ndarray]]]  # [layer][direction][name] -> (T, H)
    x_labels: list[str] | None
    input_values: np.ndarray | None
    input_label: str
    markers: list[int]
    caption: str


MAX_PROBE_CHARS = 240


def gate_view(trainer: RaceTrainer, cell: str, *, example: int = 0, text: str = "") -> GateView:
    """Trace ``cell``'s model on validation sequence ``example`` (or, for the character task, on ``text``).

    Runs in the job thread through ``job.inspect``.
    """
    data = trainer.data
    if data.task == "chars":
        corpus = data.corpus
        ids = corpus.encode(text)[:MAX_PROBE_CHARS] if text else corpus.encode(corpus.text[:120])
        if len(ids) < 2:
            raise ConfigError("Type at least two characters that occur in the training text.")
        x = torch.from_numpy(ids)[None]
        tr = trainer.trace(cell, x)
        with torch.no_grad():
            model = trainer.model(cell)
            logits = model.readout(tr.output.to(trainer.members[cell].device))[0, :, -1].float().cpu()
        p = torch.softmax(logits, 0)
        top = int(p.argmax())
        chars = list(corpus.decode(ids))
        caption = (f"After this text the {cell} expects **{corpus.vocab[top]!r}** next (p = {float(p[top]):.2f}).")
        return GateView(cell, tr.numpy(0), chars, None, "", [], caption)
    example = int(np.clip(example, 0, len(data.x_val) - 1))
    x = data.x_val[example:example + 1]
    tr = trainer.trace(cell, x)
    pred = trainer.members[cell].predict(x)[0].numpy()
    if data.task == "memory":
        values, marks = x[0, :, 0].numpy(), x[0, :, 1].numpy()
        markers = [int(t) for t in np.flatnonzero(marks > 0.5)]
        caption = (f"Marked numbers at steps {markers[0]} and {markers[1]} (orange lines): "
                   f"{values[markers[0]]:.3f} + {values[markers[1]]:.3f} = **{float(data.y_val[example, 0]):.3f}**; "
                   f"the {cell} answers **{float(pred[0]):.3f}**.")
        return GateView(cell, tr.numpy(0), None, values, "input number", markers, caption)
    fd = data.forecast
    values = x[0, :, 0].numpy() * fd.std + fd.mean
    truth = data.y_val[example].numpy() * fd.std + fd.mean
    err = float(np.sqrt(np.mean((pred - data.y_val[example].numpy()) ** 2)))
    caption = (f"Window ending at step {int(fd.val_origins[example]) - 1}; next value {truth[0]:.3f}, the {cell} "
               f"forecasts {pred[0] * fd.std + fd.mean:.3f} (RMSE over the {fd.horizon}-step horizon: "
               f"{err:.3f} in z-score units).")
    return GateView(cell, tr.numpy(0), None, values, "input window", [], caption)
