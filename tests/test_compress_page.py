"""Compression page (AppTest): it works on an example model while the shelf is empty, a shared address restores
the settings (and opens the tab of its task), the quantization table of a shelf model, the sparsity slider, a
fine-tuning job that lands on the shelf, and re-import: a good state_dict + card goes on the shelf, a wrong or
malicious file gets its message."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.compress import demo
from core.compress.export import export_bundle
from core.compress.prune import layer_sparsity
from core.labs import compress
from core.shelf import Shelf

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/compress/page.py"
TABS = {"prune": ":material/content_cut: Pruning", "quantize": ":material/compress: Quantization",
        "distill": ":material/school: Distillation", "export": ":material/ios_share: Export & re-import"}
SHARED = {"task": "distill", "student": "mlp", "width": "48", "temp": "8", "alpha": "0.5", "steps": "120",
          "opt": "AdamW", "lr": "0.003", "batch": "32", "seed": "7", "sparsity": "0.3", "prune": "global"}


@pytest.fixture(scope="module")
def mlp():
    return demo.digits_mlp(width=64, steps=300)


def open_page(query: dict[str, str] | None = None, *, shelf: Shelf | None = None, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query or {})
    if shelf is not None:
        at.session_state["_playground_shelf"] = shelf
    at.run()
    if tab is not None:
        at.session_state["cmp_tab"], at.session_state["cmp__section"] = TABS[tab], tab
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def query(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def shelf_with(model) -> Shelf:
    shelf = Shelf()
    shelf.add(model, model.description)
    return shelf


def test_an_empty_shelf_gets_an_example_and_the_settings_go_into_the_address():
    at = open_page()
    assert at.title[0].value == "Compress, transfer, export"
    assert at.segmented_control(key="cmp_from").value == "example"
    assert at.selectbox(key="cmp_example").value == "digits_cnn"
    assert any("shelf is empty" in c.value for c in at.caption)
    assert query(at) == {**compress.Config().to_query(), "lang": "en"}
    # the pruning tab measured the example: the unpruned accuracy is high, pruning half of it costs something real
    assert "test accuracy" in at.markdown[0].value or any("test accuracy" in m.value for m in at.markdown)
    accuracy = float(metric(at, "Accuracy").rstrip(" %"))
    assert 50 < accuracy <= 100
    assert metric(at, "Size on disk").endswith("KB")


def test_a_shared_address_restores_the_settings_and_opens_its_tab(mlp):
    at = open_page({**SHARED, "lang": "en"}, shelf=shelf_with(mlp))
    expected, warnings = compress.Config.from_query(SHARED)
    assert warnings == [] and at.session_state["cmp__config"] == expected
    assert any("The teacher is the model chosen above" in c.value for c in at.caption)  # the distillation tab
    assert at.segmented_control(key="cmp_student").value == "mlp"
    assert at.slider(key="cmp_width").value == 48 and at.slider(key="cmp_temperature").value == 8.0
    assert at.slider(key="cmp_alpha").value == 0.5 and at.select_slider(key="cmp_lr").value == 0.003
    assert at.number_input(key="cmp_steps").value == 120 and at.selectbox(key="cmp_optimizer").value == "AdamW"
    assert at.number_input(key="cmp_batch_size").value == 32 and at.number_input(key="cmp_seed").value == 7
    assert query(at) == {**expected.to_query(), "lang": "en"}
    # the model on the shelf is the page's model, and the link says it cannot carry it
    assert at.segmented_control(key="cmp_from").value == "shelf"
    assert any("not part of the link" in c.value for c in at.caption)


def test_quantization_table_of_a_shelf_model(mlp):
    at = open_page(shelf=shelf_with(mlp), tab="quantize")
    assert any("Smallest variant: dynamic int8" in m.value for m in at.markdown)
    assert metric(at, "Size on disk").endswith("KB")
    table = next(c for c in at.get("plotly_chart") if '"type":"table"' in c.proto.spec.replace(" ", ""))
    spec = table.proto.spec
    assert "float32 (original)" in spec and "dynamic int8" in spec
    # the numbers are the model's own: the table equals a fresh measurement's sizes and scores
    fresh = compress.quantization(mlp)
    assert f"{fresh.bytes[1] / 1024:,.1f}" in spec and f"{fresh.scores[0] * 100:.2f}" in spec


def test_the_sparsity_slider_prunes_more(mlp):
    at = open_page(shelf=shelf_with(mlp))
    low = float(metric(at, "Accuracy").rstrip(" %"))
    at.slider(key="cmp_sparsity").set_value(0.95).run()
    assert not at.exception
    high = float(metric(at, "Accuracy").rstrip(" %"))
    expected = compress.pruned_view(mlp, "magnitude", 0.95).pruned_score * 100
    assert high == pytest.approx(expected, abs=0.06) and high < low
    assert query(at)["sparsity"] == "0.95"


def test_a_fine_tuning_job_trains_and_lands_on_the_shelf(mlp):
    shelf = shelf_with(mlp)
    at = open_page({"steps": "30", "sparsity": "0.6"}, shelf=shelf)
    at.button(key="cmp_job_finetune__play").click().run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["cmp_job_finetune"]
    assert job.join(timeout=60)
    assert job.snapshot().step == 30
    entry = next(e for e in shelf.trained() if "fine-tuning the pruned model" in str(e.title))
    pruned = shelf.explainable(entry.id)  # what the shelf hands to the other pages: the pruned, fine-tuned copy
    assert layer_sparsity(pruned.model).overall == pytest.approx(0.6, abs=0.01)
    view = job.snapshot().view
    assert isinstance(view, compress.PruneView) and view.sparsity == pytest.approx(0.6, abs=0.01)


class _Boom:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_reimport_puts_a_good_bundle_on_the_shelf_and_refuses_bad_files(mlp):
    shelf = shelf_with(mlp)
    at = open_page(shelf=shelf, tab="export")
    assert [b.label for b in at.get("download_button")] == ["ONNX", "TorchScript", "Weights (state_dict)",
                                                            "Model card (JSON)"]
    weights, card = export_bundle(mlp)
    malicious = io.BytesIO()
    torch.save({"weight": torch.zeros(2), "payload": _Boom()}, malicious)
    uploads = {"cmp_up_weights": ("model.pt", malicious.getvalue(), "application/octet-stream"),
               "cmp_up_card": ("model.json", card.encode(), "application/json")}
    for key, value in uploads.items():
        at.get("file_uploader")[list(uploads).index(key)].set_value(value)
    at.run()
    at.button(key="cmp_import").click().run()
    assert any("Refused: this weights file holds Python objects" in e.value for e in at.error)
    assert len(shelf.trained()) == 1

    at.get("file_uploader")[0].set_value(("model.pt", pickle.dumps([1, 2]), "application/octet-stream"))
    at.run()
    at.button(key="cmp_import").click().run()
    assert any("does not hold a state_dict" in e.value or "not a PyTorch weights file" in e.value for e in at.error)

    at.get("file_uploader")[0].set_value(("model.pt", weights, "application/octet-stream"))
    at.get("file_uploader")[1].set_value(("model.json", b'{"format": "something else"}', "application/json"))
    at.run()
    at.button(key="cmp_import").click().run()
    assert any("not a Deep Learning Playground model card" in e.value for e in at.error)
    assert len(shelf.trained()) == 1

    at.get("file_uploader")[1].set_value(("model.json", card.encode(), "application/json"))
    at.run()
    at.button(key="cmp_import").click().run()
    assert not at.exception and not at.error
    assert any("On your shelf" in s.value for s in at.success)
    entries = shelf.trained()
    assert len(entries) == 2 and "Imported model" in str(entries[-1].title)
    imported = shelf.explainable(entries[-1].id)
    assert len(imported.x_test) == len(mlp.x_test)  # it borrowed the matching model's test set
    with torch.no_grad():
        assert torch.equal(imported.model(mlp.x_test[:8]), mlp.model(mlp.x_test[:8]))
    assert at.selectbox(key="cmp_model").value == entries[-1].id  # and became the page's model


def _pictures(kind: str, n: int) -> list[tuple[str, bytes, str]]:
    """``n`` little grey PNGs of a filled circle or square, at varying places and sizes."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0 if kind == "circle" else 1)
    files = []
    for i in range(n):
        image = Image.new("L", (32, 32), 0)
        draw = ImageDraw.Draw(image)
        x, y, r = (int(v) for v in rng.integers((9, 9, 5), (23, 23, 9)))
        (draw.ellipse if kind == "circle" else draw.rectangle)((x - r, y - r, x + r, y + r), fill=255)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        files.append((f"{kind}{i}.png", buf.getvalue(), "image/png"))
    return files


