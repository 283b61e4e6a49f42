"""The public queue pages: kiosk, check-in, ticket, follow, booking, confirmation, cancellation.
The client is anonymous throughout, as a resident or the kiosk in the hall is."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from shequ.core.idempotency import FORM_FIELD, new_key
from shequ.core.idnumbers import make_resident_id
from shequ.places.models import Place
from shequ.queueing import services
from shequ.queueing.choices import AppointmentStatus, TicketPriority, TicketStatus
from shequ.queueing.models import Appointment, ServiceCategory, Ticket, Window

pytestmark = pytest.mark.django_db

CENTRE = "310101020"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ELDER = make_resident_id("310101", dt.date(1950, 1, 1), 11)
YOUNG = make_resident_id("310101", dt.date(1990, 1, 1), 12)
PHONE = "13912345678"
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # booking happens on this day
TUESDAY = dt.date(2026, 11, 24)


def kiosk_url() -> str:
    return reverse("queueing:kiosk", args=[CENTRE])


def book_url() -> str:
    return reverse("queueing:book", args=[CENTRE])


def issue(client, category: ServiceCategory, key: str | None = None, **fields: str):
    data = {"category": str(category.pk), FORM_FIELD: key or new_key(), **fields}
    return client.post(kiosk_url(), data)


def error_text(body: str, element_id: str) -> str:
    """The text of an error block, found by its id."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</div>', body, re.S)
    assert match, f"no #{element_id} in the page"
    return re.sub(r"<[^>]+>", "", match.group(1))


