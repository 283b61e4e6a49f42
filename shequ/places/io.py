"""Import and export of the place tree as CSV and GeoJSON.

Import is all or nothing: every row is checked first (format, kind, parent, duplicates,
conflicts with the database, the importer's jurisdiction), the problems are collected as
``RowError(row, field, message)``, and nothing is written unless there are none. Then all rows
are written in one transaction, parents before children, with one change-log row per place
created or changed and one IMPORT row that sums the run up.

Row numbers are the ones the user sees: in a CSV the header is row 1, so the first place is on
row 2; in GeoJSON the first feature is 1. Row 0 stands for the file as a whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequ.accounts.scoping import ADD, CHANGE, EXPORT, restrict
from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change
from shequ.core.importing import ImportResult, RowError

from .choices import CODE_LENGTH, KIND_DEPTH, PlaceKind
from .codes import parent_code_of
from .models import Place
from .services import (
    geometry_errors,
    in_scope,
    kind_label,
    name_errors,
    place_snapshot,
    scope_prefixes,
    source_errors,
    split_code_errors,
)

CSV = "csv"
GEOJSON = "geojson"
FORMATS = (CSV, GEOJSON)

CSV_COLUMNS = ("code", "name", "kind", "parent_code", "source")
REQUIRED_COLUMNS = ("code", "name")
# Header names a person may type in a spreadsheet, mapped to the column they mean.
HEADER_ALIASES = {
    "代码": "code",
    "区划代码": "code",
    "名称": "name",
    "类型": "kind",
    "上级代码": "parent_code",
    "数据来源": "source",
    "来源": "source",
}
MAX_ROWS = 100_000
FILE_ROW = 0  # errors about the file as a whole

# Sentinel: the row says nothing about the field, so an existing place keeps its value.
KEEP: Any = object()


@dataclass
class PlaceRow:
    row: int
    code: str
    name: str
    kind: str = ""
    parent_code: str = ""
    source: Any = KEEP
    geometry: Any = KEEP


# --- format helpers -------------------------------------------------------------------------


def detect_format(filename: str) -> str | None:
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        return CSV
    if lowered.endswith((".geojson", ".json")):
        return GEOJSON
    return None


def infer_kind(code: str) -> str | None:
    """The kind a code's length implies, where that is unambiguous (6 digits: city if it ends
    with 00, else district)."""
    if not code.isascii() or not code.isdigit():
        return None
    if len(code) == CODE_LENGTH[PlaceKind.DISTRICT]:
        return PlaceKind.CITY if code.endswith("00") else PlaceKind.DISTRICT
    for kind in (PlaceKind.STREET, PlaceKind.COMMITTEE, PlaceKind.GRID):
        if len(code) == CODE_LENGTH[kind]:
            return kind
    return None


def _kind_aliases() -> dict[str, str]:
    aliases = {value: value for value in PlaceKind.values}
    for value, label in PlaceKind.choices:
        aliases[str(label)] = value
    # Labels in the default language, whatever the active language is.
    aliases.update({"市": "city", "区": "district", "街道": "street", "镇": "street", "街道/镇": "street"})
    aliases.update({"居委": "committee", "村委": "committee", "居委/村委": "committee", "网格": "grid"})
    aliases["单元网格"] = "grid"
    return aliases


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return str(value).strip()


def _decode(data: bytes | str) -> tuple[str | None, list[RowError]]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Chinese Windows saves "CSV" in GB18030/GBK; accept it rather than refuse.
        return data.decode("gb18030"), []
    except UnicodeDecodeError:
        return None, [RowError(FILE_ROW, "file", _("无法识别文件编码，请保存为 UTF-8 编码后再导入。"))]


# --- parsing --------------------------------------------------------------------------------


def parse_csv(data: bytes | str) -> tuple[list[PlaceRow], list[RowError]]:
    """Rows of a CSV with the columns code,name[,kind][,parent_code][,source]."""
    text, errors = _decode(data)
    if text is None:
        return [], errors
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, "file", _("文件是空的：第 1 行应为表头 code,name,kind,parent_code。"))]
    except csv.Error as exc:
        return [], [RowError(1, "file", _("无法读取 CSV：%(error)s") % {"error": exc})]
    columns: list[str | None] = []
    seen: set[str] = set()
    for raw in header:
        name = raw.strip().lower()
        name = HEADER_ALIASES.get(raw.strip(), name)
        if name in CSV_COLUMNS:
            if name in seen:
                errors.append(RowError(1, name, _("表头中的列“%(column)s”重复。") % {"column": name}))
            seen.add(name)
            columns.append(name)
        else:
            columns.append(None)  # extra columns are ignored
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            errors.append(RowError(1, required, _("表头缺少必需的列“%(column)s”。") % {"column": required}))
    if errors:
        return [], errors

    rows: list[PlaceRow] = []
    row_number = 1
    try:
        for record in reader:
            row_number += 1
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                return [], [
                    RowError(row_number, "file", _("文件超过 %(max)d 行，请分批导入。") % {"max": MAX_ROWS})
                ]
            values = {column: cell.strip() for column, cell in zip(columns, record, strict=False) if column}
            rows.append(
                PlaceRow(
                    row=row_number,
                    code=values.get("code", ""),
                    name=values.get("name", ""),
                    kind=values.get("kind", ""),
                    parent_code=values.get("parent_code", ""),
                    source=values["source"] if "source" in seen else KEEP,
                )
            )
    except csv.Error as exc:
        return [], [RowError(row_number, "file", _("无法读取 CSV：%(error)s") % {"error": exc})]
    return rows, []


def parse_geojson(data: bytes | str) -> tuple[list[PlaceRow], list[RowError]]:
    """Rows of a GeoJSON FeatureCollection whose features carry code/name/kind/parent_code."""
    text, errors = _decode(data)
    if text is None:
        return [], errors
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [
            RowError(
                FILE_ROW,
                "file",
                _("不是有效的 JSON（第 %(line)d 行）：%(error)s") % {"line": exc.lineno, "error": exc.msg},
            )
        ]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [RowError(FILE_ROW, "file", _("GeoJSON 文件的顶层应为 FeatureCollection。"))]
    features = document.get("features")
    if not isinstance(features, list):
        return [], [RowError(FILE_ROW, "features", _("FeatureCollection 缺少 features 数组。"))]
    if len(features) > MAX_ROWS:
        return [], [
            RowError(FILE_ROW, "file", _("文件超过 %(max)d 个要素，请分批导入。") % {"max": MAX_ROWS})
        ]
    rows: list[PlaceRow] = []
    for index, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append(RowError(index, "type", _("第 %(index)d 个要素不是 Feature。") % {"index": index}))
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            errors.append(RowError(index, "properties", _("要素缺少 properties 对象。")))
            continue
        code = properties.get("code")
        if isinstance(code, float):
            errors.append(RowError(index, "code", _('代码应写成字符串，如 "310101"。')))
            continue
        rows.append(
            PlaceRow(
                row=index,
                code=_text(code),
                name=_text(properties.get("name")),
                kind=_text(properties.get("kind")),
                parent_code=_text(properties.get("parent_code")),
                source=_text(properties["source"]) if "source" in properties else KEEP,
                geometry=feature.get("geometry"),
            )
        )
    return rows, errors


def parse(data: bytes | str, fmt: str) -> tuple[list[PlaceRow], list[RowError]]:
    if fmt == CSV:
        return parse_csv(data)
    if fmt == GEOJSON:
        return parse_geojson(data)
    raise ValueError(f"unknown place file format {fmt!r}")


# --- validation -----------------------------------------------------------------------------


def _load_existing(codes: Iterable[str]) -> dict[str, Place]:
    wanted = sorted({code for code in codes if code})
    existing: dict[str, Place] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for place in Place.objects.filter(code__in=chunk).select_related("parent"):
            existing[place.code] = place
    return existing


def validate_rows(
    rows: list[PlaceRow], *, by: Any
) -> tuple[list[PlaceRow], dict[str, Place], list[RowError]]:
    """Check every row; returns the normalised rows, the places they touch, and all errors."""
    errors: list[RowError] = []

    def error(row: PlaceRow, field_name: str, message: str) -> None:
        errors.append(RowError(row.row, field_name, message))

    aliases = _kind_aliases()
    first_row_of: dict[str, PlaceRow] = {}
    for row in rows:
        row.code = row.code.strip()
        row.name = row.name.strip()
        row.parent_code = row.parent_code.strip()
        if row.source is not KEEP:
            row.source = row.source.strip()
            for message in source_errors(row.source):
                error(row, "source", message)
        for message in name_errors(row.name):
            error(row, "name", message)
        if row.geometry is not KEEP:
            for message in geometry_errors(row.geometry):
                error(row, "geometry", message)
        if not row.code:
            error(row, "code", _("代码不能为空。"))
            continue
        if row.kind:
            kind = aliases.get(row.kind) or aliases.get(row.kind.lower())
            if kind is None:
                error(
                    row,
                    "kind",
                    _("类型“%(kind)s”无效，应为：%(kinds)s。")
                    % {"kind": row.kind, "kinds": "、".join(PlaceKind.values)},
                )
            row.kind = kind or ""
        elif not (row.code.isascii() and row.code.isdigit()):
            error(row, "code", _("代码“%(code)s”只能由数字组成。") % {"code": row.code})
        else:
            row.kind = infer_kind(row.code) or ""
            if not row.kind:
                error(
                    row,
                    "kind",
                    _("无法从代码“%(code)s”的位数推断类型，请填写 kind 列。") % {"code": row.code},
                )
        if row.kind and not row.parent_code and row.code.isascii() and row.code.isdigit():
            row.parent_code = parent_code_of(row.code, row.kind) or ""
        if row.code in first_row_of:
            error(
                row,
                "code",
                _("代码“%(code)s”在文件中重复（第 %(first)d 行已有）。")
                % {"code": row.code, "first": first_row_of[row.code].row},
            )
        else:
            first_row_of[row.code] = row

    existing = _load_existing([r.code for r in rows] + [r.parent_code for r in rows])
    add_scope = scope_prefixes(by, ADD)
    change_scope = scope_prefixes(by, CHANGE)

    for row in rows:
        if not row.code or not row.kind:
            continue
        parent_kind: str | None = None
        if row.parent_code:
            if row.parent_code in first_row_of:
                parent_kind = first_row_of[row.parent_code].kind or None
            elif row.parent_code in existing:
                parent_kind = existing[row.parent_code].kind
            else:
                error(
                    row,
                    "parent_code",
                    _("上级代码“%(parent)s”不存在：数据库和本文件中都没有。") % {"parent": row.parent_code},
                )
        for field_name, messages in split_code_errors(
            row.code, row.kind, row.parent_code or None, parent_kind
        ).items():
            for message in messages:
                error(row, field_name, message)

        current = existing.get(row.code)
        if current is not None:
            if current.kind != row.kind:
                error(
                    row,
                    "kind",
                    _("代码“%(code)s”已存在，类型为“%(existing)s”，与本行的“%(kind)s”不一致。")
                    % {"code": row.code, "existing": kind_label(current.kind), "kind": kind_label(row.kind)},
                )
            current_parent = current.parent.code if current.parent_id and current.parent else ""
            if current_parent != row.parent_code:
                error(
                    row,
                    "parent_code",
                    _("代码“%(code)s”已存在，上级为“%(existing)s”，与本行的“%(parent)s”不一致。")
                    % {"code": row.code, "existing": current_parent or "—", "parent": row.parent_code or "—"},
                )
            if not in_scope(row.code, change_scope) or not in_scope(row.code, add_scope):
                error(row, "code", _("“%(code)s”不在您的辖区内，不能导入。") % {"code": row.code})
        elif not in_scope(row.code, add_scope):
            error(row, "code", _("“%(code)s”不在您的辖区内，不能导入。") % {"code": row.code})

    errors.sort(key=lambda e: (e.row, e.field))
    return rows, existing, errors


# --- import ---------------------------------------------------------------------------------


def import_rows(rows: list[PlaceRow], *, by: Any, label: str = "", fmt: str = "") -> ImportResult:
    """Validate all rows, then write all of them or none."""
    rows, existing, errors = validate_rows(rows, by=by)
    if errors:
        return ImportResult(errors=errors)
    result = ImportResult()
    places: dict[str, Place] = dict(existing)
    try:
        with transaction.atomic():
            # Level by level, so every parent has its id before its children are inserted.
            for depth in sorted({KIND_DEPTH[row.kind] for row in rows}):
                level = sorted((r for r in rows if KIND_DEPTH[r.kind] == depth), key=lambda r: r.code)
                _create_level([r for r in level if r.code not in existing], places, result, by=by)
                for row in level:
                    if row.code in existing:
                        _update_row(row, existing[row.code], result, by=by)
            record_change(
                actor=by,
                action=ChangeAction.IMPORT,
                object_type=Place._meta.label_lower,
                object_repr=(_("导入区划：%(label)s") % {"label": label})[:200] if label else _("导入区划"),
                place_code=_common_prefix([row.code for row in rows]),
                after={
                    "file": label,
                    "format": fmt,
                    "rows": len(rows),
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
                only_changes=False,
            )
    except IntegrityError:
        return ImportResult(
            errors=[RowError(FILE_ROW, "code", _("导入时有代码被他人同时创建，未写入任何数据，请重新导入。"))]
        )
    return result


def _create_level(rows: list[PlaceRow], places: dict[str, Place], result: ImportResult, *, by: Any) -> None:
    """Insert the new places of one level in bulk, then log each of them."""
    if not rows:
        return
    new = [
        Place(
            code=row.code,
            name=row.name,
            kind=row.kind,
            parent=places[row.parent_code] if row.parent_code else None,
            geometry=None if row.geometry is KEEP else row.geometry,
            source="" if row.source is KEEP else row.source,
        )
        for row in rows
    ]
    created = Place.objects.bulk_create(new, batch_size=1000)
    if any(place.pk is None for place in created):  # a database that cannot return ids
        ids = dict(Place.objects.filter(code__in=[p.code for p in created]).values_list("code", "pk"))
        for place in created:
            place.pk = ids[place.code]
    for place in created:
        places[place.code] = place
        record_change(
            actor=by,
            action=ChangeAction.CREATE,
            obj=place,
            place_code=place.code,
            after=place_snapshot(place),
        )
    result.created += len(created)


def _update_row(row: PlaceRow, current: Place, result: ImportResult, *, by: Any) -> None:
    changes: dict[str, Any] = {}
    if current.name != row.name:
        changes["name"] = row.name
    if row.geometry is not KEEP and current.geometry != row.geometry:
        changes["geometry"] = row.geometry
    if row.source is not KEEP and current.source != row.source:
        changes["source"] = row.source
    if not changes:
        result.unchanged += 1
        return
    before = place_snapshot(current)
    for name, value in changes.items():
        setattr(current, name, value)
    current.save(update_fields=[*changes, "updated_at"])
    record_change(
        actor=by,
        action=ChangeAction.UPDATE,
        obj=current,
        place_code=current.code,
        before=before,
        after=place_snapshot(current),
    )
    result.updated += 1


def _common_prefix(codes: list[str]) -> str:
    """The longest level prefix (2, 4, 6, 9, 12 or 15 digits) shared by all codes, for the
    IMPORT log row's place code, so the row is visible to whoever oversees the whole import."""
    if not codes:
        return ""
    low, high = min(codes), max(codes)
    length = 0
    while length < min(len(low), len(high)) and low[length] == high[length]:
        length += 1
    level = max((n for n in (0, 2, 4, 6, 9, 12, 15) if n <= length), default=0)
    return low[:level]


