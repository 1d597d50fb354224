"""CNN lab: conv arithmetic equals real forward shapes, residual blocks add their input, feature maps equal
forward hooks, uploads are validated, a short training run really learns the digits, and the lab's settings
(the whole architecture included) round-trip through the URL."""

from __future__ import annotations

import functools
import io
import pickle
import zipfile
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from core import i18n
from core.data import DATASETS
from core.data import images as image_data
from core.data.images import (
    Augmentation,
    augmentation_preview,
    dataset_from_files,
    load_digits_dataset,
    load_image_dataset,
    load_shapes_dataset,
    load_uploaded_dataset,
    read_image_zip,
)
from core.errors import ConfigError, DataError
from core.inspect.evaluation import evaluate_classifier
from core.inspect.feature_maps import feature_layers, feature_maps
from core.inspect.filters import conv_filters
from core.jobs import TrainingJob, build_seeded
from core.labs import vision
from core.models import MODELS
from core.models.cnn import CNNConfig, ConvBlock, ResidualBlock, build_cnn, count_params, layer_table, preset
from core.shelf import Shelf
from core.viz.images import channel_grid, confusion_matrix, feature_flow, filter_grid, image_grid

torch.set_num_threads(1)  # the machine is shared
PRESETS = MODELS.names("cnn")
INPUTS = [(1, 8), (1, 16), (1, 28), (3, 32), (3, 64)]
CUSTOM = [
    CNNConfig(1, 28, 10, blocks=(ConvBlock(8, 5, 2, 0, pool="avg"), ConvBlock(12, 3, 1, 0, convs=2, pool="none")),
              fc=(32, 16), batch_norm=False, activation="gelu", dropout=0.3),
    CNNConfig(3, 32, 4, blocks=(ConvBlock(8, 7, 1, 3, pool="max"), ConvBlock(16, 5, 2, 2, residual=True, pool="none"),
                                ConvBlock(16, 3, 1, 1, residual=True, pool="max")), fc=(), global_pool=True),
    CNNConfig(1, 16, 3, blocks=(ConvBlock(4, 4, 3, 1, convs=3, pool="none"),), fc=(8,), batch_norm=False,
              activation="tanh"),
]


@pytest.fixture(scope="module")
def digits8():
    return load_digits_dataset(8)


def _forward_shapes(model, x):
    shapes, hooks = {}, []
    for name, module in model.named_modules():
        if name:
            hooks.append(module.register_forward_hook(
                lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))))
    model.eval()
    with torch.no_grad():
        out = model(x)
    for hook in hooks:
        hook.remove()
    return shapes, out


# ------------------------------------------------------------------------------------------ models
@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("channels,size", INPUTS)
def test_layer_table_equals_real_forward_shapes_for_every_preset(name, channels, size):
    config = preset(name, channels, size, 7)
    rows = layer_table(config)
    model = build_cnn(config)
    shapes, out = _forward_shapes(model, torch.randn(2, channels, size, size))
    assert out.shape == (2, 7)
    for row in rows:
        assert shapes[row.name] == row.out_shape, row.name
        assert count_params(model.get_submodule(row.name)) == row.params, row.name
    assert sum(r.params for r in rows) == count_params(model)
    assert rows[-1].out_shape == (7,)


@pytest.mark.parametrize("config", CUSTOM, ids=["stride-avg-gelu", "residual-projection", "kernel4-stride3"])
def test_layer_table_equals_forward_shapes_for_custom_stacks(config):
    rows = layer_table(config)
    shapes, out = _forward_shapes(build_cnn(config), torch.randn(3, config.in_channels, config.image_size,
                                                                 config.image_size))
    assert [shapes[r.name] for r in rows] == [r.out_shape for r in rows]
    assert out.shape == (3, config.num_classes)


