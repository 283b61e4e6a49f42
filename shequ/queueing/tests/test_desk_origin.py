"""A case opened at the desk from the ticket being served is linked to that ticket."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.affairs.models import Case
from shequ.affairs.tests.test_desk import desk_post, make_matter
from shequ.queueing import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(demo_centre, personas):
    clerk = personas["frontdesk"]
    window = demo_centre["A"].windows.order_by("number").first()
    services.sign_in(window=window, clerk=clerk)
    services.issue_ticket(category=demo_centre["A"], phone="13900001111")
    return services.call_next(window=window, clerk=clerk)


def test_the_desk_prefills_from_the_ticket_and_links_the_case(served, client_as):
    matter = make_matter("t-dibao", "最低生活保障申请")
    client = client_as("frontdesk")
    page = client.get(reverse("affairs:desk"), {"origin": f"ticket:{served.token}"}).content.decode()
    assert "排队号 A001" in page and 'value="13900001111"' in page
    response = desk_post(client, matter, origin=f"ticket:{served.token}")
    assert response.status_code == 302
    served.refresh_from_db()
    assert served.case == Case.objects.get().order


def test_another_clerk_cannot_use_the_ticket(served, client_as):
    matter = make_matter("t-dibao", "最低生活保障申请")
    client = client_as("manager")
    page = client.get(reverse("affairs:desk"), {"origin": f"ticket:{served.token}"}).content.decode()
    assert "排队号" not in page and "13900001111" not in page
    desk_post(client, matter, origin=f"ticket:{served.token}")
    served.refresh_from_db()
    assert served.case is None and Case.objects.count() == 1
