"""Every state change of grid management: intake, filing and merging, dispatch and returns,
handling with its after-photo, verification, closing, and the reporter's "is it fixed?".

Each function checks its input (errors name the field, in Chinese with an English catalogue),
runs in one transaction and moves the work order through the engine, so deadlines, the
timeline, permissions and notifications are the engine's. A refused input writes nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import Department
from shequ.workorders import services as engine
from shequ.workorders.attachments import attach, check_photo
from shequ.workorders.choices import CANCELLED, CLOSED, Channel
from shequ.workorders.models import WorkOrder

from .choices import ClassKind, FixedAnswer, ReporterKind
from .locate import bounding_box, distance_m, locate
from .models import ApiKey, Component, Dispatch, GridReport, ManagementClass
from .processes import REPORT_KIND

CHANNELS = {
    ReporterKind.INSPECTOR: Channel.INSPECTOR,
    ReporterKind.RESIDENT: Channel.WEB,
    ReporterKind.STAFF: Channel.PHONE,
    ReporterKind.OPEN311: Channel.APP,
}
# Nearby components offered to the inspector, and checked when one is named.
COMPONENT_RADIUS_M = 30
# A named component farther than this from the reported point is refused as a likely mistake.
COMPONENT_MAX_DISTANCE_M = 100
MAX_DESCRIPTION = 4000  # Open311's limit, kept for every channel


def duplicate_radius_m() -> int:
    return int(getattr(settings, "GRID_DUPLICATE_RADIUS_M", 50))


# ---------------------------------------------------------------------------------- intake


@dataclass
class ReportInput:
    """What a report says, from any channel. `class_code` is a 5-digit item class (事项)."""

    class_code: str
    reporter_kind: str
    longitude: float | None = None
    latitude: float | None = None
    address: str = ""
    description: str = ""
    component: str = ""  # a 17-digit component identifier, optional
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_email: str = ""
    media_url: str = ""
    photos: Sequence[UploadedFile] = field(default_factory=list)


def item_class(code: str) -> ManagementClass:
    code = (code or "").strip()
    found = ManagementClass.objects.filter(kind=ClassKind.ITEM, code=code, is_active=True).first()
    if found is None:
        if not code:
            raise ValidationError({"management_class": [_("请选择问题类别。")]})
        raise ValidationError({"management_class": [_("未知的问题类别“%(code)s”。") % {"code": code[:20]}]})
    return found


def _check_location(data: ReportInput) -> tuple[float, float]:
    if data.longitude is None or data.latitude is None:
        raise ValidationError({"location": [_("请提供问题位置：允许手机定位，或在地图上点选。")]})
    lon, lat = float(data.longitude), float(data.latitude)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            {"location": [_("经纬度超出范围（经度 %(lon)s，纬度 %(lat)s）。") % {"lon": lon, "lat": lat}]}
        )
    return lon, lat


def _component(identifier: str, lon: float, lat: float) -> Component | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    component = Component.objects.filter(identifier=identifier).first()
    if component is None:
        raise ValidationError({"component": [_("部件“%(id)s”不存在。") % {"id": identifier[:17]}]})
    distance = distance_m(lon, lat, component.longitude, component.latitude)
    if distance > COMPONENT_MAX_DISTANCE_M:
        raise ValidationError(
            {
                "component": [
                    _("部件“%(id)s”距上报位置约 %(m)d 米，请确认所选部件或位置。")
                    % {"id": identifier, "m": round(distance)}
                ]
            }
        )
    return component


def nearby_components(
    lon: float, lat: float, *, radius_m: float = COMPONENT_RADIUS_M, limit: int = 20
) -> list[Component]:
    """Components within `radius_m`, nearest first (an index scan on a bounding box, then exact)."""
    west, east, south, north = bounding_box(lon, lat, radius_m)
    candidates = Component.objects.filter(
        latitude__range=(south, north), longitude__range=(west, east)
    ).select_related("management_class")[:500]
    ranked = sorted(
        ((distance_m(lon, lat, c.longitude, c.latitude), c) for c in candidates), key=lambda pair: pair[0]
    )
    return [c for d, c in ranked if d <= radius_m][:limit]


@transaction.atomic
def submit_report(
    *, by: Any, data: ReportInput, api_key: ApiKey | None = None, now: dt.datetime | None = None
) -> GridReport:
    """Create a report and its order at the filing step. Checks everything before writing."""
    errors: dict[str, list[str]] = {}
    cls: ManagementClass | None = None
    try:
        cls = item_class(data.class_code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    located = None
    lon = lat = 0.0
    try:
        lon, lat = _check_location(data)
        located = locate(lon, lat)
        if located is None:
            errors["location"] = [
                _("该位置（经度 %(lon).6f，纬度 %(lat).6f）不在任何单元网格内，请确认位置。")
                % {"lon": lon, "lat": lat}
            ]
        elif api_key is not None and not located.code.startswith(api_key.place.code):
            errors["location"] = [_("该位置不在本接口的受理区域内。")]
    except ValidationError as exc:
        errors.update(exc.message_dict)
    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("问题描述最多 %(n)d 个字。") % {"n": MAX_DESCRIPTION}]
    if data.reporter_email:
        try:
            validate_email(data.reporter_email)
        except ValidationError:
            errors["email"] = [_("电子邮箱格式不正确。")]
    if data.reporter_kind not in ReporterKind.values:
        errors["reporter_kind"] = [_("来源无效。")]
    component = None
    if located is not None:
        try:
            component = _component(data.component, lon, lat)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    for upload in data.photos:
        try:
            check_photo(upload)
        except ValidationError as exc:
            errors.setdefault("photo", []).extend(exc.messages)
    if data.reporter_kind == ReporterKind.INSPECTOR and not data.photos:
        errors.setdefault("photo", []).append(_("监督员上报须附现场照片。"))
    if errors:
        raise ValidationError(errors)
    assert cls is not None and located is not None
    order = engine.create_order(
        kind=REPORT_KIND,
        by=by,
        place_code=located.code,
        title=f"{cls.name}（{located.name}）",
        channel=CHANNELS[ReporterKind(data.reporter_kind)],
        subject=engine.Subject(name=data.reporter_name[:50], phone=data.reporter_phone[:20]),
        data={"class_code": cls.code, "limit": cls.limit, "limit_unit": cls.limit_unit},
        comment=description[:500],
        now=now,
    )
    report = GridReport.objects.create(
        order=order,
        management_class=cls,
        place_code=located.code,
        longitude=lon,
        latitude=lat,
        address=(data.address or "").strip()[:256],
        description=description,
        component=component,
        reporter_kind=data.reporter_kind,
        reporter_user=by if getattr(by, "is_authenticated", False) else None,
        reporter_name=data.reporter_name[:50],
        reporter_phone=data.reporter_phone[:20],
        reporter_email=data.reporter_email[:254],
        api_key=api_key,
        media_url=data.media_url[:500],
        followup_token=secrets.token_urlsafe(16)[:22] if data.reporter_kind != ReporterKind.INSPECTOR else "",
    )
    for upload in data.photos:
        upload.seek(0)
        attach(order=order, by=by, upload=upload, label=_("现场照片"), check_permission=False)
    return report


# ---------------------------------------------------------------------------------- filing


def duplicates_of(report: GridReport, *, radius_m: int | None = None) -> list[tuple[GridReport, float]]:
    """Open reports of the same class within the radius (default GRID_DUPLICATE_RADIUS_M), nearest
    first, offered for merging at filing."""
    radius = radius_m or duplicate_radius_m()
    west, east, south, north = bounding_box(report.longitude, report.latitude, radius)
    candidates = (
        GridReport.objects.filter(
            management_class=report.management_class,
            latitude__range=(south, north),
            longitude__range=(west, east),
            merged_into__isnull=True,
        )
        .exclude(pk=report.pk)
        .exclude(order__step__in=[CLOSED, CANCELLED])
        .select_related("order")[:200]
    )
    found = [(c, distance_m(report.longitude, report.latitude, c.longitude, c.latitude)) for c in candidates]
    return sorted([pair for pair in found if pair[1] <= radius], key=lambda pair: pair[1])


def _report(order_or_report: WorkOrder | GridReport) -> GridReport:
    if isinstance(order_or_report, GridReport):
        return order_or_report
    return GridReport.objects.select_related("order", "management_class").get(pk=order_or_report.pk)


@transaction.atomic
def file_report(
    *, report: GridReport, by: Any, comment: str = "", expected_version: int | None = None
) -> GridReport:
    order = engine.perform(
        order=report.order, by=by, action="file", comment=comment, expected_version=expected_version
    )
    GridReport.objects.filter(pk=report.pk).update(filed_at=order.step_started_at)
    report.refresh_from_db()
    return report


@transaction.atomic
def merge_report(
    *, report: GridReport, into: GridReport, by: Any, expected_version: int | None = None
) -> GridReport:
    """Cancel `report` as a duplicate of `into` (which must be open and of the same class)."""
    if into.pk == report.pk or into.management_class_id != report.management_class_id:
        raise ValidationError({"merge_into": [_("只能合并到同一类别的其他案件。")]})
    target = WorkOrder.objects.select_for_update().get(pk=into.pk)
    if target.is_closed:
        raise ValidationError(
            {"merge_into": [_("案件 %(number)s 已结束，不能合并到它。") % {"number": target.number}]}
        )
    engine.perform(
        order=report.order,
        by=by,
        action="void",
        comment=_("与案件 %(number)s 重复，已合并。") % {"number": target.number},
        expected_version=expected_version,
        data={"merged_into": target.number},
    )
    GridReport.objects.filter(pk=report.pk).update(merged_into=into)
    engine.add_comment(
        order=target, by=by, text=_("合并了重复上报 %(number)s。") % {"number": report.order.number}
    )
    report.refresh_from_db()
    return report


# ---------------------------------------------------------------------------------- dispatch


def suggested_department(report: GridReport) -> Department | None:
    """The class's default department in the report's street, else in its district."""
    code = report.management_class.department_code
    if not code:
        return None
    candidates = Department.objects.filter(
        code=code, is_active=True, place__code__in=[report.place_code[:9], report.place_code[:6]]
    ).select_related("place")
    return max(candidates, key=lambda d: len(d.place.code), default=None)


@transaction.atomic
def dispatch(
    *,
    report: GridReport,
    by: Any,
    department: Department | None,
    comment: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> GridReport:
    """Send the report to `department` (the suggestion unless overridden). The handling clock
    starts now, with the class's limit."""
    if department is None:
        raise ValidationError({"department": [_("请选择处置部门。")]})
    cls = report.management_class
    order = engine.perform(
        order=report.order,
        by=by,
        action="dispatch",
        comment=comment,
        expected_version=expected_version,
        assignee_department=department,
        data={"limit": cls.limit, "limit_unit": cls.limit_unit, "department": department.name},
        now=now,
    )
    now = order.step_started_at or timezone.now()
    Dispatch.objects.create(
        report=report,
        department=department,
        place_code=report.place_code,
        dispatched_at=now,
        dispatched_by_id=getattr(by, "pk", None),
        due_at=order.due_at,
    )
    GridReport.objects.filter(pk=report.pk, dispatched_at__isnull=True).update(
        dispatched_at=order.step_started_at
    )
    report.refresh_from_db()
    return report