def test_conv_arithmetic_and_receptive_field_by_hand():
    rows = {r.name: r for r in layer_table(CUSTOM[0])}
    conv = rows["features.conv1"]  # 28 → ⌊(28 + 0 − 5) / 2⌋ + 1 = 12
    assert conv.out_shape == (8, 12, 12) and conv.params == 8 * 1 * 25 + 8 and conv.receptive_field == 5
    assert rows["features.pool1"].out_shape == (8, 6, 6) and rows["features.pool1"].receptive_field == 5 + 2
    assert conv.macs == 8 * 12 * 12 * 25


@pytest.mark.parametrize("config,message", [
    (CNNConfig(1, 8, 10, blocks=(ConvBlock(8, 11, 1, 0),)), "does not fit"),
    (CNNConfig(1, 8, 10, blocks=(ConvBlock(8), ConvBlock(8), ConvBlock(8), ConvBlock(8))), "pooling"),
    (CNNConfig(3, 64, 10, blocks=(ConvBlock(512, pool="none"),), fc=(4096,)), "parameters"),
    (CNNConfig(1, 16, 10, blocks=(ConvBlock(8, 4, residual=True),)), "odd kernel"),
    (CNNConfig(1, 16, 10, activation="swish"), "activation"),
])
def test_impossible_networks_raise_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        build_cnn(config)


@pytest.mark.parametrize("cin,cout,stride", [(8, 8, 1), (8, 16, 2)])
def test_resnet_block_output_equals_input_plus_residual(cin, cout, stride):
    torch.manual_seed(0)
    block = ResidualBlock(cin, cout, 3, stride, batch_norm=True, activation="relu").eval()
    x = torch.randn(2, cin, 8, 8)
    with torch.no_grad():
        out, residual, skip = block(x), block.branch(x), block.shortcut(x)
    if cin == cout and stride == 1:
        assert isinstance(block.shortcut, torch.nn.Identity)
        torch.testing.assert_close(out, x + residual)
    else:
        assert skip.shape == out.shape != x.shape
    torch.testing.assert_close(out, skip + residual)
    assert residual.abs().mean() > 0.01  # the residual really contributes


def test_tiny_resnet_identity_blocks_add_their_input():
    model = build_cnn(preset("Tiny ResNet", 1, 16, 10)).eval()
    seen = {}
    model.features.res2.register_forward_hook(lambda m, i, o: seen.update(x=i[0], out=o))
    with torch.no_grad():
        model(torch.randn(2, 1, 16, 16))
        torch.testing.assert_close(seen["out"], seen["x"] + model.features.res2.branch(seen["x"]))


