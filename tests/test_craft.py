"""Training-craft lab: optimizer race, schedules, overfitting and early stopping, pipeline, search, the visitor's CSV,
settings, catalogues and figures."""

import math
import pickle
import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from core.data.tabular import MAX_ROWS, read_csv
from core.data.tabular import prepare as prepare_table
from core.errors import ConfigError, DataError
from core.i18n import catalogue, has, placeholders, text
from core.jobs import JobManager, JobState
from core.labs import craft
from core.labs.craft import PRESETS, SURFACES, Config, make_job, make_trainer
from core.labs.craft.fit import set_numbers
from core.training import OPTIMIZERS
from core.viz import craft as viz


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train_in_process(trainer):
    """What a job does: evaluate at the start and after every epoch, until the run ends or stops early."""
    trainer.evaluate()
    while not trainer.finished:
        trainer.train_step()
        if trainer.steps % trainer.steps_per_epoch == 0:
            trainer.evaluate()
    return trainer


def wait(job, timeout=60.0):
    assert job.join(timeout), "the job did not finish in time"
    return job.snapshot()


def view_of(snap):
    return getattr(snap, "view", None) or getattr(snap, "extra", None)


# ---------------------------------------------------------------------------------------------- optimizer race
@pytest.mark.parametrize("surface", ["rosenbrock", "saddle", "camel"])
def test_race_trajectories_equal_a_hand_run_torch_optim_loop(surface):
    s = SURFACES[surface]
    rates = {name: craft.tuned_rates(surface)[name] for name in OPTIMIZERS}
    view = craft.race(surface, s.start, rates, 60)
    for k, name in enumerate(view.names):
        p = torch.nn.Parameter(torch.tensor(s.start, dtype=torch.float64))
        opt = OPTIMIZERS[name]([p], rates[name], 0.0)
        for t in range(1, 61):
            opt.zero_grad()
            s.fn(p[0], p[1]).backward()
            opt.step()
            assert np.allclose(view.path[k, t], p.detach().numpy(), rtol=1e-6, atol=1e-6), (name, t)
    assert view.path.shape == (len(OPTIMIZERS), 61, 2) and view.step == 60


def test_nesterov_is_in_the_one_registry():
    opt = OPTIMIZERS["Nesterov"]([torch.nn.Parameter(torch.zeros(2))], 0.1, 0.0)
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["nesterov"] and opt.defaults["momentum"] == 0.9
    assert Config().optimizers == tuple(OPTIMIZERS)
    assert set(craft.TUNED_RATES["rosenbrock"]) == set(OPTIMIZERS)


def test_tuned_rates_reach_rosenbrock_minimum_adam_before_sgd():
    start = SURFACES["rosenbrock"].start
    view = craft.race("rosenbrock", start, {"SGD": 2e-3, "Adam": 0.1}, 3000)
    reached = dict(zip(view.names, view.reached.tolist(), strict=True))
    assert 0 < reached["Adam"] < reached["SGD"]
    assert np.linalg.norm(view.path[:, -1] - np.array([1.0, 1.0]), axis=1).max() < 0.1
    tuned = craft.tune_rates("rosenbrock", names=["Adam"], steps=800, grid=(0.01, 0.1, 1.0))
    assert tuned.rates[0] == 0.1 and 0 < tuned.steps[0] < 800


def test_a_diverging_optimizer_is_frozen_and_the_race_goes_on():
    view = craft.race("rosenbrock", (-1.2, 1.0), {"SGD": 0.05, "Adam": 0.05}, 50)
    sgd, adam = view.names.index("SGD"), view.names.index("Adam")
    assert view.diverged[sgd] > 0 and view.diverged[adam] == -1
    assert np.isfinite(view.path).all() and view.step == 50
    trainer = craft.RaceTrainer("rosenbrock", (-1.2, 1.0), {"SGD": 0.05, "Adam": 0.05}, 50)
    out = [trainer.train_step() for _ in range(50)][-1]
    assert math.isfinite(out["loss"]) and math.isnan(out["loss_SGD"])


