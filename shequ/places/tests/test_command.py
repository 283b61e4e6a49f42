from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from shequ.audit.models import ChangeAction, ChangeLog
from shequ.places.models import Place

pytestmark = pytest.mark.django_db

DISTRICTS = {
    "310101": "黄浦区", "310104": "徐汇区", "310105": "长宁区", "310106": "静安区",
    "310107": "普陀区", "310109": "虹口区", "310110": "杨浦区", "310112": "闵行区",
    "310113": "宝山区", "310114": "嘉定区", "310115": "浦东新区", "310116": "金山区",
    "310117": "松江区", "310118": "青浦区", "310120": "奉贤区", "310151": "崇明区",
}  # fmt: skip


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("load_places", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_shanghai_districts_load_and_reload_idempotently():
    assert "新增 17 条" in run("--shanghai-districts")
    city = Place.objects.get(code="310000")
    assert city.kind == "city" and city.name == "上海市" and city.parent is None
    districts = Place.objects.filter(kind="district").select_related("parent")
    assert {p.code: p.name for p in districts} == DISTRICTS
    assert all(p.parent == city and p.source == "GB/T 2260" for p in districts)
    log = ChangeLog.objects.get(action=ChangeAction.IMPORT)
    assert log.actor_name == "manage.py load_places" and log.actor_id is None

    assert "未变化 17 条" in run()  # no PATH: the shipped file again
    assert Place.objects.count() == 17
    assert ChangeLog.objects.filter(action=ChangeAction.CREATE).count() == 17


def test_errors_are_printed_and_exit_non_zero(tmp_path):
    run("--shanghai-districts")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n310101020,五里桥街道\n310101X21,坏\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 个错误"):
        call_command("load_places", str(bad), stdout=io.StringIO(), stderr=err)
    assert "3,code," in err.getvalue()
    assert not Place.objects.filter(code="310101020").exists()


def test_geojson_by_extension(tmp_path):
    run("--shanghai-districts")
    path = tmp_path / "streets.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,'
        '"properties":{"code":"310101020","name":"五里桥街道"}}]}',
        encoding="utf-8",
    )
    assert "新增 1 条" in run(str(path))
    with pytest.raises(CommandError):
        run(str(tmp_path / "places.txt"))
