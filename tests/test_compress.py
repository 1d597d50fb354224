"""The compression lab: pruning, quantization, distillation, few-shot transfer, export and safe re-import."""

from __future__ import annotations

import functools
import io
import json
import math
import os
import pickle

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from core import i18n
from core.compress import demo
from core.compress.architectures import ARCHITECTURES, architecture_of
from core.compress.distill import StudentMLP, distillation_loss, make_student
from core.compress.export import (
    check_exports,
    export_bundle,
    export_onnx,
    import_bundle,
    model_card,
    read_card,
    run_onnx,
)
from core.compress.measure import saved_bytes, score
from core.compress.prune import (
    dense_state,
    finalize,
    is_pruned,
    layer_sparsity,
    prunable,
    prune_model,
    sparse_state,
    sparsity_sweep,
)
from core.compress.quantize import quantization_table, quantize_static
from core.compress.transfer import FewShotPlan, FewShotSweep, split_classes
from core.data.images import load_digits_dataset
from core.errors import ConfigError, DataError
from core.explain import InputSpec
from core.explain.source import Explainable
from core.jobs import TrainingJob, build_seeded
from core.labs import compress as lab
from core.labs.sequences import GridInput
from core.models.audio import build_mel_cnn, build_mfcc_gru, build_mfcc_lstm
from core.models.cnn import CNNConfig, ConvBlock, build_cnn
from core.models.mlp import MLP, MLPSpec
from core.models.recurrent import RecurrentNet
from core.viz import compress as viz

torch.set_num_threads(1)  # the machine is shared (module-scoped fixtures train before any function fixture)


@pytest.fixture(scope="module")
def mlp():
    return demo.digits_mlp(width=64, steps=400)


@pytest.fixture(scope="module")
def wide_mlp():
    return demo.digits_mlp(width=256, steps=500)


@pytest.fixture(scope="module")
def cnn():
    return demo.digits_cnn(epochs=2)


@pytest.fixture(scope="module")
def lstm():
    return demo.digits_lstm(hidden=96, steps=400)


# ---------------------------------------------------------------------------------------------- pruning
def test_magnitude_pruning_zeroes_exactly_the_fraction_of_every_layer(cnn):
    pruned = prune_model(cnn.model, 0.3, "magnitude")
    layers = layer_sparsity(pruned)
    assert all(z == round(0.3 * n) for z, n in zip(layers.zeros, layers.sizes, strict=True))
    assert not is_pruned(cnn.model) and layer_sparsity(cnn.model).overall == 0  # the shelf model is untouched
    # the smallest |w| went: every surviving weight is at least as large as every pruned one, layer by layer
    for (_, orig, param), (_, mod, _) in zip(prunable(cnn.model), prunable(pruned), strict=True):
        w, kept = getattr(orig, param).detach().abs(), getattr(mod, param).detach() != 0
        assert w[kept].min() >= w[~kept].max()


def test_global_pruning_hits_the_total_and_spreads_unevenly(mlp):
    pruned = prune_model(mlp.model, 0.6, "global")
    layers = layer_sparsity(pruned)
    assert layers.zeros.sum() == round(0.6 * layers.sizes.sum())
    assert layers.fractions.max() - layers.fractions.min() > 0.05


def test_channel_pruning_removes_whole_filters_but_not_the_classifier(cnn):
    pruned = prune_model(cnn.model, 0.5, "channel")
    head = dict(pruned.named_modules())["classifier.out"]
    assert (head.weight != 0).all()
    conv = pruned.features.conv1_1
    rows = conv.weight.detach().flatten(1)
    dead = (rows == 0).all(dim=1)
    assert int(dead.sum()) == round(0.5 * conv.out_channels) and ((rows != 0).all(dim=1) | dead).all()


def test_pruned_lstm_runs_on_its_masked_weights(lstm):
    pruned = prune_model(lstm.model, 0.9, "magnitude")
    x = lstm.x_test[:16]
    with torch.no_grad():
        assert (pruned(x) - lstm.model(x)).abs().max() > 1e-3  # the recurrence really reads the zeros
        assert torch.allclose(pruned(x), finalize(pruned)(x), atol=1e-6)
    assert not is_pruned(finalize(pruned))