def import_data(data: bytes | str, fmt: str, *, by: Any, label: str = "") -> ImportResult:
    """Parse a CSV or GeoJSON file and import it (all or nothing)."""
    rows, errors = parse(data, fmt)
    if errors:
        return ImportResult(errors=errors)
    if not rows:
        return ImportResult(errors=[RowError(FILE_ROW, "file", _("文件中没有任何区划。"))])
    return import_rows(rows, by=by, label=label, fmt=fmt)


def errors_csv(errors: Iterable[RowError]) -> str:
    """The error report as CSV (with a BOM, so Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("行号"), _("字段"), _("错误信息")])
    for item in errors:
        writer.writerow([item.row, item.field, item.message])
    return "\ufeff" + buffer.getvalue()


# --- export ---------------------------------------------------------------------------------

EXPORT_FIELDS = ("code", "name", "kind", "parent__code", "source", "geometry")


def export_queryset(user: Any, within: Place | None = None) -> QuerySet[Place]:
    """The places `user` may export, optionally only the subtree of `within`, by code."""
    queryset = restrict(Place.objects.all(), user, EXPORT)
    if within is not None:
        queryset = queryset.filter(code__within=within.prefix)
    return queryset.order_by("code")


def _export_rows(queryset: QuerySet[Place], with_geometry: bool) -> Iterator[tuple]:
    fields = EXPORT_FIELDS if with_geometry else EXPORT_FIELDS[:-1]
    yield from queryset.values_list(*fields).iterator(chunk_size=2000)


def iter_csv(queryset: QuerySet[Place]) -> Iterator[str]:
    """CSV lines (code,name,kind,parent_code,source), BOM first; the importer reads it back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    for count, (code, name, kind, parent_code, source) in enumerate(_export_rows(queryset, False), start=1):
        writer.writerow([code, name, kind, parent_code or "", source])
        if count % 500 == 0:
            yield flush()
    yield flush()


def iter_geojson(queryset: QuerySet[Place]) -> Iterator[str]:
    """A GeoJSON FeatureCollection, one feature per place, streamed feature by feature."""
    yield '{"type": "FeatureCollection", "features": ['
    for index, (code, name, kind, parent_code, source, geometry) in enumerate(_export_rows(queryset, True)):
        feature = {
            "type": "Feature",
            "id": code,
            "properties": {
                "code": code,
                "name": name,
                "kind": kind,
                "parent_code": parent_code,
                "source": source,
            },
            "geometry": geometry,
        }
        yield ("\n" if index == 0 else ",\n") + json.dumps(feature, ensure_ascii=False)
    yield "\n]}\n"
