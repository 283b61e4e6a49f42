"""The matter catalogue (事项目录): loading it from JSON, and exporting it to / importing it from Excel.

Every way in goes through the same checks and the same rule: all rows are checked first (required
fields, known category / item type / material form / delivery values, time limits, unique codes),
problems are collected as ``RowError(row, field, message)``, and nothing is written unless there
are none. Then every matter is upserted by its code in one transaction (its materials replaced when
they differ), with a CREATE/UPDATE change-log row per matter that changed and one IMPORT row that
sums the run up. Matters missing from the file are left as they are (deactivate them instead).

Row numbers are the ones the user sees: in JSON the first matter is 1; in Excel the header is row 1,
so the first matter (or material) is on row 2 of its sheet. Row 0 stands for the file as a whole.

The Excel file has two sheets, ``事项`` (one row per matter) and ``材料`` (one row per material,
keyed by the matter's code). Headers read "中文名 (field_name)"; the importer goes by the field
name in brackets, so a header translated into another language still imports. Lists are written
comma-separated, the procedure one step per line, yes/no as 是/否. Exporting and importing the
file again changes nothing.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from shequ.accounts.choices import STAFF_ROLES, Role
from shequ.accounts.scoping import user_roles
from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change, snapshot
from shequ.core.importing import ImportResult as BaseImportResult
from shequ.core.importing import RowError

from .choices import DeliveryMethod, ItemType, MaterialForm, MatterCategory
from .models import Matter, MatterMaterial

SHEET_MATTERS = "事项"
SHEET_MATERIALS = "材料"

# Columns of the 事项 sheet / keys of a matter in JSON, in file order.
MATTER_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "category",
    "item_type",
    "department_code",
    "cooperating_departments",
    "legal_basis",
    "conditions",
    "procedure",
    "statutory_days",
    "promised_days",
    "on_the_spot",
    "fee",
    "delivery_options",
    "proxy_allowed",
    "visits",
    "is_active",
    "sort_order",
)
MATERIAL_FIELDS: tuple[str, ...] = ("name", "form", "copies", "source", "mandatory", "note")
REQUIRED_MATTER_FIELDS = frozenset(
    {
        "code",
        "name",
        "category",
        "item_type",
        "department_code",
        "legal_basis",
        "conditions",
        "procedure",
        "promised_days",
        "delivery_options",
    }
)
REQUIRED_MATERIAL_FIELDS = frozenset({"name", "form"})
# The 材料 sheet's key column, and a column for people that the importer ignores.
MATERIAL_KEY = "matter_code"
MATERIAL_INFO = "matter_name"
MATERIALS_KEY = "materials"  # the list of materials of a matter in JSON

FILE_ROW = 0
HEADER_ROW = 1
MAX_ROWS = 5_000
MAX_DAYS = 365
MAX_VISITS = 10
MAX_COPIES = 99
MAX_SORT_ORDER = 1_000_000

YES = "是"
NO = "否"
TRUE_WORDS = frozenset({"是", "yes", "y", "true", "t", "1", "√", "✓"})
FALSE_WORDS = frozenset({"否", "no", "n", "false", "f", "0", "×", "✗"})
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
# Codes that would collide with the catalogue's own page addresses (/affairs/catalogue/import/).
RESERVED_CODES = frozenset({"import"})
LIST_SEPARATORS = re.compile(r"[\s,，、;；]+")
HEADER_FIELD = re.compile(r"[(（]\s*([A-Za-z_]+)\s*[)）]\s*$")

# Sentinel: the file says nothing about this optional field, so an existing matter keeps its value
# (a new one gets the model default).
KEEP: Any = object()

DEFAULTS: dict[str, Any] = {
    "cooperating_departments": [],
    "statutory_days": None,
    "on_the_spot": False,
    "fee": "不收费",
    "proxy_allowed": True,
    "visits": 1,
    "is_active": True,
    "sort_order": 0,
}
MATERIAL_DEFAULTS: dict[str, Any] = {"copies": 1, "source": "申请人自备", "mandatory": True, "note": ""}


@dataclass
class ImportResult(BaseImportResult):
    materials: int = 0


# --- who may do what -------------------------------------------------------------------------


def may_import_catalogue(user: Any) -> bool:
    """Superusers and leaders (街道/区领导) maintain the catalogue."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or Role.LEADER in user_roles(user))


