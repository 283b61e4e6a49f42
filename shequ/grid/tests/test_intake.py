"""The supervision centre registers a caller's report; nobody else may."""

from __future__ import annotations

import pytest

from shequ.grid.models import GridReport

from .conftest import CLASS, GRID, point_in

pytestmark = pytest.mark.django_db


def test_an_operator_registers_a_callers_report_without_a_photo(client_as):
    client = client_as("supervisor")
    assert client.get("/grid/intake/").status_code == 200
    lon, lat = point_in(GRID)
    data = {
        "management_class": CLASS,
        "longitude": lon,
        "latitude": lat,
        "description": "来电反映：弄堂口有垃圾",
        "reporter_name": "王先生",
        "reporter_phone": "13912345678",
        "idempotency_key": "intake-key-0001",
    }
    response = client.post("/grid/intake/", data)
    assert response.status_code == 302
    report = GridReport.objects.get()
    assert (report.reporter_kind, report.reporter_name, report.reporter_phone) == (
        "staff",
        "王先生",
        "13912345678",
    )
    assert report.order.step == "filing" and report.order.channel == "phone"
    assert client.post("/grid/intake/", data).status_code == 302  # a double click
    assert GridReport.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert report.order.number in page and "13912345678" not in page


def test_a_bad_phone_names_the_field_and_others_may_not_register(client_as):
    client = client_as("supervisor")
    lon, lat = point_in(GRID)
    response = client.post(
        "/grid/intake/",
        {"management_class": CLASS, "longitude": lon, "latitude": lat, "reporter_phone": "12"},
    )
    assert response.status_code == 400 and not GridReport.objects.exists()
    assert "reporter_phone" in response.context["errors"]
    for name in ("inspector", "dispatcher", "resident", "frontdesk_b"):
        assert client_as(name).get("/grid/intake/").status_code == 403, name
