"""Attribution registry, trust checks and the bundled digits CNN (core.explain)."""

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.errors import ConfigError
from core.explain import (
    METHODS,
    InputSpec,
    attribute,
    attribute_many,
    compare_models,
    deletion_curve,
    last_conv,
    make_baseline,
    random_deletion_curve,
    randomization_check,
    rank_correlation,
    unsupported,
)
from core.explain.bundled import WEIGHTS, bundled_dataset, image_spec, load_bundled_digits
from core.explain.methods import one_thread
from core.explain.tabular import feature_importance, neuron_importance
from core.models.mlp import MLPSpec, build_mlp


@pytest.fixture(scope="module")
def bundled():
    model, meta = load_bundled_digits()
    ds = bundled_dataset(meta)
    return model, ds, image_spec(ds)


def _example(bundled, i=0):
    _, ds, _ = bundled
    return ds.x_test[i], int(ds.y_test[i])


def test_bundled_weights_load_with_weights_only_and_classify_digits(bundled):
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert WEIGHTS.stat().st_size < 2 * 1024 * 1024
    model, ds, _ = bundled
    with torch.no_grad():
        accuracy = (model(ds.x_test).argmax(1) == ds.y_test).float().mean().item()
    assert accuracy >= 0.95


def test_every_registry_entry_runs_on_the_bundled_model_with_the_input_shape(bundled):
    model, _, spec = bundled
    x, target = _example(bundled, 3)
    before = copy.deepcopy(model.state_dict())
    results = attribute_many(METHODS.names(), model, x, target, spec=spec, perturb_samples=60)
    assert list(results) == METHODS.names() and len(results) == 11
    for name, a in results.items():
        assert a.map.shape == tuple(x.shape), name
        assert np.isfinite(a.map).all() and np.abs(a.map).max() > 0, name
        assert a.seconds >= 0
    batched = attribute("Occlusion", model, x.unsqueeze(0), target, spec=spec)
    assert batched.map.shape == (1, *x.shape)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert last_conv(model)[0] == "features.conv3_2"


def test_integrated_gradients_is_complete_with_enough_steps(bundled):
    model, _, spec = bundled
    for i in (0, 40):
        x, target = _example(bundled, i)
        a = attribute("IntegratedGradients", model, x, target, spec=spec, ig_steps=256)
        assert a.delta_rel < 1e-2, (i, a.delta, a.output_diff)
        assert a.map.sum() == pytest.approx(a.output_diff, rel=1e-2)


def test_randomization_check_is_one_against_itself_and_low_for_saliency(bundled):
    model, _, spec = bundled
    x, target = _example(bundled, 0)
    for name in ("Saliency", "GradientShap", "NoiseTunnel"):
        assert compare_models(name, model, model, x, target, spec) == pytest.approx(1.0)
    a = attribute("Saliency", model, x, target, spec=spec)
    assert rank_correlation(a.map, a.map) == pytest.approx(1.0)
    rho = randomization_check("Saliency", model, x, target, spec, mode="full").correlations[0]
    assert rho < 0.5
    cascade = randomization_check("Saliency", model, x, target, spec, mode="cascading")
    assert cascade.steps[0] == "classifier.out" and len(cascade.steps) == 8  # BN goes with its conv
    assert max(cascade.correlations) < 0.9


def test_deletion_curve_of_occlusion_beats_random_order(bundled):
    model, _, spec = bundled
    x, target = _example(bundled, 5)
    occ = attribute("Occlusion", model, x, target, spec=spec)
    curve = deletion_curve(model, x, target, occ.pixels(), spec)
    ref = random_deletion_curve(model, x, target, spec)
    assert curve.fractions[0] == 0 and curve.fractions[-1] == 1
    with torch.no_grad():
        p0 = torch.softmax(model(x.unsqueeze(0)), 1)[0, target].item()
    assert curve.probs[0] == pytest.approx(p0, abs=1e-5)
    assert curve.auc < ref.auc - 0.1


def test_inplace_relu_model_works_with_deeplift_and_guided_backprop_without_being_changed():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 14 * 14, 10), nn.ReLU(inplace=True), nn.Linear(10, 3)).train()
    spec = InputSpec((1, 28, 28), ["a", "b", "c"])
    x = torch.rand(1, 28, 28)
    for name in ("DeepLift", "GuidedBackprop", "LayerGradCam"):
        a = attribute(name, model, x, 1, spec=spec)
        assert a.map.shape == x.shape and np.isfinite(a.map).all()
    assert model.training and model[1].inplace and model[5].inplace
    dl = attribute("DeepLift", model, x, 1, spec=spec)
    assert dl.delta_rel < 1e-2  # exact rescale rule for conv/ReLU/linear (max pooling aside)


