from __future__ import annotations

import json

import pytest

from shequ.audit.models import ChangeAction, ChangeLog
from shequ.places import io as place_io
from shequ.places.models import Place

from .factories import SQUARE, build_tree, make_superuser, street_leader

pytestmark = pytest.mark.django_db


def state() -> list[tuple]:
    return list(
        Place.objects.order_by("code").values_list(
            "code", "name", "kind", "parent__code", "geometry", "source"
        )
    )


def csv_bytes(*lines: str, bom: bool = True) -> bytes:
    return (("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n").encode()


def fields_of(result, row: int) -> set[str]:
    return {e.field for e in result.errors if e.row == row}


def test_import_csv_with_bom_creates_the_tree_and_logs_it():
    build_tree()
    data = csv_bytes(
        "code,name,kind,parent_code,source",
        "310101020002,桥二居委会,committee,310101020,街道提供",
        "310101020002001,桥二第一网格,,,",  # kind and parent inferred
        "310101021001,打一居委会,,310101021,",
    )
    result = place_io.import_data(data, "csv", by=make_superuser(), label="places.csv")
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    grid = Place.objects.select_related("parent").get(code="310101020002001")
    assert grid.kind == "grid" and grid.parent.code == "310101020002"
    assert Place.objects.get(code="310101020002").source == "街道提供"
    assert ChangeLog.objects.filter(action=ChangeAction.CREATE).count() == 3
    summary = ChangeLog.objects.get(action=ChangeAction.IMPORT)
    assert summary.after["created"] == 3 and summary.after["file"] == "places.csv"
    assert summary.place_code == "310101"


def test_one_bad_row_among_good_ones_writes_nothing():
    build_tree()
    before = state()
    logs_before = ChangeLog.objects.count()
    data = csv_bytes(
        "code,name,kind,parent_code",
        "310101020002,桥二居委会,committee,310101020",
        "310101020003,桥三居委会,committee,310101020",
        "31010102000X,坏代码,committee,310101020",
        "310101020004,桥四居委会,committee,310101020",
    )
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert not result.ok
    assert [(e.row, e.field) for e in result.errors] == [(4, "code")]
    assert "31010102000X" in result.errors[0].message
    assert state() == before and ChangeLog.objects.count() == logs_before


def test_duplicate_code_in_file_names_both_rows():
    build_tree()
    data = csv_bytes(
        "code,name",
        "310101020002,桥二居委会",
        "310101020002,桥二居委会（重复）",
    )
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert [(e.row, e.field) for e in result.errors] == [(3, "code")]
    assert "第 2 行" in result.errors[0].message
    assert not Place.objects.filter(code="310101020002").exists()


def test_child_not_under_parent():
    build_tree()
    data = csv_bytes("code,name,kind,parent_code", "310104020,徐汇某街道,street,310101")
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert fields_of(result, 2) == {"parent_code"}
    assert "不在上级" in result.errors[0].message


def test_parent_kind_must_fit():
    build_tree()
    data = csv_bytes("code,name,kind,parent_code", "310101020001005,网格,grid,310101020")
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert fields_of(result, 2) == {"parent_code"}


def test_parent_missing_everywhere():
    build_tree()
    data = csv_bytes("code,name", "310101099001,无上级居委")
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert fields_of(result, 2) == {"parent_code"}
    assert "310101099" in result.errors[0].message


def test_parent_later_in_the_same_file_is_fine():
    build_tree()
    data = csv_bytes(
        "code,name",
        "310101030001003,新网格",
        "310101030001,新居委",
        "310101030,新街道",
    )
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert result.ok, result.errors
    assert Place.objects.get(code="310101030001003").parent.parent.code == "310101030"


def test_existing_code_with_other_kind_or_parent_is_an_error():
    build_tree()
    data = csv_bytes(
        "code,name,kind,parent_code",
        "310101,黄浦区,city,",
        "310101021,打浦桥街道,street,310104",
    )
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert "kind" in fields_of(result, 2)
    assert "parent_code" in fields_of(result, 3)


def test_upsert_updates_names_and_leaves_the_rest():
    tree = build_tree()
    data = csv_bytes(
        "code,name",
        "310101020,五里桥街道办事处",
        "310101021,打浦桥街道",
    )
    result = place_io.import_data(data, "csv", by=make_superuser())
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    tree.street.refresh_from_db()
    assert tree.street.name == "五里桥街道办事处"
    log = ChangeLog.objects.get(action=ChangeAction.UPDATE)
    assert log.before == {"name": "五里桥街道"}
    # A CSV carries no boundaries: the grid keeps its geometry.
    result = place_io.import_data(
        csv_bytes("code,name", "310101020001003,桥一第三网格"), "csv", by=make_superuser()
    )
    assert result.unchanged == 1
    assert Place.objects.get(code="310101020001003").geometry == SQUARE


def test_bad_header_and_empty_names_and_unknown_kind():
    build_tree()
    result = place_io.import_data(csv_bytes("id,title", "1,2"), "csv", by=make_superuser())
    assert {(e.row, e.field) for e in result.errors} == {(1, "code"), (1, "name")}
    result = place_io.import_data(
        csv_bytes("code,name,kind", "310101020002,,committee", "310101020003,居委,village"),
        "csv",
        by=make_superuser(),
    )
    assert fields_of(result, 2) == {"name"} and fields_of(result, 3) == {"kind"}


def test_chinese_headers_and_kind_labels_and_gb18030():
    build_tree()
    text = "代码,名称,类型,上级代码\r\n310101020002,桥二居委会,居委/村委,310101020\r\n"
    result = place_io.import_data(text.encode("gb18030"), "csv", by=make_superuser())
    assert result.ok, result.errors
    assert Place.objects.get(code="310101020002").kind == "committee"


def test_street_leader_cannot_import_into_another_district():
    tree = build_tree()
    leader = street_leader(tree)
    data = csv_bytes(
        "code,name",
        "310101020002,桥二居委会",  # inside the leader's street: fine
        "310104003001,天平一居委",  # another district
        "310101021001,打一居委会",  # another street of the same district
    )
    result = place_io.import_data(data, "csv", by=leader)
    assert [(e.row, e.field) for e in result.errors] == [(3, "code"), (4, "code")]
    assert all("辖区" in e.message for e in result.errors)
    assert not Place.objects.filter(code="310101020002").exists()
    ok = place_io.import_data(csv_bytes("code,name", "310101020002,桥二居委会"), "csv", by=leader)
    assert ok.ok and ok.created == 1


def test_geojson_round_trip_is_unchanged():
    build_tree()
    root = make_superuser()
    before = state()
    exported = "".join(place_io.iter_geojson(place_io.export_queryset(root)))
    document = json.loads(exported)
    assert document["type"] == "FeatureCollection" and len(document["features"]) == len(before)
    grid = next(f for f in document["features"] if f["properties"]["code"] == "310101020001003")
    assert grid["geometry"] == SQUARE and grid["properties"]["parent_code"] == "310101020001"

    result = place_io.import_data(exported.encode(), "geojson", by=root)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(before))
    assert state() == before


