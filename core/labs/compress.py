"""The compression lab: shrink, transfer and ship the models visitors trained in the other labs.

The model comes from the visitor's shelf as a ``core.explain.source.Explainable`` (``source``); three kinds of
job train something live, chosen by ``Config.task``:

- ``finetune``: prune ``source``'s model (magnitude, channel or global) to a sparsity, then fine-tune it with the
  mask held (pruned weights stay zero);
- ``distill``: a small student trained twice on the same batches, with and without the teacher's soft targets;
- ``fewshot``: pre-train a backbone on some classes (or take ``source``'s), then learn new classes from k
  examples each: frozen backbone, fine-tuned, from scratch and a rotation-pretext backbone, for every k.

What needs no training runs directly on an ``Explainable`` (module-level functions below): the sparsity sweep,
the quantization table and the export checks; ``core.compress.export`` writes and reads the files.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import torch
from torch.nn import functional as F

from core.compress.distill import STUDENTS, DistillationRace, make_student
from core.compress.export import ExportCheck, check_exports, example_input, model_card
from core.compress.measure import (
    calibration_inputs,
    is_classification,
    metric_name,
    outputs,
    parameter_count,
    saved_bytes,
    score,
    train_split,
)
from core.compress.prune import METHODS as PRUNE_METHODS
from core.compress.prune import SweepResult, finalize, layer_sparsity, prune_model, sparse_state, sparsity_sweep
from core.compress.quantize import QuantTable, can_static, quantization_table
from core.compress.transfer import (
    METHODS as FEWSHOT_METHODS,
)
from core.compress.transfer import (
    FewShotData,
    FewShotPlan,
    FewShotSweep,
    FewShotView,
    split_classes,
    with_new_classes,
)
from core.config import LabConfig, setting
from core.data.images import ImageDataset, load_digits_dataset, load_shapes_dataset
from core.errors import ConfigError, DataError
from core.explain import InputSpec
from core.explain.source import Explainable
from core.i18n import Message, Term
from core.jobs import TrainingJob
from core.training import SupervisedTrainer, make_optimizer

TASKS = ("finetune", "distill", "fewshot")
BACKBONES = ("pretrain", "shelf")
FEWSHOT_SETS = ("digits", "shapes")
NEW_CLASSES = {"digits": (5, 6, 7, 8, 9), "shapes": (2, 3)}  # learned few-shot; the other classes pre-train
OPTIMIZER_NAMES = ("Adam", "AdamW", "Momentum", "SGD")
LEARNING_RATES = (0.00001, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
SPEEDS = {"fastest": 0.0, "fast": 0.001, "medium": 0.01, "slow": 0.05}  # seconds slept per step
EVALS_PER_RUN = 40


@dataclass(frozen=True)
class Config(LabConfig):
    """Every setting of a compression job (the shelf model itself is passed beside it)."""

    LAB: ClassVar[str] = "compress"

    task: str = setting("finetune", key="task", choices=TASKS)
    # pruning, then fine-tuning with the mask held
    prune_method: str = setting("magnitude", key="prune", choices=PRUNE_METHODS)
    sparsity: float = setting(0.5, key="sparsity", low=0.0, high=0.95, digits=2)
    # distillation
    student: str = setting("mlp", key="student", choices=STUDENTS)
    width: int = setting(32, key="width", low=2, high=256)
    temperature: float = setting(4.0, key="temp", low=1.0, high=20.0, digits=1)
    alpha: float = setting(0.7, key="alpha", low=0.0, high=1.0, digits=2)
    # few-shot transfer (its learning rates are core.compress.transfer.FewShotPlan's)
    fewshot_data: str = setting("digits", key="fsdata", choices=FEWSHOT_SETS)
    backbone: str = setting("pretrain", key="backbone", choices=BACKBONES)
    shots: tuple[int, ...] = setting((1, 2, 5, 10, 20), key="k", low=1, high=20, min_items=1, max_items=8,
                                     unit="compress.units.examples")
    repeats: int = setting(3, key="repeats", low=1, high=10)
    pretrain_steps: int = setting(300, key="pre", low=10, high=5000)
    run_steps: int = setting(60, key="runsteps", low=5, high=1000)
    rotation: bool = setting(True, key="rotation")
    # training (fine-tuning and distillation)
    steps: int = setting(400, key="steps", low=1, high=20_000)
    optimizer: str = setting("Adam", key="opt", choices=OPTIMIZER_NAMES)
    lr: float = setting(0.001, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES)
    batch_size: int = setting(64, key="batch", low=1, high=1024)
    seed: int = setting(0, key="seed", low=0, high=999_999)

    def check(self) -> None:
        if list(self.shots) != sorted(set(self.shots)):
            raise ConfigError("compress.errors.shots_order", value=list(self.shots))

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """Shots from a URL are sorted and each kept once."""
        shots = tuple(sorted(set(values["shots"])))
        if shots != tuple(values["shots"]):
            warnings.append(Message("compress.url.shots", used=",".join(map(str, shots))))
            values["shots"] = shots

    @property
    def needs_source(self) -> bool:
        """Whether this job needs a model from the shelf."""
        return self.task != "fewshot" or self.backbone == "shelf"

    def plan(self) -> FewShotPlan:
        methods = FEWSHOT_METHODS if self.rotation else tuple(m for m in FEWSHOT_METHODS if m != "rotation")
        return FewShotPlan(shots=self.shots, methods=methods, repeats=self.repeats,
                           pretrain_steps=self.pretrain_steps, run_steps=self.run_steps,
                           batch_size=min(self.batch_size, 256), seed=self.seed)


# ---------------------------------------------------------------------------------------------- views
@dataclass
class PruneView:
    """The pruned model now: sparsity per layer, its score before pruning, right after, and now."""

    step: int
    method: str
    target: float  # the sparsity asked for
    sparsity: float  # zeros over all prunable weights, measured
    layer_names: tuple[str, ...]
    layer_sparsity: np.ndarray  # (L,) fraction of zeros
    layer_sizes: np.ndarray  # (L,) weights
    metric: str  # "accuracy" or "mse"
    dense_score: float  # the model from the shelf
    pruned_score: float  # right after pruning, before any fine-tuning
    score: float  # now
    dense_bytes: int
    sparse_bytes: int  # non-zero values + bit mask, torch.save-d (core.compress.prune.sparse_state)


@dataclass
class DistillView:
    """Both students against the teacher, and one test example's probabilities at temperature T."""

    step: int
    temperature: float
    alpha: float
    teacher_accuracy: float
    accuracy_kd: float
    accuracy_plain: float
    teacher_bytes: int
    student_bytes: int
    teacher_params: int
    student_params: int
    class_names: tuple[str, ...]
    example_label: int
    teacher_probs: np.ndarray  # (C,) softmax(teacher)
    teacher_soft: np.ndarray  # (C,) softmax(teacher / T): what the distilled student learns from
    kd_probs: np.ndarray  # (C,)
    plain_probs: np.ndarray  # (C,)