# ------------------------------------------------------------------------------------ inspection
@pytest.mark.parametrize("name", ["Tiny VGG", "Tiny ResNet", "LeNet-5"])
def test_feature_maps_of_every_layer_equal_a_forward_hook(name, digits8):
    ds = load_digits_dataset(16)
    model = build_cnn(preset(name, 1, 16, 10))
    model.train()
    x = ds.x_test[:1]
    flow = feature_maps(model, x)
    assert model.training  # the mode is restored
    assert [m.name for m in flow.maps] == [n for n, _, _ in feature_layers(model)]
    model.eval()
    for fm in flow.maps:
        captured = {}
        hook = model.get_submodule(fm.name).register_forward_hook(
            lambda m, i, o, box=captured: box.update(out=o))
        with torch.no_grad():
            logits = model(x)
        hook.remove()
        np.testing.assert_allclose(fm.values, captured["out"][0].numpy(), rtol=1e-5, atol=1e-6, err_msg=fm.name)
        with torch.no_grad():  # and equal to running the first k+1 feature layers by hand
            part, layer = fm.name.split(".")
            seq = getattr(model, part)
            prefix = seq[: list(seq._modules).index(layer) + 1](x if part == "features" else model.features(x))
        np.testing.assert_allclose(fm.values, prefix[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(flow.probs, torch.softmax(logits[0], 0).numpy(), rtol=1e-5, atol=1e-6)
    kinds = {m.kind for m in flow.maps}
    assert {"conv", "activation", "pool"} <= kinds or "residual" in kinds


def test_filters_are_detached_copies_and_rgb_first_layer_is_flagged():
    model = build_cnn(preset("Tiny VGG", 3, 32, 4))
    filters = conv_filters(model)
    assert filters[0].rgb and not filters[1].rgb
    assert filters[0].weights.shape == (16, 3, 3, 3)
    before = filters[0].weights.copy()
    with torch.no_grad():
        model.features.conv1_1.weight.add_(1.0)
    np.testing.assert_array_equal(filters[0].weights, before)
    assert len(filters) == sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())


def test_evaluation_counts_match_predictions(digits8):
    model = build_cnn(preset("Tiny VGG", 1, 8, 10))
    result = evaluate_classifier(model, digits8.x_test, digits8.y_test, 10)
    assert result.confusion.sum() == len(digits8.y_test)
    assert result.accuracy == pytest.approx(np.trace(result.confusion) / len(digits8.y_test))
    wrong = result.misclassified(limit=1000)
    assert len(wrong) == int((result.y_pred != result.y_true).sum())
    confidence = result.probs[wrong, result.y_pred[wrong]]
    assert np.all(np.diff(confidence) <= 1e-7)


def test_figures_build(digits8):
    model = build_cnn(preset("Tiny VGG", 1, 8, 10))
    flow = feature_maps(model, digits8.x_test[:1])
    fig = feature_flow(flow, digits8.raw(digits8.x_test[:1])[0].permute(1, 2, 0).numpy(), digits8.classes,
                       skip_kinds=("batchnorm",))
    assert len(fig.data) == 2 + sum(m.kind != "batchnorm" for m in flow.maps)
    assert filter_grid(conv_filters(model)[1]).data[0].z.shape[1] > 0
    assert filter_grid(conv_filters(build_cnn(preset("LeNet-5", 3, 32, 4)))[0]).data[0].type == "image"
    assert channel_grid(flow.maps[0]).data[0].type == "heatmap"
    assert confusion_matrix(np.eye(3, dtype=int) * 5, ["a", "b", "c"], normalize=True).data[0].z[0][0] == 1.0
    assert image_grid(np.random.rand(5, 3, 8, 8), ["x"] * 5, cols=3).data[0].z.shape[2] == 3


# ------------------------------------------------------------------------------------------ data
def test_digits_split_normalisation_and_registry(digits8):
    assert {"digits", "shapes", "your images"} <= set(DATASETS.names("images"))
    sizes = digits8.split_sizes()
    assert sum(sizes.values()) == 1797 and sizes["test"] > 250
    assert abs(float(digits8.x_train.mean())) < 1e-4 and float(digits8.x_train.std()) == pytest.approx(1, abs=1e-2)
    assert set(digits8.class_counts("test").values()) >= {26}  # stratified: every class in every split
    assert load_image_dataset("digits", size=28).x_train.shape[1:] == (1, 28, 28)
    assert load_image_dataset("digits").input_shape == (1, 16, 16)
    with pytest.raises(ConfigError):
        load_digits_dataset(12)


def _canvas_with(digit: np.ndarray, px: int, top: int, left: int) -> np.ndarray:
    """An RGBA canvas like st_canvas returns: transparent, with ``digit`` drawn ``px`` pixels large."""
    canvas = np.zeros((280, 280, 4), np.uint8)
    big = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((px, px), Image.Resampling.BILINEAR))
    canvas[top:top + px, left:left + px, :3] = big[:, :, None]
    canvas[top:top + px, left:left + px, 3] = 255
    return canvas


