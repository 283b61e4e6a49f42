"""Import of a committee's sheet (房屋 and 人员): real files built with openpyxl (or CSV text),
imported through `imports.import_file` and through the pages, on the demo places and personas:
`committee` works at 桥一居委会 (310101020001), `manager` is the centre manager of 五里桥街道,
`inspector` has no resident-data access. Every bad input is checked to write nothing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from shequ.accounts.models import RoleAssignment, User
from shequ.audit.models import AccessAction, AccessLog, ChangeAction, ChangeLog
from shequ.core.idnumbers import make_resident_id
from shequ.people import imports, services
from shequ.people.choices import HouseholdKind, ImportStatus, Relation
from shequ.people.models import House, Household, ImportJob, Membership, Person
from shequ.people.services import PersonData
from shequ.places.models import Place

QIAO_YI = "310101020001"  # 桥一居委会 (the `committee` persona's)
QIAO_ER = "310101020002"  # 桥二居委会, same street
JIAN_YI = "310101021001"  # 建一居委会, 打浦桥街道

HOUSE_HEADER = ["居委会代码", "小区/路弄", "楼号", "单元", "室号", "房屋类型", "单元网格代码"]
PERSON_HEADER = [
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "出生日期",
    "联系电话",
    "人口类型",
    "居住证号码",
    "居住证有效期至",
    "户籍地址",
    "小区/路弄",
    "楼号",
    "单元",
    "室号",
    "户号",
    "与户主关系",
    "迁入日期",
    "户籍户号",
]


def rid(birth: str, seq: int, area: str = "310101") -> str:
    """A valid resident ID number for a birth date "YYYYMMDD" (odd `seq`: a man)."""
    return make_resident_id(area, dt.datetime.strptime(birth, "%Y%m%d").date(), seq)


WANG = rid("19580312", 131)  # 王建国, a man of the 1950s
LI = rid("19600801", 242)  # 李秀兰, his wife
WANG_XIAO = rid("19880105", 351)  # 王小明, their son
CHEN = rid("19750620", 462)  # 陈静, alone in the second house
ZHOU = rid("19920214", 571, area="320102")  # 周强, from Nanjing, with a residence permit


def house(
    estate: str = "长清路100弄", building: Any = "3", unit: Any = "2", room: Any = "501", **extra: Any
) -> dict:
    return {"小区/路弄": estate, "楼号": building, "单元": unit, "室号": room, **extra}


def person(
    name: str, id_number: Any, relation: str = "户主", where: dict | None = None, **extra: Any
) -> dict:
    return {"姓名": name, "证件号码": id_number, "与户主关系": relation, **(where or house()), **extra}


def good_houses() -> list[dict]:
    return [
        house(房屋类型="自有住房"),
        house(estate="蒙自路200弄", building="5", unit="", room="302", 房屋类型="公有住房"),
    ]


def good_persons() -> list[dict]:
    return [
        person("王建国", WANG, 户号="0001", 联系电话="13912345678", 迁入日期="2010-05-01", 户籍户号="H0001"),
        person("李秀兰", LI, "配偶", 户号="0001", 迁入日期=dt.datetime(2010, 5, 1), 户籍户号="H0001"),
        person(
            "王小明", WANG_XIAO, "子女", 户号="0001", 出生日期="1988/01/05", 性别="男", 迁入日期="20100501"
        ),
        person("陈静", CHEN, where=house(estate="蒙自路200弄", building="5", unit="", room="302")),
        person(
            "周强",
            ZHOU,
            "非亲属",
            户号="0001",
            人口类型="来沪人员",
            居住证号码="JZ3101234567",
            居住证有效期至="2030-06-30",
            户籍地址="江苏省南京市玄武区中山路1号",
        ),
    ]


def rows_of(header: list[str], records: list[dict]) -> list[list[Any]]:
    return [[record.get(column, "") for column in header] for record in records]


def workbook(
    houses: list[dict] | None = None,
    persons: list[dict] | None = None,
    *,
    house_header: list[str] = HOUSE_HEADER,
    person_header: list[str] = PERSON_HEADER,
    edit: Any = None,
) -> bytes:
    """An .xlsx with the sheets given (None: no such sheet); `edit(book)` changes it last."""
    book = Workbook()
    book.remove(book.active)
    for title, header, records in (
        (imports.HOUSES, house_header, houses),
        (imports.PERSONS, person_header, persons),
    ):
        if records is None:
            continue
        sheet = book.create_sheet(title)
        sheet.append(header)
        for values in rows_of(header, records):
            sheet.append(values)
    if edit is not None:
        edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(header: list[str], records: list[dict], encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(str(v) for v in values) for values in rows_of(header, records)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def counts() -> dict[str, int]:
    """Every table an import writes, with the history rows and the change log."""
    return {
        "houses": House.objects.count(),
        "households": Household.objects.count(),
        "persons": Person.objects.count(),
        "memberships": Membership.objects.count(),
        "house_history": House.history.count(),  # type: ignore[attr-defined]
        "person_history": Person.history.count(),  # type: ignore[attr-defined]
        "membership_history": Membership.history.count(),  # type: ignore[attr-defined]
        "changelog": ChangeLog.objects.count(),
    }


def run(data: bytes, name: str = "桥一.xlsx", *, by: User, place_code: str = QIAO_YI, **kwargs: Any):
    return imports.import_file(data, name, by=by, place_code=place_code, **kwargs)


def errors_of(outcome) -> list[tuple[str, int, str]]:
    return [(e.sheet, e.row, e.field) for e in outcome.errors]


def message(outcome, sheet: str, row: int, field: str) -> str:
    found = [e.message for e in outcome.errors if (e.sheet, e.row, e.field) == (sheet, row, field)]
    assert found, f"no error at {sheet} {row} {field}: {outcome.errors}"
    return found[0]


@pytest.fixture
def clerk(personas) -> User:
    return personas["committee"]


# ------------------------------------------------------------------------------ a good file


def test_a_good_workbook_imports_houses_households_persons_and_memberships(clerk):
    grid = Place.objects.filter(kind="grid", code__startswith=QIAO_YI).order_by("code").first()
    houses = good_houses()
    houses[0]["单元网格代码"] = grid.code
    outcome = run(workbook(houses, good_persons()), by=clerk)

    assert outcome.status == ImportStatus.DONE, outcome.errors
    assert (outcome.houses_created, outcome.persons_created, outcome.persons_updated) == (2, 5, 0)
    home = House.objects.get(place_code=QIAO_YI, estate="长清路100弄", building="3", unit="2", room="501")
    assert (home.address, home.kind, home.grid_code) == ("长清路100弄3号2单元501室", "owned", grid.code)
    assert House.objects.get(estate="蒙自路200弄").kind == "public"

    wang = Person.objects.get(id_number=WANG)
    assert (wang.name, wang.gender, wang.birth_date, wang.phone) == (
        "王建国",
        "M",
        dt.date(1958, 3, 12),
        "13912345678",
    )
    assert (wang.name_pinyin, wang.name_initials, wang.place_code) == ("wangjianguo", "wjg", QIAO_YI)
    actual = Household.objects.get(house=home, kind=HouseholdKind.ACTUAL)
    assert (actual.number, actual.place_code) == ("0001", QIAO_YI)
    members = {m.person.name: m for m in actual.memberships.select_related("person")}
    assert {name: m.relation for name, m in members.items()} == {
        "王建国": Relation.HEAD,
        "李秀兰": Relation.SPOUSE,
        "王小明": Relation.CHILD,
        "周强": Relation.NON_RELATIVE,
    }
    assert members["王建国"].joined_on == dt.date(2010, 5, 1) == members["李秀兰"].joined_on
    assert members["周强"].joined_on == timezone.localdate()  # no 迁入日期: today
    registered = Household.objects.get(house=home, kind=HouseholdKind.REGISTERED)
    assert registered.number == "H0001"
    assert sorted(registered.memberships.values_list("person__name", "relation")) == [
        ("李秀兰", Relation.SPOUSE),
        ("王建国", Relation.HEAD),
    ]
    zhou = Person.objects.get(id_number=ZHOU)
    assert (zhou.residence_type, zhou.residence_permit_number, zhou.residence_permit_expiry) == (
        "incoming",
        "JZ3101234567",
        dt.date(2030, 6, 30),
    )
    assert (
        services.separation(wang) == ""
        and services.separation(Person.objects.get(id_number=CHEN)) == "人在户不在"
    )

    # Every row has its history row, made by the importer; one IMPORT row in the change log.
    assert Person.history.filter(history_user=clerk).count() == 5  # type: ignore[attr-defined]
    assert House.history.filter(history_user=clerk).count() == 2  # type: ignore[attr-defined]
    assert Household.history.count() == 3  # type: ignore[attr-defined]
    assert Membership.history.count() == 7  # type: ignore[attr-defined]
    log = ChangeLog.objects.get()
    assert (log.action, log.place_code, log.actor_id) == (ChangeAction.IMPORT, QIAO_YI, clerk.pk)
    assert log.after["file"] == "桥一.xlsx"
    assert (log.after["persons_created"], log.after["houses_created"], log.after["households_created"]) == (
        5,
        2,
        3,
    )


def test_the_persons_sheet_alone_uses_houses_already_registered(clerk):
    run(workbook(good_houses(), None), by=clerk)
    header = [
        "证件号码",
        "姓名",
        "与户主关系",
        "室号",
        "楼号",
        "小区/路弄",
        "单元",
        "备注",
    ]  # any order, extra column
    persons = [
        person(
            "陈静", CHEN, where=house(estate="蒙自路200弄", building="5号", unit="", room="302室"), 备注="x"
        )
    ]
    outcome = run(workbook(None, persons, person_header=header), by=clerk)
    assert outcome.status == ImportStatus.DONE, outcome.errors
    assert Person.objects.get(id_number=CHEN).memberships.get().household.house.estate == "蒙自路200弄"


def test_header_aliases_and_choice_aliases_are_understood(clerk):
    header = ["姓名", "身份证号", "与户主关系", "小区/路弄", "楼号", "室号", "性别", "手机号码"]
    persons = [
        {
            "姓名": "陈静",
            "身份证号": CHEN,
            "与户主关系": "本人",
            **house(unit=""),
            "性别": "女",
            "手机号码": 13600001111,
        }
    ]
    outcome = run(workbook([house(unit="")], persons, person_header=header), by=clerk)
    assert outcome.status == ImportStatus.DONE, outcome.errors
    chen = Person.objects.get(id_number=CHEN)
    assert (chen.phone, chen.memberships.get().relation) == ("13600001111", Relation.HEAD)


# ------------------------------------------------------------------------------ bad rows


BAD_ROWS = [
    # (change to the good file, sheet, row, field, words of the message)
    (
        "wrong checksum",
        {"persons": (0, {"证件号码": WANG[:-1] + ("0" if WANG[-1] != "0" else "1")})},
        "人员",
        2,
        "证件号码",
        "校验位",
    ),
    ("birth date", {"persons": (0, {"出生日期": "1958-03-13"})}, "人员", 2, "出生日期", "不一致"),
    ("gender", {"persons": (1, {"性别": "男"})}, "人员", 3, "性别", "不一致"),
    ("phone", {"persons": (0, {"联系电话": "12345"})}, "人员", 2, "联系电话", "无效"),
    ("permit", {"persons": (4, {"居住证号码": ""})}, "人员", 6, "居住证号码", "居住证号码"),
    ("date", {"persons": (0, {"迁入日期": "2010年13月1日"})}, "人员", 2, "迁入日期", "不是有效的日期"),
    ("future", {"persons": (0, {"迁入日期": "2999-01-01"})}, "人员", 2, "迁入日期", "不能晚于今天"),
    ("before birth", {"persons": (2, {"迁入日期": "1980-01-01"})}, "人员", 4, "迁入日期", "早于出生日期"),
    ("relation", {"persons": (1, {"与户主关系": "老伴儿"})}, "人员", 3, "与户主关系", "无效"),
    ("document type", {"persons": (1, {"证件类型": "驾驶证"})}, "人员", 3, "证件类型", "无效"),
    ("no name", {"persons": (1, {"姓名": ""})}, "人员", 3, "姓名", "姓名"),
    ("no house", {"persons": (3, {"室号": "999"})}, "人员", 5, "小区/路弄", "不在房屋表中"),
    ("no head", {"persons": (0, {"与户主关系": "子女"})}, "人员", 2, "与户主关系", "没有户主"),
    ("house kind", {"houses": (0, {"房屋类型": "别墅"})}, "房屋", 2, "房屋类型", "无效"),
    (
        "committee",
        {"houses": (0, {"居委会代码": QIAO_ER})},
        "房屋",
        2,
        "居委会代码",
        "一次只能导入一个居委会",
    ),
    (
        "grid",
        {"houses": (0, {"单元网格代码": "310101021001001"})},
        "房屋",
        2,
        "单元网格代码",
        "不在该居委会内",
    ),
    ("room", {"houses": (1, {"室号": ""})}, "房屋", 3, "室号", "请填写室号"),
]


@pytest.mark.parametrize(
    ("case", "change", "sheet", "row", "field", "words"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS]
)
def test_each_bad_row_is_reported_with_sheet_row_and_field_and_nothing_is_written(
    clerk, case, change, sheet, row, field, words
):
    houses, persons = good_houses(), good_persons()
    for which, (index, values) in change.items():
        (houses if which == "houses" else persons)[index].update(values)
    before = counts()
    outcome = run(workbook(houses, persons), by=clerk)
    assert outcome.status == ImportStatus.FAILED
    assert words in message(outcome, sheet, row, field)
    assert counts() == before


def test_every_problem_is_reported_at_once(clerk):
    persons = good_persons()
    persons[0]["联系电话"] = "12345"
    persons[3]["证件号码"] = CHEN[:-1] + ("0" if CHEN[-1] != "0" else "1")
    houses = good_houses()
    houses[1]["房屋类型"] = "别墅"
    outcome = run(workbook(houses, persons), by=clerk)
    assert {("房屋", 3, "房屋类型"), ("人员", 2, "联系电话"), ("人员", 5, "证件号码")} <= set(
        errors_of(outcome)
    )
    # A head with a wrong ID number is still the head: no second message that the household has none.
    assert not any("没有户主" in e.message for e in outcome.errors)


def test_two_heads_the_same_document_twice_and_a_house_twice_name_both_rows(clerk):
    houses = [*good_houses(), house()]  # rows 2 and 4 are the same address
    persons = good_persons()
    persons[1]["与户主关系"] = "户主"  # 王建国 and 李秀兰 both head household 0001
    persons.append(
        person("陈静二", CHEN, where=house(estate="蒙自路200弄", building="5", unit="", room="302"))
    )
    outcome = run(workbook(houses, persons), by=clerk)
    assert "重复" in message(outcome, "房屋", 2, "室号") and "第 2、4 行" in message(
        outcome, "房屋", 4, "室号"
    )
    assert "2 名户主" in message(outcome, "人员", 2, "与户主关系")
    assert "2 名户主" in message(outcome, "人员", 3, "与户主关系")
    assert "第 5、7 行" in message(outcome, "人员", 5, "证件号码")
    assert "第 5、7 行" in message(outcome, "人员", 7, "证件号码")
    assert Person.objects.count() == 0


def test_a_person_registered_in_another_household_or_committee_is_refused_naming_where(clerk, personas):
    admin = personas["admin"]
    elsewhere = services.create_house(
        by=admin, place_code=QIAO_YI, estate="瞿溪路1111弄", building="1", room="101"
    )
    services.register_person(
        by=admin,
        data=PersonData(name="王建国", id_number=WANG),
        household=services.create_household(by=admin, kind="actual", house=elsewhere),
    )
    far = services.create_house(by=admin, place_code=JIAN_YI, estate="徐家汇路50弄", building="1", room="101")
    services.register_person(
        by=admin,
        data=PersonData(name="陈静", id_number=CHEN),
        household=services.create_household(by=admin, kind="actual", house=far),
    )
    before = counts()
    outcome = run(workbook(good_houses(), good_persons()), by=clerk)
    same = message(outcome, "人员", 2, "证件号码")
    assert "瞿溪路1111弄1号101室" in same and "王**" in same and "王建国" not in same
    other = message(outcome, "人员", 5, "证件号码")
    assert (
        "建一居委会" in other and "陈*" in other and "徐家汇路" not in other
    )  # no address of another committee
    assert counts() == before


def test_a_household_that_already_has_a_head_cannot_get_a_second_one(clerk, personas):
    admin = personas["admin"]
    home = services.create_house(
        by=admin, place_code=QIAO_YI, estate="长清路100弄", building="3", unit="2", room="501"
    )
    actual = services.create_household(by=admin, kind="actual", house=home, number="0001")
    services.register_person(
        by=admin, data=PersonData(name="赵刚", id_number=rid("19500101", 13)), household=actual
    )
    outcome = run(workbook(None, [person("王建国", WANG, 户号="0001")]), by=clerk)
    assert "已有户主（赵*）" in message(outcome, "人员", 2, "与户主关系")
    outcome = run(workbook(None, [person("王建国", WANG, "子女", 户号="0001")]), by=clerk)
    assert outcome.status == ImportStatus.DONE, outcome.errors
    assert actual.memberships.count() == 2


# ------------------------------------------------------------------------------ bad files


def merge(book):
    book[imports.PERSONS].merge_cells("A5:B5")


def formula(book):
    book[imports.PERSONS]["F3"] = '="139"&"12345678"'


def number_id(book):
    book[imports.PERSONS]["C2"] = 310101195803121000  # what Excel keeps of an 18-digit number


def float_id(book):
    book[imports.PERSONS]["C3"] = 3.10101196008012e17


BAD_FILES = [
    ("merged", merge, "人员", 5, "姓名", "A5:B5 是合并单元格"),
    ("formula", formula, "人员", 3, "联系电话", "单元格 F3 含有公式"),
    ("number id", number_id, "人员", 2, "证件号码", "15 位有效数字"),
    ("float id", float_id, "人员", 3, "证件号码", "15 位有效数字"),
]


@pytest.mark.parametrize(
    ("case", "edit", "sheet", "row", "field", "words"), BAD_FILES, ids=[c[0] for c in BAD_FILES]
)
def test_merged_cells_formulas_and_numbers_that_lost_digits_name_the_cell(
    clerk, case, edit, sheet, row, field, words
):
    before = counts()
    outcome = run(workbook(good_houses(), good_persons(), edit=edit), by=clerk)
    assert outcome.status == ImportStatus.FAILED
    assert words in message(outcome, sheet, row, field)
    assert counts() == before


def test_a_wrong_header_names_the_missing_and_the_expected_columns(clerk):
    header = [c for c in PERSON_HEADER if c != "证件号码"]
    outcome = run(workbook(good_houses(), good_persons(), person_header=header), by=clerk)
    text = message(outcome, "人员", 1, "")
    assert "缺少必需的列：证件号码" in text and "姓名、证件类型、证件号码" in text
    assert Person.objects.count() == House.objects.count() == 0


def test_a_repeated_header_column_is_reported(clerk):
    header = [*PERSON_HEADER, "身份证号"]
    outcome = run(workbook(None, good_persons(), person_header=header), by=clerk)
    assert "出现了两次" in message(outcome, "人员", 1, "证件号码")


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("桥一.xlsx", b"this is not a workbook", "无法读取文件"),
        ("桥一.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "另存为"),
        ("桥一.csv", "名字,号码\r\n张三,1\r\n".encode(), "无法从表头识别"),
        ("桥一.csv", b"\xff\xfe\x00\x00\x81", "编码"),
    ],
)
def test_an_unreadable_file_is_a_file_level_problem(clerk, name, data, words):
    outcome = run(data, name, by=clerk)
    assert outcome.status == ImportStatus.FAILED
    assert any(words in e.message for e in outcome.errors), outcome.errors


def test_a_workbook_without_our_sheets_or_without_rows(clerk):
    def rename(book):
        book[imports.PERSONS].title = "Sheet9"
        book.create_sheet("Sheet1").append(["随便", "什么"])

    run(workbook(good_houses(), None), by=clerk)
    outcome = run(workbook(None, good_persons(), edit=rename), by=clerk)
    assert outcome.status == ImportStatus.DONE, outcome.errors  # recognised from its header
    outcome = run(workbook([], None), by=clerk)
    assert "没有数据行" in outcome.errors[0].message

    def only_other(book):
        book[imports.HOUSES].title = "统计"

    outcome = run(workbook([house()], None, house_header=["甲", "乙"], edit=only_other), by=clerk)
    assert "工作簿中没有“房屋”或“人员”工作表（现有：统计）" in outcome.errors[0].message


def test_too_many_rows(clerk, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    outcome = run(workbook(good_houses(), good_persons()), by=clerk)
    assert outcome.status == ImportStatus.FAILED
    assert "超过 3 行" in outcome.errors[0].message
    assert Person.objects.count() == 0


def test_the_template_example_rows_are_refused(clerk):
    outcome = run(imports.template_workbook(), "模板.xlsx", by=clerk)
    assert "示例行" in message(outcome, "房屋", 2, "小区/路弄")
    assert "示例行" in message(outcome, "人员", 2, "证件号码")


def test_nothing_outside_the_chosen_committee(clerk):
    outcome = run(workbook(good_houses(), good_persons()), by=clerk, place_code="310101020")  # a street
    assert "不存在" in outcome.errors[0].message
    assert House.objects.count() == 0


# ------------------------------------------------------------------------------ only the valid rows


def test_only_valid_rows_skips_a_failing_household_whole_and_people_of_a_failing_house(clerk):
    houses = good_houses()
    houses[1]["房屋类型"] = "别墅"  # 蒙自路200弄5号302室 fails, and so does 陈静 who lives there
    persons = good_persons()
    persons[1]["联系电话"] = "12345"  # 李秀兰 fails, and her household 0001 with her
    persons.append(person("孙丽", rid("19700303", 682), where=house(room="502")))
    houses.append(house(room="502"))
    outcome = run(workbook(houses, persons), by=clerk, only_valid=True)

    assert outcome.status == ImportStatus.DONE
    assert (outcome.houses_created, outcome.persons_created) == (2, 1)
    assert list(Person.objects.values_list("name", flat=True)) == ["孙丽"]
    assert "所住房屋在房屋表第 3 行有错误" in message(outcome, "人员", 5, "小区/路弄")
    for row in (2, 4, 6):
        assert "同户的第 3 行有错误，本户整户未导入" in message(outcome, "人员", row, "")
    assert "别墅" in message(outcome, "房屋", 3, "房屋类型")
    assert ChangeLog.objects.get().after["rows_with_errors"] == 6


def test_only_valid_rows_with_nothing_valid_is_a_failure(clerk):
    persons = [person("陈静", "123", where=house())]
    outcome = run(workbook([house()], persons), by=clerk, only_valid=True)
    assert outcome.status == ImportStatus.DONE  # the house is valid and is written
    assert House.objects.count() == 1
    outcome = run(workbook(None, persons), by=clerk, only_valid=True)
    assert outcome.status == ImportStatus.FAILED


# ------------------------------------------------------------------------------ re-import


def test_importing_the_same_file_again_creates_nothing_and_a_changed_row_updates(clerk, personas):
    data = workbook(good_houses(), good_persons())
    run(data, by=clerk)
    before = counts()
    again = run(data, by=clerk)
    assert again.status == ImportStatus.DONE, again.errors
    assert (again.houses_created, again.persons_created, again.persons_updated) == (0, 0, 0)
    assert counts() == before  # not even a change-log row: nothing changed

    persons = good_persons()
    persons[0]["联系电话"] = "13700000000"  # 王建国's new phone
    persons[3]["姓名"] = "陈晶"  # a corrected name
    persons[2]["户籍户号"] = "H0001"  # 王小明 joins the registered household
    houses = good_houses()
    houses[1]["房屋类型"] = "租赁住房"
    # The name is an identity field: the committee worker's import may not correct it (the
    # street approves such changes); the street's centre manager's may.
    refused = run(workbook(houses, persons), by=clerk)
    assert refused.status == ImportStatus.FAILED
    assert errors_of(refused) == [(imports.PERSONS, 5, "姓名")]
    assert "街道审核" in message(refused, imports.PERSONS, 5, "姓名")
    assert counts() == before
    changed = run(workbook(houses, persons), by=personas["manager"])
    assert (changed.houses_created, changed.persons_created, changed.persons_updated) == (0, 0, 3)
    wang = Person.objects.get(id_number=WANG)
    assert (wang.phone, wang.version) == ("13700000000", 2)
    assert wang.history.count() == 2  # type: ignore[attr-defined]
    assert wang.history.first().phone == "13700000000"  # type: ignore[attr-defined]
    assert Person.objects.get(id_number=CHEN).name_initials == "cj"
    assert House.objects.get(estate="蒙自路200弄").kind == "rented"
    assert Membership.objects.filter(person__id_number=WANG_XIAO, kind="registered").exists()
    assert Person.objects.count() == before["persons"]
    assert ChangeLog.objects.filter(action=ChangeAction.IMPORT).count() == 2


def test_a_new_head_replaces_the_old_one_on_reimport(clerk):
    run(workbook(good_houses(), good_persons()), by=clerk)
    persons = good_persons()
    persons[0]["与户主关系"], persons[1]["与户主关系"] = "配偶", "户主"
    outcome = run(workbook(good_houses(), persons), by=clerk)
    assert outcome.status == ImportStatus.DONE, outcome.errors
    household = Household.objects.get(kind="actual", number="0001")
    head = household.memberships.get(relation=Relation.HEAD, left_on__isnull=True)
    assert head.person.id_number == LI
    assert outcome.persons_updated == 2


# ------------------------------------------------------------------------------ CSV


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_files_in_utf8_with_or_without_bom_and_gb18030(clerk, encoding):
    houses = csv_bytes(HOUSE_HEADER, good_houses(), encoding)
    outcome = run(houses, "房屋.csv", by=clerk)
    assert (outcome.status, outcome.houses_created) == (ImportStatus.DONE, 2), outcome.errors
    persons = csv_bytes(PERSON_HEADER, good_persons(), encoding)
    outcome = run(persons, "人员.csv", by=clerk)
    assert (outcome.status, outcome.persons_created) == (ImportStatus.DONE, 5), outcome.errors
    assert Person.objects.get(id_number=LI).name == "李秀兰"


def test_a_csv_row_with_a_bad_value_names_the_recognised_sheet(clerk):
    persons = good_persons()
    persons[2]["出生日期"] = "1988-01-06"
    outcome = run(csv_bytes(PERSON_HEADER, persons, "gb18030"), "人员.csv", by=clerk)
    assert "不一致" in message(outcome, "人员", 4, "出生日期")


def test_an_id_in_scientific_notation_from_a_csv_is_reported(clerk):
    persons = good_persons()[:1]
    persons[0]["证件号码"] = "3.10101E+17"
    outcome = run(csv_bytes(PERSON_HEADER, persons), "人员.csv", by=clerk)
    assert "15 位有效数字" in message(outcome, "人员", 2, "证件号码")


# ------------------------------------------------------------------------------ the pages


def post(client, data: bytes, name: str = "桥一.xlsx", **fields: Any):
    upload = SimpleUploadedFile(name, data)
    payload = {"committee": QIAO_YI, "file": upload, "idempotency_key": fields.pop("key", "k" * 32), **fields}
    return client.post(reverse("people:import"), payload)


def test_upload_page_small_file_runs_at_once_and_shows_the_counts(client_as):
    client = client_as("committee")
    page = client.get(reverse("people:import")).content.decode()
    assert "桥一居委会" in page and 'type="file"' in page and "只导入无误的行" in page
    response = post(client, workbook(good_houses(), good_persons()))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "people:import_job", args=[job.token]
    )
    assert (job.status, job.persons_created, job.houses_created, job.total_rows) == (
        ImportStatus.DONE,
        5,
        2,
        7,
    )
    assert not job.file  # done without errors: the uploaded personal data is not kept
    page = client.get(response["Location"]).content.decode()
    assert "导入完成" in page and "新增人员" in page
    status = client.get(reverse("people:import_status", args=[job.token])).json()
    assert status["status"] == "done" and status["finished"] and status["percent"] == 100
    assert "桥一.xlsx" in client.get(reverse("people:import")).content.decode()  # in the recent jobs


def test_a_double_submit_imports_once(client_as):
    client = client_as("committee")
    data = workbook(good_houses(), good_persons())
    first = post(client, data, key="same-key-123456")
    second = post(client, data, key="same-key-123456")
    assert first["Location"] == second["Location"]
    assert ImportJob.objects.count() == 1 and Person.objects.count() == 5


def test_a_failed_upload_shows_the_errors_and_offers_the_report(client_as):
    client = client_as("committee")
    persons = good_persons()
    persons[0]["证件号码"] = WANG[:-1] + ("0" if WANG[-1] != "0" else "1")
    response = post(client, workbook(good_houses(), persons))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.errors and job.file
    page = client.get(response["Location"]).content.decode()
    assert "未导入任何数据" in page and "校验位" in page and "第 2 行" in page and "证件号码" in page
    assert reverse("people:import_errors", args=[job.token]) in page
    assert Person.objects.count() == 0


def test_the_error_report_is_the_users_workbook_with_the_errors_marked(client_as, personas):
    client = client_as("committee")
    persons = good_persons()
    persons[1]["联系电话"] = "12345"
    houses = good_houses()
    houses[1]["房屋类型"] = "别墅"
    post(client, workbook(houses, persons, edit=merge))
    job = ImportJob.objects.get()
    response = client.get(reverse("people:import_errors", args=[job.token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["错误汇总", "房屋", "人员"]
    sheet = book["人员"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "错误说明" and header[: len(PERSON_HEADER)] == PERSON_HEADER
    notes = header.index("错误说明") + 1
    assert (
        "联系电话" in sheet.cell(row=3, column=notes).value
        and "12345" in sheet.cell(row=3, column=notes).value
    )
    assert sheet["F3"].fill.fgColor.rgb.endswith("FFC7CE")  # the phone cell
    assert sheet["A3"].fill.fgColor.rgb in (None, "00000000")  # the name cell is fine
    assert sheet["C2"].value == WANG  # the user's own data, kept as it was
    assert "合并单元格" in sheet.cell(row=5, column=notes).value
    assert "房屋类型" in book["房屋"].cell(row=3, column=len(HOUSE_HEADER) + 1).value
    summary = [[c.value for c in row] for row in book["错误汇总"].iter_rows(min_row=3)]
    assert len(summary) == len(job.errors)
    assert ["人员", 3, "联系电话"] in [row[:3] for row in summary]
    log = AccessLog.objects.get(subject_type="people.importjob")
    assert (log.action, log.actor_id, log.place_code) == (
        AccessAction.EXPORT,
        personas["committee"].pk,
        QIAO_YI,
    )

    # Fixed in the report itself, the same file imports.
    sheet["F3"] = ""
    book["房屋"]["F3"] = "公有住房"
    sheet.unmerge_cells("A5:B5")
    sheet["A5"], sheet["B5"] = "陈静", ""
    out = io.BytesIO()
    book.save(out)
    response = post(client, out.getvalue(), "桥一-错误报告.xlsx", key="second-key-123")
    job = ImportJob.objects.get(filename="桥一-错误报告.xlsx")
    assert job.status == ImportStatus.DONE, job.errors
    assert Person.objects.count() == 5


def test_the_error_report_of_a_csv_is_a_workbook_of_its_rows(client_as):
    client = client_as("committee")
    persons = good_persons()
    persons[0]["证件号码"] = "310101"
    post(client, csv_bytes(PERSON_HEADER, persons, "gb18030"), "人员.csv")
    job = ImportJob.objects.get()
    book = load_workbook(io.BytesIO(client.get(reverse("people:import_errors", args=[job.token])).content))
    assert book.sheetnames == ["错误汇总", "人员"]
    assert book["人员"]["A2"].value == "王建国" and book["人员"]["C2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert "18 位" in book["人员"].cell(row=2, column=len(PERSON_HEADER) + 1).value


def test_the_template_has_both_sheets_an_example_and_instructions(client_as):
    response = client_as("committee").get(reverse("people:import_template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["房屋", "人员", "填表说明"]
    assert [c.value for c in book["房屋"][1]] == HOUSE_HEADER
    assert [c.value for c in book["人员"][1]] == PERSON_HEADER
    assert book["人员"]["C2"].value == imports.EXAMPLE_ID and book["人员"]["C3"].number_format == "@"
    notes = " ".join(str(c.value) for row in book["填表说明"].iter_rows() for c in row if c.value)
    assert "户主" in notes and "证件号码" in notes


# ------------------------------------------------------------------------------ queued jobs


def test_a_large_file_is_queued_and_run_by_the_worker_with_progress(client_as, personas, monkeypatch):
    monkeypatch.setattr(imports, "IN_REQUEST_ROWS", 3)
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    seen: list[int] = []
    original = imports.save_progress

    def spy(job_pk, done, now):
        seen.append(done)
        original(job_pk, done, now)

    monkeypatch.setattr(imports, "save_progress", spy)
    client = client_as("committee")
    response = post(client, workbook(good_houses(), good_persons()), only_valid="on")
    job = ImportJob.objects.get()
    assert (job.status, job.total_rows, job.persons_created) == (ImportStatus.QUEUED, 7, 0)
    assert job.file and imports.job_only_valid(job)
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-progress"' in page and "排队中" in page
    assert Person.objects.count() == 0

    assert imports.run_queued_imports() == 1
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.persons_created, job.houses_created) == (
        ImportStatus.DONE,
        7,
        5,
        2,
    )
    assert seen and seen == sorted(seen) and seen[-1] <= 7
    assert Person.history.filter(history_user=personas["committee"]).count() == 5  # type: ignore[attr-defined]
    assert imports.run_queued_imports() == 0  # nothing left
    status = client.get(reverse("people:import_status", args=[job.token])).json()
    assert status["finished"] and status["status"] == "done"


def test_a_job_stuck_running_after_a_crash_is_queued_again(personas):
    job = imports.start_job(
        by=personas["committee"],
        place_code=QIAO_YI,
        filename="桥一.xlsx",
        data=workbook(good_houses(), good_persons()),
        only_valid=False,
    )
    assert job.status == ImportStatus.DONE
    crashed = ImportJob.objects.create(
        created_by=personas["committee"],
        place_code=QIAO_YI,
        filename="桥一.xlsx",
        status=ImportStatus.RUNNING,
    )
    crashed.file.save("import-all.xlsx", io.BytesIO(workbook(good_houses(), good_persons())))
    ImportJob.objects.filter(pk=crashed.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    assert imports.run_queued_imports() == 1
    crashed.refresh_from_db()
    # Already imported by the first job: a re-run changes nothing and says so.
    assert (crashed.status, crashed.persons_created, crashed.persons_updated) == (ImportStatus.DONE, 0, 0)


def test_a_fresh_running_job_is_left_alone(personas):
    job = ImportJob.objects.create(
        created_by=personas["committee"], place_code=QIAO_YI, filename="x.xlsx", status=ImportStatus.RUNNING
    )
    job.file.save("import-all.xlsx", io.BytesIO(b"x"))
    assert imports.run_queued_imports() == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING


# ------------------------------------------------------------------------------ who


@pytest.fixture
def other_worker(demo) -> User:
    user = User.objects.create_user(username="qiaoer", password="x")
    RoleAssignment.objects.create(user=user, role="committee_worker", place=Place.objects.get(code=QIAO_ER))
    return user


def test_jobs_are_seen_by_their_creator_and_the_street_but_not_another_committee(
    client, client_as, other_worker
):
    post(client_as("committee"), workbook(good_houses(), [{**good_persons()[0], "联系电话": "1"}]))
    job = ImportJob.objects.get()
    urls = [
        reverse("people:import_job", args=[job.token]),
        reverse("people:import_status", args=[job.token]),
        reverse("people:import_errors", args=[job.token]),
    ]
    for url in urls:
        assert client_as("manager").get(url).status_code == 200  # the street's centre manager
    client.force_login(other_worker)
    for url in urls:
        assert client.get(url).status_code == 404
    assert "桥一.xlsx" not in client.get(reverse("people:import")).content.decode()
    for url in [*urls, reverse("people:import"), reverse("people:import_template")]:
        assert client_as("inspector").get(url).status_code == 403
        assert client_as("frontdesk").get(url).status_code == 403  # reads residents, does not add them


def test_a_street_user_chooses_a_committee_of_their_street(client_as):
    client = client_as("manager")
    page = client.get(reverse("people:import")).content.decode()
    assert "桥一居委会" in page and "桥二居委会" in page and "建一居委会" not in page
    response = post(client, workbook(good_houses(), good_persons()), committee=JIAN_YI)
    assert response.status_code == 400 and "不在您的辖区内" in response.content.decode()
    response = post(client, workbook(good_houses(), good_persons()), committee=QIAO_ER)
    assert ImportJob.objects.get().place_code == QIAO_ER
    assert House.objects.filter(place_code=QIAO_ER).count() == 2


def test_a_committee_worker_cannot_import_for_another_committee(client_as):
    response = post(client_as("committee"), workbook(good_houses(), good_persons()), committee=QIAO_ER)
    assert response.status_code == 400
    assert ImportJob.objects.count() == 0


def test_a_wrong_file_type_is_refused_by_the_form(client_as):
    response = post(client_as("committee"), b"whatever", "桥一.pdf")
    assert response.status_code == 400 and ".xlsx 或 .csv" in response.content.decode()


# ------------------------------------------------------------------------------ PostgreSQL: workers


@pytest.fixture
def _postgres_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (a second connection, SELECT … FOR UPDATE SKIP LOCKED)")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_outside_the_import_transaction(_postgres_only, personas, monkeypatch):
    """While the worker writes inside its one transaction, another connection (the job page)
    sees processed_rows move."""
    from django.db import connections

    monkeypatch.setattr(imports, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(imports, "CHUNK", 2)
    job = ImportJob.objects.create(
        created_by=personas["committee"], place_code=QIAO_YI, filename="桥一.xlsx", total_rows=7
    )
    job.file.save("import-all.xlsx", io.BytesIO(workbook(good_houses(), good_persons())))
    observer = connections.create_connection("default")
    seen: list[tuple[bool, int]] = []
    original = imports.Progress.save

    def watched(self, done):
        original(self, done)
        with observer.cursor() as cursor:
            cursor.execute("SELECT processed_rows FROM people_importjob WHERE id = %s", [job.pk])
            seen.append((Person.objects.exists(), cursor.fetchone()[0]))

    monkeypatch.setattr(imports.Progress, "save", watched)
    try:
        assert imports.run_queued_imports() == 1
    finally:
        observer.close()
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Person.objects.count() == 5
    during_write = [value for inside, value in seen if inside]  # persons written, not committed yet
    before_persons = [value for inside, value in seen if not inside]
    assert during_write and before_persons and max(during_write) > max(before_persons)
    assert [value for _inside, value in seen] == sorted(value for _inside, value in seen)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_job(_postgres_only, personas):
    import threading

    from django.db import connection, transaction

    first, second = (
        ImportJob.objects.create(created_by=personas["committee"], place_code=QIAO_YI, filename=f"{n}.xlsx")
        for n in (1, 2)
    )
    claimed: list[Any] = []

    def other_worker() -> None:
        try:
            claimed.append(imports._claim())
        finally:
            connection.close()

    with transaction.atomic():
        ImportJob.objects.select_for_update().get(pk=first.pk)  # a worker busy claiming the first
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=20)
    assert [job.pk for job in claimed] == [second.pk]
    assert ImportJob.objects.get(pk=second.pk).status == ImportStatus.RUNNING
    assert ImportJob.objects.get(pk=first.pk).status == ImportStatus.QUEUED


def test_a_queued_job_whose_uploader_lost_the_role_is_not_run(personas, monkeypatch):
    monkeypatch.setattr(imports, "IN_REQUEST_ROWS", 1)
    clerk = personas["committee"]
    job = imports.start_job(
        by=clerk,
        place_code=QIAO_YI,
        filename="桥一.xlsx",
        data=workbook(good_houses(), good_persons()),
        only_valid=False,
    )
    assert job.status == ImportStatus.QUEUED
    RoleAssignment.objects.filter(user=clerk).update(revoked_at=timezone.now())
    assert imports.run_queued_imports() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "权限" in job.errors[0][3]
    assert Person.objects.count() == 0


def test_an_empty_sheet_is_as_if_absent(clerk):
    def empty_persons(book):
        sheet = book[imports.PERSONS]
        sheet.delete_rows(1, sheet.max_row)

    outcome = run(workbook(good_houses(), [], edit=empty_persons), by=clerk)
    assert (outcome.status, outcome.houses_created) == (ImportStatus.DONE, 2), outcome.errors
