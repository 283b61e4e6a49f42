"""Queue configuration edited in the admin is logged with what changed, windows' categories included."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.audit.models import ChangeLog

pytestmark = pytest.mark.django_db


def test_changing_a_windows_categories_is_logged(client_as, demo_centre):
    window = demo_centre["A"].windows.get(number=2)
    client = client_as("admin")
    url = reverse("admin:queueing_window_change", args=[window.pk])
    response = client.post(
        url,
        {
            "centre": window.centre_id,
            "number": 2,
            "name": "社保专窗",
            "categories": [demo_centre["A"].pk, demo_centre["B"].pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = ChangeLog.objects.get(object_type="queueing.window")
    assert entry.place_code == "310101020"
    assert entry.before == {"name": "", "categories": [demo_centre["A"].pk]}
    assert entry.after == {
        "name": "社保专窗",
        "categories": sorted([demo_centre["A"].pk, demo_centre["B"].pk]),
    }


def test_tickets_are_read_only_with_masked_phones(client_as, demo_centre):
    from shequ.queueing import services

    ticket = services.issue_ticket(category=demo_centre["A"], phone="13912345678").ticket
    client = client_as("admin")
    page = client.get(reverse("admin:queueing_ticket_change", args=[ticket.pk])).content.decode()
    assert "139****5678" in page and "13912345678" not in page
    assert client.get(reverse("admin:queueing_ticket_add")).status_code == 403
