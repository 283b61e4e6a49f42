"""The class tables shipped as data (data/README.md names their sources), and their loading.

`load_classes` adds missing classes and refreshes the standard's own columns (name, major
class) of those a city has not edited; a class the city edited (`edited=True`) keeps the
city's department, limit and conditions. It takes the model classes as arguments so the
initial data migration can pass its historical models.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .choices import DEFAULT_CLOSING_CONDITION, DEFAULT_FILING_CONDITION, ClassKind, ClassStandard

DATA = Path(__file__).resolve().parent / "data"
CURRENT_TABLE = DATA / "gbt47678_5_2026.csv"
LEGACY_TABLE = DATA / "cjt214_2007.csv"


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    legacy: int


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_classes(management_class: Any, legacy_class: Any) -> LoadResult:
    existing = {(c.kind, c.code): c for c in management_class.objects.all()}
    created = updated = 0
    filing, closing = str(DEFAULT_FILING_CONDITION), str(DEFAULT_CLOSING_CONDITION)
    for row in _rows(CURRENT_TABLE):
        key = (row["kind"], row["code"])
        values: dict[str, Any] = {
            "name": row["name"],
            "major_code": row["major_code"],
            "major_name": row["major_name"],
        }
        defaults: dict[str, Any] = {
            "department_code": row["department_code"],
            "department_name": row["department_name"],
            "limit": int(row["limit"]) if row["limit"] else None,
            "limit_unit": row["limit_unit"] or "days",
            "filing_condition": filing if row["kind"] == ClassKind.ITEM else "",
            "closing_condition": closing if row["kind"] == ClassKind.ITEM else "",
        }
        found = existing.get(key)
        if found is None:
            management_class.objects.create(kind=row["kind"], code=row["code"], **values, **defaults)
            created += 1
            continue
        changes = dict(values) if found.edited else {**values, **defaults}
        if any(getattr(found, name) != value for name, value in changes.items()):
            for name, value in changes.items():
                setattr(found, name, value)
            found.save()
            updated += 1
    targets = {(c.kind, c.code): c for c in management_class.objects.all()}
    legacy = 0
    for row in _rows(LEGACY_TABLE):
        target_kind = ClassKind.COMPONENT if row["kind"] == "component" else ClassKind.ITEM
        legacy_class.objects.update_or_create(
            standard=ClassStandard.CJT_214,
            kind=row["kind"],
            code=row["code"],
            defaults={
                "name": row["name"],
                "major_name": row["major_name"],
                "maps_to": targets.get((target_kind, row["maps_to"])) if row["maps_to"] else None,
            },
        )
        legacy += 1
    return LoadResult(created, updated, legacy)


def load() -> LoadResult:
    from .models import LegacyClass, ManagementClass

    return load_classes(ManagementClass, LegacyClass)
