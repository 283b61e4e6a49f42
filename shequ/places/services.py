"""Every write to the place tree (DESIGN §4.1): create and update, validated, scoped, logged.

`by` is the acting user. A plain string names a trusted system actor (``"manage.py load_places"``)
that acts with superuser scope: only code run by an operator on the server passes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shequ.accounts.scoping import ADD, CHANGE, jurisdiction, scope_rule
from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change, snapshot

from .choices import PARENT_KIND, PlaceKind
from .codes import code_errors, parent_code_of
from .models import Place

NAME_MAX = Place._meta.get_field("name").max_length or 100
SOURCE_MAX = Place._meta.get_field("source").max_length or 100
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")

# Fields of a place that the change log records.
LOGGED_FIELDS = ("code", "name", "kind", "parent", "geometry", "source", "is_active")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# --- actors and scope -----------------------------------------------------------------------


def is_system(by: Any) -> bool:
    """A string actor is a trusted server-side process (a management command)."""
    return isinstance(by, str)


def has_full_scope(by: Any) -> bool:
    return is_system(by) or bool(getattr(by, "is_superuser", False) and getattr(by, "is_active", False))


def scope_prefixes(by: Any, action: str) -> list[str] | None:
    """Code prefixes where `by` may take `action` on places; None means everywhere."""
    if has_full_scope(by):
        return None
    if not getattr(by, "is_authenticated", False) or not getattr(by, "is_active", False):
        return []
    return jurisdiction(by, scope_rule(Place).roles.get(action, ()))


def in_scope(code: str, prefixes: list[str] | None) -> bool:
    return prefixes is None or any(code.startswith(prefix) for prefix in prefixes)


# --- validation -----------------------------------------------------------------------------


def split_code_errors(
    code: str, kind: str, parent_code: str | None, parent_kind: str | None
) -> dict[str, list[str]]:
    """`codes.code_errors`, sorted into errors of the code itself and errors of its parent.

    The code is first checked under the parent its digits imply (which always fits), so what
    fails there is the code's own format; only then is it checked under the parent given.
    """
    if kind not in PARENT_KIND:
        return {"kind": code_errors(code, kind, None, None)}
    implied_parent = parent_code_of(code, kind) if code.isascii() and code.isdigit() else None
    own = code_errors(code, kind, implied_parent, PARENT_KIND[kind])
    if own:
        return {"code": own}
    against_parent = code_errors(code, kind, parent_code, parent_kind)
    return {"parent_code": against_parent} if against_parent else {}


def geometry_errors(geometry: Any) -> list[str]:
    """Problems with a GeoJSON boundary: it must be a valid Polygon or MultiPolygon (WGS 84)."""
    if geometry is None:
        return []
    if not isinstance(geometry, dict):
        return [_("边界必须是 GeoJSON 几何对象。")]
    kind = geometry.get("type")
    if kind not in GEOMETRY_TYPES:
        return [_("边界的类型应为 Polygon 或 MultiPolygon，而不是“%(type)s”。") % {"type": kind}]
    from shapely.geometry import shape

    try:
        geom = shape(geometry)
    except Exception:  # shapely raises several types for malformed coordinates
        return [_("边界的坐标格式不正确。")]
    if geom.is_empty:
        return [_("边界不能为空。")]
    min_x, min_y, max_x, max_y = geom.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        return [_("边界坐标应为 WGS 84 经纬度（经度 -180–180，纬度 -90–90）。")]
    if not geom.is_valid:
        from shapely.validation import explain_validity

        return [_("边界不是有效的多边形：%(reason)s。") % {"reason": explain_validity(geom)}]
    return []


def name_errors(name: str) -> list[str]:
    if not name:
        return [_("名称不能为空。")]
    if len(name) > NAME_MAX:
        return [_("名称不能超过 %(max)d 个字符。") % {"max": NAME_MAX}]
    return []


def source_errors(source: str) -> list[str]:
    if len(source) > SOURCE_MAX:
        return [_("数据来源不能超过 %(max)d 个字符。") % {"max": SOURCE_MAX}]
    return []


# --- geometry summary -----------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True)
class GeometrySummary:
    kind: str
    bounds: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    area_m2: float
    parts: int


def geometry_summary(geometry: dict | None) -> GeometrySummary | None:
    """Bounds and approximate area of a boundary.

    The area uses Lambert's cylindrical equal-area projection on a sphere (x = R·λ,
    y = R·sin φ), which keeps areas exact on the sphere; the error against the WGS 84 ellipsoid
    is below 0.5 %, plenty for showing the size of a grid.
    """
    if not geometry or geometry_errors(geometry):
        return None
    import numpy as np
    import shapely
    from shapely.geometry import shape

    geom = shape(geometry)

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
        return np.column_stack([EARTH_RADIUS_M * lon, EARTH_RADIUS_M * np.sin(lat)])

    area = shapely.transform(geom, project).area
    parts = len(geom.geoms) if geom.geom_type == "MultiPolygon" else 1
    min_x, min_y, max_x, max_y = geom.bounds
    return GeometrySummary(
        kind=geom.geom_type, bounds=(min_x, min_y, max_x, max_y), area_m2=area, parts=parts
    )


def _log_place(*, actor: Any, action: str, place: Place, before: dict | None, after: dict | None) -> None:
    record_change(actor=actor, action=action, obj=place, place_code=place.code, before=before, after=after)


def place_snapshot(place: Place) -> dict[str, Any]:
    data = snapshot(place, fields=LOGGED_FIELDS)
    data["parent"] = place.parent.code if place.parent_id and place.parent else None
    return data


# --- services -------------------------------------------------------------------------------


def place_create(
    *,
    by: Any,
    code: str,
    name: str,
    kind: str,
    parent_code: str | None = None,
    geometry: dict | None = None,
    source: str = "",
) -> Place:
    """Add a place under an existing parent (a city has none)."""
    code = (code or "").strip()
    name = (name or "").strip()
    source = (source or "").strip()
    parent_code = (parent_code or "").strip() or None
    errors: dict[str, list[str]] = {}

    parent: Place | None = None
    if parent_code:
        parent = Place.objects.filter(code=parent_code).first()
        if parent is None:
            errors["parent_code"] = [_("上级代码“%(code)s”不存在。") % {"code": parent_code}]
    for field, messages in split_code_errors(
        code, kind, parent_code, parent.kind if parent else None
    ).items():
        errors.setdefault(field, []).extend(messages)
    for field, messages in (
        ("name", name_errors(name)),
        ("geometry", geometry_errors(geometry)),
        ("source", source_errors(source)),
    ):
        if messages:
            errors[field] = messages
    if "code" not in errors and Place.objects.filter(code=code).exists():
        errors["code"] = [_("代码“%(code)s”已存在。") % {"code": code}]
    if errors:
        raise ValidationError(errors)

    prefixes = scope_prefixes(by, ADD)
    if parent is None:
        if prefixes is not None:
            raise PermissionDenied(_("只有系统管理员可以新增市级区划。"))
    elif not in_scope(parent.code, prefixes) or not in_scope(code, prefixes):
        raise PermissionDenied(
            _("您无权在“%(parent)s”之下新增区划：它不在您的辖区内。") % {"parent": parent.name}
        )

    with transaction.atomic():
        try:
            with transaction.atomic():
                place = Place.objects.create(
                    code=code, name=name, kind=kind, parent=parent, geometry=geometry, source=source
                )
        except IntegrityError:
            raise ValidationError({"code": [_("代码“%(code)s”已存在。") % {"code": code}]}) from None
        _log_place(
            actor=by, action=ChangeAction.CREATE, place=place, before=None, after=place_snapshot(place)
        )
    return place


def place_update(
    *,
    by: Any,
    place: Place,
    name: Any = UNSET,
    geometry: Any = UNSET,
    source: Any = UNSET,
    is_active: Any = UNSET,
) -> Place:
    """Change the name, boundary, source or active flag of a place. Code, kind and parent are
    its identity in the tree and do not change here."""
    errors: dict[str, list[str]] = {}
    if name is not UNSET:
        name = (name or "").strip()
        if messages := name_errors(name):
            errors["name"] = messages
    if geometry is not UNSET and (messages := geometry_errors(geometry)):
        errors["geometry"] = messages
    if source is not UNSET:
        source = (source or "").strip()
        if messages := source_errors(source):
            errors["source"] = messages
    if errors:
        raise ValidationError(errors)
    if not in_scope(place.code, scope_prefixes(by, CHANGE)):
        raise PermissionDenied(_("您无权修改“%(name)s”：它不在您的辖区内。") % {"name": place.name})

    with transaction.atomic():
        current = Place.objects.select_for_update(of=("self",)).select_related("parent").get(pk=place.pk)
        before = place_snapshot(current)
        changes = {
            field: value
            for field, value in (
                ("name", name),
                ("geometry", geometry),
                ("source", source),
                ("is_active", is_active),
            )
            if value is not UNSET and getattr(current, field) != value
        }
        if not changes:
            return current
        for field, value in changes.items():
            setattr(current, field, value)
        current.save(update_fields=[*changes, "updated_at"])
        _log_place(
            actor=by, action=ChangeAction.UPDATE, place=current, before=before, after=place_snapshot(current)
        )
    return current


def kind_label(kind: str) -> str:
    try:
        return str(PlaceKind(kind).label)
    except ValueError:
        return kind
