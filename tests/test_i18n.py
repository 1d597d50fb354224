"""English / 中文: one catalogue per language (``locales/<lang>/*.toml``) with the same keys and placeholders,
no user-visible English left in page code or in core's messages, and every page rendered in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import i18n
from tests.apptest import open_app_page
from ui.catalog import PAGES

ROOT = Path(__file__).resolve().parents[1]
EN, ZH = i18n.catalogue("en"), i18n.catalogue("zh")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _base(key: str) -> str:
    """A plural table's entries (``key.one``, ``key.other``) count as one key."""
    return key.rsplit(".", 1)[0] if key.endswith((".one", ".other")) else key


def test_every_key_exists_in_both_languages_with_the_same_placeholders():
    assert {_base(k) for k in EN} == {_base(k) for k in ZH}, (
        sorted({_base(k) for k in EN} ^ {_base(k) for k in ZH})[:20])
    for key, text in EN.items():
        other = ZH.get(key) or ZH.get(_base(key) + ".other")
        if key.endswith(".one") and other is not None:
            assert i18n.placeholders(other) <= i18n.placeholders(text) | {"n"}, key
            continue
        assert i18n.placeholders(text) == i18n.placeholders(other), key
    for key in EN:
        if key.endswith(".one"):
            assert _base(key) + ".other" in EN, f"{key}: a plural table needs an 'other' form"


def test_chinese_texts_are_chinese():
    """A Chinese entry that is only Latin letters is an untranslated copy (short technical names excepted)."""
    words = re.compile(r"[A-Za-z]{4,}")
    untranslated = [k for k, v in ZH.items()
                    if not CJK.search(v) and len(words.findall(re.sub(r"\{[^}]*\}", " ", v))) >= 3]
    assert not untranslated, untranslated[:20]


# ---------------------------------------------------------------------------------------------- core messages
CORE = sorted((ROOT / "core").rglob("*.py"))
MESSAGE_TYPES = {"ConfigError", "DataError", "TrainingDiverged", "PlaygroundError", "Message", "Term"}


def _key_ok(node: ast.AST) -> bool:
    """A literal key that the catalogue has, or an f-string whose literal start is a prefix of catalogue keys."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return i18n.has(node.value) or node.value == ""
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        prefix = node.values[0].value
        return "." in prefix and " " not in prefix and any(k.startswith(prefix) for k in EN)
    return True  # a variable holding a key: checked where it is made


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_raises_errors_with_catalogue_keys(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in MESSAGE_TYPES:
                assert _key_ok(node.args[0]), f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.args[0])}"


# ---------------------------------------------------------------------------------------------- page code
PAGE_CODE = sorted([*(ROOT / "pages").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), ROOT / "app.py"])
SHOWN_ARGS = {"label", "help", "placeholder", "caption", "body", "title", "text", "value_label"}
DISPLAY = {"title", "header", "subheader", "markdown", "caption", "write", "text", "info", "success", "warning",
           "error", "toast", "button", "download_button", "selectbox", "multiselect", "radio", "slider",
           "select_slider", "number_input", "text_input", "text_area", "toggle", "checkbox", "pills",
           "segmented_control", "file_uploader", "audio_input", "metric", "expander", "popover", "tabs",
           "page_link", "color_picker", "form_submit_button", "status", "spinner", "link_button", "chat_input"}
WORD = re.compile(r"[A-Za-z]{3,}")


def _visible_words(node: ast.AST) -> list[str]:
    """English words a literal would show (HTML tags, CSS and Markdown icons stripped)."""
    parts = []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        parts = [node.value]
    elif isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
    elif isinstance(node, (ast.List, ast.Tuple)):
        return [w for e in node.elts for w in _visible_words(e)]
    words = []
    for part in parts:
        if re.fullmatch(r"[a-z_][a-z0-9_]*", part):  # an identifier (a field name, a key), not text
            continue
        part = re.sub(r"<[^>]*>", " ", part)  # tags and their attributes
        part = re.sub(r":material/[a-z_]+:|:[a-z]+-badge\[|:[a-z]+\[", " ", part)
        words += WORD.findall(part)
    return words


@pytest.mark.parametrize("path", PAGE_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_code_shows_no_literal_text(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        owner = getattr(getattr(node.func, "value", None), "id", "")
        if name not in DISPLAY or (name == "text" and owner != "st"):  # i18n.text(key) looks a text up
            continue
        shown = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in SHOWN_ARGS]
        if name == "tabs" and node.args:
            shown = [node.args[0]]
        for arg in shown:
            words = _visible_words(arg)
            assert not words, f"{path.relative_to(ROOT)}:{node.lineno}: {name}() shows literal text {words[:5]}"


# ---------------------------------------------------------------------------------------------- pages
def _latin_words(texts: list[str]) -> set[str]:
    known = {w.lower() for v in ZH.values() for w in WORD.findall(re.sub(r"<[^>]*>|\{[^}]*\}", " ", v))}
    found = set()
    for text in texts:
        for word in WORD.findall(re.sub(r"<[^>]*>|`[^`]*`|:material/[a-z_]+:|:[a-z]+-badge\[", " ", text)):
            if word.lower() not in known:
                found.add(word)
    return found


def _run(page: str, lang: str) -> AppTest:
    return open_app_page(page, {"lang": lang})


def _texts(at: AppTest) -> list[str]:
    out = [e.value for e in [*at.title, *at.header, *at.subheader, *at.caption, *at.markdown, *at.info,
                             *at.warning, *at.error]]
    out += [b.label for b in at.button] + [w.label for w in [*at.selectbox, *at.slider, *at.toggle, *at.radio]]
    return [str(x) for x in out if x]


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_every_page_speaks_chinese_with_lang_zh_and_english_with_lang_en(page):
    zh = _run(page, "zh")
    texts = _texts(zh)
    assert any(CJK.search(t) for t in texts), f"{page}: no Chinese text"
    heading = zh.title[0].value if zh.title else texts[0]
    assert CJK.search(heading), f"{page}: the heading {heading!r} is not Chinese"
    stray = _latin_words(texts)
    assert not stray, f"{page}: English words left with lang=zh: {sorted(stray)[:15]}"
    en = _run(page, "en")
    assert not any(CJK.search(t) for t in _texts(en) if "简体中文" not in t), f"{page}: Chinese text with lang=en"
    assert en.query_params["lang"] in ("en", ["en"])