def test_options_are_validated_with_readable_errors(bundled):
    model, _, spec = bundled
    x, target = _example(bundled, 0)
    with pytest.raises(ConfigError, match="baseline"):
        attribute("IntegratedGradients", model, x, target, spec=spec, baseline="grey")
    with pytest.raises(ConfigError, match="Unknown attribution method"):
        attribute("Magic", model, x, target, spec=spec)
    with pytest.raises(ConfigError, match="expects"):
        attribute("Saliency", model, torch.zeros(3, 8, 8), target, spec=spec)


def _planar_mlp():
    torch.manual_seed(0)
    model = build_mlp(MLPSpec(n_inputs=3, hidden=(4, 3), activation="Tanh"))
    x = torch.randn(300, 3) * 2
    y = (x[:, 0] > 0).long()  # only the first feature matters
    opt = torch.optim.Adam(model.parameters(), 0.05)
    with one_thread():
        for _ in range(150):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model, x


def test_feature_and_neuron_importance_for_a_planar_mlp():
    model, x = _planar_mlp()
    fi = feature_importance(model, x, names=["a", "b", "c"], target=1)
    assert fi.per_example.shape == (300, 3)
    assert fi.mean_abs[0] > 3 * max(fi.mean_abs[1], fi.mean_abs[2])
    assert fi.delta_rel < 0.02
    layers = neuron_importance(model, x, target=1)
    assert [len(layer.mean_abs) for layer in layers] == [4, 3]
    assert all(np.isfinite(layer.mean_abs).all() and layer.mean_abs.max() > 0 for layer in layers)


def test_feature_vector_models_run_the_applicable_methods():
    model, x = _planar_mlp()
    spec = InputSpec((3,), ["0", "1"], low=(-6.0,) * 3, high=(6.0,) * 3, black=(0.0,) * 3)
    reason = unsupported("DeepLift", model, x[:1], spec)
    assert "used once" in reason  # the MLP reuses one activation module
    with pytest.raises(ConfigError, match="used once"):
        attribute("DeepLift", model, x[0], 1, spec=spec)
    assert unsupported("LayerGradCam", model, x[:1], spec)
    usable = [m for m in METHODS.names() if not unsupported(m, model, x[:1], spec)]
    results = attribute_many(usable, model, x[0], 1, spec=spec, perturb_samples=50)
    for name, a in results.items():
        assert a.map.shape == (3,), name
    assert abs(results["IntegratedGradients"].map[0]) > abs(results["IntegratedGradients"].map[1:]).max()
    with pytest.raises(ConfigError, match="blurred"):
        attribute("IntegratedGradients", model, x[0], 1, spec=spec, baseline="blurred")


