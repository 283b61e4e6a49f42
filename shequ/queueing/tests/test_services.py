from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from shequ.core.errors import ConflictError
from shequ.core.idnumbers import make_resident_id
from shequ.notifications.models import OutboxMessage
from shequ.places.models import Place
from shequ.queueing import services
from shequ.queueing.choices import AppointmentStatus, TicketPriority, TicketStatus
from shequ.queueing.models import Appointment, ServiceCategory, Ticket, Window, WindowSession

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ELDER = make_resident_id("310101", dt.date(1950, 1, 1), 11)
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel requests need PostgreSQL"
)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def centre(demo):
    street = Place.objects.get(code="310101020")
    social = ServiceCategory.objects.create(centre=street, prefix="A", name="社保医保", average_minutes=10)
    civil = ServiceCategory.objects.create(centre=street, prefix="B", name="民政救助")
    windows = []
    for number in (1, 2, 3):
        window = Window.objects.create(centre=street, number=number)
        window.categories.add(social if number < 3 else civil)
        windows.append(window)
    return {"street": street, "A": social, "B": civil, "windows": windows}


def test_numbers_restart_daily_per_category(centre):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        first = services.issue_ticket(category=centre["A"]).ticket
        second = services.issue_ticket(category=centre["A"]).ticket
        other = services.issue_ticket(category=centre["B"]).ticket
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        tomorrow = services.issue_ticket(category=centre["A"]).ticket
    assert [first.number, second.number, other.number, tomorrow.number] == ["A001", "A002", "B001", "A001"]


def test_priority_is_detected_from_the_id_number_and_goes_first(centre, personas):
    services.sign_in(window=centre["windows"][0], clerk=personas["frontdesk"])
    normal = services.issue_ticket(category=centre["A"])
    elder = services.issue_ticket(category=centre["A"], id_number=ELDER)
    assert elder.ticket.priority == TicketPriority.PRIORITY_GROUP and "周岁" in elder.ticket.priority_reason
    assert normal.ahead == 0 and elder.ahead == 0  # the elder jumps ahead of the earlier ticket
    assert (
        services.issue_ticket(category=centre["A"], disabled=True).ticket.priority
        == TicketPriority.PRIORITY_GROUP
    )
    called = services.call_next(window=centre["windows"][0], clerk=personas["frontdesk"])
    assert called.pk == elder.ticket.pk


def test_wait_estimate_uses_staffed_windows(centre, personas):
    for _ in range(4):
        services.issue_ticket(category=centre["A"])
    alone = services.issue_ticket(category=centre["A"])
    assert alone.ahead == 4 and alone.wait_minutes == 40
    services.sign_in(window=centre["windows"][0], clerk=personas["frontdesk"])
    services.sign_in(window=centre["windows"][1], clerk=personas["backoffice"])
    assert services.queue_position(alone.ticket) == (4, 20)


def test_calling_needs_a_session_and_serves_only_the_windows_categories(centre, personas):
    services.issue_ticket(category=centre["B"])
    with pytest.raises(PermissionDenied, match="尚未在"):
        services.call_next(window=centre["windows"][0], clerk=personas["frontdesk"])
    services.sign_in(window=centre["windows"][0], clerk=personas["frontdesk"])
    assert (
        services.call_next(window=centre["windows"][0], clerk=personas["frontdesk"]) is None
    )  # B is not served at 1


def test_a_window_holds_one_clerk_and_other_streets_cannot_sit(centre, personas):
    services.sign_in(window=centre["windows"][0], clerk=personas["frontdesk"])
    with pytest.raises(ConflictError, match="张丽"):
        services.sign_in(window=centre["windows"][0], clerk=personas["backoffice"])
    with pytest.raises(PermissionDenied):
        services.sign_in(window=centre["windows"][1], clerk=personas["frontdesk_b"])
    moved = services.sign_in(
        window=centre["windows"][1], clerk=personas["frontdesk"]
    )  # moving ends the old one
    assert moved.window == centre["windows"][1]


def test_ticket_life_recall_serve_finish_and_transfer(centre, personas):
    clerk = personas["frontdesk"]
    window = centre["windows"][0]
    services.sign_in(window=window, clerk=clerk)
    first = services.issue_ticket(category=centre["A"]).ticket
    second = services.issue_ticket(category=centre["A"]).ticket
    ticket = services.call_next(window=window, clerk=clerk)
    assert ticket.pk == first.pk and ticket.status == TicketStatus.CALLED
    with pytest.raises(ConflictError, match="未办结"):
        services.call_next(window=window, clerk=clerk)
    assert services.recall(ticket=ticket, clerk=clerk).recalls == 1
    services.start_service(ticket=ticket, clerk=clerk)
    done = services.finish_service(ticket=ticket, clerk=clerk)
    assert done.status == TicketStatus.DONE and done.finished_at
    with pytest.raises(ConflictError, match="已完成"):
        services.mark_no_show(ticket=done, clerk=clerk)
    ticket = services.call_next(window=window, clerk=clerk)
    assert ticket.pk == second.pk
    moved = services.transfer(ticket=ticket, clerk=clerk, category=centre["B"])
    assert moved.status == TicketStatus.WAITING and moved.category == centre["B"] and moved.window is None
    assert moved.number == "A002"  # keeps its number and its place in time