def may_export_catalogue(user: Any) -> bool:
    """Any staff member may download the catalogue (it is public reference data)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or user_roles(user) & STAFF_ROLES)


# --- locations and messages ------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """Where a value sits, for the message: a JSON matter (and its n-th material) or a sheet row."""

    row: int
    sheet: str = ""  # "" for JSON, else SHEET_MATTERS / SHEET_MATERIALS
    material: int = 0  # 1-based position of a material inside a JSON matter

    def describe(self) -> str:
        if self.row == FILE_ROW:
            return _("整个文件")
        if self.sheet == SHEET_MATTERS:
            return _("“事项”表第 %(row)d 行") % {"row": self.row}
        if self.sheet == SHEET_MATERIALS:
            return _("“材料”表第 %(row)d 行") % {"row": self.row}
        if self.material:
            return _("第 %(row)d 个事项的第 %(n)d 项材料") % {"row": self.row, "n": self.material}
        return _("第 %(row)d 个事项") % {"row": self.row}

    def field_key(self, name: str) -> str:
        if self.material:
            return f"{MATERIALS_KEY}[{self.material}].{name}"
        if self.sheet == SHEET_MATERIALS:
            return f"{MATERIALS_KEY}.{name}"
        return name


def _label(name: str, material: bool = False) -> str:
    if name == MATERIALS_KEY:
        return _("申请材料")
    if name == MATERIAL_KEY:
        return _("事项编码")
    if name == MATERIAL_INFO:
        return _("事项名称")
    model: type[models.Model] = MatterMaterial if material else Matter
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(model_field, "verbose_name", name))


class _Invalid(Exception):
    """A value that cannot be used; the message says what is wrong with it."""


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []

    def add(self, where: _Where, name: str, problem: str, *, material: bool = False) -> None:
        label = _label(name, material)
        message = _("%(where)s，“%(label)s”（%(field)s）：%(problem)s") % {
            "where": where.describe(),
            "label": label,
            "field": name,
            "problem": problem,
        }
        self.items.append(RowError(where.row, where.field_key(name), message))

    def file(self, problem: str, name: str = "file") -> None:
        self.items.append(RowError(FILE_ROW, name, problem))

    def __bool__(self) -> bool:
        return bool(self.items)


# --- value parsers (JSON values and Excel cells alike) ---------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, *, max_length: int | None = None, single_line: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise _Invalid(_("应为文字，不能是是/否值。"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list | dict):
        raise _Invalid(_("应为文字。"))
    text = str(value).strip().replace("\r\n", "\n").replace("\r", "\n")
    if single_line and "\n" in text:
        raise _Invalid(_("不能换行。"))
    if max_length is not None and len(text) > max_length:
        raise _Invalid(_("不能超过 %(max)d 个字符（现有 %(n)d 个）。") % {"max": max_length, "n": len(text)})
    return text


def _int(value: Any, *, minimum: int, maximum: int) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise _Invalid(_("应为整数。"))
    if isinstance(value, float):
        if not value.is_integer():
            raise _Invalid(_("应为整数。"))
        value = int(value)
    if isinstance(value, str):
        stripped = value.strip()
        if not re.fullmatch(r"[+-]?\d+", stripped):
            raise _Invalid(_("应为整数，而不是“%(value)s”。") % {"value": stripped[:40]})
        value = int(stripped)
    if not isinstance(value, int):
        raise _Invalid(_("应为整数。"))
    if not minimum <= value <= maximum:
        raise _Invalid(
            _("应在 %(min)d 到 %(max)d 之间（现为 %(value)d）。")
            % {"min": minimum, "max": maximum, "value": value}
        )
    return value


def _bool(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _Invalid(_("应为“是”或“否”，而不是“%(value)s”。") % {"value": str(value)[:40]})


@functools.cache
def _fixed_aliases(choices: type[models.TextChoices]) -> dict[str, str]:
    aliases = {value: value for value in choices.values}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            aliases.update({str(label).strip().lower(): value for value, label in choices.choices})
    return aliases


def _choice_aliases(choices: type[models.TextChoices]) -> dict[str, str]:
    """Values and their labels (Chinese, English and the active language) → value."""
    aliases = dict(_fixed_aliases(choices))
    aliases.update({str(label).strip().lower(): value for value, label in choices.choices})
    return aliases


def _choice(value: Any, choices: type[models.TextChoices]) -> str:
    text = _text(value)
    aliases = _choice_aliases(choices)
    resolved = aliases.get(text) or aliases.get(text.lower())
    if resolved is None:
        allowed = "、".join(f"{v}（{label}）" for v, label in choices.choices)
        raise _Invalid(
            _("“%(value)s”不是可选值；可选：%(allowed)s。") % {"value": text[:40], "allowed": allowed}
        )
    return resolved


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise _Invalid(_("列表中的每一项都应为文字。"))
            items.append(item.strip())
        return [item for item in items if item]
    if isinstance(value, str):
        return [item for item in LIST_SEPARATORS.split(value.strip()) if item]
    raise _Invalid(_("应为列表，或以逗号分隔的文字。"))


def _slug(value: str, max_length: int = 40) -> str:
    if not SLUG.fullmatch(value):
        raise _Invalid(_("“%(value)s”只能由英文字母、数字、连字符和下划线组成。") % {"value": value[:40]})
    if len(value) > max_length:
        raise _Invalid(_("不能超过 %(max)d 个字符。") % {"max": max_length})
    return value


def _steps(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.replace("\r\n", "\n").split("\n") if line.strip()]
    if isinstance(value, list | tuple):
        steps = []
        for step in value:
            if not isinstance(step, str):
                raise _Invalid(_("每一步都应为文字。"))
            step = step.strip()
            if "\n" in step or "\r" in step:
                raise _Invalid(_("每一步应写在一行内，不能换行。"))
            if step:
                steps.append(step)
        return steps
    raise _Invalid(_("应为步骤列表（Excel 中每行一步）。"))


# --- the rules --------------------------------------------------------------------------------


def matter_rule_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Rules that tie a matter's fields together: field → problem. Shared with the admin form."""
    problems: dict[str, str] = {}
    promised = values.get("promised_days")
    statutory = values.get("statutory_days")
    if isinstance(promised, int) and promised < 1:
        problems["promised_days"] = _("承诺时限至少为 1 个工作日（当场办结的填 1）。")
    elif isinstance(statutory, int) and isinstance(promised, int) and statutory < promised:
        problems["statutory_days"] = _(
            "法定时限（%(statutory)d 个工作日）不能短于承诺时限（%(promised)d 个工作日）。"
        ) % {"statutory": statutory, "promised": promised}
    if values.get("on_the_spot") and isinstance(promised, int) and promised > 1:
        problems["on_the_spot"] = _("当场办结的事项承诺时限应为 1 个工作日（现为 %(days)d 个）。") % {
            "days": promised
        }
    cooperating = values.get("cooperating_departments") or []
    if isinstance(cooperating, list) and values.get("department_code") in cooperating:
        problems["cooperating_departments"] = _("协同科室不能包含承办科室本身。")
    delivery = values.get("delivery_options")
    if isinstance(delivery, list):
        unknown = [v for v in delivery if v not in DeliveryMethod.values]
        if unknown:
            problems["delivery_options"] = _("“%(value)s”不是可选的送达方式；可选：%(allowed)s。") % {
                "value": "、".join(unknown),
                "allowed": "、".join(f"{v}（{label}）" for v, label in DeliveryMethod.choices),
            }
    return problems


