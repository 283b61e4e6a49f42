from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
import time_machine

from shequ.core.models import DailySequence
from shequ.queueing import demo as queue_demo
from shequ.queueing import services
from shequ.queueing.choices import AppointmentStatus, TicketPriority, TicketStatus
from shequ.queueing.models import Appointment, ServiceCategory, SlotBooking, Ticket

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
CENTRE = "310101020"


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_the_day_is_made_once_and_the_kiosk_continues_its_numbering(demo):
    with time_machine.travel(at(2026, 11, 23, 20, 0), tick=False):  # a Monday evening
        made = queue_demo.load_day()
        tickets = list(Ticket.objects.filter(centre_code=CENTRE))
        assert made == len(tickets) + Appointment.objects.count()
        assert 280 <= len(tickets) <= 300 and {t.day for t in tickets} == {dt.date(2026, 11, 23)}
        assert queue_demo.load_day() == 0 and queue_demo.load() == 6  # run again (make run): nothing new
        assert Ticket.objects.count() == len(tickets)

        for prefix, numbers in _numbers_by_prefix(tickets).items():
            assert numbers == list(range(1, len(numbers) + 1))
            sequence = DailySequence.objects.get(scope=f"ticket:{CENTRE}:{prefix}", day=dt.date(2026, 11, 23))
            assert sequence.last == len(numbers)
        a = ServiceCategory.objects.get(centre__code=CENTRE, prefix="A")
        last_a = DailySequence.objects.get(scope=f"ticket:{CENTRE}:A").last
        issued = services.issue_ticket(category=a).ticket
        assert issued.number == f"A{last_a + 1:03d}"


def _numbers_by_prefix(tickets):
    numbers = defaultdict(list)
    for t in sorted(tickets, key=lambda t: t.created_at):
        numbers[t.number[0]].append(int(t.number[1:]))
    return numbers


def test_windows_and_clerks_never_serve_two_tickets_at_once(demo):
    with time_machine.travel(at(2026, 11, 23, 20, 0), tick=False):
        queue_demo.load_day()
    by_window = defaultdict(list)
    for t in Ticket.objects.filter(called_at__isnull=False):
        assert t.window_id and t.clerk_id and t.finished_at and t.created_at <= t.called_at < t.finished_at
        if t.started_at:
            assert t.called_at <= t.started_at < t.finished_at
        by_window[t.window_id].append((t.called_at, t.finished_at, t.clerk_id))
    assert len(by_window) == 8
    for intervals in by_window.values():
        intervals.sort()
        for (_, finished, _), (called, _, _) in pairwise(intervals):
            assert finished <= called
        assert len({clerk for _, _, clerk in intervals}) == 1  # one clerk per window all day


def test_the_day_looks_like_a_real_one(demo):
    with time_machine.travel(at(2026, 11, 23, 20, 0), tick=False):
        queue_demo.load_day()
    tickets = list(Ticket.objects.all())
    n = len(tickets)
    status = Counter(t.status for t in tickets)
    priority = Counter(t.priority for t in tickets)
    assert 0.06 * n <= priority[TicketPriority.PRIORITY_GROUP] <= 0.15 * n
    assert all(
        "周岁老人" in t.priority_reason or t.priority_reason == "残疾人" for t in tickets if t.priority == 1
    )
    appointments = [t for t in tickets if t.priority == TicketPriority.APPOINTMENT]
    assert 0.02 * n <= len(appointments) <= 0.08 * n
    assert all(t.appointment and t.appointment.status == AppointmentStatus.CHECKED_IN for t in appointments)
    assert sum(s.booked for s in SlotBooking.objects.all()) == len(appointments)
    assert 0.01 * n <= status[TicketStatus.NO_SHOW] <= 0.08 * n
    done = [t for t in tickets if t.status == TicketStatus.DONE]
    rated = [t for t in done if t.rating is not None]
    assert 0.6 * len(done) <= len(rated) <= 0.8 * len(done)
    assert Counter(t.rating for t in rated).most_common(1)[0][0] == 5
    waits = sorted((t.called_at - t.created_at).total_seconds() / 60 for t in tickets if t.called_at)
    assert 5 <= waits[len(waits) // 2] <= 30  # median wait
    services_ = [(t.finished_at - t.started_at).total_seconds() / 60 for t in done]
    assert min(services_) >= 3 and max(services_) <= 20
    hours = Counter(t.created_at.astimezone(SHANGHAI).hour for t in tickets)
    assert hours[10] > hours[14] > hours[16]  # the morning peak is the bigger one
    # the evening of the demo day: a handful is left waiting for the display and the console
    waiting = [t for t in tickets if t.status == TicketStatus.WAITING]
    assert 1 <= len(waiting) <= 10 and all(t.called_at is None and t.window is None for t in waiting)
    assert len({t.token for t in tickets}) == n


def test_loaded_mid_morning_the_day_stops_at_now(demo):
    now = at(2026, 11, 23, 10, 30)
    with time_machine.travel(now, tick=False):
        queue_demo.load_day()
    tickets = list(Ticket.objects.all())
    assert 50 <= len(tickets) <= 200
    assert all(t.created_at <= now for t in tickets)
    assert all(t.finished_at is None or t.finished_at <= now for t in tickets)
    waiting = [t for t in tickets if t.status == TicketStatus.WAITING]
    assert waiting and all(t.called_at is None for t in waiting)


def test_on_a_sunday_the_demo_shows_friday(demo):
    with time_machine.travel(at(2026, 11, 22, 11, 0), tick=False):
        queue_demo.load_day()
        assert queue_demo.demo_day() == dt.date(2026, 11, 20)
    assert {t.day for t in Ticket.objects.all()} == {dt.date(2026, 11, 20)}
    assert not Ticket.objects.filter(status=TicketStatus.WAITING).exists()  # a closed day
    with time_machine.travel(at(2026, 11, 23, 7, 30), tick=False):  # Monday before opening
        assert queue_demo.demo_day() == dt.date(2026, 11, 20)
