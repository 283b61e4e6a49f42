"""Queue statistics of a centre over a range of days (issue 5: waiting-time and service-time
distributions per category, window and clerk; abandonment; a peak-hours chart; Excel export).

Definitions, all computed from the tickets themselves:

* issued: tickets taken at the kiosk (per category); per window and per clerk, the tickets
  called there;
* served: tickets finished (``done``);
* abandoned: no-shows, cancelled tickets, and tickets of an ended day still waiting, i.e. never
  called; today's waiting tickets are only "waiting";
* waiting time: taken (``created_at``) to called (``called_at``; a recall moves the call time);
* service time: service started (``started_at``, or the call when the clerk finished without
  starting) to finished, over served tickets;
* satisfaction: the share of ratings that are 基本满意 or better (levels 3-5, as in the
  affairs statistics); bad ratings are 不满意 and 非常不满意 (1-2).

Counts are database aggregates. Percentiles are computed in Python over the range's called
tickets (only the needed columns): the range is capped at 31 days of one centre, a few thousand
rows at most.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import User
from shequ.core.xlsx import COUNT, MINUTES, PERCENT, new_workbook, to_bytes, write_sheet
from shequ.places.models import Place
from shequ.workorders.choices import BAD_RATINGS, SATISFIED_RATINGS
from shequ.worktime.time import office_hours

from .choices import TicketStatus
from .models import ServiceCategory, Ticket, Window

MAX_DAYS = 31
# Waiting-time buckets in minutes: [low, high), the last one open.
BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 5), (5, 10), (10, 20), (20, 30), (30, 60), (60, None))


def bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return _("%(low)d 分钟以上") % {"low": low}
    return _("%(low)d-%(high)d 分钟") % {"low": low, "high": high}


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted values, linearly interpolated between the closest
    ranks (Excel's PERCENTILE.INC, numpy's default)."""
    if not ordered:
        raise ValueError("percentile of no values")
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """Minutes: how many values, the median, the 90th percentile, the longest and the mean."""

    count: int = 0
    p50: float | None = None
    p90: float | None = None
    max: float | None = None
    mean: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        ordered = sorted(values)
        if not ordered:
            return cls()
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            max=ordered[-1],
            mean=sum(ordered) / len(ordered),
        )


@dataclass
class Row:
    key: Any
    label: str
    issued: int = 0
    done: int = 0
    no_show: int = 0
    cancelled: int = 0
    unserved: int = 0  # an ended day's tickets never called
    waiting: int = 0  # today's tickets waiting now
    rated: int = 0
    satisfied: int = 0
    bad: int = 0
    wait: Spread = field(default_factory=Spread)
    service: Spread = field(default_factory=Spread)
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))

    @property
    def abandoned(self) -> int:
        return self.no_show + self.cancelled + self.unserved

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.issued if self.issued else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    def bucket_rows(self) -> list[tuple[str, int, int]]:
        """(label, tickets, whole-percent share of the called tickets) per waiting-time bucket."""
        total = sum(self.buckets)
        return [
            (bucket_label(low, high), n, round(100 * n / total) if total else 0)
            for (low, high), n in zip(BUCKETS, self.buckets, strict=True)
        ]


@dataclass(frozen=True)
class Hour:
    hour: int
    issued: int
    mean_wait: float | None


@dataclass
class Report:
    centre: Place
    start: dt.date
    end: dt.date
    total: Row
    by_category: list[Row] = field(default_factory=list)
    by_window: list[Row] = field(default_factory=list)
    by_clerk: list[Row] = field(default_factory=list)
    hours: list[Hour] = field(default_factory=list)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


COUNTERS = ("issued", "done", "no_show", "cancelled", "unserved", "waiting", "rated", "satisfied", "bad")


def _aggregates(today: dt.date) -> dict[str, Any]:
    return {
        "issued": Count("pk"),
        "done": Count("pk", filter=Q(status=TicketStatus.DONE)),
        "no_show": Count("pk", filter=Q(status=TicketStatus.NO_SHOW)),
        "cancelled": Count("pk", filter=Q(status=TicketStatus.CANCELLED)),
        "unserved": Count("pk", filter=Q(status=TicketStatus.WAITING, day__lt=today)),
        "waiting": Count("pk", filter=Q(status=TicketStatus.WAITING, day__gte=today)),
        "rated": Count("pk", filter=Q(rating__isnull=False)),
        "satisfied": Count("pk", filter=Q(rating__in=list(SATISFIED_RATINGS))),
        "bad": Count("pk", filter=Q(rating__in=sorted(BAD_RATINGS))),
    }


def _grouped(tickets: QuerySet[Ticket], group: str, today: dt.date) -> dict[Any, dict[str, int]]:
    return {
        values.pop(group): values
        for values in tickets.order_by().values(group).annotate(**_aggregates(today))
        if values[group] is not None
    }


def _bucket(minutes: float) -> int:
    for index, (_low, high) in enumerate(BUCKETS):
        if high is None or minutes < high:
            return index
    return len(BUCKETS) - 1  # pragma: no cover


