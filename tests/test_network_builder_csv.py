"""The network builder on the visitor's own CSV: any number of classes through a softmax output (two keep the
single-output logistic network), regression in the label's units, the plane spanned by two numeric columns, the
test rows' confusion matrix, the table never in the link, and the page in AppTest."""

from __future__ import annotations

import functools
import pickle
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.data.tabular import read_csv
from core.errors import ConfigError
from core.jobs import JobState, build_seeded
from core.labs import planar
from core.viz.planar import confusion_matrix, decision_surface, network_diagram
from pages.network_builder.table import points

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
NAMES = ("setosa", "versicolor", "virginica")


def three_classes(rows: int = 180, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["petal,sepal,colour,species"]
    for i in range(rows):
        c = i % 3
        cx, cy = [(0, 0), (4, 1), (1, 4)][c]
        lines.append(f"{rng.normal(cx, 0.8):.3f},{rng.normal(cy, 0.8):.3f},{['red', 'blue'][i % 2]},{NAMES[c]}")
    return ("\n".join(lines) + "\n").encode()


def trained(config: planar.Config, data: bytes, steps: int) -> planar.PlanarTrainer:
    trainer = build_seeded(functools.partial(planar.make_trainer, config, read_csv(data)), config.seed)
    for _ in range(steps):
        trainer.train_step()
    return trainer


def valid(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # plotly validates every property here


def test_three_classes_train_a_softmax_network_and_show_their_colours_and_confusion():
    config = planar.Config(source="csv", csv_label="species", csv_features=("petal", "sepal"), hidden=(8, 8),
                           batch_size=16)
    job = planar.make_job(config, data=read_csv(three_classes()), total_steps=600)
    pickle.dumps(job._factory)  # the prepared table travels to a worker process
    job.start()
    deadline = time.monotonic() + 60
    while job.state.active and time.monotonic() < deadline:
        time.sleep(0.1)
    snap = job.snapshot()
    assert snap.state == JobState.FINISHED, snap.error
    view = snap.view
    assert view.widths == [2, 8, 8, 3] and view.class_names == NAMES
    assert view.metrics["test_accuracy"] > 0.9 and view.metrics["train_loss"] < 0.3
    assert view.axis_names == ("petal", "sepal") and view.exact_plane
    assert view.surface.shape == view.confidence.shape == (61, 61)
    assert set(np.unique(view.surface)) == {0.0, 1.0, 2.0}  # each class owns a region of the plane
    assert ((view.confidence > 1 / 3 - 1e-6) & (view.confidence <= 1 + 1e-6)).all()
    assert view.confusion.shape == (3, 3) and view.confusion.sum() == 90 and np.trace(view.confusion) >= 81
    lo, hi = view.axis[0], view.axis[-1]  # the plane covers the training rows, in the column's own units
    xy, y = points(planar.table_data(config, read_csv(three_classes())))
    assert lo < xy[:, 0].min() and xy[:, 0].max() < hi and set(y.tolist()) == {0, 1, 2}
    valid(decision_surface(view, (xy, y), discretize=True))
    valid(network_diagram(view, config.activation))
    valid(confusion_matrix(view))
    explained = job.inspect(planar.explainable)
    assert explained.spec.class_names == list(NAMES) and not explained.binary
    assert explained.model(explained.x_test[:4]).shape == (4, 3)


def test_two_classes_keep_the_single_logistic_output():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-3, 3, (200, 2))
    rows = "\n".join(f"{a:.3f},{b:.3f},{'yes' if a * b > 0 else 'no'}" for a, b in xy)
    trainer = trained(planar.Config(source="csv", csv_label="same", hidden=(8, 8), batch_size=16),
                      f"a,b,same\n{rows}\n".encode(), 800)
    assert trainer.spec.n_outputs == 1 and trainer.spec.binary
    view = trainer.snapshot(force=True)
    assert view.confidence is None and -1 <= view.surface.min() < 0 < view.surface.max() <= 1
    assert view.metrics["test_accuracy"] > 0.85 and view.class_names == ("no", "yes")
    valid(decision_surface(view, points(trainer.data)))


def test_regression_surface_is_in_the_labels_units():
    rng = np.random.default_rng(1)
    xy = rng.uniform(-3, 3, (200, 2))
    rows = "\n".join(f"{a:.3f},{b:.3f},{100 + 10 * a + rng.normal(0, 0.5):.3f}" for a, b in xy)
    config = planar.Config(source="csv", problem="regression", csv_label="price", hidden=(8,), batch_size=16,
                           lr=0.01)
    trainer = trained(config, f"a,b,price\n{rows}\n".encode(), 1500)
    view = trainer.snapshot(force=True)
    low, high = view.value_range
    assert 60 < low < 80 and 120 < high < 140 and view.confusion is None
    # the prediction rises with a by about 10 per unit, whatever b is
    slope = (view.surface[:, -1] - view.surface[:, 0]).mean() / (view.axis[-1] - view.axis[0])
    assert 7 < slope < 13
    assert view.metrics["test_loss"] < 0.1  # standardized units
    valid(decision_surface(view, points(trainer.data)))


def test_more_inputs_slice_the_plane_and_fewer_numeric_columns_have_none():
    config = planar.Config(source="csv", csv_label="species", hidden=(4,))
    view = trained(config, three_classes(), 5).snapshot(force=True)
    assert view.features[:2] == ("petal", "sepal") and len(view.features) == 4  # colour one-hot: two inputs
    assert view.axis_names == ("petal", "sepal") and not view.exact_plane
    valid(network_diagram(view, "Tanh"))
    one_numeric = replace_features(config, ("petal", "colour"))
    view = trained(one_numeric, three_classes(), 5).snapshot(force=True)
    assert view.axis_names == () and all(n.shape[1:] == (1, 1) for n in view.neurons)
    valid(network_diagram(view, "Tanh"))


def replace_features(config: planar.Config, features: tuple[str, ...]) -> planar.Config:
    from dataclasses import replace

    return replace(config, csv_features=features)


def test_the_table_and_its_columns_stay_out_of_the_link():
    config = planar.Config(source="csv", problem="regression", csv_label="price", csv_features=("a", "b"))
    query = config.to_query()
    assert query["source"] == "csv" and "label" not in query and "columns" not in query
    back, warnings = planar.Config.from_query(query)
    assert warnings == [] and back.source == "csv" and back.problem == "regression" and back.csv_label == ""
    assert back.dataset == "circle"  # a table's task is not "repaired" to the generated set's


def test_a_table_job_needs_a_table_and_a_label_and_fails_at_the_door():
    with pytest.raises(ConfigError, match="Upload a CSV"):
        planar.make_job(planar.Config(source="csv", csv_label="species"))
    with pytest.raises(ConfigError, match="label column"):
        planar.make_job(planar.Config(source="csv"), data=read_csv(three_classes()))
    with pytest.raises(ConfigError, match="cannot also be a feature"):
        planar.Config(source="csv", csv_label="species", csv_features=("species",)).validate()
    with pytest.raises(Exception, match="only one value"):
        planar.make_job(planar.Config(source="csv", csv_label="colour"), data=read_csv(
            b"a,b,colour\n" + b"".join(b"%d,%d,red\n" % (i, i * i) for i in range(30))))


def test_the_page_trains_on_a_table_and_shows_its_surface_and_confusion_matrix():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"source": "csv", "layers": "8,8"})
    at.run()
    at.switch_page("pages/network_builder/page.py")
    at.run()
    assert not at.exception and any("Upload a CSV" in i.value for i in at.info)
    at.session_state["nb_csv_table"] = ("three.csv", read_csv(three_classes()))  # what the uploader's callback keeps
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="nb_csv_label").value == "species"
    at.multiselect(key="nb_csv_features").set_value(["petal", "sepal"]).run()
    assert "label" not in at.query_params and at.query_params["source"] in ("csv", ["csv"])
    next(b for b in at.button if b.label == "Play").click().run()
    job = at.session_state["nb_job"]
    try:
        deadline = time.monotonic() + 60
        while job.step < 300 and time.monotonic() < deadline:
            time.sleep(0.1)
        job.pause()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        charts = {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}
        assert {"nb_surface", "nb_confusion", "nb_diagram"} <= set(charts), sorted(charts)
        assert "Confusion matrix (test rows)" in charts["nb_confusion"] and "setosa" in charts["nb_surface"]
        assert any("3 classes (setosa, versicolor, virginica)" in c.value for c in at.caption)
        assert job.trainer.spec.n_outputs == 3
    finally:
        job.stop()