def test_surface_minima_are_minima():
    for name, s in SURFACES.items():
        g = craft.surface_grid(name, n=81)
        assert g.z.min() >= s.f_min - 1e-6, name
        x, y = s.minima[0]
        p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
        grad = torch.autograd.grad(s.fn(p[0], p[1]), p)[0]
        assert float(grad.abs().max()) < 1e-9, name
    assert SURFACES["saddle"].fn(torch.tensor(0.0), torch.tensor(0.0)) > SURFACES["saddle"].f_min


def test_optimizers_on_a_real_model_share_start_and_batches():
    config = replace(PRESETS["optimizers_digits"], optimizers=("SGD", "Adam"), epochs=3, subset=400)
    trainer = make_trainer(config)
    a, b = trainer.models
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    train_in_process(trainer)
    view = trainer.snapshot()
    assert view.val_accuracy.shape == (2, 4) and (view.val_accuracy[:, -1] > 0.6).all()
    assert view.val_loss[0, -1] < view.val_loss[0, 0]


# ---------------------------------------------------------------------------------------------- schedules
def hand_scheduler(name, opt, total, warm):
    if name == "constant":
        return lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)
    if name == "step":
        return lr_scheduler.StepLR(opt, step_size=math.ceil(total / 3), gamma=0.1)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(opt, gamma=0.01 ** (1 / total))
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if name == "warmup":
        return lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.01, 1.0, total_iters=warm),
                                               lr_scheduler.CosineAnnealingLR(opt, T_max=total - warm)],
                                         milestones=[warm])
    return lr_scheduler.OneCycleLR(opt, max_lr=opt.param_groups[0]["lr"], total_steps=total, pct_start=warm / total,
                                   cycle_momentum=False)


@pytest.mark.parametrize("name", craft.SCHEDULES)
def test_schedule_curves_equal_the_schedulers_own_values(name):
    total, lr = 120, 0.05
    curve = craft.lr_curve(name, lr, total, warmup_pct=20)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = hand_scheduler(name, opt, total, 24)
    expected = []
    for _ in range(total):
        expected.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert np.allclose(curve, expected, rtol=1e-9, atol=1e-12)
    view = craft.schedule_curves(lr, total, 20)
    assert view.lr.shape == (len(craft.SCHEDULES), total)
    assert np.allclose(view.lr[view.names.index(name)], curve)


def test_schedule_shapes():
    lr, total = 0.1, 100
    assert craft.lr_curve("cosine", lr, total)[-1] < 1e-3 * lr
    one = craft.lr_curve("onecycle", lr, total, 30)
    assert abs(one.max() - lr) < 1e-9 and 25 <= int(one.argmax()) <= 35 and one[-1] < one[0]
    warm = craft.lr_curve("warmup", lr, total, 10)
    assert math.isclose(warm[0], lr * 0.01) and math.isclose(warm.max(), lr, rel_tol=1e-6)


def test_a_schedule_is_applied_to_a_run():
    config = replace(PRESETS["schedule_cosine"], subset=100, epochs=3)
    trainer = make_trainer(config)
    lrs = [trainer.train_step()["lr"] for _ in range(craft.planned_steps(config))]
    assert np.allclose(lrs, craft.lr_curve("cosine", config.lr, len(lrs)))


def test_range_test_suggests_a_rate_below_the_blow_up():
    view = craft.range_test(PRESETS["range_test"])
    assert view.stopped and len(view.lr) < PRESETS["range_test"].steps
    assert 1e-4 < view.suggested <= view.min_loss_lr < view.lr[-1]
    assert view.smoothed[-1] > 2 * view.smoothed.min()


