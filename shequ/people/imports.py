"""Import of a committee's sheet (房屋 and 人员) into the resident database.

The file is shaped as committees keep it: an .xlsx with a sheet 房屋 (houses) and a sheet 人员
(persons with their house, household number and relation to the head), either may be absent; or
a CSV holding one of the two, recognised from its header. The header is on row 1, in any column
order, with the Chinese names of the template (or common aliases); other columns are ignored.

Flow: read the file in one pass (formulas, merged cells and numbers that lost digits are
reported with their cell) → check every row in Python, the rows that exist already loaded in
chunks (the committee's houses and households at once, persons by `id_number__in`) → write
everything in ONE transaction with bulk inserts and their history rows (COPY on PostgreSQL,
`bulk_create` elsewhere), and one IMPORT row in the change log for the whole job.

All or nothing unless `only_valid`: then the valid rows are written and the others reported (a
person whose house row failed fails too; a household with a failing member is skipped whole).

Re-importing the same sheet is idempotent: a person already in the same actual household of the
same house is updated where the row differs (and counted), never duplicated.

Errors are `Problem(sheet, row, field, message)` as the user sees them: the sheet's name, the row
number in the sheet (the header is row 1; row 0 is the file as a whole), the column's name.

Small files run in the request; larger ones are stored and queued for the background worker
(`run_queued_imports`), which reports its progress in `ImportJob.processed_rows`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet._reader import WorkSheetParser
from simple_history.utils import bulk_update_with_history

from shequ.accounts.scoping import ADD, jurisdiction, scope_rule
from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change
from shequ.core.idnumbers import make_resident_id
from shequ.core.masking import mask_id_number, mask_name
from shequ.core.xlsx import new_workbook, to_bytes, write_sheet
from shequ.places.models import Place

from .changes import may_approve, policy_for, street_of
from .choices import (
    FIELD_GROUPS,
    DocumentType,
    Gender,
    HouseholdKind,
    HouseKind,
    ImportStatus,
    PersonStatus,
    Relation,
    ResidenceType,
)
from .models import House, Household, ImportJob, Membership, Person, compose_address
from .services import EDITABLE_FIELDS, PersonData, clean_person, pinyin_keys

log = logging.getLogger("shequ.people.imports")

# Sheet names are part of the file format (what committees type), not interface text.
HOUSES = "房屋"
PERSONS = "人员"
NOTES_SHEET = "填表说明"
SUMMARY_SHEET = "错误汇总"
ERROR_COLUMN = "错误说明"
FILE_ROW = 0  # a problem of the file as a whole

MAX_ROWS = 100_000  # data rows per file
MAX_BYTES = 30 * 1024 * 1024
IN_REQUEST_ROWS = 2_000  # larger files go to the background worker
CHUNK = 4_000  # `id_number__in` chunks, and persons written per step
BATCH = 2_000  # rows per INSERT
PROGRESS_EVERY = 2_000  # rows between two progress updates
STALE_AFTER = dt.timedelta(minutes=15)  # a RUNNING job without progress this long has crashed
KEEP_FILES = dt.timedelta(days=30)  # uploaded files (personal data) are deleted after this
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number
MAX_ERRORS_SHOWN = 200
ONLY_VALID_MARK = "only-valid"  # in the stored file's name: the job imports only the valid rows

ERROR_FILL = PatternFill(fill_type="solid", start_color="FFC7CE", end_color="FFC7CE")
ERROR_FONT = Font(color="9C0006")

# The template's example rows: imported unchanged they are refused, not registered.
EXAMPLE_ESTATE = "示例路100弄"
EXAMPLE_ID = make_resident_id("310101", dt.date(1980, 5, 12), 31)


class Problem(NamedTuple):
    sheet: str  # the sheet's name in the file ("" for the file as a whole)
    row: int  # as the user sees it: the header is row 1 (0: the file or sheet as a whole)
    field: str  # the column's name ("证件号码"), "" for the row as a whole
    message: str


# ------------------------------------------------------------------------------ columns


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header in the template (file format: Chinese, not translated)
    required: bool = False  # must be in the header
    aliases: tuple[str, ...] = ()
    note: Any = ""  # for the 填表说明 sheet
    text: bool = False  # the template formats the column as text (numbers keep their digits)
    width: int = 12
    in_template: bool = True  # accepted when present; the template leaves it out


HOUSE_COLUMNS: tuple[Column, ...] = (
    Column(
        "place_code",
        "居委会代码",
        aliases=("居委代码", "居委会编码", "社区代码", "居村委代码"),
        note=gettext_lazy("12 位居委会代码；留空即为导入时选择的居委会。一次只能导入一个居委会。"),
        text=True,
        width=15,
    ),
    Column(
        "estate",
        "小区/路弄",
        True,
        ("小区", "路弄", "小区名称", "小区路弄", "小区或路弄", "街路巷", "小区/路弄名称"),
        gettext_lazy("小区名或路名加弄号，如“长清路100弄”。"),
        width=18,
    ),
    Column("building", "楼号", True, ("楼栋号", "楼栋", "幢号", "号"), gettext_lazy("如“3”，不必写“号”。")),
    Column("unit", "单元", False, ("单元号",), gettext_lazy("没有单元的留空。")),
    Column("room", "室号", True, ("室", "房号", "房间号"), gettext_lazy("如“501”，不必写“室”。")),
    Column(
        "kind",
        "房屋类型",
        False,
        ("房屋性质",),
        gettext_lazy(
            "自有住房、租赁住房、公有住房或集体宿舍；新房屋留空为自有住房，已登记的房屋留空则不变。"
        ),
    ),
    Column(
        "grid_code",
        "单元网格代码",
        False,
        ("网格代码", "所在单元网格", "单元网格", "网格编码"),
        gettext_lazy("15 位单元网格代码，须在本居委会内；可留空。"),
        text=True,
        width=18,
    ),
)

PERSON_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True, ("人员姓名",), gettext_lazy("必填。")),
    Column(
        "id_type",
        "证件类型",
        False,
        (),
        gettext_lazy(
            "居民身份证、护照、港澳居民来往内地通行证、台湾居民来往大陆通行证或外国人永久居留身份证；留空为居民身份证。"
        ),
        width=14,
    ),
    Column(
        "id_number",
        "证件号码",
        True,
        ("身份证号", "身份证号码", "公民身份号码", "证件号", "身份证"),
        gettext_lazy("必填。请把此列设为“文本”格式：以数字保存的 18 位号码会丢失后几位。"),
        text=True,
        width=22,
    ),
    Column(
        "gender",
        "性别",
        False,
        (),
        gettext_lazy("男或女；居民身份证可留空（由号码得出），填写则与号码核对。"),
    ),
    Column(
        "birth_date",
        "出生日期",
        False,
        ("出生年月日", "生日"),
        gettext_lazy("如 1980-05-12；居民身份证可留空（由号码得出），填写则与号码核对。"),
    ),
    Column(
        "phone",
        "联系电话",
        False,
        ("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码"),
        gettext_lazy("11 位手机号码或带区号的固定电话。"),
        text=True,
        width=14,
    ),
    Column(
        "residence_type",
        "人口类型",
        False,
        ("人员类型", "户口类型", "人口类别"),
        gettext_lazy("户籍人口、来沪人员或境外人员；留空为户籍人口。"),
    ),
    Column(
        "residence_permit_number",
        "居住证号码",
        False,
        ("居住证号",),
        gettext_lazy("来沪人员必填。"),
        text=True,
        width=16,
    ),
    Column(
        "residence_permit_expiry",
        "居住证有效期至",
        False,
        ("居住证有效期", "居住证到期日期", "居住证到期日", "居住证有效期限"),
        gettext_lazy("来沪人员必填，如 2027-06-30。"),
        width=14,
    ),
    Column(
        "registered_address",
        "户籍地址",
        False,
        ("户籍地", "户口所在地", "户籍所在地"),
        gettext_lazy("户籍不在本居委会户籍户中时填写。"),
        width=24,
    ),
    Column(
        "place_code",
        "居委会代码",
        False,
        ("居委代码", "居委会编码", "社区代码", "居村委代码"),
        gettext_lazy("可留空：即导入时选择的居委会。"),
        text=True,
        width=15,
        in_template=False,
    ),
    Column(
        "estate",
        "小区/路弄",
        True,
        ("小区", "路弄", "小区名称", "小区路弄", "小区或路弄", "街路巷", "小区/路弄名称"),
        gettext_lazy("实际居住的房屋：须在房屋表中或已在本居委会登记。"),
        width=18,
    ),
    Column(
        "building", "楼号", True, ("楼栋号", "楼栋", "幢号", "号"), gettext_lazy("实际居住的房屋的楼号。")
    ),
    Column("unit", "单元", False, ("单元号",), gettext_lazy("实际居住的房屋的单元，没有的留空。")),
    Column("room", "室号", True, ("室", "房号", "房间号"), gettext_lazy("实际居住的房屋的室号。")),
    Column(
        "number",
        "户号",
        False,
        ("实住户号", "户编号"),
        gettext_lazy("同一房屋中户号相同的人为同一实住户；一套房屋只住一户的可留空。"),
        text=True,
    ),
    Column(
        "relation",
        "与户主关系",
        True,
        ("关系", "与户主的关系", "家庭关系"),
        gettext_lazy(
            "户主、配偶、子女、父母、孙子女、祖父母/外祖父母、兄弟姐妹、儿媳/女婿、其他亲属或非亲属；每户有且只有一名户主。"
        ),
        width=14,
    ),
    Column(
        "joined_on",
        "迁入日期",
        False,
        ("入住日期", "迁入时间", "入户日期"),
        gettext_lazy("如 2015-03-01；留空为导入当天。"),
    ),
    Column(
        "registered_number",
        "户籍户号",
        False,
        ("户口户号", "户籍户编号"),
        gettext_lazy("户籍也在本房屋时填写户籍户（户口簿）的户号；可留空。"),
        text=True,
    ),
)

SPECS: dict[str, tuple[Column, ...]] = {HOUSES: HOUSE_COLUMNS, PERSONS: PERSON_COLUMNS}
SHEET_NAMES: dict[str, tuple[str, ...]] = {
    HOUSES: (HOUSES, "房屋信息", "房屋表", "房屋清单"),
    PERSONS: (PERSONS, "人员信息", "人员表", "人口", "人口信息", "人员清单"),
}
MAX_LENGTHS = {
    "estate": 100,
    "building": 20,
    "unit": 10,
    "room": 20,
    "number": 30,
    "registered_number": 30,
    "registered_address": 200,
    "residence_permit_number": 30,
}


def _label(sheet_kind: str, key: str) -> str:
    for column in SPECS[sheet_kind]:
        if column.key == key:
            return column.label
    return ""


def _header_name(value: Any) -> str:
    """A header cell as a lookup key: no spaces or asterisks, no trailing note in brackets
    ("证件号码（必填）" → "证件号码")."""
    text = _text(value).replace("（", "(").replace("）", ")")
    text = re.sub(r"[\s*＊]", "", text)
    text = re.sub(r"\([^)]*\)$", "", text)
    return text.replace("／", "/")


def _header_lookup(sheet_kind: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for column in SPECS[sheet_kind]:
        for name in (*column.aliases, column.label):
            lookup[_header_name(name)] = column.key
    return lookup


def map_header(sheet_kind: str, title: str, cells: Sequence[Any]) -> tuple[dict[str, int], list[Problem]]:
    """{column key: 0-based index} of a header row, and its problems (missing or repeated
    columns name the expected ones)."""
    lookup = _header_lookup(sheet_kind)
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, raw in enumerate(cells):
        key = lookup.get(_header_name(raw))
        if key is None:
            continue
        if key in columns:
            problems.append(
                Problem(
                    title,
                    1,
                    _label(sheet_kind, key),
                    _("表头中“%(column)s”列出现了两次（第 %(first)s 列和第 %(second)s 列），请删去一列。")
                    % {
                        "column": _label(sheet_kind, key),
                        "first": get_column_letter(columns[key] + 1),
                        "second": get_column_letter(index + 1),
                    },
                )
            )
        else:
            columns[key] = index
    missing = [c.label for c in SPECS[sheet_kind] if c.required and c.key not in columns]
    if missing:
        problems.append(
            Problem(
                title,
                1,
                "",
                _(
                    "%(sheet)s表的表头缺少必需的列：%(missing)s。第 1 行应为表头，列名为：%(expected)s（顺序不限，可缺少非必需的列）。"
                )
                % {
                    "sheet": title,
                    "missing": "、".join(missing),
                    "expected": "、".join(c.label for c in SPECS[sheet_kind] if c.in_template),
                },
            )
        )
    return columns, problems


def guess_kind(cells: Sequence[Any]) -> str | None:
    """Which sheet a header row belongs to: persons have a name and a document number, houses
    an estate and a room but no name."""
    persons = {_header_lookup(PERSONS).get(_header_name(c)) for c in cells}
    if {"name", "id_number"} <= persons:
        return PERSONS
    houses = {_header_lookup(HOUSES).get(_header_name(c)) for c in cells}
    if {"estate", "room"} <= houses:
        return HOUSES
    return None


# ------------------------------------------------------------------------------ values


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"), None)


_ODD_SPACE = re.compile("[\u00a0\u3000\u200b\u200c\u200d\ufeff]")


def _text(value: Any) -> str:
    """A cell as text: numbers without a trailing .0, dates as YYYY-MM-DD, spaces trimmed
    (also the no-break, ideographic and zero-width ones that pasted text brings)."""
    if type(value) is str:
        if _ODD_SPACE.search(value):
            value = value.translate(_INVISIBLE).replace("\u00a0", " ").replace("\u3000", " ")
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text(str(value))


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[Ee]\+?\d+$")


def parse_date(value: Any) -> dt.date | None:
    """A real Excel date, or text YYYY-MM-DD / YYYY/MM/DD / YYYYMMDD; None when empty.
    Raises ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 10_000_000 <= value <= 99_991_231:
            return dt.datetime.strptime(str(int(value)), "%Y%m%d").date()
        if 0 < value < 2_958_466:  # an Excel serial date in a cell formatted as a number
            day = from_excel(value)
            return day.date() if isinstance(day, dt.datetime) else day
        raise ValueError(value)
    text = _text(value)
    if not text:
        return None
    text = text.split(" ")[0].split("T")[0]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _document_text(value: Any) -> tuple[str, str | None]:
    """(the document number as text, a problem) — a number Excel stored as a number has lost
    its digits beyond the 15th, and its leading zeros."""
    if type(value) is str:
        text = _text(value)
        return text, (_lost_digits(text) if SCIENTIFIC.match(text) else None)
    if isinstance(value, float) and not value.is_integer():
        return str(value), _lost_digits(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = str(int(value))
        return digits, (_lost_digits(digits) if len(digits) > EXCEL_DIGITS else None)
    return _text(value), None


def _lost_digits(value: Any) -> str:
    """(The number is shown masked: the job page is no place for document numbers.)"""
    return _(
        "证件号码“%(value)s”是以数字格式保存的：Excel 只保留 15 位有效数字，后几位已经丢失。请把该列设为“文本”格式，重新输入号码后再导入。"
    ) % {"value": mask_id_number(str(value))}


def _choice_lookup(choices: Any, aliases: Mapping[str, str]) -> dict[str, str]:
    """Label (Chinese, or in the active language) or stored value → stored value."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[value.lower()] = value
        lookup[_choice_key(str(label))] = value
    with translation.override("zh-hans"):
        for value, label in choices.choices:
            lookup[_choice_key(str(label))] = value
    for alias, value in aliases.items():
        lookup[_choice_key(alias)] = value
    return lookup


def _choice_key(text: str) -> str:
    return "".join(text.split()).lower()


def _zh_labels(choices: Any) -> str:
    with translation.override("zh-hans"):
        return "、".join(str(label) for _value, label in choices.choices)


DOCUMENT_ALIASES = {
    "身份证": DocumentType.RESIDENT_ID,
    "二代身份证": DocumentType.RESIDENT_ID,
    "居民身份证号码": DocumentType.RESIDENT_ID,
    "港澳通行证": DocumentType.HK_MACAO,
    "回乡证": DocumentType.HK_MACAO,
    "港澳居民居住证": DocumentType.HK_MACAO,
    "台胞证": DocumentType.TAIWAN,
    "台湾通行证": DocumentType.TAIWAN,
    "外国人永久居留证": DocumentType.FOREIGN_PR,
    "永居证": DocumentType.FOREIGN_PR,
}
GENDER_ALIASES = {"男性": Gender.MALE, "女性": Gender.FEMALE, "男": Gender.MALE, "女": Gender.FEMALE}
RESIDENCE_ALIASES = {
    "户籍": ResidenceType.REGISTERED,
    "本市户籍": ResidenceType.REGISTERED,
    "常住人口": ResidenceType.REGISTERED,
    "来沪": ResidenceType.INCOMING,
    "外来人口": ResidenceType.INCOMING,
    "流动人口": ResidenceType.INCOMING,
    "来沪人口": ResidenceType.INCOMING,
    "境外": ResidenceType.FOREIGN,
    "境外人口": ResidenceType.FOREIGN,
    "外籍人员": ResidenceType.FOREIGN,
}
HOUSE_KIND_ALIASES = {
    "自有": HouseKind.OWNED,
    "自有房": HouseKind.OWNED,
    "产权房": HouseKind.OWNED,
    "商品房": HouseKind.OWNED,
    "租赁": HouseKind.RENTED,
    "租赁房": HouseKind.RENTED,
    "出租房": HouseKind.RENTED,
    "租房": HouseKind.RENTED,
    "公房": HouseKind.PUBLIC,
    "公有住房": HouseKind.PUBLIC,
    "公租房": HouseKind.PUBLIC,
    "宿舍": HouseKind.COLLECTIVE,
    "集体户": HouseKind.COLLECTIVE,
}
RELATION_ALIASES = {
    "本人": Relation.HEAD,
    "户主本人": Relation.HEAD,
    "妻": Relation.SPOUSE,
    "妻子": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "丈夫": Relation.SPOUSE,
    "子": Relation.CHILD,
    "女": Relation.CHILD,
    "儿子": Relation.CHILD,
    "女儿": Relation.CHILD,
    "长子": Relation.CHILD,
    "长女": Relation.CHILD,
    "次子": Relation.CHILD,
    "次女": Relation.CHILD,
    "父亲": Relation.PARENT,
    "母亲": Relation.PARENT,
    "父": Relation.PARENT,
    "母": Relation.PARENT,
    "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD,
    "外孙子": Relation.GRANDCHILD,
    "外孙女": Relation.GRANDCHILD,
    "祖父": Relation.GRANDPARENT,
    "祖母": Relation.GRANDPARENT,
    "外祖父": Relation.GRANDPARENT,
    "外祖母": Relation.GRANDPARENT,
    "兄": Relation.SIBLING,
    "弟": Relation.SIBLING,
    "姐": Relation.SIBLING,
    "妹": Relation.SIBLING,
    "兄弟": Relation.SIBLING,
    "姐妹": Relation.SIBLING,
    "儿媳": Relation.CHILD_IN_LAW,
    "女婿": Relation.CHILD_IN_LAW,
    "亲属": Relation.OTHER_RELATIVE,
    "保姆": Relation.NON_RELATIVE,
    "租客": Relation.NON_RELATIVE,
}


def _strip_suffix(text: str, suffix: str) -> str:
    text = "".join(text.split())
    return text[: -len(suffix)] if text.endswith(suffix) and len(text) > len(suffix) else text


def _house_parts(estate: str, building: str, unit: str, room: str) -> tuple[str, str, str, str]:
    """The parts as stored: spaces collapsed; "3号", "2单元", "501室" written as 3, 2, 501."""
    return (
        " ".join(estate.split()),
        _strip_suffix(building, "号"),
        _strip_suffix(unit, "单元"),
        _strip_suffix(room, "室"),
    )


def house_key(estate: str, building: str, unit: str, room: str) -> tuple[str, str, str, str]:
    """What makes two addresses the same house: the parts without spaces or suffixes."""
    parts = _house_parts(estate, building, unit, room)
    return (parts[0].replace(" ", ""), *parts[1:])


def _address(key: tuple[str, str, str, str]) -> str:
    return compose_address(*key)


# ------------------------------------------------------------------------------ reading


@dataclass
class RawRow:
    row: int
    values: dict[str, Any]


@dataclass
class Sheet:
    kind: str  # HOUSES or PERSONS
    title: str  # the sheet's name in the file
    columns: dict[str, int]
    rows: list[RawRow] = field(default_factory=list)


@dataclass
class Parsed:
    sheets: dict[str, Sheet] = field(default_factory=dict)  # by kind
    problems: list[Problem] = field(default_factory=list)
    fatal: bool = False  # the rows cannot be read (no header, unreadable file, too many rows)
    # Cells that are broken however the row is read (formula, merged, number that lost digits).
    cell_problems: list[Problem] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(len(s.rows) for s in self.sheets.values())


def is_csv(filename: str) -> bool:
    return filename.lower().endswith((".csv", ".txt"))


def read_file(data: bytes, filename: str) -> Parsed:
    """The sheets of an .xlsx or a CSV, with every problem the file itself has."""
    lowered = filename.lower()
    if lowered.endswith((".xls", ".et", ".wps")) or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _fatal(
            _("不支持旧版 Excel（.xls）或 WPS 格式：请在 Excel 或 WPS 中“另存为”.xlsx 文件后再导入。")
        )
    if is_csv(filename):
        return read_csv(data)
    return read_xlsx(data)


def _fatal(message: str, sheet: str = "", row: int = FILE_ROW) -> Parsed:
    return Parsed(problems=[Problem(sheet, row, "", message)], fatal=True)


def decode_csv(data: bytes) -> str | None:
    """UTF-8 (with or without BOM) or GB18030, as Excel on Chinese Windows saves a CSV."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return None


def csv_records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def read_csv(data: bytes) -> Parsed:
    text = decode_csv(data)
    if text is None:
        return _fatal(
            _("无法识别 CSV 文件的编码：请保存为 UTF-8 或 GB18030（Excel 的“CSV（逗号分隔）”）后再导入。")
        )
    try:
        records = csv_records(text)
    except csv.Error as exc:
        return _fatal(_("无法读取 CSV 文件：%(error)s") % {"error": exc})
    if not records or not any(c.strip() for c in records[0]):
        return _fatal(_("文件是空的，或第 1 行不是表头。"))
    header = records[0]
    kind = guess_kind(header)
    if kind is None:
        return _fatal(_csv_kind_message(), row=1)
    parsed = Parsed()
    columns, problems = map_header(kind, kind, header)
    if problems:
        parsed.problems.extend(problems)
        parsed.fatal = True
        return parsed
    sheet = Sheet(kind, kind, columns)
    for number, record in enumerate(records[1:], start=2):
        values = {key: record[index] if index < len(record) else "" for key, index in columns.items()}
        if not any(v.strip() for v in values.values()):
            continue
        if len(sheet.rows) >= MAX_ROWS:
            return _too_many(kind)
        sheet.rows.append(RawRow(number, values))
    parsed.sheets[kind] = sheet
    return parsed


def _csv_kind_message() -> str:
    return _(
        "无法从表头识别是房屋表还是人员表：人员表的表头应包含“姓名”“证件号码”等列，房屋表应包含“小区/路弄”“楼号”“室号”等列。"
    )


def _too_many(sheet: str) -> Parsed:
    return _fatal(_("文件超过 %(max)d 行数据，请分成几个文件导入。") % {"max": MAX_ROWS}, sheet=sheet)


def _sheet_kinds(titles: Sequence[str], headers: Callable[[str], Sequence[Any]]) -> dict[str, str]:
    """{kind: sheet title}: by the sheet's name (房屋, 人员 …); when no sheet has such a name,
    by each sheet's header."""
    found: dict[str, str] = {}
    for title in titles:
        for kind, names in SHEET_NAMES.items():
            if title.strip() in names and kind not in found:
                found[kind] = title
    if found:
        return found
    for title in titles:
        if title.strip() in (NOTES_SHEET, SUMMARY_SHEET):
            continue
        guessed = guess_kind(headers(title))
        if guessed is not None and guessed not in found:
            found[guessed] = title
    return found


def read_xlsx(data: bytes) -> Parsed:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # zip, XML or openpyxl errors: all mean "not a workbook we can read"
        return _fatal(
            _("无法读取文件：不是有效的 Excel（.xlsx）文件。请确认文件没有损坏，或另存为 .xlsx 后再导入。")
        )
    try:

        def first_row(title: str) -> Sequence[Any]:
            for values in book[title].iter_rows(min_row=1, max_row=1, values_only=True):
                return values
            return ()

        kinds = _sheet_kinds(book.sheetnames, first_row)
        if not kinds:
            return _fatal(
                _(
                    "工作簿中没有“房屋”或“人员”工作表（现有：%(sheets)s）。请使用导入模板，或把工作表改名为“房屋”“人员”。"
                )
                % {"sheets": "、".join(book.sheetnames)}
            )
        parsed = Parsed()
        total = 0
        for kind in (HOUSES, PERSONS):
            if kind not in kinds:
                continue
            sheet, problems, fatal = _read_sheet(book, kinds[kind], kind, MAX_ROWS - total)
            if fatal:
                parsed.fatal = True
                parsed.problems.extend(problems)
                continue
            parsed.cell_problems.extend(problems)
            if sheet is not None:
                parsed.sheets[kind] = sheet
                total += len(sheet.rows)
        return parsed
    except Exception:
        log.warning("unreadable workbook", exc_info=True)
        return _fatal(
            _("无法读取文件：不是有效的 Excel（.xlsx）文件。请确认文件没有损坏，或另存为 .xlsx 后再导入。")
        )
    finally:
        book.close()


MERGE_REF = re.compile(r"^([A-Z]+)(\d+):([A-Z]+)(\d+)$")


def _read_sheet(book: Any, title: str, kind: str, room_left: int) -> tuple[Sheet | None, list[Problem], bool]:
    """One pass over the sheet's XML with openpyxl's own read-only parser, which yields each
    cell with its type (a formula is type "f") and keeps the merged ranges it met."""
    ws = book[title]
    problems: list[Problem] = []
    sheet: Sheet | None = None
    labels = {c.key: c.label for c in SPECS[kind]}
    with ws._get_source() as source:
        parser = WorkSheetParser(
            source,
            ws._shared_strings,
            data_only=False,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        by_column: dict[int, str] = {}
        for number, cells in parser.parse():
            if sheet is None:
                header = [""] * max((c["column"] for c in cells), default=0)
                for c in cells:
                    header[c["column"] - 1] = c["value"]
                if number != 1 or not any(_text(v) for v in header):
                    return None, [_header_missing(kind, title)], True
                columns, header_problems = map_header(kind, title, header)
                if header_problems:
                    return None, header_problems, True
                sheet = Sheet(kind, title, columns)
                by_column = {index + 1: key for key, index in columns.items()}
                continue
            values: dict[str, Any] = {}
            for c in cells:
                key = by_column.get(c["column"])
                if key is None or c["value"] is None:
                    continue
                if c["data_type"] == "f":
                    problems.append(
                        Problem(
                            title,
                            number,
                            labels[key],
                            _(
                                "单元格 %(cell)s 含有公式“%(formula)s”：请改为直接填写内容（复制后“选择性粘贴 → 数值”）。"
                            )
                            % {
                                "cell": f"{get_column_letter(c['column'])}{number}",
                                "formula": str(c["value"])[:60],
                            },
                        )
                    )
                    values[key] = ""
                    continue
                if c["data_type"] == "e":
                    problems.append(
                        Problem(
                            title,
                            number,
                            labels[key],
                            _("单元格 %(cell)s 是错误值 %(value)s，请改为正确的内容。")
                            % {"cell": f"{get_column_letter(c['column'])}{number}", "value": c["value"]},
                        )
                    )
                    values[key] = ""
                    continue
                values[key] = c["value"]
            if not any(_text(v) for v in values.values()):
                continue
            if len(sheet.rows) >= room_left:
                return None, _too_many(title).problems, True
            sheet.rows.append(RawRow(number, values))
        if sheet is None:  # an empty sheet: as if it were absent
            return None, [], False
        merged = parser.merged_cells.mergeCell if parser.merged_cells is not None else []
        for item in merged:
            problems.extend(_merged_problems(sheet, str(item.ref), labels))
    return sheet, problems, False


def _header_missing(kind: str, title: str) -> Problem:
    return Problem(
        title,
        1,
        "",
        _("%(sheet)s表的第 1 行应为表头，列名为：%(expected)s（顺序不限）。")
        % {"sheet": title, "expected": "、".join(c.label for c in SPECS[kind] if c.in_template)},
    )


def _merged_problems(sheet: Sheet, ref: str, labels: dict[str, str]) -> list[Problem]:
    """A merged range is reported on every row it spans (each of them is read wrongly)."""
    match = MERGE_REF.match(ref.replace("$", ""))
    if not match:
        return []
    first_col, first_row, _last_col, last_row = match.groups()
    by_index = {index: key for key, index in sheet.columns.items()}
    from openpyxl.utils import column_index_from_string

    key = by_index.get(column_index_from_string(first_col) - 1)
    message = _("%(range)s 是合并单元格：请取消合并，在每个单元格中分别填写后再导入。") % {"range": ref}
    return [
        Problem(sheet.title, row, labels.get(key, "") if key else "", message)
        for row in range(int(first_row), int(last_row) + 1)
    ]


def estimate_rows(data: bytes, filename: str) -> int:
    """About how many data rows the file holds, cheaply (the sheets' recorded dimensions; the
    line count of a CSV), to decide between the request and the worker."""
    if is_csv(filename):
        return max(0, data.count(b"\n") - 1)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True)
    except Exception:
        return 0
    try:
        total = 0
        for ws in book.worksheets:
            if ws.title.strip() in (NOTES_SHEET, SUMMARY_SHEET):
                continue
            if ws.max_row is None:
                ws.reset_dimensions()
                total += sum(1 for _row in ws.iter_rows(values_only=True)) - 1
            else:
                total += max(0, ws.max_row - 1)
        return total
    finally:
        book.close()


# ------------------------------------------------------------------------------ checking


@dataclass
class HouseRow:
    row: int
    key: tuple[str, str, str, str]
    parts: tuple[str, str, str, str]
    kind: str  # "" = not given
    grid_code: str  # "" = not given


@dataclass
class PersonRow:
    row: int
    fields: dict[str, Any]  # cleaned Person fields
    given: set[str]  # Person fields whose column is in the file
    house: tuple[str, str, str, str]
    number: str
    relation: str
    joined_on: dt.date
    registered_number: str
    existing: Person | None = None
    group: tuple[tuple[str, str, str, str], str] | None = None

    @property
    def document(self) -> tuple[str, str]:
        return self.fields["id_type"], self.fields["id_number"]


@dataclass
class Current:
    """A person's current membership of one kind, with where it is."""

    membership_id: int
    household_id: int
    relation: str
    house_id: int
    number: str
    place_code: str
    address: str


Row = dict[str, Any]  # a new row by attribute name; "_refs" maps a foreign key to its parent's row


class DbHouse(NamedTuple):
    pk: int
    kind: str
    grid_code: str


@dataclass
class Plan:
    """What the write step does, decided entirely by the check. New rows are plain dicts (no
    model instances: tens of thousands of them are built and copied in bulk)."""

    new_houses: list[Row] = field(default_factory=list)
    changed_houses: dict[int, dict[str, str]] = field(default_factory=dict)  # house id → changes
    new_households: list[Row] = field(default_factory=list)
    new_persons: list[Row] = field(default_factory=list)
    changed_persons: list[Person] = field(default_factory=list)
    person_fields: set[str] = field(default_factory=set)
    demoted: list[Membership] = field(default_factory=list)  # leave the head's place first
    relations: list[Membership] = field(default_factory=list)
    new_memberships: list[Row] = field(default_factory=list)
    updated_people: set[int] = field(default_factory=set)  # existing persons changed in any way
    house_rows: int = 0  # valid rows of the houses sheet (for the progress)

    @property
    def empty(self) -> bool:
        return not (
            self.new_houses
            or self.changed_houses
            or self.new_households
            or self.new_persons
            or self.changed_persons
            or self.relations
            or self.demoted
            or self.new_memberships
        )


PERSON_FIELDS = EDITABLE_FIELDS  # a sheet's columns are the fields an edit may change
# A re-import may change every column but the document, which is how the row finds its person.
UPDATABLE = tuple(f for f in EDITABLE_FIELDS if f not in ("id_type", "id_number"))


class Progress:
    """Reports `processed_rows` of a job every PROGRESS_EVERY rows, where the job page can see
    it: outside a transaction directly; inside the import's own transaction on PostgreSQL
    through a second, short-lived connection (so the update commits at once); else in the
    transaction (nobody else sees it then, but it does no harm)."""

    def __init__(self, job: ImportJob, total_rows: int) -> None:
        self.job_pk = job.pk
        self.total = max(total_rows, 1)
        self.units = 0  # every row counts twice: once checked, once written
        self.reported = 0
        self.side: Any = None
        self.side_allowed = False

    def advance(self, units: int) -> None:
        self.units += units
        done = min(self.total, self.units // 2)
        if done - self.reported >= PROGRESS_EVERY:
            self.reported = done
            self.save(done)

    def save(self, done: int) -> None:
        now = timezone.now()
        if not connection.in_atomic_block:
            save_progress(self.job_pk, done, now)
        elif self.side_allowed:
            if self.side is None:
                self.side = connections.create_connection("default")
            table = self.side.ops.quote_name(ImportJob._meta.db_table)
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET processed_rows = %s, updated_at = %s WHERE id = %s",
                    [done, now, self.job_pk],
                )
        else:
            save_progress(self.job_pk, done, now)

    def allow_side_connection(self, allowed: bool) -> None:
        self.side_allowed = allowed and connection.vendor == "postgresql"

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def save_progress(job_pk: int, done: int, now: dt.datetime) -> None:
    ImportJob.objects.filter(pk=job_pk).update(processed_rows=done, updated_at=now)


class Checker:
    """Checks every row of the parsed file against each other and the database, and plans the
    writes. The rows that exist are loaded in a few queries, never one per row."""

    def __init__(
        self,
        parsed: Parsed,
        *,
        committee: Place,
        only_valid: bool,
        progress: Progress | None = None,
        guarded: frozenset[str] = frozenset(),
    ) -> None:
        self.parsed = parsed
        self.guarded = guarded  # fields whose change by this importer needs the street's approval
        self.committee = committee
        self.code = committee.code
        self.only_valid = only_valid
        self.progress = progress
        self.problems: list[Problem] = list(parsed.cell_problems)
        self.failed: dict[str, set[int]] = defaultdict(set)
        for problem in self.problems:
            self.failed[problem.sheet].add(problem.row)
        self.today = timezone.localdate()
        self.house_rows: list[HouseRow] = []
        self.person_rows: list[PersonRow] = []
        self.sheet_houses: dict[tuple[str, str, str, str], HouseRow] = {}
        # (kind, house, 户号) → [(row, relation)] of every row naming that household, valid or not.
        self.row_groups: dict[tuple[str, tuple[str, str, str, str], str], list[tuple[int, str]]] = (
            defaultdict(list)
        )
        self.actual_ids: dict[tuple[tuple[str, str, str, str], str], int | None] = {}
        self.registered_ids: dict[tuple[tuple[str, str, str, str], str], int | None] = {}
        self.relation_changes: dict[int, str] = {}  # membership id → new relation
        houses = parsed.sheets.get(HOUSES)
        persons = parsed.sheets.get(PERSONS)
        self.house_title = houses.title if houses else HOUSES
        self.person_title = persons.title if persons else PERSONS

    # -- helpers

    def error(self, kind: str, row: int, key: str, message: str) -> None:
        title = self.house_title if kind == HOUSES else self.person_title
        self.problems.append(Problem(title, row, _label(kind, key) if key else "", message))
        self.failed[title].add(row)

    def house_failed(self, row: int) -> bool:
        return row in self.failed[self.house_title]

    def person_failed(self, row: int) -> bool:
        return row in self.failed[self.person_title]

    def _advance(self, rows: int) -> None:
        if self.progress is not None:
            self.progress.advance(rows)

    # -- the check

    def check(self) -> Plan:
        self._load_committee()
        if HOUSES in self.parsed.sheets:
            self._check_houses(self.parsed.sheets[HOUSES])
        if PERSONS in self.parsed.sheets:
            self._check_persons(self.parsed.sheets[PERSONS])
            self._check_duplicates()
            self._load_people()
            self._check_existing()
            self._check_households()
        if self.problems and not self.only_valid:
            return Plan()  # nothing will be written: no need to plan it
        if self.only_valid:
            self._propagate()
        plan = self._plan()
        self._load_relation_changes(plan)
        return plan

    def _load_committee(self) -> None:
        self.grids = set(
            Place.objects.filter(kind="grid", code__within=self.code).values_list("code", flat=True)
        )
        self.db_houses: dict[tuple[str, str, str, str], DbHouse] = {}
        for pk, estate, building, unit, room, kind, grid in House.objects.filter(
            place_code=self.code
        ).values_list("pk", "estate", "building", "unit", "room", "kind", "grid_code"):
            self.db_houses.setdefault(house_key(estate, building, unit, room), DbHouse(pk, kind, grid))
        self.db_households: dict[tuple[int, str, str], list[int]] = defaultdict(list)
        for pk, kind, number, house_id in Household.objects.filter(place_code=self.code).values_list(
            "pk", "kind", "number", "house_id"
        ):
            self.db_households[(house_id, kind, number.strip())].append(pk)
        self.db_heads: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for household_id, person_id, name in Membership.objects.filter(
            household__place_code=self.code, left_on__isnull=True, relation=Relation.HEAD
        ).values_list("household_id", "person_id", "person__name"):
            self.db_heads[household_id].append((person_id, name))

    def _committee_value(self, kind: str, row: int, value: Any) -> None:
        code = _text(value)
        if code and code != self.code:
            self.error(
                kind,
                row,
                "place_code",
                _(
                    "居委会代码“%(code)s”不是本次导入的居委会（%(name)s %(expected)s）：一次只能导入一个居委会的数据。"
                )
                % {"code": code, "name": self.committee.name, "expected": self.code},
            )

    def _parts(self, kind: str, raw: RawRow) -> tuple[str, str, str, str] | None:
        values = raw.values
        parts = _house_parts(
            _text(values.get("estate")),
            _text(values.get("building")),
            _text(values.get("unit")),
            _text(values.get("room")),
        )
        ok = True
        for key, value in zip(("estate", "building", "unit", "room"), parts, strict=True):
            if key != "unit" and not value:
                self.error(kind, raw.row, key, _("请填写%(field)s。") % {"field": _label(kind, key)})
                ok = False
            elif len(value) > MAX_LENGTHS[key]:
                self.error(kind, raw.row, key, self._too_long(kind, key))
                ok = False
        if ok and parts[0] == EXAMPLE_ESTATE:
            self.error(kind, raw.row, "estate", _("这是导入模板中的示例行，请删除后再导入。"))
        return parts if ok else None

    @staticmethod
    def _too_long(kind: str, key: str) -> str:
        return _("%(field)s过长（最多 %(max)d 个字）。") % {
            "field": _label(kind, key),
            "max": MAX_LENGTHS[key],
        }

    def _check_houses(self, sheet: Sheet) -> None:
        kinds = _choice_lookup(HouseKind, HOUSE_KIND_ALIASES)
        first: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
        for raw in sheet.rows:
            self._advance(1)
            self._committee_value(HOUSES, raw.row, raw.values.get("place_code"))
            parts = self._parts(HOUSES, raw)
            kind_text = _text(raw.values.get("kind"))
            kind = ""
            if kind_text:
                kind = kinds.get(_choice_key(kind_text), "")
                if not kind:
                    self.error(
                        HOUSES,
                        raw.row,
                        "kind",
                        _("房屋类型“%(value)s”无效，应为：%(choices)s。")
                        % {"value": kind_text, "choices": _zh_labels(HouseKind)},
                    )
            grid = _text(raw.values.get("grid_code"))
            if grid and grid not in self.grids:
                self.error(
                    HOUSES, raw.row, "grid_code", _("单元网格“%(code)s”不在该居委会内。") % {"code": grid}
                )
            if parts is None:
                continue
            key = house_key(*parts)
            first[key].append(raw.row)
            self.house_rows.append(HouseRow(raw.row, key, parts, kind, grid))
        for key, rows in first.items():
            if len(rows) > 1:
                for row in rows:
                    self.error(
                        HOUSES,
                        row,
                        "room",
                        _("房屋地址“%(address)s”在房屋表中重复（第 %(rows)s 行）。")
                        % {"address": _address(key), "rows": "、".join(map(str, rows))},
                    )
        self.sheet_houses = {h.key: h for h in self.house_rows}

    def _check_persons(self, sheet: Sheet) -> None:
        self.lookups = {
            "id_type": (_choice_lookup(DocumentType, DOCUMENT_ALIASES), DocumentType),
            "gender": (_choice_lookup(Gender, GENDER_ALIASES), Gender),
            "residence_type": (_choice_lookup(ResidenceType, RESIDENCE_ALIASES), ResidenceType),
            "relation": (_choice_lookup(Relation, RELATION_ALIASES), Relation),
        }
        given = {key for key in sheet.columns if key in PERSON_FIELDS}
        for raw in sheet.rows:
            self._advance(1)
            self._check_person(raw, given)

    def _check_person(self, raw: RawRow, given: set[str]) -> None:
        """One row of the persons sheet: values, the person's fields through
        `services.clean_person`, dates, the house. One message per cell."""
        row, values = raw.row, raw.values
        seen: set[str] = set()

        def fail(key: str, message: str) -> None:
            if key not in seen:
                seen.add(key)
                self.error(PERSONS, row, key, message)

        def choice(key: str, default: str) -> str:
            text = _text(values.get(key))
            if not text:
                return default
            lookup, choices = self.lookups[key]
            value = lookup.get(_choice_key(text))
            if value is None:
                fail(
                    key,
                    _("%(field)s“%(value)s”无效，应为：%(choices)s。")
                    % {"field": _label(PERSONS, key), "value": text, "choices": _zh_labels(choices)},
                )
                return default
            return value

        def date(key: str) -> dt.date | None:
            try:
                return parse_date(values.get(key))
            except (ValueError, OverflowError):
                fail(
                    key,
                    _("%(field)s“%(value)s”不是有效的日期，请写成 2024-01-31、2024/01/31 或 20240131。")
                    % {"field": _label(PERSONS, key), "value": _text(values.get(key))},
                )
                return None

        self._committee_value(PERSONS, row, values.get("place_code"))
        parts = self._parts(PERSONS, raw)
        id_type = choice("id_type", DocumentType.RESIDENT_ID)
        relation = choice("relation", "")
        if not _text(values.get("relation")):
            fail("relation", _("请填写与户主关系。"))
        texts = {}
        for key in ("phone", "residence_permit_number", "registered_address", "number", "registered_number"):
            texts[key] = _text(values.get(key))
            if key in MAX_LENGTHS and len(texts[key]) > MAX_LENGTHS[key]:
                fail(key, self._too_long(PERSONS, key))
        if parts is not None:  # the household this row belongs to, whatever else is wrong
            home = house_key(*parts)
            self.row_groups[(str(HouseholdKind.ACTUAL), home, texts["number"])].append((row, relation))
            if texts["registered_number"]:
                group = (str(HouseholdKind.REGISTERED), home, texts["registered_number"])
                self.row_groups[group].append((row, relation))
        id_number, lost = _document_text(values.get("id_number"))
        if lost:
            fail("id_number", lost)
        elif id_number.upper() == EXAMPLE_ID:
            fail("id_number", _("这是导入模板中的示例行，请删除后再导入。"))
        data = PersonData(
            name=_text(values.get("name")),
            id_number=id_number,
            id_type=id_type,
            gender=choice("gender", ""),
            birth_date=date("birth_date"),
            phone=texts["phone"],
            residence_type=choice("residence_type", ResidenceType.REGISTERED),
            residence_permit_number=texts["residence_permit_number"],
            residence_permit_expiry=date("residence_permit_expiry"),
            registered_address=texts["registered_address"],
        )
        joined = date("joined_on")
        fields: dict[str, Any] = {}
        try:
            fields = clean_person(data)
        except ValidationError as exc:
            found = exc.message_dict
            for key, messages in found.items():
                # A resident ID number that fails gives no birth date or gender to derive:
                # clean_person then asks for them, which only hides the real problem.
                derived = (key == "birth_date" and data.birth_date is None) or (
                    key == "gender" and not data.gender
                )
                if id_type == DocumentType.RESIDENT_ID and "id_number" in found and derived:
                    continue
                fail(key if key in PERSON_FIELDS else "", messages[0])
        when = joined or self.today
        if joined is not None and joined > self.today:
            fail("joined_on", _("迁入日期不能晚于今天。"))
        elif fields and when < fields["birth_date"]:
            fail(
                "joined_on",
                _("迁入日期 %(joined)s 早于出生日期 %(born)s，请核对。")
                % {"joined": when, "born": fields["birth_date"]},
            )
        if parts is None or not fields or not relation or self.person_failed(row):
            return
        home = house_key(*parts)
        if home not in self.sheet_houses and home not in self.db_houses:
            fail(
                "estate",
                _("房屋“%(address)s”不在房屋表中，本居委会也没有登记该房屋：请先在房屋表中添加这套房屋。")
                % {"address": _address(home)},
            )
            return
        self.person_rows.append(
            PersonRow(
                row=row,
                fields=fields,
                given=given | ({"gender", "birth_date"} if id_type == DocumentType.RESIDENT_ID else set()),
                house=home,
                number=texts["number"],
                relation=relation,
                joined_on=when,
                registered_number=texts["registered_number"],
            )
        )

    def _check_duplicates(self) -> None:
        rows_of: dict[tuple[str, str], list[int]] = defaultdict(list)
        for person in self.person_rows:
            rows_of[person.document].append(person.row)
        for rows in rows_of.values():
            if len(rows) > 1:
                for row in rows:
                    self.error(
                        PERSONS,
                        row,
                        "id_number",
                        _("同一证件号码在文件中出现了 %(count)d 次（第 %(rows)s 行）：同一人只能登记一次。")
                        % {"count": len(rows), "rows": "、".join(map(str, rows))},
                    )

    def _load_people(self) -> None:
        """The persons of the file already in the database, with their current memberships:
        `id_number__in` in chunks, then their memberships by person id."""
        # By type, so the unique index on (id_type, id_number) serves every chunk.
        by_type: dict[str, set[str]] = defaultdict(set)
        for row in self.person_rows:
            by_type[row.fields["id_type"]].add(row.fields["id_number"])
        self.db_people: dict[tuple[str, str], Person] = {}
        for id_type, numbers in by_type.items():
            wanted = sorted(numbers)
            for start in range(0, len(wanted), CHUNK):
                for person in Person.objects.filter(
                    id_type=id_type, id_number__in=wanted[start : start + CHUNK]
                ):
                    self.db_people[(person.id_type, person.id_number)] = person
        self.current: dict[int, dict[str, Current]] = defaultdict(dict)
        ids = sorted(p.pk for p in self.db_people.values())
        for start in range(0, len(ids), CHUNK):
            for m in Membership.objects.filter(
                person_id__in=ids[start : start + CHUNK], left_on__isnull=True
            ).values_list(
                "pk",
                "person_id",
                "kind",
                "household_id",
                "relation",
                "household__house_id",
                "household__number",
                "household__place_code",
                "household__house__address",
            ):
                self.current[m[1]][m[2]] = Current(m[0], m[3], m[4], m[5], (m[6] or "").strip(), m[7], m[8])
        codes = {p.place_code for p in self.db_people.values()} | {
            c.place_code for cs in self.current.values() for c in cs.values()
        }
        self.place_names = dict(
            Place.objects.filter(code__in=[c for c in codes if c]).values_list("code", "name")
        )

    def _where(self, person: Person, current: Current | None) -> str:
        if current is not None and current.place_code == self.code:
            return _("本居委会 %(address)s") % {"address": current.address}
        code = current.place_code if current is not None else person.place_code
        return self.place_names.get(code, "") or _("其他居委会")

    def _check_existing(self) -> None:
        for row in self.person_rows:
            person = self.db_people.get(row.document)
            if person is None or self.person_failed(row.row):
                continue
            actual = self.current[person.pk].get(HouseholdKind.ACTUAL)
            house = self.db_houses.get(row.house)
            if (
                actual is not None
                and house is not None
                and actual.house_id == house.pk
                and actual.number == row.number
            ):
                row.existing = person
                self._check_guarded(row, person)
                registered = self.current[person.pk].get(HouseholdKind.REGISTERED)
                if (
                    row.registered_number
                    and registered is not None
                    and (registered.house_id != house.pk or registered.number != row.registered_number)
                ):
                    self.error(
                        PERSONS,
                        row.row,
                        "registered_number",
                        _(
                            "%(name)s 的户籍已在另一户籍户（%(where)s，户号 %(number)s），如户籍迁移，请在人员页面办理。"
                        )
                        % {
                            "name": mask_name(person.name),
                            "where": self._where(person, registered),
                            "number": registered.number or "—",
                        },
                    )
                continue
            if actual is not None:
                message = _(
                    "该证件号码已登记在另一实住户（%(where)s，%(name)s）：同一人不能同时住在两户。如已搬家，请先在人员页面办理迁出。"
                )
            else:
                message = _(
                    "该证件号码已登记（%(where)s，%(name)s，%(status)s），不能重复登记：请在人员页面查找该人员后办理迁入。"
                )
            self.error(
                PERSONS,
                row.row,
                "id_number",
                message
                % {
                    "where": self._where(person, actual),
                    "name": mask_name(person.name),
                    "status": person.get_status_display(),
                },
            )

    def _check_guarded(self, row: PersonRow, person: Person) -> None:
        """An import may not do what the edit page may not: a change the street must approve is
        refused here, pointing at the change request (the person page's 编辑)."""
        for name in UPDATABLE:
            if name in self.guarded and name in row.given and getattr(person, name) != row.fields[name]:
                self.error(
                    PERSONS,
                    row.row,
                    name,
                    _(
                        "“%(field)s”与已登记的不同，此项修改需街道审核：请在人员页面点“编辑”提交变更申请，或将此格改回登记值后再导入。"
                    )
                    % {"field": _label(PERSONS, name)},
                )

    def _household(
        self, house: DbHouse | None, kind: str, number: str, pinned: set[int]
    ) -> tuple[int | None, str]:
        """The existing household a group of rows belongs to (None: a new one), or a problem."""
        if len(pinned) > 1:
            return None, _("这些人员在系统中分属不同的户，请核对户号。")
        if pinned:
            return next(iter(pinned)), ""
        if house is None:
            return None, ""
        candidates = self.db_households.get((house.pk, kind, number), [])
        if len(candidates) > 1:
            return None, _(
                "该房屋在系统中有 %(count)d 个户号为“%(number)s”的%(kind)s，请填写户号以区分。"
            ) % {
                "count": len(candidates),
                "number": number or _("空"),
                "kind": HouseholdKind(kind).label,
            }
        return (candidates[0] if candidates else None), ""

    def _check_households(self) -> None:
        """Each actual household (same house and 户号) has exactly one head, each registered
        household at most one, counting the heads already in the database that the file does
        not mention. Every row naming the household counts, valid or not (a head with a wrong
        ID number is still the head: no second message that the household has none)."""
        valid = {r.row: r for r in self.person_rows}
        for (kind, key, number), members in self.row_groups.items():
            rows = [valid[row] for row, _relation in members if row in valid]
            house = self.db_houses.get(key)
            pinned: set[int] = set()
            for r in rows:
                current = self.current[r.existing.pk].get(kind) if r.existing else None
                if current is not None and house is not None and current.house_id == house.pk:
                    pinned.add(current.household_id)
            household_id, problem = self._household(house, kind, number, pinned)
            field_key = "number" if kind == HouseholdKind.ACTUAL else "registered_number"
            if problem:
                for r in rows:
                    self.error(PERSONS, r.row, field_key, problem)
                continue
            (self.actual_ids if kind == HouseholdKind.ACTUAL else self.registered_ids)[(key, number)] = (
                household_id
            )
            self._check_heads(members, rows, household_id, key, number, kind)

    def _check_heads(
        self,
        members: list[tuple[int, str]],
        rows: list[PersonRow],
        household_id: int | None,
        key: tuple[str, str, str, str],
        number: str,
        kind: str,
    ) -> None:
        in_file = {r.existing.pk for r in rows if r.existing}
        db_heads = [(pk, name) for pk, name in self.db_heads.get(household_id or 0, []) if pk not in in_file]
        heads = [row for row, relation in members if relation == Relation.HEAD]
        if (len(heads) == 1 and not db_heads) or (not heads and (db_heads or kind != HouseholdKind.ACTUAL)):
            return  # one head, or (registered) none: the usual case, decided without any text
        field_key = "relation" if kind == HouseholdKind.ACTUAL else "registered_number"
        where = _address(key) + (_("（户号 %(number)s）") % {"number": number} if number else "")
        label = HouseholdKind(kind).label
        if kind == HouseholdKind.ACTUAL and not heads and not db_heads:
            self.error(
                PERSONS,
                members[0][0],
                "relation",
                _("%(where)s 的实住户没有户主（第 %(rows)s 行）：每户须有且只有一名“户主”。")
                % {"where": where, "rows": "、".join(str(row) for row, _relation in members)},
            )
        elif len(heads) > 1:
            for row in heads:
                self.error(
                    PERSONS,
                    row,
                    field_key,
                    _("%(where)s 的%(kind)s有 %(count)d 名户主（第 %(rows)s 行）：每户只能有一名户主。")
                    % {
                        "where": where,
                        "kind": label,
                        "count": len(heads),
                        "rows": "、".join(map(str, heads)),
                    },
                )
        elif heads and db_heads:
            self.error(
                PERSONS,
                heads[0],
                field_key,
                _("%(where)s 的%(kind)s在系统中已有户主（%(name)s）：每户只能有一名户主，请核对与户主关系。")
                % {"where": where, "kind": label, "name": mask_name(db_heads[0][1])},
            )

    def _propagate(self) -> None:
        """Only valid rows: a person whose house row failed fails too, and an actual household
        with a failing member is skipped whole (each row left out says why)."""
        bad_houses = {h.key: h.row for h in self.house_rows if self.house_failed(h.row)}
        for person in self.person_rows:
            if person.house in bad_houses and not self.person_failed(person.row):
                self.error(
                    PERSONS,
                    person.row,
                    "estate",
                    _("所住房屋在房屋表第 %(row)d 行有错误，本行未导入。")
                    % {"row": bad_houses[person.house]},
                )
        for (kind, _key, _number), members in self.row_groups.items():
            if kind != HouseholdKind.ACTUAL:
                continue
            bad = [row for row, _relation in members if self.person_failed(row)]
            if not bad:
                continue
            for row, _relation in members:
                if row not in bad:
                    self.error(
                        PERSONS,
                        row,
                        "",
                        _("同户的第 %(rows)s 行有错误，本户整户未导入。")
                        % {"rows": "、".join(map(str, bad))},
                    )

    # -- the plan

    def _plan(self) -> Plan:
        plan = Plan()
        houses: dict[tuple[str, str, str, str], int | Row] = {key: h.pk for key, h in self.db_houses.items()}
        now = timezone.now()
        stamp = {"created_at": now, "updated_at": now}
        for h in self.house_rows:
            if self.house_failed(h.row):
                continue
            plan.house_rows += 1
            existing = self.db_houses.get(h.key)
            if existing is None:
                row: Row = {
                    **stamp,
                    "place_code": self.code,
                    "grid_code": h.grid_code,
                    "estate": h.parts[0],
                    "building": h.parts[1],
                    "unit": h.parts[2],
                    "room": h.parts[3],
                    "kind": h.kind or HouseKind.OWNED,
                    "address": compose_address(*h.parts),
                }
                plan.new_houses.append(row)
                houses[h.key] = row
                continue
            changes = {}
            if h.kind and existing.kind != h.kind:
                changes["kind"] = h.kind
            if h.grid_code and existing.grid_code != h.grid_code:
                changes["grid_code"] = h.grid_code
            if changes:
                plan.changed_houses[existing.pk] = changes
        pinyin: dict[str, tuple[str, str]] = {}
        new_households: dict[tuple[str, tuple[str, str, str, str], str], Row] = {}

        def household(kind: str, key: tuple[str, str, str, str], number: str) -> int | Row:
            known = (self.actual_ids if kind == HouseholdKind.ACTUAL else self.registered_ids).get(
                (key, number)
            )
            if known is not None:
                return known
            found = new_households.get((kind, key, number))
            if found is None:
                found = {**stamp, "kind": kind, "number": number, "place_code": self.code}
                _link(found, "house_id", houses[key])
                new_households[(kind, key, number)] = found
                plan.new_households.append(found)
            return found

        base = {
            **stamp,
            "status": PersonStatus.ACTIVE,
            "status_on": None,
            "place_code": self.code,
            "version": 1,
        }
        for person in self.person_rows:
            if self.person_failed(person.row):
                continue
            actual = household(HouseholdKind.ACTUAL, person.house, person.number)
            registered = (
                household(HouseholdKind.REGISTERED, person.house, person.registered_number)
                if person.registered_number
                else None
            )
            if person.existing is not None:
                self._plan_update(plan, person, registered, now)
                continue
            name = person.fields["name"]
            keys = pinyin.get(name)
            if keys is None:
                keys = pinyin[name] = pinyin_keys(name)
            new: Row = {**base, **person.fields, "name_pinyin": keys[0], "name_initials": keys[1]}
            plan.new_persons.append(new)
            plan.new_memberships.append(_membership(actual, new, HouseholdKind.ACTUAL, person))
            if registered is not None:
                plan.new_memberships.append(_membership(registered, new, HouseholdKind.REGISTERED, person))
        return plan

    def _plan_update(
        self, plan: Plan, row: PersonRow, registered: int | Row | None, now: dt.datetime
    ) -> None:
        """A person already in this household: the fields the row changes, their relation,
        and a registered household they are not in yet."""
        person = row.existing
        assert person is not None
        changed = [
            name for name in UPDATABLE if name in row.given and getattr(person, name) != row.fields[name]
        ]
        if changed:
            for name in changed:
                setattr(person, name, row.fields[name])
            if "name" in changed:
                person.name_pinyin, person.name_initials = pinyin_keys(person.name)
                plan.person_fields.update(("name_pinyin", "name_initials"))
            person.version += 1
            person.updated_at = now
            plan.person_fields.update(changed)
            plan.changed_persons.append(person)
            plan.updated_people.add(person.pk)
        current = self.current[person.pk]
        actual = current[HouseholdKind.ACTUAL]
        if actual.relation != row.relation:
            self.relation_changes[actual.membership_id] = row.relation
            plan.updated_people.add(person.pk)
        if registered is None:
            return
        mine = current.get(HouseholdKind.REGISTERED)
        if mine is None:
            plan.new_memberships.append(_membership(registered, person.pk, HouseholdKind.REGISTERED, row))
            plan.updated_people.add(person.pk)
        elif mine.relation != row.relation:
            self.relation_changes[mine.membership_id] = row.relation
            plan.updated_people.add(person.pk)

    def _load_relation_changes(self, plan: Plan) -> None:
        """The memberships whose relation changes, loaded whole (their history rows copy every
        field); who stops being head goes first."""
        ids = sorted(self.relation_changes)
        for start in range(0, len(ids), CHUNK):
            for item in Membership.objects.filter(pk__in=ids[start : start + CHUNK]):
                was_head = item.relation == Relation.HEAD
                item.relation = self.relation_changes[item.pk]
                (plan.demoted if was_head else plan.relations).append(item)


def _link(row: Row, attname: str, target: int | Row) -> None:
    """Point a foreign key at an existing row's id, or at a new row (resolved when written)."""
    if isinstance(target, int):
        row[attname] = target
    else:
        row.setdefault("_refs", {})[attname] = target


def _membership(household: int | Row, person: int | Row, kind: str, row: PersonRow) -> Row:
    item: Row = {
        "kind": kind,
        "relation": row.relation,
        "joined_on": row.joined_on,
        "left_on": None,
        "left_reason": "",
    }
    _link(item, "household_id", household)
    _link(item, "person_id", person)
    return item


# ------------------------------------------------------------------------------ writing


@dataclass
class Counts:
    houses_created: int = 0
    persons_created: int = 0
    persons_updated: int = 0


def _write(plan: Plan, *, by: Any, progress: Progress | None, reason: str) -> Counts:
    """Everything in bulk, each table with its history rows (on PostgreSQL with COPY, ids
    taken from the sequences first); persons and their memberships in chunks, so the progress
    moves while it runs. Call inside one transaction."""
    user = by if getattr(by, "pk", None) else None
    writer = BulkWriter(user_id=user.pk if user else None, reason=reason[:100])
    writer.insert(House, plan.new_houses)
    if plan.changed_houses:
        houses = list(House.objects.filter(pk__in=list(plan.changed_houses)))
        fields = sorted({name for changes in plan.changed_houses.values() for name in changes})
        for house in houses:
            for name, value in plan.changed_houses[house.pk].items():
                setattr(house, name, value)
            house.updated_at = writer.now
        bulk_update_with_history(
            houses,
            House,
            [*fields, "updated_at"],
            batch_size=BATCH,
            default_user=user,
            default_change_reason=writer.reason,
        )
    writer.insert(Household, plan.new_households)
    # Who stops being head first, so a household never has two heads at any step.
    for group in (plan.demoted, plan.relations):
        if group:
            bulk_update_with_history(
                group,
                Membership,
                ["relation"],
                batch_size=BATCH,
                default_user=user,
                default_change_reason=writer.reason,
            )
    if plan.changed_persons:
        fields = sorted(plan.person_fields | {"version", "updated_at"})
        bulk_update_with_history(
            plan.changed_persons,
            Person,
            fields,
            batch_size=BATCH,
            default_user=user,
            default_change_reason=writer.reason,
        )
    if progress is not None:
        progress.advance(plan.house_rows + len(plan.changed_persons))
    # New persons' memberships go with their chunk; existing persons' new ones at the end.
    memberships_of: dict[int, list[Row]] = defaultdict(list)
    rest: list[Row] = []
    for item in plan.new_memberships:
        person = item.get("_refs", {}).get("person_id")
        if person is None:
            rest.append(item)
        else:
            memberships_of[id(person)].append(item)
    for start in range(0, len(plan.new_persons), CHUNK):
        chunk = plan.new_persons[start : start + CHUNK]
        writer.insert(Person, chunk)
        writer.insert(Membership, [m for person in chunk for m in memberships_of.pop(id(person), [])])
        if progress is not None:
            progress.advance(len(chunk))
    writer.insert(Membership, rest)
    return Counts(
        houses_created=len(plan.new_houses),
        persons_created=len(plan.new_persons),
        persons_updated=len(plan.updated_people),
    )


class BulkWriter:
    """Inserts new rows and their first history rows ("+", dated now, by the importer, with the
    import as the change reason).

    On PostgreSQL the ids are taken from the table's sequence in one query and the rows go in
    with COPY: the fastest way in, and it leaves the ORM's per-row cost out (the import's
    speed target is PostgreSQL's). Elsewhere (SQLite) `bulk_create`, which returns the ids."""

    def __init__(self, *, user_id: int | None, reason: str) -> None:
        self.now = timezone.now()
        self.reason = reason
        self.extras = {
            "history_date": self.now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": user_id,
        }
        self.copy = connection.vendor == "postgresql"

    def insert(self, model: type[Any], rows: list[Row]) -> None:
        if not rows:
            return
        for row in rows:
            refs = row.pop("_refs", None)
            if refs:
                for attname, target in refs.items():
                    row[attname] = target["id"]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        history = model.history.model
        tracked = [f for f in history._meta.concrete_fields if f.attname != "history_id"]
        extras = self.extras
        if self.copy:
            for row, pk in zip(rows, self._reserve(model, len(rows)), strict=True):
                row["id"] = pk
            columns = ["id", *(f.attname for f in fields)]
            self._copy(
                model._meta.db_table, [model._meta.pk.column, *(f.column for f in fields)], columns, rows
            )
            names = [f.attname for f in tracked]
            self._copy(
                history._meta.db_table,
                [f.column for f in tracked],
                names,
                ({**extras, **row} for row in rows),
            )
            return
        objects = [model(**{f.attname: row[f.attname] for f in fields}) for row in rows]
        model.objects.bulk_create(objects, batch_size=BATCH)
        for row, obj in zip(rows, objects, strict=True):
            row["id"] = obj.pk
        history.objects.bulk_create(
            [
                history(**{f.attname: row.get(f.attname, extras.get(f.attname)) for f in tracked})
                for row in rows
            ],
            batch_size=BATCH,
        )

    @staticmethod
    def _reserve(model: type[Any], count: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column]
            )
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
            return [value for (value,) in cursor.fetchall()]

    @staticmethod
    def _copy(table: str, columns: list[str], names: list[str], rows: Iterable[Row]) -> None:
        quote = connection.ops.quote_name
        statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in names])


