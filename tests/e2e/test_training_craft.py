"""Training craft in a real Chromium: upload a CSV with three classes, train, see the decision boundary and the
confusion matrix; race the optimizers and replay the race as an animation; the page in Chinese."""

import re
import time

import numpy as np
import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_until_idle

pytestmark = pytest.mark.e2e
SPECIES = ("setosa", "versicolor", "virginica")


def three_classes(path) -> None:
    rng = np.random.default_rng(7)
    lines = ["petal,sepal,species"]
    for i in range(180):
        c = i % 3
        cx, cy = [(0, 0), (4, 1), (1, 4)][c]
        lines.append(f"{rng.normal(cx, 0.7):.3f},{rng.normal(cy, 0.7):.3f},{SPECIES[c]}")
    path.write_text("\n".join(lines) + "\n")


def chart(main, key: str, text: str):
    """The Plotly chart under ``key`` once it shows ``text`` (the live panel may be mid-redraw when first found)."""
    figure = main.locator(f".st-key-{key} .js-plotly-plot").last
    figure.wait_for(timeout=90_000)
    deadline = time.monotonic() + 30
    while text not in figure.inner_text():
        assert time.monotonic() < deadline, figure.inner_text()
        time.sleep(0.25)
    return figure


def test_a_csv_with_three_classes_trains_and_shows_the_boundary_and_the_confusion_matrix(page, app_url, tmp_path):
    open_page(page, app_url, "training_craft?tab=csv&epochs=80", "Training craft")
    main = page.locator('[data-testid="stMain"]')
    csv = tmp_path / "three.csv"
    three_classes(csv)
    main.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv))
    main.get_by_text(re.compile(r"three\.csv.*180 rows, 3 columns")).wait_for(timeout=60_000)
    main.get_by_text(re.compile(r"3 classes \(setosa, versicolor, virginica\)")).wait_for(timeout=30_000)
    wait_until_idle(page)
    main.get_by_role("button", name="Train", exact=True).click()
    main.get_by_text("finished", exact=True).wait_for(timeout=120_000)
    boundary = chart(main, "craft_boundary", "Decision boundary over the two features")
    for name in SPECIES:
        assert name in boundary.inner_text()  # one legend entry per class
    confusion = chart(main, "craft_confusion", "Confusion matrix (validation rows)")
    assert "predicted" in confusion.inner_text()
    main.get_by_text(re.compile(r"Held-out test rows.*accuracy (9\d|100)\.\d%")).wait_for(timeout=30_000)
    assert "tab=csv" in page.url and "label=" not in page.url  # the table's choices stay out of the link
    page.screenshot(path=str(tmp_path / "craft_csv.png"), full_page=True)
    assert_no_exception(page)


def test_the_optimizer_race_runs_and_replays_as_an_animation(page, app_url):
    open_page(page, app_url, "training_craft?tab=race&surf=bowl&steps=200", "Training craft")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("button", name="Start race", exact=True).click()
    main.get_by_text("finished", exact=True).wait_for(timeout=90_000)
    chart(main, "craft_race", "Optimizers on the loss surface · 200 steps")
    chart(main, "craft_race_losses", "Distance to the minimum")
    main.get_by_text("Replay as an animation").click()
    wait_until_idle(page)
    race = chart(main, "craft_race", "▶ Play")
    assert "step" in race.inner_text()  # the step slider of the animation
    assert_no_exception(page)


def test_the_page_in_chinese_trains_the_overfitting_lab(page, app_url):
    open_page(page, app_url, "training_craft?lang=zh&tab=overfit&epochs=20", "训练技巧")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("button", name="训练", exact=True).click()
    main.get_by_text("已完成", exact=True).wait_for(timeout=120_000)
    chart(main, "craft_overfit_loss", "损失：训练与验证")
    main.get_by_text("泛化差距", exact=True).first.wait_for(timeout=30_000)
    assert "lang=zh" in page.url and "tab=overfit" in page.url
    assert_no_exception(page)
