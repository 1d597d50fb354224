"""RL lab in a real Chromium: Train on the gridworld, and the value map (read from the figure Plotly drew) changes
while the return curve appears and grows; with Edit on, a click on a cell of the map paints a wall into the
address bar.

Training runs in a worker process and the live panels redraw on their own schedule, so every wait is for a
condition with a deadline, never for a fixed time."""

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import assert_no_exception, open_page

pytestmark = pytest.mark.e2e
HEADING = "RL lab: an agent that learns live"

# The charts drawn now (found by the start of their title): the heatmap's values and every trace's number of points.
FIGURES = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')).map(gd => {
    const title = (gd.layout && gd.layout.title && (gd.layout.title.text ?? gd.layout.title)) || '';
    const data = gd._fullData || gd.data || [];
    const heat = data.find(t => t.type === 'heatmap');
    const z = heat ? Array.from(heat.z, row => Array.from(row, v => (v === null || Number.isNaN(v)) ? null : v))
                   : null;
    return {title: String(title), z: z, points: data.map(t => (t.x ? t.x.length : 0))};
})"""


def _figure(page, title: str) -> dict | None:
    return next((f for f in page.evaluate(FIGURES) if re.sub("<[^>]+>", "", f["title"]).startswith(title)), None)


def _wait_figure(page, title: str, ok=lambda f: True, what: str = "", timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        found = _figure(page, title)
        if found is not None and ok(found):
            return found
        assert time.monotonic() < deadline, f"{what or title}: {found and found['points']}"
        page.wait_for_timeout(300)


def _grid(page) -> str:
    return parse_qs(urlparse(page.url).query, keep_blank_values=True).get("grid", [""])[0]


def test_learning_on_the_gridworld_changes_the_value_map_and_the_return_curve(page, app_url):
    open_page(page, app_url, "rl_lab?warmup=200&steps=20000", HEADING)
    main = page.locator('[data-testid="stMain"]')
    untrained = _wait_figure(page, "Value function")["z"]
    assert len(untrained) == 8 and len(untrained[0]) == 8  # the default 8 × 8 maze
    assert _figure(page, "Return per episode") is None  # no episode yet
    main.get_by_role("button", name="Train", exact=True).click()

    first = _wait_figure(page, "Return per episode", lambda f: max(f["points"]) >= 5, "first episodes")
    _wait_figure(page, "Value function", lambda f: f["z"] != untrained, "the value map learning")
    episodes = max(first["points"])
    _wait_figure(page, "Return per episode", lambda f: max(f["points"]) > episodes, "more episodes")
    assert_no_exception(page)

    # Edit: the map holds still, and a click on a cell paints a wall there, while the agent learns on
    main.locator(".st-key-rl_editing").get_by_text("Edit", exact=True).click()
    main.get_by_text(re.compile("^Editing: the map holds still")).wait_for(timeout=30_000)
    _wait_figure(page, "Value function", lambda f: 8 * 8 in f["points"], "the map's click targets")  # one per cell
    assert _grid(page) == ""
    box = page.evaluate("""() => {
        const gd = Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot'))
            .find(g => (g._fullData || []).some(t => t.type === 'heatmap'));
        gd.scrollIntoView({block: 'center'});
        const r = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return {x: r.left + xa._offset + xa.l2p(3), y: r.top + ya._offset + ya.l2p(0)};
    }""")
    page.mouse.click(box["x"], box["y"])  # row 0, column 3: next to the start
    deadline = time.monotonic() + 30
    while _grid(page) == "":
        assert time.monotonic() < deadline, "the click did not reach the address bar"
        page.wait_for_timeout(300)
    assert _grid(page).split("-")[0][3] == "w"
    main.get_by_text(re.compile(r"· step [\d,]+")).first.wait_for(timeout=10_000)
    assert main.get_by_text("running", exact=True).count() >= 1  # the same agent learns on in the changed world
    assert_no_exception(page)
