"""Places in the JSON API: a keyset-paged list and a detail, both limited to the caller's scope."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from shequ.accounts.scoping import VIEW, get_scoped_or_404, restrict

from .choices import PlaceKind
from .models import ANCESTORS, Place

router = Router(tags=["places"])

MAX_LIMIT = 200


class PlaceOut(Schema):
    code: str
    name: str
    kind: str
    parent_code: str | None
    has_geometry: bool


class PlaceList(Schema):
    items: list[PlaceOut]
    next_after: str | None = Field(None, description="传给下一次请求的 after 参数；为空表示没有更多。")


class PlaceRef(Schema):
    code: str
    name: str
    kind: str


class PlaceDetail(PlaceOut):
    source: str
    is_active: bool
    ancestors: list[PlaceRef]
    children_count: int
    geometry: dict[str, Any] | None


class PlaceFilters(Schema):
    within: str | None = Field(None, description="只列出该代码的区划及其全部下级。")
    kind: str | None = Field(None, description="类型：city、district、street、committee、grid。")
    after: str | None = Field(None, description="从该代码之后开始（键集分页）。")
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="每页条数，最多 200。")


def _list_row(place: Place) -> dict[str, Any]:
    return {
        "code": place.code,
        "name": place.name,
        "kind": place.kind,
        # Both annotated by the list query.
        "parent_code": place.parent_code,  # type: ignore[attr-defined]
        "has_geometry": bool(place.has_geometry),  # type: ignore[attr-defined]
    }


@router.get("", response=PlaceList, summary="区划列表")
def list_places(request: HttpRequest, filters: Query[PlaceFilters]) -> dict[str, Any]:
    queryset = restrict(Place.objects.all(), request.user, VIEW)
    if filters.within:
        within = get_scoped_or_404(Place.objects.all(), request.user, VIEW, code=filters.within)
        queryset = queryset.filter(code__within=within.prefix)
    if filters.kind:
        if filters.kind not in PlaceKind.values:
            raise ValidationError(
                {
                    "kind": [
                        _("类型“%(kind)s”无效，应为：%(kinds)s。")
                        % {"kind": filters.kind, "kinds": "、".join(PlaceKind.values)}
                    ]
                }
            )
        queryset = queryset.filter(kind=filters.kind)
    if filters.after:
        queryset = queryset.filter(code__gt=filters.after)
    queryset = (
        queryset.annotate(
            parent_code=F("parent__code"),
            has_geometry=ExpressionWrapper(Q(geometry__isnull=False), output_field=BooleanField()),
        )
        .defer("geometry")
        .order_by("code")
    )
    rows = list(queryset[: filters.limit + 1])
    next_after = rows[filters.limit - 1].code if len(rows) > filters.limit else None
    return {"items": [_list_row(place) for place in rows[: filters.limit]], "next_after": next_after}


@router.get("/{code}", response=PlaceDetail, summary="区划详情")
def get_place(request: HttpRequest, code: str) -> dict[str, Any]:
    place = get_scoped_or_404(Place.objects.select_related(ANCESTORS), request.user, VIEW, code=code)
    children = restrict(Place.objects.filter(parent=place), request.user, VIEW).count()
    return {
        "code": place.code,
        "name": place.name,
        "kind": place.kind,
        "parent_code": place.parent.code if place.parent else None,
        "has_geometry": place.geometry is not None,
        "source": place.source,
        "is_active": place.is_active,
        "ancestors": [{"code": a.code, "name": a.name, "kind": a.kind} for a in place.ancestors()],
        "children_count": children,
        "geometry": place.geometry,
    }
