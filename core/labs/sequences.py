"""The sequence lab: a task (forecasting, long memory, characters), one recurrent cell or a race of several
(vanilla RNN, LSTM, GRU) trained on exactly the same batches, and the view the page draws from.

Every setting is declared once in :class:`Config`; ``make_trainer(config)`` builds a :class:`RaceTrainer` (one
``SupervisedTrainer`` per cell), ``make_job(config)`` wraps it in a ``TrainingJob``. The page asks for gates,
samples and live changes with the module-level inspections at the bottom (``job.inspect(fn, *args)``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.config import LabConfig, setting
from core.data.sequences import (
    MAX_TEXT_CHARS,
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
from core.explain import InputSpec
from core.explain.source import Explainable, private_copy
from core.i18n import Message, Term
from core.inspect.gates import CellTrace, hidden_grad_norms, trace_cells
from core.jobs import TrainingJob, build_seeded
from core.models.recurrent import CELLS, RecurrentNet, sample_text
from core.training import OPTIMIZERS, SupervisedTrainer, make_optimizer

TASKS = ("forecast", "memory", "chars")
TEXT_SOURCES = ("zen", "own")  # the Zen of Python, or a text the visitor pastes (never part of the link)
LEARNING_RATES = (0.0003, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3, 1.0)
HIDDEN_SIZES = (4, 8, 16, 32, 64, 128, 256)
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
EMBED_SIZES = (4, 8, 16, 32, 64, 128)
CLIP_NORMS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)
SERIES_POINTS = 2000  # length of a generated forecasting series
PROBE_SIZE = 32  # validation examples the gradient-through-time curve is averaged over
SAMPLE_LENGTH = 240
SAMPLE_LOG = 6  # samples kept per cell
MAX_PROBE_CHARS = 240
EXPLAIN_NUMBERS = 2_000_000  # at most this many input numbers in the test set handed to the Explain page

# The settings that depend on the task: a link or a task switch without them starts from these.
TASK_DEFAULTS: dict[str, dict[str, int | float]] = {
    "forecast": {"hidden_size": 32, "lr": 0.005, "steps": 1500, "batch_size": 32},
    "memory": {"hidden_size": 32, "lr": 0.02, "steps": 1500, "batch_size": 64},
    "chars": {"hidden_size": 64, "lr": 0.005, "steps": 2000, "batch_size": 32},
}
PER_TASK = tuple(TASK_DEFAULTS["memory"])


@dataclass(frozen=True)
class Config(LabConfig):
    """Every setting of one sequence-lab run (the defaults are the long-memory task's)."""

    LAB: ClassVar[str] = "sequences"

    task: str = setting("memory", key="task", choices=TASKS)
    cells: tuple[str, ...] = setting(("LSTM",), key="cells", choices=CELLS, min_items=1,
                                     messages={"min_items": "sequences.errors.no_cell"})
    # forecasting
    series: str = setting("sum_of_sines", key="series", choices=SERIES_KINDS)
    window: int = setting(40, key="window", low=5, high=150)
    horizon: int = setting(10, key="horizon", low=1, high=30)
    # long memory
    memory_kind: str = setting("adding_problem", key="memory", choices=MEMORY_KINDS)
    seq_len: int = setting(50, key="length", low=5, high=200)
    # characters
    text_source: str = setting("zen", key="text", choices=TEXT_SOURCES)
    text: str = setting("", key="pasted", max_len=MAX_TEXT_CHARS, url=False)
    char_seq_len: int = setting(64, key="chars", low=16, high=128,
                                messages={"range": "sequences.errors.char_len"})
    embed_dim: int = setting(32, key="emb", low=EMBED_SIZES[0], high=EMBED_SIZES[-1], grid=EMBED_SIZES)
    prompt: str = setting("", key="prompt", max_len=80, rebuild=False)
    temperature: float = setting(0.8, key="temp", low=0.0, high=2.0, digits=2, rebuild=False)
    # model
    hidden_size: int = setting(32, key="hidden", low=HIDDEN_SIZES[0], high=HIDDEN_SIZES[-1], grid=HIDDEN_SIZES)
    num_layers: int = setting(1, key="layers", low=1, high=3)
    dropout: float = setting(0.0, key="dropout", low=0.0, high=0.5, digits=2)
    bidirectional: bool = setting(False, key="bidir")
    init_scale: float = setting(1.0, key="init", low=0.25, high=6.0, digits=2)
    # optimisation
    optimizer: str = setting("Adam", key="opt", choices=tuple(OPTIMIZERS))
    lr: float = setting(0.02, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES,
                        rebuild=False)
    clip_norm: float | None = setting(None, key="clip", low=CLIP_NORMS[0], high=CLIP_NORMS[-1], grid=CLIP_NORMS)
    batch_size: int = setting(64, key="batch", low=BATCH_SIZES[0], high=BATCH_SIZES[-1], grid=BATCH_SIZES)
    steps: int = setting(1500, key="steps", low=10, high=100_000)
    seed: int = setting(0, key="seed", low=0, high=999_999)
    slow_motion: float = setting(0.0, key="slow", low=0.0, high=0.2, digits=2, rebuild=False)  # s per step

    @classmethod
    def for_task(cls, task: str, **changes) -> Config:
        """The defaults of ``task`` (its hidden size, learning rate, steps and batch), then ``changes``."""
        return cls(task=task, **{**TASK_DEFAULTS.get(task, {}), **changes})

    def check(self) -> None:
        if self.bidirectional and self.task != "forecast":
            raise ConfigError("sequences.errors.bidirectional")

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """Settings a link leaves out follow its task; a backward direction only goes with forecasting."""
        keys = cls.url_keys()
        for name, value in TASK_DEFAULTS[values["task"]].items():
            if params.get(keys[name]) is None:
                values[name] = value
        if values["bidirectional"] and values["task"] != "forecast":
            warnings.append(Message("sequences.url.bidirectional"))
            values["bidirectional"] = False

    @property
    def race(self) -> bool:
        return len(self.cells) > 1

    @property
    def own_text(self) -> bool:
        """The visitor's pasted text is used (else the Zen of Python)."""
        return self.text_source == "own" and bool(self.text.strip())


# Preset key → experiment; names and descriptions live in the catalogue (sequences.presets.<key>).
_RACE_50 = Config.for_task("memory", cells=CELLS, seq_len=50, num_layers=1, hidden_size=32)
PRESETS: dict[str, Config] = {
    "vanishing": replace(_RACE_50, optimizer="Adam", lr=0.02, init_scale=1.0),
    "exploding": replace(_RACE_50, optimizer="SGD", lr=0.1, init_scale=3.0),
    "clipped": replace(_RACE_50, optimizer="SGD", lr=0.1, init_scale=3.0, clip_norm=1.0),
}


# ---------------------------------------------------------------------------------------------- data
@dataclass
class TaskData:
    """Tensors and facts of the task a config describes (stays in the trainer)."""

    task: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    input_size: int
    output_size: int
    classification: bool
    baseline: float  # loss of the best context-free answer (naive forecast, chance, unigram entropy)
    forecast: ForecastData | None = None
    memory: MemoryData | None = None
    corpus: CharCorpus | None = None


def build_task(config: Config) -> TaskData:
    """Generate (or read) the data of ``config.task``; raises ``ConfigError`` / ``DataError`` when it cannot."""
    if config.task == "forecast":
        data = forecast_windows(make_series(config.series, SERIES_POINTS, seed=config.seed), config.window,
                                config.horizon)
        t = torch.from_numpy
        return TaskData("forecast", t(data.x_train), t(data.y_train), t(data.x_val), t(data.y_val), 1,
                        config.horizon, False, data.naive_mse, forecast=data)
    if config.task == "memory":
        mem = memory_task(config.memory_kind, config.seq_len, seed=config.seed)
        return TaskData("memory", torch.from_numpy(mem.x_train), torch.from_numpy(mem.y_train),
                        torch.from_numpy(mem.x_val), torch.from_numpy(mem.y_val), mem.x_train.shape[-1], 1,
                        False, mem.chance_loss, memory=mem)
    corpus = CharCorpus.from_text(config.text if config.own_text else zen_of_python())
    (x, y), (xv, yv) = corpus.windows(config.char_seq_len)
    return TaskData("chars", x, y, xv, yv, len(corpus.vocab), len(corpus.vocab), True, corpus.unigram_entropy(),
                    corpus=corpus)


def build_model(config: Config, data: TaskData, cell: str) -> RecurrentNet:
    """A fresh model of ``cell`` for the task (uses the global torch RNG: seed before calling)."""
    chars = data.task == "chars"
    return RecurrentNet(cell, data.input_size, data.output_size, hidden_size=config.hidden_size,
                        num_layers=config.num_layers, dropout=config.dropout, bidirectional=config.bidirectional,
                        vocab_size=data.output_size if chars else None, embed_dim=config.embed_dim,
                        per_step=chars, init_scale=config.init_scale)


# ---------------------------------------------------------------------------------------------- the view
@dataclass(frozen=True)
class TaskFacts:
    """What the page draws about the task itself (computed once per run)."""

    task: str
    baseline: float
    n_val: int
    series: np.ndarray | None = None  # forecasting: the whole z-scored series
    split: int = 0  # … where validation starts
    origins: np.ndarray | None = None  # … the first target step of every validation window
    horizon: int = 0
    mean: float = 0.0
    std: float = 1.0
    y_true: np.ndarray | None = None  # long memory: the validation targets (N, 1)
    vocab_size: int = 0  # characters
    text_length: int = 0
    truncated: bool = False
    text_start: str = ""

    @property
    def baseline_label(self) -> Term:
        return Term(f"sequences.baselines.{self.task}")


def task_facts(data: TaskData) -> TaskFacts:
    if data.forecast is not None:
        fd = data.forecast
        return TaskFacts(data.task, data.baseline, len(data.x_val), series=fd.series, split=fd.split,
                         origins=fd.val_origins, horizon=fd.horizon, mean=fd.mean, std=fd.std)
    if data.memory is not None:
        return TaskFacts(data.task, data.baseline, len(data.x_val), y_true=data.y_val.numpy())
    corpus = data.corpus
    return TaskFacts(data.task, data.baseline, len(data.x_val), vocab_size=len(corpus.vocab),
                     text_length=len(corpus.text), truncated=corpus.truncated, text_start=corpus.text[:120])


@dataclass(frozen=True)
class Sample:
    """Text a character model wrote after its prompt."""

    step: int
    temperature: float
    text: str


@dataclass
class View:
    """What the page draws besides the curves; numpy copies taken in the job thread, keyed by cell."""

    step: int
    cells: tuple[str, ...]
    task: TaskFacts
    grad_now: dict[str, np.ndarray]  # cell -> (layers, T) ‖∂L/∂h_t‖ now (cells still training)
    grad_init: dict[str, np.ndarray]  # … at the first snapshot
    predictions: dict[str, np.ndarray] = field(default_factory=dict)  # cell -> validation outputs
    samples: dict[str, tuple[Sample, ...]] = field(default_factory=dict)  # cell -> recent samples, oldest first
    diverged: dict[str, Message] = field(default_factory=dict)  # cell -> why it was frozen
    diverged_at: dict[str, int] = field(default_factory=dict)
    spectral_radius: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- training
class RaceTrainer:
    """Steps one ``SupervisedTrainer`` per cell on the very same batches (their shufflers share a seed).

    History keys: ``loss`` (mean over cells still training), ``loss/<cell>``, ``grad_norm/<cell>`` (before
    clipping), ``accuracy/<cell>``; with a single cell also the plain ``grad_norm`` and ``accuracy``.
    A cell whose loss or gradient stops being finite is frozen and reported; the run fails only when
    every cell has diverged.
    """

    def __init__(self, config: Config, data: TaskData | None = None) -> None:
        self.config = config.validate()
        self.data = data or build_task(config)
        self.facts = task_facts(self.data)
        loss_fn = F.cross_entropy if self.data.classification else F.mse_loss
        self.members: dict[str, SupervisedTrainer] = {}
        for cell in config.cells:
            model = build_model(config, self.data, cell)
            opt = make_optimizer(config.optimizer, model.parameters(), config.lr)
            self.members[cell] = SupervisedTrainer(
                model, opt, loss_fn, (self.data.x_train, self.data.y_train), (self.data.x_val, self.data.y_val),
                batch_size=config.batch_size, classification=self.data.classification, clip_norm=config.clip_norm,
                seed=config.seed)
        self.steps_per_epoch = next(iter(self.members.values())).steps_per_epoch
        self.diverged: dict[str, Message] = {}
        self.diverged_at: dict[str, int] = {}
        self.step = 0
        self.temperature = config.temperature
        self.prompt = config.prompt
        self.generator = torch.Generator().manual_seed(config.seed)
        self._probe = (self.data.x_val[:PROBE_SIZE], self.data.y_val[:PROBE_SIZE])
        self._grad_init: dict[str, np.ndarray] = {}
        self._samples: dict[str, list[Sample]] = {c: [] for c in self.members}

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
                what = "common.jobs.what_loss" if not math.isfinite(out["loss"]) else "common.jobs.what_grad"
                key = "sequences.errors.cell_diverged" + ("" if self.config.clip_norm else "_clip")
                self.diverged[cell] = Message(key, cell=cell, what=Term(what), step=self.step)
                self.diverged_at[cell] = self.step
                continue
            losses.append(out["loss"])
            row[f"loss/{cell}"] = out["loss"]
            row[f"grad_norm/{cell}"] = out["grad_norm"]
            if "accuracy" in out:
                row[f"accuracy/{cell}"] = out["accuracy"]
            row["lr"] = out["lr"]
        if not losses:
            raise TrainingDiverged("sequences.errors.all_diverged", step=self.step)
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
            raise ConfigError("sequences.errors.sample_task")
        prompt = prompt if prompt else (self.prompt or corpus.text[:8])
        ids = corpus.encode(prompt).tolist()
        temp = self.temperature if temperature is None else temperature
        return prompt + corpus.decode(sample_text(self.model(cell), ids, length, temperature=temp,
                                                  generator=self.generator))

    def predictions(self, cell: str) -> np.ndarray:
        """Validation outputs: forecasts (N, horizon), sums (N, 1) or class probabilities (N, classes)."""
        out = self.members[cell].predict(self.data.x_val)
        return torch.softmax(out, dim=1).numpy() if self.data.classification else out.numpy()

    def snapshot(self) -> View:
        grads = {}
        for cell in self.active:
            grads[cell] = self.grad_norms(cell)
            self._grad_init.setdefault(cell, grads[cell])
        view = View(self.step, tuple(self.members), self.facts, grads, dict(self._grad_init),
                    diverged=dict(self.diverged), diverged_at=dict(self.diverged_at),
                    spectral_radius={c: m.model.recurrent_spectral_radius() for c, m in self.members.items()})
        for cell in self.active:
            if self.data.task == "chars":
                log = self._samples[cell]
                log.append(Sample(self.step, self.temperature, self.sample(cell)))
                del log[:-SAMPLE_LOG]
            else:
                view.predictions[cell] = self.predictions(cell)
        view.samples = {c: tuple(v) for c, v in self._samples.items()}
        return view


def make_trainer(config: Config) -> RaceTrainer:
    """A ``RaceTrainer`` for ``config`` (call it seeded, e.g. through ``build_seeded``: ``TrainingJob`` does)."""
    return RaceTrainer(config)


def make_job(config: Config, *, snapshot_every: int | None = None, eval_every: int | None = None,
             step_delay_s: float | None = None) -> TrainingJob:
    """A ``TrainingJob`` that trains ``config``'s cells for ``config.steps`` steps; a bad setting or text raises
    ``ConfigError`` / ``DataError`` here, before anything is submitted."""
    config.validate()
    build_task(config)  # bad data fails here, as a message, not in the job thread
    every = 50 if config.task == "chars" else 25
    return TrainingJob(functools.partial(make_trainer, config),
                       name=Message("sequences.job", task=Term(f"sequences.choices.task.{config.task}"),
                                    cells=" / ".join(config.cells)),
                       total_steps=config.steps, eval_every=eval_every or every, snapshot_every=snapshot_every or every,
                       seed=config.seed, step_delay_s=config.slow_motion if step_delay_s is None else step_delay_s,
                       # a race reports its diverged cells itself; a lone cell whose loss keeps growing fails
                       diverge_factor=None if config.race else 3.0)


def init_grad_norms(config: Config, cells: tuple[str, ...] = CELLS) -> dict[str, np.ndarray]:
    """‖∂L/∂h_t‖ at initialisation (untrained models, same seed) for each cell: layers × T arrays."""
    config = replace(config, cells=cells).validate()
    data = build_task(config)
    out = {}
    for cell in cells:
        model = build_seeded(functools.partial(build_model, config, data, cell), config.seed)
        out[cell] = hidden_grad_norms(model, data.x_val[:PROBE_SIZE], data.y_val[:PROBE_SIZE],
                                      classification=data.classification)
    return out


# ---------------------------------------------------------------------------------------------- inspections
@dataclass
class GateView:
    """Everything the gate heatmaps need for one input sequence (numpy, detached)."""

    cell: str
    states: list[list[dict[str, np.ndarray]]]  # [layer][direction][gate name] -> (T, H)
    x_labels: list[str] | None  # the characters read (character task)
    input_values: np.ndarray | None  # the numbers read (forecasting, long memory)
    input_label: Term
    markers: list[int]  # steps to mark (the adding problem's two marked numbers)
    caption: Message


def gate_view(trainer: RaceTrainer, cell: str, example: int = 0, text: str = "") -> GateView:
    """``cell``'s gates on validation sequence ``example`` (or, for the character task, on ``text``)."""
    data = trainer.data
    if data.task == "chars":
        corpus = data.corpus
        ids = corpus.encode(text)[:MAX_PROBE_CHARS] if text else corpus.encode(corpus.text[:120])
        if len(ids) < 2:
            raise ConfigError("sequences.errors.probe_short")
        tr = trainer.trace(cell, torch.from_numpy(ids)[None])
        with torch.no_grad():
            logits = trainer.model(cell).readout(tr.output.to(trainer.members[cell].device))[0, :, -1].float().cpu()
        p = torch.softmax(logits, 0)
        top = int(p.argmax())
        caption = Message("sequences.gates.caption_chars", cell=cell, char=repr(corpus.vocab[top]), p=float(p[top]))
        return GateView(cell, tr.numpy(0), list(corpus.decode(ids)), None, Term(""), [], caption)
    example = int(np.clip(example, 0, len(data.x_val) - 1))
    x = data.x_val[example:example + 1]
    tr = trainer.trace(cell, x)
    pred = trainer.members[cell].predict(x)[0].numpy()
    if data.task == "memory":
        values, marks = x[0, :, 0].numpy(), x[0, :, 1].numpy()
        markers = [int(t) for t in np.flatnonzero(marks > 0.5)]
        caption = Message("sequences.gates.caption_memory", first=markers[0], second=markers[1],
                          a=float(values[markers[0]]), b=float(values[markers[1]]),
                          total=float(data.y_val[example, 0]), cell=cell, answer=float(pred[0]))
        return GateView(cell, tr.numpy(0), None, values, Term("sequences.gates.input_number"), markers, caption)
    fd = data.forecast
    values = x[0, :, 0].numpy() * fd.std + fd.mean
    truth = data.y_val[example].numpy() * fd.std + fd.mean
    err = float(np.sqrt(np.mean((pred - data.y_val[example].numpy()) ** 2)))
    caption = Message("sequences.gates.caption_forecast", end=int(fd.val_origins[example]) - 1, truth=float(truth[0]),
                      cell=cell, forecast=float(pred[0] * fd.std + fd.mean), horizon=fd.horizon, rmse=err)
    return GateView(cell, tr.numpy(0), None, values, Term("sequences.gates.input_window"), [], caption)


def sample(trainer: RaceTrainer, cell: str, prompt: str = "", temperature: float | None = None) -> str:
    """Text written now by ``cell``'s character model (``prompt`` and ``temperature`` default to the run's)."""
    return trainer.sample(cell, prompt or None, temperature)


def set_live(trainer: RaceTrainer, lr: float, temperature: float, prompt: str) -> None:
    """Apply the settings that need no rebuild between two steps: learning rate, sampling temperature, prompt."""
    for member in trainer.members.values():
        for group in member.optimizer.param_groups:
            group["lr"] = lr
    trainer.temperature, trainer.prompt = temperature, prompt


def best_cell(trainer: RaceTrainer) -> str:
    """The cell still training with the lowest validation loss (the first cell when every one diverged)."""
    losses = {c: m.evaluate()["val_loss"] for c, m in trainer.active.items()}
    return min(losses, key=losses.get) if losses else trainer.config.cells[0]


class GridInput(nn.Module):
    """A recurrent model fed the Explain page's grids: (B, features, T) numbers, or (B, vocabulary, T) one-hot
    characters (read through the embedding, so attributions reach every character)."""

    def __init__(self, model: RecurrentNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        m, x = self.model, grid.transpose(1, 2)
        if m.embedding is None:
            return m(x)
        output, _ = m.rnn(x @ m.embedding.weight)
        return m.head(m.drop(output[:, -1]))  # the next character after the window


def explainable(trainer: RaceTrainer, cell: str | None = None) -> Explainable:
    """One cell's model (default: the best one still training) as a grid model for the Explain page: inputs are
    features × time steps (characters: one-hot vocabulary × positions); outputs the marked sum, the forecast
    steps, or the next character."""
    cell = cell or best_cell(trainer)
    data, config = trainer.data, trainer.config
    per_example = max(1, int(np.prod(data.x_val.shape[1:])) * (data.output_size if data.task == "chars" else 1))
    n = max(1, min(64, EXPLAIN_NUMBERS // per_example))
    if data.task == "chars":
        corpus = data.corpus
        grid = F.one_hot(data.x_val[:n], len(corpus.vocab)).transpose(1, 2).float()
        y = data.y_val[:n, -1].clone()
        rows, classes = [repr(ch)[1:-1] for ch in corpus.vocab], [repr(ch)[1:-1] for ch in corpus.vocab]
        low, high, problem = 0.0, 1.0, "classification"
    else:
        grid = data.x_val[:n].transpose(1, 2).contiguous()
        y = data.y_val[:n].clone()
        if data.task == "memory":
            rows = [Message("sequences.explain.value"), Message("sequences.explain.marker")]
            classes = [Message("sequences.explain.sum")]
            low, high = (0.0, 0.0), (1.0, 1.0)
        else:
            rows = [Message("sequences.explain.series")]
            classes = [Message("sequences.explain.ahead", n=k + 1) for k in range(data.output_size)]
            train = data.x_train
            low, high = (float(train.min()),), (float(train.max()),)
        problem = "regression"
    spec = InputSpec(shape=tuple(grid.shape[1:]), class_names=classes, low=low, high=high, black=0.0,
                     mean=grid.mean(0).numpy(), feature_names=rows)
    model = GridInput(private_copy(trainer.model(cell))).eval()
    metrics = {k: v for k, v in trainer.evaluate().items() if k.endswith(f"/{cell}")}
    card = {**config.card(), "model": {"kind": "recurrent", "cell": cell, "hidden_size": config.hidden_size,
                                       "num_layers": config.num_layers, "bidirectional": config.bidirectional,
                                       "parameters": sum(p.numel() for p in model.parameters())},
            "metrics": metrics, "step": trainer.step}
    card["settings"].pop("text", None)  # a pasted text is the visitor's, not part of the card
    return Explainable("sequences", "grid", model, spec, grid, y, Message(
        "sequences.describe", cell=cell, task=Term(f"sequences.choices.task.{config.task}"), step=trainer.step),
        card=card, extra={"problem": problem, "what": "sequence", "rows": "feature" if data.task != "chars" else
                          "character"})
