"""Pages of the closed loop: the inspector's mobile report, the case list and detail with the
action form of the current step, and the two public pages (a resident's report, "is it fixed?").

Thin: each POST parses a form, calls one service (which checks every rule and names the field)
and redirects (PRG); reads go through the engine's `visible_orders` (scope and role), so a case
outside the user's area is a 404.
"""

from __future__ import annotations

import base64
import datetime as dt
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.accounts.choices import Role
from shequ.accounts.models import Department
from shequ.accounts.scoping import jurisdiction, user_roles
from shequ.core.actions import form_errors_as_messages, run_action
from shequ.core.http import AuthedRequest
from shequ.core.idempotency import key_from, run_once
from shequ.core.masking import mask_phone
from shequ.core.pagination import keyset_page
from shequ.places.choices import PlaceKind
from shequ.places.models import Place
from shequ.workorders.choices import CANCELLED, CLOSED
from shequ.workorders.models import WorkOrder
from shequ.workorders.permissions import available_transitions, inbox_q
from shequ.workorders.selectors import visible_orders
from shequ.workorders.views import event_labels

from . import services
from .choices import ClassKind
from .forms import ActionForm, ReportForm
from .locate import distance_m
from .models import Dispatch, GridReport, ManagementClass
from .processes import REPORT, REPORT_KIND

PHOTO_INLINE_MAX = 3 * 1024 * 1024
DANGER = frozenset({"void", "escalate", "return", "send_back", "fail"})


# ---------------------------------------------------------------------------------- helpers


def grids_under(prefixes: list[str]) -> list[dict[str, Any]]:
    """The unit grids under `prefixes`, as the small maps draw them."""
    found: list[dict[str, Any]] = []
    for prefix in prefixes:
        rows = Place.objects.filter(
            kind=PlaceKind.GRID, is_active=True, geometry__isnull=False, code__startswith=prefix
        ).values_list("code", "name", "geometry")
        found.extend({"code": c, "name": n, "geometry": g} for c, n, g in rows[:500])
    return found


def _map_config(grids: list[dict[str, Any]], point: tuple[float, float] | None = None, pick: bool = False):
    return {"grids": grids, "point": point, "pick": pick, "tiles": settings.GRID_MAP_TILE_URL}


def _class_groups() -> list[dict[str, Any]]:
    classes = ManagementClass.objects.filter(kind=ClassKind.ITEM, is_active=True).order_by(
        "major_code", "code"
    )
    return [
        {"code": major, "name": items[0].major_name, "classes": items}
        for major, group in groupby(classes, key=lambda c: c.major_code)
        for items in [list(group)]
    ]


def _is_inspector(user: Any) -> bool:
    return user.is_superuser or Role.GRID_INSPECTOR in user_roles(user)


def report_context(form: ReportForm, errors: dict[str, list[str]], grids: list[dict[str, Any]]) -> dict:
    point: tuple[float, float] | None = None
    if form.is_bound and form.is_valid():
        lon, lat = form.cleaned_data.get("longitude"), form.cleaned_data.get("latitude")
        point = (lon, lat) if lon is not None and lat is not None else None
    return {
        "form": form,
        "errors": errors,
        "groups": _class_groups(),
        "map_config": _map_config(grids, point, pick=True),
        "had_photos": form.is_bound,
    }


def submit_once(
    request: HttpRequest, form: ReportForm, scope: str, by: Any
) -> tuple[GridReport | None, dict]:
    """Validate and submit once per idempotency key; (report, {}) or (None, errors by field)."""
    if not form.is_valid():
        return None, form.errors_by_field()
    photos = request.FILES.getlist("photo")
    try:
        outcome = run_once(
            key=key_from(request),
            user_id=getattr(request.user, "pk", None),
            scope=scope,
            action=lambda: services.submit_report(by=by, data=form.to_input(photos)),
            encode=lambda report: report.pk,
            decode=lambda pk: GridReport.objects.get(pk=pk),
        )
    except ValidationError as exc:
        return None, exc.message_dict
    return outcome.value, {}


# ---------------------------------------------------------------------------------- inspector