View = PruneView | DistillView | FewShotView


# ---------------------------------------------------------------------------------------------- trainers
def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out.reshape(y.shape), y)


class PruneTrainer(SupervisedTrainer):
    """Fine-tunes a pruned copy of the shelf model on its own training set; the masks keep pruned weights at 0."""

    def __init__(self, config: Config, source: Explainable) -> None:
        self.config, self.source = config, source
        x, y = train_split(source)
        self.x_test, self.y_test = source.x_test, source.y_test
        model = prune_model(source.model, config.sparsity, config.prune_method)
        self.dense_score = score(source.model, self.x_test, self.y_test)
        self.pruned_score = score(model, self.x_test, self.y_test)
        self.dense_bytes = saved_bytes(source.model)
        classification = is_classification(y)
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
        super().__init__(model, optimizer, F.cross_entropy if classification else _mse, (x, y),
                         (self.x_test, self.y_test), batch_size=config.batch_size, classification=classification,
                         seed=config.seed)
        self.steps = 0

    def train_step(self) -> dict[str, float]:
        self.steps += 1
        return super().train_step()

    def snapshot(self) -> PruneView:
        model = finalize(self.model).cpu()
        layers = layer_sparsity(model)
        return PruneView(self.steps, self.config.prune_method, self.config.sparsity, layers.overall, layers.names,
                         layers.fractions, layers.sizes, metric_name(self.y_test), self.dense_score,
                         self.pruned_score, score(model, self.x_test, self.y_test), self.dense_bytes,
                         saved_bytes(sparse_state(model)))


