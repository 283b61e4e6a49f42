"""Delivery: claim, send through the channel backend, retry with backoff, give up, recover."""

from __future__ import annotations

import datetime as dt
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from shequ.notifications import services
from shequ.notifications.models import InAppNotification, OutboxMessage, OutboxStatus
from shequ.notifications.services import deliver_pending, notify

CONTEXT = {"number": "WG7", "title": "垃圾清运", "due_at": dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)}

pytestmark = pytest.mark.django_db


def _sms(phone: str = "13800210004", **kwargs) -> OutboxMessage:
    (message,) = notify(
        template="workorder.assigned", context=CONTEXT, phone=phone, channels=("sms",), **kwargs
    )
    return message


def test_sms_through_log_backend_masks_the_number(personas, caplog, settings):
    caplog.set_level(logging.INFO, logger="shequ.notifications.sms")
    notify(template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"], channels=("sms",))
    assert deliver_pending() == 1
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.SENT and message.sent_at is not None and message.attempts == 1
    assert "SMS to 138****0004: 您有新的待办工单 WG7：垃圾清运，请于 2026-03-02 17:30 前处理。" in caplog.text
    assert "13800210004" not in caplog.text
    sms_log = (settings.VAR_DIR / "sms.log").read_text(encoding="utf-8")
    assert "138****0004" in sms_log and "13800210004" not in sms_log
    assert deliver_pending() == 0  # sent once


def test_inapp_row_created_once(personas):
    frontdesk = personas["frontdesk"]
    (message,) = notify(
        template="workorder.assigned",
        context=CONTEXT,
        user=frontdesk,
        channels=("inapp",),
        link="/workorders/7/",
    )
    assert not InAppNotification.objects.exists()  # nothing before the worker runs
    assert deliver_pending() == 1
    inapp = InAppNotification.objects.get()
    assert inapp.user == frontdesk and inapp.outbox_id == message.pk
    assert inapp.title == "新的待办工单 WG7" and "垃圾清运" in inapp.body
    assert inapp.link == "/workorders/7/" and inapp.read_at is None
    # A redelivery (the worker died after creating the row) does not duplicate it.
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PENDING)
    assert deliver_pending() == 1
    assert InAppNotification.objects.count() == 1


def test_email_through_django_mail(mailoutbox):
    notify(
        template="workorder.closed",
        context={"number": "WG8", "title": "噪音"},
        email="a@example.org",
        channels=("email",),
    )
    assert deliver_pending() == 1
    (mail,) = mailoutbox
    assert mail.to == ["a@example.org"] and mail.subject == "工单已办结 WG8"
    assert "已办结" in mail.body


def test_only_due_rows_and_limit():
    later = _sms()
    OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    for _ in range(3):
        _sms()
    assert deliver_pending(limit=2) == 2
    assert deliver_pending(limit=2) == 1
    assert deliver_pending() == 0
    assert OutboxMessage.objects.get(pk=later.pk).status == OutboxStatus.PENDING


def test_failure_backs_off_then_gives_up(settings, recording_sms):
    settings.NOTIFY_SMS_BACKEND = "shequ.notifications.tests.backends.FailingBackend"
    message = _sms()
    t = timezone.now()
    for attempt, minutes in enumerate([1, 5, 30, 120, 360], start=1):
        assert deliver_pending(now=t) == 0
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, attempt)
        assert message.next_attempt_at == t + timedelta(minutes=minutes)
        assert "ConnectionError: 短信网关不可用" in message.last_error
        # Not due before its time.
        assert deliver_pending(now=message.next_attempt_at - timedelta(seconds=1)) == 0
        message.refresh_from_db()
        assert message.attempts == attempt
        t = message.next_attempt_at
    assert deliver_pending(now=t) == 0
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == (OutboxStatus.FAILED, 6, None)
    assert deliver_pending(now=t + timedelta(days=30)) == 0
    message.refresh_from_db()
    assert message.attempts == 6

    # The admin's "重新发送" puts it back for one more try, which now succeeds.
    settings.NOTIFY_SMS_BACKEND = "shequ.notifications.tests.backends.RecordingBackend"
    assert services.retry_failed(message_ids=[message.pk]) == 1
    assert deliver_pending() == 1
    assert recording_sms.sent == [message.pk]
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.last_error == ""


def test_a_failing_channel_does_not_stop_the_others(failing_sms, personas):
    notify(template="workorder.assigned", context=CONTEXT, user=personas["frontdesk"])
    assert deliver_pending() == 1  # the in-app one
    statuses = dict(OutboxMessage.objects.values_list("channel", "status"))
    assert statuses == {"inapp": OutboxStatus.SENT, "sms": OutboxStatus.PENDING}


def test_misconfigured_backend_is_a_failed_attempt(settings):
    settings.NOTIFY_SMS_BACKEND = "shequ.notifications.tests.backends.DoesNotExist"
    message = _sms()
    assert deliver_pending() == 0
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "cannot be loaded" in message.last_error


def test_stuck_sending_rows_are_recovered(recording_sms):
    t = timezone.now()
    stuck, busy, poison = _sms(), _sms(), _sms()
    OutboxMessage.objects.filter(pk=stuck.pk).update(
        status=OutboxStatus.SENDING, claimed_at=t - timedelta(minutes=11)
    )
    OutboxMessage.objects.filter(pk=busy.pk).update(
        status=OutboxStatus.SENDING, claimed_at=t - timedelta(minutes=5)
    )
    OutboxMessage.objects.filter(pk=poison.pk).update(
        status=OutboxStatus.SENDING, claimed_at=t - timedelta(minutes=11), attempts=5
    )
    assert deliver_pending(now=t) == 1
    assert recording_sms.sent == [stuck.pk]
    stuck.refresh_from_db()
    busy.refresh_from_db()
    poison.refresh_from_db()
    assert stuck.status == OutboxStatus.SENT and stuck.attempts == 2
    assert busy.status == OutboxStatus.SENDING  # its worker may still be at it
    assert poison.status == OutboxStatus.FAILED and poison.attempts == 6
    assert "lease expired" in poison.last_error
