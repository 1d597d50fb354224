"""Every page in pages/ runs through app.py's navigation without an exception (new pages are picked up)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.catalog import PAGES

ROOT = Path(__file__).resolve().parents[1]
PAGE_FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*/page.py"))


def test_every_page_is_in_the_catalog():
    assert sorted(p.path for p in PAGES) == PAGE_FILES
    assert not list((ROOT / "pages").glob("*.py")), "pages/ holds packages only (no pages-folder mode)"


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_runs_without_exception(page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title or at.header or at.markdown, f"{page} rendered nothing"


def test_readme_lists_every_page():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("<!-- pages:start -->"):readme.index("<!-- pages:end -->")]
    for page in PAGES:
        assert f"| {page.section_title()} | {page.title()} | {page.blurb()} |" in table, f"README misses {page.title()}"
