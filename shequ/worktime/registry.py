"""Callbacks that recompute provisional deadlines when a year's schedule becomes known.

The calendar cannot know who stored deadlines (the work-order engine, later modules), so those
modules register here, usually in their AppConfig.ready():

    register_recompute(recompute_provisional_deadlines)

A callback receives a year and returns how many stored deadlines it changed. Callbacks run
inside the transaction that changes the calendar, so they read the new calendar and a failure
rolls the change back instead of leaving stale deadlines behind.
"""

from __future__ import annotations

from collections.abc import Callable

RecomputeCallback = Callable[[int], int]

_callbacks: list[RecomputeCallback] = []


def register_recompute(callback: RecomputeCallback) -> RecomputeCallback:
    """Register `callback` once (repeat calls are ignored); usable as a decorator."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def unregister_recompute(callback: RecomputeCallback) -> None:
    if callback in _callbacks:
        _callbacks.remove(callback)


def registered_callbacks() -> tuple[RecomputeCallback, ...]:
    return tuple(_callbacks)


def _label(callback: RecomputeCallback) -> str:
    module = getattr(callback, "__module__", "") or ""
    name = getattr(callback, "__qualname__", None) or repr(callback)
    return f"{module}.{name}" if module else name


def run_recompute(year: int) -> dict[str, int]:
    """Call every callback for `year`; returns {callback label: number of deadlines changed}."""
    results: dict[str, int] = {}
    for callback in tuple(_callbacks):
        label = _label(callback)
        results[label] = results.get(label, 0) + int(callback(year))
    return results
