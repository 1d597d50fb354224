"""Attributions (Captum) on the visitor's models, and the checks that say how far to trust them."""

from .methods import (
    BASELINES,
    METHODS,
    NT_BASES,
    SIGNS,
    Attribution,
    ExplainOptions,
    InputSpec,
    apply_sign,
    attribute,
    attribute_many,
    last_conv,
    make_baseline,
    predict_proba,
    prepare_model,
    reused_modules,
    unsupported,
)
from .trust import (
    DeletionCurve,
    RandomizationResult,
    compare_models,
    deletion_curve,
    parameter_layers,
    random_deletion_curve,
    randomization_check,
    randomize,
    rank_correlation,
)

__all__ = [
    "BASELINES", "METHODS", "NT_BASES", "SIGNS", "Attribution", "DeletionCurve", "ExplainOptions", "InputSpec",
    "RandomizationResult", "apply_sign", "compare_models", "attribute", "attribute_many", "deletion_curve", "last_conv",
    "make_baseline", "parameter_layers", "predict_proba", "prepare_model", "randomization_check", "randomize",
    "reused_modules", "unsupported",
    "random_deletion_curve", "rank_correlation",
]