@login_required
@require_http_methods(["GET", "POST"])
def report(request: AuthedRequest) -> HttpResponse:
    """The inspector's mobile page: photo, GPS or map tap, class, nearby component."""
    if not _is_inspector(request.user):
        raise PermissionDenied(_("只有网格监督员可以在此上报。"))
    grids = grids_under(
        jurisdiction(request.user, {Role.GRID_INSPECTOR}) or ([""] if request.user.is_superuser else [])
    )
    done = None
    if request.method == "POST":
        form = ReportForm(request.POST)
        created, errors = submit_once(request, form, "grid.report", request.user)
        if created is not None:
            return redirect(f"{reverse('grid:report')}?{urlencode({'done': created.order.number})}")
        context = report_context(form, errors, grids)
        return render(request, "grid/report.html", context, status=400)
    number = request.GET.get("done", "")
    if number:
        done = visible_orders(request.user).filter(kind=REPORT_KIND, number=number).first()
    context = report_context(ReportForm(), {}, grids) | {"done": done}
    return render(request, "grid/report.html", context)


@login_required
@require_GET
def nearby(request: AuthedRequest) -> HttpResponse:
    """HTML partial: radio buttons of the components near lon/lat, nearest first."""
    try:
        lon, lat = float(request.GET["lon"]), float(request.GET["lat"])
    except (KeyError, ValueError):
        return render(request, "grid/partials/nearby.html", {"components": [], "bad": True})
    rows = [
        (c, round(distance_m(lon, lat, c.longitude, c.latitude)))
        for c in services.nearby_components(lon, lat)
    ]
    return render(
        request,
        "grid/partials/nearby.html",
        {
            "components": rows,
            "selected": request.GET.get("component", ""),
            "radius": services.COMPONENT_RADIUS_M,
        },
    )


# ---------------------------------------------------------------------------------- list


STEPS = [(s.name, s.label) for s in REPORT.steps] + [
    (CLOSED, gettext_lazy("已结案")),
    (CANCELLED, gettext_lazy("已注销")),
]


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@login_required
@require_GET
def cases(request: AuthedRequest) -> HttpResponse:
    """Reports in scope, newest first, with filters; a keyset page of 50."""
    get = request.GET
    queryset = visible_orders(request.user).filter(kind=REPORT_KIND)
    step, klass = get.get("step", ""), get.get("class", "").strip()
    since, until = _date(get.get("from", "")), _date(get.get("to", ""))
    mine = get.get("mine") == "1"
    if step:
        queryset = queryset.filter(step=step)
    if klass.isdigit() and len(klass) in (2, 5):
        field = "grid__management_class__major_code" if len(klass) == 2 else "grid__management_class__code"
        queryset = queryset.filter(**{field: klass})
    if since:
        queryset = queryset.filter(created_at__date__gte=since)
    if until:
        queryset = queryset.filter(created_at__date__lte=until)
    if mine:
        condition = inbox_q(request.user)
        queryset = queryset.filter(condition) if condition is not None else queryset.none()
    queryset = queryset.select_related("grid__management_class", "assignee_department")
    page = keyset_page(queryset, request, order="-id")
    names = dict(
        Place.objects.filter(code__in={o.place_code for o in page.items}).values_list("code", "name")
    )
    rows = [(o, names.get(o.place_code, o.place_code)) for o in page.items]
    majors = (
        ManagementClass.objects.filter(kind=ClassKind.ITEM).values_list("major_code", "major_name").distinct()
    )
    return render(
        request,
        "grid/cases.html",
        {
            "page": page,
            "rows": rows,
            "steps": STEPS,
            "majors": sorted(set(majors)),
            "f": {
                "step": step,
                "class": klass,
                "from": get.get("from", ""),
                "to": get.get("to", ""),
                "mine": mine,
            },
            "can_report": _is_inspector(request.user),
        },
    )


# ---------------------------------------------------------------------------------- detail


def _order(request: AuthedRequest, number: str) -> WorkOrder:
    order = visible_orders(request.user).filter(kind=REPORT_KIND, number=number).first()
    if order is None:
        raise Http404
    return order


def _photos(order: WorkOrder) -> list[dict[str, Any]]:
    """Photos inline as data URIs: the case page is scope-checked, media files are not served."""
    found = []
    for a in order.attachments.filter(is_photo=True):
        item = {"a": a, "before": a.step in ("", "filing"), "src": ""}
        if a.size <= PHOTO_INLINE_MAX:
            try:
                with a.file.open("rb") as handle:
                    item["src"] = f"data:{a.content_type};base64,{base64.b64encode(handle.read()).decode()}"
            except OSError:
                pass
        found.append(item)
    return found


