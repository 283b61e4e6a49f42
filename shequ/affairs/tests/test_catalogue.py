"""The matter catalogue: the shipped data, the all-or-nothing loaders (JSON and Excel), the command,
the public pages, export/import pages and the admin."""

from __future__ import annotations

import copy
import importlib.util
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from shequ.affairs.catalogue import (
    SHEET_MATERIALS,
    SHEET_MATTERS,
    catalogue_json,
    export_xlsx,
    import_xlsx,
    load_catalogue,
)
from shequ.affairs.choices import DeliveryMethod, ItemType, MaterialForm, MatterCategory
from shequ.affairs.models import Matter, MatterMaterial
from shequ.audit.models import ChangeAction, ChangeLog

DATA = Path(__file__).resolve().parents[1] / "data" / "matters.json"
DEPARTMENTS = {"civil-affairs", "social-security", "city-management", "housing"}
ACTOR = "test"


@pytest.fixture(scope="module")
def shipped() -> list[dict[str, Any]]:
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture
def data(shipped) -> list[dict[str, Any]]:
    return copy.deepcopy(shipped)


@pytest.fixture
def catalogue(db, shipped):
    result = load_catalogue(copy.deepcopy(shipped), by=ACTOR, label="matters.json")
    assert result.ok, result.errors[:5]
    return result


def state() -> list[tuple[Any, ...]]:
    """Everything stored about the catalogue, material ids and timestamps included."""
    matters = list(Matter.objects.order_by("code").values_list())
    materials = list(MatterMaterial.objects.order_by("id").values_list())
    return [*matters, *materials]


def xlsx_bytes(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def column(ws: Any, field: str) -> int:
    for cell in ws[1]:
        if cell.value and str(cell.value).endswith(f"({field})"):
            return cell.column
    raise AssertionError(f"no column {field}")


# --- the shipped data ---------------------------------------------------------------------------


def test_shipped_file_is_plausible(shipped):
    assert len(shipped) >= 60
    assert len({m["category"] for m in shipped}) >= 8
    assert sum(m["on_the_spot"] for m in shipped) / len(shipped) >= 0.30
    for m in shipped:
        assert m["category"] in MatterCategory.values
        assert m["item_type"] in ItemType.values
        assert m["department_code"] in DEPARTMENTS, m["code"]
        assert set(m["cooperating_departments"]) <= DEPARTMENTS - {m["department_code"]}
        assert 3 <= len(m["procedure"]) <= 5, m["code"]
        assert 2 <= len(m["materials"]) <= 6, m["code"]
        assert any(x["mandatory"] for x in m["materials"]), m["code"]
        assert {x["form"] for x in m["materials"]} <= set(MaterialForm.values)
        assert m["delivery_options"] and set(m["delivery_options"]) <= set(DeliveryMethod.values)
        assert m["promised_days"] >= 1
        if m["on_the_spot"]:
            assert m["promised_days"] == 1
        if m["statutory_days"] is not None:
            assert m["statutory_days"] >= m["promised_days"]
        assert m["legal_basis"] and m["conditions"]


def test_shipped_json_loads_without_errors(catalogue, shipped):
    assert catalogue.errors == []
    assert (catalogue.created, catalogue.updated, catalogue.unchanged) == (len(shipped), 0, 0)
    assert Matter.objects.count() == len(shipped) >= 60
    assert Matter.objects.values("category").distinct().count() >= 8
    for matter in Matter.objects.prefetch_related("materials"):
        assert any(m.mandatory for m in matter.materials.all()), matter.code
    on_the_spot = Matter.objects.filter(on_the_spot=True).count()
    assert on_the_spot / Matter.objects.count() >= 0.30
    assert not Matter.objects.filter(promised_days__lt=1).exists()
    log = ChangeLog.objects.get(action=ChangeAction.IMPORT)
    assert log.actor_name == ACTOR
    assert log.after["created"] == len(shipped)
    assert log.after["materials"] == MatterMaterial.objects.count()
    assert ChangeLog.objects.filter(action=ChangeAction.CREATE, object_type="affairs.matter").count() == len(
        shipped
    )


def test_loading_twice_changes_nothing(catalogue, shipped):
    before = state()
    again = load_catalogue(copy.deepcopy(shipped), by=ACTOR)
    assert again.ok
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(shipped))
    assert state() == before
    assert not ChangeLog.objects.filter(action=ChangeAction.UPDATE).exists()