# ------------------------------------------------------------------------------ the import


@dataclass
class Outcome:
    status: str
    total_rows: int = 0
    houses_created: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    errors: list[Problem] = field(default_factory=list)


def approval_fields(by: Any, committee_code: str) -> frozenset[str]:
    """The person fields `by` may not change by import in this committee without the street's
    approval (the field groups of `changes.requires_approval`)."""
    if may_approve(by, committee_code):
        return frozenset()
    policy = policy_for(street_of(committee_code))
    return frozenset(name for group, names in FIELD_GROUPS.items() if policy[group] for name in names)


def _sort(problems: Iterable[Problem], parsed: Parsed | None = None) -> list[Problem]:
    order = {HOUSES: 1, PERSONS: 2}
    kinds = {s.title: order[kind] for kind, s in (parsed.sheets.items() if parsed else ())}
    unique = list(dict.fromkeys(problems))
    return sorted(
        unique, key=lambda p: (p.row > FILE_ROW, kinds.get(p.sheet, order.get(p.sheet, 0)), p.sheet, p.row)
    )


def import_file(
    data: bytes,
    filename: str,
    *,
    by: Any,
    place_code: str,
    only_valid: bool = False,
    job: ImportJob | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Read, check and (when allowed) write one file for the committee `place_code`. With a
    `job`, its result is saved on it in the same transaction as the data."""
    committee = Place.objects.filter(code=place_code, kind="committee").first()
    if committee is None:
        outcome = Outcome(
            ImportStatus.FAILED,
            errors=[Problem("", FILE_ROW, "", _("居委会代码“%(code)s”不存在。") % {"code": place_code})],
        )
        return _finish(job, outcome)
    parsed = read_file(data, filename)
    total = parsed.total_rows
    if parsed.fatal:
        return _finish(job, Outcome(ImportStatus.FAILED, total, errors=_sort(parsed.problems, parsed)))
    if total == 0:
        message = _("文件中没有数据行：第 1 行是表头，数据从第 2 行开始。")
        return _finish(job, Outcome(ImportStatus.FAILED, errors=[Problem("", FILE_ROW, "", message)]))
    checker = Checker(
        parsed,
        committee=committee,
        only_valid=only_valid,
        progress=progress,
        guarded=approval_fields(by, committee.code),
    )
    plan = checker.check()
    errors = _sort(checker.problems, parsed)
    if errors and (not only_valid or plan.empty):
        return _finish(job, Outcome(ImportStatus.FAILED, total, errors=errors))
    outermost = not connection.in_atomic_block
    if progress is not None:
        progress.allow_side_connection(outermost)
    try:
        with transaction.atomic():
            counts = _write(plan, by=by, progress=progress, reason=_("导入：%(file)s") % {"file": filename})
            if progress is not None:
                progress.close()
            outcome = Outcome(
                ImportStatus.DONE,
                total,
                houses_created=counts.houses_created,
                persons_created=counts.persons_created,
                persons_updated=counts.persons_updated,
                errors=errors,
            )
            if not plan.empty:
                record_change(
                    actor=by,
                    action=ChangeAction.IMPORT,
                    object_type=ImportJob._meta.label_lower,
                    object_id=str(job.pk) if job is not None else "",
                    object_repr=(_("导入人口数据：%(file)s") % {"file": filename})[:200],
                    place_code=place_code,
                    after={
                        "file": filename,
                        "job": str(job.token) if job is not None else "",
                        "committee": place_code,
                        "rows": total,
                        "houses_created": counts.houses_created,
                        "houses_updated": len(plan.changed_houses),
                        "households_created": len(plan.new_households),
                        "persons_created": counts.persons_created,
                        "persons_updated": counts.persons_updated,
                        "memberships_created": len(plan.new_memberships),
                        "rows_with_errors": len({(e.sheet, e.row) for e in errors}),
                    },
                    only_changes=False,
                )
            return _finish(job, outcome)
    except IntegrityError:
        log.warning("import into %s collided with a concurrent change", place_code, exc_info=True)
        message = _("导入时有数据被他人同时修改（如同一人刚被登记），未写入任何数据：请重新导入。")
        return _finish(job, Outcome(ImportStatus.FAILED, total, errors=[Problem("", FILE_ROW, "", message)]))
    finally:
        if progress is not None:
            progress.close()


def _finish(job: ImportJob | None, outcome: Outcome) -> Outcome:
    """Save the outcome on the job; a job done without errors no longer keeps the uploaded
    file (personal data is not kept longer than needed: the error report needs it, nothing else)."""
    if job is None:
        return outcome
    job.status = outcome.status
    job.total_rows = outcome.total_rows
    job.processed_rows = outcome.total_rows if outcome.status == ImportStatus.DONE else job.processed_rows
    job.houses_created = outcome.houses_created
    job.persons_created = outcome.persons_created
    job.persons_updated = outcome.persons_updated
    job.errors = [list(p) for p in outcome.errors]
    job.finished_at = timezone.now()
    fields = [
        "status",
        "total_rows",
        "processed_rows",
        "houses_created",
        "persons_created",
        "persons_updated",
        "errors",
        "finished_at",
        "updated_at",
    ]
    if outcome.status == ImportStatus.DONE and not outcome.errors and job.file:
        name, storage = job.file.name, job.file.storage
        job.file = ""  # type: ignore[assignment]
        fields.append("file")
        transaction.on_commit(lambda: storage.delete(name))
    job.save(update_fields=fields)
    return outcome


# ------------------------------------------------------------------------------ jobs


def stored_name(filename: str, only_valid: bool) -> str:
    extension = ".csv" if is_csv(filename) else ".xlsx"
    return f"import-{ONLY_VALID_MARK if only_valid else 'all'}{extension}"


def job_only_valid(job: ImportJob) -> bool:
    return ONLY_VALID_MARK in (job.file.name or "").rsplit("/", 1)[-1]


def start_job(*, by: Any, place_code: str, filename: str, data: bytes, only_valid: bool) -> ImportJob:
    """Store the upload as a job: a small file is imported at once, a large one queued for the
    worker. The option "only valid rows" travels in the stored file's name (ImportJob has no
    column for it)."""
    rows = estimate_rows(data, filename)
    queued = rows > IN_REQUEST_ROWS
    job = ImportJob(
        created_by=by,
        place_code=place_code,
        filename=filename[-200:],
        status=ImportStatus.QUEUED if queued else ImportStatus.RUNNING,
        total_rows=rows,
    )
    job.file.save(stored_name(filename, only_valid), ContentFile(data), save=False)
    job.save()
    if not queued:
        import_file(data, filename, by=by, place_code=place_code, only_valid=only_valid, job=job)
    return job


def run_job(job: ImportJob) -> Outcome:
    """Import a stored job's file (the worker's part)."""
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        message = _("上传的文件已不存在，请重新上传。")
        return _finish(job, Outcome(ImportStatus.FAILED, errors=[Problem("", FILE_ROW, "", message)]))
    if not may_import(job.created_by, job.place_code):  # the role ended while the job waited
        message = _("上传人已没有该居委会的导入权限，未导入任何数据。")
        return _finish(job, Outcome(ImportStatus.FAILED, errors=[Problem("", FILE_ROW, "", message)]))
    progress = Progress(job, max(job.total_rows, 1))
    return import_file(
        data,
        job.filename,
        by=job.created_by,
        place_code=job.place_code,
        only_valid=job_only_valid(job),
        job=job,
        progress=progress,
    )


def _claim() -> ImportJob | None:
    """Take the oldest queued job in a short transaction of its own; SKIP LOCKED keeps two
    workers off the same job (SQLite has one worker)."""
    with transaction.atomic():
        queued = ImportJob.objects.filter(status=ImportStatus.QUEUED).order_by("created_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            queued = queued.select_for_update(skip_locked=True)
        job = queued.select_related("created_by").first()
        if job is None:
            return None
        now = timezone.now()
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(
            status=ImportStatus.RUNNING, processed_rows=0, updated_at=now
        )
        if not claimed:
            return None
    job.status, job.processed_rows, job.updated_at = ImportStatus.RUNNING, 0, now
    return job


def requeue_stale(now: dt.datetime | None = None) -> int:
    """A job RUNNING without progress for STALE_AFTER was left by a crashed worker: its
    transaction rolled back, so it can simply run again."""
    now = now or timezone.now()
    return (
        ImportJob.objects.filter(status=ImportStatus.RUNNING, updated_at__lt=now - STALE_AFTER)
        .exclude(file="")
        .update(status=ImportStatus.QUEUED, processed_rows=0, updated_at=now)
    )


_last_prune = float("-inf")


def prune_files(now: dt.datetime | None = None) -> int:
    """Delete uploaded files of jobs finished more than KEEP_FILES ago."""
    now = now or timezone.now()
    old = ImportJob.objects.filter(
        status__in=[ImportStatus.DONE, ImportStatus.FAILED], created_at__lt=now - KEEP_FILES
    ).exclude(file="")
    count = 0
    for job in old[:200]:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        count += 1
    return count


def run_queued_imports(limit: int = 5) -> int:
    """The worker's job (every 2 s): re-queue crashed jobs, then run queued ones one by one.
    Returns how many jobs ran."""
    global _last_prune
    requeue_stale()
    ran = 0
    while ran < limit:
        job = _claim()
        if job is None:
            break
        try:
            run_job(job)
        except Exception:
            log.exception("import job %s failed", job.token)
            message = _("导入时发生内部错误，未写入任何数据。请稍后重试，或联系系统管理员。")
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.FAILED,
                errors=[["", FILE_ROW, "", message]],
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
        ran += 1
    if time.monotonic() - _last_prune > 3600:
        _last_prune = time.monotonic()
        prune_files()
    return ran


def may_import(user: Any, place_code: str) -> bool:
    """Whether `user` may import into the committee `place_code` (ADD on persons there)."""
    if not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    roles = scope_rule(Person).roles.get(ADD, ())
    return any(place_code.startswith(prefix) for prefix in jurisdiction(user, roles))


def visible_jobs_q(user: Any, prefixes: Sequence[str]) -> Q:
    """The jobs a user sees: their own, and those of committees in their jurisdiction."""
    condition = Q(created_by=user)
    for prefix in prefixes:
        condition |= Q(place_code__within=prefix)
    return condition


# ------------------------------------------------------------------------------ workbooks


def template_workbook() -> bytes:
    """The import template: both sheets' headers with one example row each (text-formatted
    columns where a number would lose digits), and a sheet of instructions."""
    book = new_workbook()
    examples = {
        HOUSES: {"estate": EXAMPLE_ESTATE, "building": "3", "unit": "2", "room": "501", "kind": "自有住房"},
        PERSONS: {
            "name": "张三",
            "id_type": "居民身份证",
            "id_number": EXAMPLE_ID,
            "gender": "男",
            "birth_date": "1980-05-12",
            "phone": "13900001234",
            "residence_type": "户籍人口",
            "estate": EXAMPLE_ESTATE,
            "building": "3",
            "unit": "2",
            "room": "501",
            "number": "0001",
            "relation": "户主",
            "joined_on": "2015-03-01",
            "registered_number": "H0001",
        },
    }
    for kind in (HOUSES, PERSONS):
        sheet = book.create_sheet(kind)
        columns = [c for c in SPECS[kind] if c.in_template]
        sheet.append([c.label for c in columns])
        sheet.append([examples[kind].get(c.key, "") for c in columns])
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(column.width, len(column.label) * 2 + 2)
            head = sheet.cell(row=1, column=index)
            head.font = Font(bold=True, color="A40000" if column.required else None)
            if column.text:
                for row in range(2, 1002):
                    sheet.cell(row=row, column=index).number_format = "@"
        sheet.freeze_panes = "A2"
    notes = book.create_sheet(NOTES_SHEET)
    rows: list[list[Any]] = [
        ["", "", "", str(_("第 1 行为表头（列的顺序不限，多余的列会被忽略）；数据从第 2 行开始。"))],
        ["", "", "", str(_("请删除示例行（示例路100弄、张三）后再导入；红色列名为必填列。"))],
        ["", "", "", str(_("不要合并单元格，不要使用公式；证件号码、电话请以文本格式填写。"))],
        ["", "", "", str(_("同一房屋中户号相同的人为同一实住户，每户有且只有一名户主。"))],
        ["", "", "", str(_("重复导入同一文件不会重复登记：已登记在同一户的人员只更新有变化的信息。"))],
    ]
    for kind in (HOUSES, PERSONS):
        for column in (c for c in SPECS[kind] if c.in_template):
            rows.append([kind, column.label, str(_("必填")) if column.required else "", str(column.note)])
    write_sheet(
        notes, str(_("填表说明")), [_("工作表"), _("列名"), _("是否必填"), _("说明")], rows, first_width=10
    )
    notes.column_dimensions["B"].width = 16
    notes.column_dimensions["D"].width = 90
    return to_bytes(book)


def error_workbook(job: ImportJob) -> bytes:
    """The user's own workbook back (a CSV's rows as a sheet) with a column 错误说明 on each
    sheet, the bad cells filled light red, and a first sheet 错误汇总 listing every error: fix
    in place and import the same file again."""
    problems = [Problem(str(e[0]), int(e[1]), str(e[2]), str(e[3])) for e in job.errors]
    book = _original_book(job)
    by_sheet: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_sheet[problem.sheet].append(problem)
    for ws in list(book.worksheets):
        if ws.title == SUMMARY_SHEET:
            book.remove(ws)
    for ws in book.worksheets:
        if ws.title in by_sheet or ws.title.strip() in {n for names in SHEET_NAMES.values() for n in names}:
            _mark_sheet(ws, by_sheet.get(ws.title, []))
    summary = book.create_sheet(SUMMARY_SHEET, 0)
    write_sheet(
        summary,
        str(_("导入错误汇总：%(file)s（共 %(count)d 条）") % {"file": job.filename, "count": len(problems)}),
        [_("工作表"), _("行号"), _("字段"), _("错误说明")],
        [[p.sheet or _("整个文件"), p.row or "", p.field, p.message] for p in problems],
        first_width=10,
    )
    summary.column_dimensions["C"].width = 16
    summary.column_dimensions["D"].width = 100
    book.active = 0
    return to_bytes(book)


def _original_book(job: ImportJob) -> Any:
    data = b""
    if job.file:
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
        except (OSError, ValueError):
            data = b""
    if data and is_csv(job.filename):
        text = decode_csv(data)
        if text is not None:
            try:
                records = csv_records(text)
            except csv.Error:
                records = []
            book = new_workbook()
            sheet = book.create_sheet((guess_kind(records[0]) if records else None) or PERSONS)
            for record in records:
                sheet.append(record)
            return book
    if data and not is_csv(job.filename):
        try:
            return load_workbook(io.BytesIO(data))
        except Exception:
            log.warning("error report: the stored workbook of job %s cannot be read", job.token)
    return new_workbook()


def _mark_sheet(ws: Any, problems: list[Problem]) -> None:
    header = [cell.value for cell in ws[1]] if ws.max_row >= 1 else []
    kind = (
        HOUSES
        if ws.title.strip() in SHEET_NAMES[HOUSES]
        else PERSONS
        if ws.title.strip() in SHEET_NAMES[PERSONS]
        else guess_kind(header)
    )
    columns = map_header(kind, ws.title, header)[0] if kind else {}
    by_label = {c.label: columns[c.key] + 1 for c in SPECS[kind] if c.key in columns} if kind else {}
    error_column = next(
        (index for index, value in enumerate(header, start=1) if _header_name(value) == ERROR_COLUMN), None
    )
    if error_column is None:
        error_column = len(header) + 1
    else:  # a report imported again: forget the old marks
        for row in range(2, ws.max_row + 1):
            if ws.cell(row=row, column=error_column).value:
                ws.cell(row=row, column=error_column).value = None
                for cell in ws[row]:
                    if (
                        cell.fill is not None
                        and cell.fill.fgColor is not None
                        and cell.fill.fgColor.rgb
                        in (
                            "00FFC7CE",
                            "FFFFC7CE",
                        )
                    ):
                        cell.fill = PatternFill(fill_type=None)
    head = ws.cell(row=1, column=error_column)
    head.value = ERROR_COLUMN
    head.font = Font(bold=True, color="9C0006")
    ws.column_dimensions[get_column_letter(error_column)].width = 60
    messages: dict[int, list[str]] = defaultdict(list)
    for problem in problems:
        if problem.row < 2:
            continue
        messages[problem.row].append(
            f"{problem.field}：{problem.message}" if problem.field else problem.message
        )
        column = by_label.get(problem.field)
        if column is not None:
            cell = ws.cell(row=problem.row, column=column)
            cell.fill = ERROR_FILL
    for row, texts in messages.items():
        cell = ws.cell(row=row, column=error_column)
        cell.value = "；".join(dict.fromkeys(texts))
        cell.font = ERROR_FONT
        cell.fill = ERROR_FILL


def iter_error_rows(job: ImportJob, limit: int = MAX_ERRORS_SHOWN) -> Iterator[Problem]:
    for item in job.errors[:limit]:
        yield Problem(str(item[0]), int(item[1]), str(item[2]), str(item[3]))