def test_sparse_storage_round_trips_and_is_smaller(mlp):
    pruned = prune_model(mlp.model, 0.5, "magnitude")
    plain = finalize(pruned)
    packed = sparse_state(plain)
    restored = dense_state(packed)
    assert all(torch.equal(restored[k], v) for k, v in plain.state_dict().items())
    dense, sparse = saved_bytes(plain), saved_bytes(packed)
    assert sparse < 0.65 * dense  # 4·0.5 + 1/8 bytes per weight instead of 4, plus the file's own overhead


def test_sweep_starts_at_the_dense_score_and_falls_with_sparsity(mlp):
    result = sparsity_sweep(mlp.model, mlp.x_test, mlp.y_test, amounts=(0.0, 0.3, 0.95))
    assert np.allclose(result.scores[:, 0], result.dense_score)
    assert (result.scores[:, 2] < result.scores[:, 0] - 0.1).all()
    assert np.allclose(result.sparsity[0], [0.0, 0.3, 0.95], atol=2e-3)
    assert (np.diff(result.sparse_bytes[0]) < 0).all()


def test_fine_tuning_keeps_the_mask_and_recovers(mlp):
    config = lab.Config(task="finetune", sparsity=0.85, steps=150, lr=0.003)
    trainer = build_seeded(functools.partial(lab.make_trainer, config, mlp), 0)
    for _ in range(config.steps):
        trainer.train_step()
    view = trainer.snapshot()
    assert view.sparsity == pytest.approx(0.85, abs=1e-3)
    assert view.score > view.pruned_score + 0.02 and view.score > view.dense_score - 0.03
    assert view.sparse_bytes < view.dense_bytes
    shelf = lab.explainable(trainer)
    assert layer_sparsity(shelf.model).overall == pytest.approx(0.85, abs=1e-3)
    assert shelf.card["metrics"]["accuracy"] == pytest.approx(view.score)


# ---------------------------------------------------------------------------------------------- quantization
def test_dynamic_quantization_shrinks_the_mlp_with_little_loss(wide_mlp):
    table = quantization_table(wide_mlp.model, wide_mlp.x_test, wide_mlp.y_test)
    row = table.row("dynamic_int8")
    assert table.variants == ("float32", "dynamic_int8")
    assert row["size_ratio"] >= 3.0 and row["drop_points"] < 1.0
    assert row["bytes"] == saved_bytes(torch.ao.quantization.quantize_dynamic(
        wide_mlp.model, {nn.Linear}, dtype=torch.qint8))


def test_dynamic_quantization_of_the_lstm(lstm):
    row = lab.quantization(lstm).row("dynamic_int8")
    assert row["size_ratio"] >= 3.0 and row["drop_points"] < 1.5


def test_static_quantization_of_a_cnn_is_calibrated_int8(cnn):
    table = lab.quantization(cnn)
    assert table.variants == ("float32", "dynamic_int8", "static_int8")
    row = table.row("static_int8")
    assert row["size_ratio"] > 2.5 and abs(row["drop_points"]) < 2.0
    q = quantize_static(cnn.model, cnn.dataset.x_train[:64])
    assert any(p.is_quantized for p in q.state_dict().values() if isinstance(p, torch.Tensor))
    with pytest.raises(DataError) as err:
        quantize_static(MLP(MLPSpec(2, (4,))), torch.zeros(4, 2))
    assert err.value.key == "compress.errors.static_needs_conv"


# ---------------------------------------------------------------------------------------------- distillation
def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_distillation_loss_equals_a_hand_computation():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(5, 4)) * 2, rng.normal(size=(5, 4)) * 3
    y = np.array([0, 3, 1, 2, 3])
    temperature, alpha = 3.0, 0.6
    ps, pt = _softmax(s / temperature), _softmax(t / temperature)
    kl = np.mean(np.sum(pt * (np.log(pt) - np.log(ps)), axis=1))
    ce = -np.mean(np.log(_softmax(s)[np.arange(5), y]))
    expected = alpha * temperature ** 2 * kl + (1 - alpha) * ce
    args = (torch.tensor(s), torch.tensor(t), torch.tensor(y))
    assert distillation_loss(*args, temperature, alpha).item() == pytest.approx(expected, rel=1e-9)
    assert distillation_loss(*args, temperature, 0.0).item() == pytest.approx(ce, rel=1e-9)
    with pytest.raises(ConfigError):
        distillation_loss(*args, 0.0, 0.5)