def test_a_changed_matter_is_updated_and_its_materials_replaced(catalogue, data):
    data[0]["name"] = "失业登记（更名）"
    data[0]["materials"] = data[0]["materials"][:1]
    data[1]["materials"][0]["note"] = "新的说明"
    result = load_catalogue(data, by=ACTOR)
    assert (result.created, result.updated) == (0, 2)
    first = Matter.objects.get(code=data[0]["code"])
    assert first.name == "失业登记（更名）"
    assert [m.name for m in first.materials.all()] == [data[0]["materials"][0]["name"]]
    assert Matter.objects.get(code=data[1]["code"]).materials.first().note == "新的说明"
    update = ChangeLog.objects.filter(action=ChangeAction.UPDATE, object_id=str(first.pk)).get()
    assert update.after["name"] == "失业登记（更名）"


def test_absent_optional_fields_keep_what_is_stored(catalogue, data):
    """The shipped file says nothing about is_active: reloading it keeps a deactivation."""
    Matter.objects.filter(code=data[0]["code"]).update(is_active=False)
    result = load_catalogue(data, by=ACTOR)
    assert result.ok and result.updated == 0
    assert not Matter.objects.get(code=data[0]["code"]).is_active


def test_one_bad_matter_among_good_ones_writes_nothing(db, data):
    good = data[:5]
    good[2]["category"] = "astrology"
    result = load_catalogue(good, by=ACTOR)
    assert not result.ok
    assert Matter.objects.count() == 0 and MatterMaterial.objects.count() == 0
    assert not ChangeLog.objects.exists()
    [error] = result.errors
    assert (error.row, error.field) == (3, "category")
    assert "第 3 个事项" in error.message and "category" in error.message and "类别" in error.message


def test_bad_material_is_named_by_matter_and_position(db, data):
    data[0]["materials"][1]["form"] = "fax"
    data[0]["materials"][1]["copies"] = 0
    result = load_catalogue(data[:3], by=ACTOR)
    assert {(e.row, e.field) for e in result.errors} == {(1, "materials[2].form"), (1, "materials[2].copies")}
    assert "第 1 个事项的第 2 项材料" in result.errors[0].message
    assert Matter.objects.count() == 0


def test_duplicate_code_is_rejected(db, data):
    data[3]["code"] = data[1]["code"]
    result = load_catalogue(data[:4], by=ACTOR)
    [error] = result.errors
    assert (error.row, error.field) == (4, "code")
    assert "第 2 个事项" in error.message
    assert Matter.objects.count() == 0


def test_statutory_shorter_than_promised_is_rejected(db, data):
    matter = next(m for m in data if not m["on_the_spot"])
    matter["promised_days"], matter["statutory_days"] = 20, 10
    result = load_catalogue(data, by=ACTOR)
    [error] = result.errors
    assert (error.row, error.field) == (data.index(matter) + 1, "statutory_days")
    assert "法定时限" in error.message
    assert Matter.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"promised_days": 0, "on_the_spot": True}, "promised_days"),
        ({"promised_days": "三天"}, "promised_days"),
        ({"promised_days": 5, "on_the_spot": True}, "on_the_spot"),
        ({"item_type": "licence"}, "item_type"),
        ({"delivery_options": ["window", "pigeon"]}, "delivery_options"),
        ({"delivery_options": []}, "delivery_options"),
        ({"code": "not a slug"}, "code"),
        ({"code": "import"}, "code"),
        ({"name": ""}, "name"),
        ({"procedure": []}, "procedure"),
        ({"cooperating_departments": ["social-security"]}, "cooperating_departments"),
        ({"promise_days": 3}, "promise_days"),
    ],
)
def test_each_rule_names_row_and_field(db, data, change, field):
    matter = data[0]  # an on-the-spot matter of social-security
    matter.update(change)
    result = load_catalogue(data[:2], by=ACTOR)
    assert (1, field) in {(e.row, e.field) for e in result.errors}, result.errors
    assert Matter.objects.count() == 0


def test_missing_required_field_and_mandatory_material(db, data):
    del data[0]["legal_basis"]
    for material in data[1]["materials"]:
        material["mandatory"] = False
    result = load_catalogue(data[:2], by=ACTOR)
    assert {(e.row, e.field) for e in result.errors} == {(1, "legal_basis"), (2, "materials")}


def test_not_a_list(db):
    result = load_catalogue({"code": "x"}, by=ACTOR)
    assert [(e.row, e.field) for e in result.errors] == [(0, "file")]


def test_a_user_who_is_not_a_leader_cannot_load(personas, data):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        load_catalogue(data, by=personas["frontdesk"])
    assert load_catalogue(data[:2], by=personas["leader"]).ok