@dataclass
class _Clean:
    """A checked matter: field values (KEEP where the file says nothing) and its materials."""

    where: _Where
    values: dict[str, Any]
    materials: list[dict[str, Any]] = field(default_factory=list)


_MATTER_TEXT_LIMITS = {"name": 100, "fee": 200, "legal_basis": 4000, "conditions": 4000}


def _clean_matter_values(raw: Mapping[str, Any], where: _Where, errors: _Errors) -> dict[str, Any]:
    """Check one matter's own fields; what is absent becomes KEEP (optional) or an error (required)."""
    values: dict[str, Any] = {}
    for name in MATTER_FIELDS:
        if name not in raw:
            if name in REQUIRED_MATTER_FIELDS:
                errors.add(where, name, _("缺少该字段。"))
            else:
                values[name] = KEEP
            continue
        value = raw[name]
        try:
            if name in REQUIRED_MATTER_FIELDS and _blank(value) and name != "procedure":
                raise _Invalid(_("必填，不能为空。"))
            if name in ("code", "department_code"):
                values[name] = _slug(_text(value, single_line=True))
                if name == "code" and values[name].lower() in RESERVED_CODES:
                    del values[name]
                    raise _Invalid(_("“%(value)s”是系统保留字，不能用作事项编码。") % {"value": value})
            elif name == "category":
                values[name] = _choice(value, MatterCategory)
            elif name == "item_type":
                values[name] = _choice(value, ItemType)
            elif name in ("name", "fee"):
                text = _text(value, max_length=_MATTER_TEXT_LIMITS[name], single_line=True)
                values[name] = text or DEFAULTS.get(name, "")
            elif name in ("legal_basis", "conditions"):
                values[name] = _text(value, max_length=_MATTER_TEXT_LIMITS[name])
            elif name == "procedure":
                steps = _steps(value)
                if not steps:
                    raise _Invalid(_("至少写一个办理步骤。"))
                if any(len(step) > 200 for step in steps):
                    raise _Invalid(_("每一步不能超过 200 个字符。"))
                values[name] = steps
            elif name == "cooperating_departments":
                codes = [_slug(code) for code in _list(value)]
                if len(set(codes)) != len(codes):
                    raise _Invalid(_("科室代码重复。"))
                values[name] = codes
            elif name == "delivery_options":
                options = [_choice(v, DeliveryMethod) for v in _list(value)]
                if not options:
                    raise _Invalid(_("至少选择一种送达方式。"))
                if len(set(options)) != len(options):
                    raise _Invalid(_("送达方式重复。"))
                values[name] = options
            elif name == "promised_days":
                # 0 passes here so that the rule below explains what to write instead.
                values[name] = _int(value, minimum=0, maximum=MAX_DAYS)
            elif name == "statutory_days":
                values[name] = _int(value, minimum=1, maximum=MAX_DAYS)
            elif name == "visits":
                visits = _int(value, minimum=0, maximum=MAX_VISITS)
                values[name] = DEFAULTS["visits"] if visits is None else visits
            elif name == "sort_order":
                order = _int(value, minimum=0, maximum=MAX_SORT_ORDER)
                values[name] = 0 if order is None else order
            elif name in ("on_the_spot", "proxy_allowed", "is_active"):
                flag = _bool(value)
                values[name] = DEFAULTS[name] if flag is None else flag
        except _Invalid as exc:
            errors.add(where, name, str(exc))
    return values