def test_drawing_preprocess_matches_training_digits_wherever_it_is_drawn(digits8):
    from sklearn.datasets import load_digits

    digit = load_digits().images[7] / 16.0  # an 8×8 "7"
    centred = digits8.preprocess(_canvas_with(digit, 200, 40, 40))
    x, shown = centred
    assert x.shape == (1, 1, 8, 8) and shown.shape == (8, 8, 1)
    assert np.corrcoef(shown.ravel(), digit.ravel())[0, 1] > 0.75
    small_corner = digits8.preprocess(_canvas_with(digit, 96, 10, 170))[1]  # cropped and centred the same way
    assert np.corrcoef(small_corner.ravel(), shown.ravel())[0, 1] > 0.95
    paper = 255 - _canvas_with(digit, 200, 40, 40)[:, :, :3]  # dark ink on white paper is inverted
    assert np.corrcoef(digits8.preprocess(paper)[1].ravel(), shown.ravel())[0, 1] > 0.95
    blank = digits8.preprocess(np.zeros((280, 280, 4), np.uint8))[1]
    assert blank.max() == 0


def test_shapes_are_generated_deterministically():
    a = load_shapes_dataset(per_class=20, seed=3)
    b = load_shapes_dataset(per_class=20, seed=3)
    assert a.classes == ["circle", "square", "triangle", "star"] and a.channels == 3 and a.size == 32
    torch.testing.assert_close(a.x_train, b.x_train)
    assert sum(a.split_sizes().values()) == 80
    assert not torch.equal(a.x_train, load_shapes_dataset(per_class=20, seed=4).x_train)


def test_augmentation(digits8):
    x = digits8.x_train[:16]
    gen = torch.Generator().manual_seed(0)
    assert Augmentation()(x, gen) is x
    flipped = Augmentation(flip=True)(x, gen)
    for a, b in zip(x, flipped, strict=True):
        assert torch.allclose(b, a, atol=1e-5) or torch.allclose(b, a.flip(-1), atol=1e-5)
    moved = Augmentation(shift=0.2, rotation=30)(x, gen)
    assert moved.shape == x.shape and not torch.allclose(moved, x)
    noisy = Augmentation(noise=0.5)(x, gen)
    assert float((noisy - x).std()) == pytest.approx(0.5, rel=0.15)
    images, titles = augmentation_preview(digits8, Augmentation(shift=0.1), n_images=2, n_versions=3)
    assert images.shape == (8, 1, 8, 8) and len(titles) == 8 and images.min() >= 0 and images.max() <= 1


# ------------------------------------------------------------------------------------------ uploads
def _png(colour=(200, 30, 30), size=(12, 10), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, format="PNG")
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buf.getvalue()


def _good_entries(prefix: str = "") -> dict[str, bytes]:
    entries = {f"{prefix}red/{i}.png": _png((200 + i, 20, 20)) for i in range(6)}
    entries |= {f"{prefix}blue/{i}.jpg": _png((20, 20, 200 + i)) for i in range(6)}
    entries["__MACOSX/red/._0.png"] = b"junk"
    return entries


def test_a_good_zip_becomes_a_dataset():
    ds = load_uploaded_dataset(zip_bytes=_zip(_good_entries("my pictures/")), size=16)
    assert ds.classes == ["blue", "red"] and ds.channels == 3 and ds.size == 16
    assert sum(ds.split_sizes().values()) == 12 and min(ds.class_counts("test").values()) >= 1
    red = ds.raw(ds.x_train[ds.y_train == 1])
    assert float(red[:, 0].mean()) > 0.7 and float(red[:, 2].mean()) < 0.2
    gray = dataset_from_files({"a": [(f"{i}.png", _png(10 * i, mode="L")) for i in range(5)],
                               "b": [(f"{i}.png", _png(200, mode="L")) for i in range(5)]}, size=8)
    assert gray.channels == 1  # all grey → one channel


def _bomb_png() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (6000, 6000)).save(buf, format="PNG")  # 36 megapixels in a few kilobytes
    return buf.getvalue()


