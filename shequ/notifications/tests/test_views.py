"""The inbox page, mark-read, the home panel and the admin: each user sees only their own rows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from shequ.notifications.models import InAppNotification, OutboxMessage, OutboxStatus

INBOX = reverse("notifications:inbox")
READ = reverse("notifications:read")

pytestmark = pytest.mark.django_db


def _inapp(user, title: str, **kwargs) -> InAppNotification:
    return InAppNotification.objects.create(user=user, title=title, body=f"{title}的内容", **kwargs)


@pytest.fixture
def rows(personas):
    mine = [_inapp(personas["frontdesk"], f"我的消息{i}") for i in range(3)]
    theirs = _inapp(personas["frontdesk_b"], "别人的消息")
    return mine, theirs


def test_login_required(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and "/accounts/" in response["Location"]
    assert client.post(READ).status_code == 302


def test_inbox_shows_only_own_newest_first(client_as, rows):
    mine, _theirs = rows
    InAppNotification.objects.filter(pk=mine[0].pk).update(read_at=timezone.now())
    response = client_as("frontdesk").get(INBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "别人的消息" not in html
    assert html.index("我的消息2") < html.index("我的消息1") < html.index("我的消息0")
    assert html.count('class="unread"') == 2 and html.count('class="read"') == 1
    assert "未读 2 条，共 3 条" in html
    assert "全部标为已读" in html


def test_keyset_pages(client_as, personas):
    for i in range(5):
        _inapp(personas["frontdesk"], f"第{i}条")
    client = client_as("frontdesk")
    first = client.get(INBOX, {"size": 2})
    assert [n.title for n in first.context["page"].items] == ["第4条", "第3条"]
    nxt = first.context["page"].next_query
    second = client.get(f"{INBOX}?{nxt}")
    assert [n.title for n in second.context["page"].items] == ["第2条", "第1条"]


def test_mark_one_read_ignores_other_users_rows(client_as, rows):
    mine, theirs = rows
    client = client_as("frontdesk")
    response = client.post(f"{READ}?id={mine[1].pk}")
    assert response.status_code == 302 and response["Location"] == INBOX
    client.post(READ, {"id": theirs.pk})
    assert InAppNotification.objects.filter(read_at__isnull=False).get() == mine[1]


def test_mark_all_read(client_as, rows):
    mine, theirs = rows
    response = client_as("frontdesk").post(READ, follow=True)
    assert "已将全部消息标为已读" in response.content.decode()
    assert not InAppNotification.objects.filter(user=mine[0].user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_rejects_get_and_bad_ids(client_as, rows):
    client = client_as("frontdesk")
    assert client.get(READ).status_code == 405
    assert client.post(READ, {"id": "abc"}).status_code == 400
    assert not InAppNotification.objects.filter(read_at__isnull=False).exists()


def test_inbox_query_budget(client_as, personas, django_assert_max_num_queries):
    client = client_as("frontdesk")
    for i in range(3):
        _inapp(personas["frontdesk"], f"消息{i}")
    # session, user, capped count, the page, unread count, the shell's role lookup
    with django_assert_max_num_queries(6) as few:
        client.get(INBOX)
    InAppNotification.objects.bulk_create(
        InAppNotification(user=personas["frontdesk"], title=f"批量{i}") for i in range(60)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(INBOX)
    assert len(response.context["page"].items) == 50


def test_home_panel(client_as, personas):
    client = client_as("frontdesk")
    assert "未读消息" not in client.get(reverse("core:home")).content.decode()
    for i in range(7):
        _inapp(personas["frontdesk"], f"提醒{i}", link=f"/workorders/{i}/")
    _inapp(personas["frontdesk"], "已读提醒", read_at=timezone.now())
    html = client.get(reverse("core:home")).content.decode()
    assert "未读消息" in html and "查看全部 7 条未读消息" in html
    assert "提醒6" in html and "提醒2" in html and "提醒1<" not in html
    assert 'href="/workorders/6/"' in html and "已读提醒" not in html


def test_nav_entry(client_as):
    html = client_as("frontdesk").get(INBOX).content.decode()
    assert f'<a href="{INBOX}" aria-current="page">消息</a>' in html


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="x" * 12, email="")


def test_admin_lists_masked_and_resends_failed(client, superuser):
    failed = OutboxMessage.objects.create(
        channel="sms",
        address="13800210004",
        template="workorder.assigned",
        body="b",
        status=OutboxStatus.FAILED,
        attempts=6,
    )
    sent = OutboxMessage.objects.create(
        channel="sms",
        address="13800210005",
        template="workorder.assigned",
        body="b",
        status=OutboxStatus.SENT,
    )
    client.force_login(superuser)
    changelist = reverse("admin:notifications_outboxmessage_changelist")
    html = client.get(changelist).content.decode()
    assert "138****0004" in html and "13800210004" not in html
    detail = client.get(
        reverse("admin:notifications_outboxmessage_change", args=[failed.pk])
    ).content.decode()
    assert "13800210004" not in detail
    response = client.post(
        changelist, {"action": "resend", "_selected_action": [failed.pk, sent.pk]}, follow=True
    )
    assert "已将 1 条发送失败的消息重新加入发送队列" in response.content.decode()
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == OutboxStatus.PENDING and sent.status == OutboxStatus.SENT
    assert client.get(reverse("admin:notifications_inappnotification_changelist")).status_code == 200
