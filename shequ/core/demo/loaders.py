"""Later modules add their demo data here: `register(name, function)`; the function gets no
arguments, must be idempotent and returns how many rows it made or updated."""

from __future__ import annotations

from collections.abc import Callable

_LOADERS: dict[str, Callable[[], int]] = {}


def register(name: str, loader: Callable[[], int]) -> None:
    _LOADERS[name] = loader


def run_all(out) -> str:
    parts = [f", {loader()} {name}" for name, loader in _LOADERS.items()]
    return "".join(parts)
