"""Place kinds and the code rules of each level (DESIGN §1, standards notes §1 and §4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道/镇")
    COMMITTEE = "committee", _("居委/村委")
    GRID = "grid", _("单元网格")


# Digits of each level's code: GB/T 2260 (6), GB/T 10114 (9), statistical 12-digit code (12),
# unit-grid identifier of GB/T 47678.3 / CJ/T 213 (15).
CODE_LENGTH: dict[str, int] = {
    PlaceKind.CITY: 6,
    PlaceKind.DISTRICT: 6,
    PlaceKind.STREET: 9,
    PlaceKind.COMMITTEE: 12,
    PlaceKind.GRID: 15,
}

# The kind a place of each kind hangs under. A city is a root.
PARENT_KIND: dict[str, str | None] = {
    PlaceKind.CITY: None,
    PlaceKind.DISTRICT: PlaceKind.CITY,
    PlaceKind.STREET: PlaceKind.DISTRICT,
    PlaceKind.COMMITTEE: PlaceKind.STREET,
    PlaceKind.GRID: PlaceKind.COMMITTEE,
}

KIND_DEPTH: dict[str, int] = {kind: depth for depth, kind in enumerate(PlaceKind.values)}


def kind_for_length(length: int) -> list[str]:
    return [kind for kind, n in CODE_LENGTH.items() if n == length]


def street_type_label(segment: str) -> str:
    """GB/T 10114 town segment: 001–099 街道, 100–199 镇, 200–399 乡, 400–599 政企合一单位."""
    number = int(segment)
    if number < 100:
        return str(_("街道"))
    if number < 200:
        return str(_("镇"))
    if number < 400:
        return str(_("乡"))
    return str(_("其他乡级单位"))
