"""Queue statistics page and its Excel export, for centre managers and leaders."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from shequ.accounts.choices import Role
from shequ.accounts.scoping import VIEW, jurisdiction, restrict
from shequ.audit.models import AccessAction
from shequ.audit.services import record_access
from shequ.core import xlsx
from shequ.core.http import AuthedRequest
from shequ.places.choices import PlaceKind
from shequ.places.models import Place

from .models import Ticket
from .stats import MAX_DAYS, build_report, peak_chart, report_xlsx

STATS_ROLES = frozenset({Role.CENTRE_MANAGER, Role.LEADER})


def stats_centres(user: Any) -> list[Place]:
    """The centres (streets with windows) whose statistics `user` may see; PermissionDenied for
    users who are neither a centre manager nor a leader."""
    centres = Place.objects.filter(kind=PlaceKind.STREET, windows__isnull=False).distinct().order_by("code")
    if user.is_superuser:
        return list(centres)
    prefixes = jurisdiction(user, STATS_ROLES)
    if not prefixes:
        raise PermissionDenied
    within = Q()
    for prefix in prefixes:
        within |= Q(code__within=prefix)
    return list(centres.filter(within))


class DateInput(forms.DateInput):
    """A native date picker: its value is always ISO (the locale's "2026/11/23" is not)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class StatsForm(forms.Form):
    centre = forms.ChoiceField(
        label=gettext_lazy("中心"),
        error_messages={"invalid_choice": gettext_lazy("中心：请选择您管辖范围内的中心。")},
    )
    date_from = forms.DateField(
        label=gettext_lazy("开始日期"),
        widget=DateInput,
        error_messages={"invalid": gettext_lazy("开始日期：请输入有效日期，如 2026-11-23。")},
    )
    date_to = forms.DateField(
        label=gettext_lazy("结束日期"),
        widget=DateInput,
        error_messages={"invalid": gettext_lazy("结束日期：请输入有效日期，如 2026-11-23。")},
    )

    def __init__(self, *args: Any, centres: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.centres = {c.code: c for c in centres}
        self.fields["centre"].choices = [(c.code, c.name) for c in centres]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("结束日期不能早于开始日期。"))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "date_to",
                    _("结束日期：统计区间最长 %(max)d 天，%(start)s 起最晚可选 %(last)s。")
                    % {"max": MAX_DAYS, "start": start, "last": start + dt.timedelta(days=MAX_DAYS - 1)},
                )
        return data

    @property
    def chosen_centre(self) -> Place:
        return self.centres[self.cleaned_data["centre"]]


@login_required
@require_GET
def stats(request: AuthedRequest) -> HttpResponse:
    """排队统计: waiting and service times per category, window and clerk; abandonment; peak
    hours; ?format=xlsx downloads the same figures (staff names only, no residents' data; the
    export is logged)."""
    centres = stats_centres(request.user)
    today = timezone.localdate()
    defaults = {"centre": centres[0].code if centres else "", "date_from": today, "date_to": today}
    data = {**defaults, **{k: v for k, v in request.GET.items() if k in defaults and v}}
    form = StatsForm(data, centres=centres)
    context: dict[str, Any] = {"form": form, "report": None, "centres": centres, "max_days": MAX_DAYS}
    if not centres:
        return render(request, "queueing/stats.html", context)
    if not form.is_valid():
        return render(request, "queueing/stats.html", context, status=400)
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    centre = form.chosen_centre
    report = build_report(
        restrict(Ticket.objects.all(), request.user, VIEW), centre=centre, start=start, end=end, today=today
    )
    period = f"{start}" if start == end else f"{start} – {end}"
    if request.GET.get("format") == "xlsx":
        # No resident's data is in the file; the clerks' names and workload are logged as an
        # export, as the acceptance statistics are.
        title = _("%(centre)s 排队统计 %(period)s") % {"centre": centre.name, "period": period}
        record_access(
            actor=request.user,
            action=AccessAction.EXPORT,
            subject_type="queueing.stats",
            subject_repr=title,
            place_code=centre.code,
            fields=["clerk_name"],
            purpose=_("排队统计导出"),
            record_count=len(report.by_clerk),
        )
        return xlsx.download(report_xlsx(report, title), f"queue-stats-{centre.code}-{start}-{end}.xlsx")
    context.update(
        report=report,
        period=period,
        chart=peak_chart(report.hours),
        dimensions=[
            (_("按类别"), _("取号"), report.by_category),
            (_("按窗口"), _("叫号"), report.by_window),
            (_("按人员"), _("叫号"), report.by_clerk),
        ],
        export_query=urlencode({"centre": centre.code, "date_from": start, "date_to": end, "format": "xlsx"}),
    )
    return render(request, "queueing/stats.html", context)