class DistillTrainer(DistillationRace):
    """The race of ``core.compress.distill`` plus what the page shows about teacher and students."""

    def __init__(self, config: Config, source: Explainable) -> None:
        self.config, self.source = config, source
        x, y = train_split(source)
        if not is_classification(y):
            raise DataError("compress.errors.needs_classes")
        n_classes = int(outputs(source.model, x[:1]).shape[1])
        student = make_student(config.student, tuple(source.spec.shape), n_classes, config.width, x)
        super().__init__(source.model, student, (x, y), (source.x_test, source.y_test),
                         temperature=config.temperature, alpha=config.alpha, optimizer=config.optimizer,
                         lr=config.lr, batch_size=config.batch_size, seed=config.seed)
        self.teacher_accuracy = score(source.model, source.x_test, source.y_test)
        self.teacher_bytes = saved_bytes(source.model)
        self.teacher_params = parameter_count(source.model)

    def snapshot(self) -> DistillView:
        x, y = self.test
        t = self.config.temperature
        teacher = outputs(self.source.model, x[:1].cpu())[0]
        kd, plain = (outputs(self.students[k], x[:1])[0].cpu() for k in self.NAMES)
        student = self.students["kd"]
        return DistillView(self.steps, t, self.config.alpha, self.teacher_accuracy,
                           score(student, x, y), score(self.students["plain"], x, y), self.teacher_bytes,
                           saved_bytes(student), self.teacher_params, parameter_count(student),
                           tuple(self.source.class_names), int(y[0]), _softmax(teacher), _softmax(teacher / t),
                           _softmax(kd), _softmax(plain))


def _softmax(z: torch.Tensor) -> np.ndarray:
    z = z if z.ndim == 1 else z[:, 0]  # per-step outputs: the first step
    return torch.softmax(z.float(), dim=0).numpy()


class FewShotTrainer(FewShotSweep):
    """The few-shot sweep with its config (for the model card of what it ships)."""

    def __init__(self, config: Config, source: Explainable | None, new_classes: ImageDataset | None) -> None:
        self.config = config
        data = fewshot_data(config, new_classes)
        backbone = None
        if config.backbone == "shelf":
            backbone = _check_backbone(_require(source), data.input_shape).model
        super().__init__(data, config.plan(), backbone=backbone)


FEWSHOT_SHAPES = {"digits": (1, 16, 16), "shapes": (3, 32, 32)}  # the pictures of each built-in few-shot set


def fewshot_shape(config: Config, new_classes: ImageDataset | None = None) -> tuple[int, ...]:
    """The input shape of a few-shot run (the visitor's pictures decide it when there are some)."""
    if new_classes is not None:
        return (new_classes.channels, new_classes.size, new_classes.size)
    return FEWSHOT_SHAPES[config.fewshot_data]


def _check_backbone(source: Explainable, shape: tuple[int, ...]) -> Explainable:
    if source.kind != "image" or tuple(source.spec.shape) != tuple(shape):
        raise DataError("compress.errors.backbone_shape", shape=list(source.spec.shape), needed=list(shape))
    return source


def fewshot_data(config: Config, new_classes: ImageDataset | None = None) -> FewShotData:
    """Base and new classes of the built-in set; with ``new_classes`` (the visitor's pictures) all the built-in
    classes pre-train and the visitor's are learned few-shot."""
    base = load_digits_dataset(16, seed=config.seed) if config.fewshot_data == "digits" else \
        load_shapes_dataset(32, seed=config.seed, per_class=200)
    if new_classes is not None:
        return with_new_classes(base, new_classes)
    return split_classes(base, NEW_CLASSES[config.fewshot_data])


