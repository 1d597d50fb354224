"""Network builder: data sets, features, the MLP, URL state, training targets, inspection and figures."""

import io
import math
import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from core.data import DATASETS
from core.data.planar import FEATURES, make_planar, planar_names, transform
from core.errors import ConfigError
from core.jobs import JobState, build_seeded
from core.labs.planar import PRESETS, SPIRAL_PRESET, initial_view, make_job, make_trainer, steps_to_target
from core.labs.planar import Config as BuilderConfig
from core.models import MODELS
from core.models.mlp import MLP, MLPSpec, weight_penalty
from core.viz.planar import compare_runs, decision_surface, network_diagram


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks train ~10× faster on one thread than with two threads fighting on a busy box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------------------------------------- data
@pytest.mark.parametrize("name", planar_names())
def test_planar_sets_have_the_promised_shape_and_labels(name):
    data = make_planar(name, n=400, noise=0.1, train_fraction=0.7, seed=3)
    assert data.train_xy.shape == (280, 2) and data.test_xy.shape == (120, 2)
    assert DATASETS.entry(name).family == "planar"
    y = np.concatenate([data.train_y, data.test_y])
    if data.problem == "classification":
        assert set(np.unique(y)) == {0, 1}
        assert 0.3 < y.mean() < 0.7
    else:
        assert y.min() >= -1 and y.max() <= 1 and y.std() > 0.1
    assert np.abs(np.concatenate([data.train_xy, data.test_xy])).max() < 9
    again = make_planar(name, n=400, noise=0.1, train_fraction=0.7, seed=3)
    assert np.array_equal(again.train_xy, data.train_xy)
    other = make_planar(name, n=400, noise=0.1, train_fraction=0.7, seed=4)
    assert not np.array_equal(other.train_xy, data.train_xy)


def test_xor_labels_follow_the_sign_rule_without_noise():
    data = make_planar("xor", n=300, noise=0.0, seed=0)
    xy, y = data.train_xy, data.train_y
    assert np.array_equal(y, (xy[:, 0] * xy[:, 1] >= 0).astype(int))


def test_feature_transform_matches_formulas():
    xy = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    out = transform(xy, tuple(FEATURES))
    a, b = xy[:, 0], xy[:, 1]
    expected = torch.stack([a, b, a * a, b * b, a * b, torch.sin(a), torch.sin(b)], dim=1)
    assert torch.allclose(out, expected)
    with pytest.raises(ConfigError):
        transform(xy, ())


# ---------------------------------------------------------------------------------------------- model
@pytest.mark.parametrize("hidden", [(), (1,), (4, 2), (8, 8, 8, 8, 8, 8), (3, 7, 1)])
@pytest.mark.parametrize("n_inputs", [1, 2, 7])
def test_parameter_count_matches_architecture(hidden, n_inputs):
    spec = MLPSpec(n_inputs=n_inputs, hidden=hidden)
    model = MODELS.get("mlp")(spec)
    widths = [n_inputs, *hidden, 1]
    expected = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
    assert sum(p.numel() for p in model.parameters()) == expected == spec.parameter_count()
    assert [m.out_features for m in model.layers] == [*hidden, 1]
    outs = model.forward_all(torch.zeros(5, n_inputs))
    assert [o.shape[1] for o in outs] == [*hidden, 1]
    assert model(torch.zeros(5, n_inputs)).shape == (5, 2)  # binary: logits [0, z]


def test_binary_logits_give_logistic_loss():
    model = MLP(MLPSpec(n_inputs=2, hidden=(3,)))
    x, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
    z = model.raw(x)[:, 0]
    ce = torch.nn.functional.cross_entropy(model(x), y)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(z, y.float())
    assert torch.allclose(ce, bce, atol=1e-6)


@pytest.mark.parametrize("bad", [dict(hidden=(9,)), dict(hidden=(2,) * 7), dict(activation="Swish"),
                                 dict(dropout=1.0), dict(hidden=(0,))])
