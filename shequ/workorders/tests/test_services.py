from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from shequ.notifications.models import OutboxMessage
from shequ.workorders import services
from shequ.workorders.choices import CLOSED, EventKind, RatingLevel, SlaState, StatusGroup
from shequ.workorders.followup import FOLLOW_UP_KIND
from shequ.workorders.models import WorkOrder
from shequ.workorders.services import ConflictError, TransitionNotAllowed

from .conftest import at

pytestmark = pytest.mark.django_db


def kinds(order: WorkOrder) -> list[str]:
    return list(order.events.values_list("kind", flat=True))


def test_number_has_prefix_date_and_sequence(make_order):
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        first, second = make_order(), make_order()
    assert first.number == "TC20261123-0001"
    assert second.number == "TC20261123-0002"
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        assert make_order().number == "TC20261124-0001"


def test_create_sets_step_deadline_and_warning(make_order):
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):  # a Monday
        order = make_order()
    assert order.step == "examining" and order.status == StatusGroup.OPEN
    # three working days after Monday: Thursday at the end of office hours
    assert order.due_at == at(2026, 11, 26, 17, 30)
    assert order.sla_state == SlaState.ON_TIME and not order.due_provisional
    # budget: the rest of Monday (6 h) + 3 days x 7 h = 27 h; 20% = 5 h 24 min of working time
    # before Thursday 17:30, i.e. 10:36 (the lunch break does not count)
    assert order.warn_at == at(2026, 11, 26, 10, 36)
    assert kinds(order) == [EventKind.CREATED, EventKind.ASSIGNED]


def test_create_rejects_blank_title_and_bad_channel(demo):
    with pytest.raises(ValidationError) as err:
        services.create_order(
            kind="test.case", by="t", place_code="310101020001", title=" ", channel="pigeon"
        )
    assert set(err.value.message_dict) == {"title", "channel"}
    assert not WorkOrder.objects.exists()


def test_transitions_follow_the_process_and_the_roles(make_order, personas):
    order = make_order()
    with pytest.raises(PermissionDenied):
        services.perform(order=order, by=personas["inspector"], action="approve")
    with pytest.raises(TransitionNotAllowed, match="不能执行"):
        services.perform(order=order, by=personas["backoffice"], action="deliver")
    with pytest.raises(ValidationError, match="需要填写理由"):
        services.perform(order=order, by=personas["backoffice"], action="reject")
    order = services.perform(order=order, by=personas["backoffice"], action="approve", comment="材料齐全")
    assert order.step == "delivering" and order.version == 2
    order = services.perform(order=order, by=personas["frontdesk"], action="deliver")
    assert order.step == CLOSED and order.status == StatusGroup.CLOSED
    assert order.closed_on_time is True and order.due_at is None
    assert kinds(order)[-2:] == [EventKind.ADVANCED, EventKind.DELIVERED]


def test_other_department_and_other_street_cannot_act(make_order, personas, civil_affairs):
    from shequ.accounts.models import Department

    housing = Department.objects.get(place__code="310101020", code="housing")
    order = make_order(assignee_department=housing)
    with pytest.raises(PermissionDenied):
        services.perform(order=order, by=personas["backoffice"], action="approve")
    services.perform(order=order, by=personas["leader"], action="approve")  # leaders may step in
    other_street = make_order(place_code="310101021001", assignee_department=None)
    with pytest.raises(PermissionDenied):
        services.perform(order=other_street, by=personas["backoffice"], action="approve")


def test_stale_version_gets_a_message_naming_who_acted(make_order, personas):
    order = make_order()
    services.perform(order=order, by=personas["backoffice"], action="approve")
    with pytest.raises(ConflictError, match="刘洋"):
        services.perform(order=order, by=personas["leader"], action="approve", expected_version=1)


def test_pause_moves_the_deadline_by_the_paused_working_time(make_order, personas):
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        order = make_order()
    with time_machine.travel(at(2026, 11, 24, 10, 0), tick=False):
        order = services.pause(
            order=order, by=personas["backoffice"], reason="supplement", comment="缺户口本"
        )
    assert order.status == StatusGroup.PAUSED
    with pytest.raises(TransitionNotAllowed, match="暂停"):
        services.perform(order=order, by=personas["backoffice"], action="approve")
    # paused for exactly two working days (Tue 10:00 → Thu 10:00)
    with time_machine.travel(at(2026, 11, 26, 10, 0), tick=False):
        order = services.resume(order=order, by=personas["backoffice"])
    assert order.status == StatusGroup.OPEN and order.paused_total == dt.timedelta(days=2)
    assert order.due_at == at(2026, 11, 30, 17, 30)  # Thu 26 → Mon 30, two working days later
    assert kinds(order)[-2:] == [EventKind.PAUSED, EventKind.RESUMED]
    sms = OutboxMessage.objects.filter(channel="sms", template="workorder.supplement_requested")
    assert sms.count() == 1 and sms.get().address == "13912345678"