@pytest.mark.parametrize("case,message", [
    ("not_zip", "not a readable zip"),
    ("text_file", "not an image file"),
    ("fake_png", "not an image PIL can read"),
    ("truncated", "damaged or truncated"),
    ("pixel_bomb", "decompression bomb"),
    ("zip_bomb", "zip bomb"),
    ("one_class", "at least two classes"),
    ("traversal", "outside the archive"),
    ("absolute", "outside the archive"),
    ("loose_file", "not inside a class folder"),
    ("too_few", "at least 5 images"),
])
def test_bad_uploads_are_rejected_with_a_message(case, message):
    entries = _good_entries()
    if case == "not_zip":
        data = b"PK\x03\x04 this is not really a zip"
    else:
        if case == "text_file":
            entries["red/notes.txt"] = b"hello"
        elif case == "fake_png":
            entries["red/fake.png"] = b"hello, I am text"
        elif case == "truncated":
            entries["red/cut.png"] = _png(size=(64, 64))[:60]
        elif case == "pixel_bomb":
            entries["red/huge.png"] = _bomb_png()
        elif case == "zip_bomb":
            entries["red/zeros.png"] = b"\0" * (5 * 1024 * 1024)
        elif case == "one_class":
            entries = {k: v for k, v in entries.items() if "blue" not in k}
        elif case == "traversal":
            entries["../evil/0.png"] = _png()
        elif case == "absolute":
            entries["/etc/0.png"] = _png()
        elif case == "loose_file":
            entries["stray.png"] = _png()
        elif case == "too_few":
            entries = {k: v for k, v in entries.items() if not k.startswith("blue/") or k < "blue/2"}
        data = _zip(entries)
    with pytest.raises(DataError, match=message):
        load_uploaded_dataset(zip_bytes=data, size=16)


