"""The two public pages (no account): a resident's report to a street, and "is it fixed?"
for its reporter. A honeypot field and a per-IP limit keep form-filling bots out."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shequ.core.actions import form_errors_as_messages
from shequ.places.choices import PlaceKind
from shequ.places.models import Place
from shequ.workorders.choices import CANCELLED, CLOSED

from . import services
from .choices import ReporterKind
from .forms import FollowupForm, PublicReportForm
from .locate import locate
from .models import GridReport
from .views import grids_under, report_context, submit_once

PUBLIC_LIMIT = 10  # reports per IP per window on the public form
PUBLIC_WINDOW = 60 * 60


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _over_limit(request: HttpRequest) -> bool:
    """Counts a public POST from this IP; True once the window's limit is passed."""
    key = f"grid:public:{_client_ip(request)}"
    cache.add(key, 0, timeout=PUBLIC_WINDOW)
    try:
        return cache.incr(key) > PUBLIC_LIMIT
    except ValueError:
        cache.add(key, 1, timeout=PUBLIC_WINDOW)
        return False


@require_http_methods(["GET", "POST"])
def public_report(request: HttpRequest, street_code: str) -> HttpResponse:
    """A resident's report to a street, without an account."""
    street = Place.objects.filter(code=street_code, kind=PlaceKind.STREET, is_active=True).first()
    if street is None:
        raise Http404
    grids = grids_under([street.code])
    if request.method != "POST":
        return render(
            request,
            "grid/public_report.html",
            report_context(PublicReportForm(), {}, grids) | {"street": street},
        )
    form = PublicReportForm(request.POST)
    errors: dict[str, list[str]] = {}
    if _over_limit(request):
        errors["form"] = [_("提交过于频繁，请稍后再试。")]
    elif (request.POST.get("website") or "").strip():
        errors["form"] = [_("提交未通过校验，请刷新页面后重试。")]
    elif form.is_valid() and form.cleaned_data.get("longitude") is not None:
        located = locate(form.cleaned_data["longitude"], form.cleaned_data.get("latitude") or 0.0)
        if located is not None and not located.code.startswith(street.code):
            errors["location"] = [
                _("该位置不在%(street)s辖区内，请在地图上重新点选。") % {"street": street.name}
            ]
    if not errors:
        by = request.user if request.user.is_authenticated else "public"
        created, errors = submit_once(request, form, f"grid.public.{street.code}", by)
        if created is not None:
            messages.success(
                request,
                _("已收到您的反映，案件编号 %(number)s。请保存本页链接以便查看进度。")
                % {"number": created.order.number},
            )
            return redirect("grid:followup", token=created.followup_token)
    context = report_context(form, errors, grids) | {"street": street}
    return render(request, "grid/public_report.html", context, status=400)


@require_http_methods(["GET", "POST"])
def followup(request: HttpRequest, token: str) -> HttpResponse:
    """The case's state for its reporter, and "is it fixed?" once closed. No personal data."""
    found = (
        GridReport.objects.select_related("order", "management_class").filter(followup_token=token).first()
    )
    if not token or found is None or found.reporter_kind == ReporterKind.INSPECTOR:
        raise Http404
    form = FollowupForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.answer_fixed(
                    report=found, answer=form.cleaned_data["answer"], comment=form.cleaned_data["comment"]
                )
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("感谢您的回复。"))
            return redirect("grid:followup", token=token)
        form_errors_as_messages(request, form)
    order = found.order
    return render(
        request,
        "grid/followup.html",
        {
            "report": found,
            "order": order,
            "closed": order.step == CLOSED,
            "cancelled": order.step == CANCELLED,
            "form": form,
        },
    )