# ---------------------------------------------------------------------------------------------- overfitting
def test_overfitting_preset_validation_loss_rises_while_training_loss_falls():
    trainer = train_in_process(make_trainer(PRESETS["overfit"]))
    view = trainer.snapshot()
    best = int(np.argmin(view.val_loss))
    assert view.epoch[best] == view.best_epoch and view.best_epoch < view.epoch[-1] / 2
    assert view.val_loss[-1] > 1.3 * view.val_loss[best]  # validation loss turned and rose
    assert view.train_loss[-1] < 0.1 * view.train_loss[best]  # while the training loss kept falling
    assert view.val_loss[-len(view.epoch) // 5:].mean() > 1.3 * view.val_loss[best]  # not one noisy epoch
    assert view.gap_loss > 0.3 and view.gap_accuracy > 0.05 and not view.stopped


def test_early_stopping_restores_the_best_epoch_in_a_job():
    config = PRESETS["early_stopping"]
    job = make_job(config)
    job.start()
    snap = wait(job)
    assert snap.state == JobState.FINISHED, snap.error
    view = view_of(snap)
    assert view.stopped and view.restored
    assert snap.step < craft.planned_steps(config)
    assert view.epoch[-1] == view.best_epoch + config.patience
    assert view.val_loss[view.epoch == view.best_epoch][0] == view.best_val_loss
    now_loss, _ = job.inspect(lambda t: set_numbers(t.model, t.loss_fn, *t.val, True))
    assert math.isclose(now_loss, view.best_val_loss, rel_tol=1e-5)
    assert now_loss < view.val_loss[-1]


def test_the_cures_shrink_the_generalization_gap():
    plain = train_in_process(make_trainer(PRESETS["overfit"])).snapshot()
    cured = train_in_process(make_trainer(PRESETS["overfit_cured"])).snapshot()
    assert cured.gap_loss < 0.8 * plain.gap_loss
    assert cured.val_loss[-1] < plain.val_loss[-1]


def test_weight_histograms_follow_the_layers_and_l2_shrinks_them():
    base = replace(PRESETS["overfit"], epochs=30)
    plain = train_in_process(make_trainer(base)).snapshot()
    l2 = train_in_process(make_trainer(replace(base, l2=0.03))).snapshot()
    assert plain.layers == ("layer 1", "layer 2", "layer 3", "output")
    assert plain.hist_counts.shape == (4, 30) and (plain.hist_counts.sum(1) == [64 * 256, 256 * 256, 256 * 256,
                                                                                  2560]).all()
    assert l2.weight_std[0] < plain.weight_std[0]


def test_batch_norm_trains_with_a_last_batch_of_one():
    config = replace(PRESETS["batch_norm"], subset=65, batch_size=32, epochs=5)  # batches of 32, 32, 1
    trainer = train_in_process(make_trainer(config))
    accuracy = trainer.snapshot().val_accuracy
    assert trainer.steps == craft.planned_steps(config) and accuracy[-1] > 0.4 and accuracy[-1] > accuracy[0] + 0.2


def test_polynomial_overfits_at_high_degree_and_bias_variance_trades_off():
    high = train_in_process(make_trainer(replace(PRESETS["poly_overfit"], epochs=800))).snapshot()
    low = train_in_process(make_trainer(replace(PRESETS["poly_right"], epochs=800))).snapshot()
    assert high.fit.train_loss[-1] < low.fit.train_loss[-1] and high.fit.val_loss[-1] > low.fit.val_loss[-1]
    assert high.fit.val_loss[-1] > 1.5 * high.fit.best_val_loss
    assert high.coefficients.shape == (16,) and high.prediction.shape == high.x.shape
    bv = craft.bias_variance(PRESETS["poly_right"], degrees=range(1, 13), repeats=100)
    assert bv.bias2[0] > 5 * bv.bias2[4] and bv.variance[-1] > 5 * bv.variance[2]
    assert 2 <= bv.best_degree <= 8
    assert np.allclose(bv.test_mse, bv.bias2 + bv.variance + bv.noise, rtol=0.25)


def test_same_initialisation_is_kept_by_reset():
    a = make_trainer(replace(PRESETS["overfit"], seed=1, lr=0.01, dropout=0.2))
    b = make_trainer(replace(PRESETS["overfit"], seed=2))
    weights = lambda t: [p.detach().clone() for p in t.model.parameters()]  # noqa: E731
    assert all(torch.equal(p, q) for p, q in zip(weights(a), weights(b), strict=True))
    c = make_trainer(replace(PRESETS["overfit"], init_seed=5))
    assert not torch.equal(weights(a)[0], weights(c)[0])
    config = PRESETS["overfit"]
    assert craft.reset(config) is config
    fresh = craft.reset(replace(config, same_init=False))
    assert fresh.init_seed == config.init_seed + 1 and fresh.seed == config.seed


# ---------------------------------------------------------------------------------------------- data pipeline
def test_standardized_inputs_learn_where_raw_ones_do_not():
    trainer = train_in_process(make_trainer(replace(PRESETS["pipeline"], epochs=30)))
    view = trainer.snapshot()
    raw, std = view.names.index("raw"), view.names.index("standardized")
    assert view.val_accuracy[std, -1] > 0.9 and view.val_accuracy[std, -1] > view.val_accuracy[raw, -1] + 0.2
    pv = craft.pipeline_view(PRESETS["pipeline"])
    assert pv.split_sizes.sum() == 178 and pv.class_counts.sum(1).tolist() == pv.split_sizes.tolist()
    assert pv.raw_std.max() / pv.raw_std.min() > 1000 and np.allclose(pv.standardized_std, 1, atol=1e-3)


def test_kfold_validates_every_training_row_once():
    config = replace(PRESETS["pipeline"], epochs=15, folds=4)
    view = craft.kfold(config)
    counts = np.bincount(view.fold_of[view.fold_of >= 0], minlength=4)
    test_rows = int((view.fold_of < 0).sum())
    assert test_rows == craft.pipeline_view(config).split_sizes[2]
    assert counts.sum() == 178 - test_rows and counts.max() - counts.min() <= 1
    assert view.scores.shape == (4,) and view.mean > 0.85 and 0 <= view.std < 0.15 and view.test_score > 0.8


# ---------------------------------------------------------------------------------------------- search
def test_search_in_process_and_grid_visits_distinct_points():
    config = replace(PRESETS["search_tpe"], epochs=1, subset=100)
    search = craft.Search(config, budget=6).run()
    view = search.view()
    assert len(view.number) == 6 and search.done
    assert view.params.shape == (6, len(craft.PARAMS)) and np.isfinite(view.params).all()
    assert view.best_value == np.nanmax(view.value[[s == "complete" for s in view.state]])
    assert np.all(np.diff(view.best_so_far[np.isfinite(view.best_so_far)]) >= 0)
    grid = craft.Search(replace(config, method="grid"), budget=5).run().view()
    points = {tuple(row) for row in grid.params}
    assert len(points) == 5 and all(row[0] in craft.GRID["lr"] for row in grid.params)
    again = craft.Search(config, budget=6).run().view()
    assert np.array_equal(again.value, view.value, equal_nan=True)


def test_search_trials_run_as_jobs_through_the_job_manager():
    config = replace(PRESETS["search_random"], epochs=2, subset=100, prune=True)
    search = craft.Search(config, budget=3)
    manager = JobManager(capacity=4, compute_slots=1)
    submitted = []

    def submit(trial_config):
        job = manager.submit("visitor", make_job(trial_config))
        submitted.append(job)
        return job

    deadline = time.monotonic() + 90
    while not search.done and time.monotonic() < deadline:
        search.pump(submit, parallel=2)
        assert len(search.running) <= 2
        time.sleep(0.05)
    assert search.done and len(submitted) == 3
    view = search.view()
    assert all(s in ("complete", "pruned") for s in view.state)
    # a trial may draw a learning rate that stays at chance (10 digits): the best one must have learnt
    assert np.isfinite(view.value).all() and ((view.value >= 0) & (view.value <= 1)).all() and view.value.max() > 0.2
    assert manager.jobs("visitor") and not manager.jobs("someone else")


def test_pruning_stops_bad_trials():
    config = replace(PRESETS["search_random"], epochs=4, subset=200)
    view = craft.Search(config, budget=14, seed=3).run().view()
    pruned = [i for i, s in enumerate(view.state) if s == "pruned"]
    assert pruned and all(view.epochs[i] < config.epochs for i in pruned)


# ---------------------------------------------------------------------------------------------- the visitor's CSV
def blobs_csv(classes=3, rows=150, seed=0, delimiter=",") -> bytes:
    rng = np.random.default_rng(seed)
    lines = [delimiter.join(["width", "height", "colour", "kind"])]
    for i in range(rows):
        c = i % classes
        w, h = rng.normal(c * 3.0, 0.6), rng.normal(-c * 2.0, 0.6)
        colour = ["red", "green", "blue", ""][(i // 3) % 4]
        h_text = "" if i % 17 == 0 else f"{h:.3f}"
        lines.append(delimiter.join([f"{w:.3f}", h_text, colour, f"type {chr(65 + c)}"]))
    return ("\n".join(lines) + "\n").encode()


def test_a_good_multiclass_csv_trains_with_softmax():
    table = read_csv(blobs_csv(classes=4, rows=200))
    assert table.numeric == ["width", "height"] and table.categorical == ["colour", "kind"]
    assert table.missing() == {"height": 12, "colour": 48}
    data = prepare_table(table, "kind", seed=0)
    assert data.task == "classification" and data.class_names == ["type A", "type B", "type C", "type D"]
    assert data.feature_names[:2] == ["width", "height"] and len(data.feature_names) == 2 + 4
    assert sum(data.split_sizes().values()) == 200 and torch.isfinite(data.x_train).all()
    config = Config(experiment="csv", label="kind", features=("width", "height"), epochs=40, lr=0.01)
    job = make_job(config, data=table)
    job.start()
    snap = wait(job)
    assert snap.state == JobState.FINISHED, snap.error
    view = view_of(snap)
    assert view.confusion.shape == (4, 4) and view.confusion.sum() == len(prepare_table(table, "kind", ["width",
                                                                                                     "height"]).y_val)
    assert np.trace(view.confusion) / view.confusion.sum() > 0.9
    assert view.boundary_features == ("width", "height") and view.surface.shape == (60, 60)
    assert set(np.unique(view.surface)) <= {0.0, 1.0, 2.0, 3.0} and len(np.unique(view.surface)) >= 3
    explained = job.inspect(craft.explainable)
    assert explained.kind == "features" and explained.class_names == data.class_names
    assert explained.model(explained.x_test[:5]).shape == (5, 4)


def test_a_numeric_label_with_many_values_is_regression():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 120)
    rows = "\n".join(f"{a:.3f};{3 * a + 100 + rng.normal(0, 0.5):.3f}" for a in x)
    table = read_csv(("x;price\n" + rows + "\n").encode())
    assert table.delimiter == ";"
    config = Config(experiment="csv", label="price", features=("x",), epochs=60, lr=0.01, task="auto")
    trainer = train_in_process(make_trainer(config, table))
    view = trainer.snapshot()
    assert view.task == "regression" and view.r2 > 0.9 and abs(np.median(view.y_true) - 115) < 15
    with pytest.raises(ConfigError) as err:
        craft.explainable(trainer)
    assert err.value.key == "craft.errors.not_explainable"


BAD_CSVS = {
    "empty": (b"", {}, "tabular.errors.empty"),
    "blank": (b"  \n\n", {}, "tabular.errors.empty"),
    "wrong delimiter": (blobs_csv(delimiter=";"), {"delimiter": ","}, "tabular.errors.delimiter"),
    "one column": (b"value\n1\n2\n3\n", {}, "tabular.errors.one_column"),
    "not utf-8": ("a,b\n1,café\n2,thé\n".encode("latin-1"), {}, "tabular.errors.encoding"),
    "utf-16": ("a,b\n1,2\n".encode("utf-16"), {}, "tabular.errors.encoding"),
    "formula =": (b"a,b,c\n1,2,x\n3,=HYPERLINK(\"http://x\"),y\n", {}, "tabular.errors.formula"),
    "formula +": (b"a,b,c\n1,2,x\n3,4,+cmd|' /C calc'!A0\n", {}, "tabular.errors.formula"),
    "formula -": (b"a,b,c\n1,2,-2+3+cmd\n3,4,y\n", {}, "tabular.errors.formula"),
    "formula @": (b"a,b,c\n1,2,@SUM(A1)\n3,4,y\n", {}, "tabular.errors.formula"),
    "header only": (b"a,b,c\n", {}, "tabular.errors.no_rows"),
    "ragged": (b"a,b\n1,2\n3,4,5,6\n7,8\n", {}, "tabular.errors.ragged"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_files_get_clear_errors(case):
    data, options, key = BAD_CSVS[case]
    with pytest.raises(DataError) as err:
        read_csv(data, **options)
    assert err.value.key == key
    for lang in ("en", "zh"):
        assert has(key, lang) and "{" not in err.value.message(lang)


def test_a_million_rows_hit_the_row_limit_quickly():
    data = b"a,b\n" + b"1,2\n" * 1_000_000
    start = time.process_time()
    with pytest.raises(DataError) as err:
        read_csv(data)
    assert err.value.key == "tabular.errors.too_many_rows" and err.value.params["limit"] == MAX_ROWS
    assert time.process_time() - start < 1.0


def test_bad_choices_of_columns_get_clear_errors():
    one_class = read_csv(b"a,b,label\n" + b"".join(f"{i},{i % 3},same\n".encode() for i in range(30)))
    text_only = read_csv(b"a,b,label\n" + b"".join(f"x{i},y{i},c{i % 2}\n".encode() for i in range(30)))
    cases = [(one_class, "label", {}, "tabular.errors.one_class"),
             (text_only, "label", {}, "tabular.errors.no_numeric"),
             (one_class, "nope", {}, "tabular.errors.unknown_column"),
             (text_only, "a", {"task": "regression"}, "tabular.errors.no_numeric"),
             (one_class, "label", {"task": "regression"}, "tabular.errors.label_not_numeric")]
    for table, label, options, key in cases:
        with pytest.raises(DataError) as err:
            prepare_table(table, label, **options)
        assert err.value.key == key, key
    assert prepare_table(one_class, "a", ["b"], task="regression").task == "regression"
    with pytest.raises(ConfigError) as err:
        make_job(Config(experiment="csv", label="kind"))
    assert err.value.key == "craft.errors.no_table"
    with pytest.raises(DataError) as err:
        make_job(Config(experiment="csv", label="label"), data=one_class)
    assert err.value.key == "tabular.errors.one_class"


def test_numbers_and_signs_are_not_formulas():
    table = read_csv(b"a,b,label\n-1.5,+2,x\n3,-4e2,y\n-,5,x\n" + b"1,2,y\n" * 10)
    assert table.numeric == ["a", "b"] and table.missing() == {"a": 1}


# ---------------------------------------------------------------------------------------------- settings
def test_config_url_round_trip():
    config = Config(experiment="digits", seed=7, init_seed=3, same_init=False, surface="beale", start_x=0.5,
                    start_y=-1.25, optimizers=("Adam", "SGD"), rates="Adam=0.05,SGD=0.002", steps=400,
                    optimizer="Nesterov", lr=0.02, schedule="onecycle", warmup_pct=25, batch_size=64, epochs=30,
                    subset=300, width=128, depth=3, dropout=0.25, l2=0.001, augment=True, batch_norm=True,
                    patience=7, degree=9, points=30, noise=0.5, val_pct=25, test_pct=15, folds=3,
                    standardize=False, budget=40, method="random", prune=False, task="regression")
    back, warnings = Config.from_query(config.to_query())
    assert back == config and warnings == []
    for key, preset in PRESETS.items():
        again, warnings = Config.from_query(preset.to_query())
        assert again == preset and not warnings, key
        preset.validate()
    card_back, _ = Config.from_card(config.card())
    assert card_back == config
    assert "label" not in config.to_query() and "features" not in config.to_query()


def test_hand_edited_links_are_repaired_with_warnings():
    config, warnings = Config.from_query({"exp": "poly", "deg": "99", "rates": "Adam=fast", "opts": "Adam,Bogus",
                                          "lr": "0.00045"})
    assert config.degree == 20 and config.rates == "" and config.optimizers == ("Adam",) and config.lr == 5e-4
    keys = {w.key for w in warnings}
    assert {"common.url.outside", "craft.url.rates", "common.url.unknown_items", "common.url.grid"} <= keys
    assert all("{" not in w.text("zh") for w in warnings)


BAD_CONFIGS = [
    (dict(experiment="race", surface="rosenbrock", start_x=5.0), "craft.errors.start"),
    (dict(rates="Adam:0.1"), "craft.errors.rates"),
    (dict(rates="Adam=abc"), "craft.errors.rates"),
    (dict(rates="Lion=0.1"), "craft.errors.rate_unknown"),
    (dict(rates="SGD=0"), "craft.errors.rate_range"),
    (dict(val_pct=40, test_pct=30), "craft.errors.split"),
    (dict(schedule="warmup", warmup_pct=0), "craft.errors.warmup"),
    (dict(method="grid", budget=60), "craft.errors.grid_budget"),
    (dict(experiment="csv"), "craft.errors.no_label"),
    (dict(experiment="csv", label="y", features=("x", "y")), "craft.errors.label_feature"),
    (dict(lr=0.0), "common.config.range"),
    (dict(surface="himmelblau"), "common.config.choice"),
    (dict(optimizers=()), "common.config.min_items"),
    (dict(patience=0), "common.config.range"),
    (dict(width=1000), "common.config.range"),
]


@pytest.mark.parametrize("changes,key", BAD_CONFIGS)
def test_bad_values_give_config_errors_with_catalogue_keys(changes, key):
    config = Config(**changes)
    with pytest.raises(ConfigError) as err:
        make_job(config)
    assert err.value.key == key
    for lang in ("en", "zh"):
        assert has(key, lang)
        assert "craft.fields" not in err.value.message(lang) and "{" not in err.value.message(lang)


def test_race_rates_come_from_the_tuned_table_unless_overridden():
    config = Config(surface="saddle", optimizers=("SGD", "Adam"), rates="adam=0.3")
    assert config.race_rates() == {"SGD": craft.TUNED_RATES["saddle"]["SGD"], "Adam": 0.3}
    assert craft.parse_rates(craft.format_rates({"SGD": 0.002, "Adam": 0.1})) == {"SGD": 0.002, "Adam": 0.1}


# ---------------------------------------------------------------------------------------------- contract
def test_every_experiment_runs_as_a_job_with_a_small_picklable_view():
    table = read_csv(blobs_csv())
    quick = {"race": dict(steps=30), "range": dict(steps=40), "csv": dict(label="kind", epochs=2)}
    for experiment in craft.EXPERIMENTS:
        config = replace(PRESETS["overfit"], **{"experiment": experiment, "epochs": 2, "subset": 100,
                                                 **quick.get(experiment, {})})
        job = make_job(config, data=table if experiment == "csv" else None)
        pickle.dumps(job._factory)  # the factory can travel to a worker process
        job.start()
        snap = wait(job)
        assert snap.state == JobState.FINISHED, (experiment, snap.error)
        assert snap.step == craft.planned_steps(config, table) or experiment == "range", experiment
        view = view_of(snap)
        assert isinstance(view, craft.View.__args__), experiment
        assert len(pickle.dumps(view)) < 1_000_000, experiment
        assert math.isfinite(snap.history["loss"][-1]) or experiment == "range"


def test_digits_model_is_explainable_as_pictures():
    trainer = make_trainer(replace(PRESETS["overfit"], epochs=2))
    for _ in range(4):
        trainer.train_step()
    explained = craft.explainable(trainer)
    assert explained.kind == "image" and explained.class_names == [str(d) for d in range(10)]
    assert explained.model(explained.x_test[:3]).shape == (3, 10)
    assert explained.card["lab"] == "craft" and "test_accuracy" in explained.card["metrics"]
    with pytest.raises(ConfigError):
        craft.explainable(make_trainer(PRESETS["poly_right"]))


# ---------------------------------------------------------------------------------------------- text and figures
def test_catalogues_have_the_same_keys_and_placeholders():
    for domain in ("craft", "tabular"):
        en = {k: v for k, v in catalogue("en").items() if k.startswith(domain + ".")}
        zh = {k: v for k, v in catalogue("zh").items() if k.startswith(domain + ".")}
        assert set(en) == set(zh), set(en) ^ set(zh)
        for key, template in en.items():
            assert placeholders(template) == placeholders(zh[key]), key
    names = [f"craft.fields.{f.name}" for f in Config.declared()]
    names += [f"craft.presets.{k}" for k in PRESETS] + [f"craft.presets.{k}_about" for k in PRESETS]
    names += [f"craft.experiments.{e}" for e in craft.EXPERIMENTS] + [f"craft.jobs.{e}" for e in craft.EXPERIMENTS]
    names += [f"craft.surfaces.{s}" for s in SURFACES] + [f"craft.schedules.{s}" for s in craft.SCHEDULES]
    names += [f"craft.optimizers.{o}" for o in OPTIMIZERS] + [f"craft.methods.{m}" for m in craft.METHODS]
    names += [f"craft.viz.param_{p}" for p in craft.PARAMS] + [f"craft.viz.method_{m}" for m in craft.METHODS]
    assert [n for n in names if not has(n, "en") or not has(n, "zh")] == []
    assert "优化器" in text("craft.fields.optimizer", "zh") and "过拟合" in text("craft.experiments.digits", "zh")


def test_figures_take_their_texts_from_the_catalogue():
    race = craft.race_now(PRESETS["race_saddle"])
    for lang in ("en", "zh"):
        fig = viz.race_figure(race, craft.surface_grid("saddle", n=41), lang=lang, frames=10)
        assert fig.layout.title.text == text("craft.viz.race_title", lang, steps=race.step)
        assert len(fig.frames) == 10 and fig.layout.updatemenus[0].buttons[0].label == text("craft.viz.play", lang)
        assert viz.race_losses(race, lang=lang).layout.yaxis.type == "log"
    trainer = train_in_process(make_trainer(replace(PRESETS["early_stopping"], epochs=30)))
    view = trainer.snapshot()
    fig = viz.fit_curves(view, lang="zh")
    assert fig.layout.title.text == text("craft.viz.gap_title", "zh", gap=view.gap_loss)
    assert [t.name for t in fig.data] == [text("craft.viz.train", "zh"), text("craft.viz.validation", "zh")]
    viz.weight_histograms_figure(view, lang="zh").to_json()
    viz.schedules_figure(craft.schedule_curves(0.01, 50), lang="zh", highlight="cosine").to_json()
    viz.bias_variance_figure(craft.bias_variance(PRESETS["poly_right"], range(1, 6), 20), lang="zh").to_json()
    search = craft.Search(replace(PRESETS["search_tpe"], epochs=1, subset=100), budget=3).run()
    table = viz.trial_table(search.view(), lang="zh")
    assert list(table.columns)[:3] == [text(f"craft.viz.{k}", "zh") for k in ("trial", "state", "score")]
    assert len(table) == 3
    assert viz.optuna_parallel(search.study, lang="zh").layout.title.text == text("craft.viz.parallel_title", "zh")
    viz.search_progress(search.view(), lang="zh").to_json()