@dataclass
class _Samples:
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)


def _minutes(delta: dt.timedelta) -> float:
    return max(delta.total_seconds(), 0.0) / 60


def _finish(row: Row, counts: dict[str, int] | None, samples: _Samples | None) -> Row:
    for name, value in (counts or {}).items():
        setattr(row, name, value)
    if samples is not None:
        row.wait = Spread.of(samples.waits)
        row.service = Spread.of(samples.services)
        for minutes in samples.waits:
            row.buckets[_bucket(minutes)] += 1
    return row


def _hour_axis(counts: dict[int, int]) -> range:
    """The hours of the chart: office hours, widened to every hour that has tickets."""
    periods = office_hours()
    first = periods[0][0].hour
    last = periods[-1][1].hour - (periods[-1][1].minute == 0)
    if counts:
        first, last = min(first, *counts), max(last, *counts)
    return range(first, last + 1)


def build_report(
    tickets: QuerySet[Ticket], *, centre: Place, start: dt.date, end: dt.date, today: dt.date | None = None
) -> Report:
    """The statistics of `tickets` (already scoped by the caller) of `centre` from `start` to
    `end`, both included."""
    today = today or timezone.localdate()
    in_range = tickets.filter(centre_code=centre.code, day__gte=start, day__lte=end)

    by_category_counts = _grouped(in_range, "category_id", today)
    by_window_counts = _grouped(in_range, "window_id", today)
    by_clerk_counts = _grouped(in_range, "clerk_id", today)
    hourly = dict(
        in_range.order_by()
        .annotate(hour=ExtractHour("created_at"))
        .values_list("hour")
        .annotate(n=Count("pk"))
        .values_list("hour", "n")
    )

    samples: dict[str, dict[Any, _Samples]] = {"category": {}, "window": {}, "clerk": {}}
    total_samples = _Samples()
    hour_waits: dict[int, list[float]] = {}
    called = in_range.filter(called_at__isnull=False).values_list(
        "category_id",
        "window_id",
        "clerk_id",
        "status",
        "created_at",
        "called_at",
        "started_at",
        "finished_at",
    )
    for category_id, window_id, clerk_id, status, created, called_at, started, finished in called:
        assert called_at is not None
        wait = _minutes(called_at - created)
        service = (
            _minutes(finished - (started or called_at))
            if status == TicketStatus.DONE and finished is not None
            else None
        )
        targets = [total_samples, samples["category"].setdefault(category_id, _Samples())]
        if window_id is not None:
            targets.append(samples["window"].setdefault(window_id, _Samples()))
        if clerk_id is not None:
            targets.append(samples["clerk"].setdefault(clerk_id, _Samples()))
        for target in targets:
            target.waits.append(wait)
            if service is not None:
                target.services.append(service)
        hour_waits.setdefault(timezone.localtime(created).hour, []).append(wait)

    categories = [
        c
        for c in ServiceCategory.objects.filter(centre=centre).order_by("sort_order", "prefix")
        if c.is_active or c.pk in by_category_counts
    ]
    by_category = [
        _finish(Row(key=c.pk, label=str(c)), by_category_counts.get(c.pk), samples["category"].get(c.pk))
        for c in categories
    ]
    windows = [
        w
        for w in Window.objects.filter(centre=centre).order_by("number")
        if w.is_active or w.pk in by_window_counts
    ]
    by_window = [
        _finish(Row(key=w.pk, label=str(w)), by_window_counts.get(w.pk), samples["window"].get(w.pk))
        for w in windows
    ]
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=list(by_clerk_counts))}
    by_clerk = sorted(
        (
            _finish(Row(key=pk, label=names.get(pk, str(pk))), counts, samples["clerk"].get(pk))
            for pk, counts in by_clerk_counts.items()
        ),
        key=lambda r: (-r.issued, r.label),
    )

    total_counts = {name: sum(counts[name] for counts in by_category_counts.values()) for name in COUNTERS}
    total = _finish(Row(key=None, label=_("合计")), total_counts, total_samples)
    hours = [
        Hour(
            hour=h,
            issued=hourly.get(h, 0),
            mean_wait=(sum(hour_waits[h]) / len(hour_waits[h])) if hour_waits.get(h) else None,
        )
        for h in _hour_axis(hourly)
    ]
    return Report(
        centre=centre,
        start=start,
        end=end,
        total=total,
        by_category=by_category,
        by_window=by_window,
        by_clerk=by_clerk,
        hours=hours,
    )


# ------------------------------------------------------------------------- peak-hours chart


