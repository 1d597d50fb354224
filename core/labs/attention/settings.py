"""The attention lab's settings: every field declared once (validation, the shareable link, the model card),
and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.config import LabConfig, setting
from core.data.sequences import CharCorpus
from core.data.tokens import SYMBOLS, TEXTS, bundled_corpus, parse_symbols, text_corpus, text_windows
from core.errors import ConfigError, DataError
from core.i18n import Message, Term
from core.models.transformer import NORMS, POSITIONS
from core.training import OPTIMIZERS

TASKS = ("reversal", "sorting", "masked_lm", "causal_lm")
DIGIT_TASKS = ("reversal", "sorting")
TEXT_SOURCES = (*TEXTS, "custom")
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
SPEEDS = {"fastest": 0.0, "fast": 0.002, "medium": 0.02, "slow": 0.1}  # seconds slept per step


@dataclass(frozen=True)
class Config(LabConfig):
    """One attention-lab experiment: the task and its data, the transformer, the race, training, generation."""

    LAB: ClassVar[str] = "attention"

    task: str = setting("reversal", key="task", choices=TASKS)
    seq_len: int = setting(8, key="len", low=2, high=24)  # digit tasks
    digits: int = setting(10, key="vocab", low=2, high=len(SYMBOLS))  # symbols of the digit tasks
    text: str = setting("poems", key="text", choices=TEXT_SOURCES)  # language-model tasks
    custom_text: str = setting("", key="paste", max_len=100_000, url=False)
    context: int = setting(32, key="ctx", low=8, high=128)
    layers: int = setting(2, key="layers", low=1, high=6)
    heads: int = setting(2, key="heads", low=1, high=8)
    width: int = setting(64, key="width", low=8, high=256)
    dropout: float = setting(0.0, key="drop", low=0.0, high=0.5, digits=2)
    norm: str = setting("pre", key="norm", choices=NORMS)
    positions: str = setting("learned", key="pos", choices=POSITIONS)
    race: bool = setting(False, key="race")
    lstm_hidden: int = setting(64, key="lstm", low=8, high=256)
    optimizer: str = setting("Adam", key="opt", choices=tuple(OPTIMIZERS))
    lr: float = setting(0.003, key="lr", low=LEARNING_RATES[0], high=LEARNING_RATES[-1], grid=LEARNING_RATES,
                        rebuild=False)
    batch_size: int = setting(64, key="batch", low=1, high=512)
    steps: int = setting(2000, key="steps", low=10, high=100_000)
    seed: int = setting(0, key="seed", low=0, high=999_999)
    probe: str = setting("", key="probe", max_len=128, rebuild=False)  # the input drawn live ("" = a default)
    prompt: str = setting("", key="prompt", max_len=200, rebuild=False)
    temperature: float = setting(0.8, key="temp", low=0.0, high=3.0, digits=2, rebuild=False)
    top_k: int | None = setting(None, key="topk", low=1, high=200, rebuild=False)
    top_p: float | None = setting(None, key="topp", low=0.05, high=1.0, digits=2, rebuild=False)
    gen_length: int = setting(200, key="gen", low=1, high=1000, rebuild=False)

    @property
    def digit_task(self) -> bool:
        return self.task in DIGIT_TASKS

    @property
    def causal(self) -> bool:
        return self.task == "causal_lm"

    def check(self) -> None:
        if self.width % self.heads:
            raise ConfigError("attention.errors.width_heads", width=self.width, heads=self.heads)
        if self.digit_task:
            if self.probe.strip():
                try:
                    probe = parse_symbols(self.probe, self.digits)
                except DataError as exc:
                    raise ConfigError(exc.key, **exc.params) from None
                if not 1 <= len(probe) <= self.seq_len:
                    raise ConfigError("attention.errors.probe_length", count=len(probe), n=self.seq_len)
        else:
            text_windows(self.corpus(), self.context)  # raises DataError when the text is too short

    @classmethod
    def repair(cls, values: dict, params, warnings: list) -> None:
        """A pasted text never travels in the link: a link that asks for one falls back to the default text."""
        if values["text"] == "custom" and not values["custom_text"]:
            warnings.append(Message("attention.url.no_text", text=Term(f"attention.texts.{cls.text}")))
            values["text"] = cls.text
        if values["task"] in DIGIT_TASKS and values["probe"]:
            try:
                ok = 1 <= len(parse_symbols(values["probe"], values["digits"])) <= values["seq_len"]
            except DataError:
                ok = False
            if not ok:
                warnings.append(Message("attention.url.probe", text=values["probe"]))
                values["probe"] = ""

    def corpus(self) -> CharCorpus:
        """The text of a language-model task as a character corpus (DataError when a pasted text cannot work)."""
        return text_corpus(self.custom_text) if self.text == "custom" else bundled_corpus(self.text)

    def label(self) -> str:
        """A short description for legends, e.g. ``reversal · 2×2 heads · width 64 · pre-norm``."""
        data = f"{self.seq_len}×{self.digits}" if self.digit_task else self.text
        return f"{self.task} {data} · {self.layers}×{self.heads} · {self.width} · {self.norm}-norm · {self.positions}"


# Preset key → experiment; names and descriptions live in the catalogue (attention.presets.<key>, <key>_help).
PRESETS: dict[str, Config] = {
    "reversal": Config(),
    "reversal_race": Config(race=True, seq_len=12, steps=1500),
    "sorting": Config(task="sorting", steps=1500),
    "bert": Config(task="masked_lm", heads=4, dropout=0.1, steps=2000),
    "gpt": Config(task="causal_lm", heads=4, dropout=0.2, steps=800),
    "gpt_race": Config(task="causal_lm", heads=4, dropout=0.2, steps=800, race=True),
    "gpt_tang": Config(task="causal_lm", text="tang", heads=4, dropout=0.2, steps=600, prompt="春"),
    "post_norm_sinusoidal": Config(norm="post", positions="sinusoidal", seq_len=12),
}