def booking(category: ServiceCategory, **overrides: str) -> dict[str, str]:
    data = {
        "category": str(category.pk),
        "day": TUESDAY.isoformat(),
        "slot_start": "09:00",
        "name": "王小明",
        "phone": PHONE,
        FORM_FIELD: new_key(),
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------- kiosk


def test_kiosk_lists_the_categories_with_waiting_counts(client, demo_centre):
    services.issue_ticket(category=demo_centre["A"])
    services.issue_ticket(category=demo_centre["A"])
    response = client.get(kiosk_url())
    assert response.status_code == 200
    body = response.content.decode()
    for category in demo_centre.values():
        assert category.name in body
        assert f'name="category" value="{category.pk}"' in body
    assert "等候 2 人" in body and "约 20 分钟" in body  # A: 2 waiting x 10 minutes, nobody staffed
    assert "css/kiosk.css" in body and 'name="idempotency_key"' in body
    assert reverse("queueing:check_in", args=[CENTRE]) in body and book_url() in body


def test_kiosk_is_404_for_an_unknown_centre_or_one_without_categories(client, demo_centre):
    assert client.get(reverse("queueing:kiosk", args=["999999999"])).status_code == 404
    assert client.get(reverse("queueing:kiosk", args=["310101021"])).status_code == 404
    ServiceCategory.objects.filter(centre__code=CENTRE).update(is_active=False)
    assert client.get(kiosk_url()).status_code == 404


def test_a_double_tap_issues_one_ticket(client, demo_centre):
    key = new_key()
    first = issue(client, demo_centre["B"], key=key)
    ticket = Ticket.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("queueing:ticket", args=[ticket.token]) + "?print=1"
    again = issue(client, demo_centre["B"], key=key)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Ticket.objects.count() == 1 and ticket.number == "B001"
    issue(client, demo_centre["B"])  # a new form (new key) is a new ticket
    assert sorted(Ticket.objects.values_list("number", flat=True)) == ["B001", "B002"]


def test_an_invalid_phone_is_refused_on_its_field_and_writes_nothing(client, demo_centre):
    response = issue(client, demo_centre["A"], phone="139")
    assert response.status_code == 200
    body = response.content.decode()
    assert "手机号码" in error_text(body, "qk-phone-error")
    assert 'data-step="2"' in body  # the resident stays on the second step
    assert Ticket.objects.count() == 0


def test_no_category_and_a_bad_id_number_are_refused(client, demo_centre):
    response = client.post(kiosk_url(), {FORM_FIELD: new_key()})
    assert "请先选择办理业务" in error_text(response.content.decode(), "qk-category-error")
    response = issue(client, demo_centre["A"], id_number=ELDER[:-1] + ("0" if ELDER[-1] != "0" else "1"))
    assert "身份证号码" in error_text(response.content.decode(), "qk-id-error")
    assert Ticket.objects.count() == 0


def test_an_elder_id_number_or_the_disability_card_gives_priority(client, demo_centre):
    issue(client, demo_centre["A"], id_number=YOUNG, phone=PHONE)
    issue(client, demo_centre["A"], id_number=ELDER.lower())
    issue(client, demo_centre["A"], disabled="on")
    young, elder, disabled = Ticket.objects.order_by("id")
    assert young.priority == TicketPriority.NORMAL and young.phone == PHONE
    assert elder.priority == TicketPriority.PRIORITY_GROUP and "周岁" in elder.priority_reason
    assert disabled.priority == TicketPriority.PRIORITY_GROUP and disabled.priority_reason == "残疾人"


def test_the_kiosk_and_booking_pages_keep_a_query_budget(client, demo_centre, django_assert_max_num_queries):
    for category in demo_centre.values():
        services.issue_ticket(category=category)
    client.get(kiosk_url())
    with django_assert_max_num_queries(5):  # centre, categories, waiting counts, staffed windows
        assert client.get(kiosk_url()).status_code == 200
    with time_machine.travel(MONDAY, tick=False):
        client.get(book_url())
        with django_assert_max_num_queries(8):  # + matters, one calendar snapshot, the day's slots
            assert client.get(book_url()).status_code == 200


# ------------------------------------------------------------------------------- ticket


def test_the_ticket_shows_number_ahead_wait_and_a_qr_code(client, demo_centre):
    for _ in range(2):
        services.issue_ticket(category=demo_centre["A"])
    ticket = services.issue_ticket(category=demo_centre["A"], phone=PHONE).ticket
    response = client.get(reverse("queueing:ticket", args=[ticket.token]))
    assert response.status_code == 200
    body = response.content.decode()
    assert ticket.number == "A003" and ">A003<" in body
    assert "前面还有 <strong>2</strong> 人" in body
    assert "预计等候约 <strong>20</strong> 分钟" in body
    assert '<svg viewBox="' in body and 'class="segno"' in body
    assert "size: 80mm" in body and "paper-80" in body  # the default paper
    assert "data-auto-print" not in body
    assert PHONE not in body and PHONE[-4:] not in body  # no personal data on a ticket


def test_the_ticket_prints_on_58mm_paper_and_prints_at_once_from_the_kiosk(client, demo_centre):
    ticket = services.issue_ticket(category=demo_centre["C"], disabled=True).ticket
    body = client.get(reverse("queueing:ticket", args=[ticket.token]), {"paper": "58"}).content.decode()
    assert "size: 58mm" in body and 'class="ticket-paper paper-58"' in body
    assert "优先：残疾人" in body
    body = client.get(reverse("queueing:ticket", args=[ticket.token]), {"print": "1"}).content.decode()
    assert "data-auto-print" in body and f'data-kiosk-home="{kiosk_url()}"' in body


def test_an_unknown_ticket_is_404(client, demo_centre):
    assert client.get(reverse("queueing:ticket", args=["no-such-token"])).status_code == 404
    assert client.get(reverse("queueing:follow", args=["no-such-token"])).status_code == 404


# ------------------------------------------------------------------------------- follow


@pytest.fixture
def desk(demo_centre, personas):
    """The front-desk clerk signed in at window 2 (which serves A)."""
    window = Window.objects.get(centre__code=CENTRE, number=2)
    services.sign_in(window=window, clerk=personas["frontdesk"])
    return {"window": window, "clerk": personas["frontdesk"]}


def follow(client, ticket: Ticket, **headers: str) -> str:
    response = client.get(reverse("queueing:follow", args=[ticket.token]), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_follow_while_waiting_shows_the_people_ahead_and_refreshes(client, demo_centre):
    services.issue_ticket(category=demo_centre["A"])
    ticket = services.issue_ticket(category=demo_centre["A"], phone=PHONE).ticket
    body = follow(client, ticket)
    assert ticket.number in body and "等候中" in body
    assert "<strong>1</strong> 人" in body and "<strong>10</strong> 分钟" in body
    assert 'hx-trigger="every 15s"' in body and 'http-equiv="refresh"' in body
    assert PHONE not in body and PHONE[-4:] not in body
    fragment = follow(client, ticket, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment and 'id="qf-status"' in fragment


def test_follow_when_called_serving_done_or_missed(client, demo_centre, desk):
    ticket = services.issue_ticket(category=demo_centre["A"]).ticket
    services.call_next(window=desk["window"], clerk=desk["clerk"])
    assert "请到 2 号窗口" in follow(client, ticket)
    ticket.refresh_from_db()
    services.start_service(ticket=ticket, clerk=desk["clerk"])
    assert "正在办理" in follow(client, ticket)
    services.finish_service(ticket=ticket, clerk=desk["clerk"])
    body = follow(client, ticket)
    rate = reverse("queueing:rate", args=[ticket.token])
    assert "办理完成" in body and f'href="{rate}"' in body
    assert "hx-trigger" not in body and 'http-equiv="refresh"' not in body  # nothing left to wait for
    Ticket.objects.filter(pk=ticket.pk).update(rating=5)
    assert rate not in follow(client, ticket)

    missed = services.issue_ticket(category=demo_centre["A"]).ticket
    services.call_next(window=desk["window"], clerk=desk["clerk"])
    missed.refresh_from_db()
    services.mark_no_show(ticket=missed, clerk=desk["clerk"])
    assert missed.status == TicketStatus.NO_SHOW
    assert "已过号，请重新取号" in follow(client, missed)


def test_follow_says_an_open_number_from_an_earlier_day_is_void(client, demo_centre):
    with time_machine.travel(MONDAY, tick=False):
        ticket = services.issue_ticket(category=demo_centre["A"]).ticket
        assert "前面还有" in follow(client, ticket)
    with time_machine.travel(MONDAY + dt.timedelta(days=1), tick=False):
        body = follow(client, ticket)
    assert "该号已失效" in body and "前面还有" not in body and "hx-trigger" not in body


# ------------------------------------------------------------------------------ booking


def test_booking_happy_path(client, demo_centre):
    category = demo_centre["E"]
    with time_machine.travel(MONDAY, tick=False):
        page = client.get(book_url()).content.decode()
        assert 'value="2026-11-24"' in page and 'value="2026-11-23"' not in page  # from tomorrow
        assert 'value="2026-11-28"' not in page  # Saturday: no slots
        assert 'name="idempotency_key"' in page and reverse("queueing:book_slots", args=[CENTRE]) in page
        slots = client.get(
            reverse("queueing:book_slots", args=[CENTRE]),
            {"category": category.pk, "day": TUESDAY.isoformat()},
        ).content.decode()
        assert 'value="09:00"' in slots and "余 4 个名额" in slots
        data = booking(category)
        response = client.post(book_url(), data)
        appointment = Appointment.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("queueing:appointment", args=[appointment.code])
        assert client.post(book_url(), data)["Location"] == response["Location"]  # a double click
        assert Appointment.objects.count() == 1
    assert appointment.category == category and appointment.day == TUESDAY
    assert appointment.slot_start == dt.time(9, 0) and appointment.phone == PHONE


def test_booking_a_full_slot_says_so_on_the_slot(client, demo_centre):
    category = demo_centre["B"]
    category.slot_capacity = 1
    category.save()
    with time_machine.travel(MONDAY, tick=False):
        assert client.post(book_url(), booking(category)).status_code == 302
        response = client.post(book_url(), booking(category, name="李四", phone="13900000002"))
        assert response.status_code == 200
        assert "名额已满" in error_text(response.content.decode(), "qb-slot-error")
        slots = client.get(
            reverse("queueing:book_slots", args=[CENTRE]),
            {"category": category.pk, "day": TUESDAY.isoformat()},
        ).content.decode()
    assert re.search(r'value="09:00" disabled', slots) and "名额已满" in slots
    assert Appointment.objects.count() == 1


def test_booking_a_past_day_or_bad_fields_are_refused_on_their_fields(client, demo_centre):
    category = demo_centre["A"]
    with time_machine.travel(MONDAY, tick=False):
        response = client.post(book_url(), booking(category, day="2026-11-23"))
        assert response.status_code == 200
        assert "请选择明天起 14 天以内的日期" in error_text(response.content.decode(), "qb-day-error")
        response = client.post(book_url(), booking(category, name="", phone="12"))
        body = response.content.decode()
        assert "请填写姓名" in error_text(body, "qb-name-error")
        assert "手机号码" in error_text(body, "qb-phone-error")
        response = client.post(book_url(), booking(category, day="2026-12-31"))
        assert "14 天以内" in error_text(response.content.decode(), "qb-day-error")
        slots = client.get(
            reverse("queueing:book_slots", args=[CENTRE]), {"category": category.pk, "day": "2026-11-28"}
        ).content.decode()
        assert "该日不办理预约" in slots
    assert Appointment.objects.count() == 0


# -------------------------------------------------------------------- confirmation, cancel


@pytest.fixture
def booked(demo_centre):
    with time_machine.travel(MONDAY, tick=False):
        return services.book(
            category=demo_centre["A"], day=TUESDAY, slot_start=dt.time(9, 0), name="王小明", phone=PHONE
        )


def test_the_confirmation_shows_the_code_and_masks_the_phone(client, booked):
    response = client.get(reverse("queueing:appointment", args=[booked.code]))
    assert response.status_code == 200
    body = response.content.decode()
    assert booked.code in body and 'class="segno"' in body
    assert "139****5678" in body and PHONE not in body and "王小明" not in body
    assert "09:00–09:30" in body and "08:30" in body and "09:15" in body  # the check-in window
    assert f"{reverse('queueing:cancel')}?code={booked.code}" in body
    assert client.get(reverse("queueing:appointment", args=["ZZZZZZZZ"])).status_code == 404


def test_cancel_needs_the_right_last_four_digits(client, booked):
    url = reverse("queueing:cancel")
    assert f'value="{booked.code}"' in client.get(url, {"code": booked.code}).content.decode()
    response = client.post(url, {"code": booked.code, "phone4": "0000", FORM_FIELD: new_key()})
    assert "预约码或手机号后四位不正确" in error_text(response.content.decode(), "qc-code-error")
    response = client.post(url, {"code": booked.code, "phone4": "12", FORM_FIELD: new_key()})
    assert "4 位数字" in error_text(response.content.decode(), "qc-phone4-error")
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    response = client.post(url, {"code": booked.code.lower(), "phone4": "5678", FORM_FIELD: new_key()})
    assert response.status_code == 302
    assert response["Location"] == reverse("queueing:appointment", args=[booked.code])
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED
    again = client.post(url, {"code": booked.code, "phone4": "5678", FORM_FIELD: new_key()})
    assert "不能取消" in again.content.decode()


# ----------------------------------------------------------------------------- check-in


def check_in(client, code: str) -> tuple[int, str]:
    response = client.post(reverse("queueing:check_in", args=[CENTRE]), {"code": code})
    return response.status_code, response.content.decode()


def test_check_in_too_early_expired_and_in_time(client, booked):
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI), tick=False):
        status, body = check_in(client, booked.code)
        assert status == 200 and "30 分钟内签到" in error_text(body, "qk-code-error")
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 45, tzinfo=SHANGHAI), tick=False):
        response = client.post(reverse("queueing:check_in", args=[CENTRE]), {"code": booked.code.lower()})
        ticket = Ticket.objects.get(appointment=booked)
        assert response.status_code == 302
        assert response["Location"] == reverse("queueing:ticket", args=[ticket.token]) + "?print=1"
        assert ticket.priority == TicketPriority.APPOINTMENT
        again = client.post(reverse("queueing:check_in", args=[CENTRE]), {"code": booked.code})
        assert again["Location"] == response["Location"]  # scanned twice: the same ticket
    late = Appointment.objects.create(
        category=booked.category,
        day=TUESDAY,
        slot_start=dt.time(10, 0),
        code="LATE2345",
        name="赵",
        phone="13900000009",
    )
    with time_machine.travel(dt.datetime(2026, 11, 24, 10, 16, tzinfo=SHANGHAI), tick=False):
        status, body = check_in(client, late.code)
    assert "已过期" in error_text(body, "qk-code-error")
    assert Ticket.objects.count() == 1


def test_check_in_refuses_unknown_malformed_and_other_centres_codes(client, booked):
    other_centre = Place.objects.get(code="310101021")
    other = ServiceCategory.objects.create(centre=other_centre, prefix="A", name="社保")
    elsewhere = Appointment.objects.create(
        category=other, day=TUESDAY, slot_start=dt.time(9, 0), code="ELSE2345", name="钱", phone=PHONE
    )
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 45, tzinfo=SHANGHAI), tick=False):
        for code, message in [
            (elsewhere.code, "预约码不存在"),
            ("ZZZZZZZZ", "预约码不存在"),
            ("ABC", "8 位"),
            ("", "请输入预约码"),
        ]:
            status, body = check_in(client, code)
            assert status == 200 and message in error_text(body, "qk-code-error")
    assert Ticket.objects.count() == 0
    page = client.get(reverse("queueing:check_in", args=[CENTRE])).content.decode()
    assert all(f'data-key="{c}"' in page for c in services.CODE_ALPHABET)
