"""Compress, transfer and export the visitor's models (handed over as ``core.explain.source.Explainable``):

- :mod:`.prune`: magnitude, channel and global pruning, the accuracy-vs-sparsity sweep, sparse storage;
- :mod:`.quantize`: dynamic and static int8 quantization and the size / latency / accuracy table;
- :mod:`.distill`: the distillation loss, small students and the with/without-distillation race;
- :mod:`.transfer`: few-shot transfer (frozen, fine-tuned, from scratch, rotation pretext);
- :mod:`.export`: ONNX, TorchScript, state_dict + JSON card, and the safe re-import;
- :mod:`.architectures`: the registry that turns a card back into a network;
- :mod:`.measure`: score, bytes on disk and latency, measured alike for every variant.

The lab face (settings, jobs, views) is ``core.labs.compress``.
"""

from .architectures import ARCHITECTURES, Architecture, architecture_of, register_architecture
from .distill import STUDENTS, DistillationRace, StudentMLP, distillation_loss, distillation_terms, make_student
from .export import (
    ExportCheck,
    check_exports,
    export_bundle,
    export_onnx,
    export_torchscript,
    import_bundle,
    model_card,
    read_card,
    read_weights,
    run_onnx,
    state_bytes,
)
from .measure import calibration_inputs, latency_s, metric_name, saved_bytes, score, train_split
from .prune import (
    METHODS as PRUNE_METHODS,
)
from .prune import (
    LayerSparsity,
    PruneReport,
    SweepResult,
    dense_state,
    finalize,
    layer_sparsity,
    prune_model,
    sparse_state,
    sparsity_sweep,
)
from .quantize import QuantTable, quantization_table, quantize_dynamic, quantize_static
from .transfer import METHODS as FEWSHOT_METHODS
from .transfer import FewShotData, FewShotPlan, FewShotSweep, FewShotView, split_classes, with_new_classes

__all__ = [
    "ARCHITECTURES", "Architecture", "DistillationRace", "ExportCheck", "FEWSHOT_METHODS", "FewShotData",
    "FewShotPlan", "FewShotSweep", "FewShotView", "LayerSparsity", "PRUNE_METHODS", "PruneReport", "QuantTable",
    "STUDENTS", "StudentMLP", "SweepResult", "architecture_of", "calibration_inputs", "check_exports", "dense_state",
    "distillation_loss", "distillation_terms", "export_bundle", "export_onnx", "export_torchscript", "finalize",
    "import_bundle", "latency_s", "layer_sparsity", "make_student", "metric_name", "model_card", "prune_model",
    "quantization_table", "quantize_dynamic", "quantize_static", "read_card", "read_weights", "register_architecture",
    "run_onnx", "saved_bytes", "score", "sparse_state", "sparsity_sweep", "split_classes", "state_bytes",
    "train_split", "with_new_classes",
]