def test_bad_architectures_raise_config_errors(bad):
    with pytest.raises(ConfigError):
        MLP(MLPSpec(n_inputs=2, **bad))


def test_l1_penalty_counts_weights_only_and_l2_shrinks_weights():
    model = MLP(MLPSpec(n_inputs=2, hidden=(4,)))
    weights = sum(layer.weight.abs().sum() for layer in model.layers)
    assert torch.isclose(weight_penalty("L1", 0.1)(model), 0.1 * weights)
    assert weight_penalty("none", 0.1) is None
    base = BuilderConfig(dataset="gauss", hidden=(8,), lr=0.03)
    norms = {}
    for reg in ("none", "L2"):
        trainer = build_seeded(lambda reg=reg: make_trainer(replace(base, regularization=reg, reg_rate=0.1)), 0)
        for _ in range(200):
            trainer.train_step()
        norms[reg] = sum(float(layer.weight.detach().norm()) for layer in trainer.model.layers)
    assert norms["L2"] < 0.7 * norms["none"]


# ---------------------------------------------------------------------------------------------- learning
def _test_accuracy(config: BuilderConfig, steps: int) -> float:
    trainer = build_seeded(lambda: make_trainer(config), config.seed)
    for _ in range(steps):
        trainer.train_step()
    return trainer.metrics()["test_accuracy"]


def test_xor_with_a_hidden_layer_beats_a_linear_model():
    base = BuilderConfig(dataset="xor", batch_size=16, lr=0.03)
    hidden = _test_accuracy(replace(base, hidden=(6,), activation="Tanh"), 300)
    linear = _test_accuracy(replace(base, hidden=()), 300)
    assert hidden > 0.9, hidden
    assert linear < 0.7, linear
    assert hidden > linear + 0.25


def test_spiral_preset_reaches_95_percent_test_accuracy():
    config = PRESETS[SPIRAL_PRESET]
    assert config.features == ("x1", "x2")  # raw coordinates only: no hand-made features
    result = steps_to_target(config, 0.95, max_seconds=60, max_steps=3000)
    assert result["reached"], result
    assert result["steps"] <= 1500  # ~0.5 s on one idle CPU core; see bench/network_builder.py


def test_regression_preset_learns():
    config = PRESETS["bumps"]
    trainer = build_seeded(lambda: make_trainer(config), 0)
    before = trainer.metrics()["test_loss"]
    for _ in range(800):
        trainer.train_step()
    assert trainer.metrics()["test_loss"] < 0.5 * before


# ---------------------------------------------------------------------------------------------- URL state
@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_round_trip_through_the_url(name):
    config = PRESETS[name]
    config.validate()
    query = config.to_query()
    assert set(query) == set(BuilderConfig.url_keys().values()) and all(isinstance(v, str) for v in query.values())
    again, warnings = BuilderConfig.from_query(query)
    assert again == config and warnings == []


def test_random_valid_configs_round_trip():
    rng = random.Random(0)
    for _ in range(50):
        problem = rng.choice(["classification", "regression"])
        config = BuilderConfig(
            problem=problem, dataset=rng.choice(planar_names(problem)), noise=rng.randrange(0, 55, 5),
            train_pct=rng.randrange(10, 100, 10), batch_size=rng.randint(1, 64), seed=rng.randint(0, 999_999),
            features=tuple(f for f in FEATURES if rng.random() < 0.5) or ("x1",),
            hidden=tuple(rng.randint(1, 8) for _ in range(rng.randint(0, 6))),
            activation=rng.choice(["ReLU", "Tanh", "Sigmoid", "Linear", "LeakyReLU", "GELU"]),
            lr=rng.choice([0.001, 0.03, 3.0]), optimizer=rng.choice(["SGD", "Momentum", "Adam", "RMSprop"]),
            regularization=rng.choice(["none", "L1", "L2"]), reg_rate=rng.choice([0.0, 0.003, 1.0]),
            dropout=rng.choice([0.0, 0.15, 0.5]), show_test=rng.random() < 0.5, discretize=rng.random() < 0.5)
        again, warnings = BuilderConfig.from_query(config.to_query())
        assert again == config and warnings == []


