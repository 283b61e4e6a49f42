"""Evaluation of grid management (notes §3.4, the eGova indicator vocabulary), per department,
unit grid, inspector or street, for any period [start, end).

Counters (each a COUNT with a FILTER in one GROUP BY query, never per-row Python):

* reported (上报): reports whose order was created in the period;
* filed (立案): reports with ``filed_at`` in the period;
* dispatched (派遣): Dispatch rows dispatched in the period, rework dispatches included;
* due to be handled (应处置): dispatches of the period that were not returned (退单);
* handled on time (按期处置): of those, ``handled_on_time`` is true;
* handled (经处置): dispatches whose handling finished in the period;
* rework (返工): rework dispatches (a failed verification) dispatched in the period;
* returned (退单): dispatches of the period the department returned, the count the issue asks
  for per department (shown last, after the composite, since it enters no rate);
* due to close (应结案): reports filed in the period that are neither cancelled nor merged
  into another report (once filed a report can only end closed, so it is "due");
* closed (结案): of those, the order is at the closed step now;
* closed on time (按期结案): of those closed, the order's ``closed_on_time`` is true.

Department grouping reads Dispatch: its closing counters count, per department, the distinct
reports due to close that had a dispatch to it that was not returned; "reported" and "filed"
belong to no department and show "—".

Rates: 结案率 = closed / due to close, 按期结案率 = closed on time / due to close,
按期处置率 = handled on time / due to be handled, 返工率 = rework / handled; a zero denominator
leaves the rate undefined (None, shown "—"). Composite = 按期处置率×60 + 结案率×30 + (1−返工率)×10;
an undefined part is left out and the weights of the defined parts are scaled up to 100, so the
composite stays on a 0-100 scale; with no defined part it is undefined too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Department, User
from shequ.core.xlsx import COUNT, PERCENT, new_workbook, to_bytes, write_sheet
from shequ.places.models import Place
from shequ.workorders.choices import CANCELLED, CLOSED

from .models import Dispatch, GridReport

DEPARTMENT, GRID, INSPECTOR, STREET = "department", "grid", "inspector", "street"
GROUPINGS = {
    DEPARTMENT: _("按处置部门"),
    GRID: _("按单元网格"),
    INSPECTOR: _("按监督员"),
    STREET: _("按街道"),
}
WEIGHTS = (60, 30, 10)

# Group expressions on GridReport and on Dispatch for the report-side groupings.
_REPORT_KEYS = {GRID: F("place_code"), INSPECTOR: F("reporter_user_id"), STREET: Substr("place_code", 1, 9)}
_DISPATCH_KEYS = {
    DEPARTMENT: F("department_id"),
    GRID: F("place_code"),
    INSPECTOR: F("report__reporter_user_id"),
    STREET: Substr("place_code", 1, 9),
}


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class Row:
    key: Any
    label: str
    reported: int | None = 0
    filed: int | None = 0
    dispatched: int = 0
    due_handle: int = 0
    handled_on_time: int = 0
    handled: int = 0
    rework: int = 0
    returned: int = 0
    due_close: int = 0
    closed: int = 0
    closed_on_time: int = 0

    @property
    def closing_rate(self) -> float | None:
        return _ratio(self.closed, self.due_close)

    @property
    def closed_on_time_rate(self) -> float | None:
        return _ratio(self.closed_on_time, self.due_close)

    @property
    def on_time_handling_rate(self) -> float | None:
        return _ratio(self.handled_on_time, self.due_handle)

    @property
    def rework_rate(self) -> float | None:
        return _ratio(self.rework, self.handled)

    @property
    def composite(self) -> float | None:
        rework = self.rework_rate
        parts = (self.on_time_handling_rate, self.closing_rate, None if rework is None else 1 - rework)
        defined = [(weight, value) for weight, value in zip(WEIGHTS, parts, strict=True) if value is not None]
        if not defined:
            return None
        total_weight = sum(weight for weight, _ in defined)
        return round(sum(weight * value for weight, value in defined) * 100 / total_weight, 2)

    def display(self) -> list[str]:
        """The table's cells as text: rates in %, the composite with 2 decimals, "—" if undefined."""
        return [_shown(value, i) for i, value in enumerate(cells(self)[1:], start=1)]


@dataclass
class Evaluation:
    start: dt.datetime
    end: dt.datetime
    grouping: str
    rows: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row(key=None, label=str(_("合计"))))