def _live_dispatch(report: GridReport) -> Dispatch:
    live = (
        Dispatch.objects.select_for_update()
        .filter(report=report, returned_at__isnull=True, handled_at__isnull=True)
        .first()
    )
    if live is None:
        raise ValidationError({"action": [_("该案件没有进行中的派遣。")]})
    return live


@transaction.atomic
def return_dispatch(
    *, report: GridReport, by: Any, reason: str, expected_version: int | None = None
) -> GridReport:
    """The department returns the dispatch (退单) with a reason; the dispatcher decides again."""
    order = engine.perform(
        order=report.order, by=by, action="return", comment=reason, expected_version=expected_version
    )
    live = _live_dispatch(report)
    live.returned_at = order.step_started_at or timezone.now()
    live.return_reason = reason.strip()[:500]
    live.save(update_fields=["returned_at", "return_reason"])
    report.refresh_from_db()
    return report


@transaction.atomic
def finish_handling(
    *,
    report: GridReport,
    by: Any,
    result: str,
    photos: Sequence[UploadedFile],
    expected_version: int | None = None,
) -> GridReport:
    """The department reports the result with an after-photo (处置后照片)."""
    errors: dict[str, list[str]] = {}
    if not (result or "").strip():
        errors["comment"] = [_("请填写处置结果。")]
    if not photos:
        errors["photo"] = [_("请上传处置后的现场照片。")]
    for upload in photos:
        try:
            check_photo(upload)
        except ValidationError as exc:
            errors.setdefault("photo", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    engine.check_version(report.order, expected_version)
    for upload in photos:  # attached at the handling step, before the order moves on
        upload.seek(0)
        attach(order=report.order, by=by, upload=upload, label=_("处置后照片"))
    order = engine.perform(
        order=report.order, by=by, action="finish", comment=result, expected_version=expected_version
    )
    live = _live_dispatch(report)
    handled_at = order.step_started_at or timezone.now()
    live.handled_at = handled_at
    live.handled_on_time = live.due_at is None or handled_at <= live.due_at
    live.save(update_fields=["handled_at", "handled_on_time"])
    report.refresh_from_db()
    return report


@transaction.atomic
def fail_verification(
    *, report: GridReport, by: Any, reason: str, expected_version: int | None = None
) -> GridReport:
    """The inspector finds the problem still there: back to the same department (返工)."""
    order = engine.perform(
        order=report.order, by=by, action="fail", comment=reason, expected_version=expected_version
    )
    last = Dispatch.objects.filter(report=report, handled_at__isnull=False).order_by("-handled_at").first()
    department = last.department if last else order.assignee_department
    if department is not None:
        Dispatch.objects.create(
            report=report,
            department=department,
            place_code=report.place_code,
            dispatched_at=order.step_started_at or timezone.now(),
            dispatched_by_id=getattr(by, "pk", None),
            due_at=order.due_at,
            rework=True,
        )
    report.refresh_from_db()
    return report


def act(
    *, report: GridReport, by: Any, action: str, comment: str = "", expected_version: int | None = None
) -> GridReport:
    """The plain transitions (forward, send back, pass, close, escalate): the engine alone."""
    special = {"file", "void", "dispatch", "return", "finish", "fail"}
    if action in special:
        raise ValidationError({"action": [_("此操作需要在对应的表单中完成。")]})
    engine.perform(
        order=report.order, by=by, action=action, comment=comment, expected_version=expected_version
    )
    if action == "send_back":
        _reopen_dispatch_for_send_back(report)
    report.refresh_from_db()
    return report


def _reopen_dispatch_for_send_back(report: GridReport) -> None:
    """The command centre sent the answer back: the department's handling is live again."""
    last = Dispatch.objects.filter(report=report, handled_at__isnull=False).order_by("-handled_at").first()
    if last is not None:
        Dispatch.objects.filter(pk=last.pk).update(handled_at=None, handled_on_time=None)


def void_report(
    *, report: GridReport, by: Any, reason: str, expected_version: int | None = None
) -> GridReport:
    """Not filed (注销): not a valid report, or outside what grid management handles."""
    engine.perform(
        order=report.order, by=by, action="void", comment=reason, expected_version=expected_version
    )
    report.refresh_from_db()
    return report


# ---------------------------------------------------------------------------------- "is it fixed?"


@transaction.atomic
def answer_fixed(
    *, report: GridReport, answer: str, comment: str = "", now: dt.datetime | None = None
) -> GridReport:
    """The reporter's answer after closing. A "no" reopens the case at verification, with the
    answer attached, so the inspector goes back to look. Answering twice keeps the first answer."""
    if answer not in FixedAnswer.values:
        raise ValidationError({"answer": [_("请选择“已解决”或“未解决”。")]})
    locked = GridReport.objects.select_for_update().select_related("order").get(pk=report.pk)
    if locked.fixed_answer:
        return locked
    if locked.order.step != CLOSED:
        raise PermissionDenied(_("案件尚未结案。"))
    now = now or timezone.now()
    comment = (comment or "").strip()[:500]
    locked.fixed_answer, locked.fixed_comment, locked.fixed_answered_at = answer, comment, now
    locked.save(update_fields=["fixed_answer", "fixed_comment", "fixed_answered_at"])
    if answer == FixedAnswer.NO:
        reason = _("举报人回复问题未解决：%(comment)s") % {"comment": comment or _("（未说明）")}
        engine.reopen(order=locked.order, by="resident-followup", reason=reason, step="verifying", now=now)
    return locked