def test_upload_limits(monkeypatch):
    monkeypatch.setattr(image_data, "MAX_FILES", 5)
    with pytest.raises(DataError, match="limit"):
        read_image_zip(_zip(_good_entries()))
    monkeypatch.setattr(image_data, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(DataError, match="limit"):
        read_image_zip(b"x" * 2000)
    with pytest.raises(DataError, match="at least two classes"):
        dataset_from_files({"only": [("a.png", _png())] * 6})


# ------------------------------------------------------------------------------------------ training
def test_short_training_run_learns_the_digits(digits8):
    config = vision.Config(digit_size=8, epochs=3, lr=0.005, batch_size=64)
    job = vision.make_job(config, digits8).start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.error is None and snap.step == 3 * 20
    assert snap.evals["val_accuracy"][-1] > 0.9
    first = conv_filters(build_cnn(preset("Tiny VGG", 1, 8, 10).with_data(1, 8, 10)))
    assert isinstance(snap.view, vision.View) and snap.view_step == snap.step == snap.view.step
    trained = snap.view.filters[0].weights
    assert trained.shape == first[0].weights.shape
    result = job.inspect(vision.evaluation)
    assert result.accuracy > 0.93
    assert snap.history["lr"][-1] < 0.25 * config.lr  # cosine decay
    shelf = Shelf()  # the Explain page gets the trained model through the shelf
    model = shelf.explainable(shelf.track(job, "vision").id)
    assert model.lab == "vision" and model.card["metrics"]["test_accuracy"] == result.accuracy


def test_early_stopping_ends_the_run(digits8):
    """A learning rate too small to improve anything (below what the page offers, so built by hand): patience 1
    stops the run after one epoch without a better validation loss."""
    config = vision.Config(digit_size=8, epochs=20, optimizer="SGD", patience=1).with_preset("lenet")
    trainer = vision.VisionTrainer(replace(config, lr=1e-9), digits8)
    job = TrainingJob(trainer, total_steps=trainer.total_steps, eval_every=trainer.eval_every).start()
    assert job.join(60)
    assert job.snapshot().step < 20 * 20 and trainer.done


def test_bad_training_settings_are_config_errors(digits8):
    with pytest.raises(ConfigError, match="1 to 200 epochs"):
        vision.make_job(vision.Config(digit_size=8, epochs=0), digits8)
    with pytest.raises(ConfigError, match="does not fit"):
        vision.make_job(vision.Config(digit_size=8, blocks="8k11p0-max"), digits8)


def test_fit_trains_in_place_for_other_pages(digits8):
    trainer = vision.fit(vision.Config(digit_size=8, epochs=2, lr=0.005, seed=1), digits8)
    assert not trainer.model.training and trainer.dataset is digits8
    assert evaluate_classifier(trainer.model, digits8.x_test, digits8.y_test, 10).accuracy > 0.85


# ------------------------------------------------------------------------------------------ the lab's shape
@pytest.mark.parametrize("name", list(vision.PRESETS))
@pytest.mark.parametrize("source,size", [("digits", 8), ("digits", 16), ("digits", 28), ("shapes", 16),
                                         ("upload", 64)])
def test_every_preset_round_trips_through_the_block_text(name, source, size):
    config = vision.Config(source=source, digit_size=size if source == "digits" else 16,
                           upload_size=size if source == "upload" else 32).with_preset(name)
    channels, image, classes = config.input_shape()
    expected = preset(vision.PRESETS[name], channels, image, classes)
    assert vision.parse_blocks(config.blocks) == expected.blocks
    assert vision.format_blocks(vision.parse_blocks(config.blocks)) == config.blocks
    rebuilt = config.cnn(channels, image, classes)
    assert [r.out_shape for r in layer_table(rebuilt)] == [r.out_shape for r in layer_table(expected)]
    assert vision.Config.from_query(config.to_query())[0] == replace(config, upload_size=32)  # uploads: not in URL


def test_block_text_by_hand():
    blocks = vision.parse_blocks(" 8K5p0x3-avg , r16k3s2-none,4k1 ")
    assert blocks == (ConvBlock(8, 5, 1, 0, 3, "avg"), ConvBlock(16, 3, 2, 1, 1, "none", True), ConvBlock(4, 1, 1, 0))
    assert vision.format_blocks(blocks) == "8k5p0x3-avg,r16k3s2-none,4k1-max"
    for bad, n in (("16k3x2-maxx", 1), ("16k3,sixteen", 2), ("16-max", 1)):
        with pytest.raises(ConfigError, match=f"Block {n}: “"):
            vision.parse_blocks(bad)


def test_a_shared_url_restores_every_setting():
    config = vision.Config(source="shapes", shapes_per_class=250, shapes_noise=0.1, aug_shift=10, aug_rotation=15,
                           aug_flip=True, preset="resnet", blocks="8k3-none,r8k3-none,r16k3s2-none", fc=(32, 16),
                           batch_norm=False, activation="gelu", dropout=0.3, global_pool=True, optimizer="Momentum",
                           lr=0.01, batch_size=32, epochs=5, patience=2, weight_decay=1e-4, seed=42,
                           slow_motion=True).validate()
    query = config.to_query()
    assert query["blocks"] == "8k3-none,r8k3-none,r16k3s2-none" and query["fc"] == "32,16"
    assert "up_size" not in query and "up_color" not in query
    again, warnings = vision.Config.from_query(query)
    assert again == config and warnings == []
    assert again.edited and "(edited)" in again.title()


def test_bad_hand_edited_urls_become_warnings():
    config, warnings = vision.Config.from_query({"lr": "7", "epochs": "nope", "flip": "1", "batch": "50"})
    assert (config.lr, config.epochs, config.aug_flip, config.batch_size) == (0.3, 8, False, 64)
    text = " ".join(warnings)
    assert "lr=7" in text and "epochs=nope" in text and "mirroring is off for digits" in text
    config, warnings = vision.Config.from_query({"data": "digits", "size": "8", "blocks": "16k3-max,32k3-max,64k3-max,"
                                                 "64k3-max", "preset": "lenet"})
    assert config.blocks == vision.Config(digit_size=8).with_preset("lenet").blocks  # 4 poolings do not fit 8×8
    assert "pooling" in warnings[0] and "LeNet-5 preset" in warnings[0]
    config, warnings = vision.Config.from_query({"blocks": "16k3-swirl"})
    assert config.blocks == vision.Config().blocks and "not a conv block" in warnings[0]


def test_the_first_filters_shown_are_the_ones_training_starts_from(digits8):
    config = vision.Config(digit_size=8, seed=7)
    trainer = build_seeded(functools.partial(vision.make_trainer, config, digits8), config.seed)
    before = vision.initial_view(config, 1, 8, 10)
    for shown, real in zip(before.filters, vision.current_view(trainer).filters, strict=True):
        np.testing.assert_array_equal(shown.weights, real.weights)
    trainer.train_step()
    after = vision.current_view(trainer)
    assert after.step == 1 and not np.array_equal(after.filters[0].weights, before.filters[0].weights)
    assert len(pickle.dumps(after)) < 1_000_000


def test_the_same_seed_trains_the_same_network_whatever_else_draws_random_numbers(digits8):
    config = vision.Config(digit_size=8, seed=3)  # dropout 0.2: masks are drawn at every step
    runs = []
    for noise in (0, 1000):
        trainer = build_seeded(functools.partial(vision.make_trainer, config, digits8), config.seed)
        for _ in range(6):
            torch.rand(noise)  # another job (or the page) using torch's shared generator meanwhile
            trainer.train_step()
        runs.append(trainer.model.classifier.out.weight.detach().clone())
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)