def test_distillation_race_trains_two_students_from_one_start(cnn):
    config = lab.Config(task="distill", student="mlp", width=16, steps=250, lr=0.003)
    trainer = build_seeded(functools.partial(lab.make_trainer, config, cnn), 0)
    kd, plain = trainer.students["kd"], trainer.students["plain"]
    assert all(torch.equal(a, b) for a, b in zip(kd.state_dict().values(), plain.state_dict().values(), strict=True))
    first = trainer.evaluate()
    for _ in range(config.steps):
        out = trainer.train_step()
    assert {"loss", "soft_loss", "hard_loss", "loss_plain", "accuracy_kd", "accuracy_plain"} <= set(out)
    last = trainer.evaluate()
    assert last["val_accuracy_kd"] > max(0.8, first["val_accuracy_kd"] + 0.3)
    assert last["val_accuracy_plain"] > 0.8
    view = trainer.snapshot()
    assert view.student_params < view.teacher_params / 5 and view.student_bytes < view.teacher_bytes
    assert view.teacher_soft.max() < view.teacher_probs.max()  # a higher temperature spreads the probabilities
    assert len(pickle.dumps(view)) < 100_000
    student = lab.explainable(trainer, "kd")
    assert student.card["compress"]["distilled"] and architecture_of(student.model).name == "student_mlp"


def test_students_fit_every_input_kind():
    x_img, x_grid = torch.randn(8, 1, 16, 16), torch.randn(8, 32, 40)
    assert make_student("cnn", (1, 16, 16), 10, 4, x_img)(x_img).shape == (8, 10)
    assert make_student("cnn", (32, 40), 10, 4, x_grid)(x_grid).shape == (8, 10)
    student = make_student("mlp", (32, 40), 10, 8, x_grid)
    assert torch.allclose(student.mean, x_grid.flatten(1).mean(0))
    with pytest.raises(ConfigError):
        make_student("cnn", (64,), 10, 4, torch.randn(8, 64))


# ---------------------------------------------------------------------------------------------- transfer
def test_transfer_beats_training_from_scratch_at_five_shots():
    data = split_classes(load_digits_dataset(16), range(5, 10))
    assert data.base_classes == ["0", "1", "2", "3", "4"] and data.new_classes == ["5", "6", "7", "8", "9"]
    assert int(data.pool_y.max()) == 4 and len(data.eval_x) > 200
    plan = FewShotPlan(shots=(5,), methods=("finetune", "scratch"), repeats=3, pretrain_steps=300, run_steps=60)
    sweep = build_seeded(functools.partial(FewShotSweep, data, plan), 0)
    view = sweep.run_all()
    assert sweep.steps == sweep.total_steps == 300 + 6 * 60
    assert view.base_accuracy > 0.95 and view.runs_done == view.runs_total == 6
    assert not np.isnan(view.accuracy).any()
    assert view.at("finetune", 5) > view.at("scratch", 5)


def test_fewshot_job_fills_the_curve_step_by_step():
    config = lab.Config(task="fewshot", shots=(1, 3), repeats=1, pretrain_steps=20, run_steps=5)
    trainer = build_seeded(functools.partial(lab.make_trainer, config), 0)
    assert trainer.phase == "pretrain" and np.isnan(trainer.snapshot().accuracy).all()
    assert lab.explainable(trainer).class_names == ["0", "1", "2", "3", "4"]  # before any run: the backbone
    with pytest.raises(DataError):
        lab.explainable(trainer, "scratch")
    phases = set()
    while not trainer.done:
        trainer.train_step()
        phases.add(trainer.phase)
    view = trainer.snapshot()
    assert trainer.steps == lab.total_steps(config) == 20 + 20 + 8 * 5
    assert phases == {"pretrain", "pretext", "runs", "done"} and view.phase == "done"
    assert view.methods == ("frozen", "finetune", "scratch", "rotation") and not np.isnan(view.accuracy).any()
    assert 0.25 <= view.pretext_accuracy <= 1 and view.chance == 0.2
    shipped = lab.explainable(trainer, "frozen")
    assert shipped.class_names == ["5", "6", "7", "8", "9"]
    assert score(shipped.model, shipped.x_test, shipped.y_test) == pytest.approx(view.accuracy[0, 1, 0])