def _clean_material(raw: Mapping[str, Any], where: _Where, errors: _Errors) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    ok = True
    for name in MATERIAL_FIELDS:
        value = raw.get(name)
        try:
            if name in REQUIRED_MATERIAL_FIELDS and _blank(value):
                raise _Invalid(_("必填，不能为空。"))
            if name == "name":
                values[name] = _text(value, max_length=200, single_line=True)
            elif name == "form":
                values[name] = _choice(value, MaterialForm)
            elif name == "copies":
                copies = _int(value, minimum=1, maximum=MAX_COPIES)
                values[name] = MATERIAL_DEFAULTS["copies"] if copies is None else copies
            elif name == "source":
                values[name] = _text(value, max_length=100, single_line=True) or MATERIAL_DEFAULTS["source"]
            elif name == "mandatory":
                flag = _bool(value)
                values[name] = MATERIAL_DEFAULTS["mandatory"] if flag is None else flag
            elif name == "note":
                values[name] = _text(value, max_length=300, single_line=True)
        except _Invalid as exc:
            errors.add(where, name, str(exc), material=True)
            ok = False
    return values if ok else None


def _check_materials(clean: _Clean, errors: _Errors, *, missing_where: str = "") -> None:
    if not clean.materials:
        errors.add(clean.where, MATERIALS_KEY, missing_where or _("至少需要一项申请材料。"))
    elif not any(m["mandatory"] for m in clean.materials):
        errors.add(clean.where, MATERIALS_KEY, _("至少需要一项必需材料。"))


