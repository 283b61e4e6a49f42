"""The map's page and GeoJSON data (scope, filters, colours, the cap) and the class-table pages
(search, filters, who may edit, `edited` on save, the legacy classes shown)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.grid import map_views
from shequ.grid.models import ManagementClass

from .conftest import GRID

pytestmark = pytest.mark.django_db


def test_the_map_page_has_no_tile_layer_unless_configured(client_as, settings):
    settings.GRID_MAP_TILE_URL = ""
    page = client_as("dispatcher").get(reverse("grid:map"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-tiles=""' in html and "leaflet.js" in html and "grid-map.js" in html
    assert "处置" in html  # the legend
    settings.GRID_MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    assert "tiles.example" in client_as("dispatcher").get(reverse("grid:map")).content.decode()


def test_the_data_is_geojson_coloured_by_step_and_scoped(make_report, client_as):
    report = make_report()
    data = client_as("dispatcher").get(reverse("grid:map_data")).json()
    assert data["grids"]["type"] == data["reports"]["type"] == "FeatureCollection"
    codes = {f["properties"]["code"] for f in data["grids"]["features"]}
    assert GRID in codes and all(code.startswith("310101020") for code in codes)
    assert data["grids"]["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    (feature,) = data["reports"]["features"]
    props = feature["properties"]
    assert props["number"] == report.order.number and props["step"] == "filing"
    assert props["colour"] == map_views.STEP_COLOURS["filing"] and props["class_name"] == "暴露垃圾"
    assert props["url"] == f"/grid/cases/{report.order.number}/"
    assert feature["geometry"]["coordinates"] == [report.longitude, report.latitude]
    assert data["capped"] is False

    other = client_as("frontdesk_b")
    response = other.get(reverse("grid:map_data"))
    assert response.status_code == 403 or response.json()["reports"]["features"] == []


def test_filters_by_class_and_period(make_report, client_as):
    make_report()
    client = client_as("supervisor")
    url = reverse("grid:map_data")
    assert len(client.get(url, {"class": "06"}).json()["reports"]["features"]) == 1
    assert len(client.get(url, {"class": "06010"}).json()["reports"]["features"]) == 1
    assert client.get(url, {"class": "07"}).json()["reports"]["features"] == []
    assert client.get(url, {"start": "2000-01-01", "end": "2000-12-31"}).json()["reports"]["features"] == []
    bad = client.get(url, {"start": "2025-02-30"})
    assert bad.status_code == 400 and "start" in bad.json()["errors"]


def test_the_report_list_is_capped_and_says_so(make_report, client_as, monkeypatch):
    make_report()
    make_report(offset=0.0001)
    monkeypatch.setattr(map_views, "MAX_REPORTS", 1)
    data = client_as("supervisor").get(reverse("grid:map_data")).json()
    assert data["capped"] is True and len(data["reports"]["features"]) == 1 and "1" in data["message"]


def test_residents_and_anonymous_cannot_see_the_map(client, client_as):
    assert client.get(reverse("grid:map_data")).status_code == 302
    assert client_as("resident").get(reverse("grid:map")).status_code == 403


def test_class_list_search_and_filters(client_as):
    client = client_as("inspector")
    html = client.get(reverse("grid:classes"), {"q": "暴露垃圾"}).content.decode()
    assert "06010" in html
    html = client.get(reverse("grid:classes"), {"kind": "component", "major": "01"}).content.decode()
    assert "供水井盖" in html and "暴露垃圾" not in html
    assert client_as("resident").get(reverse("grid:classes")).status_code == 403


def test_a_district_leader_edits_a_class_and_it_is_marked_edited(client_as):
    url = reverse("grid:class_edit", args=["item", "06010"])
    client = client_as("district_leader")
    page = client.get(url)
    assert page.status_code == 200 and "0102" in page.content.decode()  # the CJ/T 214 class mapped here
    values = {
        "department_code": "greening",
        "department_name": "绿化市容所",
        "limit": "4",
        "limit_unit": "hours",
        "filing_condition": "属实即立案",
        "closing_condition": "清理干净",
        "is_active": "on",
    }
    assert client.post(url, values).status_code == 302
    cls = ManagementClass.objects.get(kind="item", code="06010")
    assert (cls.department_code, cls.limit, cls.limit_unit, cls.edited) == ("greening", 4, "hours", True)

    bad = client.post(url, {**values, "limit": ""})
    assert bad.status_code == 400 and "处置时限" in bad.content.decode()


def test_street_staff_read_but_cannot_edit(client_as):
    url = reverse("grid:class_edit", args=["item", "06010"])
    for who in ("leader", "dispatcher"):
        client = client_as(who)
        page = client.get(url)
        assert page.status_code == 200 and "disabled" in page.content.decode()
        assert (
            client.post(url, {"department_code": "x", "limit": "1", "limit_unit": "days"}).status_code == 403
        )
    assert ManagementClass.objects.get(kind="item", code="06010").edited is False
    assert client_as("admin").get(reverse("grid:class_edit", args=["item", "99999"])).status_code == 404
