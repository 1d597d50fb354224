"""Every page of the playground, once: ``app.py`` builds the navigation from it and Home its cards.

Adding a page is one entry here plus its package ``pages/<name>/`` (with ``page.py``); its title and blurb are
``catalog.<name>.title`` / ``.blurb`` in the language catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import i18n


@dataclass(frozen=True)
class PageInfo:
    name: str  # the package under pages/ and the URL path
    icon: str
    section: str  # catalogue key catalog.sections.<section>
    lab: str | None = None  # the core.labs module whose models this page trains

    @property
    def path(self) -> str:
        return f"pages/{self.name}/page.py"

    def title(self, lang: str = i18n.DEFAULT) -> str:
        return i18n.text(f"catalog.{self.name}.title", lang)

    def blurb(self, lang: str = i18n.DEFAULT) -> str:
        return i18n.text(f"catalog.{self.name}.blurb", lang)

    def section_title(self, lang: str = i18n.DEFAULT) -> str:
        return i18n.text(f"catalog.sections.{self.section}", lang)


PAGES: list[PageInfo] = [
    PageInfo("home", ":material/home:", "start"),
    PageInfo("network_builder", ":material/hub:", "basics", lab="planar"),
    PageInfo("neurons", ":material/function:", "basics"),
    PageInfo("training_craft", ":material/tune:", "training", lab="craft"),
    PageInfo("cnn_lab", ":material/grid_on:", "vision", lab="vision"),
    PageInfo("sequence_lab", ":material/timeline:", "sequences", lab="sequences"),
    PageInfo("attention_lab", ":material/visibility:", "language", lab="attention"),
    PageInfo("audio_lab", ":material/graphic_eq:", "audio", lab="audio"),
    PageInfo("generative_lab", ":material/auto_awesome:", "generative", lab="generative"),
    PageInfo("rl_lab", ":material/sports_esports:", "agents", lab="rl"),
    PageInfo("explain", ":material/psychology_alt:", "explain"),
    PageInfo("compress", ":material/compress:", "deploy", lab="compress"),
]


def sections() -> dict[str, list[PageInfo]]:
    """Pages grouped by section, in catalog order."""
    grouped: dict[str, list[PageInfo]] = {}
    for page in PAGES:
        grouped.setdefault(page.section, []).append(page)
    return grouped


def page_of_lab(lab: str) -> PageInfo | None:
    return next((p for p in PAGES if p.lab == lab), None)
