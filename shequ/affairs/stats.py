"""Workload and quality statistics of the acceptance centre (seed 001: monthly statistics per
staff member with a yearly summary; seed 000: share finished on the spot, satisfaction).

Every figure is computed from the cases themselves, never typed in:

* accepted: cases the staff member accepted in the period;
* finished: cases closed in the period among those accepted (by acceptance staff) or decided
  (by back-office staff, from the timeline);
* on the spot: accepted and finished at the desk at once;
* on time: closed without ever passing a deadline, out of those closed;
* bad ratings: 不满意 or 非常不满意; satisfaction: the share of ratings that are 基本满意 or better.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import User
from shequ.core.xlsx import COUNT, PERCENT, new_workbook, to_bytes, write_sheet
from shequ.workorders.choices import BAD_RATINGS, SATISFIED_RATINGS, EventKind, StatusGroup
from shequ.workorders.models import WorkOrderEvent

from .models import Case
from .processes import CASE_KIND


@dataclass
class Row:
    key: Any
    label: str
    accepted: int = 0
    finished: int = 0
    on_the_spot: int = 0
    on_time: int = 0
    closed: int = 0
    rated: int = 0
    satisfied: int = 0
    bad: int = 0
    decided: int = 0  # back-office decisions taken by this person

    @property
    def on_spot_rate(self) -> float | None:
        return self.on_the_spot / self.accepted if self.accepted else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


@dataclass
class Report:
    start: dt.datetime
    end: dt.datetime
    total: Row
    by_staff: list[Row] = field(default_factory=list)
    by_matter: list[Row] = field(default_factory=list)
    by_department: list[Row] = field(default_factory=list)


def period(year: int, month: int | None) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    if month:
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    else:
        start, end = dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)
    return start, end


def _aggregates() -> dict[str, Any]:
    closed = Q(order__status=StatusGroup.CLOSED) & ~Q(order__step="cancelled")
    return {
        "accepted": Count("pk"),
        "on_the_spot": Count("pk", filter=Q(on_the_spot=True)),
        "closed": Count("pk", filter=closed),
        "on_time": Count("pk", filter=closed & Q(order__closed_on_time=True)),
        "rated": Count("pk", filter=Q(order__rating__isnull=False)),
        "satisfied": Count("pk", filter=Q(order__rating__in=list(SATISFIED_RATINGS))),
        "bad": Count("pk", filter=Q(order__rating__in=list(BAD_RATINGS))),
    }


def _rows(queryset: QuerySet[Case], group: str, labels: dict[Any, str]) -> list[Row]:
    rows = []
    for values in queryset.values(group).annotate(**_aggregates()).order_by(group):
        key = values.pop(group)
        rows.append(Row(key=key, label=labels.get(key, str(key or "—")), finished=values["closed"], **values))
    return sorted(rows, key=lambda r: (-r.accepted, r.label))


def build_report(cases: QuerySet[Case], *, year: int, month: int | None) -> Report:
    """The statistics of `cases` (already scoped by the caller) accepted in the period."""
    start, end = period(year, month)
    in_period = cases.filter(accepted_at__gte=start, accepted_at__lt=end)
    totals = in_period.aggregate(**_aggregates())
    total = Row(key=None, label="合计", finished=totals["closed"], **totals)

    staff_ids = set(in_period.values_list("accepted_by_id", flat=True))
    decisions = dict(
        WorkOrderEvent.objects.filter(
            order__kind=CASE_KIND,
            order__case__in=cases,
            kind=EventKind.COMPLETED,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values_list("actor_id")
        .annotate(n=Count("id"))
        .values_list("actor_id", "n")
    )
    staff_ids |= {k for k in decisions if k}
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=staff_ids)}
    by_staff = _rows(in_period, "accepted_by_id", names)
    seen = {row.key for row in by_staff}
    for row in by_staff:
        row.decided = decisions.get(row.key, 0)
    for actor_id, n in decisions.items():
        if actor_id and actor_id not in seen:
            by_staff.append(Row(key=actor_id, label=names.get(actor_id, str(actor_id)), decided=n))

    matter_names = dict(in_period.values_list("matter_id", "matter__name").distinct())
    by_matter = _rows(in_period, "matter_id", matter_names)
    dept_names = dict(
        in_period.values_list("order__assignee_department_id", "order__assignee_department__name").distinct()
    )
    by_department = _rows(in_period, "order__assignee_department_id", dept_names)
    return Report(
        start=start, end=end, total=total, by_staff=by_staff, by_matter=by_matter, by_department=by_department
    )


HEADERS = [
    _("名称"),
    _("受理"),
    _("办结"),
    _("当场办结"),
    _("当场办结率"),
    _("按期"),
    _("按期率"),
    _("评价数"),
    _("满意率"),
    _("差评"),
    _("审核办理"),
]
FORMATS = [None, COUNT, COUNT, COUNT, PERCENT, COUNT, PERCENT, COUNT, PERCENT, COUNT, COUNT]


def _cells(row: Row) -> list[Any]:
    return [
        row.label,
        row.accepted,
        row.finished,
        row.on_the_spot,
        row.on_spot_rate,
        row.on_time,
        row.on_time_rate,
        row.rated,
        row.satisfaction,
        row.bad,
        row.decided,
    ]


def report_xlsx(report: Report, title: str) -> bytes:
    book = new_workbook()
    sheets = [
        (_("按人员"), report.by_staff),
        (_("按事项"), report.by_matter),
        (_("按科室"), report.by_department),
    ]
    for name, rows in sheets:
        cells = [_cells(row) for row in [*rows, report.total]]
        write_sheet(book.create_sheet(str(name)), title, HEADERS, cells, FORMATS, first_width=28)
    return to_bytes(book)