# ---------------------------------------------------------------------------------------------- export
ARCH_CASES = {
    "mlp": (lambda: MLP(MLPSpec(2, (8, 4), "Tanh")), (2,), torch.float32),
    "cnn": (lambda: build_cnn(CNNConfig(1, 16, 10, blocks=(ConvBlock(8), ConvBlock(8, residual=True)))),
            (1, 16, 16), torch.float32),
    "recurrent": (lambda: RecurrentNet("GRU", 20, 20, vocab_size=20, per_step=True, hidden_size=16), (12,),
                  torch.int64),
    "mel_cnn": (lambda: build_mel_cnn(32, 41, (4, 8)), (32, 41), torch.float32),
    "mfcc_rnn": (lambda: build_mfcc_lstm(13, 16, readout="last", bidirectional=True), (13, 30), torch.float32),
    "student_mlp": (lambda: StudentMLP(12, (8,), 3), (12,), torch.float32),
    "sequence_grid": (lambda: GridInput(RecurrentNet("LSTM", 7, 7, vocab_size=7, hidden_size=8)), (7, 10),
                      torch.float32),
}


def _source(name: str) -> Explainable:
    make, shape, dtype = ARCH_CASES[name]
    torch.manual_seed(0)
    model = make().eval()
    x = torch.randn(5, *shape) if dtype == torch.float32 else torch.randint(0, 20, (5, *shape))
    with torch.no_grad():
        n_out = model(x[:1]).shape[1]
    spec = InputSpec(shape, [f"c{i}" for i in range(n_out)])
    return Explainable("compress", "grid", model, spec, x, torch.zeros(5, dtype=torch.long),
                           i18n.Message("compress.describe.fewshot"))


@pytest.mark.parametrize("name", list(ARCH_CASES))
def test_exports_give_pytorchs_outputs(name):
    source = _source(name)
    checks = {c.format: c for c in check_exports(source.model, source.x_test, model_card(source))}
    assert set(checks) == {"onnx", "torchscript", "state_dict"}
    assert checks["onnx"].max_abs_diff <= 1e-4 and checks["torchscript"].max_abs_diff <= 1e-5
    assert checks["state_dict"].max_abs_diff == 0.0
    onnx_bytes = export_onnx(source.model, source.x_test[:1])  # exported with one input, run with nine
    x = torch.cat([source.x_test, source.x_test[:4]])
    assert np.abs(run_onnx(onnx_bytes, x) - source.model(x).detach().numpy()).max() <= 1e-4


def test_every_playground_architecture_is_covered():
    assert set(ARCH_CASES) <= set(ARCHITECTURES.names())


def test_card_round_trip_of_a_lab_model():
    source = demo.planar_mlp(steps=100)
    weights, card_text = export_bundle(source)
    card = json.loads(card_text)
    assert card["lab"] == "planar" and card["model"]["kind"] == "mlp" and card["settings"]["dataset"] == "circle"
    assert card["tensors"]["layers.0.weight"] == [8, 2] and card["input"]["class_names"] == source.class_names
    back = import_bundle(weights, card_text.encode(), test=(source.x_test, source.y_test))
    assert back.lab == "planar" and back.kind == "features" and back.binary and back.spec.shape == (2,)
    assert torch.equal(back.model(source.x_test), source.model(source.x_test))
    assert score(back.model, back.x_test, back.y_test) == score(source.model, source.x_test, source.y_test)
    assert "Circle" in back.description.text("en")


def _bundle(name: str = "student_mlp") -> tuple[bytes, dict]:
    weights, card = export_bundle(_source(name))
    return weights, json.loads(card)


def _refused(weights: bytes, card, key: str) -> DataError:
    with pytest.raises(DataError) as err:
        import_bundle(weights, card)
    assert err.value.key == key, err.value
    assert err.value.message("zh") != err.value.key  # written in both catalogues
    return err.value


