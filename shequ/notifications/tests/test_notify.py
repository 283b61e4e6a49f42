"""Queueing: in the caller's transaction, once per logical notification, only where there is an
address."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from shequ.notifications import services
from shequ.notifications.models import OutboxMessage, OutboxStatus
from shequ.notifications.services import notify

CONTEXT = {"number": "WG1", "title": "路灯不亮", "due_at": dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)}

pytestmark = pytest.mark.django_db


def test_one_row_per_channel_with_addresses(personas):
    frontdesk = personas["frontdesk"]
    rows = notify(template="workorder.assigned", context=CONTEXT, user=frontdesk, place_code="310101020")
    assert [(m.channel, m.address) for m in rows] == [("inapp", ""), ("sms", "13800210004")]
    assert all(m.status == OutboxStatus.PENDING and m.recipient_user == frontdesk for m in rows)
    assert all(m.place_code == "310101020" and m.template == "workorder.assigned" for m in rows)
    assert OutboxMessage.objects.count() == 2


def test_rolled_back_change_leaves_no_row(personas):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        notify(template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"])
        assert OutboxMessage.objects.count() == 2
        raise Boom
    assert not OutboxMessage.objects.exists()


def test_unknown_template_writes_nothing(personas):
    with pytest.raises(ValueError, match="unknown notification template"):
        notify(template="workorder.unknown", context=CONTEXT, user=personas["frontdesk"])
    assert not OutboxMessage.objects.exists()


def test_dedupe_key_queues_once(personas):
    first = notify(
        template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"], dedupe_key="wo:1:a"
    )
    again = notify(
        template="workorder.assigned",
        context={**CONTEXT, "title": "改了标题"},
        user=personas["frontdesk"],
        dedupe_key="wo:1:a",
    )
    assert [m.pk for m in again] == [m.pk for m in first]
    assert OutboxMessage.objects.count() == 2
    assert set(OutboxMessage.objects.values_list("dedupe_key", flat=True)) == {"wo:1:a:inapp", "wo:1:a:sms"}
    assert "改了标题" not in again[0].body


def test_dedupe_race_is_caught_in_a_savepoint(personas, monkeypatch):
    """Two transactions that both saw no row: the loser gets the winner's rows, and the caller's
    transaction stays usable."""
    first = notify(template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"], dedupe_key="k")
    monkeypatch.setattr(services, "_queued", lambda key: None)  # as if the row was not committed yet
    with transaction.atomic():
        again = notify(
            template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"], dedupe_key="k"
        )
        assert OutboxMessage.objects.count() == 2  # the transaction is not broken
    assert [m.pk for m in again] == [m.pk for m in first]


def test_channels_without_address_are_skipped(personas, django_user_model):
    nobody = django_user_model.objects.create_user(username="no-phone", password="x" * 12)
    rows = notify(
        template="workorder.assigned", context=CONTEXT, user=nobody, channels=("inapp", "sms", "email")
    )
    assert [m.channel for m in rows] == ["inapp"]
    rows = notify(template="workorder.assigned", context=CONTEXT, phone="13900001111")
    assert [(m.channel, m.address) for m in rows] == [("sms", "13900001111")]
    rows = notify(template="workorder.assigned", context=CONTEXT, email="a@example.org", channels=("email",))
    assert [(m.channel, m.address) for m in rows] == [("email", "a@example.org")]
    assert notify(template="workorder.assigned", context=CONTEXT) == []
    # An explicit number wins over the user's own.
    rows = notify(
        template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"], phone="13911112222"
    )
    assert rows[1].address == "13911112222"


def test_unknown_channel_and_bad_link(personas):
    with pytest.raises(ValueError, match="channel"):
        notify(template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"], channels=("fax",))
    for link in ("https://evil.example/", "//evil.example/x"):
        with pytest.raises(ValueError, match="link"):
            notify(template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"], link=link)
    assert not OutboxMessage.objects.exists()


def test_cancel_pending(personas):
    notify(template="workorder.warning", context=CONTEXT, user=personas["frontdesk"], dedupe_key="wo:1:warn")
    assert services.cancel(dedupe_key="wo:1:warn") == 2
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.CANCELLED}
    assert services.deliver_pending() == 0
