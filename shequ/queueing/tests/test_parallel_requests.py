"""The two races of the issue, through the whole request stack on PostgreSQL: kiosks posting at
the same moment never print the same number, and windows pressing 叫号 at the same moment never
call the same ticket. Each thread is its own client with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from shequ.core.idempotency import FORM_FIELD, new_key
from shequ.queueing import services
from shequ.queueing.choices import TicketStatus
from shequ.queueing.models import Ticket

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel requests need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
CENTRE = "310101020"


def all_at_once(jobs: list[Callable[[], None]]) -> None:
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            barrier.wait()
            job()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_kiosks_posting_at_once_print_distinct_numbers(demo_centre):
    category = demo_centre["A"]
    statuses: list[int] = []

    def kiosk() -> None:
        client = Client()
        for _ in range(5):
            response = client.post(
                reverse("queueing:kiosk", args=[CENTRE]), {"category": category.pk, FORM_FIELD: new_key()}
            )
            statuses.append(response.status_code)

    all_at_once([kiosk for _ in range(6)])
    numbers = list(Ticket.objects.filter(category=category).values_list("number", flat=True))
    assert statuses == [302] * 30
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 31)]


def test_windows_calling_at_once_never_share_a_ticket(demo_centre, personas):
    clerks = ["frontdesk", "clerk1", "clerk2", "clerk3"]
    windows = list(demo_centre["A"].windows.order_by("number")[: len(clerks)])  # windows 1, 2, 3, 8
    for window, name in zip(windows, clerks, strict=True):
        services.sign_in(window=window, clerk=personas[name])
    for _ in range(3):
        services.issue_ticket(category=demo_centre["A"])

    def window_presses_call(window, name: str) -> Callable[[], None]:
        def press() -> None:
            client = Client()
            client.force_login(personas[name])
            client.post(reverse("queueing:window_action", args=[window.pk, "call"]), {FORM_FIELD: new_key()})

        return press

    all_at_once([window_presses_call(w, n) for w, n in zip(windows, clerks, strict=True)])
    called = Ticket.objects.filter(status=TicketStatus.CALLED)
    assert called.count() == 3
    assert called.values("window").distinct().count() == 3  # three windows, one ticket each
    assert not Ticket.objects.filter(status=TicketStatus.WAITING).exists()
