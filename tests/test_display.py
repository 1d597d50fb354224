"""Projector mode: large type, the settings folded away and high-contrast colours, so a classroom projector shows
the live view on its first screen; normal mode keeps the settings open and the usual orange/blue."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.viz.palette import PALETTES
from tests.apptest import open_app_page


def _builder(**params: str) -> AppTest:
    return open_app_page("pages/network_builder/page.py", params)


def _surface(at: AppTest) -> str:
    return next(c.proto.spec for c in at.get("plotly_chart") if c.proto.id.endswith("nb_surface"))


def _rgb(c: tuple[int, int, int]) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


def test_projector_folds_the_settings_and_draws_in_high_contrast():
    at = _builder(projector="1", data="spiral")
    folded = {e.label for e in at.expander}
    assert {"Training settings", "Data and features"} <= folded
    assert not any("learns to colour the plane" in c.value for c in at.caption)  # the lede waits in the popover
    assert _rgb(PALETTES["contrast"].negative) in _surface(at)
    assert _rgb(PALETTES["standard"].negative) not in _surface(at)
    assert at.query_params["projector"] in ("1", ["1"])  # kept in the shareable link
    assert at.toggle(key="projector").value


def test_normal_mode_keeps_the_settings_open_in_the_usual_colours():
    at = _builder(data="spiral")
    assert not {"Training settings", "Data and features"} & {e.label for e in at.expander}
    assert any("learns to colour the plane" in c.value for c in at.caption)
    assert _rgb(PALETTES["standard"].negative) in _surface(at)


def test_every_chart_is_drawn_through_ui_display_chart():
    """Pages draw Plotly figures only through ``ui.display.chart`` (projector colours, the download button)."""
    import ast

    root = Path(__file__).resolve().parents[1]
    calls = []
    for path in [root / "app.py", *sorted((root / "pages").rglob("*.py")), *sorted((root / "ui").rglob("*.py"))]:
        if path.name == "display.py" and path.parent.name == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "plotly_chart":
                calls.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not calls, calls
