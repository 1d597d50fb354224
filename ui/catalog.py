"""Every page of the playground, once: ``app.py`` builds the navigation from it and Home its cards.

Adding a page is one entry here plus its script in ``pages/``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    path: str
    title: str
    icon: str
    section: str
    blurb: str


PAGES: list[PageInfo] = [
    PageInfo("pages/home.py", "Home", ":material/home:", "Start",
             "What the playground is and where to begin."),
    PageInfo("pages/sequence_lab.py", "Sequence lab", ":material/timeline:", "Sequences",
             "RNN vs LSTM vs GRU trained live: forecasts, long memory, text; every gate and gradient opened up."),
]


def sections() -> dict[str, list[PageInfo]]:
    """Pages grouped by section, in catalog order."""
    grouped: dict[str, list[PageInfo]] = {}
    for page in PAGES:
        grouped.setdefault(page.section, []).append(page)
    return grouped
