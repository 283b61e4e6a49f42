"""Open311 GeoReport v2 at /open311/v2/ (notes §6), exactly as the frozen specification reads,
so that third-party Open311 clients work unchanged.

Every item class (事项) is a `realtime` service; a POST creates a grid report through
`services.submit_report` and answers its order number at once, so token look-ups always 404.
Only reports are exposed, and only their public fields: never the reporter's name, phone or
e-mail. XML is the reference format; JSON follows the Spark convention (root dropped), with
null where XML omits an element. Errors use the spec's `<errors>` body in the requested format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from shequ.core.idempotency import key_from, run_once
from shequ.workorders.choices import CANCELLED, CLOSED
from shequ.workorders.models import WorkOrderEvent

from .choices import ClassKind, ReporterKind
from .models import ApiKey, GridReport, ManagementClass
from .services import MAX_DESCRIPTION, ReportInput, submit_report

CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
MAX_RANGE = dt.timedelta(days=90)
INVALID_KEY = "Invalid api_key received -- can't proceed with create_request."
# XML element of each member of a list (the Spark convention's plural → singular).
MEMBER_TAGS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
# submit_report's field names → the Open311 argument the client sent.
ARGUMENTS = {"management_class": "service_code", "location": "lat/long"}
_SPACE_FOR_PLUS = re.compile(r" (\d\d:?\d\d)$")  # an unencoded "+08:00" arrives as " 08:00"


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(descriptions)
        self.status = status
        self.descriptions = descriptions


# ---------------------------------------------------------------------------------- rendering


def _element(parent: ET.Element, tag: str, value: Any) -> None:
    if value is None:
        return  # absent fields are omitted in XML (null in JSON)
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _element(node, MEMBER_TAGS.get(tag, "item"), item)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    else:
        node.text = str(value)


def _xml(root: str, member: str | None, payload: Any) -> bytes:
    top = ET.Element(root)
    if member is None:
        for key, item in payload.items():
            _element(top, key, item)
    else:
        for item in payload:
            _element(top, member, item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        top, encoding="utf-8", xml_declaration=False
    )


def _respond(fmt: str, root: str, member: str | None, payload: Any, status: int = 200) -> HttpResponse:
    """`payload` is a list of `member` elements under `root`, or (member None) one object."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    else:
        body = _xml(root, member, payload)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def _errors(fmt: str, status: int, descriptions: tuple[str, ...]) -> HttpResponse:
    rows = [{"code": status, "description": text} for text in descriptions]
    return _respond(fmt if fmt in CONTENT_TYPES else "xml", "errors", "error", rows, status=status)