# --- Excel --------------------------------------------------------------------------------------


def test_xlsx_round_trip_changes_nothing(catalogue, shipped):
    Matter.objects.filter(code=shipped[0]["code"]).update(is_active=False, sort_order=7)
    before, as_json = state(), catalogue_json(Matter.objects.all())
    content = export_xlsx(Matter.objects.all())
    result = import_xlsx(content, by=ACTOR, label="export.xlsx")
    assert result.ok, result.errors[:5]
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(shipped))
    assert state() == before
    assert catalogue_json(Matter.objects.all()) == as_json


def test_xlsx_into_an_empty_database_recreates_the_catalogue(catalogue):
    as_json = catalogue_json(Matter.objects.all())
    content = export_xlsx(Matter.objects.all())
    Matter.objects.all().delete()
    result = import_xlsx(content, by=ACTOR)
    assert result.ok and result.created == len(as_json)
    assert catalogue_json(Matter.objects.all()) == as_json


def test_xlsx_layout(catalogue):
    workbook = load_workbook(io.BytesIO(export_xlsx(Matter.objects.all())))
    assert workbook.sheetnames == [SHEET_MATTERS, SHEET_MATERIALS]
    matters, materials = workbook[SHEET_MATTERS], workbook[SHEET_MATERIALS]
    assert matters.cell(1, 1).value == "事项编码 (code)"
    assert matters.max_row == Matter.objects.count() + 1
    assert materials.max_row == MatterMaterial.objects.count() + 1
    assert materials.cell(1, 1).value == "事项编码 (matter_code)"


def test_xlsx_with_bad_rows_reports_the_excel_row_numbers(catalogue):
    before = state()
    workbook = load_workbook(io.BytesIO(export_xlsx(Matter.objects.all())))
    matters, materials = workbook[SHEET_MATTERS], workbook[SHEET_MATERIALS]
    matters.cell(5, column(matters, "promised_days")).value = "abc"
    matters.cell(6, column(matters, "name")).value = "已改名"  # a good change, not written either
    materials.cell(9, column(materials, "form")).value = "传真件"
    result = import_xlsx(xlsx_bytes(workbook), by=ACTOR)
    assert [(e.row, e.field) for e in result.errors] == [(5, "promised_days"), (9, "materials.form")]
    assert "“事项”表第 5 行" in result.errors[0].message and "承诺时限" in result.errors[0].message
    assert "“材料”表第 9 行" in result.errors[1].message
    assert state() == before


def test_xlsx_accepts_labels_and_reports_orphans_and_duplicates(catalogue):
    workbook = load_workbook(io.BytesIO(export_xlsx(Matter.objects.all())))
    matters, materials = workbook[SHEET_MATTERS], workbook[SHEET_MATERIALS]
    matters.cell(2, column(matters, "category")).value = "就业"  # a Chinese label is fine
    renamed = matters.cell(3, 1).value
    matters.cell(3, 1).value = matters.cell(4, 1).value
    materials.cell(2, 1).value = "sq-none-999"
    # The renamed matter's materials now belong to no matter.
    orphans = {(row, "materials.matter_code") for row in range(2, materials.max_row + 1)}
    orphans = {o for o in orphans if materials.cell(o[0], 1).value in (renamed, "sq-none-999")}
    result = import_xlsx(xlsx_bytes(workbook), by=ACTOR)
    assert {(e.row, e.field) for e in result.errors} == {(4, "code"), *orphans}
    assert (2, "materials.matter_code") in orphans and len(orphans) > 1
    assert "“事项”表第 3 行" in next(e.message for e in result.errors if e.field == "code")


def test_xlsx_missing_sheet_or_garbage(db):
    result = import_xlsx(b"not a workbook", by=ACTOR)
    assert [(e.row, e.field) for e in result.errors] == [(0, "file")]
    from openpyxl import Workbook

    result = import_xlsx(xlsx_bytes(Workbook()), by=ACTOR)
    assert {e.field for e in result.errors} == {"sheet"}


# --- the command --------------------------------------------------------------------------------


def test_load_matters_command_is_idempotent(db, shipped):
    out = io.StringIO()
    call_command("load_matters", stdout=out)
    assert f"新增 {len(shipped)} 个" in out.getvalue()
    out = io.StringIO()
    call_command("load_matters", stdout=out)
    assert f"未变化 {len(shipped)} 个" in out.getvalue()
    assert (
        ChangeLog.objects.filter(action=ChangeAction.IMPORT, actor_name="manage.py load_matters").count() == 2
    )