def test_pause_needs_an_allowed_reason_and_twice_is_harmless(make_order, personas):
    order = make_order()
    with pytest.raises(ValidationError):
        services.pause(order=order, by=personas["backoffice"], reason="lunch")
    services.pause(order=order, by=personas["backoffice"], reason="supplement")
    again = services.pause(order=order, by=personas["backoffice"], reason="supplement")
    assert kinds(again).count(EventKind.PAUSED) == 1
    services.resume(order=order, by=personas["backoffice"])
    services.resume(order=order, by=personas["backoffice"])
    assert kinds(order).count(EventKind.RESUMED) == 1


def test_sweep_warns_then_marks_overdue_and_escalates_across_national_day(
    make_order, personas, civil_affairs
):
    """An order accepted before National Day: the holiday week does not count, a pause neither."""
    with time_machine.travel(at(2026, 9, 29, 16, 0), tick=False):  # Tuesday before the holiday
        order = make_order()
    # working days after Tue 29 Sep: Wed 30 Sep, then 1-7 Oct is the holiday: Thu 8, Fri 9 Oct
    assert order.due_at == at(2026, 10, 9, 17, 30)
    with time_machine.travel(at(2026, 9, 30, 9, 0), tick=False):
        order = services.pause(order=order, by=personas["backoffice"], reason="supplement")
    with time_machine.travel(at(2026, 10, 9, 9, 0), tick=False):  # resumed on the Friday after
        order = services.resume(order=order, by=personas["backoffice"])
    # paused at the first office minute of 30 Sep with 21 h left; from Fri 9 Oct that is Fri,
    # Sat 10 Oct (a make-up working day) and Mon 12 Oct
    assert order.due_at == at(2026, 10, 12, 17, 30)
    # budget 22.5 h, warning 4.5 working hours before the deadline
    assert order.warn_at == at(2026, 10, 12, 11, 30)
    assert services.sweep(now=at(2026, 10, 12, 11, 29)).warned == 0
    assert services.sweep(now=at(2026, 10, 12, 11, 30)).warned == 1
    order.refresh_from_db()
    assert order.sla_state == SlaState.WARNING
    assert services.sweep(now=at(2026, 10, 12, 11, 31)).warned == 0  # not twice
    result = services.sweep(now=at(2026, 10, 12, 17, 31))
    assert (result.overdue, result.escalated) == (1, 1)
    order.refresh_from_db()
    assert order.sla_state == SlaState.OVERDUE and order.ever_overdue
    assert kinds(order)[-3:] == [EventKind.WARNED, EventKind.OVERDUE, EventKind.ESCALATED]
    head = civil_affairs.head
    escalation = OutboxMessage.objects.filter(
        template="workorder.escalated", recipient_user=head, channel="sms"
    ).get()
    assert civil_affairs.name in escalation.body and order.number in escalation.body
    assert services.sweep(now=at(2026, 10, 13, 9, 0)).overdue == 0
    services.perform(order=order, by=personas["backoffice"], action="approve")
    order = services.perform(order=order, by=personas["frontdesk"], action="deliver")
    assert order.closed_on_time is False


def test_paused_orders_are_not_swept(make_order, personas):
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        order = make_order()
        services.pause(order=order, by=personas["backoffice"], reason="supplement")
    assert services.sweep(now=at(2026, 12, 31, 10, 0)).overdue == 0


def test_good_rating_closes_the_loop_and_bad_rating_opens_a_follow_up(make_order, personas, civil_affairs):
    order = make_order()
    with pytest.raises(TransitionNotAllowed):
        services.rate(order=order, level=RatingLevel.SATISFIED)
    services.perform(order=order, by=personas["backoffice"], action="approve")
    services.perform(order=order, by=personas["frontdesk"], action="deliver")
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        rating = services.rate(order=order, level=RatingLevel.DISSATISFIED, comment="等了太久")
    assert services.rate(order=order, level=RatingLevel.DISSATISFIED).pk == rating.pk
    with pytest.raises(ConflictError):
        services.rate(order=order, level=RatingLevel.VERY_SATISFIED)
    follow_up = rating.follow_up
    assert follow_up is not None and follow_up.kind == FOLLOW_UP_KIND and follow_up.parent_id == order.pk
    told = OutboxMessage.objects.get(
        template="workorder.bad_rating", channel="sms", recipient_user=civil_affairs.head
    )
    assert "不满意" in told.body and "等了太久" in told.body
    assert follow_up.number.startswith("ZG")
    assert follow_up.assignee_department == civil_affairs
    # 15 working days from Mon 23 Nov 2026: Mon 14 Dec
    assert follow_up.due_at == at(2026, 12, 14, 17, 30)
    with pytest.raises(ValidationError):
        services.perform(order=follow_up, by=personas["backoffice"], action="rectified")
    services.perform(order=follow_up, by=personas["backoffice"], action="rectified", comment="已优化流程")
    done = services.perform(
        order=follow_up, by=personas["backoffice"], action="called_back", comment="电话回访，满意"
    )
    assert done.status == StatusGroup.CLOSED
    order.refresh_from_db()
    assert order.rating == RatingLevel.DISSATISFIED