class _RunsCode:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    _, card = _bundle()
    buf = io.BytesIO()
    torch.save({"net.0.weight": _RunsCode(str(marker))}, buf)
    error = _refused(buf.getvalue(), card, "compress.errors.unsafe_weights")
    assert "run code" in str(error)
    _refused(pickle.dumps(_RunsCode(str(marker))), card, "compress.errors.unsafe_weights")
    assert not marker.exists()


def test_wrong_files_get_clear_errors():
    weights, card = _bundle()
    _refused(b"not a weights file" * 10, card, "compress.errors.bad_weights")
    _refused(b"", card, "compress.errors.bad_weights")
    buf = io.BytesIO()
    torch.save(torch.zeros(3), buf)
    _refused(buf.getvalue(), card, "compress.errors.not_state_dict")
    _refused(weights, "{not json", "compress.errors.card_json")
    _refused(weights, {**card, "format": "something else"}, "compress.errors.card_format")
    _refused(weights, {**card, "version": 99}, "compress.errors.card_version")
    error = _refused(weights, {**card, "lab": "astrology"}, "compress.errors.unknown_lab")
    assert "astrology" in str(error) and "planar" in str(error)
    _refused(weights, {**card, "model": {**card["model"], "kind": "transformer9000"}}, "compress.errors.unknown_model")
    _refused(weights, {**card, "model": {**card["model"], "hidden": [9]}}, "compress.errors.shape_mismatch")
    _refused(weights, {**card, "model": {**card["model"], "hidden": [-1]}}, "compress.errors.bad_model_card")
    _refused(weights, {**card, "input": {**card["input"], "shape": [0]}}, "compress.errors.bad_input")
    _refused(weights, {**card, "input": {**card["input"], "class_names": ["a", "b"]}}, "compress.errors.class_count")
    state = torch.load(io.BytesIO(weights), weights_only=True)
    for broken, key in (({k: v for k, v in state.items() if k != "net.0.bias"}, "compress.errors.state_keys"),
                        ({**state, "net.0.weight": state["net.0.weight"] * math.nan}, "compress.errors.not_finite")):
        buf = io.BytesIO()
        torch.save(broken, buf)
        _refused(buf.getvalue(), card, key)
    assert read_card(json.dumps(card))["model"]["kind"] == "student_mlp"


# ---------------------------------------------------------------------------------------------- the lab face
def test_config_round_trips_and_checks():
    config = lab.Config(task="distill", temperature=2.5, alpha=0.3, shots=(1, 5))
    again, warnings = lab.Config.from_query(config.to_query())
    assert again == config and not warnings
    fixed, warnings = lab.Config.from_query({"k": "10,2,2"})
    assert fixed.shots == (2, 10) and warnings
    with pytest.raises(ConfigError) as err:
        lab.Config(shots=(5, 2)).validate()
    assert err.value.key == "compress.errors.shots_order"
    with pytest.raises(ConfigError):
        lab.Config(sparsity=0.99).validate()


def test_make_job_checks_in_the_page(mlp):
    with pytest.raises(DataError) as err:
        lab.make_job(lab.Config(task="finetune"))
    assert err.value.key == "compress.errors.needs_model"
    regression = Explainable("planar", "features", nn.Linear(2, 1), InputSpec((2,), ["y"]),
                                 torch.zeros(3, 2), torch.zeros(3), i18n.Message("compress.describe.fewshot"),
                                 x_train=torch.zeros(3, 2), extra={"y_train": torch.zeros(3)})
    with pytest.raises(DataError) as err:
        lab.make_job(lab.Config(task="distill"), regression)
    assert err.value.key == "compress.errors.needs_classes"
    job = lab.make_job(lab.Config(task="finetune", steps=30), mlp)
    pickle.dumps(job._factory)  # another backend can build the trainer in its own process


def test_a_pruning_job_runs_to_its_end(mlp):
    job = lab.make_job(lab.Config(task="finetune", steps=40, sparsity=0.5), mlp)
    assert isinstance(job, TrainingJob) and job.total_steps == 40
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    view = getattr(snap, "view", None) or getattr(snap, "extra", None)
    assert snap.step == 40 and isinstance(view, lab.PruneView) and view.step == 40
    assert "val_accuracy" in snap.evals