def test_geojson_export_rebuilds_the_tree_in_an_empty_database_children_first():
    build_tree()
    root = make_superuser()
    before = state()
    document = json.loads("".join(place_io.iter_geojson(place_io.export_queryset(root))))
    for kind in ("grid", "committee", "street", "district", "city"):
        Place.objects.filter(kind=kind).delete()
    document["features"].reverse()  # children before parents: the importer orders the writes
    result = place_io.import_data(json.dumps(document), "geojson", by=root)
    assert result.ok, result.errors
    assert result.created == len(before) and state() == before


def test_geojson_errors_use_feature_numbers():
    build_tree()
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "310101020002", "name": "桥二居委会"},
                "geometry": SQUARE,
            },
            {
                "type": "Feature",
                "properties": {"code": "310101020003", "name": "桥三居委会"},
                "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
            },
        ],
    }
    result = place_io.import_data(json.dumps(document), "geojson", by=make_superuser())
    assert [(e.row, e.field) for e in result.errors] == [(2, "geometry")]
    assert "边界" in result.errors[0].message
    assert not Place.objects.filter(code="310101020002").exists()


def test_geojson_file_errors():
    result = place_io.import_data(b"{not json", "geojson", by=make_superuser())
    assert result.errors[0].row == 0 and "JSON" in result.errors[0].message
    result = place_io.import_data(b'{"type": "Feature"}', "geojson", by=make_superuser())
    assert "FeatureCollection" in result.errors[0].message


def test_csv_round_trip_and_export_scope():
    tree = build_tree()
    root = make_superuser()
    exported = "".join(place_io.iter_csv(place_io.export_queryset(root)))
    assert exported.startswith("\ufeffcode,name,kind,parent_code,source\r\n310000,上海市,city,,")
    result = place_io.import_data(exported.encode(), "csv", by=root)
    assert result.ok and result.unchanged == Place.objects.count()

    leader = street_leader(tree)
    mine = "".join(place_io.iter_csv(place_io.export_queryset(leader)))
    codes = [line.split(",")[0] for line in mine.strip().splitlines()[1:]]
    assert codes == ["310101020", "310101020001", "310101020001003"]
    within = place_io.export_queryset(root, within=tree.other_district)
    assert list(within.values_list("code", flat=True)) == ["310104", "310104003"]


def test_errors_csv():
    report = place_io.errors_csv([place_io.RowError(4, "code", "代码“X”只能由数字组成。")])
    assert report.startswith("\ufeff") and "4,code,代码“X”只能由数字组成。" in report