# ------------------------------------------------------------------------------------------- the page
def _page_with(state: dict, query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    page = Path(__file__).resolve().parents[1] / "pages" / "explain" / "page.py"
    at = AppTest.from_file(str(page), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _on_shelf(trainer, lab: str, steps: int):
    """A shelf holding one job that trained ``trainer`` for ``steps`` steps (as ``ui.session.shelf().track``)."""
    from core.jobs import TrainingJob
    from core.shelf import Shelf

    job = TrainingJob(trainer, total_steps=steps, name=f"{lab} test")
    job.start()
    assert job.join(120)
    shelf = Shelf()
    shelf.track(job, lab)
    return {"_playground_shelf": shelf}


def _query(at) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def test_page_explains_a_cnn_lab_model_from_this_session():
    from core.data.images import load_digits_dataset
    from core.labs import vision

    ds = load_digits_dataset(size=16)
    trainer = vision.make_trainer(vision.Config(blocks="8k3-max", fc=(16,), epochs=1), ds)
    at = _page_with(_on_shelf(trainer, "vision", 5))
    assert "CNN lab" in at.caption[0].value and "digits" in at.caption[0].value
    assert any("Why" in h.value for h in at.subheader)
    assert at.multiselect(key="ex_methods").value[0] == "Saliency"


@pytest.mark.parametrize("preset", ["circle", "bumps"])
def test_page_explains_a_network_builder_model_from_this_session(preset):
    from core.labs.planar import PRESETS, make_trainer

    trainer = make_trainer(PRESETS[preset])
    at = _page_with(_on_shelf(trainer, "planar", 20), {"model": "shelf"})
    assert "network you built" in at.caption[0].value
    assert any(h.value == "One point" for h in at.subheader)
    assert "DeepLift" not in at.multiselect(key="ex_point_methods").options  # the MLP reuses its activation


def test_page_url_round_trips_the_bundled_experiment():
    from core.explain.settings import Config

    at = _page_with({})
    assert _query(at) == {**Config().to_query(), "lang": "en"}  # opening the page puts its settings in the URL
    query = {"i": "7", "target": "chosen", "class": "4", "methods": "IntegratedGradients,Occlusion",
             "baseline": "noise", "ig": "64", "window": "4", "stride": "9", "check": "deletion", "lang": "zh"}
    at = _page_with({}, query)
    assert at.number_input(key="ex_index").value == 7
    assert at.segmented_control(key="ex_target").value == "chosen" and at.selectbox(key="ex_chosen").value == 4
    assert at.multiselect(key="ex_methods").value == ["IntegratedGradients", "Occlusion"]
    assert at.selectbox(key="ex_baseline").value == "noise" and at.slider(key="ex_ig_steps").value == 64
    assert at.slider(key="ex_occlusion_stride").value == 4  # a stride wider than its window is repaired, with a note
    assert any("stride" in w.value.lower() or "步长" in w.value for w in at.warning)
    assert "删除曲线" in at.tabs[1].label and at.get("plotly_chart")  # the deletion tab is open
    assert "“4”" in at.subheader[0].value and "#7" in at.subheader[0].value
    assert {k: _query(at)[k] for k in query} == {**query, "stride": "4"}


def test_page_says_when_a_shared_link_asks_for_a_model_of_this_visit():
    at = _page_with({}, {"model": "shelf"})
    assert at.info and "bundled" in at.info[0].value
    assert "Tiny VGG" in at.caption[0].value and any("Why" in h.value for h in at.subheader)


def test_page_explains_a_regression_grid_model_by_its_output():
    from core.labs.sequences import Config, RaceTrainer

    trainer = RaceTrainer(Config.for_task("memory", cells=("RNN", "LSTM"), hidden_size=8, seq_len=20))
    at = _page_with(_on_shelf(trainer, "sequences", 20), {"methods": "IntegratedGradients,Occlusion",
                                                          "check": "deletion"})
    assert "sequence lab" in at.caption[0].value
    assert at.subheader[0].value.startswith("What drives “sum”")
    keys = [w.key for w in at.segmented_control]
    assert "ex_target" not in keys and "ex_output" not in keys  # an output value: no classes, no softmax
    fig = at.get("plotly_chart")[0].proto.spec
    assert "true value" in fig and "Model's outputs" in fig


def test_sequence_models_run_every_applicable_method_with_the_input_shape():
    class Tagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn, self.out = nn.GRU(3, 8, batch_first=True), nn.Linear(8, 4)

        def forward(self, x):
            return self.out(self.rnn(x)[0][:, -1])

    torch.manual_seed(0)
    model, x = Tagger(), torch.randn(12, 3)
    spec = InputSpec((12, 3), list("abcd"), low=-3.0, high=3.0, black=0.0)
    usable = [m for m in METHODS.names() if not unsupported(m, model, x.unsqueeze(0), spec)]
    assert "LayerGradCam" not in usable and "IntegratedGradients" in usable
    results = attribute_many(usable, model, x, 2, spec=spec, perturb_samples=40, patch=2, occlusion_window=3)
    for name, a in results.items():
        assert a.map.shape == (12, 3) and np.isfinite(a.map).all(), name
    assert results["IntegratedGradients"].delta_rel < 0.05


def test_spectrogram_like_inputs_get_per_row_baselines_and_grad_cam():
    class SpecCNN(nn.Module):  # (batch, bands, frames) in, like the audio lab's log-mel CNN
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.act, self.pool = nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2)
            self.out = nn.Linear(16, 3)

        def forward(self, x):
            return self.out(self.pool(self.act(self.conv(x.unsqueeze(1)))).flatten(1))

    torch.manual_seed(0)
    model = SpecCNN()
    low, high = tuple(float(-i) for i in range(6)), tuple(float(10 - i) for i in range(6))
    spec = InputSpec((6, 20), ["a", "b", "c"], low=low, high=high)
    x = torch.rand(6, 20) * 5
    black = make_baseline("black", x.unsqueeze(0), spec)
    assert torch.equal(black[0, :, 0], torch.tensor(low)) and black.shape == (1, 6, 20)
    noise = make_baseline("noise", x.unsqueeze(0), spec, n=4)
    assert (noise >= torch.tensor(low).view(1, 6, 1)).all() and (noise <= torch.tensor(high).view(1, 6, 1)).all()
    cam = attribute("LayerGradCam", model, x, 0, spec=spec)
    assert cam.map.shape == (6, 20)
    curve = deletion_curve(model, x, 0, cam.pixels(), spec)
    assert curve.fractions[-1] == 1 and len(curve.probs) == len(curve.fractions)


# ------------------------------------------------------------------------------------------- reading any model
def _explainable(model, kind, spec, x, y, **kw):
    from core.explain.source import Explainable
    from core.i18n import Message

    return Explainable("test", kind, model.eval(), spec, x, y, Message("explain.page.title"), **kw)


def test_a_one_logit_binary_model_explains_both_classes_exactly():
    from core.explain.readout import explain, model_for, predict

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1))
    x = torch.randn(40, 3)
    src = _explainable(net, "features", InputSpec((3,), ["fake", "real"], low=(-3.0,) * 3, high=(3.0,) * 3,
                                                  black=(0.0,) * 3), x, (net(x)[:, 0] > 0).long(), binary=True)
    z = float(net(x[:1]).detach()[0, 0])
    pred = predict(src, x[0])
    assert pred.values == pytest.approx([1 / (1 + math.exp(z)), 1 / (1 + math.exp(-z))], abs=1e-6)
    for cls, sign in ((1, 1.0), (0, -1.0)):
        model, target = model_for(src, cls)
        assert target == 1 and float(model(x[:1]).detach()[0, 1]) == pytest.approx(sign * z, abs=1e-6)
    maps = {cls: explain(src, x[0], cls, ["IntegratedGradients", "GuidedBackprop"], {"ig_steps": 200})
            for cls in (0, 1)}
    ig0, ig1 = maps[0]["IntegratedGradients"], maps[1]["IntegratedGradients"]
    assert np.allclose(ig0.map, -ig1.map, atol=1e-6) and ig0.output_diff == pytest.approx(-ig1.output_diff, abs=1e-6)
    assert ig1.delta_rel < 1e-2 and ig0.target == 0
    assert np.abs(maps[0]["GuidedBackprop"].map).max() > 0  # class 0 is a real output, not a constant logit