# ---------------------------------------------------------------------------------------------- figures and texts
def test_figures_use_the_catalogue(mlp, cnn):
    result = sparsity_sweep(mlp.model, mlp.x_test, mlp.y_test, amounts=(0.0, 0.5))
    config = lab.Config(task="finetune", steps=2)
    prune_view = build_seeded(functools.partial(lab.make_trainer, config, mlp), 0).snapshot()
    distill = build_seeded(functools.partial(lab.make_trainer, lab.Config(task="distill"), cnn), 0)
    distill.train_step()
    fewshot = lab.FewShotView(0, "runs", np.array([1, 5]), ("frozen", "scratch"), np.full((2, 2, 1), 0.5), 0.99,
                              0.8, 0.2, 2, 4)
    table = quantization_table(mlp.model, mlp.x_test[:64], mlp.y_test[:64], repeats=2)
    checks = check_exports(mlp.model, mlp.x_test[:4])
    evals = {"step": [0.0, 10.0], "val_accuracy_kd": [0.1, 0.9], "val_accuracy_plain": [0.1, 0.8]}
    for lang in ("en", "zh"):
        figures = [viz.sparsity_figure(result, lang, current=0.5), viz.layer_sparsity_figure(prune_view, lang),
                   viz.prune_scores_figure(prune_view, lang), viz.quantization_figure(table, lang),
                   viz.quantization_bars(table, lang), viz.distillation_figure(evals, 0.95, lang),
                   viz.soft_targets_figure(distill.snapshot(), lang), viz.fewshot_figure(fewshot, lang),
                   viz.export_figure(checks, lang)]
        for fig in figures:
            assert isinstance(fig, go.Figure) and fig.layout.title.text
            assert "compress." not in fig.to_json()  # every text was found in the catalogue
        if lang == "zh":
            assert "稀疏度" in figures[0].layout.title.text


def test_catalogues_match():
    en = {k: v for k, v in i18n.catalogue("en").items() if k.startswith("compress.")}
    zh = {k: v for k, v in i18n.catalogue("zh").items() if k.startswith("compress.")}
    assert en.keys() == zh.keys()
    assert all(i18n.placeholders(en[k]) == i18n.placeholders(zh[k]) for k in en)
    assert all(i18n.has(str(f.label)) for f in lab.Config.declared())
    for terms in ("剪枝", "量化", "知识蒸馏", "迁移学习", "小样本学习", "自监督学习", "导出"):
        assert any(terms in v for v in zh.values()), terms


def test_audio_models_export_to_onnx():
    for model, shape in ((build_mfcc_gru(13, 8, layers=2), (13, 20)), (build_mel_cnn(16, 24, (4,)), (16, 24))):
        model.eval()
        x = torch.randn(3, *shape)
        assert np.abs(run_onnx(export_onnx(model, x[:1]), x) - model(x).detach().numpy()).max() <= 1e-4


def test_loss_helpers_handle_regression_targets():
    assert lab._mse(torch.ones(4, 1), torch.zeros(4)).item() == F.mse_loss(torch.ones(4), torch.zeros(4)).item()


def test_fewshot_on_the_visitors_pictures_and_from_a_shelf_backbone(cnn):
    from core.data.images import load_shapes_dataset

    pictures = load_shapes_dataset(32, per_class=20)
    config = lab.Config(task="fewshot", shots=(1, 2), repeats=1, pretrain_steps=10, run_steps=3, rotation=False)
    trainer = build_seeded(functools.partial(lab.make_trainer, config, None, pictures), 0)
    view = trainer.run_all()
    assert view.new_classes == tuple(pictures.classes) and len(view.base_classes) == 10
    assert trainer.data.base_x.shape[1:] == (3, 32, 32) and not np.isnan(view.accuracy).any()
    shelf = lab.Config(task="fewshot", backbone="shelf", shots=(2,), repeats=1, run_steps=5, rotation=False)
    job = lab.make_job(shelf, cnn)
    assert job.total_steps == lab.total_steps(shelf, pretrained=True) == 3 * 5
    trainer = build_seeded(job._factory, 0)
    assert trainer.run_all().runs_done == 3 and trainer.steps == job.total_steps
    with pytest.raises(DataError) as err:
        build_seeded(functools.partial(lab.make_trainer, shelf, cnn, pictures), 0)
    assert err.value.key == "compress.errors.backbone_shape"
