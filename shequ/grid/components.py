"""City components: 17-digit identifiers, and the import of the GB/T 47678.5 attribute table from
CSV or GeoJSON.

An identifier is the district code (6, GB/T 2260) + the component class (5) + a serial (6). The
import is all-or-nothing: every row is checked first (errors name the row and the field) and
nothing is written if any row is wrong. It upserts by identifier, so re-importing a file changes
nothing; a row with no identifier matches an existing component of the same class, name and
position (so that a re-import does not generate a second one), else gets a new identifier.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from shequ.core.importing import ImportResult, RowError
from shequ.core.sequences import NO_DAY, next_value
from shequ.places.choices import PlaceKind
from shequ.places.models import Place

from .choices import ClassKind, ComponentState, DataSource
from .locate import grid_index
from .models import Component, ManagementClass

IDENTIFIER_LENGTH = 17
MAX_ROWS = 20_000
MAX_BYTES = 20 * 1024 * 1024

# Our field → the names accepted for it: the attribute table's Chinese names, then its field codes.
COLUMNS: dict[str, tuple[str, ...]] = {
    "identifier": ("管理部件标识码", "GLBJBSM"),
    "name": ("管理部件名称", "GLBJMC"),
    "class_code": ("分类代码", "部件分类代码", "FLDM"),
    "competent_code": ("主管部门代码", "ZGBMDM"),
    "competent_name": ("主管部门名称", "ZGBMMC"),
    "owner_code": ("权属单位代码", "QSDWDM"),
    "owner_name": ("权属单位名称", "QSDWMC"),
    "maintainer_code": ("养护单位代码", "YHDWDM"),
    "maintainer_name": ("养护单位名称", "YHDWMC"),
    "state": ("管理部件状态", "GLBJZT"),
    "initial_date": ("初始日期", "CSRQ"),
    "changed_date": ("变更日期", "BGRQ"),
    "data_source": ("数据来源", "SJLY"),
    "note": ("备注", "BZ"),
    "longitude": ("经度", "JD", "X"),
    "latitude": ("纬度", "WD", "Y"),
}
ALIASES = {alias.upper(): key for key, names in COLUMNS.items() for alias in names}
LABELS = {key: names[0] for key, names in COLUMNS.items()}
MAX_LENGTHS = {
    "name": 30,
    "competent_code": 18,
    "competent_name": 100,
    "owner_code": 18,
    "owner_name": 100,
    "maintainer_code": 18,
    "maintainer_name": 100,
    "note": 1000,
}
# Columns compared to decide whether a re-imported row changes anything.
STORED = (
    "management_class_id",
    "name",
    "competent_code",
    "competent_name",
    "owner_code",
    "owner_name",
    "maintainer_code",
    "maintainer_name",
    "place_code",
    "state",
    "initial_date",
    "changed_date",
    "data_source",
    "note",
    "longitude",
    "latitude",
)


def component_classes() -> dict[str, ManagementClass]:
    return {c.code: c for c in ManagementClass.objects.filter(kind=ClassKind.COMPONENT)}


def known_districts() -> set[str]:
    return set(
        Place.objects.filter(kind__in=[PlaceKind.DISTRICT, PlaceKind.CITY]).values_list("code", flat=True)
    )


def identifier_errors(
    value: str, *, districts: set[str] | None = None, classes: Iterable[str] | None = None
) -> list[str]:
    """Every problem of a 17-digit component identifier; empty when valid. `districts` and
    `classes` may be passed in to check many identifiers without a query each."""
    value = (value or "").strip()
    if not re.fullmatch(r"\d+", value):
        return [_("管理部件标识码只能由数字组成。")] if value else [_("管理部件标识码不能为空。")]
    if len(value) != IDENTIFIER_LENGTH:
        return [_("管理部件标识码应为 17 位数字（现为 %(n)d 位）。") % {"n": len(value)}]
    errors = []
    district, code, serial = value[:6], value[6:11], value[11:]
    if district not in (districts if districts is not None else known_districts()):
        errors.append(_("管理部件标识码的前 6 位“%(d)s”不是已知的区县代码。") % {"d": district})
    codes = set(classes) if classes is not None else set(component_classes())
    if code not in codes:
        errors.append(_("管理部件标识码的第 7-11 位“%(c)s”不是部件分类代码。") % {"c": code})
    if serial == "000000":
        errors.append(_("管理部件标识码的顺序码不能为 000000。"))
    return errors


def next_identifier(district: str, class_code: str) -> str:
    """The next free identifier of a class in a district (a counter that never restarts; an
    identifier already taken, e.g. imported with its own serial, is skipped)."""
    while True:
        serial = next_value(f"component:{district}{class_code}", NO_DAY)
        if serial > 999_999:
            raise ValueError(f"component serials of {district}{class_code} are exhausted")
        identifier = f"{district}{class_code}{serial:06d}"
        if not Component.objects.filter(identifier=identifier).exists():
            return identifier


# The CSV line or the GeoJSON feature number (1-based) is the row; 0 is the file itself.
Problem = RowError


def _canonical(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in record.items():
        key = ALIASES.get(str(name or "").strip().upper())
        if key is not None:
            out[key] = "" if value is None else value
    return out


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_csv(data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    text = _decode(data)
    if text is None:
        return [], [Problem(0, "", _("无法识别文件编码，请保存为 UTF-8 或 GB18030 的 CSV。"))]
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return [], [Problem(0, "", _("无法读取 CSV 文件：%(e)s") % {"e": exc})]
    if not records:
        return [], [Problem(0, "", _("文件是空的。"))]
    header = [h.strip() for h in records[0]]
    rows = [
        (line, _canonical(dict(zip(header, values, strict=False))))
        for line, values in enumerate(records[1:], start=2)
        if any(v.strip() for v in values)
    ]
    known = {ALIASES.get(h.upper()) for h in header} - {None}
    problems = [
        Problem(1, LABELS[key], _("缺少必需的列“%(c)s”。") % {"c": LABELS[key]})
        for key in ("name", "competent_name", "initial_date", "longitude", "latitude")
        if key not in known
    ]
    if "class_code" not in known and "identifier" not in known:
        problems.append(Problem(1, LABELS["class_code"], _("须有“分类代码”或“管理部件标识码”列。")))
    return rows, problems


def read_geojson(data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    text = _decode(data)
    try:
        document = json.loads(text or "")
    except ValueError:
        return [], [Problem(0, "", _("不是有效的 GeoJSON 文件。"))]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [Problem(0, "", _("GeoJSON 须为 FeatureCollection。"))]
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for number, feature in enumerate(document.get("features") or [], start=1):
        properties = (feature or {}).get("properties") or {}
        record = _canonical(properties if isinstance(properties, dict) else {})
        geometry = (feature or {}).get("geometry") or {}
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            problems.append(Problem(number, _("位置"), _("几何类型须为 Point（点）。")))
            continue
        record["longitude"], record["latitude"] = coords[0], coords[1]
        rows.append((number, record))
    return rows, problems


def _parse_date(value: Any) -> dt.date | None:
    text = str(value or "").strip()
    for pattern in ("%Y%m%d", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _choice(choices: Any, value: Any) -> str | None:
    text = str(value or "").strip()
    for choice_value, label in choices.choices:
        if text in (choice_value, str(label)):
            return str(choice_value)
    return None


@dataclass
class _Checked:
    row: int
    identifier: str
    values: dict[str, Any]


def _check_row(
    number: int, record: dict[str, Any], classes: dict[str, ManagementClass]
) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(number, LABELS.get(key, key), message))

    text = {k: str(v).strip() for k, v in record.items() if k not in ("longitude", "latitude")}
    values: dict[str, Any] = {}
    for key, limit in MAX_LENGTHS.items():
        values[key] = text.get(key, "")
        if len(values[key]) > limit:
            bad(key, _("“%(f)s”最多 %(n)d 个字。") % {"f": LABELS[key], "n": limit})
    for key in ("name", "competent_name"):
        if not values[key]:
            bad(key, _("“%(f)s”不能为空。") % {"f": LABELS[key]})
    identifier = text.get("identifier", "")
    code = text.get("class_code", "") or identifier[6:11]
    if code not in classes:
        bad(
            "class_code",
            _("未知的部件分类代码“%(c)s”。") % {"c": code[:10]} if code else _("请填写分类代码。"),
        )
    else:
        values["management_class_id"] = classes[code].pk
    values["class_code"] = code
    for key, choices, default in (
        ("state", ComponentState, ComponentState.INTACT),
        ("data_source", DataSource, DataSource.SURVEYED),
    ):
        raw = text.get(key, "")
        chosen = _choice(choices, raw) if raw else str(default)
        if chosen is None:
            allowed = "、".join(str(label) for _v, label in choices.choices)
            bad(
                key,
                _("“%(v)s”不是有效的%(f)s（可选：%(a)s）。")
                % {"v": raw[:20], "f": LABELS[key], "a": allowed},
            )
        values[key] = chosen
    for key, required in (("initial_date", True), ("changed_date", False)):
        raw = text.get(key, "")
        if not raw:
            values[key] = None
            if required:
                bad(key, _("“%(f)s”不能为空。") % {"f": LABELS[key]})
            continue
        try:
            values[key] = _parse_date(raw)
        except ValueError:
            bad(key, _("“%(v)s”不是有效的日期（YYYYMMDD 或 YYYY-MM-DD）。") % {"v": raw[:20]})
    for key, low, high in (("longitude", -180, 180), ("latitude", -90, 90)):
        try:
            number_value = float(str(record.get(key, "")).strip())
            if not low <= number_value <= high or number_value != number_value:
                raise ValueError
            values[key] = round(number_value, 7)
        except (TypeError, ValueError):
            bad(
                key,
                _("“%(f)s”须为 %(lo)d 至 %(hi)d 之间的数字。") % {"f": LABELS[key], "lo": low, "hi": high},
            )
    values["identifier"] = identifier
    return values, problems


def check_rows(
    rows: list[tuple[int, dict[str, Any]]], *, scope_prefixes: list[str] | None
) -> tuple[list[_Checked], list[Problem]]:
    """Every row's values and problems; `scope_prefixes` None means everywhere (a superuser)."""
    classes = component_classes()
    districts = known_districts()
    problems: list[Problem] = []
    checked: list[tuple[int, dict[str, Any]]] = []
    for number, record in rows:
        values, row_problems = _check_row(number, record, classes)
        if values["identifier"]:
            for message in identifier_errors(values["identifier"], districts=districts, classes=classes):
                row_problems.append(Problem(number, LABELS["identifier"], message))
            if values["class_code"] != values["identifier"][6:11] and values["class_code"] in classes:
                row_problems.append(
                    Problem(number, LABELS["class_code"], _("分类代码与管理部件标识码第 7-11 位不一致。"))
                )
        problems.extend(row_problems)
        checked.append((number, values))
    located = [(n, v) for n, v in checked if "longitude" in v and "latitude" in v]
    index = grid_index()
    positions = (
        index.locate_many(
            np.array([v["longitude"] for _n, v in located]), np.array([v["latitude"] for _n, v in located])
        )
        if located
        else []
    )
    for (number, values), position in zip(located, positions, strict=True):
        where = _("位置")
        if position is None:
            problems.append(Problem(number, where, _("该点不在任何单元网格内。")))
            continue
        code = index.codes[position]
        if scope_prefixes is not None and not any(code.startswith(p) for p in scope_prefixes):
            problems.append(
                Problem(number, where, _("该点所在网格 %(g)s 不在您的管辖范围内。") % {"g": code})
            )
        if values["identifier"] and values["identifier"][:6] != code[:6]:
            problems.append(
                Problem(
                    number, LABELS["identifier"], _("标识码的区县代码与所在网格 %(g)s 不一致。") % {"g": code}
                )
            )
        values["place_code"] = code
    seen: dict[str, int] = {}
    for number, values in checked:
        identifier = values["identifier"]
        if identifier and identifier in seen:
            problems.append(
                Problem(
                    number, LABELS["identifier"], _("与第 %(n)d 行的标识码重复。") % {"n": seen[identifier]}
                )
            )
        seen.setdefault(identifier, number) if identifier else None
    result = [_Checked(number, values["identifier"], values) for number, values in checked]
    return result, sorted(problems, key=lambda p: (p.row, p.field))


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in STORED}


