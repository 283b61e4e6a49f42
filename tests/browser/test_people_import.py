"""A committee worker imports the committee's sheet: the first upload has a wrong ID checksum,
the page names the row and the field; the fixed sheet imports; the worker then finds an
imported resident by pinyin initials and opens the person, the household and the house."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from shequ.core.idnumbers import make_resident_id
from shequ.people import imports
from shequ.people.models import ImportJob, Person

from .conftest import screenshot
from .test_login import login

pytestmark = pytest.mark.browser

ESTATE = "试点路8弄"  # no demo house lies there
HEAD = make_resident_id("310101", dt.date(1962, 4, 18), 135)  # 欧阳晓岚's husband, a man
WIFE = make_resident_id("310101", dt.date(1965, 9, 2), 246)  # 欧阳晓岚
SON = make_resident_id("310101", dt.date(1991, 12, 30), 357)
HOUSE_HEADER = ["小区/路弄", "楼号", "单元", "室号", "房屋类型"]
PERSON_HEADER = [
    "姓名",
    "证件号码",
    "联系电话",
    "小区/路弄",
    "楼号",
    "单元",
    "室号",
    "户号",
    "与户主关系",
    "迁入日期",
    "户籍户号",
]


def sheet(path: Path, wife_id: str) -> Path:
    book = Workbook()
    houses = book.active
    houses.title = "房屋"
    houses.append(HOUSE_HEADER)
    houses.append([ESTATE, "12", "", "301", "自有住房"])
    persons = book.create_sheet("人员")
    persons.append(PERSON_HEADER)
    for row in (
        ["欧阳建华", HEAD, "13912340001", ESTATE, "12", "", "301", "1", "户主", "2003-06-01", "020001301"],
        ["欧阳晓岚", wife_id, "13912340002", ESTATE, "12", "", "301", "1", "配偶", "2003-06-01", "020001301"],
        ["欧阳明轩", SON, "", ESTATE, "12", "", "301", "1", "子女", "2003-06-01", ""],
    ):
        persons.append(row)
    for cell in persons["B"]:
        cell.number_format = "@"
    book.save(path)
    return path


def wrong_checksum(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def test_import_fix_reimport_then_find_by_initials(page, tmp_path):
    login(page, "committee")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/people/import/")
    assert page.get_by_role("heading", name="导入人口数据", level=1).is_visible()
    assert page.get_by_text("桥一居委会").first.is_visible()  # a committee worker imports for their own
    screenshot(page, "people-import")

    page.set_input_files(
        "input[type=file]", str(sheet(tmp_path / "桥一居委会台账.xlsx", wrong_checksum(WIFE)))
    )
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_url("**/people/import/*/")
    alert = page.get_by_role("alert").filter(has_text="未导入任何数据")
    assert alert.is_visible()
    row = page.locator("table.import-errors tbody tr").filter(has_text="校验位")
    assert row.count() == 1
    assert "人员" in row.inner_text() and "第 3 行" in row.inner_text() and "证件号码" in row.inner_text()
    assert page.get_by_role("link", name="下载错误报告（.xlsx）").is_visible()
    screenshot(page, "people-import-error")
    assert not Person.objects.filter(id_number__in=[HEAD, WIFE, SON]).exists()

    page.get_by_role("link", name="修改后重新导入").click()
    page.wait_for_url("**/people/import/")
    assert "桥一居委会台账.xlsx" in page.get_by_role("region", name="我最近的导入").inner_text()
    screenshot(page, "people-import-recent")
    page.set_input_files("input[type=file]", str(sheet(tmp_path / "桥一居委会台账-已改.xlsx", WIFE)))
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_url("**/people/import/*/")
    assert page.get_by_role("heading", name="导入完成").is_visible()
    stats = page.locator("ul.stats").inner_text()
    assert "1\n新增房屋" in stats.replace(" ", "") or "1新增房屋" in stats.replace("\n", "").replace(" ", "")
    assert "3" in stats
    job = ImportJob.objects.order_by("-id").first()
    assert (job.status, job.persons_created, job.houses_created) == ("done", 3, 1)
    screenshot(page, "people-import-done")

    wife = Person.objects.get(id_number=WIFE)
    assert wife.name_initials == "oyxl"
    page.goto(page.base_url + "/people/")
    page.get_by_role("searchbox").or_(page.locator("input[name=q]")).first.fill("oyxl")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name="欧阳晓岚").first.click()
    page.wait_for_url(f"**/people/{wife.pk}/")
    assert page.get_by_text(f"{ESTATE}12号301室").first.is_visible()
    screenshot(page, "people-import-person")

    page.get_by_text("查看本户").last.click()
    page.wait_for_url("**/people/households/**")
    assert page.get_by_role("link", name="欧阳建华").first.is_visible()
    screenshot(page, "people-import-household")
    page.get_by_role("link", name=f"{ESTATE}12号301室").first.click()
    page.wait_for_url("**/people/houses/**")
    assert page.get_by_text("欧阳明轩").first.is_visible()
    screenshot(page, "people-import-house")


def test_a_large_file_shows_its_progress_until_the_worker_is_done(page, tmp_path, monkeypatch):
    """Queued for the worker (the threshold lowered so a small file counts as large), with
    "only valid rows": the page polls until the worker is done, then shows the counts and the
    household left out."""
    monkeypatch.setattr(imports, "IN_REQUEST_ROWS", 2)
    path = sheet(tmp_path / "桥一居委会台账-大.xlsx", WIFE)
    book = load_workbook(path)
    book["房屋"].append([ESTATE, "12", "", "302", "租赁住房"])
    bad = wrong_checksum(make_resident_id("310101", dt.date(1990, 1, 1), 123))
    book["人员"].append(["方志远", bad, "", ESTATE, "12", "", "302", "2", "户主", ""])
    book.save(path)
    login(page, "committee")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/people/import/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_label("只导入无误的行").check()
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_url("**/people/import/*/")
    assert page.locator("progress#import-progress").is_visible()
    assert page.get_by_text("排队中").first.is_visible()
    screenshot(page, "people-import-queued")

    assert imports.run_queued_imports() == 1
    job = ImportJob.objects.get()
    assert job.status == "done", job.errors
    page.get_by_role("heading", name="已导入无误的行").wait_for(timeout=10_000)  # the page reloaded itself
    assert page.get_by_text("1 行有问题，未导入").is_visible()
    assert page.locator("table.import-errors").get_by_text("校验位").is_visible()
    assert Person.objects.filter(id_number__in=[HEAD, WIFE, SON]).count() == 3
    screenshot(page, "people-import-partial")
