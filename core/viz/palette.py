"""Colour palettes of every chart: the playground's usual orange/blue (TensorFlow Playground's) and, for
projectors and colour-blind viewers, a high-contrast one built from the Okabe–Ito palette (distinguishable with
every common colour-vision deficiency, and still apart in greyscale)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    negative: tuple[int, int, int]  # class 0 / below zero
    positive: tuple[int, int, int]  # class 1 / above zero
    middle: tuple[int, int, int]  # undecided / zero
    colorway: tuple[str, ...]  # one colour per line, bar or class
    font_size: int

    def colorscale(self) -> list[list]:
        return [[0.0, _rgb(self.negative)], [0.5, _rgb(self.middle)], [1.0, _rgb(self.positive)]]


def _rgb(c: tuple[int, int, int]) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


PALETTES: dict[str, Palette] = {
    "standard": Palette((245, 147, 34), (8, 119, 189), (232, 234, 235),
                        ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"),
                        13),
    "contrast": Palette((213, 94, 0), (0, 90, 181), (245, 245, 245),
                        ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"),
                        17),
}