def _require(source: Explainable | None) -> Explainable:
    if source is None:
        raise DataError("compress.errors.needs_model")
    return source


def make_trainer(config: Config, source: Explainable | None = None, new_classes: ImageDataset | None = None
                 ) -> PruneTrainer | DistillTrainer | FewShotTrainer:
    """The trainer of ``config.task`` (call it seeded, e.g. through ``core.jobs.build_seeded``)."""
    if config.task == "finetune":
        return PruneTrainer(config, _require(source))
    if config.task == "distill":
        return DistillTrainer(config, _require(source))
    return FewShotTrainer(config, source, new_classes)


def total_steps(config: Config, pretrained: bool = False) -> int:
    if config.task != "fewshot":
        return config.steps
    plan = config.plan()
    return (0 if pretrained else plan.pretrain_steps) + (plan.pretrain_steps if config.rotation else 0) \
        + plan.runs * plan.run_steps


def make_job(config: Config, source: Explainable | None = None, new_classes: ImageDataset | None = None, *,
             speed: str = "fastest", pause_unwatched_s: float | None = None) -> TrainingJob:
    """A job (not started) for ``config``; settings, the shelf model and its data are checked here, in the page.
    ``new_classes``: the visitor's own pictures as the few-shot classes."""
    config.validate()
    if speed not in SPEEDS:
        raise ConfigError("compress.errors.speed", value=speed, choices=", ".join(SPEEDS))
    if config.needs_source:
        source = _require(source)
    if config.task == "fewshot" and config.backbone == "shelf":
        _check_backbone(source, fewshot_shape(config, new_classes))
    if config.task in ("finetune", "distill"):
        x, y = train_split(source)
        if config.task == "distill" and not is_classification(y):
            raise DataError("compress.errors.needs_classes")
        steps_per_epoch = math.ceil(len(x) / min(config.batch_size, len(x)))
        every = max(1, min(steps_per_epoch, config.steps // EVALS_PER_RUN))
    else:
        every = config.run_steps
    factory = functools.partial(make_trainer, config, source if config.needs_source else None, new_classes)
    return TrainingJob(factory, name=Message(f"compress.jobs.{config.task}"),
                       total_steps=total_steps(config, config.task == "fewshot" and config.backbone == "shelf"),
                       eval_every=every, snapshot_every=every, seed=config.seed, step_delay_s=SPEEDS[speed],
                       pause_unwatched_s=pause_unwatched_s, lab="compress")


# ---------------------------------------------------------------------------------------------- inspections
def current_view(trainer: PruneTrainer | DistillTrainer | FewShotTrainer) -> View:
    """The view right now (not the last one the job stored)."""
    return trainer.snapshot()


def explainable(trainer: PruneTrainer | DistillTrainer | FewShotTrainer, which: str = "") -> Explainable:
    """What the job made, for the shelf: the fine-tuned pruned model, a student (``which`` = ``"kd"`` or
    ``"plain"``) or a few-shot model (``which`` = a method; default the fine-tuned one)."""
    config = trainer.config
    if isinstance(trainer, PruneTrainer):
        src = trainer.source
        model = finalize(trainer.model).cpu().eval()
        info = {"pruned": config.prune_method, "sparsity": layer_sparsity(model).overall}
        description = Message("compress.describe.pruned", method=Term(f"compress.prune_methods.{config.prune_method}"),
                              sparsity=info["sparsity"], source=src.description)
        return _derived(src, model, src.x_test, src.y_test, src.class_names, description, info, config)
    if isinstance(trainer, DistillTrainer):
        which = which or "kd"
        if which not in DistillTrainer.NAMES:
            raise ConfigError("compress.errors.which", value=which, choices=", ".join(DistillTrainer.NAMES))
        src = trainer.source
        model = _cpu_copy(trainer.students[which])
        description = Message("compress.describe.student", which=Term(f"compress.students.{which}"),
                              source=src.description)
        return _derived(src, model, src.x_test, src.y_test, src.class_names, description,
                        {"distilled": which == "kd", "temperature": config.temperature, "alpha": config.alpha},
                        config, kind=src.kind)
    data = trainer.data
    if not which and "finetune" not in trainer.last:  # nothing learned few-shot yet: the backbone on the base classes
        backbone = _cpu_copy(trainer.supervised)
        spec = replace(_image_spec(data), class_names=list(data.base_classes))
        base = Explainable("compress", "image", backbone, spec, data.base_test_x, data.base_test_y,
                           Message("compress.describe.fewshot"))
        return _derived(base, backbone, data.base_test_x, data.base_test_y, list(data.base_classes),
                        Message("compress.describe.backbone", classes=", ".join(data.base_classes)),
                        {"fewshot": "backbone"}, config)
    which = which or "finetune"
    if which not in trainer.last:
        raise DataError("compress.errors.not_ready", method=Term(f"compress.fewshot_methods.{which}"))
    model = _cpu_copy(trainer.last[which])
    spec_source = Explainable("compress", "image", model, _image_spec(data), data.eval_x, data.eval_y,
                              Message("compress.describe.fewshot"))
    description = Message("compress.describe.fewshot_model", method=Term(f"compress.fewshot_methods.{which}"),
                          classes=", ".join(data.new_classes))
    return _derived(spec_source, model, data.eval_x, data.eval_y, list(data.new_classes), description,
                    {"fewshot": which, "shots": max(config.shots)}, config)


def _cpu_copy(model: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(model).cpu().eval()


def _image_spec(data: FewShotData) -> InputSpec:
    x = data.pool_x
    return InputSpec(tuple(x.shape[1:]), list(data.new_classes), low=float(x.min()), high=float(x.max()),
                     mean=x.mean(0).numpy())


def _derived(src: Explainable, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, classes: list[str],
             description: Message, info: dict, config: Config, kind: str | None = None) -> Explainable:
    spec = replace(src.spec, class_names=list(classes))
    metrics = {metric_name(y): score(model, x, y), "parameters": parameter_count(model), "bytes": saved_bytes(model)}
    card = {**src.card, "compress": {**info, **config.card()}, "metrics": metrics}
    card.pop("model", None)  # the architecture changed: the exporter describes the new one
    return Explainable("compress", kind or src.kind, model, spec, x, y, description, dataset=src.dataset,
                       x_train=src.x_train, binary=src.binary, card=card, extra=dict(src.extra))


# ---------------------------------------------------------------------------------------------- shelf actions
def sweep(source: Explainable, methods: tuple[str, ...] = PRUNE_METHODS,
          amounts: tuple[float, ...] | None = None) -> SweepResult:
    """Accuracy (or mse) against sparsity for each pruning method, no fine-tuning, on ``source``'s test set."""
    kwargs = {"amounts": amounts} if amounts is not None else {}
    return sparsity_sweep(source.model, source.x_test, source.y_test, methods=methods, **kwargs)


def pruned_view(source: Explainable, method: str, sparsity: float) -> PruneView:
    """What pruning alone does to ``source`` (no fine-tuning): the view a fine-tuning job starts from."""
    model = finalize(prune_model(source.model, sparsity, method))
    layers = layer_sparsity(model)
    pruned = score(model, source.x_test, source.y_test)
    return PruneView(0, method, sparsity, layers.overall, layers.names, layers.fractions, layers.sizes,
                     metric_name(source.y_test), score(source.model, source.x_test, source.y_test), pruned, pruned,
                     saved_bytes(source.model), saved_bytes(sparse_state(model)))


def quantization(source: Explainable, batch: int = 64) -> QuantTable:
    """Float32 against dynamic (and, for CNNs, static) int8: size on disk, CPU latency, test score."""
    calibration = calibration_inputs(source) if can_static(source.model) else None
    return quantization_table(source.model, source.x_test, source.y_test, calibration, batch=batch)


def exports(source: Explainable, n: int = 64) -> list[ExportCheck]:
    """ONNX, TorchScript and state_dict + card, each run back and compared with PyTorch on ``n`` test inputs."""
    return check_exports(source.model, example_input(source, n), model_card(source))