@dataclass(frozen=True)
class Bar:
    hour: int
    issued: int
    mean_wait: float | None
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Chart:
    """Geometry of the server-rendered SVG: bars of tickets issued per hour, and a line of the
    mean wait per hour on its own scale (right axis)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    bars: list[Bar]
    count_ticks: list[tuple[int, float]]  # (value, y)
    wait_ticks: list[tuple[int, float]]
    wait_points: str  # "x,y x,y …" for <polyline>
    wait_dots: list[tuple[float, float, float]]  # (x, y, minutes)


def _nice_ceiling(value: float) -> int:
    """The top of an axis with four even steps of 1, 2 or 5 × 10^n, at or above `value`."""
    for magnitude in (10**k for k in range(9)):
        for step in (1, 2, 5):
            if 4 * step * magnitude >= value:
                return 4 * step * magnitude
    return math.ceil(value)  # pragma: no cover


def peak_chart(hours: Sequence[Hour], *, width: int = 760, height: int = 260) -> Chart:
    left, right, top, bottom = 44, 48, 14, height - 30
    plot_w, plot_h = width - left - right, bottom - top
    count_max = _nice_ceiling(max((h.issued for h in hours), default=0))
    wait_max = _nice_ceiling(max((h.mean_wait or 0 for h in hours), default=0))
    slot = plot_w / max(len(hours), 1)
    bars, points, dots = [], [], []
    for i, h in enumerate(hours):
        bar_h = plot_h * h.issued / count_max
        x = left + i * slot + slot * 0.15
        bars.append(
            Bar(
                hour=h.hour,
                issued=h.issued,
                mean_wait=h.mean_wait,
                x=round(x, 1),
                y=round(bottom - bar_h, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_h, 1),
                label_x=round(left + (i + 0.5) * slot, 1),
            )
        )
        if h.mean_wait is not None:
            px, py = round(left + (i + 0.5) * slot, 1), round(bottom - plot_h * h.mean_wait / wait_max, 1)
            points.append(f"{px},{py}")
            dots.append((px, py, h.mean_wait))
    ticks = [(count_max * k // 4, round(bottom - plot_h * k / 4, 1)) for k in range(5)]
    wait_ticks = [(wait_max * k // 4, round(bottom - plot_h * k / 4, 1)) for k in range(5)]
    return Chart(
        width=width,
        height=height,
        left=left,
        right=width - right,
        top=top,
        bottom=bottom,
        bars=bars,
        count_ticks=ticks,
        wait_ticks=wait_ticks,
        wait_points=" ".join(points),
        wait_dots=dots,
    )


# ------------------------------------------------------------------------------ Excel export


def _headers(first: str) -> list[str]:
    return [
        _("名称"),
        first,
        _("办结"),
        _("过号"),
        _("取消"),
        _("未叫号"),
        _("弃号合计"),
        _("弃号率"),
        _("等候中位数（分）"),
        _("等候P90（分）"),
        _("最长等候（分）"),
        _("平均等候（分）"),
        _("办理中位数（分）"),
        _("办理P90（分）"),
        _("平均办理（分）"),
        _("评价数"),
        _("满意率"),
        _("差评"),
    ]


ROW_FORMATS = [None, COUNT, COUNT, COUNT, COUNT, COUNT, COUNT, PERCENT]
ROW_FORMATS += [MINUTES] * 7 + [COUNT, PERCENT, COUNT]


def _cells(row: Row) -> list[Any]:
    def minutes(value: float | None) -> float | None:
        return round(value, 1) if value is not None else None

    return [
        row.label,
        row.issued,
        row.done,
        row.no_show,
        row.cancelled,
        row.unserved,
        row.abandoned,
        row.abandon_rate,
        minutes(row.wait.p50),
        minutes(row.wait.p90),
        minutes(row.wait.max),
        minutes(row.wait.mean),
        minutes(row.service.p50),
        minutes(row.service.p90),
        minutes(row.service.mean),
        row.rated,
        row.satisfaction,
        row.bad,
    ]


def report_xlsx(report: Report, title: str) -> bytes:
    book = new_workbook()
    dimensions = [
        (_("按类别"), _("取号"), report.by_category, True),
        (_("按窗口"), _("叫号"), report.by_window, False),
        (_("按人员"), _("叫号"), report.by_clerk, False),
    ]
    for name, issued_header, rows, with_total in dimensions:
        cells = [_cells(r) for r in rows] + ([_cells(report.total)] if with_total else [])
        write_sheet(book.create_sheet(str(name)), title, _headers(issued_header), cells, ROW_FORMATS)

    sheet = book.create_sheet(str(_("等候时长分布")))
    bucket_headers = [_("类别"), *(bucket_label(low, high) for low, high in BUCKETS), _("已叫号")]
    write_sheet(
        sheet,
        title,
        bucket_headers,
        ([r.label, *r.buckets, sum(r.buckets)] for r in [*report.by_category, report.total]),
        [None] + [COUNT] * (len(BUCKETS) + 1),
    )

    sheet = book.create_sheet(str(_("高峰时段")))
    write_sheet(
        sheet,
        title,
        [_("时段"), _("取号"), _("平均等候（分）")],
        (
            [
                f"{h.hour:02d}:00-{h.hour + 1:02d}:00",
                h.issued,
                round(h.mean_wait, 1) if h.mean_wait is not None else None,
            ]
            for h in report.hours
        ),
        [None, COUNT, MINUTES],
        first_width=14,
    )
    return to_bytes(book)
