"""Several workers on PostgreSQL: SKIP LOCKED hands each row to exactly one of them."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from shequ.notifications.models import OutboxMessage, OutboxStatus
from shequ.notifications.services import deliver_pending, notify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONTEXT = {"number": "WG9", "title": "并发", "due_at": "2026-03-02"}


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED)")


def _queue(n: int) -> list[int]:
    return [
        notify(template="workorder.assigned", context=CONTEXT, phone=f"1390000{i:04d}", channels=("sms",))[
            0
        ].pk
        for i in range(n)
    ]


def test_two_workers_never_send_a_message_twice(recording_sms):
    ids = _queue(60)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            while deliver_pending(limit=7):
                pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(recording_sms.sent) == sorted(ids)  # each exactly once
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 60


def test_rows_locked_by_another_claim_are_skipped_not_waited_for(recording_sms):
    ids = _queue(4)
    locked, release = threading.Event(), threading.Event()

    def other_worker_claiming() -> None:
        try:
            with transaction.atomic():
                list(OutboxMessage.objects.select_for_update().filter(pk=ids[0]))
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker_claiming)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        assert deliver_pending() == 3  # did not block on the locked row
        assert sorted(recording_sms.sent) == sorted(ids[1:])
    finally:
        release.set()
        thread.join(timeout=10)
    assert deliver_pending() == 1
    assert sorted(recording_sms.sent) == sorted(ids)