def _departments(report: GridReport):
    codes = [report.place_code[:9], report.place_code[:6]]
    return Department.objects.filter(is_active=True, place__code__in=codes).select_related("place")


@login_required
@require_GET
def case(request: AuthedRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    report = GridReport.objects.select_related("management_class", "component", "merged_into__order").get(
        pk=order.pk
    )
    # The forward action first and primary; refusals, returns and rework after it, in red.
    transitions = sorted(available_transitions(request.user, order), key=lambda t: t.action in DANGER)
    actions = {t.action for t in transitions}
    grid = Place.objects.filter(code=report.place_code).first()
    grids = (
        [{"code": grid.code, "name": grid.name, "geometry": grid.geometry}] if grid and grid.geometry else []
    )
    suggested = services.suggested_department(report) if "dispatch" in actions else None
    return render(
        request,
        "grid/case.html",
        {
            "order": order,
            "report": report,
            "grid": grid,
            "phone": mask_phone(report.reporter_phone),
            "map_config": _map_config(grids, (report.longitude, report.latitude)),
            "events": [(e, event_labels(REPORT, e)) for e in order.events.all()[:300]],
            "photos": _photos(order),
            "dispatches": Dispatch.objects.filter(report=report).select_related("department"),
            "transitions": transitions,
            "duplicates": services.duplicates_of(report) if "void" in actions else [],
            "departments": list(_departments(report)) if "dispatch" in actions else [],
            "suggested": suggested,
            "danger": DANGER,
        },
    )


def _case_action(request: AuthedRequest, order: WorkOrder, action: str, data: dict[str, Any]):
    """The service call for `action`, as a thunk for run_action."""
    report = GridReport.objects.select_related("order", "management_class").get(pk=order.pk)
    by, comment, version = request.user, data["comment"] or "", data["version"]
    if action == "file":
        return lambda: services.file_report(report=report, by=by, comment=comment, expected_version=version)
    if action == "void":
        return lambda: services.void_report(report=report, by=by, reason=comment, expected_version=version)
    if action == "merge":
        into = GridReport.objects.filter(
            pk__in=visible_orders(by).filter(kind=REPORT_KIND, number=data["merge_into"]).values("pk")
        ).first()
        if into is None:
            raise ValidationError({"merge_into": [_("合并至：请选择要合并到的案件。")]})
        return lambda: services.merge_report(report=report, into=into, by=by, expected_version=version)
    if action == "dispatch":
        department = (
            _departments(report).filter(pk=data["department"]).first() if data["department"] else None
        )
        if data["department"] and department is None:
            raise ValidationError({"department": [_("处置部门：所选部门不在本案件所在区域。")]})
        return lambda: services.dispatch(
            report=report, by=by, department=department, comment=comment, expected_version=version
        )
    if action == "return":
        return lambda: services.return_dispatch(
            report=report, by=by, reason=comment, expected_version=version
        )
    if action == "finish":
        photos = request.FILES.getlist("photo")
        return lambda: services.finish_handling(
            report=report, by=by, result=comment, photos=photos, expected_version=version
        )
    if action == "fail":
        return lambda: services.fail_verification(
            report=report, by=by, reason=comment, expected_version=version
        )
    return lambda: services.act(
        report=report, by=by, action=action, comment=comment, expected_version=version
    )


@login_required
@require_POST
def case_action(request: AuthedRequest, number: str, action: str) -> HttpResponse:
    order = _order(request, number)
    back = redirect("grid:case", number=number)
    form = ActionForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return back
    transition = REPORT.transition(order.step, "void" if action == "merge" else action)
    if transition is None:
        messages.error(request, _("案件当前环节为“%(step)s”，不能执行此操作。") % {"step": order.step_label})
        return back
    try:
        thunk = _case_action(request, order, action, form.cleaned_data)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return back
    label = _("合并重复案件") if action == "merge" else str(transition.label)
    return run_action(
        request,
        scope=f"grid.{action}.{order.pk}",
        action=thunk,
        success=_("已办理：%(label)s。") % {"label": label},
        back=back,
    )
