"""A tiny named registry: the one place each dataset, model and attribution method is listed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    name: str
    value: T
    family: str = ""
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Named entries, grouped by family (``"planar"``, ``"images"``, ``"sequences"``, ``"audio"`` …)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, *, family: str = "", description: str = "", **meta: Any) -> Callable[[T], T]:
        """Decorator: ``@DATASETS.register("spiral", family="planar")``."""

        def add(value: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = Entry(name, value, family, description, meta)
            return value

        return add

    def get(self, name: str) -> T:
        return self.entry(name).value

    def entry(self, name: str) -> Entry[T]:
        if name not in self._entries:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(self._entries)}")
        return self._entries[name]

    def names(self, family: str | None = None) -> list[str]:
        return [e.name for e in self._entries.values() if family is None or e.family == family]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries.values())