def test_no_show(centre, personas):
    clerk = personas["frontdesk"]
    services.sign_in(window=centre["windows"][0], clerk=clerk)
    services.issue_ticket(category=centre["A"])
    ticket = services.call_next(window=centre["windows"][0], clerk=clerk)
    assert services.mark_no_show(ticket=ticket, clerk=clerk).status == TicketStatus.NO_SHOW


def test_appointments_fill_up_and_check_in_gives_the_first_place(centre, personas):
    category = centre["A"]
    category.slot_capacity = 2
    category.save()
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        day = dt.date(2026, 11, 24)
        assert (dt.time(9, 0), 2) in services.slots(category, day)
        assert services.slots(category, dt.date(2026, 11, 28)) == []  # a Saturday
        first = services.book(
            category=category, day=day, slot_start=dt.time(9, 0), name="王一", phone="13900000001"
        )
        services.book(category=category, day=day, slot_start=dt.time(9, 0), name="王二", phone="13900000002")
        with pytest.raises(ValidationError, match="名额已满"):
            services.book(
                category=category, day=day, slot_start=dt.time(9, 0), name="王三", phone="13900000003"
            )
        with pytest.raises(ValidationError, match="不是可预约的时段"):
            services.book(
                category=category, day=day, slot_start=dt.time(12, 30), name="王三", phone="13900000003"
            )
        with pytest.raises(ValidationError) as err:
            services.book(
                category=category, day=dt.date(2026, 11, 23), slot_start=dt.time(9, 0), name="", phone="1"
            )
        assert set(err.value.message_dict) == {"name", "phone", "day"}
    services.sign_in(window=centre["windows"][0], clerk=personas["frontdesk"])
    with (
        time_machine.travel(at(2026, 11, 24, 8, 0), tick=False),
        pytest.raises(ValidationError, match="30 分钟内签到"),
    ):
        services.check_in(code=first.code)
    with time_machine.travel(at(2026, 11, 24, 8, 50), tick=False):
        walk_in = services.issue_ticket(category=category).ticket
        issued = services.check_in(code=first.code.lower())
        assert issued.ticket.priority == TicketPriority.APPOINTMENT
        assert services.check_in(code=first.code).ticket.pk == issued.ticket.pk  # scanned twice
        called = services.call_next(window=centre["windows"][0], clerk=personas["frontdesk"])
        assert called.pk == issued.ticket.pk and called.pk != walk_in.pk


def test_expired_code_cancel_and_missed(centre):
    category = centre["A"]
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        late = services.book(
            category=category,
            day=dt.date(2026, 11, 24),
            slot_start=dt.time(9, 0),
            name="李",
            phone="13900000004",
        )
        kept = services.book(
            category=category,
            day=dt.date(2026, 11, 24),
            slot_start=dt.time(9, 30),
            name="赵",
            phone="13900000005",
        )
        with pytest.raises(ValidationError):
            services.cancel_appointment(code=kept.code, phone_last4="9999")
        services.cancel_appointment(code=kept.code, phone_last4="0005")
        assert dict(services.slots(category, dt.date(2026, 11, 24)))[dt.time(9, 30)] == category.slot_capacity
    with time_machine.travel(at(2026, 11, 24, 9, 16), tick=False):
        with pytest.raises(ValidationError, match="已过期"):
            services.check_in(code=late.code)
        assert services.mark_missed_appointments() == 1
    assert Appointment.objects.get(pk=late.pk).status == AppointmentStatus.NO_SHOW
    with pytest.raises(ValidationError, match="不存在"):
        services.check_in(code="NOPE1234")


def test_residents_get_an_sms_when_called_and_when_booking(centre, personas):
    clerk = personas["frontdesk"]
    services.sign_in(window=centre["windows"][0], clerk=clerk)
    services.issue_ticket(category=centre["A"], phone="13900000009")
    ticket = services.call_next(window=centre["windows"][0], clerk=clerk)
    services.recall(ticket=ticket, clerk=clerk)
    calls = OutboxMessage.objects.filter(template="queue.called", address="13900000009")
    assert calls.count() == 2  # the call and the recall
    assert "A001" in calls.first().body and "1 号窗口" in calls.first().body
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        booked = services.book(
            category=centre["A"],
            day=dt.date(2026, 11, 24),
            slot_start=dt.time(9, 0),
            name="王",
            phone="13900000008",
        )
    sms = OutboxMessage.objects.get(template="queue.booked", address="13900000008")
    assert booked.code in sms.body and "09:00-09:30" in sms.body


