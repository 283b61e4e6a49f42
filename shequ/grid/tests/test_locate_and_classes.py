"""Point-in-grid, and the class tables shipped as data."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from shapely.geometry import Polygon, mapping

from shequ.grid import locate
from shequ.grid.classes import CURRENT_TABLE, load
from shequ.grid.models import LegacyClass, ManagementClass
from shequ.places.models import Place

from .conftest import point_in

pytestmark = pytest.mark.django_db


def square(x: float, y: float, size: float = 1.0) -> dict:
    return mapping(Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)]))


def test_the_index_finds_the_grid_and_a_shared_edge_goes_to_the_smaller_code():
    index = locate.build_index([("B", "right", square(1, 0)), ("A", "left", square(0, 0))])
    assert index.codes == ["A", "B"]
    assert index.locate(0.5, 0.5) == 0 and index.locate(1.5, 0.5) == 1
    assert index.locate(1.0, 0.5) == 0  # on the shared edge
    assert index.locate(5, 5) is None
    assert index.locate_many(np.array([0.5, 1.5, 1.0, 9.0]), np.array([0.5, 0.5, 0.5, 9.0])) == [
        0,
        1,
        0,
        None,
    ]


def test_every_demo_grid_is_found_at_its_own_point(demo):
    for place in Place.objects.filter(kind="grid", geometry__isnull=False):
        found = locate.locate(*point_in(place.code))
        assert found is not None and found.code == place.code, place.code


def test_the_index_follows_an_edited_boundary(demo, monkeypatch):
    monkeypatch.setattr(locate, "CHECK_SECONDS", 0.0)
    grid = Place.objects.get(code="310101020001003")
    lon, lat = point_in(grid.code)
    assert locate.locate(lon, lat).code == grid.code
    grid.geometry = square(100.0, 10.0, 0.01)  # moved far away
    grid.save()
    assert locate.locate(lon, lat) is None
    assert locate.locate(100.005, 10.005).code == grid.code


def test_distance_and_bounding_box_agree():
    west, east, south, north = locate.bounding_box(121.47, 31.2, 50)
    assert locate.distance_m(121.47, 31.2, 121.47, north) == pytest.approx(50, rel=1e-3)
    assert locate.distance_m(121.47, 31.2, east, 31.2) == pytest.approx(50, rel=1e-2)
    assert west < 121.47 < east and south < 31.2 < north


def test_the_shipped_tables_are_loaded_whole():
    with CURRENT_TABLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert ManagementClass.objects.filter(kind="component").count() == 153
    assert ManagementClass.objects.filter(kind="item").count() == 250 == len(rows) - 153
    assert set(ManagementClass.objects.filter(kind="component").values_list("major_code", flat=True)) == {
        "01",
        "02",
        "03",
        "04",
        "05",
    }
    item = ManagementClass.objects.get(kind="item", code="01001")
    assert item.name == "供水井盖异常" and item.limit_text == "4 工作时"
    assert ManagementClass.objects.get(kind="item", code="06001").name == "私搭乱建"
    old = LegacyClass.objects.get(kind="component", code="0101")
    assert old.name == "上水井盖" and old.maps_to == ManagementClass.objects.get(
        kind="component", code="01001"
    )
    assert LegacyClass.objects.get(kind="event", code="0505").maps_to.code == "09009"  # 机动车乱停放


def test_a_reload_keeps_what_the_city_edited():
    edited = ManagementClass.objects.get(kind="item", code="06010")
    edited.limit, edited.limit_unit, edited.department_name, edited.edited = 2, "hours", "本区环卫所", True
    edited.save()
    untouched = ManagementClass.objects.get(kind="item", code="06012")
    untouched.limit = 99
    untouched.save()
    result = load()
    assert result.created == 0
    edited.refresh_from_db()
    untouched.refresh_from_db()
    assert (edited.limit, edited.limit_unit, edited.department_name) == (2, "hours", "本区环卫所")
    assert untouched.limit == 5  # an unedited class goes back to the shipped default (道路不洁 5 工作时)
