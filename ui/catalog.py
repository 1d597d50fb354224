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
    PageInfo("pages/network_builder.py", "Network builder", ":material/hub:", "Basics",
             "TensorFlow Playground on PyTorch: build a network, press Play, watch every neuron learn."),
    PageInfo("pages/neurons.py", "Neurons & activations", ":material/function:", "Basics",
             "One neuron, activation functions and their slopes, vanishing gradients, backprop by hand vs autograd."),
    PageInfo("pages/cnn_lab.py", "CNN lab", ":material/grid_on:", "Vision",
             "Train a CNN live, watch its filters form, follow a picture through its feature maps, draw to test it."),
    PageInfo("pages/sequence_lab.py", "Sequence lab", ":material/timeline:", "Sequences",
             "RNN vs LSTM vs GRU trained live: forecasts, long memory, text; every gate and gradient opened up."),
    PageInfo("pages/audio_lab.py", "Audio lab", ":material/graphic_eq:", "Audio",
             "Hear spoken digits, see their spectrograms and MFCCs, race a CNN against an LSTM, test your voice."),
    PageInfo("pages/explain.py", "Explain", ":material/psychology_alt:", "Explain",
             "Every attribution method side by side on your own model, with checks that say how far to trust them."),
]


def sections() -> dict[str, list[PageInfo]]:
    """Pages grouped by section, in catalog order."""
    grouped: dict[str, list[PageInfo]] = {}
    for page in PAGES:
        grouped.setdefault(page.section, []).append(page)
    return grouped