def _w3c(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def endpoint(*methods: str) -> Callable:
    """csrf-exempt, no login; an unknown format or method and every Open311Error answer in the
    spec's error format."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in CONTENT_TYPES:
                return _errors(
                    "xml", 404, (_("不支持的格式“%(fmt)s”：请用 xml 或 json。") % {"fmt": fmt[:10]},)
                )
            if request.method not in {*methods, "HEAD"}:
                response = _errors(fmt, 405, (_("不支持 %(m)s 请求。") % {"m": request.method},))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return _errors(fmt, exc.status, exc.descriptions)

        return wrapper

    return decorate


# ---------------------------------------------------------------------------------- discovery, services


def _items():
    return ManagementClass.objects.filter(kind=ClassKind.ITEM, is_active=True)


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "xml"}))
    changeset = _w3c(_items().aggregate(latest=Max("updated_at"))["latest"]) or "2026-01-01T00:00:00+08:00"
    payload = {
        "changeset": changeset,
        "contact": getattr(settings, "OPEN311_CONTACT", "") or _("街道网格化管理中心"),
        "key_service": _("向街道网格化管理中心申请"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base.rsplit("/", 1)[0],
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _respond(fmt, "discovery", None, payload)


def _service(cls: ManagementClass) -> dict[str, Any]:
    return {
        "service_code": cls.code,
        "service_name": cls.name,
        "description": cls.filing_condition,
        "metadata": False,
        "type": "realtime",
        "keywords": cls.major_name,
        "group": cls.major_name,
    }


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    classes = _items().only("code", "name", "filing_condition", "major_name").order_by("code")
    return _respond(fmt, "services", "service", [_service(c) for c in classes])


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    if not _items().filter(code=code).exists():
        raise Open311Error(404, _("service_code：未找到服务“%(code)s”。") % {"code": code[:20]})
    return _respond(fmt, "service_definition", None, {"service_code": code, "attributes": []})


@endpoint("GET")
def token(request: HttpRequest, token_id: str, fmt: str) -> HttpResponse:
    raise Open311Error(
        404,
        _("token：未找到“%(id)s”。本接口实时返回 service_request_id，不发放 token。") % {"id": token_id[:40]},
    )


# ---------------------------------------------------------------------------------- reading requests


def _closing_notes(reports: list[GridReport]) -> dict[int, str]:
    """The comment that closed or cancelled each closed report, in one query."""
    closed = [r.pk for r in reports if r.order.is_closed]
    notes: dict[int, str] = {}
    if closed:
        events = WorkOrderEvent.objects.filter(order_id__in=closed, step_to__in=[CLOSED, CANCELLED])
        for order_id, comment in events.order_by("created_at", "id").values_list("order_id", "comment"):
            if comment:
                notes[order_id] = comment
    return notes


def _request_row(report: GridReport, notes: dict[int, str]) -> dict[str, Any]:
    order, cls = report.order, report.management_class
    closed = order.is_closed
    department = order.assignee_department.name if order.assignee_department else cls.department_name
    return {
        "service_request_id": order.number,
        "status": "closed" if closed else "open",
        "status_notes": notes.get(order.pk) or str(order.step_label),
        "service_name": cls.name,
        "service_code": cls.code,
        "description": report.description,
        "agency_responsible": department or None,
        "requested_datetime": _w3c(order.created_at),
        "updated_datetime": _w3c(order.closed_at if closed and order.closed_at else order.updated_at),
        "expected_datetime": _w3c(order.due_at) if order.step == "handling" else None,
        "address": report.address or None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": report.media_url or None,
    }


def _reports():
    return GridReport.objects.select_related("order", "order__assignee_department", "management_class")


def _rows(reports: list[GridReport]) -> list[dict[str, Any]]:
    notes = _closing_notes(reports)
    return [_request_row(r, notes) for r in reports]


def _listed(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _when(params: QueryDict, name: str) -> dt.datetime | None:
    raw = _SPACE_FOR_PLUS.sub(r"+\1", params.get(name, "").strip())
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
        day = None if value else parse_date(raw)
    except ValueError:
        value = day = None
    if day is not None:
        value = dt.datetime.combine(day, dt.time.min)
    if value is None:
        raise Open311Error(
            400, _("%(name)s：“%(raw)s”不是 W3C 日期时间格式。") % {"name": name, "raw": raw[:40]}
        )
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _period(params: QueryDict) -> tuple[dt.datetime, dt.datetime]:
    start, end = _when(params, "start_date"), _when(params, "end_date")
    if start and end:
        if end < start:
            raise Open311Error(400, _("end_date：不能早于 start_date。"))
        if end - start > MAX_RANGE:
            raise Open311Error(400, _("start_date/end_date：查询范围不能超过 90 天。"))
        return start, end
    if start:
        return start, start + MAX_RANGE
    end = end or timezone.now()
    return end - MAX_RANGE, end


def _search(params: QueryDict) -> list[GridReport]:
    ids = _listed(params.get("service_request_id", ""))
    if ids:  # overrides every other argument
        return list(_reports().filter(order__number__in=ids[:MAX_RESULTS]).order_by("-order__created_at"))
    start, end = _period(params)
    found = _reports().filter(order__created_at__gte=start, order__created_at__lte=end)
    codes = _listed(params.get("service_code", ""))
    if codes:
        found = found.filter(management_class__code__in=codes)
    statuses = set(_listed(params.get("status", "").lower()))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status：只能是 open 或 closed。"))
    if statuses == {"open"}:
        found = found.exclude(order__status="closed")
    elif statuses == {"closed"}:
        found = found.filter(order__status="closed")
    return list(found.order_by("-order__created_at")[:MAX_RESULTS])


@endpoint("GET")
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    report = _reports().filter(order__number=request_id).first()
    if report is None:
        raise Open311Error(404, _("service_request_id：未找到“%(id)s”。") % {"id": request_id[:40]})
    return _respond(fmt, "service_requests", "request", _rows([report]))


@endpoint("GET", "POST")
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    return _respond(fmt, "service_requests", "request", _rows(_search(request.GET)))


# ---------------------------------------------------------------------------------- creating requests


def _api_key(raw: str) -> ApiKey:
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest() if raw else ""
    key = (
        ApiKey.objects.select_related("place").filter(digest=digest, is_active=True).first() if raw else None
    )
    if key is None:
        raise Open311Error(403, INVALID_KEY)
    return key


def _coordinate(raw: str, name: str, errors: list[str]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors.append(_("%(name)s：“%(raw)s”不是有效的数值。") % {"name": name, "raw": raw[:30]})
        return None
    return value


def _location(post: QueryDict, errors: list[str]) -> tuple[float | None, float | None]:
    lat_raw, long_raw = post.get("lat", "").strip(), post.get("long", "").strip()
    if lat_raw and long_raw:
        return _coordinate(long_raw, "long", errors), _coordinate(lat_raw, "lat", errors)
    if lat_raw or long_raw:
        errors.append(_("lat/long：lat 和 long 必须同时提供。"))
    elif post.get("address_string", "").strip() or post.get("address_id", "").strip():
        errors.append(
            _("lat/long：暂不能按 address_string 或 address_id 定位，请同时提供 lat 和 long（WGS84）。")
        )
    else:
        errors.append(_("lat/long：请提供问题位置（lat 和 long）。"))
    return None, None


def _reporter_name(first: str, last: str) -> str:
    if all(part and not part.isascii() for part in (first, last)):
        return f"{last}{first}"  # a Chinese name: family name first, no space
    return " ".join(part for part in (first, last) if part)


def _report_input(post: QueryDict) -> ReportInput:
    errors: list[str] = []
    longitude, latitude = _location(post, errors)
    description = post.get("description", "")
    if len(description.strip()) > MAX_DESCRIPTION:
        errors.append(_("description：最多 %(n)d 个字符。") % {"n": MAX_DESCRIPTION})
    email, phone = post.get("email", "").strip(), post.get("phone", "").strip()
    media_url = post.get("media_url", "").strip()
    try:
        if email:
            validate_email(email)
    except ValidationError:
        errors.append(_("email：电子邮箱格式不正确。"))
    if len(phone) > 20:
        errors.append(_("phone：电话号码最多 20 位。"))
    try:
        if media_url:
            URLValidator(schemes=["http", "https"])(media_url)
            if len(media_url) > 500:
                raise ValidationError("too long")
    except ValidationError:
        errors.append(_("media_url：须为 500 字符以内的 http(s) 链接。"))
    if not post.get("service_code", "").strip():
        errors.append(_("service_code：必填。"))
    if errors:
        raise Open311Error(400, *errors)
    first, last = post.get("first_name", "").strip(), post.get("last_name", "").strip()
    return ReportInput(
        class_code=post.get("service_code", "").strip(),
        reporter_kind=ReporterKind.OPEN311,
        longitude=longitude,
        latitude=latitude,
        address=post.get("address_string", ""),
        description=description,
        reporter_name=_reporter_name(first, last),
        reporter_phone=phone,
        reporter_email=email,
        media_url=media_url,
    )


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    key = _api_key(request.POST.get("api_key", ""))
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    code = request.POST.get("service_code", "").strip()
    if code and not _items().filter(code=code).exists():
        raise Open311Error(404, _("service_code：未找到服务“%(code)s”。") % {"code": code[:20]})
    data = _report_input(request.POST)

    def submit() -> dict[str, str]:
        report = submit_report(by=f"open311:{key.name}", data=data, api_key=key)
        return {"number": report.order.number}

    try:
        outcome = run_once(
            key=key_from(request),
            user_id=None,
            # per key: two clients that happen to pick the same Idempotency-Key stay apart
            scope=f"open311.post.{key.pk}",
            action=submit,
            encode=lambda value: value,
            decode=lambda stored: stored,
        )
    except ValidationError as exc:
        raise Open311Error(
            400,
            *(
                f"{ARGUMENTS.get(field, field)}：{message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ),
        ) from None
    row = {
        "service_request_id": outcome.value["number"],
        "service_notice": _("已收到，街道网格化管理中心核实后立案处置。"),
        "account_id": None,
    }
    return _respond(fmt, "service_requests", "request", [row])