def test_inspections_and_explainable_read_the_real_model(digits8):
    config = vision.Config(digit_size=8, epochs=1)
    trainer = build_seeded(functools.partial(vision.make_trainer, config, digits8), config.seed)
    for _ in range(10):
        trainer.train_step()
    x = digits8.x_test[:1]
    probs = vision.predict_proba(trainer, x)
    flow = vision.feature_maps(trainer, x)
    np.testing.assert_allclose(probs, flow.probs, rtol=1e-5, atol=1e-6)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    result = vision.evaluation(trainer)
    assert result.confusion.sum() == len(digits8.y_test)
    model = vision.explainable(trainer)
    assert model.kind == "image" and model.dataset is digits8 and not model.model.training
    assert model.model is not trainer.model and model.card["metrics"]["test_accuracy"] == result.accuracy
    with torch.no_grad():
        torch.testing.assert_close(model.model(x), trainer.predict(x))
    assert "Tiny VGG" in model.description and "digits" in model.description
    pickle.dumps(model)
    shapes = load_shapes_dataset(per_class=20)
    assert [str(c) for c in vision.class_names(shapes)] == ["circle", "square", "triangle", "star"]
    assert [c.text("zh") for c in vision.class_names(shapes)] == ["圆形", "正方形", "三角形", "星形"]


def test_an_upload_cannot_be_rebuilt_from_the_url_alone():
    with pytest.raises(ConfigError, match="not part of the link"):
        vision.make_job(vision.Config(source="upload"))


def test_the_lab_catalogue_has_every_key_in_both_languages():
    en = {k: v for k, v in i18n.catalogue("en").items() if k.startswith("vision.")}
    zh = {k: v for k, v in i18n.catalogue("zh").items() if k.startswith("vision.")}
    assert en.keys() == zh.keys()
    for key, text in en.items():
        assert i18n.placeholders(text) == i18n.placeholders(zh[key]), key
    for f in vision.Config.declared():
        assert f.label in en, f.label
        for choice in f.setting.choices or ():
            assert f"vision.choices.{f.name}.{choice}" in en, (f.name, choice)
    assert "卷积" in zh["vision.page.lede"] and "池化" in zh["vision.page.lede"]