def test_load_matters_command_reports_errors(db, data, tmp_path):
    data[1]["statutory_days"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("load_matters", str(path), stderr=err)
    assert "2\tstatutory_days" in err.getvalue()
    assert Matter.objects.count() == 0


def test_load_matters_command_reads_xlsx(catalogue, tmp_path):
    path = tmp_path / "catalogue.xlsx"
    path.write_bytes(export_xlsx(Matter.objects.all()))
    out = io.StringIO()
    call_command("load_matters", str(path), stdout=out)
    assert "更新 0 个" in out.getvalue()


# --- pages --------------------------------------------------------------------------------------


@pytest.fixture
def site(demo, shipped):
    load_catalogue(copy.deepcopy(shipped), by=ACTOR)


def test_list_is_public_and_grouped(client, site, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get(reverse("catalogue:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "最低生活保障申请" in html and "居住证签注" in html
    assert "当场办结" in html and "可代办" in html
    assert html.index('id="category-employment"') < html.index("失业登记")
    assert html.index("失业登记") < html.index('id="category-social_security"')
    assert "导入 Excel" not in html and "导出 Excel" not in html


def test_list_search_and_filter(client, site):
    html = client.get(reverse("catalogue:list"), {"q": "残疾人证"}).content.decode()
    assert "残疾人证申领" in html and "失业登记" not in html
    html = client.get(reverse("catalogue:list"), {"q": "sq-jz-001"}).content.decode()
    assert "最低生活保障申请" in html and "临时救助申请" not in html
    html = client.get(reverse("catalogue:list"), {"category": "housing"}).content.decode()
    assert "廉租住房申请" in html and "失业登记" not in html
    html = client.get(reverse("catalogue:list"), {"q": "没有这个事项"}).content.decode()
    assert "没有找到符合条件的事项" in html


def test_inactive_matter_is_hidden_and_404(client, site):
    Matter.objects.filter(code="sq-jy-001").update(is_active=False)
    assert (
        "失业登记" not in client.get(reverse("catalogue:list"), {"category": "employment"}).content.decode()
    )
    assert client.get(reverse("catalogue:matter", args=["sq-jy-001"])).status_code == 404
    assert client.get(reverse("catalogue:guide_pdf", args=["sq-jy-001"])).status_code == 404
    assert client.get(reverse("catalogue:matter", args=["sq-none-404"])).status_code == 404


def test_matter_page_is_the_service_guide(client, site):
    matter = Matter.objects.get(code="sq-jz-001")
    response = client.get(reverse("catalogue:matter", args=[matter.code]))
    assert response.status_code == 200
    html = response.content.decode()
    for material in matter.materials.all():
        assert material.name in html
    for text in (
        "办事指南",
        "申请条件",
        "办理流程",
        "设定依据",
        "《社会救助暂行办法》",
        "家庭经济状况核对授权书",
    ):
        assert text in html
    assert "社区服务办公室（民政）" in html  # the department's name, not its code
    assert reverse("catalogue:guide_pdf", args=[matter.code]) in html
    assert "打印办事指南 (PDF)" in html


def test_guide_pdf(client, site):
    if importlib.util.find_spec("shequ.affairs.pdf") is None:
        pytest.skip("shequ.affairs.pdf is not there yet")
    response = client.get(reverse("catalogue:guide_pdf", args=["sq-jz-001"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="guide-sq-jz-001.pdf"'
    assert response.content.startswith(b"%PDF")


def test_export_is_a_real_workbook_for_staff(client_as, site):
    response = client_as("frontdesk").get(reverse("catalogue:export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="matters-')
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [SHEET_MATTERS, SHEET_MATERIALS]
    assert workbook[SHEET_MATTERS].max_row == Matter.objects.count() + 1


def test_export_needs_a_staff_login(client, client_as, site):
    response = client.get(reverse("catalogue:export"))
    assert response.status_code == 302
    assert client_as("resident").get(reverse("catalogue:export")).status_code == 403


def test_import_page_is_for_leaders_and_superusers(client, client_as, site):
    url = reverse("catalogue:import")
    assert client.get(url).status_code == 302
    assert client_as("frontdesk").get(url).status_code == 403
    assert client_as("frontdesk").post(url).status_code == 403
    assert client_as("manager").get(url).status_code == 403
    assert client_as("leader").get(url).status_code == 200
    assert client_as("admin").get(url).status_code == 200


def test_import_page_shows_errors_and_writes_nothing(client_as, site):
    before = state()
    workbook = load_workbook(io.BytesIO(export_xlsx(Matter.objects.all())))
    sheet = workbook[SHEET_MATTERS]
    sheet.cell(4, column(sheet, "statutory_days")).value = 0
    upload = io.BytesIO(xlsx_bytes(workbook))
    upload.name = "catalogue.xlsx"
    response = client_as("leader").post(reverse("catalogue:import"), {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "未导入任何数据" in html and "“事项”表第 4 行" in html and "statutory_days" in html
    assert state() == before


def test_import_page_writes_a_good_file(client_as, site):
    workbook = load_workbook(io.BytesIO(export_xlsx(Matter.objects.all())))
    sheet = workbook[SHEET_MATTERS]
    sheet.cell(2, column(sheet, "name")).value = "失业登记（新）"
    upload = io.BytesIO(xlsx_bytes(workbook))
    upload.name = "catalogue.xlsx"
    response = client_as("leader").post(reverse("catalogue:import"), {"file": upload}, follow=True)
    assert "更新 1 个" in response.content.decode()
    assert Matter.objects.filter(name="失业登记（新）").exists()
    assert ChangeLog.objects.filter(action=ChangeAction.IMPORT, actor_name__isnull=False).exists()


def test_import_page_rejects_other_files(client_as, site):
    upload = io.BytesIO(b"code,name\n")
    upload.name = "catalogue.csv"
    response = client_as("leader").post(reverse("catalogue:import"), {"file": upload})
    assert response.status_code == 200
    assert ".xlsx" in response.content.decode()


# --- admin --------------------------------------------------------------------------------------


def test_admin_lists_and_exports_matters(client_as, site):
    client = client_as("admin")
    url = reverse("admin:affairs_matter_changelist")
    assert client.get(url).status_code == 200
    assert (
        client.get(reverse("admin:affairs_matter_change", args=[Matter.objects.first().pk])).status_code
        == 200
    )
    pks = list(Matter.objects.filter(category="housing").values_list("pk", flat=True))
    response = client.post(url, {"action": "export_selected", "_selected_action": pks})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook[SHEET_MATTERS].max_row == len(pks) + 1
    for name in ("case", "onetimenotice", "inquiry"):
        assert client.get(reverse(f"admin:affairs_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:affairs_{name}_add")).status_code == 403


def test_admin_edit_is_checked_and_logged(client_as, site):
    client = client_as("admin")
    matter = Matter.objects.get(code="sq-jz-001")
    url = reverse("admin:affairs_matter_change", args=[matter.pk])
    materials = list(matter.materials.all())
    form: dict[str, Any] = {
        "code": matter.code,
        "name": matter.name,
        "category": matter.category,
        "item_type": matter.item_type,
        "department_code": matter.department_code,
        "cooperating_departments": json.dumps(matter.cooperating_departments),
        "legal_basis": matter.legal_basis,
        "conditions": matter.conditions,
        "procedure": json.dumps(matter.procedure, ensure_ascii=False),
        "statutory_days": "10",
        "promised_days": "20",
        "fee": matter.fee,
        "delivery_options": matter.delivery_options,
        "proxy_allowed": "on",
        "visits": "1",
        "is_active": "on",
        "sort_order": "10",
        "materials-TOTAL_FORMS": str(len(materials)),
        "materials-INITIAL_FORMS": str(len(materials)),
        "materials-MIN_NUM_FORMS": "0",
        "materials-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(materials):
        form.update(
            {
                f"materials-{i}-id": str(m.pk),
                f"materials-{i}-matter": str(matter.pk),
                f"materials-{i}-sort_order": str(m.sort_order),
                f"materials-{i}-name": m.name,
                f"materials-{i}-form": m.form,
                f"materials-{i}-copies": str(m.copies),
                f"materials-{i}-source": m.source,
                f"materials-{i}-mandatory": "on" if m.mandatory else "",
                f"materials-{i}-note": m.note,
            }
        )
    response = client.post(url, form)
    assert response.status_code == 200  # statutory 10 < promised 20: the form is shown again
    assert "法定时限" in response.content.decode()
    form["statutory_days"] = "30"
    form["promised_days"] = "15"
    response = client.post(url, form)
    assert response.status_code == 302
    matter.refresh_from_db()
    assert matter.promised_days == 15
    log = ChangeLog.objects.filter(action=ChangeAction.UPDATE, object_id=str(matter.pk)).latest("id")
    assert log.after == {"promised_days": 15}


def test_categories_shipped_counts(shipped):
    counts = Counter(m["category"] for m in shipped)
    assert min(counts.values()) >= 2
