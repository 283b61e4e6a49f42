"""Import of a committee's sheet (issue 4): the upload page with the user's recent jobs, the
job page (progress while it runs, then counts and the errors), the status JSON that page polls,
the error report and the template.

Who: users who may ADD persons. A committee worker imports for their committee; a street-level
user chooses one committee of their jurisdiction. A job is visible to its creator and to the
importers whose jurisdiction covers its committee; any other job answers 404, and a role that
may not import at all gets 403. The work itself is in `imports`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.scoping import ADD, jurisdiction, may_act, scope_rule, within_jurisdiction
from shequ.audit.models import AccessAction
from shequ.audit.services import record_access
from shequ.core import xlsx
from shequ.core.http import AuthedRequest
from shequ.core.idempotency import key_from, run_once
from shequ.places.models import Place

from . import imports
from .choices import ImportStatus
from .models import ImportJob, Person

RECENT_JOBS = 10
ACCEPTED = (".xlsx", ".csv")


def _importer_roles() -> set[str]:
    return set(scope_rule(Person).roles.get(ADD, ()))


def _require_importer(user: Any) -> None:
    if not may_act(user, Person, ADD):
        raise PermissionDenied(_("您没有导入人口数据的权限。"))


def _committees(user: Any) -> list[tuple[str, str]]:
    """The committees the user may import for: those in their jurisdiction for ADD."""
    places = Place.objects.filter(kind="committee", is_active=True)
    if not user.is_superuser:
        condition = within_jurisdiction(user, _importer_roles())
        if condition is None:
            return []
        places = places.filter(condition)
    return [(code, f"{name}（{code}）") for code, name in places.order_by("code").values_list("code", "name")]


def _jobs(user: Any) -> Any:
    """The jobs the user may see (own ones, and those of committees in their jurisdiction)."""
    jobs = ImportJob.objects.select_related("created_by")
    if user.is_superuser:
        return jobs
    return jobs.filter(imports.visible_jobs_q(user, jurisdiction(user, _importer_roles())))


def _job_or_404(request: AuthedRequest, token: Any) -> ImportJob:
    _require_importer(request.user)
    return get_object_or_404(_jobs(request.user), token=token)


class ImportForm(forms.Form):
    committee = forms.ChoiceField(
        label=gettext_lazy("导入到居委会"),
        error_messages={
            "required": gettext_lazy("请选择居委会。"),
            "invalid_choice": gettext_lazy("所选居委会不在您的辖区内。"),
        },
    )
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy(
            "Excel（.xlsx，工作表“房屋”和“人员”，可只有其一）或 CSV（房屋表或人员表之一，UTF-8 或 GB18030 编码）。"
        ),
        error_messages={
            "required": gettext_lazy("请选择要导入的文件。"),
            "empty": gettext_lazy("文件是空的。"),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    only_valid = forms.BooleanField(
        label=gettext_lazy("只导入无误的行"),
        required=False,
        help_text=gettext_lazy(
            "不勾选时，只要有一行有错误，就全部不导入。勾选后导入无误的行：所住房屋有误的人员、有成员出错的整户不导入。"
        ),
    )

    def __init__(self, *args: Any, committees: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["committee"]
        field.choices = committees  # type: ignore[attr-defined]
        if len(committees) == 1:
            field.initial = committees[0][0]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if name.endswith((".xls", ".et", ".wps")):
            raise ValidationError(
                _("不支持旧版 Excel（.xls）或 WPS 格式：请“另存为”.xlsx 文件后再导入。"), code="old_format"
            )
        if not name.endswith(ACCEPTED):
            raise ValidationError(_("请上传 .xlsx 或 .csv 文件。"), code="format")
        if upload.size > imports.MAX_BYTES:
            raise ValidationError(
                _("文件不能超过 %(size)d MB，请分成几个文件导入。")
                % {"size": imports.MAX_BYTES // (1024 * 1024)},
                code="too_big",
            )
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: AuthedRequest) -> HttpResponse:
    """导入人口数据: the form (committee, file, "only valid rows") and the user's recent jobs."""
    _require_importer(request.user)
    committees = _committees(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        data = upload_file.read()
        place_code = form.cleaned_data["committee"]
        only_valid = form.cleaned_data["only_valid"]
        outcome = run_once(
            key=key_from(request),
            user_id=request.user.pk,
            scope="people.import",
            action=lambda: imports.start_job(
                by=request.user,
                place_code=place_code,
                filename=upload_file.name or "import.xlsx",
                data=data,
                only_valid=only_valid,
            ),
            encode=lambda job: str(job.token),
            decode=lambda token: ImportJob.objects.get(token=token),
        )
        return redirect("people:import_job", token=outcome.value.token)
    recent = list(
        ImportJob.objects.filter(created_by=request.user).order_by("-created_at", "-id")[:RECENT_JOBS]
    )
    names = dict(Place.objects.filter(code__in={j.place_code for j in recent}).values_list("code", "name"))
    for item in recent:
        item.committee_name = names.get(item.place_code, "")  # type: ignore[attr-defined]
    return render(
        request,
        "people/import.html",
        {
            "form": form,
            "committees": committees,
            "single": committees[0] if len(committees) == 1 else None,
            "recent": recent,
            "max_rows": imports.MAX_ROWS,
            "in_request_rows": imports.IN_REQUEST_ROWS,
        },
        status=400 if request.method == "POST" else 200,
    )


def _status(job: ImportJob) -> dict[str, Any]:
    total = job.total_rows or 0
    processed = min(job.processed_rows, total) if total else 0
    finished = job.status in (ImportStatus.DONE, ImportStatus.FAILED)
    percent = 100 if finished else (int(processed * 100 / total) if total else 0)
    if job.status == ImportStatus.QUEUED:
        text = _("排队中：共 %(total)d 行，等待后台开始导入。") % {"total": total}
    else:
        text = _("已完成 %(percent)d%%（共 %(total)d 行）：先逐行检查，再写入。") % {
            "percent": percent,
            "total": total,
        }
    return {
        "status": job.status,
        "label": job.get_status_display(),
        "processed": processed,
        "total": total,
        "percent": percent,
        "finished": finished,
        "text": text,
    }


@login_required
@require_GET
@never_cache
def job(request: AuthedRequest, token: Any) -> HttpResponse:
    """One import: a progress bar polling status/ while it runs; then the counts, and the errors
    (sheet, row, field, message) with the error report to download."""
    item = _job_or_404(request, token)
    errors = list(imports.iter_error_rows(item))
    committee = Place.objects.filter(code=item.place_code).values_list("name", flat=True).first() or ""
    return render(
        request,
        "people/import_job.html",
        {
            "job": item,
            "state": _status(item),
            "committee": committee,
            "errors": errors,
            "error_count": len(item.errors),
            "errors_truncated": len(item.errors) > len(errors),
            "rows_with_errors": len({(e[0], e[1]) for e in item.errors}),
            "only_valid": imports.job_only_valid(item) if item.file else None,
            "running": item.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
            "file_kept": bool(item.file),
        },
    )


@login_required
@require_GET
@never_cache
def status(request: AuthedRequest, token: Any) -> JsonResponse:
    """The job's state for the page's polling: status, processed and total rows, percent."""
    item = _job_or_404(request, token)
    return JsonResponse(_status(item), json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def error_report(request: AuthedRequest, token: Any) -> HttpResponse:
    """The user's workbook back with the errors marked, and a sheet listing them. It holds the
    uploaded personal data, so each download is written to the access log."""
    item = _job_or_404(request, token)
    if not item.errors:
        raise Http404
    data = imports.error_workbook(item)
    record_access(
        actor=request.user,
        action=AccessAction.EXPORT,
        subject_type=ImportJob._meta.label_lower,
        subject_id=str(item.pk),
        subject_repr=item.filename,
        fields=["error_report"],
        purpose=_("下载导入错误报告，修改后重新导入"),
        record_count=item.total_rows,
        place_code=item.place_code,
    )
    day = timezone.localtime(item.created_at).strftime("%Y%m%d")
    response = xlsx.download(data, f"import-errors-{item.place_code}-{day}.xlsx")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def template(request: AuthedRequest) -> HttpResponse:
    """The import template: sheets 房屋 and 人员 with an example row each, and 填表说明."""
    _require_importer(request.user)
    return xlsx.download(imports.template_workbook(), "people-import-template.xlsx")
