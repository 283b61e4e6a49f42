"""Deadlines of the current step, in working time (DESIGN §4.5).

A step's clock runs from an anchor (the moment the step started, or the last resume after a
pause). From the anchor there remains either the step's whole limit or, after a pause, the
working time that was left when the clock stopped. The warning comes when `warn_fraction` of
the step's working time is left, and at least one working hour before the deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shequ.worktime.calendar import WorkCalendar, get_calendar
from shequ.worktime.time import (
    add_working_hours,
    compute_deadline,
    is_provisional_between,
    working_time_between,
)

from .process import Step, WorkingDays

ONE_HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class StepClock:
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    provisional: bool
    budget: dt.timedelta | None  # the step's whole working time


NO_CLOCK = StepClock(None, None, False, None)


def _warn_at(
    anchor: dt.datetime, remaining: dt.timedelta, budget: dt.timedelta, fraction: float, cal: WorkCalendar
) -> dt.datetime:
    threshold = max(budget * fraction, ONE_HOUR)
    if remaining <= threshold:
        return anchor
    return add_working_hours(anchor, remaining - threshold, calendar=cal)


def start_step(step: Step, order, anchor: dt.datetime) -> StepClock:
    """The clock of `step` entered at `anchor`."""
    limit = step.limit_for(order)
    if limit is None:
        return NO_CLOCK
    cal = get_calendar()  # one snapshot for the three calculations
    if isinstance(limit, WorkingDays):
        deadline = compute_deadline(anchor, days=limit.days, calendar=cal)
    else:
        deadline = compute_deadline(anchor, hours=limit.hours, calendar=cal)
    budget = working_time_between(anchor, deadline.at, calendar=cal)
    warn = _warn_at(anchor, budget, budget, step.warn_fraction, cal)
    return StepClock(deadline.at, warn, deadline.provisional, budget)


def resume_step(step: Step, anchor: dt.datetime, remaining: dt.timedelta, budget: dt.timedelta) -> StepClock:
    """The clock after a pause: `remaining` working time from `anchor`."""
    cal = get_calendar()
    due = add_working_hours(anchor, remaining, calendar=cal)
    return StepClock(
        due,
        _warn_at(anchor, remaining, budget, step.warn_fraction, cal),
        is_provisional_between(anchor, due, calendar=cal),
        budget,
    )


def remaining_at(due_at: dt.datetime, moment: dt.datetime) -> dt.timedelta:
    """Working time left before `due_at` at `moment` (zero once it has passed)."""
    return working_time_between(moment, due_at)
