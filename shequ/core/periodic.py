"""Jobs the background worker (`manage.py worker`) runs besides its own sweep and delivery.

A module registers `register(name, function, every=seconds)` from its AppConfig.ready(); the
function takes no arguments, must be safe to run in several workers at once, and returns how many
rows it changed (logged when non-zero).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Job:
    name: str
    run: Callable[[], int]
    every: float
    last: float = field(default=float("-inf"))


_JOBS: dict[str, Job] = {}


def register(name: str, run: Callable[[], int], *, every: float = 60.0) -> None:
    _JOBS[name] = Job(name=name, run=run, every=every)


def run_due(now: float | None = None) -> dict[str, int]:
    """Run the jobs whose interval has passed; returns {name: rows changed} of those that ran."""
    now = time.monotonic() if now is None else now
    results: dict[str, int] = {}
    for job in _JOBS.values():
        if now - job.last >= job.every:
            job.last = now
            results[job.name] = job.run()
    return results
