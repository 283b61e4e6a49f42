"""Pages of the matter catalogue (事项目录).

The list and the service guide (办事指南) are public: residents read them without signing in, and
an inactive matter is invisible there (404). Export is for any staff member; import (all or nothing,
with a row-by-row error table) for superusers and leaders. Reads are plain querysets: the
catalogue is reference data, not scoped by place.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.models import Department
from shequ.core import xlsx

from .catalogue import export_xlsx, import_xlsx, may_export_catalogue, may_import_catalogue
from .choices import MatterCategory
from .models import Matter

MAX_SHOWN = 500  # the catalogue has a few hundred matters at most; the list is capped all the same
ERRORS_SHOWN = 500
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
QUERY_MAX_LENGTH = 50


class CatalogueImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel 文件"),
        help_text=gettext_lazy(
            "按“导出 Excel”的格式填写：工作表“事项”每行一个事项，工作表“材料”每行一项材料（以事项编码关联）。"
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise ValidationError(gettext_lazy("请上传 .xlsx 格式的 Excel 文件。"), code="format")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                gettext_lazy("文件不能超过 %(size)d MB。"),
                params={"size": MAX_UPLOAD_BYTES // (1024 * 1024)},
                code="too_big",
            )
        return upload


def _public_matters() -> QuerySet[Matter]:
    return Matter.objects.filter(is_active=True)


def _public_matter(code: str) -> Matter:
    return get_object_or_404(_public_matters().prefetch_related("materials"), code=code)


@require_GET
def catalogue_list(request: HttpRequest) -> HttpResponse:
    """The active matters grouped by category; `?q=` searches name and code, `?category=` filters."""
    query = request.GET.get("q", "").strip()[:QUERY_MAX_LENGTH]
    category = request.GET.get("category", "").strip()
    if category not in MatterCategory.values:
        category = ""
    matters = _public_matters()
    if query:
        matters = matters.filter(Q(name__icontains=query) | Q(code__icontains=query))
    counts = dict(
        matters.order_by().values_list("category").annotate(n=Count("pk")).values_list("category", "n")
    )
    if category:
        matters = matters.filter(category=category)
    shown = list(
        matters.order_by("category", "sort_order", "code").only(
            "code", "name", "category", "promised_days", "on_the_spot", "proxy_allowed", "visits"
        )[: MAX_SHOWN + 1]
    )
    truncated = len(shown) > MAX_SHOWN
    shown = shown[:MAX_SHOWN]
    groups = []
    for value, label in MatterCategory.choices:
        members = [m for m in shown if m.category == value]
        if members:
            groups.append({"value": value, "label": label, "matters": members})
    return render(
        request,
        "affairs/catalogue/list.html",
        {
            "query": query,
            "category": category,
            "categories": [
                {"value": value, "label": label, "count": counts.get(value, 0)}
                for value, label in MatterCategory.choices
            ],
            "groups": groups,
            "shown": len(shown),
            "truncated": truncated,
            "max_shown": MAX_SHOWN,
            "can_export": may_export_catalogue(request.user),
            "can_import": may_import_catalogue(request.user),
        },
    )


def _department_names(codes: list[str]) -> dict[str, str]:
    """Names of the departments by code (the same code names the same section in every street)."""
    names: dict[str, str] = {}
    for code, name in (
        Department.objects.filter(code__in=codes, is_active=True)
        .order_by("-place__code")
        .values_list("code", "name")
    ):
        names[code] = name
    return names


@require_GET
def matter_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The service guide (办事指南) of one matter."""
    matter = _public_matter(code)
    names = _department_names([matter.department_code, *matter.cooperating_departments])
    return render(
        request,
        "affairs/catalogue/matter.html",
        {
            "matter": matter,
            "materials": list(matter.materials.all()),
            "department": names.get(matter.department_code, matter.department_code),
            "cooperating": [names.get(c, c) for c in matter.cooperating_departments],
            "can_export": may_export_catalogue(request.user),
        },
    )


@require_GET
def guide_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The printable service guide; rendered by shequ.affairs.pdf."""
    matter = _public_matter(code)
    try:
        from .pdf import service_guide_pdf  # imported here: the PDF module is optional
    except ImportError:
        raise Http404(_("办事指南 PDF 暂不可用。")) from None
    response = HttpResponse(service_guide_pdf(matter), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="guide-{matter.code}.pdf"'
    return response


@login_required
@require_GET
def catalogue_export(request: HttpRequest) -> HttpResponse:
    """The whole catalogue (inactive matters included) as an Excel workbook."""
    if not may_export_catalogue(request.user):
        raise PermissionDenied(_("只有工作人员可以导出事项目录。"))
    return xlsx.download(export_xlsx(Matter.objects.all()), f"matters-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def catalogue_import(request: HttpRequest) -> HttpResponse:
    """Upload an Excel workbook; every matter is written, or none and a row-by-row report."""
    if not may_import_catalogue(request.user):
        raise PermissionDenied(_("只有领导或系统管理员可以导入事项目录。"))
    form = CatalogueImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = import_xlsx(upload.read(), by=request.user, label=upload.name or "")
        if result.ok:
            messages.success(
                request,
                _("导入完成：事项新增 %(created)d 个，更新 %(updated)d 个，未变化 %(unchanged)d 个。")
                % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            )
            return redirect("catalogue:import")
    return render(
        request,
        "affairs/catalogue/import.html",
        {
            "form": form,
            "result": result,
            "errors": result.errors[:ERRORS_SHOWN] if result else [],
            "errors_truncated": bool(result and len(result.errors) > ERRORS_SHOWN),
        },
    )