def _check_unique(cleaned: Sequence[_Clean], errors: _Errors) -> None:
    first: dict[str, _Where] = {}
    for clean in cleaned:
        code = clean.values.get("code")
        if not isinstance(code, str):
            continue
        if code in first:
            errors.add(
                clean.where,
                "code",
                _("事项编码“%(code)s”与%(first)s重复。") % {"code": code, "first": first[code].describe()},
            )
        else:
            first[code] = clean.where


# --- writing ----------------------------------------------------------------------------------


def _material_tuples(materials: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Materials (dicts or MatterMaterial rows) as comparable tuples, in order."""
    return [
        tuple(m[name] if isinstance(m, dict) else getattr(m, name) for name in MATERIAL_FIELDS)
        for m in materials
    ]


def _snapshot(matter: Matter, materials: Iterable[Any]) -> dict[str, Any]:
    data = snapshot(matter, fields=MATTER_FIELDS)
    data[MATERIALS_KEY] = [
        dict(zip(MATERIAL_FIELDS, row, strict=True)) for row in _material_tuples(materials)
    ]
    return data


def _write(cleaned: Sequence[_Clean], errors: _Errors, *, by: Any, label: str) -> ImportResult:
    """Check the cross-field rules against what is stored, then write everything or nothing."""
    result = ImportResult(materials=sum(len(c.materials) for c in cleaned))
    codes = [c.values["code"] for c in cleaned]
    with transaction.atomic():
        existing = {
            m.code: m
            for m in Matter.objects.select_for_update().filter(code__in=codes).prefetch_related("materials")
        }
        merged: list[tuple[_Clean, Matter | None, dict[str, Any]]] = []
        for clean in cleaned:
            current = existing.get(clean.values["code"])
            values = {
                name: (
                    (getattr(current, name) if current is not None else DEFAULTS[name])
                    if value is KEEP
                    else value
                )
                for name, value in clean.values.items()
            }
            for name, problem in matter_rule_errors(values).items():
                errors.add(clean.where, name, problem)
            merged.append((clean, current, values))
        if errors:
            result.errors = errors.items
            return result

        for clean, current, values in merged:
            if current is None:
                matter = Matter.objects.create(**values)
                _replace_materials(matter, clean.materials, delete=False)
                record_change(
                    actor=by,
                    action=ChangeAction.CREATE,
                    obj=matter,
                    after=_snapshot(matter, clean.materials),
                    only_changes=False,
                )
                result.created += 1
                continue
            changed = [name for name, value in values.items() if getattr(current, name) != value]
            old_materials = list(current.materials.all())
            materials_changed = _material_tuples(old_materials) != _material_tuples(clean.materials)
            if not changed and not materials_changed:
                result.unchanged += 1
                continue
            before = _snapshot(current, old_materials)
            for name in changed:
                setattr(current, name, values[name])
            if changed:
                current.save(update_fields=[*changed, "updated_at"])
            else:
                current.save(update_fields=["updated_at"])
            if materials_changed:
                _replace_materials(current, clean.materials, delete=True)
            record_change(
                actor=by,
                action=ChangeAction.UPDATE,
                obj=current,
                before=before,
                after=_snapshot(current, clean.materials),
            )
            result.updated += 1

        record_change(
            actor=by,
            action=ChangeAction.IMPORT,
            object_type=Matter._meta.label_lower,
            object_repr=_("事项目录导入：%(label)s") % {"label": label or "—"},
            after={
                "source": label,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "materials": result.materials,
            },
            only_changes=False,
        )
    return result


def _replace_materials(matter: Matter, materials: Sequence[dict[str, Any]], *, delete: bool) -> None:
    if delete:
        matter.materials.all().delete()
    MatterMaterial.objects.bulk_create(
        [MatterMaterial(matter=matter, sort_order=i, **values) for i, values in enumerate(materials, start=1)]
    )


def _check_actor(by: Any) -> None:
    if isinstance(by, str):
        return  # a system actor such as a management command
    if not may_import_catalogue(by):
        raise PermissionDenied(_("只有领导或系统管理员可以导入事项目录。"))


def _finish(cleaned: list[_Clean], errors: _Errors, *, by: Any, label: str) -> ImportResult:
    _check_unique(cleaned, errors)
    if not cleaned and not errors:
        errors.file(_("文件中没有任何事项。"))
    if errors:
        # Still check the cross-field rules of what was readable, so one run reports every
        # problem; nothing is written.
        for clean in cleaned:
            known = {name: (None if value is KEEP else value) for name, value in clean.values.items()}
            for name, problem in matter_rule_errors(known).items():
                errors.add(clean.where, name, problem)
        return ImportResult(errors=_in_order(errors.items))
    result = _write(cleaned, errors, by=by, label=label)
    result.errors = _in_order(result.errors)
    return result


def _in_order(errors: list[RowError]) -> list[RowError]:
    """By row, the 事项 sheet (or JSON) before the 材料 sheet; a row's errors in the order found."""
    return sorted(errors, key=lambda e: (e.field.startswith(f"{MATERIALS_KEY}."), e.row))


# --- JSON -------------------------------------------------------------------------------------


def load_catalogue(data: Any, *, by: Any, label: str = "") -> ImportResult:
    """Check and upsert a list of matters (the format of data/matters.json): all or nothing."""
    _check_actor(by)
    errors = _Errors()
    if not isinstance(data, list):
        errors.file(_("文件内容应为事项列表（JSON 数组）。"))
        return ImportResult(errors=errors.items)
    if len(data) > MAX_ROWS:
        errors.file(_("一次最多导入 %(max)d 个事项。") % {"max": MAX_ROWS})
        return ImportResult(errors=errors.items)
    known = {*MATTER_FIELDS, MATERIALS_KEY}
    cleaned: list[_Clean] = []
    for row, item in enumerate(data, start=1):
        where = _Where(row)
        if not isinstance(item, dict):
            errors.add(where, "code", _("每个事项应为一个对象（JSON object）。"))
            continue
        for key in sorted(set(item) - known):
            errors.add(where, str(key), _("未知字段。"))
        clean = _Clean(where, _clean_matter_values(item, where, errors))
        raw_materials = item.get(MATERIALS_KEY)
        if not isinstance(raw_materials, list):
            errors.add(where, MATERIALS_KEY, _("缺少申请材料列表。"))
        else:
            before = len(errors.items)
            for n, raw in enumerate(raw_materials, start=1):
                material_where = _Where(row, material=n)
                if not isinstance(raw, dict):
                    errors.add(
                        material_where, "name", _("每项材料应为一个对象（JSON object）。"), material=True
                    )
                    continue
                for key in sorted(set(raw) - set(MATERIAL_FIELDS)):
                    errors.add(material_where, str(key), _("未知字段。"), material=True)
                material = _clean_material(raw, material_where, errors)
                if material is not None:
                    clean.materials.append(material)
            if len(errors.items) == before:
                _check_materials(clean, errors)
        if "code" in clean.values:
            cleaned.append(clean)
    return _finish(cleaned, errors, by=by, label=label)


def catalogue_json(queryset: QuerySet[Matter]) -> list[dict[str, Any]]:
    """The matters as load_catalogue reads them (the format of data/matters.json)."""
    items = []
    for matter in queryset.prefetch_related("materials").order_by("category", "sort_order", "code"):
        item: dict[str, Any] = {name: getattr(matter, name) for name in MATTER_FIELDS}
        item[MATERIALS_KEY] = [
            dict(zip(MATERIAL_FIELDS, row, strict=True)) for row in _material_tuples(matter.materials.all())
        ]
        items.append(item)
    return items


# --- Excel ------------------------------------------------------------------------------------


def _header(name: str, material: bool = False) -> str:
    return f"{_label(name, material)} ({name})"


def _cell(name: str, value: Any) -> Any:
    if isinstance(value, bool):
        return YES if value else NO
    if name == "procedure":
        return "\n".join(value)
    if isinstance(value, list):
        return ", ".join(value)
    if value == "":
        return None
    return value


_WIDTHS = {
    "code": 14,
    "name": 30,
    "legal_basis": 40,
    "conditions": 50,
    "procedure": 40,
    "department_code": 16,
    "cooperating_departments": 18,
    "delivery_options": 22,
    MATERIAL_KEY: 14,
    MATERIAL_INFO: 30,
    "source": 20,
    "note": 30,
}
_WRAPPED = {"legal_basis", "conditions", "procedure"}


def export_xlsx(queryset: QuerySet[Matter]) -> bytes:
    """The matters (and their materials) as an Excel workbook that import_xlsx reads back unchanged."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    matters = list(queryset.prefetch_related("materials").order_by("category", "sort_order", "code"))
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_MATTERS
    materials_sheet = workbook.create_sheet(SHEET_MATERIALS)

    def setup(ws: Any, names: Sequence[str], material: bool) -> None:
        ws.append([_header(name, material) for name in names])
        for index, name in enumerate(names, start=1):
            ws.cell(row=HEADER_ROW, column=index).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(name, 12)
        ws.freeze_panes = "B2"

    def choose(ws: Any, names: Sequence[str], name: str, options: Iterable[str]) -> None:
        column = get_column_letter(names.index(name) + 1)
        validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
        validation.add(f"{column}2:{column}{MAX_ROWS + 1}")
        ws.add_data_validation(validation)

    setup(sheet, MATTER_FIELDS, False)
    for matter in matters:
        sheet.append([_cell(name, getattr(matter, name)) for name in MATTER_FIELDS])
    wrap = Alignment(wrap_text=True, vertical="top")
    for name in _WRAPPED:
        column = MATTER_FIELDS.index(name) + 1
        for row in range(2, len(matters) + 2):
            sheet.cell(row=row, column=column).alignment = wrap
    choose(sheet, MATTER_FIELDS, "category", MatterCategory.values)
    choose(sheet, MATTER_FIELDS, "item_type", ItemType.values)
    for name in ("on_the_spot", "proxy_allowed", "is_active"):
        choose(sheet, MATTER_FIELDS, name, (YES, NO))

    material_columns = (MATERIAL_KEY, MATERIAL_INFO, *MATERIAL_FIELDS)
    setup(materials_sheet, material_columns, True)
    for matter in matters:
        for material in matter.materials.all():
            materials_sheet.append(
                [
                    matter.code,
                    matter.name,
                    *(_cell(name, getattr(material, name)) for name in MATERIAL_FIELDS),
                ]
            )
    choose(materials_sheet, material_columns, "form", MaterialForm.values)
    choose(materials_sheet, material_columns, "mandatory", (YES, NO))

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header_map(
    header: Sequence[Any], known: Sequence[str], sheet: str, errors: _Errors, material: bool
) -> dict[int, str]:
    """Column index → field name, from headers such as "承诺时限（工作日） (promised_days)"."""
    labels = {_label(name, material): name for name in known}
    with translation.override("zh-hans"):
        labels.update({_label(name, material): name for name in known})
    columns: dict[int, str] = {}
    where = _Where(HEADER_ROW, sheet)
    for index, cell in enumerate(header):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        match = HEADER_FIELD.search(text)
        name = match.group(1) if match else (text if text in known else labels.get(text, ""))
        if name not in known:
            errors.add(where, text[:40], _("无法识别的列。"), material=material)
            continue
        if name in columns.values():
            errors.add(where, name, _("该列重复出现。"), material=material)
            continue
        columns[index] = name
    return columns


def _sheet_rows(ws: Any) -> Iterable[tuple[int, tuple[Any, ...]]]:
    for row_number, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if all(_blank(v) for v in values):
            continue
        yield row_number, values


def import_xlsx(file: bytes | IO[bytes] | str, *, by: Any, label: str = "") -> ImportResult:
    """Check and upsert the matters of an Excel workbook in the export_xlsx layout: all or nothing."""
    from openpyxl import load_workbook

    _check_actor(by)
    errors = _Errors()
    source: Any = io.BytesIO(file) if isinstance(file, bytes | bytearray) else file
    try:
        workbook = load_workbook(source, data_only=True)
    except Exception:
        errors.file(_("无法读取该文件：请上传由本系统导出或按其格式填写的 Excel（.xlsx）文件。"))
        return ImportResult(errors=errors.items)

    sheets = {}
    for name in (SHEET_MATTERS, SHEET_MATERIALS):
        if name not in workbook.sheetnames:
            errors.file(_("缺少工作表“%(sheet)s”。") % {"sheet": name}, name="sheet")
        else:
            sheets[name] = workbook[name]
    if errors:
        return ImportResult(errors=errors.items)
    matters_ws, materials_ws = sheets[SHEET_MATTERS], sheets[SHEET_MATERIALS]
    if matters_ws.max_row > MAX_ROWS + 1 or materials_ws.max_row > MAX_ROWS * 10 + 1:
        errors.file(_("行数过多：一次最多导入 %(max)d 个事项。") % {"max": MAX_ROWS})
        return ImportResult(errors=errors.items)

    header = next(matters_ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    matter_columns = _header_map(header, MATTER_FIELDS, SHEET_MATTERS, errors, False)
    for name in sorted(REQUIRED_MATTER_FIELDS - set(matter_columns.values())):
        errors.add(_Where(HEADER_ROW, SHEET_MATTERS), name, _("缺少该列。"))
    material_known = (MATERIAL_KEY, MATERIAL_INFO, *MATERIAL_FIELDS)
    header = next(materials_ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    material_columns = _header_map(header, material_known, SHEET_MATERIALS, errors, True)
    for name in sorted({MATERIAL_KEY, *REQUIRED_MATERIAL_FIELDS} - set(material_columns.values())):
        errors.add(_Where(HEADER_ROW, SHEET_MATERIALS), name, _("缺少该列。"), material=True)
    if errors:
        return ImportResult(errors=errors.items)

    cleaned: list[_Clean] = []
    by_code: dict[str, _Clean] = {}
    for row, cells in _sheet_rows(matters_ws):
        where = _Where(row, SHEET_MATTERS)
        raw = {name: cells[i] if i < len(cells) else None for i, name in matter_columns.items()}
        clean = _Clean(where, _clean_matter_values(raw, where, errors))
        if "code" in clean.values:
            cleaned.append(clean)
            by_code.setdefault(clean.values["code"], clean)

    material_errors_for: set[str] = set()
    for row, cells in _sheet_rows(materials_ws):
        where = _Where(row, SHEET_MATERIALS)
        raw = {name: cells[i] if i < len(cells) else None for i, name in material_columns.items()}
        try:
            code = _text(raw.get(MATERIAL_KEY), single_line=True)
            if not code:
                raise _Invalid(_("必填，不能为空。"))
        except _Invalid as exc:
            errors.add(where, MATERIAL_KEY, str(exc), material=True)
            continue
        owner = by_code.get(code)
        if owner is None:
            errors.add(
                where,
                MATERIAL_KEY,
                _("“事项”表中没有编码为“%(code)s”的事项。") % {"code": code[:40]},
                material=True,
            )
            continue
        material = _clean_material(raw, where, errors)
        if material is None:
            material_errors_for.add(code)
        else:
            owner.materials.append(material)

    for clean in by_code.values():
        if clean.values["code"] not in material_errors_for:
            _check_materials(clean, errors, missing_where=_("“材料”表中没有该事项的材料。"))
    return _finish(cleaned, errors, by=by, label=label)
