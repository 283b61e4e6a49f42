"""The place tree: city → district → street/town → committee → unit grid.

The code is the path (DESIGN §1), so "everything under a place" is one indexed prefix predicate:
``Place.objects.filter(code__within=place.prefix)``. Every other table that belongs to a place
stores the place's code in a ``place_code`` column and is scoped the same way.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.core.models import TimeStampedModel

from .choices import KIND_DEPTH, PlaceKind
from .codes import code_errors, subtree_prefix


class PlaceQuerySet(models.QuerySet["Place"]):
    def within(self, prefix: str) -> PlaceQuerySet:
        return self.filter(code__within=prefix)

    def of_kind(self, kind: str) -> PlaceQuerySet:
        return self.filter(kind=kind)


class Place(TimeStampedModel):
    code = models.CharField(_("代码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=PlaceKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # A GeoJSON geometry object (Polygon or MultiPolygon, WGS 84) or null.
    geometry = models.JSONField(_("边界（GeoJSON）"), null=True, blank=True)
    source = models.CharField(_("数据来源"), max_length=100, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("区划/网格")
        verbose_name_plural = _("区划/网格")
        ordering = ["code"]
        indexes = [
            # Serves `code LIKE '…%'` on PostgreSQL; SQLite uses the unique index for ranges.
            models.Index(fields=["code"], name="place_code_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind", "code"], name="place_kind_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def prefix(self) -> str:
        return subtree_prefix(self.code, self.kind)

    @property
    def depth(self) -> int:
        return KIND_DEPTH[self.kind]

    def clean(self) -> None:
        parent_kind = self.parent.kind if self.parent_id and self.parent else None
        parent_code = self.parent.code if self.parent_id and self.parent else None
        errors = code_errors(self.code or "", self.kind or "", parent_code, parent_kind)
        if errors:
            raise ValidationError({"code": errors})

    def ancestors(self) -> list[Place]:
        """Ancestors from the root down. Load with `ANCESTORS` in select_related for one query."""
        chain: list[Place] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


# select_related path that loads a place with all its ancestors (the tree is five levels deep).
ANCESTORS = "parent__parent__parent__parent"
