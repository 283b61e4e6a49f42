"""The hall display, its long-poll, the rating tablet and the rating page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shequ.queueing import display, display_views, services
from shequ.queueing.choices import TicketStatus
from shequ.queueing.models import Ticket, Window

pytestmark = pytest.mark.django_db
CENTRE = "310101020"
PHONE = "13912345678"


@pytest.fixture
def hall(demo_centre, personas, django_capture_on_commit_callbacks):
    """Windows 1 and 3 staffed; A001 called at window 1 (with a phone), A002 and B001 waiting."""
    windows = {w.number: w for w in Window.objects.filter(centre__code=CENTRE)}
    clerk, other = personas["frontdesk"], personas["manager"]
    with django_capture_on_commit_callbacks(execute=True):
        services.sign_in(window=windows[1], clerk=clerk)
        services.sign_in(window=windows[3], clerk=other)
        first = services.issue_ticket(category=demo_centre["A"], phone=PHONE).ticket
        services.issue_ticket(category=demo_centre["A"])
        services.issue_ticket(category=demo_centre["B"])
        called = services.call_next(window=windows[1], clerk=clerk)
    assert called is not None and called.pk == first.pk
    return {"windows": windows, "clerk": clerk, "other": other, "categories": demo_centre, "called": called}


def state_url(**params: object) -> str:
    url = reverse("queueing:display_state", kwargs={"centre_code": CENTRE})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


# ---------------------------------------------------------------------------------- display


def test_display_page_renders_the_state_on_the_server(client, hall):
    response = client.get(reverse("queueing:display", kwargs={"centre_code": CENTRE}))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "五里桥街道" in html
    assert "A001" in html and "叫号中" in html  # window 1 calls A001
    assert "空闲" in html  # window 3: signed in, nothing called
    assert "暂停服务" in html  # the other windows: nobody signed in
    assert "点击开启语音播报" in html and "连接中断，正在重连…" in html
    assert 'id="qd-state"' in html and "queue-display.js" in html
    # Public page: no phone, no clerk's name, no login link.
    assert PHONE not in html and PHONE[-4:] not in html
    assert hall["clerk"].display_name not in html
    assert reverse("accounts:login") not in html


def test_display_of_a_code_without_windows_is_404(client, demo_centre):
    assert client.get(reverse("queueing:display", kwargs={"centre_code": "310101021"})).status_code == 404
    assert (
        client.get(reverse("queueing:display_state", kwargs={"centre_code": "310101021"})).status_code == 404
    )
    assert client.get(reverse("queueing:display", kwargs={"centre_code": "nope"})).status_code == 404


def test_state_lists_windows_recent_calls_and_waiting_counts(client, hall):
    response = client.get(state_url())
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    state = response.json()
    by_number = {w["number"]: w for w in state["windows"]}
    assert by_number[1]["state"] == display.CALLING and by_number[1]["ticket"] == "A001"
    assert by_number[3]["state"] == display.IDLE and by_number[3]["ticket"] == ""
    assert by_number[2]["state"] == display.CLOSED and by_number[2]["state_label"] == "暂停服务"
    assert state["recent"] == [
        {"number": "A001", "window": 1, "window_label": "1 号窗口", "time": state["recent"][0]["time"]}
    ]
    assert state["calls"][0]["id"] == hall["called"].pk and state["calls"][0]["recalls"] == 0
    waiting = {w["prefix"]: w["count"] for w in state["waiting"]}
    assert waiting == {"A": 1, "B": 1, "C": 0, "D": 0, "E": 0, "F": 0}
    assert PHONE not in response.content.decode()


def test_state_answers_at_once_when_the_version_differs(
    client, hall, django_capture_on_commit_callbacks, monkeypatch
):
    # A long wait would hang this test if the view waited although the version moved.
    monkeypatch.setattr(display_views, "LONG_POLL_SECONDS", 30.0)
    before = services.display_version(CENTRE)
    assert before > 0
    with django_capture_on_commit_callbacks(execute=True):
        services.recall(ticket=hall["called"], clerk=hall["clerk"])
    state = client.get(state_url(since=before)).json()
    assert state["version"] > before
    assert state["calls"][0]["number"] == "A001" and state["calls"][0]["recalls"] == 1


def test_state_long_poll_sees_a_call_made_while_it_waits(client, hall, monkeypatch):
    """The loop re-reads the version between waits: a call during the wait ends it."""
    version = services.display_version(CENTRE)
    clerk, window = hall["other"], hall["windows"][3]
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:  # somebody calls while the display waits
            services.call_next(window=window, clerk=clerk)
            services.bump_display(CENTRE)

    monkeypatch.setattr(display_views.time, "sleep", sleep)
    state = client.get(state_url(since=version)).json()
    assert len(slept) == 2
    assert state["version"] > version
    assert {w["number"]: w["ticket"] for w in state["windows"]}[3] == "A002"
    assert state["calls"][0]["number"] == "A002" and state["calls"][0]["window"] == 3


def test_state_long_poll_times_out_with_the_unchanged_state(client, hall, monkeypatch):
    monkeypatch.setattr(display_views, "LONG_POLL_SECONDS", 0.05)
    monkeypatch.setattr(display_views, "POLL_INTERVAL", 0.01)
    version = services.display_version(CENTRE)
    response = client.get(state_url(since=version))
    assert response.status_code == 200
    assert response.json()["version"] == version
    # A malformed `since` is ignored: the answer comes at once.
    assert client.get(state_url(since="abc")).json()["version"] == version


def test_state_is_built_in_a_fixed_number_of_queries(hall, django_assert_max_num_queries):
    centre = display.centre_with_windows(CENTRE)
    assert centre is not None
    for number in (2, 4, 5, 6, 7, 8):  # every window staffed, many tickets waiting and called
        services.sign_in(window=hall["windows"][number], clerk=_clerk(number))
    for _ in range(30):
        services.issue_ticket(category=hall["categories"]["A"])
        services.issue_ticket(category=hall["categories"]["C"])
    for number in (2, 4, 5, 8):
        services.call_next(window=hall["windows"][number], clerk=_clerk(number))
    with django_assert_max_num_queries(6):
        state = display.build_state(centre)
    assert len(state["windows"]) == 8 and len(state["calls"]) == 5
    assert sum(w["count"] for w in state["waiting"]) == state["waiting_total"] == 58


def _clerk(number: int):  # type: ignore[no-untyped-def]
    """A desk clerk of 五里桥 for each extra window (one open session per clerk)."""
    from shequ.accounts.choices import Role
    from shequ.accounts.models import RoleAssignment, User
    from shequ.places.models import Place

    user, created = User.objects.get_or_create(
        username=f"window{number}", defaults={"full_name": f"窗口{number}"}
    )
    if created:
        RoleAssignment.objects.create(user=user, role=Role.FRONT_DESK, place=Place.objects.get(code=CENTRE))
    return user


# ---------------------------------------------------------------------------------- tablet


def _finish(hall, django_capture_on_commit_callbacks) -> Ticket:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        services.start_service(ticket=hall["called"], clerk=hall["clerk"])
        return services.finish_service(ticket=hall["called"], clerk=hall["clerk"])


def tablet_url(number: int = 1) -> str:
    return reverse("queueing:tablet", kwargs={"centre_code": CENTRE, "window_number": number})


def test_tablet_is_idle_until_a_visit_finishes(client, hall, django_capture_on_commit_callbacks):
    response = client.get(tablet_url())
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "欢迎光临" in html and "1 号窗口" in html and "非常满意" not in html

    ticket = _finish(hall, django_capture_on_commit_callbacks)
    html = client.get(tablet_url()).content.decode()
    assert "A001" in html
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert label in html
    assert reverse("queueing:rate", kwargs={"token": ticket.token}) in html
    assert 'name="channel" value="counter"' in html
    assert PHONE not in html and hall["clerk"].display_name not in html
    # The page's poll gets the panel only.
    partial = client.get(tablet_url() + "?partial=1").content.decode()
    assert "A001" in partial and "<html" not in partial


def test_tablet_forgets_a_rated_or_old_visit(client, hall, django_capture_on_commit_callbacks):
    ticket = _finish(hall, django_capture_on_commit_callbacks)
    Ticket.objects.filter(pk=ticket.pk).update(finished_at=timezone.now() - dt.timedelta(minutes=31))
    assert "欢迎光临" in client.get(tablet_url()).content.decode()
    Ticket.objects.filter(pk=ticket.pk).update(finished_at=timezone.now(), rating=5)
    assert "欢迎光临" in client.get(tablet_url()).content.decode()


def test_tablet_of_an_unknown_window_is_404(client, demo_centre):
    assert client.get(tablet_url(99)).status_code == 404
    bad = reverse("queueing:tablet", kwargs={"centre_code": "310101021", "window_number": 1})
    assert client.get(bad).status_code == 404


# ---------------------------------------------------------------------------------- rating


def rate_url(ticket: Ticket) -> str:
    return reverse("queueing:rate", kwargs={"token": ticket.token})


def test_rating_from_the_tablet_is_recorded_and_returns_to_the_tablet(
    client, hall, django_capture_on_commit_callbacks
):
    ticket = _finish(hall, django_capture_on_commit_callbacks)
    response = client.post(rate_url(ticket), {"level": "4", "channel": "counter"})
    assert response.status_code == 302 and response["Location"] == rate_url(ticket) + "?from=tablet"
    ticket.refresh_from_db()
    assert ticket.rating == 4
    page = client.get(response["Location"]).content.decode()
    assert "感谢您的评价" in page and "满意" in page
    assert f"url={tablet_url()}" in page  # back to the tablet after a few seconds
    assert "欢迎光临" in client.get(tablet_url()).content.decode()


def test_a_second_different_rating_is_refused_with_a_message(
    client, hall, django_capture_on_commit_callbacks
):
    ticket = _finish(hall, django_capture_on_commit_callbacks)
    client.post(rate_url(ticket), {"level": "5"})
    response = client.post(rate_url(ticket), {"level": "1", "comment": "改主意了"}, follow=True)
    assert response.status_code == 200
    assert "该号已评价，不能重复评价。" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.rating == 5
    # The same rating again is fine (a double tap).
    response = client.post(rate_url(ticket), {"level": "5"}, follow=True)
    assert "感谢您的评价" in response.content.decode()


def test_rating_errors_are_messages_not_500(client, hall, django_capture_on_commit_callbacks):
    called = hall["called"]
    page = client.get(rate_url(called)).content.decode()
    assert "办理结束后才能评价" in page and 'name="level"' not in page
    response = client.post(rate_url(called), {"level": "5"}, follow=True)
    assert response.status_code == 200 and "办理结束后才能评价。" in response.content.decode()

    ticket = _finish(hall, django_capture_on_commit_callbacks)
    for bad in ("9", "abc", ""):
        response = client.post(rate_url(ticket), {"level": bad}, follow=True)
        assert response.status_code == 200 and "评价等级应为 1 到 5。" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.rating is None


def test_rate_page_shows_the_levels_and_hides_personal_data(client, hall, django_capture_on_commit_callbacks):
    ticket = _finish(hall, django_capture_on_commit_callbacks)
    response = client.get(rate_url(ticket))
    html = response.content.decode()
    assert response.status_code == 200 and "A001" in html
    assert html.count('name="level"') == 5 and 'name="comment"' in html
    assert 'name="channel"' not in html  # from a phone: channel app
    assert PHONE not in html and hall["clerk"].display_name not in html
    client.post(rate_url(ticket), {"level": "2", "comment": "等太久"})
    ticket.refresh_from_db()
    assert ticket.rating == 2 and ticket.status == TicketStatus.DONE


def test_rate_page_of_an_unknown_token_is_404(client, demo_centre):
    assert client.get(reverse("queueing:rate", kwargs={"token": "no-such-token"})).status_code == 404
    assert (
        client.post(reverse("queueing:rate", kwargs={"token": "no-such-token"}), {"level": "5"}).status_code
        == 404
    )
