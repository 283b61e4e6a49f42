"""Pages of the place tree: browse, detail, import, export. Thin: reads go through `restrict`,
writes through `io`/`services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.scoping import (
    ADD,
    EXPORT,
    VIEW,
    active_assignments,
    get_scoped_or_404,
    jurisdiction,
    may_act,
    restrict,
    scope_rule,
)
from shequ.core.pagination import capped_count, keyset_page

from . import io as place_io
from .codes import subtree_prefix
from .forms import ImportForm
from .models import ANCESTORS, Place
from .services import geometry_summary

REPORT_SESSION_KEY = "places_import_report"
REPORT_CAP = 10_000  # rows kept for the downloadable report
ERRORS_SHOWN = 500  # rows shown on the page
CHILDREN_SHOWN = 50


def _root_codes(user: Any) -> list[str]:
    """Codes of the places at the top of the user's jurisdiction (one per disjoint subtree)."""
    roles = set(scope_rule(Place).roles.get(VIEW, ()))
    prefixes = set(jurisdiction(user, roles))
    return sorted(
        {
            a.place.code
            for a in active_assignments(user)
            if a.role in roles and subtree_prefix(a.place.code, a.place.kind) in prefixes
        }
    )


def _breadcrumbs(user: Any, place: Place) -> list[tuple[Place, bool]]:
    """The chain from the root down to `place`, each with whether the user may open it."""
    chain = [*place.ancestors(), place]
    visible = set(
        restrict(Place.objects.filter(code__in=[p.code for p in chain]), user, VIEW).values_list(
            "code", flat=True
        )
    )
    return [(p, p.code in visible) for p in chain]


def _with_child_counts(queryset: QuerySet[Place]) -> QuerySet[Place]:
    return queryset.annotate(child_count=Count("children")).defer("geometry")


@login_required
@require_GET
def place_list(request: HttpRequest) -> HttpResponse:
    """The user's jurisdiction roots, or the children of `?parent=<code>`."""
    parent_code = request.GET.get("parent", "").strip()
    parent: Place | None = None
    queryset: QuerySet[Place]
    if parent_code:
        parent = get_scoped_or_404(
            Place.objects.select_related(ANCESTORS), request.user, VIEW, code=parent_code
        )
        queryset = Place.objects.filter(parent=parent)
    elif request.user.is_superuser:
        queryset = Place.objects.filter(parent__isnull=True)
    else:
        queryset = Place.objects.filter(code__in=_root_codes(request.user))
    queryset = _with_child_counts(restrict(queryset, request.user, VIEW))
    page = keyset_page(queryset, request, order="code")
    return render(
        request,
        "places/list.html",
        {
            "parent": parent,
            "breadcrumbs": _breadcrumbs(request.user, parent) if parent else [],
            "page": page,
            "can_import": may_act(request.user, Place, ADD),
            "can_export": may_act(request.user, Place, EXPORT),
        },
    )


@login_required
@require_GET
def place_detail(request: HttpRequest, code: str) -> HttpResponse:
    place = get_scoped_or_404(Place.objects.select_related(ANCESTORS), request.user, VIEW, code=code)
    children_qs = restrict(place.children.all(), request.user, VIEW)
    children_count, children_capped = capped_count(children_qs)
    children = list(_with_child_counts(children_qs).order_by("code")[:CHILDREN_SHOWN])
    return render(
        request,
        "places/detail.html",
        {
            "place": place,
            "breadcrumbs": _breadcrumbs(request.user, place),
            "children": children,
            "children_count": children_count,
            "children_capped": children_capped,
            "more_children": children_count > len(children),
            "summary": geometry_summary(place.geometry),
            "can_export": may_act(request.user, Place, EXPORT),
        },
    )


def _require_import(user: Any) -> None:
    if not may_act(user, Place, ADD):
        raise PermissionDenied(_("您没有导入区划的权限。"))


@login_required
@require_http_methods(["GET", "POST"])
def place_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV or GeoJSON file; all rows are written, or none and a row-by-row report."""
    _require_import(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = place_io.import_data(
            upload.read(), form.cleaned_data["format"], by=request.user, label=upload.name or ""
        )
        if result.ok:
            request.session.pop(REPORT_SESSION_KEY, None)
            messages.success(
                request,
                _("导入完成：新增 %(created)d 条，更新 %(updated)d 条，未变化 %(unchanged)d 条。")
                % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            )
            return redirect("places:import")
        request.session[REPORT_SESSION_KEY] = [
            [e.row, e.field, e.message] for e in result.errors[:REPORT_CAP]
        ]
    return render(
        request,
        "places/import.html",
        {
            "form": form,
            "result": result,
            "errors": result.errors[:ERRORS_SHOWN] if result else [],
            "errors_truncated": bool(result and len(result.errors) > ERRORS_SHOWN),
        },
    )


@login_required
@require_GET
def import_report(request: HttpRequest) -> HttpResponse:
    """The last failed import's error report, as CSV (row, field, message)."""
    _require_import(request.user)
    stored = request.session.get(REPORT_SESSION_KEY)
    if not stored:
        raise Http404
    report = place_io.errors_csv(place_io.RowError(int(r), str(f), str(m)) for r, f, m in stored)
    response = HttpResponse(report, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="places-import-errors.csv"'
    return response


@login_required
@require_GET
def place_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    """The places the user may export, optionally only those under `?within=<code>`."""
    if not may_act(request.user, Place, EXPORT):
        raise PermissionDenied(_("您没有导出区划的权限。"))
    within_code = request.GET.get("within", "").strip()
    within = (
        get_scoped_or_404(Place.objects.all(), request.user, EXPORT, code=within_code)
        if within_code
        else None
    )
    queryset = place_io.export_queryset(request.user, within)
    stem = f"places-{within.code}" if within else "places"
    if fmt == place_io.GEOJSON:
        response = StreamingHttpResponse(place_io.iter_geojson(queryset), content_type="application/geo+json")
        filename = f"{stem}.geojson"
    else:
        response = StreamingHttpResponse(place_io.iter_csv(queryset), content_type="text/csv; charset=utf-8")
        filename = f"{stem}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
