"""Component identifiers (generation and validation) and the all-or-nothing CSV/GeoJSON import,
its idempotent re-import, its errors and its scope."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from shequ.grid.components import identifier_errors, import_components, next_identifier
from shequ.grid.models import Component

from .conftest import point_in

pytestmark = pytest.mark.django_db

G1 = "310101020001003"
G2 = "310101020002001"
HEADER = "管理部件标识码,管理部件名称,分类代码,主管部门代码,主管部门名称,权属单位名称,养护单位名称,管理部件状态,初始日期,变更日期,数据来源,备注,经度,纬度"


def csv_of(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8-sig")


def line(identifier="", name="上水井盖", code="01001", state="完好", day="20240105", grid=G1, shift=0.0):
    lon, lat = point_in(grid)
    return f"{identifier},{name},{code},,五里桥街道市政科,自来水公司,市政养护公司,{state},{day},,实测,,{lon + shift},{lat}"


def test_next_identifier_counts_per_district_and_class(demo):
    first = next_identifier("310101", "01001")
    assert first == "31010101001000001"
    assert next_identifier("310101", "01001") == "31010101001000002"
    assert next_identifier("310101", "01002") == "31010101002000001"
    assert identifier_errors(first) == []


def test_next_identifier_skips_a_serial_already_imported(demo):
    result = import_components(csv_of(line(identifier="31010101001000001")), "a.csv", scope_prefixes=None)
    assert result.ok, result.errors
    assert next_identifier("310101", "01001") == "31010101001000002"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "不能为空"),
        ("3101010100100000A", "数字"),
        ("3101010100100001", "17 位"),
        ("99999901001000001", "区县代码"),
        ("31010199999000001", "部件分类代码"),
        ("31010106010000001", "部件分类代码"),  # 06010 is an item class, not a component class
        ("31010101001000000", "顺序码"),
    ],
)
def test_identifier_errors_say_what_is_wrong(demo, value, fragment):
    errors = identifier_errors(value)
    assert errors and fragment in " ".join(errors)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789", min_size=0, max_size=20))
def test_only_well_formed_identifiers_pass(value):
    errors = identifier_errors(value, districts={"310101"}, classes={"01001"})
    valid = len(value) == 17 and value[:6] == "310101" and value[6:11] == "01001" and value[11:] != "000000"
    assert (errors == []) == valid


def test_csv_import_creates_locates_and_reimport_changes_nothing(demo):
    data = csv_of(line(), line(name="路灯", code="01018", shift=0.00005, state="破损", day="2023-06-30"))
    first = import_components(data, "parts.csv", scope_prefixes=["310101020"])
    assert first.ok, first.errors
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    lamp = Component.objects.get(name="路灯")
    assert lamp.identifier.startswith("31010101018") and len(lamp.identifier) == 17
    assert (lamp.place_code, lamp.state, lamp.initial_date.isoformat()) == (G1, "damaged", "2023-06-30")
    assert lamp.owner_name == "自来水公司" and lamp.data_source == "surveyed"

    again = import_components(data, "parts.csv", scope_prefixes=["310101020"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Component.objects.count() == 2

    changed = csv_of(line(identifier=lamp.identifier, name="路灯", code="01018", shift=0.00005, state="完好"))
    third = import_components(changed, "parts.csv", scope_prefixes=["310101020"])
    assert (third.created, third.updated) == (0, 1)
    lamp.refresh_from_db()
    assert lamp.state == "intact"


def test_geojson_import_with_the_standards_field_codes(demo):
    lon, lat = point_in(G2)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "GLBJBSM": "31010101001000123",
            "GLBJMC": "上水井盖",
            "ZGBMDM": "12310101MB2F00001X",
            "ZGBMMC": "区水务局",
            "QSDWMC": "自来水公司",
            "YHDWMC": "水务养护站",
            "GLBJZT": "丢失",
            "CSRQ": "20200101",
            "BGRQ": "20240301",
            "SJLY": "地形图",
            "BZ": "井盖缺失",
        },
    }
    data = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    result = import_components(data, "parts.geojson", scope_prefixes=None)
    assert result.ok, result.errors
    c = Component.objects.get(identifier="31010101001000123")
    assert (c.place_code, c.state, c.data_source, c.competent_code, c.note) == (
        G2,
        "lost",
        "topographic",
        "12310101MB2F00001X",
        "井盖缺失",
    )
    assert c.changed_date.isoformat() == "2024-03-01"
    assert import_components(data, "parts.geojson", scope_prefixes=None).unchanged == 1


def test_every_bad_row_is_reported_by_row_and_field_and_nothing_is_written(demo):
    data = csv_of(
        line(),  # row 2 is fine
        line(identifier="31010101001"),  # row 3: short identifier
        line(code="99999"),  # row 4: unknown class
        line(state="很好"),  # row 5: bad state
        line(day="2024-13-01"),  # row 6: bad date
        "," + line()[1:].replace(str(point_in(G1)[0]), "100.0", 1),  # row 7: outside every grid
        line(name=""),  # row 8: no name
    )
    result = import_components(data, "bad.csv", scope_prefixes=None)
    found = {(p.row, p.field) for p in result.errors}
    assert {
        (3, "管理部件标识码"),
        (4, "分类代码"),
        (5, "管理部件状态"),
        (6, "初始日期"),
        (7, "位置"),
        (8, "管理部件名称"),
    } <= found
    assert not any(p.row == 2 for p in result.errors)
    assert not Component.objects.exists()


def test_a_missing_column_and_a_duplicate_identifier(demo):
    result = import_components("管理部件名称,经度\n井盖,121.5\n".encode(), "x.csv", scope_prefixes=None)
    assert {p.field for p in result.errors} >= {"主管部门名称", "初始日期", "纬度", "分类代码"}
    dup = csv_of(line(identifier="31010101001000009"), line(identifier="31010101001000009", shift=0.00003))
    result = import_components(dup, "dup.csv", scope_prefixes=None)
    assert [(p.row, p.field) for p in result.errors] == [(3, "管理部件标识码")]
    assert not Component.objects.exists()


def test_a_point_outside_the_users_scope_is_refused(demo):
    result = import_components(csv_of(line(grid=G2)), "x.csv", scope_prefixes=["310101020001"])
    assert [(p.row, p.field) for p in result.errors] == [(2, "位置")]
    assert "管辖范围" in result.errors[0].message
    assert not Component.objects.exists()


def test_the_pages_import_list_and_refuse(client_as):
    client = client_as("supervisor")
    upload = SimpleUploadedFile("parts.csv", csv_of(line(), line(name="路灯", code="01018", shift=0.00005)))
    response = client.post(reverse("grid:component_import"), {"file": upload})
    assert response.status_code == 302 and Component.objects.count() == 2
    listing = client.get(reverse("grid:components"), {"class": "01018"})
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "路灯" in html and "上水井盖" not in html.split("<tbody>")[1]

    bad = client.post(
        reverse("grid:component_import"), {"file": SimpleUploadedFile("b.csv", csv_of(line(code="99999")))}
    )
    assert bad.status_code == 400 and "未知的部件分类代码" in bad.content.decode()
    assert Component.objects.count() == 2

    assert client_as("inspector").get(reverse("grid:component_import")).status_code == 403
    assert client_as("inspector").get(reverse("grid:components")).status_code == 200
    # a clerk of another street sees none of them
    other = client_as("frontdesk_b").get(reverse("grid:components"))
    identifier = Component.objects.get(name="路灯").identifier
    assert identifier in html
    assert other.status_code == 200 and identifier not in other.content.decode()