def test_regression_outputs_are_values_and_their_deletion_curves_go_from_one_to_zero():
    from core.explain.readout import deletion, explain, predict

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    x = torch.rand(10, 3, 4)
    src = _explainable(net, "grid", InputSpec((3, 4), ["a", "b"], low=0.0, high=1.0), x, torch.rand(10, 2),
                       extra={"problem": "regression"})
    pred = predict(src, x[0], src.y_test[0])
    assert pred.regression and pred.best is None
    assert pred.values == pytest.approx(net(x[:1])[0].tolist(), abs=1e-6)
    assert pred.true_values == pytest.approx(src.y_test[0].tolist())
    maps = explain(src, x[0], 1, ["IntegratedGradients", "Occlusion"], {"output": "probability"})
    ig = maps["IntegratedGradients"]
    assert ig.map.shape == (3, 4) and ig.map.sum() == pytest.approx(ig.output_diff, rel=1e-4)  # the raw output
    found = deletion(src, x[0], 1, {n: a.map for n, a in maps.items()}, baseline="black")
    curve = found.curves["IntegratedGradients"]
    assert found.measure == "output" and curve.probs[0] == pytest.approx(1.0) and curve.probs[-1] == pytest.approx(0)
    assert curve.auc < found.reference.auc  # removing the most attributed cells first moves the output fastest


def test_feature_report_explains_each_points_predicted_class_of_a_multi_class_model():
    from core.explain.readout import feature_report

    model, x = _planar_mlp()
    three = nn.Sequential(model, nn.Linear(2, 3))
    src = _explainable(three, "features", InputSpec((3,), list("abc")), x[200:], x[200:, 0].long(),
                       x_train=x[:200])
    report = feature_report(src)
    assert report.examples == 300 and report.importance.per_example.shape == (300, 3)
    assert [len(layer.mean_abs) for layer in report.layers] == [4, 3, 1]  # the MLP's output neuron is hidden now