def test_few_shot_on_the_visitors_own_pictures():
    at = open_page({"task": "fewshot", "k": "1,2", "repeats": "1", "pre": "20", "runsteps": "5", "rotation": "0"})
    assert any("each method learns the new classes" in c.value for c in at.caption)  # the few-shot tab
    at.toggle(key="cmp_own").set_value(True).run()
    assert any("not part of the link" in c.value for c in at.caption)
    at.text_input(key="cmp_own_name0").set_value("ring").run()
    at.text_input(key="cmp_own_name1").set_value("box").run()
    uploads = [u for u in at.get("file_uploader") if u.accept_multiple_files]
    uploads[0].set_value(_pictures("circle", 8))
    uploads[1].set_value(_pictures("square", 8))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("2 classes of yours (box, ring)" in s.value for s in at.success)
    at.button(key="cmp_job_fewshot__play").click().run()
    job = at.session_state["cmp_job_fewshot"]
    assert job.join(timeout=90)
    view = job.snapshot().view
    assert isinstance(view, compress.FewShotView) and view.new_classes == ("box", "ring")
    assert len(view.base_classes) == 10 and view.runs_done == view.runs_total == 2 * 3
    assert np.isfinite(view.mean).all() and view.chance == 0.5


def test_pruned_view_is_what_pruning_alone_does(mlp):
    from core.compress.measure import saved_bytes, score
    from core.compress.prune import finalize, prune_model, sparse_state

    view = compress.pruned_view(mlp, "global", 0.7)
    pruned = finalize(prune_model(mlp.model, 0.7, "global"))
    assert view.step == 0 and view.sparsity == pytest.approx(0.7, abs=1e-3)
    assert view.pruned_score == view.score == score(pruned, mlp.x_test, mlp.y_test)
    assert view.dense_score == score(mlp.model, mlp.x_test, mlp.y_test) > view.pruned_score
    assert view.sparse_bytes == saved_bytes(sparse_state(pruned)) < view.dense_bytes == saved_bytes(mlp.model)
    assert int(round(float((view.layer_sparsity * view.layer_sizes).sum()))) == round(0.7 * view.layer_sizes.sum())


def test_a_shelf_backbone_that_reads_other_inputs_is_refused_before_the_job(mlp):
    from core.errors import DataError

    with pytest.raises(DataError, match=r"reads inputs of shape \[64\], but these images are \[1, 16, 16\]"):
        compress.make_job(compress.Config(task="fewshot", backbone="shelf"), mlp)
    at = open_page({"task": "fewshot", "backbone": "shelf"}, shelf=shelf_with(mlp))
    at.button(key="cmp_job_fewshot__play").click().run()
    assert any("reads inputs of shape [64]" in e.value for e in at.error)
    assert "cmp_job_fewshot" not in at.session_state  # nothing was submitted
