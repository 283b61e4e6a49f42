from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from shequ.worktime import registry

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware Shanghai datetime, short enough to keep expectations readable."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    """Callbacks registered by one test must not leak into the next."""
    before = registry.registered_callbacks()
    yield
    for callback in registry.registered_callbacks():
        if callback not in before:
            registry.unregister_recompute(callback)