@transaction.atomic
def import_components(data: bytes, filename: str, *, scope_prefixes: list[str] | None) -> ImportResult:
    """Check the whole file, then create or update; nothing is written if any row is wrong."""
    if len(data) > MAX_BYTES:
        return ImportResult(errors=[Problem(0, "", _("文件过大（最大 20 MB）。"))])
    is_geojson = filename.lower().endswith((".geojson", ".json"))
    rows, problems = read_geojson(data) if is_geojson else read_csv(data)
    if not problems and not rows:
        problems = [Problem(0, "", _("文件中没有数据行。"))]
    if len(rows) > MAX_ROWS:
        problems.append(Problem(0, "", _("一次最多导入 %(n)d 行。") % {"n": MAX_ROWS}))
    if problems:
        return ImportResult(errors=problems)
    checked, problems = check_rows(rows, scope_prefixes=scope_prefixes)
    existing = {
        c.identifier: c
        for c in Component.objects.select_for_update().filter(
            identifier__in=[row.identifier for row in checked if row.identifier]
        )
    }
    for row in checked:
        found = existing.get(row.identifier)
        if (
            found
            and scope_prefixes is not None
            and not any(found.place_code.startswith(p) for p in scope_prefixes)
        ):
            problems.append(Problem(row.row, LABELS["identifier"], _("该标识码属于您管辖范围以外的部件。")))
    if problems:
        return ImportResult(errors=sorted(problems, key=lambda p: (p.row, p.field)))
    result = ImportResult()
    for row in checked:
        values = _fields(row.values)
        found = existing.get(row.identifier) if row.identifier else _same_unnumbered(values)
        if found is None:
            identifier = row.identifier or next_identifier(values["place_code"][:6], row.values["class_code"])
            Component.objects.create(identifier=identifier, **values)
            result.created += 1
        elif all(getattr(found, name) == value for name, value in values.items()):
            result.unchanged += 1
        else:
            for name, value in values.items():
                setattr(found, name, value)
            found.save()
            result.updated += 1
    return result


def _same_unnumbered(values: dict[str, Any]) -> Component | None:
    """A row without an identifier is the component of the same class and name at that point."""
    return Component.objects.filter(
        management_class_id=values["management_class_id"],
        name=values["name"],
        longitude=values["longitude"],
        latitude=values["latitude"],
    ).first()
