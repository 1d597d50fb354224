"""Compression page in a real Chromium: export the example model as ONNX and download it (the file passes
onnx.checker and gives the outputs of the network rebuilt from the downloaded weights + card), then re-import that
state_dict + card through the upload widgets; it appears on the model shelf and becomes the page's model."""

import io
import json
import time

import numpy as np
import pytest
import torch

from core.compress.export import import_bundle, run_onnx
from tests.e2e.conftest import assert_no_exception, open_page

pytestmark = pytest.mark.e2e
TITLE = "Compress, transfer, export"


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def download(page, name: str) -> tuple[bytes, str]:
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=name, exact=True).click()
    path = info.value.path()
    return open(path, "rb").read(), info.value.suggested_filename


def upload(page, label: str, name: str, data: bytes, mime: str) -> None:
    box = page.locator('[data-testid="stFileUploader"]').filter(has=page.get_by_text(label, exact=True))
    box.locator('input[type="file"]').set_input_files({"name": name, "mimeType": mime, "buffer": data})
    wait_for(lambda: box.get_by_text(name).count() > 0, 20, f"{name} to be uploaded")


def open_export_tab(page, app_url) -> None:
    """The page, then its export tab (the first visit to a fresh server trains the example model first)."""
    open_page(page, app_url, "compress?lang=en", TITLE, timeout_ms=180_000)
    tab = page.get_by_role("tab", name="Export & re-import")
    tab.wait_for(timeout=240_000)
    assert_no_exception(page)
    tab.click()


def test_export_onnx_download_and_reimport_onto_the_shelf(page, app_url):
    import onnx

    # the shelf is empty, so the example CNN stands in (trained by the CNN lab's own code, once per server)
    open_export_tab(page, app_url)
    page.get_by_role("button", name="ONNX", exact=True).wait_for(timeout=90_000)
    main = page.locator('[data-testid="stMain"]')
    wait_for(lambda: "equal" in main.inner_text(), 30, "the export checks")
    assert_no_exception(page)

    onnx_bytes, onnx_name = download(page, "ONNX")
    assert onnx_name.endswith(".onnx")
    onnx.checker.check_model(onnx.load_from_string(onnx_bytes))
    weights, weights_name = download(page, "Weights (state_dict)")
    card, card_name = download(page, "Model card (JSON)")
    assert weights_name.endswith(".pt") and card_name.endswith(".json")

    # what was downloaded fits together: the network rebuilt from weights + card gives the ONNX file's outputs
    rebuilt = import_bundle(weights, card)
    x = torch.rand((4, *rebuilt.spec.shape))
    with torch.no_grad():
        expected = rebuilt.model(x).numpy()
    assert np.abs(run_onnx(onnx_bytes, x) - expected).max() <= 1e-4

    upload(page, "Weights (.pt)", weights_name, weights, "application/octet-stream")
    upload(page, "Model card (.json)", card_name, card, "application/json")
    page.get_by_role("button", name="Put it on my shelf").click()
    wait_for(lambda: page.get_by_text("On your shelf", exact=False).count() > 0, 30, "the import message")
    sidebar = page.locator('[data-testid="stSidebar"]')
    wait_for(lambda: "Imported model" in sidebar.inner_text(), 20, "the imported model on the shelf")
    # it is now the page's model, picked from the shelf, and still exports
    wait_for(lambda: "Imported model" in main.inner_text() and "My shelf" in main.inner_text(), 20,
             "the imported model chosen on the page")
    page.get_by_role("button", name="ONNX", exact=True).wait_for(timeout=60_000)
    assert_no_exception(page)


class Boom:
    def __reduce__(self):
        return (print, ("this must never run",))


def _small_card() -> bytes:
    """A valid card for a tiny MLP (the weights beside it are what is wrong)."""
    from core.compress.distill import StudentMLP
    from core.compress.export import model_card
    from core.explain import InputSpec
    from core.explain.source import Explainable
    from core.i18n import Message

    model = StudentMLP(4, (8,), 2).fit_scaler(torch.rand(16, 4))
    source = Explainable("compress", "features", model, InputSpec((4,), ["a", "b"]), torch.rand(3, 4),
                         torch.zeros(3, dtype=torch.long), Message("compress.describe.fewshot"))
    return json.dumps(model_card(source)).encode()


def test_a_malicious_weights_file_is_refused(page, app_url):
    evil = io.BytesIO()
    torch.save({"net.0.weight": torch.zeros(8, 4), "payload": Boom()}, evil)
    open_export_tab(page, app_url)
    page.get_by_role("button", name="Put it on my shelf").wait_for(timeout=90_000)
    upload(page, "Weights (.pt)", "evil.pt", evil.getvalue(), "application/octet-stream")
    upload(page, "Model card (.json)", "card.json", _small_card(), "application/json")
    page.get_by_role("button", name="Put it on my shelf").click()
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="Refused: this weights file holds Python objects")
    wait_for(lambda: alert.count() > 0, 30, "the refusal")
    assert "Imported model" not in page.locator('[data-testid="stSidebar"]').inner_text()
    assert_no_exception(page)
