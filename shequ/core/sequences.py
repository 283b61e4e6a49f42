"""Gap-free daily counters that are safe under concurrency.

One statement increments the counter of (scope, day) and returns the new value, so two desks,
two kiosks or two workers never receive the same number. It runs in the caller's transaction:
a number is seen by nobody before the row that carries it is committed, and a rolled-back one
is handed out again (it was never shown).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from .models import DailySequence


def next_value(scope: str, day: dt.date) -> int:
    table = DailySequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, day, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (scope, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [scope, day],
        )
        (value,) = cursor.fetchone()
    return int(value)


# Counters that never restart (a version number, say) use this day.
NO_DAY = dt.date(1970, 1, 1)


def current_value(scope: str, day: dt.date = NO_DAY) -> int:
    """The last value handed out, 0 before the first."""
    return DailySequence.objects.filter(scope=scope, day=day).values_list("last", flat=True).first() or 0
