"""The staff's queue pages: the centres overview, the window console and its actions, the
appointments list. Every view is checked for access (五里桥's clerk) and denial (打浦桥's)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shequ.affairs.models import Case
from shequ.queueing import services
from shequ.queueing.choices import AppointmentStatus, TicketStatus
from shequ.queueing.models import Appointment, Ticket, Window, WindowSession

pytestmark = pytest.mark.django_db
CENTRE = "310101020"
PHONE = "13912345678"


@pytest.fixture
def windows(demo_centre):
    return {w.number: w for w in Window.objects.filter(centre__code=CENTRE)}


def window_url(window: Window) -> str:
    return reverse("queueing:window", kwargs={"pk": window.pk})


def act(client, window: Window, action: str, **data: object):  # type: ignore[no-untyped-def]
    url = reverse("queueing:window_action", kwargs={"pk": window.pk, "action": action})
    return client.post(url, data, follow=True)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# ---------------------------------------------------------------------------------- overview


def test_index_lists_the_clerks_centre_with_windows_and_links(client_as, windows, demo_centre, personas):
    services.sign_in(window=windows[2], clerk=personas["manager"])
    services.issue_ticket(category=demo_centre["A"])
    services.issue_ticket(category=demo_centre["A"])
    services.call_next(window=windows[2], clerk=personas["manager"])
    client = client_as("frontdesk")
    response = client.get(reverse("queueing:index"))
    assert response.status_code == 200
    html = text(response)
    assert "五里桥街道" in html and "8 号窗口" in html
    assert personas["manager"].display_name in html and "A001" in html  # who sits at window 2, and its ticket
    assert "1 人等候" in html  # A002 waits
    for url in (
        reverse("queueing:display", kwargs={"centre_code": CENTRE}),
        reverse("queueing:kiosk", kwargs={"centre_code": CENTRE}),
        reverse("queueing:book", kwargs={"centre_code": CENTRE}),
        reverse("queueing:appointments"),
        window_url(windows[1]),
    ):
        assert url in html


def test_index_is_scoped_and_forbidden_without_a_desk_role(client_as, windows, client, personas):
    html = text(client_as("frontdesk_b").get(reverse("queueing:index")))
    assert "五里桥街道" not in html and "您辖区内尚未配置窗口" in html
    assert client_as("leader").get(reverse("queueing:index")).status_code == 200
    assert "五里桥街道" in text(client_as("admin").get(reverse("queueing:index")))  # a superuser sees all
    assert client_as("resident").get(reverse("queueing:index")).status_code == 403
    client.logout()
    assert client.get(reverse("queueing:index")).status_code == 302  # to the login page


def test_pages_keep_to_a_query_budget(
    client_as, windows, demo_centre, personas, django_assert_max_num_queries
):
    """Eight windows, their categories, sessions and a queue: a fixed number of queries."""
    for number, persona in ((1, "frontdesk"), (2, "manager"), (3, "backoffice"), (4, "mediator")):
        services.sign_in(window=windows[number], clerk=personas[persona])
    for _ in range(15):
        services.issue_ticket(category=demo_centre["A"], phone=PHONE)
        services.issue_ticket(category=demo_centre["C"])
    for number, persona in ((1, "frontdesk"), (2, "manager"), (4, "mediator")):
        services.call_next(window=windows[number], clerk=personas[persona])
    client = client_as("frontdesk")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("queueing:index")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(window_url(windows[1])).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("queueing:appointments")).status_code == 200


# ---------------------------------------------------------------------------------- console


def test_another_streets_clerk_gets_404(client_as, windows):
    client = client_as("frontdesk_b")
    assert client.get(window_url(windows[1])).status_code == 404
    url = reverse("queueing:window_action", kwargs={"pk": windows[1].pk, "action": "signin"})
    assert client.post(url).status_code == 404
    assert not WindowSession.objects.exists()
    assert client_as("resident").get(window_url(windows[1])).status_code == 404


def test_calling_without_signing_in_says_so(client_as, windows, demo_centre):
    services.issue_ticket(category=demo_centre["A"])
    client = client_as("frontdesk")
    page = text(client.get(window_url(windows[1])))
    assert "签入" in page and "叫号</button>" not in page.replace(" <kbd>F1</kbd>", "")
    response = act(client, windows[1], "call")
    assert response.redirect_chain[-1][0] == window_url(windows[1])
    # services.open_session's refusal, word for word
    assert "您尚未在 1 号窗口签入，不能在此叫号。" in text(response)
    assert Ticket.objects.get().status == TicketStatus.WAITING


def test_sign_in_call_recall_start_finish(client_as, windows, demo_centre, personas):
    services.issue_ticket(category=demo_centre["A"], phone=PHONE)
    services.issue_ticket(category=demo_centre["F"])
    client = client_as("frontdesk")

    response = act(client, windows[1], "signin")
    assert "已在 1 号窗口签入。" in text(response)
    assert WindowSession.objects.get(ended_at__isnull=True).clerk == personas["frontdesk"]
    assert "A001" in text(response) and "F001" in text(response)  # the waiting list

    response = act(client, windows[1], "call", idempotency_key="call-key-0001")
    html = text(response)
    assert "已叫号 A001" in html
    assert "139****5678" in html and PHONE not in html  # the phone masked
    ticket = Ticket.objects.get(number="A001")
    assert ticket.status == TicketStatus.CALLED and ticket.window == windows[1]
    assert reverse("affairs:desk") + f"?ticket={ticket.token}" in html

    # The same click sent twice (same idempotency key) does not call a second ticket.
    response = act(client, windows[1], "call", idempotency_key="call-key-0001")
    assert "已叫号 A001" in text(response)
    assert Ticket.objects.get(number="F001").status == TicketStatus.WAITING

    # A new click while A001 is open is refused clearly.
    response = act(client, windows[1], "call", idempotency_key="call-key-0002")
    assert "本窗口还有未办结的号" in text(response)

    response = act(client, windows[1], "recall", ticket=ticket.pk)
    assert "已重呼 A001" in text(response)
    ticket.refresh_from_db()
    assert ticket.recalls == 1

    response = act(client, windows[1], "start", ticket=ticket.pk)
    assert "A001 开始办理" in text(response)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SERVING and ticket.started_at is not None

    response = act(client, windows[1], "finish", ticket=ticket.pk)
    assert "A001 已办结" in text(response)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE
    assert act(client, windows[1], "finish", ticket=ticket.pk).status_code == 200  # a stale page: a message

    page = client.get(window_url(windows[1]))
    assert page.context["today"]["served"] == 1 and page.context["today"]["average_minutes"] is not None

    response = act(client, windows[1], "signout")
    assert "已从 1 号窗口签出。" in text(response)
    assert not WindowSession.objects.filter(ended_at__isnull=True).exists()


def test_no_show_and_empty_queue(client_as, windows, demo_centre):
    services.issue_ticket(category=demo_centre["A"])
    client = client_as("frontdesk")
    act(client, windows[1], "signin")
    act(client, windows[1], "call")
    ticket = Ticket.objects.get()
    # Signing out with a called number is refused: the next clerk could not move it.
    response = act(client, windows[1], "signout")
    assert "请先办结、过号或转出 A001，再签出。" in text(response)
    response = act(client, windows[1], "no_show", ticket=ticket.pk)
    assert "A001 已过号" in text(response)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NO_SHOW
    response = act(client, windows[1], "call")
    assert "当前没有等候的号" in text(response)
    response = act(client, windows[1], "recall")
    assert "1 号窗口当前没有已叫的号。" in text(response)
    assert client.get(window_url(windows[1])).context["today"]["no_show"] == 1


def test_moving_to_another_window_with_a_number_open_is_refused(client_as, windows, demo_centre):
    services.issue_ticket(category=demo_centre["A"])
    client = client_as("frontdesk")
    act(client, windows[1], "signin")
    act(client, windows[1], "call")
    response = act(client, windows[8], "signin")
    assert "您在 1 号窗口还有未办结的 A001，请先办结、过号或转出。" in text(response)
    assert WindowSession.objects.get(ended_at__isnull=True).window == windows[1]
    act(client, windows[1], "finish")
    assert "已在 8 号窗口签入。" in text(act(client, windows[8], "signin"))
    assert WindowSession.objects.get(ended_at__isnull=True).window == windows[8]


def test_transfer_sends_the_ticket_to_another_category(client_as, windows, demo_centre):
    services.issue_ticket(category=demo_centre["A"])
    client = client_as("frontdesk")
    act(client, windows[1], "signin")
    act(client, windows[1], "call")
    ticket = Ticket.objects.get()
    response = act(client, windows[1], "transfer", ticket=ticket.pk, category="")
    assert "转到：" in text(response)  # the form's error names the field
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CALLED

    response = act(client, windows[1], "transfer", ticket=ticket.pk, category=demo_centre["C"].pk)
    assert "A001 已转到“民政救助与残疾人”" in text(response)
    ticket.refresh_from_db()
    assert (
        ticket.status == TicketStatus.WAITING
        and ticket.category == demo_centre["C"]
        and ticket.window is None
    )
    # Window 4 serves C: it calls the transferred ticket.
    assert "A001" in text(client.get(window_url(windows[4])))


def test_a_window_held_by_someone_else(client_as, windows, personas):
    services.sign_in(window=windows[1], clerk=personas["manager"])
    client = client_as("frontdesk")
    page = text(client.get(window_url(windows[1])))
    assert personas["manager"].display_name in page and "须其签出后才能签入" in page
    response = act(client, windows[1], "signin")
    assert "已由" in text(response) and "请先由其签出" in text(response)


def test_a_leader_may_look_but_not_staff_a_window(client_as, windows):
    client = client_as("leader")
    assert client.get(window_url(windows[1])).status_code == 200
    response = act(client, windows[1], "signin")
    assert "您不是本中心的窗口人员。" in text(response)


def test_unknown_actions_and_gets_are_refused(client_as, windows):
    client = client_as("frontdesk")
    url = reverse("queueing:window_action", kwargs={"pk": windows[1].pk, "action": "explode"})
    assert client.post(url).status_code == 404
    url = reverse("queueing:window_action", kwargs={"pk": windows[1].pk, "action": "call"})
    assert client.get(url).status_code == 405
    assert client.get(reverse("queueing:window", kwargs={"pk": 999999})).status_code == 404


def test_waiting_list_partial_and_case_link(client_as, windows, demo_centre, personas):
    services.issue_ticket(category=demo_centre["A"])
    client = client_as("frontdesk")
    partial = client.get(window_url(windows[1]) + "?part=waiting")
    assert partial.status_code == 200 and "A001" in text(partial) and "<html" not in text(partial)
    act(client, windows[1], "signin")
    act(client, windows[1], "call")
    ticket = Ticket.objects.get()
    case = Case.objects.select_related("order").first()
    if case is not None:  # the base demo may hold no case; the link is shown when there is one
        services.link_case(ticket=ticket, clerk=personas["frontdesk"], case_order=case.order)
        html = text(client.get(window_url(windows[1])))
        assert reverse("affairs:case", kwargs={"number": case.order.number}) in html


# ---------------------------------------------------------------------------------- appointments


@pytest.fixture
def booked(demo_centre):
    today = timezone.localdate()
    made = []
    for i, (status, start) in enumerate(
        [(AppointmentStatus.BOOKED, dt.time(9, 0)), (AppointmentStatus.CHECKED_IN, dt.time(10, 0))]
    ):
        made.append(
            Appointment.objects.create(
                category=demo_centre["A"],
                day=today,
                slot_start=start,
                code=f"TESTCOD{i}",
                name="王小明",
                phone=f"1391234567{i}",
                status=status,
            )
        )
    Appointment.objects.create(
        category=demo_centre["B"],
        day=today + dt.timedelta(days=1),
        slot_start=dt.time(9, 0),
        code="TOMORROW",
        name="李四",
        phone="13700000000",
    )
    return made


def test_appointments_list_masks_names_and_phones(client_as, booked):
    response = client_as("frontdesk").get(reverse("queueing:appointments"))
    assert response.status_code == 200
    html = text(response)
    assert "TESTCOD0" in html and "TESTCOD1" in html and "TOMORROW" not in html
    assert "139****5670" in html and "13912345670" not in html
    assert "王**" in html and "王小明" not in html


def test_appointments_filters(client_as, booked):
    client = client_as("frontdesk")
    html = text(client.get(reverse("queueing:appointments"), {"status": "checked_in"}))
    assert "TESTCOD1" in html and "TESTCOD0" not in html
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    html = text(client.get(reverse("queueing:appointments"), {"day": tomorrow}))
    assert "TOMORROW" in html and "TESTCOD0" not in html
    response = client.get(reverse("queueing:appointments"), {"day": "not-a-day", "status": "nonsense"})
    assert response.status_code == 200 and "日期" in text(response) and "状态" in text(response)


def test_appointments_are_scoped(client_as, booked):
    html = text(client_as("frontdesk_b").get(reverse("queueing:appointments")))
    assert "TESTCOD0" not in html
    assert client_as("resident").get(reverse("queueing:appointments")).status_code == 403