def test_bad_url_values_are_fixed_with_warnings_not_errors():
    config, warnings = BuilderConfig.from_query({
        "lr": "fast", "noise": "500", "layers": "9,0,3,3,3,3,3,3", "act": "swish", "features": "x1,bogus",
        "data": "nope", "test": "maybe", "batch": "-4", "rate": "0.05", "seed": "nan", "dropout": "0.7",
        "problem": "regression", "reg": "l2", "opt": "adam", "unrelated": "kept out",
    })
    config.validate()
    default = BuilderConfig()
    assert config.lr == default.lr and config.noise == 50 and config.hidden == (8, 1, 3, 3, 3, 3)
    assert config.activation == default.activation and config.features == ("x1",)
    assert config.dataset == default.dataset and config.problem == "classification"
    assert config.batch_size == 1 and config.reg_rate == 0.03 and config.seed == 0 and config.dropout == 0.5
    assert config.regularization == "L2" and config.optimizer == "Adam"  # case-insensitive
    assert config.show_test is False
    assert len(warnings) == 12, warnings
    assert any("`lr=fast`" in w for w in warnings) and any("`noise=500`" in w for w in warnings)


def test_garbage_in_every_url_parameter_never_raises():
    rng = random.Random(1)
    junk = ["", " ", "-1", "1e309", "inf", "NaN", "0x10", "３", "1,2,,", "none", "<script>", "9" * 40, "[]"]
    for _ in range(200):
        params = {key: rng.choice(junk) for key in BuilderConfig.url_keys().values() if rng.random() < 0.7}
        config, _ = BuilderConfig.from_query(params)
        config.validate()


def test_empty_layers_in_url_means_no_hidden_layer():
    config, warnings = BuilderConfig.from_query({"layers": "none"})
    assert config.hidden == () and warnings == []
    assert BuilderConfig(hidden=()).to_query()["layers"] == "none"


# ---------------------------------------------------------------------------------------------- inspection
def test_network_view_has_every_neuron_and_restorable_weights():
    config = BuilderConfig(dataset="circle", features=("x1", "x2", "x1sq"), hidden=(5, 3))
    view = initial_view(config)
    assert view.widths == [3, 5, 3, 1]
    assert view.surface.shape == (79, 79) and np.abs(view.surface).max() <= 1
    assert all(n.shape[1:] == (27, 27) for n in view.neurons)
    assert [w.shape for w in view.weights] == [(5, 3), (3, 5), (1, 3)]
    x1 = view.neurons[0][0]
    assert np.allclose(x1[0], view.neuron_axis)  # row 0 runs along x₁ at the bottom of the plane
    model = MLP(config.spec)
    model.load_state_dict(view.state_dict)
    assert set(view.metrics) == {"train_loss", "test_loss", "train_accuracy", "test_accuracy"}
    assert initial_view(config).weights[0].tolist() == view.weights[0].tolist()  # same seed, same start


def test_figures_are_valid_plotly():
    config = BuilderConfig(dataset="spiral", features=tuple(FEATURES), hidden=(8, 8, 8, 8, 8, 8))
    view = initial_view(config)
    diagram = network_diagram(view, "ReLU")
    go.Figure(diagram.to_dict())  # full validation of the unvalidated fast path
    assert len(diagram.layout.images) == 1  # all neuron tiles in one composite image
    neurons = next(t for t in diagram.data if t.name == "neurons")
    assert len(neurons.x) == sum(view.widths) and "weights in" in neurons.hovertext[-1]
    data = make_planar("spiral", n=200)
    surface = decision_surface(view, (data.train_xy, data.train_y), (data.test_xy, data.test_y), discretize=True)
    assert set(np.unique(surface.data[0].z)) <= {-1.0, 0.0, 1.0}
    runs = [{"run": 1, "label": "a", "epoch": [0, 1, 2], "test_loss": [0.7, 0.5, math.nan]}]
    assert len(compare_runs(runs).data) == 1


