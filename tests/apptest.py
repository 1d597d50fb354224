"""What every page's AppTest shares: opening a page through ``app.py``'s navigation with a link's parameters,
reading the address bar back, and finding the page's charts."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_app_page(page: str, query: dict[str, str] | None = None, *, timeout: float = 120,
                  state: dict | None = None) -> AppTest:
    """Run ``app.py`` with ``query`` in the address bar (and ``state`` in the session), switch to ``page``
    (``pages/<name>/page.py``) and check that it drew without an exception."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query or {})
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def query(at: AppTest) -> dict[str, str]:
    """The address bar's parameters (the last value of each)."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def charts(at: AppTest) -> dict[str, str]:
    """Plotly charts on the page by key, with their JSON spec."""
    return {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}