def _report_counters(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    filed = Q(filed_at__gte=start, filed_at__lt=end)
    due = filed & ~Q(order__step=CANCELLED) & Q(merged_into__isnull=True)
    return {
        "reported": Count("pk", filter=Q(order__created_at__gte=start, order__created_at__lt=end)),
        "filed": Count("pk", filter=filed),
        "due_close": Count("pk", filter=due),
        "closed": Count("pk", filter=due & Q(order__step=CLOSED)),
        "closed_on_time": Count("pk", filter=due & Q(order__step=CLOSED, order__closed_on_time=True)),
    }


def _dispatch_counters(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    dispatched = Q(dispatched_at__gte=start, dispatched_at__lt=end)
    due = dispatched & Q(returned_at__isnull=True)
    return {
        "dispatched": Count("pk", filter=dispatched),
        "due_handle": Count("pk", filter=due),
        "handled_on_time": Count("pk", filter=due & Q(handled_on_time=True)),
        "handled": Count("pk", filter=Q(handled_at__gte=start, handled_at__lt=end)),
        "rework": Count("pk", filter=dispatched & Q(rework=True)),
        "returned": Count("pk", filter=dispatched & Q(returned_at__isnull=False)),
    }


def _department_closing(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    due = (
        Q(returned_at__isnull=True, report__filed_at__gte=start, report__filed_at__lt=end)
        & ~Q(report__order__step=CANCELLED)
        & Q(report__merged_into__isnull=True)
    )
    closed = due & Q(report__order__step=CLOSED)
    return {
        "due_close": Count("report", distinct=True, filter=due),
        "closed": Count("report", distinct=True, filter=closed),
        "closed_on_time": Count(
            "report", distinct=True, filter=closed & Q(report__order__closed_on_time=True)
        ),
    }


def _grouped(queryset: QuerySet[Any], key: Any, counters: dict[str, Any]) -> dict[Any, dict[str, int]]:
    """{group key: counters}; with `key` None, one total under the key None."""
    if key is None:
        return {None: queryset.aggregate(**counters)}
    rows = queryset.annotate(group_key=key).values("group_key").annotate(**counters).order_by()
    return {row.pop("group_key"): row for row in rows}


def _labels(grouping: str, keys: set[Any]) -> dict[Any, str]:
    keys = {k for k in keys if k is not None}
    if grouping == DEPARTMENT:
        return {
            d.pk: f"{d.name}（{d.place.name}）"
            for d in Department.objects.filter(pk__in=keys).select_related("place")
        }
    if grouping == INSPECTOR:
        return {u.pk: u.display_name for u in User.objects.filter(pk__in=keys)}
    return dict(Place.objects.filter(code__in=keys).values_list("code", "name"))


def evaluate(
    reports: QuerySet[GridReport],
    dispatches: QuerySet[Dispatch],
    *,
    start: dt.datetime,
    end: dt.datetime,
    grouping: str,
) -> Evaluation:
    """The indicators of the (already scoped) `reports` and `dispatches` for [start, end)."""
    if grouping not in GROUPINGS:
        raise ValueError(grouping)
    reports = reports.filter(
        Q(order__created_at__gte=start, order__created_at__lt=end) | Q(filed_at__gte=start, filed_at__lt=end)
    )
    dispatches_in = dispatches.filter(
        Q(dispatched_at__gte=start, dispatched_at__lt=end) | Q(handled_at__gte=start, handled_at__lt=end)
    )
    filed_dispatches = dispatches.filter(report__filed_at__gte=start, report__filed_at__lt=end)

    result = Evaluation(start=start, end=end, grouping=grouping)
    for key in (_DISPATCH_KEYS[grouping], None):
        by_key: dict[Any, dict[str, Any]] = {}
        parts = [_grouped(dispatches_in, key, _dispatch_counters(start, end))]
        if grouping == DEPARTMENT:
            parts.append(_grouped(filed_dispatches, key, _department_closing(start, end)))
        else:
            report_key = None if key is None else _REPORT_KEYS[grouping]
            parts.append(_grouped(reports, report_key, _report_counters(start, end)))
        for part in parts:
            for k, counters in part.items():
                by_key.setdefault(k, {}).update({name: value or 0 for name, value in counters.items()})
        if grouping == DEPARTMENT:
            for found in by_key.values():
                found["reported"] = found["filed"] = None
        if key is None:
            result.total = Row(key=None, label=str(_("合计")), **by_key.get(None, {}))
        else:
            labels = _labels(grouping, set(by_key))
            result.rows = [
                Row(key=k, label=labels.get(k) or (str(k) if k else str(_("（无）"))), **counters)
                for k, counters in by_key.items()
                if any(counters.values())
            ]
    result.rows.sort(key=lambda r: (r.composite is None, -(r.composite or 0), r.label))
    return result


HEADERS = [
    _("名称"),
    _("上报数"),
    _("立案数"),
    _("派遣数"),
    _("应处置数"),
    _("按期处置数"),
    _("经处置数"),
    _("返工数"),
    _("应结案数"),
    _("结案数"),
    _("按期结案数"),
    _("按期处置率"),
    _("结案率"),
    _("按期结案率"),
    _("返工率"),
    _("综合指标值"),
    _("退单数"),
]
FORMATS = [None, *([COUNT] * 10), PERCENT, PERCENT, PERCENT, PERCENT, "0.00", COUNT]
COMPOSITE_COLUMN = 15


def cells(row: Row) -> list[Any]:
    return [
        row.label,
        row.reported,
        row.filed,
        row.dispatched,
        row.due_handle,
        row.handled_on_time,
        row.handled,
        row.rework,
        row.due_close,
        row.closed,
        row.closed_on_time,
        row.on_time_handling_rate,
        row.closing_rate,
        row.closed_on_time_rate,
        row.rework_rate,
        row.composite,
        row.returned,
    ]


def _shown(value: Any, column: int) -> str:
    if value is None:
        return "—"
    if FORMATS[column] == PERCENT:
        return f"{value * 100:.2f}%"
    if column == COMPOSITE_COLUMN:
        return f"{value:.2f}"
    return str(value)


def evaluation_xlsx(evaluation: Evaluation, title: str) -> bytes:
    book = new_workbook()
    sheet = book.create_sheet(str(GROUPINGS[evaluation.grouping]))
    rows = [cells(row) for row in [*evaluation.rows, evaluation.total]]
    write_sheet(sheet, title, HEADERS, rows, FORMATS, first_width=28)
    return to_bytes(book)