def test_good_rating_opens_nothing(make_order, personas):
    order = make_order()
    services.perform(order=order, by=personas["backoffice"], action="approve")
    services.perform(order=order, by=personas["frontdesk"], action="deliver")
    assert services.rate(order=order, level=RatingLevel.BASICALLY_SATISFIED).follow_up is None


def test_transfer_notifies_the_new_assignee(make_order, personas):
    order = make_order(assignee_department=None)
    order = services.assign(order=order, by=personas["leader"], user=personas["backoffice"], comment="请尽快")
    again = services.assign(order=order, by=personas["leader"], user=personas["backoffice"])
    assert kinds(again).count(EventKind.ASSIGNED) == 1
    assert OutboxMessage.objects.filter(
        recipient_user=personas["backoffice"], template="workorder.assigned"
    ).exists()


def test_reopen_and_cancel(make_order, personas):
    order = make_order()
    services.perform(order=order, by=personas["backoffice"], action="approve")
    order = services.perform(order=order, by=personas["frontdesk"], action="deliver")
    with pytest.raises(ValidationError):
        services.reopen(order=order, by=personas["frontdesk"], reason="")
    order = services.reopen(order=order, by=personas["frontdesk"], reason="申请人反映未收到")
    assert order.step == "delivering" and order.status == StatusGroup.OPEN and order.due_at
    order = services.cancel(order=order, by=personas["frontdesk"], reason="申请人撤回")
    assert order.step == "cancelled" and order.closed_on_time is None


def test_provisional_deadline_is_recomputed_when_2027_is_entered(make_order, personas):
    from shequ.worktime.services import enter_year

    with time_machine.travel(at(2026, 12, 30, 10, 0), tick=False):
        order = make_order()
    # Wed 30 Dec + 3 working days, provisionally: Thu 31 Dec, (1 Jan holiday), Mon 4, Tue 5 Jan
    assert order.due_provisional and order.due_at == at(2027, 1, 5, 17, 30)
    # the entered schedule makes Sat 2 Jan a make-up working day
    enter_year(
        year=2027,
        entries=[(dt.date(2027, 1, 1), False, "元旦"), (dt.date(2027, 1, 2), True, "调休上班")],
        by=personas["admin"],
    )
    order.refresh_from_db()
    assert not order.due_provisional and order.due_at == at(2027, 1, 4, 17, 30)
    assert EventKind.DEADLINE_CHANGED in kinds(order)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel requests need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_clerks_acting_at_once_one_wins(personas, civil_affairs):
    import threading

    from django.db import connections

    from shequ.workorders.services import Subject, create_order

    order = create_order(
        kind="test.case",
        by=personas["frontdesk"],
        place_code="310101020001",
        title="并发测试",
        subject=Subject(name="甲"),
        assignee_department=civil_affairs,
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk(username: str):
        try:
            barrier.wait()
            services.perform(order=order, by=personas[username], action="approve", expected_version=1)
            outcomes.append("ok")
        except (ConflictError, TransitionNotAllowed) as exc:
            outcomes.append(exc.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk, args=(name,)) for name in ("backoffice", "leader")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert any("已由" in o for o in outcomes if o != "ok")
    assert WorkOrder.objects.get(pk=order.pk).events.filter(kind=EventKind.ADVANCED).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel requests need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_numbering_never_repeats(personas):
    import threading

    from django.db import connections, transaction

    numbers: list[str] = []
    barrier = threading.Barrier(6)

    def desk():
        try:
            barrier.wait()
            for _ in range(10):
                with transaction.atomic():
                    numbers.append(services.allocate_number("TC", dt.date(2026, 11, 23)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=desk) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == 60 and len(set(numbers)) == 60
    assert all(re.fullmatch(r"TC20261123-\d{4}", n) for n in numbers)
