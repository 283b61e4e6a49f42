"""The evaluation page (/grid/evaluation/) and its Excel export: the centres and leaders, who may
export grid reports, see the indicators of the reports inside their area."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from shequ.accounts.scoping import EXPORT, may_act, restrict
from shequ.core import xlsx
from shequ.core.http import AuthedRequest

from .evaluation import GROUPINGS, STREET, Evaluation, evaluate, evaluation_xlsx
from .models import Dispatch, GridReport

MAX_DAYS = 3700  # about ten years; a wider range is surely a typing slip


class PeriodForm(forms.Form):
    """The period as two dates, both included (the page's "to" is the last day counted)."""

    start = forms.DateField(label=gettext_lazy("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(label=gettext_lazy("统计维度"), choices=list(GROUPINGS.items()), required=False)

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("结束日期不能早于开始日期。"))
            elif (end - start).days > MAX_DAYS:
                self.add_error("end", _("统计区间最长十年。"))
        return data


def _default_period() -> dict[str, str]:
    today = timezone.localdate()
    first = today.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return {"start": first.isoformat(), "end": last.isoformat(), "group": STREET}


def _evaluate(request: AuthedRequest) -> tuple[PeriodForm, Evaluation | None]:
    if not may_act(request.user, GridReport, EXPORT):
        raise PermissionDenied
    params = request.GET.dict()
    if "start" not in params and "end" not in params:
        params = {**_default_period(), **params}
    form = PeriodForm(params)
    if not form.is_valid():
        return form, None
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(form.cleaned_data["start"], dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(form.cleaned_data["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    evaluation = evaluate(
        restrict(GridReport.objects.all(), request.user, EXPORT),
        restrict(Dispatch.objects.all(), request.user, EXPORT),
        start=start,
        end=end,
        grouping=form.cleaned_data["group"] or STREET,
    )
    return form, evaluation


def _title(form: PeriodForm) -> str:
    data = form.cleaned_data
    return _("网格化管理综合评价 %(start)s 至 %(end)s（%(group)s）") % {
        "start": data["start"].isoformat(),
        "end": data["end"].isoformat(),
        "group": GROUPINGS[data["group"] or STREET],
    }


@login_required
@require_GET
def evaluation(request: AuthedRequest) -> HttpResponse:
    form, result = _evaluate(request)
    context = {
        "form": form,
        "evaluation": result,
        "groupings": list(GROUPINGS.items()),
        "title": _title(form) if result else "",
    }
    if result:
        query = {k: v for k, v in request.GET.items() if k != "group"}
        query.setdefault("start", form.cleaned_data["start"].isoformat())
        query.setdefault("end", form.cleaned_data["end"].isoformat())
        context["period_query"] = "&".join(f"{k}={v}" for k, v in query.items() if k in {"start", "end"})
    return render(request, "grid/evaluation.html", context, status=200 if result else 400)


@login_required
@require_GET
def evaluation_export(request: AuthedRequest) -> HttpResponse:
    form, result = _evaluate(request)
    if result is None:
        return render(
            request,
            "grid/evaluation.html",
            {"form": form, "evaluation": None, "groupings": list(GROUPINGS.items())},
            status=400,
        )
    data = form.cleaned_data
    filename = f"grid-evaluation-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}-{result.grouping}.xlsx"
    return xlsx.download(evaluation_xlsx(result, _title(form)), filename)
