"""Components: the list (/grid/components/) for the staff of an area, and the import
(/grid/components/import/) for supervision operators and leaders, inside their jurisdiction."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.choices import Role
from shequ.accounts.scoping import VIEW, jurisdiction, may_act, restrict
from shequ.core.http import AuthedRequest
from shequ.core.pagination import keyset_page
from shequ.places.models import Place

from .choices import ClassKind
from .components import ImportResult, import_components
from .models import Component, ManagementClass

IMPORT_ROLES = {Role.SUPERVISION_OPERATOR, Role.LEADER}


def import_prefixes(user) -> list[str] | None:
    """Where `user` may import components: None for everywhere (superuser), [] for nowhere."""
    if user.is_superuser:
        return None
    return jurisdiction(user, IMPORT_ROLES)


@login_required
@require_GET
def components(request: AuthedRequest) -> HttpResponse:
    if not may_act(request.user, Component, VIEW):
        raise PermissionDenied
    queryset = restrict(Component.objects.all(), request.user, VIEW).select_related("management_class")
    code = request.GET.get("class", "").strip()
    if code:
        field = "management_class__major_code" if len(code) == 2 else "management_class__code"
        queryset = queryset.filter(**{field: code})
    grid = request.GET.get("grid", "").strip()
    if grid:
        queryset = queryset.filter(place_code__startswith=grid)
    page = keyset_page(queryset, request, order="identifier")
    grids = dict(
        Place.objects.filter(code__in={c.place_code for c in page.items}).values_list("code", "name")
    )
    classes = ManagementClass.objects.filter(kind=ClassKind.COMPONENT).only(
        "code", "name", "major_code", "major_name"
    )
    majors = sorted({(c.major_code, c.major_name) for c in classes})
    prefixes = import_prefixes(request.user)
    return render(
        request,
        "grid/components.html",
        {
            "page": page,
            "rows": [(c, grids.get(c.place_code, "")) for c in page.items],
            "classes": classes,
            "majors": majors,
            "chosen_class": code,
            "chosen_grid": grid,
            "may_import": prefixes is None or bool(prefixes),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def component_import(request: AuthedRequest) -> HttpResponse:
    prefixes = import_prefixes(request.user)
    if prefixes is not None and not prefixes:
        raise PermissionDenied
    result: ImportResult | None = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            result = ImportResult()
            messages.error(request, _("请选择要导入的文件（CSV 或 GeoJSON）。"))
            return render(
                request, "grid/component_import.html", {"result": None, "no_file": True}, status=400
            )
        result = import_components(upload.read(), upload.name or "", scope_prefixes=prefixes)
        if result.ok:
            messages.success(
                request,
                _("导入完成：新增 %(c)d 个，更新 %(u)d 个，未变 %(n)d 个。")
                % {"c": result.created, "u": result.updated, "n": result.unchanged},
            )
            return redirect("grid:components")
        return render(request, "grid/component_import.html", {"result": result}, status=400)
    return render(request, "grid/component_import.html", {"result": None})