def test_job_trains_reports_whole_set_numbers_and_applies_live_changes():
    config = BuilderConfig(dataset="gauss", regularization="L2", reg_rate=0.001)
    job = make_job(config, total_steps=120).start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED and snap.step == 120
    assert {"val_loss", "val_accuracy", "train_loss", "train_accuracy"} <= set(snap.evals)
    assert snap.epoch == pytest.approx(120 / config.steps_per_epoch)
    view = job.inspect(lambda trainer: trainer.snapshot(force=True))
    assert view.step == 120 and view.metrics["test_accuracy"] > 0.9
    job.inspect(lambda trainer: trainer.set_live(0.3, 0.1))
    assert job.trainer.optimizer.param_groups[0]["lr"] == 0.3 and job.trainer.penalty.rate == 0.1


def test_model_download_loads_with_weights_only():
    from pages.network_builder.views import model_bytes

    config = BuilderConfig()
    view = initial_view(config)
    loaded = torch.load(io.BytesIO(model_bytes(view.state_dict, config)), weights_only=True)
    rebuilt = MLP(BuilderConfig.from_query(loaded["config"])[0].spec)
    rebuilt.load_state_dict(loaded["state_dict"])


# ---------------------------------------------------------------------------------------------- page logic
def test_page_applies_rate_changes_live_and_rebuilds_on_structural_changes():
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/network_builder/page.py")
    at.run()
    assert not at.exception
    next(b for b in at.button if b.label == "Play").click().run()
    job = at.session_state["nb_job"]
    try:
        deadline = time.monotonic() + 30
        while job.step < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.step >= 5
        at.select_slider(key="nb_lr").set_value(0.1).run()
        assert at.session_state["nb_job"] is job and job.trainer.optimizer.param_groups[0]["lr"] == 0.1
        at.button(key="nb_n0_add").click().run()  # + on layer 1: a structural change
        assert "nb_job" not in at.session_state and job.state == JobState.STOPPED
        assert at.query_params["layers"] in ("5,2", ["5,2"]) and at.query_params["lr"] in ("0.1", ["0.1"])
        assert not at.exception
    finally:
        job.stop()


def test_a_run_nobody_watches_pauses_itself():
    job = make_job(BuilderConfig(), pause_unwatched_s=0.3).start()
    try:
        deadline = time.monotonic() + 20
        while job.state != JobState.PAUSED and time.monotonic() < deadline:
            job.touch(page=False)  # the sidebar still sees it: no idle stop, but its page is closed
            time.sleep(0.02)
        assert job.state == JobState.PAUSED and job.snapshot(page=False).idle_paused and job.step > 0
        stopped_at = job.step
        time.sleep(0.3)
        assert job.step <= stopped_at + 1
        job.snapshot()  # the page is back
        job.resume()
        time.sleep(0.1)
        assert job.state == JobState.RUNNING
    finally:
        job.stop()


def test_metrics_csv_joins_steps_and_epoch_evaluations_and_thin_keeps_the_last_step():
    from core.viz.curves import thin

    job = make_job(BuilderConfig(dataset="gauss"), total_steps=1200).start()
    assert job.join(60)
    snap = job.snapshot()
    lines = snap.to_csv().decode().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["step", "loss"] and "val_loss" in header and "train_accuracy" in header
    assert len(lines) == 1 + len(snap.history["step"])
    epoch_row = lines[BuilderConfig().steps_per_epoch].split(",")  # the first evaluation, after one epoch
    assert epoch_row[header.index("val_loss")] != ""
    small = thin(snap, max_points=100)
    assert len(small.history["step"]) <= 100 and small.history["step"][-1] == snap.history["step"][-1]
    assert np.nanmean(small.history["loss"]) == pytest.approx(np.nanmean(snap.history["loss"]), rel=0.05)