def test_rating_after_service_feeds_the_case_when_it_is_closed(centre, personas):
    from shequ.affairs import services as affairs
    from shequ.affairs.tests.test_desk import all_materials, applicant, make_matter
    from shequ.workorders.models import Rating

    clerk = personas["frontdesk"]
    services.sign_in(window=centre["windows"][0], clerk=clerk)
    services.issue_ticket(category=centre["A"])
    ticket = services.call_next(window=centre["windows"][0], clerk=clerk)
    with pytest.raises(ValidationError, match="办理结束后"):
        services.rate_ticket(ticket=ticket, level=5)
    matter = make_matter("t-jintie", "老年综合津贴申领", on_the_spot=True)
    case = affairs.accept(
        by=clerk,
        matter=matter,
        applicant=applicant(),
        received=all_materials(matter),
        place_code="310101020001",
        finish_on_spot=True,
    ).case.order
    services.link_case(ticket=ticket, clerk=clerk, case_order=case)
    services.finish_service(ticket=ticket, clerk=clerk)
    rated = services.rate_ticket(ticket=ticket, level=2, comment="窗口人员态度冷淡")
    assert rated.rating == 2
    assert services.rate_ticket(ticket=ticket, level=2).rating == 2  # the same tap twice
    with pytest.raises(ConflictError, match="不能重复评价"):
        services.rate_ticket(ticket=ticket, level=5)
    rating = Rating.objects.get(order=case)
    assert rating.level == 2 and rating.follow_up is not None  # a bad rating opens 整改
    with pytest.raises(ValidationError, match="1 到 5"):
        services.rate_ticket(ticket=ticket, level=9)


def test_the_worker_marks_missed_appointments(centre):
    from django.core.management import call_command

    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        missed = services.book(
            category=centre["A"],
            day=dt.date(2026, 11, 24),
            slot_start=dt.time(9, 0),
            name="钱",
            phone="13900000007",
        )
    with time_machine.travel(at(2026, 11, 25, 8, 0), tick=False):
        call_command("worker", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Appointment.objects.get(pk=missed.pk).status == AppointmentStatus.NO_SHOW


def test_numbers_are_good_for_their_day_only(centre, personas):
    clerk = personas["frontdesk"]
    with time_machine.travel(at(2026, 11, 23, 16, 0), tick=False):
        services.sign_in(window=centre["windows"][0], clerk=clerk)
        services.issue_ticket(category=centre["A"])
        services.issue_ticket(category=centre["A"])
        called = services.call_next(window=centre["windows"][0], clerk=clerk)
        assert called is not None
    with time_machine.travel(at(2026, 11, 24, 8, 0), tick=False):
        assert services.close_past_days() == 3  # two tickets and the forgotten session
        assert services.close_past_days() == 0
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses[called.pk] == TicketStatus.NO_SHOW
    assert sorted(statuses.values()) == [TicketStatus.CANCELLED, TicketStatus.NO_SHOW]
    assert not WindowSession.objects.filter(ended_at__isnull=True).exists()


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_windows_calling_at_once_never_get_the_same_ticket(demo, personas):
    street = Place.objects.get(code="310101020")
    category = ServiceCategory.objects.create(centre=street, prefix="A", name="社保医保")
    clerks = [personas["frontdesk"], personas["backoffice"], personas["manager"], personas["mediator"]]
    windows = []
    for number, clerk in enumerate(clerks, start=1):
        window = Window.objects.create(centre=street, number=number)
        window.categories.add(category)
        services.sign_in(window=window, clerk=clerk)
        windows.append(window)
    for _ in range(3):
        services.issue_ticket(category=category)
    barrier = threading.Barrier(len(windows))
    got: list[str | None] = []

    def call(window: Window, clerk) -> None:
        try:
            barrier.wait()
            ticket = services.call_next(window=window, clerk=clerk)
            got.append(ticket.number if ticket else None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call, args=pair) for pair in zip(windows, clerks, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [n for n in got if n]
    assert sorted(numbers) == ["A001", "A002", "A003"] and got.count(None) == 1
    assert Ticket.objects.filter(status=TicketStatus.CALLED).values("window").distinct().count() == 3


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_kiosks_never_issue_a_number_twice(demo):
    street = Place.objects.get(code="310101020")
    category = ServiceCategory.objects.create(centre=street, prefix="C", name="综合")
    barrier = threading.Barrier(5)
    numbers: list[str] = []

    def kiosk() -> None:
        try:
            barrier.wait()
            for _ in range(8):
                numbers.append(services.issue_ticket(category=category).ticket.number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=kiosk) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == 40 and len(set(numbers)) == 40


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_full_slot_is_never_overbooked_under_concurrency(demo):
    street = Place.objects.get(code="310101020")
    category = ServiceCategory.objects.create(centre=street, prefix="D", name="预约", slot_capacity=3)
    day = dt.date(2026, 11, 24)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def resident(i: int) -> None:
        try:
            barrier.wait()
            with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
                services.book(
                    category=category,
                    day=day,
                    slot_start=dt.time(10, 0),
                    name=f"居民{i}",
                    phone=f"1390000{i:04d}",
                )
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("full")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 3 and outcomes.count("full") == 5
    assert Appointment.objects.filter(category=category).count() == 3
